package rewrite

import (
	"os"
	"path/filepath"
	"testing"
)

// corpusDir is the shared corpus of real pages: beside the repository in a
// checkout (as in CI), else where the workplace keeps it.
func corpusDir() string {
	for _, d := range []string{filepath.Join("..", "..", "..", "shared", "corpus"), "/work/shared/corpus"} {
		if _, err := os.Stat(d); err == nil {
			return d
		}
	}
	return ""
}

type page struct {
	name string
	src  []byte
}

// corpus reads every page of the corpus, skipping the test if it is absent.
func corpus(t testing.TB) []page {
	dir := corpusDir()
	if dir == "" {
		t.Skip("corpus directory missing")
	}
	names, err := filepath.Glob(filepath.Join(dir, "*.html"))
	if err != nil || len(names) == 0 {
		t.Skip("corpus directory empty")
	}
	pages := make([]page, 0, len(names))
	for _, n := range names {
		src, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, page{filepath.Base(n), src})
	}
	return pages
}
