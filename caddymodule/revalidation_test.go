package caddymodule_test

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/consentgate/consentgate/caddymodule/gatewaytest"
)

// revalidationSite writes a page, an image, a script (also gzipped, as
// file_server's precompressed option serves it) and a first-party sheet,
// and runs the same files twice: plainly (the site as it was before the
// gateway) and behind `consent`, each answer marked cacheable for an hour
// as many sites mark them.
func revalidationSite(t *testing.T) (plain, gated string) {
	t.Helper()
	dir := t.TempDir()
	var js bytes.Buffer
	zw := encoder("gzip", &js)
	zw.Write([]byte("console.log('first party');\n"))
	zw.Close()
	for name, body := range map[string][]byte{
		"index.html": []byte(`<!doctype html><html><head><title>t</title>` +
			`<script async src="https://www.googletagmanager.com/gtag/js?id=G-X1"></script></head><body>hi</body></html>`),
		"logo.png":  []byte("\x89PNG\r\n\x1a\nnot really an image"),
		"app.js":    []byte("console.log('first party');\n"),
		"app.js.gz": js.Bytes(),
		"site.css":  []byte("body{color:#333}\n"),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p1, p2 := freePort(t), freePort(t)
	site := fmt.Sprintf("\theader Cache-Control max-age=3600\n\troot * %s\n\tfile_server {\n\t\tprecompressed gzip\n\t}\n", dir)
	startCaddy(t, fmt.Sprintf(":%d {\n%s}\n:%d {\n\tconsent\n%s}", p1, site, p2, site))
	return baseURL(p1), baseURL(p2)
}

// Request headers as Chromium sends them for each kind of fetch (its
// Accept values), with and without Sec-Fetch-Dest (sent only to secure
// origins).
var (
	asImage  = []string{"Accept", "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8", "Sec-Fetch-Dest", "image"}
	asScript = []string{"Accept", "*/*", "Sec-Fetch-Dest", "script", "Accept-Encoding", "gzip"}
	asFetch  = []string{"Accept", "*/*", "Sec-Fetch-Dest", "empty"}
	asSheet  = []string{"Accept", "text/css,*/*;q=0.1", "Sec-Fetch-Dest", "style"}
	asPage   = []string{"Accept", "text/html,application/xhtml+xml,*/*;q=0.8", "Sec-Fetch-Dest", "document"}
)

// nonPages are requests for what a browser never shows as a page: an
// image (with and without Sec-Fetch-Dest) and a fetch().
var nonPages = []struct {
	name    string
	headers []string
}{
	{"image", asImage},
	{"image, no Sec-Fetch-Dest", asImage[:2]},
	{"fetch()", asFetch},
}

func with(h []string, more ...string) []string { return append(append([]string(nil), h...), more...) }

// TestSubresourcesKeepTheSitesCaching: the gateway marks as per-visitor
// only what it rewrites. An image's or a script's revalidation comes back
// exactly as the site sent it: same ETag, same Cache-Control, no Vary on
// the cookie, and a script is fetched compressed from upstream. Before,
// every 304 to a request accepting */* was marked as a page's, so an image
// revalidated once was then asked for again on every page view.
func TestSubresourcesKeepTheSitesCaching(t *testing.T) {
	_, base := revalidationSite(t)
	c := newClient(t)
	for _, tc := range nonPages {
		resp, _ := get(t, c, base+"/logo.png", tc.headers...)
		tag := resp.Header.Get("Etag")
		if resp.StatusCode != 200 || tag == "" || strings.Contains(tag, "-cg") {
			t.Fatalf("%s: %d with ETag %q, want 200 with the site's own ETag", tc.name, resp.StatusCode, tag)
		}
		resp, _ = get(t, c, base+"/logo.png", with(tc.headers, "If-None-Match", tag)...)
		if resp.StatusCode != http.StatusNotModified {
			t.Fatalf("%s: revalidation %d, want 304", tc.name, resp.StatusCode)
		}
		if got := resp.Header.Get("Etag"); got != tag {
			t.Errorf("%s: the 304 says ETag %q, the image was cached as %q", tc.name, got, tag)
		}
		if cc := resp.Header.Get("Cache-Control"); cc != "max-age=3600" {
			t.Errorf("%s: the 304 says Cache-Control %q, the site says max-age=3600", tc.name, cc)
		}
		if v := resp.Header.Values("Vary"); strings.Contains(strings.Join(v, ","), "Cookie") {
			t.Errorf("%s: the 304 varies on %q", tc.name, v)
		}
	}
	resp, body := get(t, c, base+"/app.js", asScript...)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != "gzip" {
		t.Errorf("script with Accept-Encoding gzip: %d, Content-Encoding %q (%d bytes): the upstream's compressed copy should pass",
			resp.StatusCode, resp.Header.Get("Content-Encoding"), len(body))
	}
}

// TestSheetRevalidationKeepsItsCaching: a first-party sheet is rewritten
// per visitor (its ETag marked, Vary: Cookie) but keeps the site's caching;
// its 304 says the same, without the no-cache a page gets.
func TestSheetRevalidationKeepsItsCaching(t *testing.T) {
	_, base := revalidationSite(t)
	c := newClient(t)
	resp, _ := get(t, c, base+"/site.css", asSheet...)
	tag := resp.Header.Get("Etag")
	if resp.StatusCode != 200 || !strings.Contains(tag, "-cg") || resp.Header.Get("Cache-Control") != "max-age=3600" {
		t.Fatalf("sheet: %d, ETag %q, Cache-Control %q", resp.StatusCode, tag, resp.Header.Get("Cache-Control"))
	}
	resp, _ = get(t, c, base+"/site.css", with(asSheet, "If-None-Match", tag)...)
	if resp.StatusCode != http.StatusNotModified || resp.Header.Get("Etag") != tag {
		t.Fatalf("sheet revalidation: %d with ETag %q, want 304 with %q", resp.StatusCode, resp.Header.Get("Etag"), tag)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "max-age=3600" {
		t.Errorf("the sheet's 304 says Cache-Control %q, its 200 said max-age=3600", cc)
	}
	if v := strings.Join(resp.Header.Values("Vary"), ","); !strings.Contains(v, "Cookie") {
		t.Errorf("the sheet's 304 has Vary %q, its 200 varied on Cookie", v)
	}
}

// TestPageCachedBeforeTheGatewayIsSentAgain: a visitor whose browser kept
// a page from before consentgate stood in front of the site (unrewritten,
// trackers live) revalidates it with the site's own ETag. That must not
// get a 304, which would show the old copy again, but the page rewritten.
// The gateway's own tag still gets its 304.
func TestPageCachedBeforeTheGatewayIsSentAgain(t *testing.T) {
	plain, base := revalidationSite(t)
	c := newClient(t)
	resp, _ := get(t, c, plain+"/", asPage...)
	before := resp.Header.Get("Etag")
	if before == "" {
		t.Fatal("the plain site sent no ETag")
	}
	for _, tc := range []struct {
		name    string
		headers []string
	}{
		{"navigation", asPage},
		{"navigation, no Sec-Fetch-Dest", asPage[:2]},
		{"frame", []string{"Accept", asPage[1], "Sec-Fetch-Dest", "iframe"}},
	} {
		resp, body := get(t, c, base+"/", with(tc.headers, "If-None-Match", before)...)
		if resp.StatusCode != 200 || !gatewaytest.HookPattern.MatchString(body) || strings.Contains(body, `<script async src="https://www.googletagmanager.com`) {
			t.Errorf("%s with the ETag cached before the gateway: %d, want the page rewritten\n%s", tc.name, resp.StatusCode, body)
			continue
		}
		ours := resp.Header.Get("Etag")
		resp, _ = get(t, c, base+"/", with(tc.headers, "If-None-Match", ours)...)
		if resp.StatusCode != http.StatusNotModified || resp.Header.Get("Etag") != ours || !strings.Contains(resp.Header.Get("Cache-Control"), "no-cache") {
			t.Errorf("%s with the gateway's ETag: %d, ETag %q, Cache-Control %q; want 304 marked as its page",
				tc.name, resp.StatusCode, resp.Header.Get("Etag"), resp.Header.Get("Cache-Control"))
		}
	}
	// An image, whatever its tag, is never a page: its 304 stands.
	resp, _ = get(t, c, plain+"/logo.png", asImage...)
	if resp, _ := get(t, c, base+"/logo.png", with(asImage, "If-None-Match", resp.Header.Get("Etag"))...); resp.StatusCode != http.StatusNotModified {
		t.Errorf("image revalidated with the site's ETag: %d, want 304", resp.StatusCode)
	}
}

// TestConfigChangeRenewsETags: a page's ETag names the configuration that
// rewrote it. After a reload that adds a vendor, a browser's copy from
// before (its tracker live) is not confirmed with a 304 but replaced with
// the page as it now is; while the configuration stays, it is confirmed.
func TestConfigChangeRenewsETags(t *testing.T) {
	dir := t.TempDir()
	page := `<!doctype html><html><head><title>t</title><script src="https://cdn.newtracker.example/t.js"></script></head><body>hi</body></html>`
	if err := os.WriteFile(filepath.Join(dir, "index.html"), []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	config := func(vendor string) string {
		return fmt.Sprintf(":%d {\n\tconsent {\n%s\t}\n\troot * %s\n\tfile_server\n}", port, vendor, dir)
	}
	startCaddy(t, config(""))
	c := newClient(t)
	resp, body := get(t, c, baseURL(port)+"/", asPage...)
	tag := resp.Header.Get("Etag")
	if !strings.Contains(body, `<script src="https://cdn.newtracker.example/t.js">`) || !strings.Contains(tag, "-cg") {
		t.Fatalf("before the vendor is known: ETag %q, page\n%s", tag, body)
	}
	if resp, _ := get(t, c, baseURL(port)+"/", with(asPage, "If-None-Match", tag)...); resp.StatusCode != http.StatusNotModified {
		t.Errorf("the same configuration answered its own tag with %d, want 304", resp.StatusCode)
	}

	startCaddy(t, config("\t\tvendor newtracker {\n\t\t\tname \"New Tracker\"\n\t\t\tpurpose analytics\n\t\t\tmatch script cdn.newtracker.example\n\t\t}\n"))
	resp, body = get(t, c, baseURL(port)+"/", with(asPage, "If-None-Match", tag)...)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `data-consent-src="https://cdn.newtracker.example/t.js"`) {
		t.Errorf("after the vendor was added, the old tag got %d, want 200 with the tracker held:\n%s", resp.StatusCode, body)
	}
	if got := resp.Header.Get("Etag"); got == tag {
		t.Errorf("the ETag %q did not change with the configuration", got)
	}
}
