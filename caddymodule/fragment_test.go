package caddymodule_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/consentgate/consentgate/caddymodule/gatewaytest"
)

// TestFetchedHTMLGetsNoBanner: HTML that a script fetches goes into a page
// that already has the banner (an htmx swap, jQuery's load()), or is data
// that its server labels as HTML (PHP's default type on a JSON answer).
// Its trackers still wait for consent, but nothing is added to it: a JSON
// answer stays the same bytes, and a fragment does not bring a second shim,
// banner and form into the page. Navigations, script requests for a whole
// page (Turbo Drive, htmx's boosted links) and a whole page that a plain
// fetch() reads (a service worker caching its app shell) keep the banner.
// A fragment's form of a URL (htmx, jQuery) has its own ETag and Vary, and
// a plain fetch()'s its own ETag, so a browser revalidating one form never
// gets another confirmed. On plain HTTP, where no Sec-Fetch-Dest is sent,
// an Accept without text/html tells a script from a navigation.
func TestFetchedHTMLGetsNoBanner(t *testing.T) {
	const fragment = `<tr><td>Order 42</td><td><img src="https://www.facebook.com/tr?id=1&ev=Purchase"></td></tr>`
	const data = `{"items":[1,2],"note":"<b>bold</b>"}`
	const shell = "<!-- app shell -->\n<!DOCTYPE html><html><head><title>App</title></head><body><div id=app></div></body></html>"
	up := serveUpstream(t, map[string]http.HandlerFunc{
		"/rows": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("Etag", `"rows1"`)
			if r.Header.Get("If-None-Match") == `"rows1"` {
				w.WriteHeader(http.StatusNotModified)
				return
			}
			io.WriteString(w, fragment)
		},
		"/api.php": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=UTF-8")
			io.WriteString(w, data)
		},
		"/app": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, shell)
		},
	})
	port := freePort(t)
	startCaddy(t, fmt.Sprintf(":%d {\n\tconsent\n\treverse_proxy 127.0.0.1:%d\n}", port, up))
	base := baseURL(port)
	c := newClient(t)
	fetchAs := func(path string, headers ...string) (*http.Response, string) {
		t.Helper()
		return get(t, c, base+path, headers...)
	}
	banner := func(body string) bool {
		return gatewaytest.EarlyPattern.MatchString(body) || hookPattern.MatchString(body) || strings.Contains(body, "<form")
	}

	scripts := map[string][]string{
		"fetch()":                  {"Sec-Fetch-Dest", "empty", "Sec-Fetch-Mode", "cors", "Accept", "*/*"},
		"axios":                    {"Sec-Fetch-Dest", "empty", "Accept", "application/json, text/plain, */*"},
		"htmx over https":          {"Sec-Fetch-Dest", "empty", "HX-Request", "true", "Accept", "*/*"},
		"htmx over http":           {"HX-Request", "true", "Accept", "*/*"},
		"jQuery load() over http":  {"X-Requested-With", "XMLHttpRequest", "Accept", "text/html, */*; q=0.01"},
		"jQuery load() over https": {"Sec-Fetch-Dest", "empty", "X-Requested-With", "XMLHttpRequest", "Accept", "text/html, */*; q=0.01"},
		"fetch() over http":        {"Accept", "*/*"},
		"axios over http":          {"Accept", "application/json, text/plain, */*"},
	}
	for name, headers := range scripts {
		resp, body := fetchAs("/api.php", headers...)
		if body != data {
			t.Errorf("%s: JSON labelled as HTML changed: %q", name, body)
		}
		resp, body = fetchAs("/rows", headers...)
		if resp.StatusCode != 200 || banner(body) {
			t.Errorf("%s: a fetched fragment got the banner's markup (%d):\n%s", name, resp.StatusCode, body)
		}
		if live := liveTrackers([]byte(body)); len(live) > 0 || !strings.Contains(body, "<td>Order 42</td>") {
			t.Errorf("%s: the fragment's tracker is live, or the fragment lost its text: %v\n%s", name, live, body)
		}
	}

	pages := map[string][]string{
		"navigation":        {"Sec-Fetch-Dest", "document", "Sec-Fetch-Mode", "navigate", "Accept", "text/html,application/xhtml+xml,*/*;q=0.8"},
		"plain http":        {"Accept", "text/html,application/xhtml+xml,*/*;q=0.8"},
		"Turbo Drive":       {"Sec-Fetch-Dest", "empty", "Accept", "text/vnd.turbo-stream.html, text/html, application/xhtml+xml"},
		"htmx boosted link": {"Sec-Fetch-Dest", "empty", "HX-Request", "true", "HX-Boosted", "true", "Accept", "*/*"},
	}
	for name, headers := range pages {
		_, body := fetchAs("/app", headers...)
		if !banner(body) {
			t.Errorf("%s: a whole page's request got no banner:\n%s", name, body)
		}
	}
	if _, body := fetchAs("/rows", pages["navigation"]...); !banner(body) {
		t.Errorf("a navigation to the fragment's URL got no banner:\n%s", body)
	}
	for _, name := range []string{"fetch()", "axios", "fetch() over http", "axios over http"} { // a whole page a script reads: a service worker's app shell
		if _, body := fetchAs("/app", scripts[name]...); !banner(body) {
			t.Errorf("%s of a whole page: no banner:\n%s", name, body)
		}
	}

	// Revalidation: each form confirms only itself.
	nav, fetched, plain := pages["navigation"], scripts["htmx over https"], scripts["fetch()"]
	navResp, _ := fetchAs("/rows", nav...)
	fetchResp, _ := fetchAs("/rows", fetched...)
	plainResp, _ := fetchAs("/rows", plain...)
	navTag, fetchTag, plainTag := navResp.Header.Get("Etag"), fetchResp.Header.Get("Etag"), plainResp.Header.Get("Etag")
	if navTag == "" || fetchTag == "" || plainTag == "" || navTag == fetchTag || navTag == plainTag || fetchTag == plainTag {
		t.Fatalf("ETags: navigation %q, fragment %q, fetch() %q: want three different ones", navTag, fetchTag, plainTag)
	}
	for _, resp := range []*http.Response{navResp, fetchResp} {
		if vary := strings.Join(resp.Header.Values("Vary"), ","); !strings.Contains(vary, "HX-Request") || !strings.Contains(vary, "X-Requested-With") {
			t.Errorf("Vary %q: a cache would not tell the fragment from the page", vary)
		}
	}
	for _, c := range []struct {
		name    string
		headers []string
		tag     string
		want    int
	}{
		{"the page's own tag", nav, navTag, http.StatusNotModified},
		{"the fragment's own tag", fetched, fetchTag, http.StatusNotModified},
		{"the fragment's tag on a navigation", nav, fetchTag, http.StatusOK},
		{"the page's tag on a fragment's request", fetched, navTag, http.StatusOK},
		{"fetch()'s own tag", plain, plainTag, http.StatusNotModified},
		{"fetch()'s tag on a navigation", nav, plainTag, http.StatusOK},
		{"the page's tag on a fetch()", plain, navTag, http.StatusOK},
	} {
		resp, body := fetchAs("/rows", append(append([]string{}, c.headers...), "If-None-Match", c.tag)...)
		if resp.StatusCode != c.want {
			t.Errorf("%s: %d, want %d\n%s", c.name, resp.StatusCode, c.want, body)
		}
	}
}
