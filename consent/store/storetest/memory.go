package storetest

import (
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/consentgate/consentgate/consent/proof"
	"github.com/consentgate/consentgate/consent/store"
)

// maxRangeGrowth bounds the heap a range may add, however many records it
// streams.
const maxRangeGrowth = 32 << 20

func testBigRange(t *testing.T, b Backend) {
	n := b.BigN
	if n == 0 {
		n = 200_000
	}
	ctx := ctxFor(t)
	s, _ := open(t, b)
	k := newKeys(t)
	clk := newClock(t0)
	c := k.chain(t, "gw-big", proof.Head{}, clk.now)
	began := time.Now()
	const chunk = 2000
	for i := 0; i < n; i += chunk {
		appendBatches(t, ctx, s, seal(t, c, i, min(chunk, n-i), "big.example"), 1000)
		clk.advance(time.Second)
	}
	t.Logf("stored %d records in %v", n, time.Since(began).Round(time.Millisecond))

	heap := heapAlloc
	runtime.GC()
	base, peak := heap(), uint64(0)
	began = time.Now()
	count := 0
	err := s.RangeRaw(ctx, store.Query{}, func(raw []byte) error {
		if count++; count%10_000 == 0 {
			peak = max(peak, heap())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	growth := int64(peak) - int64(base)
	t.Logf("ranged %d records in %v, heap growth %d KiB", count, time.Since(began).Round(time.Millisecond), growth>>10)
	if count != n {
		t.Fatalf("range yielded %d records, want %d", count, n)
	}
	if growth > maxRangeGrowth {
		t.Fatalf("range grew the heap by %d MiB", growth>>20)
	}
	// The time index finds the last chunk's second without a full walk.
	since := t0.Add(time.Duration(n/chunk-1) * time.Second)
	if got := collect(t, ctx, s, store.Query{Since: since}); len(got) != min(chunk, n) {
		t.Fatalf("since the last second: %d records", len(got))
	}
}

// maxConsentWalkGrowth bounds the live heap one consent id's walk may add:
// a batch of records, not all of them.
const maxConsentWalkGrowth = 8 << 20

// testManyOfOneConsent is one cookie that gathered thousands of records (a
// script posting choices with it): the visitor's download and erasure walk
// them a batch at a time, in order, and the chain still verifies.
func testManyOfOneConsent(t *testing.T, b Backend) {
	const n, subject = 20_000, "scripted-visitor"
	ctx := ctxFor(t)
	s, _ := open(t, b)
	k := newKeys(t)
	c := k.chain(t, "gw-many", proof.Head{}, nil)
	recs := make([]proof.Record, n)
	for i := range recs {
		r := decision(i, "many.example")
		if i%10 != 0 { // every tenth record is someone else's
			r.ConsentID = subject
		}
		var err error
		if recs[i], err = c.Seal(r); err != nil {
			t.Fatal(err)
		}
	}
	appendBatches(t, ctx, s, recs, 1000)
	checkpoint(t, ctx, s, c)
	recs = nil

	runtime.GC()
	base, peak := heapAlloc(), uint64(0)
	var got, last uint64
	err := s.EachOfConsent(ctx, subject, func(r proof.Record) error {
		if r.ConsentID != subject || r.Seq <= last {
			t.Fatalf("record %d (%s) after %d", r.Seq, r.ConsentID, last)
		}
		last, got = r.Seq, got+1
		if got%1000 == 0 { // what the walk holds, not garbage awaiting a GC
			runtime.GC()
			peak = max(peak, heapAlloc())
		}
		return nil
	})
	if err != nil || got != n-n/10 {
		t.Fatalf("walked %d records of %d, %v", got, n-n/10, err)
	}
	growth := int64(peak) - int64(base)
	t.Logf("walked %d records of one consent id, heap growth %d KiB", got, growth>>10)
	if growth > maxConsentWalkGrowth {
		t.Fatalf("walking one consent id grew the heap by %d MiB", growth>>20)
	}
	stop := errors.New("enough")
	seen := 0
	if err := s.EachOfConsent(ctx, subject, func(proof.Record) error { seen++; return stop }); !errors.Is(err, stop) || seen != 1 {
		t.Fatalf("an error from fn did not stop the walk: %d records, %v", seen, err)
	}

	erased, err := s.Erase(ctx, subject, Erasure(s, c))
	if err != nil || erased != n-n/10 {
		t.Fatalf("erased %d, %v", erased, err)
	}
	if left := ofConsent(t, ctx, s, subject); len(left) != 0 {
		t.Fatalf("%d records left after erasure", len(left))
	}
	// A receipt per batch, not one holding every erased record.
	if rep := mustVerify(t, ctx, s, "gw-many", k.verifyOptions()); rep.Tombstones != n-n/10 ||
		rep.Receipts < 2 || rep.Records != n+rep.Receipts {
		t.Fatalf("after erasure: %+v", rep)
	}
}

func heapAlloc() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
