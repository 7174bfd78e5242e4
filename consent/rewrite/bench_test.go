package rewrite

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"golang.org/x/net/html"
)

func goSpec(b *testing.B) []byte {
	src, err := os.ReadFile(filepath.Join(runtime.GOROOT(), "doc", "go_spec.html"))
	if err != nil {
		b.Skip(err)
	}
	return src
}

// trackerPage is the largest tracker-heavy page of the corpus.
func trackerPage(b *testing.B) []byte {
	src, err := os.ReadFile(filepath.Join(corpusDir(), "readability__breitbart.html"))
	if err != nil {
		b.Skip(err)
	}
	return src
}

// benchRewrite streams src through one reused Rewriter in 32 KiB writes, as
// the proxy delivers a page.
func benchRewrite(b *testing.B, src []byte) {
	opt := Options{Judge: newTestJudge(), Early: []byte("<script>early()</script>"), Hook: []byte("<script src=/.consent/banner.js></script>")}
	r := New(io.Discard, opt)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		r.Reset(io.Discard, opt)
		for p := src; len(p) > 0; {
			n := min(len(p), 32<<10)
			r.Write(p[:n])
			p = p[n:]
		}
		r.Close()
	}
}

func benchTokenizer(b *testing.B, src []byte) {
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		z := html.NewTokenizer(bytes.NewReader(src))
		for z.Next() != html.ErrorToken {
			_ = z.Raw()
		}
	}
}

func BenchmarkRewriteGoSpec(b *testing.B)     { benchRewrite(b, goSpec(b)) }
func BenchmarkTokenizerGoSpec(b *testing.B)   { benchTokenizer(b, goSpec(b)) }
func BenchmarkRewriteTrackers(b *testing.B)   { benchRewrite(b, trackerPage(b)) }
func BenchmarkTokenizerTrackers(b *testing.B) { benchTokenizer(b, trackerPage(b)) }
