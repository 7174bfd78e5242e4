package rewrite

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/net/html"

	"github.com/consentgate/consentgate/consent/catalog"
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
		skipWithoutCorpus(t, "corpus directory missing")
	}
	names, err := filepath.Glob(filepath.Join(dir, "*.html"))
	if err != nil || len(names) == 0 {
		skipWithoutCorpus(t, "corpus directory empty")
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

// TestCorpusNoLiveTrackers reads each rewritten page with x/net/html and
// checks that nothing the judge blocks is left live: no URL attribute a
// browser would load, no inline script it would run (judged, as the
// rewriter does, on its first HoldLimit bytes).
func TestCorpusNoLiveTrackers(t *testing.T) {
	j := newTestJudge()
	total := 0
	for _, pg := range corpus(t) {
		var out bytes.Buffer
		r := New(&out, Options{Judge: j})
		r.Write(pg.src)
		r.Close()
		total += r.Blocked()
		for _, live := range liveReferences(out.Bytes()) {
			if v := j.judgeLive(live); v.Block {
				t.Errorf("%s: %s left live (%s)", pg.name, live.what, v.Vendor)
			}
		}
	}
	if total == 0 {
		t.Error("nothing blocked in the whole corpus")
	}
}

// liveRef is a URL or inline script a browser would load or run.
type liveRef struct {
	kind   catalog.Kind
	inline bool
	what   string
}

func (j *testJudge) judgeLive(l liveRef) Verdict {
	if l.inline {
		return j.JudgeInline([]byte(l.what))
	}
	return j.JudgeURL(l.kind, []byte(l.what))
}

// liveReferences lists what the page would load and run, by x/net/html's
// tokenizer (reading <noscript> as markup, as browsers without scripts do),
// and what the documents its frames hold (srcdoc, data: URLs) would.
func liveReferences(page []byte) []liveRef {
	var refs []liveRef
	z := html.NewTokenizer(bytes.NewReader(page))
	runs := false // the last start tag was a script that runs
	for tt := z.Next(); tt != html.ErrorToken; tt = z.Next() {
		if tt == html.TextToken && runs && !bytes.HasSuffix(z.Raw(), []byte(TailPoison)) { // poisoned: never runs
			text := z.Raw()
			refs = append(refs, liveRef{inline: true, what: string(text[:min(len(text), HoldLimit)])})
		}
		tok := z.Token()
		runs = false
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			continue
		}
		attr := map[string]string{}
		for _, a := range tok.Attr {
			attr[a.Key] = a.Val
		}
		var urls []string
		var kind catalog.Kind
		switch tok.Data {
		case "noscript":
			z.NextIsNotRawText()
		case "script":
			ti := tagInfo{}
			if ty, ok := attr["type"]; ok {
				ti.has, ti.val[atType] = setOf(atType), []byte(ty)
			}
			if !isJavaScript(&ti) {
				continue
			}
			src, ok := attr["src"]
			runs = !ok
			kind, urls = catalog.KindScript, []string{src}
		case "iframe", "embed", "object":
			key := "src"
			if tok.Data == "object" {
				key = "data"
			}
			kind, urls = catalog.KindFrame, []string{attr[key]}
			// The document the frame holds loads what it names.
			if doc, ok := attr["srcdoc"]; ok && tok.Data == "iframe" {
				refs = append(refs, liveReferences([]byte(doc))...)
			} else if doc, ok := dataHTML([]byte(attr[key])); ok {
				refs = append(refs, liveReferences(doc)...)
			}
		case "img", "video", "audio", "source", "track":
			kind, urls = catalog.KindImage, []string{attr["src"], attr["poster"]}
			for c, i := []byte(nil), 0; ; {
				if c, i = nextCandidate([]byte(attr["srcset"]), i); c == nil {
					break
				}
				urls = append(urls, string(c))
			}
		case "link":
			if LoadsResource([]byte(attr["rel"])) {
				kind, urls = catalog.KindLink, []string{attr["href"]}
			}
		}
		for _, u := range urls {
			if u != "" {
				refs = append(refs, liveRef{kind: kind, what: u})
			}
		}
	}
	return refs
}

// skipWithoutCorpus skips a test that needs ../shared/corpus when it is
// absent, unless CONSENTGATE_REQUIRE_CORPUS is set (.ci/run sets it): CI
// must not pass without the corpus checks.
func skipWithoutCorpus(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("CONSENTGATE_REQUIRE_CORPUS") != "" {
		t.Fatalf("%s, and CONSENTGATE_REQUIRE_CORPUS is set", why)
	}
	t.Skip(why)
}
