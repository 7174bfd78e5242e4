package storetest

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/consentgate/consentgate/consent/proof"
	"github.com/consentgate/consentgate/consent/store"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func testAppendRange(t *testing.T, b Backend) {
	ctx := ctxFor(t)
	s, _ := open(t, b)
	k := newKeys(t)
	clk := newClock(t0)
	ca, cb := k.chain(t, "gw-b", proof.Head{}, clk.now), k.chain(t, "gw-a", proof.Head{}, clk.now)
	appendBatches(t, ctx, s, seal(t, ca, 0, 30, "a.example"), 7)
	appendBatches(t, ctx, s, seal(t, cb, 0, 20, "b.example"), 100)

	all := collect(t, ctx, s, store.Query{})
	if len(all) != 50 {
		t.Fatalf("range yielded %d records, want 50", len(all))
	}
	// Chain by chain in id order, each in seq order.
	for i, r := range all {
		wantChain, wantSeq := "gw-a", uint64(i+1)
		if i >= 20 {
			wantChain, wantSeq = "gw-b", uint64(i-19)
		}
		if r.Chain != wantChain || r.Seq != wantSeq {
			t.Fatalf("record %d is %s/%d, want %s/%d", i, r.Chain, r.Seq, wantChain, wantSeq)
		}
	}
	if chains, err := s.Chains(ctx); err != nil || !slices.Equal(chains, []string{"gw-a", "gw-b"}) {
		t.Fatalf("chains %v, %v", chains, err)
	}
	head, err := s.Head(ctx, "gw-b")
	if err != nil || head != ca.Head() {
		t.Fatalf("head %+v, want %+v (%v)", head, ca.Head(), err)
	}
	if head, err := s.Head(ctx, "nobody"); err != nil || head != (proof.Head{}) {
		t.Fatalf("head of unknown chain %+v, %v", head, err)
	}
	// A gateway resuming from the stored head continues the chain.
	resumed := k.chain(t, "gw-b", head, clk.now)
	appendBatches(t, ctx, s, seal(t, resumed, 30, 5, "a.example"), 5)
	checkpoint(t, ctx, s, resumed)
	if rep := mustVerify(t, ctx, s, "gw-b", k.verifyOptions()); rep.Records != 35 || rep.Checkpoints != 1 {
		t.Fatalf("report %+v", rep)
	}
	// Raw and decoded ranges agree.
	n := 0
	if err := s.RangeRaw(ctx, store.Query{Chain: "gw-a"}, func(raw []byte) error { n++; return nil }); err != nil || n != 20 {
		t.Fatalf("raw range: %d, %v", n, err)
	}
	// Every record of a consent id, across chains.
	if recs := ofConsent(t, ctx, s, "c03-a.example"); len(recs) != 5 { // i%7 == 3 for i < 35: 3, 10, 17, 24, 31
		t.Fatalf("by consent id: %d records", len(recs))
	}
}

func testRangeFilters(t *testing.T, b Backend) {
	ctx := ctxFor(t)
	s, _ := open(t, b)
	k := newKeys(t)
	clk := newClock(t0)
	c := k.chain(t, "gw-1", proof.Head{}, clk.now)
	var recs []proof.Record
	for i := range 40 {
		site := []string{"a.example", "b.example"}[i%2]
		recs = append(recs, seal(t, c, i, 1, site)...)
		clk.advance(time.Minute)
	}
	appendBatches(t, ctx, s, recs, 16)
	// A purpose filter, time range, and site.
	since, until := t0.Add(10*time.Minute), t0.Add(30*time.Minute)
	got := collect(t, ctx, s, store.Query{Chain: "gw-1", Since: since, Until: until, Site: "b.example"})
	if len(got) != 10 || got[0].Seq != 12 || got[9].Seq != 30 {
		t.Fatalf("time and site range: %d records %v", len(got), seqs(got))
	}
	if got := collect(t, ctx, s, store.Query{Since: t0.Add(39 * time.Minute)}); len(got) != 1 || got[0].Seq != 40 {
		t.Fatalf("since the last: %v", seqs(got))
	}
	if got := collect(t, ctx, s, store.Query{Until: t0}); len(got) != 0 {
		t.Fatalf("until the first: %v", seqs(got))
	}
	n := 0
	for _, r := range collect(t, ctx, s, store.Query{Purpose: "marketing"}) {
		if _, ok := r.Purposes["marketing"]; !ok {
			t.Fatalf("purpose filter let %d through", r.Seq)
		}
		n++
	}
	if n != 40 || len(collect(t, ctx, s, store.Query{Purpose: "sale"})) != 0 {
		t.Fatalf("purpose filter: %d", n)
	}
}

func seqs(recs []proof.Record) []uint64 {
	out := make([]uint64, len(recs))
	for i, r := range recs {
		out[i] = r.Seq
	}
	return out
}

func testIdempotent(t *testing.T, b Backend) {
	ctx := ctxFor(t)
	s, _ := open(t, b)
	k := newKeys(t)
	c := k.chain(t, "gw-1", proof.Head{}, nil)
	recs := seal(t, c, 0, 10, "a.example")
	appendBatches(t, ctx, s, recs[:6], 6)
	// The gateway retries a batch whose answer it lost, overlapping one that
	// made it, and replays a record twice in one batch.
	appendBatches(t, ctx, s, recs[4:], 6)
	appendBatches(t, ctx, s, append(recs[2:4], recs[2]), 3)
	got := collect(t, ctx, s, store.Query{})
	if len(got) != 10 {
		t.Fatalf("%d records after retries, want 10", len(got))
	}
	mustVerify(t, ctx, s, "gw-1", k.verifyOptions())
	if by := ofConsent(t, ctx, s, recs[0].ConsentID); len(by) != 2 { // i = 0, 7
		t.Fatalf("consent index holds duplicates: %d", len(by))
	}
}

func testConflict(t *testing.T, b Backend) {
	ctx := ctxFor(t)
	s, _ := open(t, b)
	k := newKeys(t)
	first := seal(t, k.chain(t, "gw-1", proof.Head{}, nil), 0, 3, "a.example")
	appendBatches(t, ctx, s, first, 3)
	// A second writer on the same chain, not resumed from the head.
	other := seal(t, k.chain(t, "gw-1", proof.Head{}, nil), 10, 4, "a.example")
	if err := s.Append(ctx, other); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("conflicting append: %v", err)
	}
	if got := collect(t, ctx, s, store.Query{}); len(got) != 3 || got[2].EventID != first[2].EventID {
		t.Fatalf("conflicting batch stored something: %v", seqs(got))
	}
	if err := s.Append(ctx, []proof.Record{decision(1, "x")}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("unsealed record: %v", err)
	}
}

func testConcurrentChains(t *testing.T, b Backend) {
	ctx := ctxFor(t)
	s, _ := open(t, b)
	k := newKeys(t)
	// Two gateway instances, each with its own chain and several request
	// goroutines sealing and appending at once.
	var wg sync.WaitGroup
	chains := map[string]*proof.Chain{}
	for _, id := range []string{"gw-east", "gw-west"} {
		c := k.chain(t, id, proof.Head{}, nil)
		chains[id] = c
		for g := range 4 {
			wg.Go(func() {
				for i := range 25 {
					r, err := c.Seal(decision(g*100+i, id+".example"))
					if err == nil {
						err = s.Append(ctx, []proof.Record{r})
					}
					if err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
	}
	wg.Wait()
	for id, c := range chains {
		checkpoint(t, ctx, s, c)
		if rep := mustVerify(t, ctx, s, id, k.verifyOptions()); rep.Records != 100 {
			t.Fatalf("%s: %d records", id, rep.Records)
		}
	}
}

func testBatcher(t *testing.T, b Backend) {
	ctx := ctxFor(t)
	s, _ := open(t, b)
	bt := store.NewBatcher(s, store.BatcherOptions{Max: 64})
	k := newKeys(t)
	c := k.chain(t, "gw-1", proof.Head{}, nil)
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := range 40 {
				r, err := c.Seal(decision(g*40+i, "a.example"))
				if err == nil {
					err = bt.Append(ctx, []proof.Record{r})
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	// A bad record among them fails only its own caller.
	wg.Go(func() {
		if err := bt.Append(ctx, []proof.Record{decision(0, "x")}); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("unsealed record through the batcher: %v", err)
		}
	})
	wg.Wait()
	if rep := mustVerify(t, ctx, s, "gw-1", k.verifyOptions()); rep.Records != 640 {
		t.Fatalf("%d records", rep.Records)
	}
}
