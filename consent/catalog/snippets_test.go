package catalog

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// A snippet file holds a vendor's embed code as the vendor documents it or as
// sites paste it. Every URL and inline script in it must match that vendor,
// or one named in an "<!-- also: id ... -->" comment when the code
// legitimately loads another vendor too.

const snippetDir = "testdata/snippets"

// pageRef is one thing a page loads: a URL of some kind, or inline script.
type pageRef struct {
	kind   Kind
	url    string
	inline string // set for inline scripts instead of url
}

// pageRefs walks a parsed document for the references the rewriter acts on.
// also collects the vendor ids of "also:" comments.
func pageRefs(doc *html.Node) (refs []pageRef, also []string) {
	attrKinds := map[string]map[string]Kind{
		"script": {"src": KindScript},
		"iframe": {"src": KindFrame},
		"embed":  {"src": KindFrame},
		"object": {"data": KindFrame},
		"img":    {"src": KindImage, "srcset": KindImage},
		"source": {"src": KindImage, "srcset": KindImage},
		"video":  {"src": KindImage, "poster": KindImage},
		"audio":  {"src": KindImage},
		"link":   {"href": KindLink},
		"form":   {"action": KindForm},
	}
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		switch n.Type {
		case html.CommentNode:
			if rest, ok := strings.CutPrefix(strings.TrimSpace(n.Data), "also:"); ok {
				also = append(also, strings.Fields(rest)...)
			}
		case html.ElementNode:
			hasSrc := false
			for _, a := range n.Attr {
				kind, ok := attrKinds[n.Data][a.Key]
				if !ok || a.Val == "" {
					continue
				}
				hasSrc = hasSrc || n.Data == "script"
				for _, u := range splitSrcset(a.Key, a.Val) {
					refs = append(refs, pageRef{kind: kind, url: u})
				}
			}
			text := childText(n)
			switch {
			case n.Data == "script" && !hasSrc && strings.TrimSpace(text) != "":
				refs = append(refs, pageRef{inline: text})
			case n.Data == "style":
				for _, m := range cssImport.FindAllStringSubmatch(text, -1) {
					refs = append(refs, pageRef{kind: KindLink, url: m[1] + m[2]})
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return refs, also
}

var cssImport = regexp.MustCompile(`@import\s+(?:url\(\s*['"]?([^'")\s]+)|['"]([^'"]+))`)

// splitSrcset returns the URLs of a srcset, or the attribute value itself.
func splitSrcset(key, val string) []string {
	if key != "srcset" {
		return []string{val}
	}
	var urls []string
	for _, candidate := range strings.Split(val, ",") {
		if f := strings.Fields(candidate); len(f) > 0 {
			urls = append(urls, f[0])
		}
	}
	return urls
}

func childText(n *html.Node) string {
	var b strings.Builder
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
	}
	return b.String()
}

// parsePage parses HTML with scripting off, so that <noscript> content is
// markup (pixels and frames), not text.
func parsePage(t testing.TB, data []byte) *html.Node {
	t.Helper()
	doc, err := html.ParseWithOptions(bytes.NewReader(data), html.ParseOptionEnableScripting(false))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestSnippets(t *testing.T) {
	m, vendors, index := builtinMatcher(t)
	for _, v := range vendors {
		t.Run(v.ID, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(snippetDir, v.ID+".html"))
			if err != nil {
				t.Fatalf("every vendor needs a snippet: %v", err)
			}
			refs, also := pageRefs(parsePage(t, data))
			allowed := []int{index[v.ID]}
			for _, id := range also {
				i, ok := index[id]
				if !ok {
					t.Fatalf("also: unknown vendor %q", id)
				}
				allowed = append(allowed, i)
			}
			seen := map[int]bool{}
			var buf []int
			for _, r := range refs {
				if r.inline != "" {
					buf = m.MatchInline([]byte(r.inline), buf[:0])
					if len(buf) == 0 {
						t.Errorf("inline script matches no vendor:\n%s", r.inline)
					}
					for _, i := range buf {
						if !slices.Contains(allowed, i) {
							t.Errorf("inline script matches %s:\n%s", vendors[i].ID, r.inline)
						}
						seen[i] = true
					}
					continue
				}
				i := m.Match(r.kind, []byte(r.url))
				if _, abs := m.Host([]byte(r.url)); r.kind == KindForm && !abs {
					continue // the site's own form, as in the reCAPTCHA example
				}
				if !slices.Contains(allowed, i) {
					t.Errorf("%v %q matches %s", r.kind, r.url, vendorID(vendors, i))
				}
				seen[i] = true
			}
			for _, i := range allowed {
				if !seen[i] {
					t.Errorf("nothing in the snippet matches %s", vendors[i].ID)
				}
			}
		})
	}
}

// Snippet files and catalogue must not drift apart.
func TestSnippetFilesHaveVendors(t *testing.T) {
	_, _, index := builtinMatcher(t)
	files, err := filepath.Glob(filepath.Join(snippetDir, "*.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if _, ok := index[strings.TrimSuffix(filepath.Base(f), ".html")]; !ok {
			t.Errorf("%s: no such vendor in the catalogue", f)
		}
	}
}
