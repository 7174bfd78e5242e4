package rewrite

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/consentgate/consentgate/consent/catalog"
)

// pad makes a srcdoc document too long to hold.
var pad = "<p>" + strings.Repeat("x", TagLimit) + "</p>"

// inPlaceDocs are srcdoc documents too long to hold: each is rewritten in
// place as the judge would rewrite it as a page (without injections).
var inPlaceDocs = []struct{ name, doc string }{
	{"script after the padding", pad + `<script src="` + trk + `"></script><p>after`},
	{"script before the padding", `<script src="` + trk + `"></script>` + pad},
	{"image candidate", pad + `<img alt="a 'b' & c" src="/a.png" srcset="` + trk + ` 2x">`},
	{"inline script", `<script>var a = "<b>" && 1;` + strings.Repeat("x", HoldLimit) + `fbq(1)</script>` + pad},
	// Held by nested while the units wait, written past queueSoft bytes.
	{"inline script written with many references", `<script>` + strings.Repeat(`a="<b>";`, HoldLimit/4) + `fbq(1)</script>` + pad},
	{"inline script of characters written as references", `<script>` + strings.Repeat("é<€", HoldLimit/5) + `fbq(1)</script>` + pad},
	{"style import", `<style>@import "` + trk + `";</style>` + pad},
	{"frame in the frame", pad + `<iframe srcdoc="&lt;img src=` + trk + `&gt;" title='t'></iframe>`},
	{"over-long srcdoc in the frame", `<iframe srcdoc="` + pad + `<img src=` + trk + `>"></iframe>`},
	{"clean", pad + `<img src="/a.png"><script>var a = 1</script>`},
	{"oversized tag in the frame", `<img alt="` + long + `" src="` + trk + `">`},
	{"unfinished long script", pad + `<script>` + strings.Repeat("x", HoldLimit) + `fbq(1) &`},
}

// TestLongSrcdocRewrittenInPlace: a srcdoc too long to hold keeps its
// document, neutralised as a page would be, escaped back into the value
// for its quote (or lack of one), however the page is cut into writes.
func TestLongSrcdocRewrittenInPlace(t *testing.T) {
	j := newTestJudge()
	rng := rand.New(rand.NewPCG(11, 11))
	for _, d := range inPlaceDocs {
		for _, q := range []string{`"`, `'`, ``} {
			esc := func(s []byte) string { return string(appendValueEscaped(nil, s, q == "")) }
			frame := func(doc string) string {
				return `<p>before<iframe title="t" srcdoc=` + q + doc + q + `></iframe><img src="` + trk + `">`
			}
			in := frame(esc([]byte(d.doc)))
			want := frame(esc(rewriteFrameDoc([]byte(d.doc), j))) // (the image stays unblocked: fixed below)
			want = strings.Replace(want, `<img src="`+trk, `<img`+ads+` data-consent-src="`+trk, 1)
			if got := string(Rewrite(nil, []byte(in), Options{Judge: j})); got != want {
				t.Errorf("%s, quote %q:\n got %.300q…\nwant %.300q…\n differ at %d", d.name, q, got, want, mismatch([]byte(got), []byte(want)))
				continue
			}
			for _, maxChunk := range []int{1, 7, 300, 20000} {
				if got, err := streamed([]byte(in), Options{Judge: j}, rng, maxChunk, []byte(want)); err != nil || string(got) != want {
					t.Errorf("%s, quote %q, writes of up to %d bytes: differs at %d (%v)", d.name, q, maxChunk, mismatch(got, []byte(want)), err)
				}
			}
		}
	}
}

// oddDoc is a srcdoc written with every kind of reference, some of them
// not references at all, and bytes a value may hold as they are.
var oddDoc = pad + `&#60;img src=&#x22;` + trk + `&#34;&GT;` +
	`&lt;p title=&quot;a & b &ampx &amp=1 &notit; &#x; &#; &; &#000060; &#9999999;&quot;&gt;` +
	`caf&eacute; &nbsp;&copy &#128; &nvlt; &fjlig; ` + "caf\xc3\xa9 \x00\r\n\t" +
	`&lt;script src=https:&sol;/tracker.example/y.js&gt;&lt;/script&gt;&lt;img src=/a.png&gt;&amp;amp;` +
	// A reference without ';' right before the marks go in; one whose
	// bytes greedy matching takes from the placeholder ("display:flex",
	// "justify"); a name too long to be one.
	`&lt;im&#103 src=` + trk + `&gt;&lt;style&gt;.a{background:url&#40` + trk + `)}&lt;/style&gt;` +
	`&lt;iframe &fjlig;x src=` + trk + `&gt;&lt;/iframe&gt;&` + strings.Repeat("abc", 15) + `&lt`

// longRefs are references longer than the stream keeps as written: they
// go out shortened, decoding the same.
const longRefs = `&#0000000000000000000000000000000000000000000000000000060; &#x000000000000000000000000000000000000000000000000003c &#99999999999999999999999999999999999999999999;`

// TestLongSrcdocAsWritten: a srcdoc written oddly, whose references may
// be cut between writes anywhere, reads (to x/net/html) as the document it
// held, rewritten; and where nothing is blocked it is left byte for byte
// (but for references longer than maxRef).
func TestLongSrcdocAsWritten(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 12))
	granted := newTestJudge()
	granted.purposes = nil
	for _, q := range []string{`"`, `'`, ``} {
		doc := oddDoc
		if q == "" { // an unquoted value holds no white space or '>'
			doc = strings.NewReplacer(" ", "&#32;", "\r\n\t", "&#13;&#10;&Tab;", ">", "&gt;").Replace(doc)
		}
		in := []byte(`<iframe srcdoc=` + q + doc + q + ` title=t></iframe>`)
		withLong := []byte(`<iframe srcdoc=` + q + doc + strings.ReplaceAll(longRefs, " ", "&#32;") + q + ` title=t></iframe>`)
		if got, want := srcdocOf(t, Rewrite(nil, withLong, Options{Judge: granted})), srcdocOf(t, withLong); !bytes.Equal(got, want) {
			t.Errorf("quote %q: with long references, the frame's document changed at %d", q, mismatch(got, want))
		}
		j := newTestJudge()
		whole := Rewrite(nil, in, Options{Judge: j})
		want := rewriteFrameDoc(srcdocOf(t, in), j)
		if got := srcdocOf(t, whole); !bytes.Equal(got, want) {
			t.Errorf("quote %q: the frame's document differs from the rewritten one at %d:\n got %.200q\nwant %.200q", q, mismatch(got, want), got[TagLimit:], want[TagLimit:])
		}
		if bytes.Equal(want, srcdocOf(t, in)) {
			t.Errorf("quote %q: nothing in the document was blocked", q)
		}
		for _, maxChunk := range []int{1, 5, 300} {
			if got, err := streamed(in, Options{Judge: j}, rng, maxChunk, whole); err != nil || !bytes.Equal(got, whole) {
				t.Errorf("quote %q, writes of up to %d bytes: differs at %d (%v)", q, maxChunk, mismatch(got, whole), err)
			}
			if got, err := streamed(in, Options{Judge: granted}, rng, maxChunk, in); err != nil || !bytes.Equal(got, in) {
				t.Errorf("quote %q, all granted, writes of up to %d bytes: changed at %d (%v)", q, maxChunk, mismatch(got, in), err)
			}
		}
	}
}

// rewriteFrameDoc rewrites a frame's document as a whole, as its page's
// rewriter does.
func rewriteFrameDoc(doc []byte, j Judge) []byte {
	var out bytes.Buffer
	r := (&Rewriter{}).frameRewriter(&out, Options{Judge: j})
	r.Write(doc)
	r.Close()
	return out.Bytes()
}

// srcdocOf is the srcdoc of the first iframe in page, as x/net/html reads it.
func srcdocOf(t *testing.T, page []byte) []byte {
	t.Helper()
	z := html.NewTokenizer(bytes.NewReader(page))
	for tt := z.Next(); tt != html.ErrorToken; tt = z.Next() {
		if name, more := z.TagName(); tt == html.StartTagToken && string(name) == "iframe" {
			for more {
				var k, v []byte
				if k, v, more = z.TagAttr(); string(k) == "srcdoc" {
					return v
				}
			}
		}
	}
	t.Fatalf("no srcdoc in %.100q", page)
	return nil
}

// TestLongSrcdocNesting: in the document of an over-long srcdoc, another
// over-long one is not rewritten in place again: its frame is blocked,
// naming no vendor.
func TestLongSrcdocNesting(t *testing.T) {
	inner := `<iframe srcdoc="` + pad + `"></iframe>`
	in := `<iframe srcdoc="` + string(appendValueEscaped(nil, []byte(inner), false)) + `"></iframe>`
	want := `<iframe data-consent-purpose="" data-consent-vendor="" srcdoc="` + placeholder(Verdict{}) + `" data-consent-srcdoc="` + pad + `"></iframe>`
	got := srcdocOf(t, Rewrite(nil, []byte(in), Options{Judge: newTestJudge()}))
	if string(got) != want {
		t.Errorf("nested over-long srcdoc:\n got %.300q\nwant %.300q", got, want)
	}
}

// TestFrameDocumentsReportTheirURLs: what a srcdoc (held or rewritten in
// place) or a data: frame's document loads is reported to OnURL as the
// page's own URLs are, so the third-party scan lists its hosts too.
func TestFrameDocumentsReportTheirURLs(t *testing.T) {
	in := `<iframe srcdoc="&lt;img src=https://cdn.example/a.png&gt;"></iframe>` +
		`<iframe srcdoc="` + html.EscapeString(pad+`<script src="https://cdn.example/b.js"></script>`) + `"></iframe>` +
		`<iframe src="data:text/html,%3Clink rel=stylesheet href=https://cdn.example/c.css%3E"></iframe>`
	seen := map[string]bool{}
	Rewrite(nil, []byte(in), Options{Judge: newTestJudge(), OnURL: func(k catalog.Kind, u []byte, v Verdict) {
		seen[k.String()+" "+string(u)] = true
	}})
	for _, want := range []string{"image https://cdn.example/a.png", "script https://cdn.example/b.js", "link https://cdn.example/c.css"} {
		if !seen[want] {
			t.Errorf("OnURL never saw %q; it saw %v", want, seen)
		}
	}
}
