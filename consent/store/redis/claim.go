package redis

import (
	"context"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/consentgate/consentgate/consent/store"
)

// claimingStore is the Redis store with chain claims (store.Claimer): the
// claim is a key in the chain's slot, {P:C}:writer, holding the holder's
// name and expiring unless renewed.
type claimingStore struct {
	store.Store
	e *engine
}

var _ store.Claimer = claimingStore{}

// claimScript sets KEYS[1] to ARGV[1] for ARGV[2] ms unless another value
// is live there, which it returns instead.
var claimScript = goredis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if cur and cur ~= ARGV[1] then
  return cur
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return false
`)

// releaseScript deletes KEYS[1] if it holds ARGV[1].
var releaseScript = goredis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`)

func (s claimingStore) Claim(ctx context.Context, chain, holder string, ttl time.Duration) (string, error) {
	other, err := claimScript.Run(ctx, s.e.c, []string{s.e.k.writer(chain)}, holder, ttl.Milliseconds()).Text()
	if err == goredis.Nil {
		return "", nil
	}
	return other, wrap(err)
}

func (s claimingStore) Release(ctx context.Context, chain, holder string) error {
	return wrap(releaseScript.Run(ctx, s.e.c, []string{s.e.k.writer(chain)}, holder).Err())
}
