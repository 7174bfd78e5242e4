package redis

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/consentgate/consentgate/consent/proof"
	"github.com/consentgate/consentgate/consent/store"
	"github.com/consentgate/consentgate/consent/store/storetest"
)

// TestAppendPastLostRecords: Redis comes back without what it had
// acknowledged (emptied, as a restart without persistence leaves it). The
// next append is stored, says that records were lost, from where, and
// registers the chain again, so that audits find it and verification
// names the gap instead of "nothing recorded".
func TestAppendPastLostRecords(t *testing.T) {
	type loss struct{ head, lowest uint64 }
	var lost []loss
	s, raw := openBesideRaw(t, Options{
		OnLost: func(chain string, head, lowest uint64) { lost = append(lost, loss{head, lowest}) },
	})

	ctx := context.Background()
	chain := storetest.NewChain(t, "lost-chain", nil)
	seal := func(n int) []proof.Record { return sealGiven(t, chain, n) }
	if err := s.Append(ctx, seal(3)); err != nil {
		t.Fatal(err)
	}
	if len(lost) != 0 {
		t.Fatalf("appends in order reported lost records: %v", lost)
	}
	if err := raw.c.Del(ctx, raw.k.rec("lost-chain"), raw.k.ev("lost-chain"), raw.k.meta("lost-chain"), raw.k.chains()).Err(); err != nil {
		t.Fatal(err)
	}
	if err := s.Append(ctx, seal(2)); err != nil {
		t.Fatalf("the append after the loss: %v", err)
	}
	if !slices.Equal(lost, []loss{{0, 4}}) {
		t.Errorf("lost records reported as %v, want the stored head 0 before seq 4", lost)
	}
	chains, err := s.Chains(ctx)
	if err != nil || !slices.Contains(chains, "lost-chain") {
		t.Fatalf("after the loss the chain is not listed again: %v %v", chains, err)
	}
	rep, err := store.Verify(ctx, s, "lost-chain", proof.VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK() || rep.Records != 2 {
		t.Errorf("verify after the loss: %+v, want the 2 records after it and the gap before them", rep)
	}
}

// TestNoOverwriteWithoutHead: the chain's head key is gone (deleted by
// hand, or evicted) while its records are still stored, and a gateway with
// no head of its own begins the chain again at seq 1: the append is
// refused as a conflict, and the stored record stays as it was.
func TestNoOverwriteWithoutHead(t *testing.T) {
	s, raw := openBesideRaw(t, Options{})
	ctx := context.Background()
	if err := s.Append(ctx, sealGiven(t, storetest.NewChain(t, "headless", nil), 3)); err != nil {
		t.Fatal(err)
	}
	before, _ := raw.c.HGet(ctx, raw.k.rec("headless"), "1").Result()
	if err := raw.c.Del(ctx, raw.k.meta("headless")).Err(); err != nil {
		t.Fatal(err)
	}
	err := s.Append(ctx, sealGiven(t, storetest.NewChain(t, "headless", nil), 1))
	if err == nil || !strings.Contains(err.Error(), "CONFLICT seq 1") {
		t.Errorf("a new seq 1 over a stored one: %v, want a conflict", err)
	}
	if after, _ := raw.c.HGet(ctx, raw.k.rec("headless"), "1").Result(); after != before || before == "" {
		t.Errorf("the stored seq 1 changed:\n%s\n%s", before, after)
	}
}

// openBesideRaw opens a store under a prefix of its own, and a plain client
// on the same Redis for the test to change keys behind the store's back.
func openBesideRaw(t *testing.T, opts Options) (store.Store, rawRedis) {
	t.Helper()
	prefix := testPrefix()
	cfg, _ := ParseURL("redis://" + standaloneAddr(t) + "/0")
	raw := rawRedis{goredis.NewUniversalClient(cfg.Client), keys{prefix}}
	t.Cleanup(func() { _ = cleanup(raw.c, prefix); raw.c.Close() })
	s, err := Open("redis://"+standaloneAddr(t)+"/0?prefix="+prefix, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, raw
}

// sealGiven seals n "given" decisions of visitors v0, v1, … on c.
func sealGiven(t *testing.T, c *proof.Chain, n int) []proof.Record {
	t.Helper()
	out := make([]proof.Record, n)
	for i := range out {
		r, err := c.Seal(proof.Record{Type: proof.Given, ConsentID: fmt.Sprint("v", i), Site: "shop.test",
			How: proof.How{Layer: proof.LayerFirst, Action: proof.ActionAcceptAll}, Purposes: map[string]bool{"necessary": true}})
		if err != nil {
			t.Fatal(err)
		}
		out[i] = r
	}
	return out
}

// TestUnreadableHead: a chain head whose seq is not a number (a key edited
// by hand) is an error, not seq 0, which would begin the chain again.
func TestUnreadableHead(t *testing.T) {
	s, raw := openTest(t, "redis://"+standaloneAddr(t)+"/0")
	defer s.Close()
	// Listed, so that the test's cleanup finds its keys.
	if err := raw.c.SAdd(context.Background(), raw.k.chains(), "edited").Err(); err != nil {
		t.Fatal(err)
	}
	if err := raw.c.HSet(context.Background(), raw.k.meta("edited"), "seq", "twelve").Err(); err != nil {
		t.Fatal(err)
	}
	if head, err := s.Head(context.Background(), "edited"); err == nil {
		t.Errorf("a head seq of %q read as %+v, want an error", "twelve", head)
	}
}
