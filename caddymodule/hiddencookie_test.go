package caddymodule_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestUpstreamNeverSeesTheConsentCookie: the consent cookie reads and
// erases its visitor's proofs, so it stays with the gateway: the upstream
// (and its logs) get the visitor's other cookies as they were sent, while
// the page is still rewritten for the visitor's choice.
func TestUpstreamNeverSeesTheConsentCookie(t *testing.T) {
	up := serveCookieEcho(t)
	port := freePort(t)
	startCaddy(t, fmt.Sprintf(":%d {\n\tconsent\n\treverse_proxy 127.0.0.1:%d\n}", port, up))
	base := baseURL(port)
	c := newClient(t)
	postChoice(t, c, base, `{"all":true}`)
	var consent string
	site, _ := url.Parse(base)
	for _, ck := range c.Jar.Cookies(site) {
		if ck.Name == "consentgate" {
			consent = ck.Value
		}
	}
	if consent == "" {
		t.Fatal("the choice set no consent cookie")
	}
	plain := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	// send asks for path with each line as a Cookie header of its own.
	send := func(path string, lines ...string) string {
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		req.Header.Set("Accept", "text/html")
		for _, l := range lines {
			req.Header.Add("Cookie", l)
		}
		_, body := do(t, plain, req)
		return body
	}
	for _, tc := range []struct {
		lines []string
		want  string
	}{
		{[]string{"cart=42; consentgate=" + consent + "; theme=dark"}, `["cart=42; theme=dark"]`},
		{[]string{"consentgate=" + consent}, `[]`},
		{[]string{"consentgate=old", "cart=42;consentgate=" + consent}, `["cart=42"]`},
		{[]string{"cart=42; consentgate_extra=1"}, `["cart=42; consentgate_extra=1"]`},
	} {
		if body := send("/echo", tc.lines...); body != tc.want {
			t.Errorf("sent %q: the upstream saw %s, want %s", tc.lines, body, tc.want)
		}
	}
	if page := send("/page", "cart=42; consentgate="+consent); strings.Contains(page, consent) || !strings.Contains(page, `<script src="https://www.google-analytics.com/analytics.js">`) {
		t.Errorf("the page: the upstream saw the consent cookie, or the visitor's Accept all was not applied:\n%s", page)
	}
}

// serveCookieEcho starts an upstream that shows the Cookie lines it gets:
// as text at /echo, in the body of an HTML page that loads Google
// Analytics at /page.
func serveCookieEcho(t *testing.T) int {
	t.Helper()
	return serveUpstream(t, map[string]http.HandlerFunc{
		"/echo": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			fmt.Fprintf(w, "%q", r.Header.Values("Cookie"))
		},
		"/page": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprintf(w, `<!doctype html><html><head><script src="https://www.google-analytics.com/analytics.js"></script></head><body>%q</body></html>`,
				r.Header.Values("Cookie"))
		},
	})
}
