package policy_test

import (
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/consentgate/consentgate/consent/rewrite"
)

// BenchmarkRewriteWithCatalog is the rewriter as the gateway runs it: the
// real catalogue's matcher judging for a visitor who has not consented yet,
// 32 KiB writes.
//
//	go test -run='^$' -bench=RewriteWithCatalog -benchmem ./consent/policy/
func BenchmarkRewriteWithCatalog(b *testing.B) {
	p := builtinPolicy(b)
	d := p.Undecided(false)
	pages := map[string]string{
		"go_spec":       filepath.Join(runtime.GOROOT(), "doc", "go_spec.html"),
		"tracker_heavy": filepath.Join(corpusDir, "readability__breitbart.html"),
	}
	for _, name := range []string{"go_spec", "tracker_heavy"} {
		src, err := os.ReadFile(pages[name])
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			r := rewrite.New(io.Discard, rewrite.Options{})
			b.SetBytes(int64(len(src)))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				r.Reset(io.Discard, rewrite.Options{Judge: d, Hook: hook})
				for off := 0; off < len(src); off += 32 << 10 {
					r.Write(src[off:min(off+32<<10, len(src))])
				}
				r.Close()
			}
		})
	}
}
