package redis

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/consentgate/consentgate/consent/store/storetest"
)

func BenchmarkAppendRedis(b *testing.B) {
	for _, batch := range []int{1, 100} {
		b.Run("batch="+strconv.Itoa(batch), func(b *testing.B) {
			s, _ := openTest(b, "redis://"+standaloneAddr(b)+"/0")
			storetest.BenchmarkAppend(b, s, batch)
		})
	}
}

func BenchmarkAppendParallelRedis(b *testing.B) {
	s, _ := openTest(b, "redis://"+standaloneAddr(b)+"/0")
	storetest.BenchmarkAppendParallel(b, s)
}

// BenchmarkRangeRedis compares the store's export paths with reading the
// same records raw with go-redis (HMGET in the same batches, no decoding):
// the export target is at least half the raw rate. CG_BENCH_RECORDS sets
// how many records (default 100000; BENCHMARKS.md uses 1000000).
func BenchmarkRangeRedis(b *testing.B) {
	s, raw := openTest(b, "redis://"+standaloneAddr(b)+"/0")
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("CG_BENCH_RECORDS")); err == nil && v > 0 {
		n = v
	}
	storetest.Fill(b, s, "gw-bench", n)
	b.Run("store-raw", func(b *testing.B) {
		defer storetest.ReportPeakHeap(b)()
		storetest.BenchmarkRange(b, s, false)
	})
	b.Run("store-decoded", func(b *testing.B) { storetest.BenchmarkRange(b, s, true) })
	b.Run("go-redis", func(b *testing.B) {
		ctx := context.Background()
		key := raw.k.rec("gw-bench")
		fields := make([]string, 0, 512)
		records := 0
		began := time.Now()
		for b.Loop() {
			for from := 1; from <= n; from += 512 {
				fields = fields[:0]
				for seq := from; seq < from+512 && seq <= n; seq++ {
					fields = append(fields, strconv.Itoa(seq))
				}
				vals, err := raw.c.HMGet(ctx, key, fields...).Result()
				if err != nil {
					b.Fatal(err)
				}
				records += len(vals)
			}
		}
		b.ReportMetric(float64(records)/time.Since(began).Seconds(), "records/s")
	})
}
