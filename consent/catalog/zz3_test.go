package catalog

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestZZWhere(t *testing.T) {
	m, vendors, _ := builtinMatcher(t)
	for _, f := range []string{"trafilatura__Osthessen-news.de-Buergermeisterwahl.html", "trafilatura__mydailymagazine.com.halloween.html"} {
		data, _ := os.ReadFile(filepath.Join(corpusDir, f))
		refs, _ := pageRefs(parsePage(t, data))
		for _, r := range refs {
			if !strings.Contains(r.inline, "06140512") && !strings.Contains(r.inline, "COMMON-MIN.JS") { continue }
			fmt.Println(f, "len", len(r.inline))
			for _, i := range m.MatchInline([]byte(r.inline), nil) {
				for _, s := range vendors[i].Match.Inline {
					if j := strings.Index(r.inline, s); j >= 0 { fmt.Printf("  %-20s %-40q at %d\n", vendors[i].ID, s, j) }
				}
			}
		}
	}
}
