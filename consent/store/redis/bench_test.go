package redis

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/consentgate/consentgate/consent/store/storetest"
	goredis "github.com/redis/go-redis/v9"
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

// BenchmarkAppendVisitorsRedis appends 8-record batches (about what the
// gateway's batcher sends under load), each record by a new visitor, and
// reports Redis's own CPU per record (INFO cpu): run it with a large
// -benchtime (400000x) to see the cost as the consent index grows.
func BenchmarkAppendVisitorsRedis(b *testing.B) {
	s, raw := openTest(b, "redis://"+standaloneAddr(b)+"/0")
	storetest.BenchmarkAppendVisitors(b, s, 8, func() time.Duration {
		return serverCPU(b, raw.c)
	})
}

// serverCPU is the CPU a Redis server has used, user and system, from INFO.
func serverCPU(b *testing.B, c goredis.UniversalClient) time.Duration {
	info, err := c.Info(context.Background(), "cpu").Result()
	if err != nil {
		b.Fatal(err)
	}
	var total float64
	for _, line := range strings.Split(info, "\r\n") {
		name, v, _ := strings.Cut(line, ":")
		if name == "used_cpu_sys" || name == "used_cpu_user" {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				b.Fatal(err)
			}
			total += f
		}
	}
	return time.Duration(total * float64(time.Second))
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
