package caddymodule_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// pageModified is when the test's page last changed.
var pageModified = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

// TestUnrewrittenPagesStayOutOfCaches: a page the gateway passes as it is,
// because the request asked for something else (an image, JSON, another
// protocol), must not be stored: a shared cache in front of the gateway, or
// the browser's own, would give it with its trackers live to the next
// visitor who navigates to the URL. A Range request gets the whole page,
// rewritten, not a part of it as the site made it. An image keeps the
// caching its site gave it.
func TestUnrewrittenPagesStayOutOfCaches(t *testing.T) {
	const page = `<!doctype html><html><head><title>Shop</title>` +
		`<script async src="https://www.googletagmanager.com/gtag/js?id=G-1"></script></head><body><h1>Shop</h1></body></html>`
	up := serveUpstream(t, map[string]http.HandlerFunc{
		"/cached": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("Cache-Control", "public, max-age=600")
			http.ServeContent(w, r, "page.html", pageModified, strings.NewReader(page))
		},
		"/logo.png": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "image/png")
			w.Header().Set("Cache-Control", "public, max-age=600")
			io.WriteString(w, "\x89PNG\r\n\x1a\n")
		},
		"/clip.mp4": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "video/mp4")
			http.ServeContent(w, r, "clip.mp4", pageModified, strings.NewReader(strings.Repeat("v", 1000)))
		},
	})
	port := freePort(t)
	startCaddy(t, fmt.Sprintf(":%d {\n\tconsent\n\treverse_proxy 127.0.0.1:%d\n}", port, up))
	base := baseURL(port)
	c := newClient(t)

	for name, headers := range map[string][]string{
		"as an image":     {"Sec-Fetch-Dest", "image", "Accept", "image/avif,image/webp,*/*;q=0.8"},
		"as JSON":         {"Accept", "application/json"},
		"as a script":     {"Sec-Fetch-Dest", "script", "Accept", "*/*"},
		"with an upgrade": {"Upgrade", "foo", "Connection", "Upgrade"},
	} {
		resp, body := get(t, c, base+"/cached", headers...)
		if cc := resp.Header.Get("Cache-Control"); resp.StatusCode != 200 || cc != "no-store" {
			t.Errorf("%s: %d with Cache-Control %q, want no-store on the page passed as it is\n%s", name, resp.StatusCode, cc, body)
		}
	}
	for name, headers := range map[string][]string{
		"a navigation asking for a range": {"Accept", "text/html", "Range", "bytes=0-99"},
		"with If-Range":                   {"Accept", "text/html", "Range", "bytes=10-", "If-Range", pageModified.Format(http.TimeFormat)},
		"an Upgrade without Connection":   {"Accept", "text/html", "Upgrade", "foo"},
	} {
		resp, body := get(t, c, base+"/cached", headers...)
		if live := liveTrackers([]byte(body)); resp.StatusCode != 200 || len(live) > 0 || !strings.Contains(body, "<h1>Shop</h1>") {
			t.Errorf("%s: %d, trackers live %v, want the whole page rewritten\n%s", name, resp.StatusCode, live, body)
		}
	}
	resp, _ := get(t, c, base+"/logo.png", "Sec-Fetch-Dest", "image", "Accept", "image/*")
	if cc := resp.Header.Get("Cache-Control"); cc != "public, max-age=600" {
		t.Errorf("an image's Cache-Control became %q", cc)
	}
	// A video's ranges, as browsers ask for them over HTTPS and plain HTTP.
	for name, headers := range map[string][]string{
		"https": {"Sec-Fetch-Dest", "video", "Accept", "*/*", "Range", "bytes=100-199"},
		"http":  {"Accept", "*/*", "Range", "bytes=100-199"},
	} {
		if resp, body := get(t, c, base+"/clip.mp4", headers...); resp.StatusCode != http.StatusPartialContent || len(body) != 100 {
			t.Errorf("a video's range over %s: %d with %d bytes, want 206 with 100", name, resp.StatusCode, len(body))
		}
	}
}
