package storetest

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/consentgate/consentgate/consent/proof"
	"github.com/consentgate/consentgate/consent/store"
)

// BenchmarkAppend measures appends of sealed records in batches of batch,
// as the gateway writes them; sealing is not timed. It reports records/s.
func BenchmarkAppend(b *testing.B, s store.Store, batch int) {
	ctx := context.Background()
	c := newKeys(b).chain(b, "gw-bench", proof.Head{}, nil)
	const chunk = 10_000
	var recs []proof.Record
	var elapsed time.Duration
	n := 0
	for b.Loop() {
		if len(recs) == 0 {
			b.StopTimer()
			recs = seal(b, c, n, chunk, "bench.example")
			b.StartTimer()
		}
		if n%batch == 0 {
			began := time.Now()
			end := min(batch, len(recs))
			if err := s.Append(ctx, recs[:end]); err != nil {
				b.Fatal(err)
			}
			elapsed += time.Since(began)
			recs = recs[end:]
		}
		n++
	}
	b.ReportMetric(float64(n)/elapsed.Seconds(), "records/s")
}

// visitorRecord seals the n-th new visitor's first choice, its consent id
// scattered like the random ids of real visitors, not in index order.
func visitorRecord(b *testing.B, c *proof.Chain, n int) proof.Record {
	d := decision(n, "bench.example")
	d.ConsentID = fmt.Sprintf("%016x", uint64(n)*0x9e3779b97f4a7c15)
	r, err := c.Seal(d)
	if err != nil {
		b.Fatal(err)
	}
	return r
}

// FillVisitors appends n proofs of new visitors in batches of 8, to give a
// benchmark a store of some size.
func FillVisitors(b *testing.B, s store.Store, n int) {
	ctx := context.Background()
	c := newKeys(b).chain(b, "gw-fill", proof.Head{}, nil)
	recs := make([]proof.Record, 0, 8)
	for i := range n {
		if recs = append(recs, visitorRecord(b, c, i)); len(recs) == cap(recs) || i == n-1 {
			if err := s.Append(ctx, recs); err != nil {
				b.Fatal(err)
			}
			recs = recs[:0]
		}
	}
}

// BenchmarkAppendVisitors appends batches of batch records, each by a new
// visitor (consent id), as a gateway taking first choices does, so the
// consent index grows by one visitor per record. When serverCPU is set (the
// CPU the store's server has used so far), it reports the server's CPU per
// record as server-us/record, read around each append (so it counts what
// answering those two reads costs the server, the same for every build);
// it reports records/s either way.
func BenchmarkAppendVisitors(b *testing.B, s store.Store, batch int, serverCPU func() time.Duration) {
	ctx := context.Background()
	c := newKeys(b).chain(b, "gw-bench", proof.Head{}, nil)
	recs := make([]proof.Record, 0, batch)
	var elapsed, server time.Duration
	n := 0
	flush := func() {
		began := time.Now()
		var before time.Duration
		if serverCPU != nil {
			before = serverCPU()
		}
		if err := s.Append(ctx, recs); err != nil {
			b.Fatal(err)
		}
		if serverCPU != nil {
			server += serverCPU() - before
		}
		elapsed += time.Since(began)
		recs = recs[:0]
	}
	for b.Loop() {
		r := visitorRecord(b, c, n)
		n++
		if recs = append(recs, r); len(recs) == batch {
			flush()
		}
	}
	if len(recs) > 0 {
		flush()
	}
	b.ReportMetric(float64(n)/elapsed.Seconds(), "records/s")
	if serverCPU != nil {
		b.ReportMetric(float64(server.Microseconds())/float64(n), "server-us/record")
	}
}

// Fill stores n sealed records in one chain, for range benchmarks.
func Fill(b *testing.B, s store.Store, chain string, n int) {
	c := newKeys(b).chain(b, chain, proof.Head{}, nil)
	for i := 0; i < n; i += 5000 {
		appendBatches(b, context.Background(), s, seal(b, c, i, min(5000, n-i), "bench.example"), 1000)
	}
}

// BenchmarkRange measures streaming every record of s, raw (the JSON
// Lines export path) or decoded, and reports records/s.
func BenchmarkRange(b *testing.B, s store.Store, decoded bool) {
	ctx := context.Background()
	records := 0
	began := time.Now()
	for b.Loop() {
		var err error
		if decoded {
			err = s.Range(ctx, store.Query{}, func(proof.Record) error { records++; return nil })
		} else {
			err = s.RangeRaw(ctx, store.Query{}, func([]byte) error { records++; return nil })
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(records)/time.Since(began).Seconds(), "records/s")
}

// BenchmarkAppendParallel measures many concurrent visitors each sealing
// and appending one record through a Batcher, as the gateway does; it
// reports records/s.
func BenchmarkAppendParallel(b *testing.B, s store.Store) {
	ctx := context.Background()
	bt := store.NewBatcher(s, store.BatcherOptions{})
	c := newKeys(b).chain(b, "gw-bench", proof.Head{}, nil)
	b.SetParallelism(16)
	began := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for i := 0; pb.Next(); i++ {
			r, err := c.Seal(decision(i, "bench.example"))
			if err == nil {
				err = bt.Append(ctx, []proof.Record{r})
			}
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(began).Seconds(), "records/s")
}

// ReportPeakHeap samples the heap while a benchmark runs and, when the
// returned function is called, reports the peak growth as peak-MB.
func ReportPeakHeap(b *testing.B) func() {
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	var peak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapAlloc > base.HeapAlloc && m.HeapAlloc-base.HeapAlloc > peak.Load() {
				peak.Store(m.HeapAlloc - base.HeapAlloc)
			}
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	return func() {
		close(stop)
		<-done
		b.ReportMetric(float64(peak.Load())/(1<<20), "peak-MB")
	}
}
