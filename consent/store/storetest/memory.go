package storetest

import (
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

	heap := func() uint64 {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
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
