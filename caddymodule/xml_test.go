package caddymodule_test

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/consentgate/consentgate/caddymodule/gatewaytest"
	"github.com/consentgate/consentgate/consent/rewrite/htmlcheck/xmlcheck"
)

// xhtmlPage is an XHTML page with trackers of each kind, as a site serving
// application/xhtml+xml writes it.
const xhtmlPage = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE html>
<html xmlns="http://www.w3.org/1999/xhtml" lang="en">
<head>
<title>An XHTML shop</title>
<script async="async" src="https://www.googletagmanager.com/gtag/js?id=G-XHTML1"></script>
<link rel="stylesheet" href="https://fonts.googleapis.com/css2?family=Roboto"/>
</head>
<body>
<p>Served as application/xhtml+xml.</p>
<iframe width="560" height="315" src="https://www.youtube.com/embed/xhtml1"></iframe>
<img src="https://www.facebook.com/tr?id=1&amp;ev=PageView" alt="" width="1" height="1"/>
</body>
</html>
`

// trackerSVG is an SVG document that loads trackers: a Google Fonts
// @import, a pixel as an <image> (href and xlink:href) and a script.
const trackerSVG = `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="200" height="100" viewBox="0 0 200 100">
<style>@import url("https://fonts.googleapis.com/css2?family=Roboto"); text { font-family: Roboto }</style>
<rect width="200" height="100" fill="#eee"/>
<text x="10" y="50">An SVG</text>
<image href="https://www.facebook.com/tr?id=1&amp;ev=PageView" width="1" height="1"/>
<image xlink:href="https://www.facebook.com/tr?id=2&amp;ev=PageView" width="1" height="1"/>
<script href="https://www.googletagmanager.com/gtag/js?id=G-SVG1"/>
</svg>
`

// xmlSite serves the XHTML page and the SVG from files behind `consent`.
func xmlSite(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range map[string]string{"shop.xhtml": xhtmlPage, "badge.svg": trackerSVG} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	port := freePort(t)
	startCaddy(t, fmt.Sprintf(":%d {\n\tconsent\n\theader /shop.xhtml Content-Type application/xhtml+xml\n\troot * %s\n\tfile_server\n}", port, dir))
	return baseURL(port)
}

// inert matches what the gateway made inert: a renamed attribute and an
// @import renamed.
var inert = regexp.MustCompile(`data-consent-[a-z-]+="[^"]*"|@consentgate-import url\("[^"]*"\)`)

// liveHosts lists the tracker hosts of the XML test documents still named
// outside what the gateway made inert.
func liveHosts(body string) []string {
	live := inert.ReplaceAllString(body, "")
	var hosts []string
	for _, h := range []string{"www.googletagmanager.com", "fonts.googleapis.com", "www.youtube.com", "www.facebook.com"} {
		if strings.Contains(live, h) {
			hosts = append(hosts, h)
		}
	}
	return hosts
}

// TestXHTMLPageStaysXML: an XHTML page is parsed by browsers as XML, where
// one HTML-only attribute is a parse error shown instead of the page. The
// gateway's rewritten page is well-formed XML, with the banner hook and
// the trackers neutralised, and without the no-JavaScript form (XHTML has
// no noscript); once the visitor accepts, it is still XML and the trackers
// are live.
func TestXHTMLPageStaysXML(t *testing.T) {
	base := xmlSite(t)
	c := newClient(t)
	resp, body := get(t, c, base+"/shop.xhtml", asPage...)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/xhtml+xml") {
		t.Fatalf("%d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if err := xmlcheck.WellFormed(body); err != nil {
		t.Errorf("the rewritten page is not well-formed XML: %v\n%s", err, body)
	}
	if !hookPattern.MatchString(body) || !gatewaytest.EarlyPattern.MatchString(body) {
		t.Errorf("the banner hook or the shim is missing:\n%s", body)
	}
	if strings.Contains(body, "<noscript") {
		t.Errorf("an XHTML page got the no-JavaScript form:\n%s", body)
	}
	if live := liveHosts(body); len(live) > 0 {
		t.Errorf("trackers live before consent: %v\n%s", live, body)
	}
	if vary := strings.Join(resp.Header.Values("Vary"), ","); !strings.Contains(vary, "Cookie") {
		t.Errorf("Vary %q: the page depends on consent", vary)
	}

	postChoice(t, c, base, `{"all":true}`)
	_, body = get(t, c, base+"/shop.xhtml", asPage...)
	if err := xmlcheck.WellFormed(body); err != nil {
		t.Errorf("after consent, the page is not well-formed XML: %v\n%s", err, body)
	}
	if got := gatewaytest.WithoutHook(t, body); got != xhtmlPage {
		t.Errorf("after consent, the page is not the site's plus the hook: %s", firstDiff(got, xhtmlPage))
	}
}

// TestSVGDocumentsAreRewritten: an SVG shown as a document (navigated to,
// in a frame, an <object> or an <embed>) loads what it names as a page
// does, so it is neutralised until consent, stays well-formed, gets no
// banner, and is marked per visitor as a page is. As an image it loads
// nothing and passes byte for byte, and so does what fetch() reads. Each
// form varies on Sec-Fetch-Dest, so a browser never takes one from its
// cache for the other.
func TestSVGDocumentsAreRewritten(t *testing.T) {
	base := xmlSite(t)
	c := newClient(t)
	var docTag string
	for _, dest := range []string{"document", "iframe", "object", "embed"} {
		resp, body := get(t, c, base+"/badge.svg", with(asPage, "Sec-Fetch-Dest", dest)...)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d", dest, resp.StatusCode)
		}
		if err := xmlcheck.WellFormed(body); err != nil {
			t.Errorf("%s: not well-formed XML: %v\n%s", dest, err, body)
		}
		if live := liveHosts(body); len(live) > 0 {
			t.Errorf("%s: trackers live before consent: %v\n%s", dest, live, body)
		}
		for _, want := range []string{`@consentgate-import url("https://fonts.googleapis.com/`, `data-consent-xlink-href="https://www.facebook.com/tr?id=2`,
			`data-consent-href="https://www.facebook.com/tr?id=1`, `data-consent-href="https://www.googletagmanager.com/`} {
			if !strings.Contains(body, want) {
				t.Errorf("%s: no %s in\n%s", dest, want, body)
			}
		}
		if strings.Contains(body, "/.consent/") {
			t.Errorf("%s: an SVG document got the banner:\n%s", dest, body)
		}
		vary := strings.Join(resp.Header.Values("Vary"), ",")
		if !strings.Contains(vary, "Cookie") || !strings.Contains(vary, "Sec-Fetch-Dest") {
			t.Errorf("%s: Vary %q, want Cookie and Sec-Fetch-Dest", dest, vary)
		}
		if docTag = resp.Header.Get("Etag"); !strings.Contains(docTag, "-cg") {
			t.Errorf("%s: ETag %q is not marked with the consent state", dest, docTag)
		}
	}

	var imgTag string
	for _, tc := range nonPages {
		resp, body := get(t, c, base+"/badge.svg", tc.headers...)
		if resp.StatusCode != 200 || body != trackerSVG {
			t.Errorf("%s: %d, changed: %s", tc.name, resp.StatusCode, firstDiff(body, trackerSVG))
		}
		vary := strings.Join(resp.Header.Values("Vary"), ",")
		if strings.Contains(vary, "Cookie") || !strings.Contains(vary, "Sec-Fetch-Dest") {
			t.Errorf("%s: Vary %q, want Sec-Fetch-Dest and not Cookie", tc.name, vary)
		}
		imgTag = resp.Header.Get("Etag")
	}

	// Revalidated as a document: the gateway's tag gets a 304 marked as
	// the document was; the image's tag (the site's own) must not, as its
	// copy is the unrewritten one.
	resp, _ := get(t, c, base+"/badge.svg", with(asPage, "If-None-Match", docTag)...)
	if vary := strings.Join(resp.Header.Values("Vary"), ","); resp.StatusCode != http.StatusNotModified || resp.Header.Get("Etag") != docTag || !strings.Contains(vary, "Cookie") {
		t.Errorf("document revalidated with its own tag: %d, ETag %q, Vary %q; want 304, %q, Cookie",
			resp.StatusCode, resp.Header.Get("Etag"), vary, docTag)
	}
	resp, body := get(t, c, base+"/badge.svg", with(asPage, "If-None-Match", imgTag)...)
	if resp.StatusCode != 200 || !strings.Contains(body, "@consentgate-import") {
		t.Errorf("document revalidated with the image's tag %q: %d, want 200 rewritten", imgTag, resp.StatusCode)
	}

	postChoice(t, c, base, `{"all":true}`)
	for _, dest := range []string{"document", "iframe"} {
		_, body := get(t, c, base+"/badge.svg", with(asPage, "Sec-Fetch-Dest", dest)...)
		if body != trackerSVG {
			t.Errorf("%s after consent: changed: %s", dest, firstDiff(body, trackerSVG))
		}
	}
	if _, body := get(t, c, base+"/badge.svg", asImage...); !bytes.Equal([]byte(body), []byte(trackerSVG)) {
		t.Errorf("image after consent: changed: %s", firstDiff(body, trackerSVG))
	}
}

// An XML document with an XHTML root (browsers render it as XHTML), a feed
// styled by an XSL style sheet, and the style sheet, whose literal result
// elements become the page a browser shows.
const (
	xhtmlAsXML = `<?xml version="1.0"?>
<html xmlns="http://www.w3.org/1999/xhtml"><head><script src="https://www.googletagmanager.com/gtag/js?id=G-XML1"/></head>
<body><img src="https://www.facebook.com/tr?id=1&amp;ev=PageView" alt=""/></body></html>
`
	styledFeed = `<?xml version="1.0"?>
<?xml-stylesheet type="text/xsl" href="/feed.xsl"?>
<rss version="2.0"><channel><title>News</title><link>https://shop.example/</link>
<item><title>Sale</title><description>&lt;img src="https://www.facebook.com/tr?id=9"&gt;</description></item></channel></rss>
`
	feedXSL = `<?xml version="1.0"?>
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform" xmlns="http://www.w3.org/1999/xhtml">
<xsl:template match="/"><html><head>
<link rel="stylesheet" href="https://fonts.googleapis.com/css2?family=Roboto"/>
<script src="https://www.googletagmanager.com/gtag/js?id=G-XSL1"></script>
</head><body><xsl:value-of select="rss/channel/title"/>
<img src="https://www.facebook.com/tr?id=2&amp;ev=PageView" alt=""/></body></html></xsl:template>
</xsl:stylesheet>
`
)

// TestXMLDocumentsAreRewritten: browsers show XML as a document. One with
// an XHTML root loads its scripts and images as a page does, and an XSL
// style sheet's output loads what its literal elements name, so both are
// neutralised until consent (well-formed, no banner, marked per visitor),
// whether labelled text/xml, application/xml, text/xsl or not at all. A
// feed's escaped markup is text and stays as it is. What fetch() reads
// passes byte for byte.
func TestXMLDocumentsAreRewritten(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{"page.xml": xhtmlAsXML, "feed.xml": styledFeed, "feed.xsl": feedXSL} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// An upstream that labels nothing: browsers sniff "<?xml" as XML.
	mux := http.NewServeMux()
	mux.HandleFunc("/untyped", func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Content-Type"] = nil
		w.Write([]byte(xhtmlAsXML))
	})
	up, port := serveMux(t, mux), freePort(t)
	startCaddy(t, fmt.Sprintf(":%d {\n\tconsent\n\treverse_proxy /untyped 127.0.0.1:%d\n"+
		"\theader /page.xml Content-Type application/xml\n\theader /feed.xml Content-Type \"text/xml; charset=utf-8\"\n"+
		"\theader /feed.xsl Content-Type text/xsl\n\troot * %s\n\tfile_server\n}", port, up, dir))
	base := baseURL(port)
	c := newClient(t)
	for _, tc := range []struct {
		url, dest, original string
		inert               []string
	}{
		{base + "/page.xml", "document", xhtmlAsXML, []string{`data-consent-src="https://www.googletagmanager.com/`, `data-consent-src="https://www.facebook.com/tr?id=1`}},
		{base + "/untyped", "iframe", xhtmlAsXML, []string{`data-consent-src="https://www.googletagmanager.com/`}},
		{base + "/feed.xsl", "xslt", feedXSL, []string{`data-consent-href="https://fonts.googleapis.com/`, `data-consent-src="https://www.googletagmanager.com/`, `data-consent-src="https://www.facebook.com/tr?id=2`}},
	} {
		path := tc.url[strings.LastIndex(tc.url, "/"):]
		resp, body := get(t, c, tc.url, with(asPage, "Sec-Fetch-Dest", tc.dest)...)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d", path, resp.StatusCode)
		}
		if err := xmlcheck.WellFormed(body); err != nil {
			t.Errorf("%s: not well-formed XML: %v\n%s", path, err, body)
		}
		if live := liveHosts(body); len(live) > 0 {
			t.Errorf("%s: trackers live before consent: %v\n%s", path, live, body)
		}
		for _, want := range tc.inert {
			if !strings.Contains(body, want) {
				t.Errorf("%s: no %s in\n%s", path, want, body)
			}
		}
		if strings.Contains(body, "/.consent/") {
			t.Errorf("%s: an XML document got the banner:\n%s", path, body)
		}
		if vary := strings.Join(resp.Header.Values("Vary"), ","); !strings.Contains(vary, "Cookie") || !strings.Contains(vary, "Sec-Fetch-Dest") {
			t.Errorf("%s: Vary %q, want Cookie and Sec-Fetch-Dest", path, vary)
		}
		if _, body := get(t, c, tc.url, asFetch...); body != tc.original {
			t.Errorf("%s read by fetch(): changed: %s", path, firstDiff(body, tc.original))
		}
	}
	if _, body := get(t, c, base+"/feed.xml", asPage...); body != styledFeed {
		t.Errorf("the feed (its style sheet is the site's own, its markup escaped text) changed: %s", firstDiff(body, styledFeed))
	}

	postChoice(t, c, base, `{"all":true}`)
	if _, body := get(t, c, base+"/feed.xsl", with(asPage, "Sec-Fetch-Dest", "xslt")...); body != feedXSL {
		t.Errorf("the style sheet after consent: changed: %s", firstDiff(body, feedXSL))
	}
}
