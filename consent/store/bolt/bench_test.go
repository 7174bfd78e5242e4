package bolt

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/consentgate/consentgate/consent/store/storetest"
)

func BenchmarkAppendBolt(b *testing.B) {
	for _, batch := range []int{1, 100} {
		b.Run("batch="+strconv.Itoa(batch), func(b *testing.B) {
			s, err := Open(filepath.Join(b.TempDir(), "bench.db"), Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			storetest.BenchmarkAppend(b, s, batch)
		})
	}
}

// BenchmarkAppendVisitorsBolt appends 8-record batches of new visitors, as
// BenchmarkAppendVisitorsRedis does, and reports the store file's size per
// record.
func BenchmarkAppendVisitorsBolt(b *testing.B) {
	path := filepath.Join(b.TempDir(), "bench.db")
	s, err := Open(path, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	storetest.BenchmarkAppendVisitors(b, s, 8, nil)
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(fi.Size())/float64(b.N), "file-bytes/record")
}

func BenchmarkAppendParallelBolt(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "bench.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	storetest.BenchmarkAppendParallel(b, s)
}

func BenchmarkRangeBolt(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "bench.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	storetest.Fill(b, s, "gw-bench", 100_000)
	b.Run("raw", func(b *testing.B) { storetest.BenchmarkRange(b, s, false) })
	b.Run("decoded", func(b *testing.B) { storetest.BenchmarkRange(b, s, true) })
}

// BenchmarkOpenBolt opens a store of 100,000 proofs (about 125 MB), as a
// gateway does at every start, with the free list kept in the file and, for
// comparison, walked from every page as earlier versions did. The page
// cache is warm here; from a cold disk the walk reads the whole file.
func BenchmarkOpenBolt(b *testing.B) {
	for _, walk := range []bool{false, true} {
		b.Run("walk_freelist="+strconv.FormatBool(walk), func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "open.db")
			s, err := Open(path, Options{NoSync: true, noFreelistSync: walk})
			if err != nil {
				b.Fatal(err)
			}
			storetest.FillVisitors(b, s, 100_000)
			s.Close()
			for b.Loop() {
				s, err := Open(path, Options{noFreelistSync: walk})
				if err != nil {
					b.Fatal(err)
				}
				s.Close()
			}
		})
	}
}
