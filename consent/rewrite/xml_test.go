package rewrite

import (
	"bytes"
	"hash/fnv"
	"math/rand/v2"
	"regexp"
	"testing"

	"github.com/consentgate/consentgate/consent/rewrite/htmlcheck/xmlcheck"
)

// XML documents (XHTML and SVG served as such) are read as an XML parser
// reads them: markup inside every element but a script and a style, and
// no content after a tag that closes itself.
var xmlCases = []rwCase{
	{"self-closing script, then an image", `<svg xmlns="http://www.w3.org/2000/svg"><script href="/a.js"/><image href="` + trk + `"/></svg>`,
		`<svg xmlns="http://www.w3.org/2000/svg"><script href="/a.js"/><image` + ads + ` data-consent-href="` + trk + `"/></svg>`},
	{"self-closing blocked script", `<script src="` + trk + `"/><p/>`, `<script` + txt + ads + ` data-consent-src="` + trk + `"/><p/>`},
	{"self-closing inline script, then an image", `<script/><img src="` + trk + `"/>`, `<script/><img` + ads + ` data-consent-src="` + trk + `"/>`},
	{"self-closing style, then an image", `<style/><img src="` + trk + `"/>`, `<style/><img` + ads + ` data-consent-src="` + trk + `"/>`},
	{"markup in a title", `<title><img src="` + trk + `"/></title>`, `<title><img` + ads + ` data-consent-src="` + trk + `"/></title>`},
	{"markup in a textarea", `<textarea><img src="` + trk + `"/></textarea>`, `<textarea><img` + ads + ` data-consent-src="` + trk + `"/></textarea>`},
	{"markup after plaintext", `<plaintext/><img src="` + trk + `"/>`, `<plaintext/><img` + ads + ` data-consent-src="` + trk + `"/>`},
	{"markup in an iframe", `<iframe src="/f"><img src="` + trk + `"/></iframe>`, `<iframe src="/f"><img` + ads + ` data-consent-src="` + trk + `"/></iframe>`},
	{"style in CDATA", `<style><![CDATA[@import url("` + trk + `");]]></style>`, `<style><![CDATA[@consentgate-import url("` + trk + `");]]></style>`},
	{"script text is still judged", `<script>fbq(1);</script>`, `<script` + txt + fb + `>fbq(1);</script>`},
	// An import map and speculation rules in CDATA, as XHTML pages wrap scripts.
	{"import map in CDATA", `<script type="importmap"><![CDATA[ {"imports": {"p": "` + trk + `"}} ]]></script><script type="module">import "p"</script>`,
		`<script type="importmap"><![CDATA[ {"imports": {"p": "` + trk + `"}} ]]></script><script` + txt + ads + ` data-consent-type="module">import "p"</script>`},
	{"speculation rules in CDATA", `<script type="speculationrules">
<![CDATA[{"prefetch": [{"urls": ["` + trk + `"]}]}]]>
</script>`, `<script` + txt + ads + ` data-consent-type="speculationrules">
<![CDATA[{"prefetch": [{"urls": ["` + trk + `"]}]}]]>
</script>`},
	// A processing instruction: an xml-stylesheet loads its href. Without
	// one it would load the document itself as a style sheet, so it also
	// gets a type that is no style sheet's, as a script does.
	{"xml-stylesheet", `<?xml version="1.0"?><?xml-stylesheet type="text/css" href="` + trk + `"?><svg/>`,
		`<?xml version="1.0"?><?xml-stylesheet` + txt + ads + ` data-consent-type="text/css" data-consent-href="` + trk + `"?><svg/>`},
	{"xml-stylesheet without a type", `<?xml version="1.0"?><?xml-stylesheet href="` + trk + `"?><svg/>`,
		`<?xml version="1.0"?><?xml-stylesheet` + txt + ads + ` data-consent-href="` + trk + `"?><svg/>`},
	{"xml-stylesheet, first-party", `<?xml-stylesheet href="/site.css"?><?other href="` + trk + `"?><svg/>`, ""},
	{"xml-stylesheet, other case", `<?XML-STYLESHEET href="` + trk + `"?><svg/>`, ""},
	{"xlink:href keeps its name an XML name", `<svg xmlns:xlink="http://www.w3.org/1999/xlink"><image xlink:href="` + trk + `"/></svg>`,
		`<svg xmlns:xlink="http://www.w3.org/1999/xlink"><image` + ads + ` data-consent-xlink-href="` + trk + `"/></svg>`},
}

func TestRewriteXML(t *testing.T) {
	checkCases(t, xmlCases, Options{Judge: newTestJudge(), XML: true})
}

// TestXMLStaysWellFormed: a well-formed XHTML page with trackers of every
// kind stays well-formed XML once they are neutralised and the injections
// are in, and they go nowhere when the page has no head or body to put
// them in (after the root element they would break the document).
func TestXMLStaysWellFormed(t *testing.T) {
	page := `<?xml version="1.0" encoding="UTF-8"?>
<?xml-stylesheet href="` + trk + `" type="text/css"?>
<!DOCTYPE html>
<html xmlns="http://www.w3.org/1999/xhtml" xmlns:xlink="http://www.w3.org/1999/xlink">
<head><title>t</title>
<script async="async" src="` + trk + `"></script>
<script src="` + trk + `"/>
<link rel="stylesheet" href="` + trk + `"/>
<style>@import url("` + trk + `"); p{background:url(` + trk + `)}</style>
</head>
<body style="background:url(` + trk + `)">
<iframe width="560" src="` + trk + `"></iframe>
<iframe src="` + trk + `"/>
<img src="` + trk + `" srcset="` + trk + ` 2x" alt=""/>
<object data="` + trk + `"></object><embed src="` + trk + `"/>
<svg xmlns="http://www.w3.org/2000/svg"><image xlink:href="` + trk + `"/><script href="` + trk + `"/></svg>
<script>fbq(1);</script>
</body>
</html>`
	early, hook, body := `<script src="/e.js" data-x="a"></script>`, `<link rel="stylesheet" href="/b.css"/>`, `<p>no script</p>`
	for _, tt := range []struct{ name, in string }{
		{"page", page},
		{"no head or body", `<svg xmlns="http://www.w3.org/2000/svg"><image href="` + trk + `"/></svg>`},
	} {
		out := Rewrite(nil, []byte(tt.in), Options{Judge: newTestJudge(), XML: true, Early: []byte(early), Hook: []byte(hook), Body: []byte(body)})
		if err := xmlcheck.WellFormed(string(out)); err != nil {
			t.Errorf("%s: not well-formed XML: %v\n%s", tt.name, err, out)
		}
		if live := neutralised.ReplaceAll(out, nil); bytes.Contains(live, []byte(trk)) {
			t.Errorf("%s: a tracker stays live:\n%s", tt.name, out)
		}
		if tt.name == "page" && !(bytes.Contains(out, []byte(early)) && bytes.Contains(out, []byte(hook+"</head>"))) {
			t.Errorf("%s: injections missing:\n%s", tt.name, out)
		}
	}
}

// neutralised matches what the rewriter made inert: a renamed attribute
// and its value, an @import renamed, a url() marked.
var neutralised = regexp.MustCompile(`data-consent-[a-z-]+="[^"]*"|@consentgate-import url\("[^"]*"\)|consentgate:` + regexp.QuoteMeta(trk))

// FuzzRewriteXML: a well-formed XML document stays well-formed, whatever
// is blocked (names and vendors with quotes, '<' and '&' in them) and
// wherever the writes end, and nothing but what is blocked changes.
func FuzzRewriteXML(f *testing.F) {
	for _, c := range xmlCases {
		f.Add([]byte(c.in))
	}
	f.Add([]byte(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"><style>@import url(a);p{background:url(b)}</style><image xlink:href="c" style="fill:url(d)"/><script href="e"/><foreignObject><iframe src="f"/></foreignObject></svg>`))
	early, hook, body := []byte(`<script src="/e.js"></script>`), []byte(`<link rel="stylesheet" href="/b.css"/>`), []byte(`<p>b</p>`)
	f.Fuzz(func(t *testing.T, src []byte) {
		if xmlcheck.WellFormed(string(src)) != nil {
			return
		}
		opt := Options{Judge: hashJudge{}, XML: true, Early: early, Hook: hook, Body: body}
		whole := Rewrite(nil, src, opt)
		if err := xmlcheck.WellFormed(string(whole)); err != nil {
			t.Fatalf("%v\ninput  %q\noutput %q", err, src, whole)
		}
		h := fnv.New64a()
		h.Write(src)
		rng := rand.New(rand.NewPCG(h.Sum64(), 5))
		if got, err := streamed(src, opt, rng, 7, whole); err != nil || !bytes.Equal(got, whole) {
			t.Fatalf("in writes of up to 7 bytes: %v, output differs at byte %d\ninput %q", err, mismatch(got, whole), src)
		}
	})
}
