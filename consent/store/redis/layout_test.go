package redis

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/consentgate/consentgate/consent/proof"
	"github.com/consentgate/consentgate/consent/store"
	"github.com/consentgate/consentgate/consent/store/storetest"
	goredis "github.com/redis/go-redis/v9"
)

// Stores written before the per-visitor index sets kept the consent index
// in one sorted set per chain. A gateway of this version on such a store
// must still find, erase and expire the records indexed there, and expiry
// must leave no index entry behind in either layout.
func TestConsentIndexOfOlderStores(t *testing.T) {
	ctx := context.Background()
	s, raw := openTest(t, "redis://"+standaloneAddr(t)+"/0")
	defer s.Close()
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	chain := storetest.NewChain(t, "gw-old", func() time.Time { return now })
	// Two days of six decisions by four visitors, a checkpoint closing each.
	var recs []proof.Record
	for day := range 2 {
		for i := range 6 {
			r, err := chain.Seal(proof.Record{
				Type: proof.Given, ConsentID: fmt.Sprintf("visitor-%d", (day*6+i)%4),
				ExpiresAt: now.Add(store.DefaultChoiceValidity).UnixMilli(),
				Site:      "old.example", Policy: proof.Policy{Version: "v1", Hash: "7d9c0ffee0123456"},
				How:      proof.How{Layer: proof.LayerFirst, Action: proof.ActionAcceptAll},
				Purposes: map[string]bool{"necessary": true, "analytics": true},
				Software: "consentgate/test", IP: "198.51.0.0/16", UA: "Firefox 133",
			})
			if err != nil {
				t.Fatal(err)
			}
			recs = append(recs, r)
		}
		if err := s.Append(ctx, recs[day*6:]); err != nil {
			t.Fatal(err)
		}
		now = now.Add(24 * time.Hour)
		cp, err := chain.Checkpoint()
		if err != nil {
			t.Fatal(err)
		}
		if err := s.PutCheckpoint(ctx, cp); err != nil {
			t.Fatal(err)
		}
	}
	// The first day's records as an older gateway indexed them.
	legacy := raw.k.legacyCid("gw-old")
	for _, r := range recs[:6] {
		seq := strconv.FormatUint(r.Seq, 10)
		if n, err := raw.c.SRem(ctx, raw.k.cid("gw-old", r.ConsentID), seq).Result(); err != nil || n != 1 {
			t.Fatalf("seq %s was not in the index set of %s: %d, %v", seq, r.ConsentID, n, err)
		}
		if err := raw.c.ZAdd(ctx, legacy, goredis.Z{Member: legacyCidMember(r.ConsentID, seq)}).Err(); err != nil {
			t.Fatal(err)
		}
	}

	for v := range 4 {
		id := fmt.Sprintf("visitor-%d", v)
		var want []uint64
		for _, r := range recs {
			if r.ConsentID == id {
				want = append(want, r.Seq)
			}
		}
		got, err := storetest.OfConsent(ctx, s, id)
		if err != nil {
			t.Fatal(err)
		}
		if gotSeqs := seqsOf(got); !slices.Equal(gotSeqs, want) {
			t.Fatalf("%s: found seqs %v, want %v (both layouts)", id, gotSeqs, want)
		}
	}

	// Erasure clears both layouts. Another instance erases, so its chain
	// holds the receipt, indexed as receipts are.
	eraser := storetest.NewChain(t, "gw-eraser", func() time.Time { return now })
	n, err := s.Erase(ctx, "visitor-1", storetest.Erasure(s, eraser))
	if err != nil || n != 3 {
		t.Fatalf("erased %d, %v; want 3", n, err)
	}
	if got, _ := storetest.OfConsent(ctx, s, "visitor-1"); len(got) != 0 {
		t.Fatalf("after erasure %s still finds %v", "visitor-1", seqsOf(got))
	}
	if m, _ := raw.c.ZRangeByLex(ctx, legacy, &goredis.ZRangeBy{Min: "[visitor-1\x00", Max: "(visitor-1\x01"}).Result(); len(m) != 0 {
		t.Fatalf("erasure left old index members %q", m)
	}
	if ok, _ := raw.c.Exists(ctx, raw.k.cid("gw-old", "visitor-1")).Result(); ok != 0 {
		t.Fatal("erasure left the visitor's index set")
	}
	cp, err := eraser.Checkpoint()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PutCheckpoint(ctx, cp); err != nil {
		t.Fatal(err)
	}

	// Expiry of the first day takes its records out of the old index;
	// expiry of the second out of the new one, leaving no key behind.
	dayOneEnds := time.Date(2025, 3, 1, 13, 0, 0, 0, time.UTC) // its choices ran out at 12:00
	n, err = s.Expire(ctx, dayOneEnds.Add(store.DefaultChoiceValidity+store.DefaultProofRetention))
	if err != nil || n != 6 {
		t.Fatalf("expired %d, %v; want the first day's 6", n, err)
	}
	if c, _ := raw.c.ZCard(ctx, legacy).Result(); c != 0 {
		t.Fatalf("expiry left %d old index members", c)
	}
	// The receipt is kept as long as the records it names.
	n, err = s.Expire(ctx, dayOneEnds.Add(24*time.Hour+store.DefaultChoiceValidity+store.DefaultProofRetention))
	if err != nil || n != 7 {
		t.Fatalf("expired %d, %v; want the second day's 6 and the receipt", n, err)
	}
	for _, c := range []string{"gw-old", "gw-eraser"} {
		if left, _ := raw.c.Keys(ctx, raw.k.cid(c, "*")).Result(); len(left) != 0 {
			t.Fatalf("expiry left index sets %q", left)
		}
	}
	for v := range 4 {
		if got, _ := storetest.OfConsent(ctx, s, fmt.Sprintf("visitor-%d", v)); len(got) != 0 {
			t.Fatalf("visitor-%d still finds %v after expiry", v, seqsOf(got))
		}
	}
}

func seqsOf(recs []proof.Record) []uint64 {
	out := make([]uint64, len(recs))
	for i, r := range recs {
		out[i] = r.Seq
	}
	return out
}
