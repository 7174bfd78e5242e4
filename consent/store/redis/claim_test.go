package redis

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/consentgate/consentgate/consent/store"
)

// TestClaim: a gateway claims its chain; another holder is told who has it
// until the first releases it or lets it lapse, and chains are claimed
// apart. On a standalone server and on the Cluster (where a claim lives in
// its chain's slot: TestChainKeysShareASlot).
func TestClaim(t *testing.T) {
	for _, tc := range []struct {
		name string
		url  func(t *testing.T) string
	}{
		{"standalone", func(t *testing.T) string { return "redis://" + standaloneAddr(t) + "/0" }},
		{"cluster", func(t *testing.T) string { return "redis+cluster://" + strings.Join(clusterAddrs(t), ",") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, raw := openTest(t, tc.url(t))
			c, ok := s.(store.Claimer)
			if !ok {
				t.Fatalf("the Redis store (%T) does not claim chains", s)
			}
			ctx := context.Background()
			claim := func(chain, holder string, ttl time.Duration, want string) {
				t.Helper()
				other, err := c.Claim(ctx, chain, holder, ttl)
				if err != nil || other != want {
					t.Fatalf("%s claims %s: held by %q, %v; want %q", holder, chain, other, err, want)
				}
			}
			release := func(chain, holder string) {
				t.Helper()
				if err := c.Release(ctx, chain, holder); err != nil {
					t.Fatalf("%s releases %s: %v", holder, chain, err)
				}
			}
			claim("gw-a", "host-1:/data#a", time.Minute, "")
			claim("gw-a", "host-1:/data#a", time.Minute, "") // renewing
			claim("gw-a", "host-2:/data#b", time.Minute, "host-1:/data#a")
			claim("gw-b", "host-2:/data#b", time.Minute, "") // another chain
			release("gw-a", "host-2:/data#b")                // not its claim: nothing changes
			claim("gw-a", "host-2:/data#b", time.Minute, "host-1:/data#a")
			release("gw-a", "host-1:/data#a")
			claim("gw-a", "host-2:/data#b", 2*time.Second, "")

			// A claim not renewed lapses: the key expires with the claim's
			// time to live.
			ttl, err := raw.c.PTTL(ctx, raw.k.writer("gw-a")).Result()
			if err != nil || ttl <= 0 || ttl > 2*time.Second {
				t.Fatalf("the claim's time to live: %v, %v; want at most 2s", ttl, err)
			}
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
				other, err := c.Claim(ctx, "gw-a", "host-1:/data#a", time.Minute)
				if err != nil {
					t.Fatal(err)
				}
				if other == "" {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("a lapsed claim is still held by %q after 10s", other)
				}
			}
		})
	}
}
