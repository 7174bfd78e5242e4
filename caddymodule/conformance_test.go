package caddymodule_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/consentgate/consentgate/caddymodule"
)

func provisioned(t testing.TB, h *caddymodule.Handler) *caddymodule.Handler {
	t.Helper()
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	t.Cleanup(cancel)
	if err := h.Provision(ctx); err != nil {
		t.Fatalf("provision: %v", err)
	}
	t.Cleanup(func() { h.Cleanup() })
	return h
}

const gaPage = `<html><head><script async src="https://www.googletagmanager.com/gtag/js?id=G-X1"></script></head><body>hi</body></html>`

// TestWriterConformance: what must pass through untouched does, byte for
// byte and unbuffered; what must be rewritten is.
func TestWriterConformance(t *testing.T) {
	h := provisioned(t, &caddymodule.Handler{})
	cases := []struct {
		name     string
		method   string
		reqHdr   map[string]string
		next     func(w http.ResponseWriter, r *http.Request) error
		rewrite  bool   // body must differ from what next wrote
		wantCode int    // status the client sees
		wantLen  string // Content-Length the client sees ("" = none)
	}{
		{name: "html GET is rewritten", method: "GET", rewrite: true, wantCode: 200,
			next: html(200, gaPage)},
		{name: "HEAD untouched", method: "HEAD", wantCode: 200, wantLen: "126",
			next: func(w http.ResponseWriter, r *http.Request) error {
				w.Header().Set("Content-Type", "text/html")
				w.Header().Set("Content-Length", "126")
				w.WriteHeader(200)
				return nil
			}},
		// A browser shows the answer to a form it posted, and an error page,
		// as pages: their trackers wait as a page's do.
		{name: "POST response is rewritten", method: "POST", rewrite: true, wantCode: 200, next: html(200, gaPage)},
		{name: "PUT response untouched", method: "PUT", wantCode: 200, next: html(200, gaPage)},
		{name: "204 untouched", method: "GET", wantCode: 204,
			next: func(w http.ResponseWriter, r *http.Request) error { w.WriteHeader(204); return nil }},
		// A page's part would pass unrewritten: a page is asked for whole.
		{name: "a page asked for in part is rewritten whole", method: "GET", rewrite: true, wantCode: 200, reqHdr: map[string]string{"Range": "bytes=0-9"},
			next: func(w http.ResponseWriter, r *http.Request) error {
				http.ServeContent(w, r, "p.html", time.Time{}, strings.NewReader(gaPage))
				return nil
			}},
		{name: "206 to a media request untouched", method: "GET", wantCode: 206, wantLen: "10", reqHdr: map[string]string{"Range": "bytes=0-9", "Accept": "video/*"},
			next: func(w http.ResponseWriter, r *http.Request) error {
				http.ServeContent(w, r, "p.html", time.Time{}, strings.NewReader(gaPage))
				return nil
			}},
		{name: "ServeContent is rewritten", method: "GET", rewrite: true, wantCode: 200,
			next: func(w http.ResponseWriter, r *http.Request) error {
				http.ServeContent(w, r, "p.html", time.Time{}, strings.NewReader(gaPage))
				return nil
			}},
		{name: "404 html is rewritten", method: "GET", rewrite: true, wantCode: 404, next: html(404, gaPage)},
		{name: "500 html is rewritten", method: "GET", rewrite: true, wantCode: 500, next: html(500, gaPage)},
		// Labelled, it is not sniffed: the label says it is a page.
		{name: "404 html with nosniff is rewritten", method: "GET", rewrite: true, wantCode: 404,
			next: func(w http.ResponseWriter, r *http.Request) error {
				w.Header().Set("X-Content-Type-Options", "nosniff")
				return html(404, gaPage)(w, r)
			}},
		{name: "302 html untouched", method: "GET", wantCode: 302, next: html(302, gaPage)},
		{name: "json untouched", method: "GET", wantCode: 200, wantLen: "2",
			next: func(w http.ResponseWriter, r *http.Request) error {
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("Content-Length", "2")
				_, err := w.Write([]byte("{}"))
				return err
			}},
		{name: "image request gets html untouched", method: "GET", wantCode: 200,
			reqHdr: map[string]string{"Accept": "image/avif,image/webp"}, next: html(200, gaPage)},
		{name: "unknown encoding untouched", method: "GET", wantCode: 200,
			next: func(w http.ResponseWriter, r *http.Request) error {
				w.Header().Set("Content-Type", "text/html")
				w.Header().Set("Content-Encoding", "compress")
				_, err := w.Write([]byte(gaPage))
				return err
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, "http://shop.test/p.html", nil)
			req.Header.Set("Accept", "text/html")
			for k, v := range tc.reqHdr {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			var wrote strings.Builder
			next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
				return tc.next(teeWriter{w, &wrote}, r)
			})
			if err := h.ServeHTTP(rec, req, next); err != nil {
				t.Fatal(err)
			}
			if rec.Code != tc.wantCode {
				t.Errorf("status %d, want %d", rec.Code, tc.wantCode)
			}
			got := rec.Body.String()
			if tc.rewrite {
				if got == wrote.String() || !strings.Contains(got, `type="text/plain"`) || !strings.Contains(got, "consentgate-config") {
					t.Errorf("not rewritten: %q", got)
				}
				if rec.Header().Get("Content-Length") != "" && rec.Header().Get("Content-Length") != itoa(len(got)) {
					t.Errorf("Content-Length %s for %d bytes", rec.Header().Get("Content-Length"), len(got))
				}
				return
			}
			if got != wrote.String() {
				t.Errorf("body changed:\n got %q\nwant %q", got, wrote.String())
			}
			if cl := rec.Header().Get("Content-Length"); cl != tc.wantLen {
				t.Errorf("Content-Length %q, want %q", cl, tc.wantLen)
			}
		})
	}
}

// TestWriterFlushesPassThrough: server-sent events reach the client as they
// are flushed, not when the handler returns.
func TestWriterFlushesPassThrough(t *testing.T) {
	h := provisioned(t, &caddymodule.Handler{})
	req := httptest.NewRequest("GET", "http://shop.test/events", nil)
	req.Header.Set("Accept", "text/event-stream")
	rec := httptest.NewRecorder()
	err := h.ServeHTTP(rec, req, caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(200)
		w.Write([]byte("data: 1\n\n"))
		if err := http.NewResponseController(w).Flush(); err != nil {
			return err
		}
		if !rec.Flushed || rec.Body.String() != "data: 1\n\n" {
			t.Errorf("event not flushed through: flushed=%v body=%q", rec.Flushed, rec.Body.String())
		}
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
}

// TestWriterUpgradeNotWrapped: a WebSocket upgrade gets a writer that
// unwraps to the connection's own, so it can be hijacked (as
// reverse_proxy does, through http.ResponseController), and its answer's
// status and body go through as they are.
func TestWriterUpgradeNotWrapped(t *testing.T) {
	h := provisioned(t, &caddymodule.Handler{})
	req := httptest.NewRequest("GET", "http://shop.test/ws", nil)
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Connection", "Upgrade")
	rec := httptest.NewRecorder()
	_ = h.ServeHTTP(rec, req, caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		if u, ok := w.(interface{ Unwrap() http.ResponseWriter }); w != http.ResponseWriter(rec) && (!ok || u.Unwrap() != http.ResponseWriter(rec)) {
			t.Errorf("upgrade request got a writer %T that does not unwrap to the connection's", w)
		}
		w.WriteHeader(http.StatusSwitchingProtocols)
		return nil
	}))
	if rec.Code != http.StatusSwitchingProtocols {
		t.Errorf("status %d", rec.Code)
	}
}

// TestWriterErrorDropsHeldBody: when next fails after writing part of a
// page, nothing held back is sent, so Caddy's error handling can answer.
func TestWriterErrorDropsHeldBody(t *testing.T) {
	h := provisioned(t, &caddymodule.Handler{})
	req := httptest.NewRequest("GET", "http://shop.test/p.html", nil)
	rec := httptest.NewRecorder()
	boom := errors.New("upstream went away")
	err := h.ServeHTTP(rec, req, caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte("<html><head><title>half"))
		return boom
	}))
	if !errors.Is(err, boom) {
		t.Fatalf("error %v, want %v", err, boom)
	}
	if rec.Body.Len() != 0 {
		t.Errorf("held body was sent: %q", rec.Body.String())
	}
}

// TestWriterNotModifiedKeepsConsentETag: a conditional request with the
// consent-marked ETag reaches upstream unmarked, and the 304 comes back marked.
func TestWriterNotModifiedKeepsConsentETag(t *testing.T) {
	h := provisioned(t, &caddymodule.Handler{})
	first := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "http://shop.test/p.html", nil)
	etagged := func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Etag", `"abc"`)
		if r.Header.Get("If-None-Match") == `"abc"` {
			w.WriteHeader(http.StatusNotModified)
			return nil
		}
		w.Header().Set("Content-Type", "text/html")
		_, err := w.Write([]byte(gaPage))
		return err
	}
	if err := h.ServeHTTP(first, req, caddyhttp.HandlerFunc(etagged)); err != nil {
		t.Fatal(err)
	}
	tag := first.Header().Get("Etag")
	if tag == `"abc"` || !strings.HasPrefix(tag, `"abc-cg`) {
		t.Fatalf("rewritten page ETag %q", tag)
	}
	second := httptest.NewRecorder()
	req = httptest.NewRequest("GET", "http://shop.test/p.html", nil)
	req.Header.Set("If-None-Match", tag)
	if err := h.ServeHTTP(second, req, caddyhttp.HandlerFunc(etagged)); err != nil {
		t.Fatal(err)
	}
	if second.Code != http.StatusNotModified || second.Header().Get("Etag") != tag {
		t.Errorf("revalidation: %d with ETag %q, want 304 with %q", second.Code, second.Header().Get("Etag"), tag)
	}
}

func html(status int, body string) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(status)
		_, err := w.Write([]byte(body))
		return err
	}
}

// teeWriter records what next wrote, to compare with what the client got.
type teeWriter struct {
	http.ResponseWriter
	copy *strings.Builder
}

func (t teeWriter) Write(p []byte) (int, error) {
	t.copy.Write(p)
	return t.ResponseWriter.Write(p)
}

// ReadFrom keeps http.ServeContent on the wrapped writer's ReadFrom path.
func (t teeWriter) ReadFrom(r io.Reader) (int64, error) {
	return t.ResponseWriter.(io.ReaderFrom).ReadFrom(io.TeeReader(r, t.copy))
}

func (t teeWriter) Unwrap() http.ResponseWriter { return t.ResponseWriter }

func itoa(n int) string { return strconv.Itoa(n) }

// TestErrorPagesAndFormAnswersWait: a site's 404 page (from handle_errors,
// where consent is given again: the error routes do not pass the site's
// handlers) and the page a form's POST is answered with carry the site's
// template, trackers included: they are rewritten as pages are.
func TestErrorPagesAndFormAnswersWait(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{"404.html": gaPage, "index.html": "<p>home</p>"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/order", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "post a form", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(gaPage))
	})
	up, port := serveMux(t, mux), freePort(t)
	startCaddy(t, fmt.Sprintf(":%d {\n\tconsent\n\treverse_proxy /order 127.0.0.1:%d\n\troot * %s\n\tfile_server\n"+
		"\thandle_errors {\n\t\tconsent\n\t\trewrite * /404.html\n\t\tfile_server\n\t}\n}", port, up, dir))
	c := newClient(t)
	resp, body := get(t, c, baseURL(port)+"/missing", asPage...)
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(body, `data-consent-src="https://www.googletagmanager.com/`) ||
		!strings.Contains(body, "consentgate-config") {
		t.Errorf("the 404 page: %d\n%s", resp.StatusCode, body)
	}
	req, _ := http.NewRequest(http.MethodPost, baseURL(port)+"/order", strings.NewReader("item=1"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "text/html")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(got), `data-consent-src="https://www.googletagmanager.com/`) {
		t.Errorf("the answer to a posted form: %d\n%s", resp.StatusCode, got)
	}
}

// TestEndpointsBehindAppRewrites: a single-page app sends every path to its
// index (try_files, which Caddy runs before consent whatever the order in
// the site block), an app under a path has it stripped (handle_path), and
// a site puts only one path behind the gateway (handle).
// The consent endpoints are matched on the path the browser asked for, so
// they answer all the same, and the no-JavaScript form sends the visitor
// back to the page they were on.
func TestEndpointsBehindAppRewrites(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "index.html"), []byte(gaPage), 0o644); err != nil {
		t.Fatal(err)
	}
	spa, app, blog := freePort(t), freePort(t), freePort(t)
	startCaddy(t, fmt.Sprintf(":%d {\n\tconsent\n\ttry_files {path} /index.html\n\troot * %s\n\tfile_server\n}\n"+
		":%d {\n\thandle_path /app/* {\n\t\tconsent {\n\t\t\tprefix /app/.consent/\n\t\t}\n\t\troot * %s\n\t\ttry_files {path} /index.html\n\t\tfile_server\n\t}\n}\n"+
		// Only a part of the site behind the gateway: its prefix is under
		// that part, where the other handle does not take the endpoints.
		":%d {\n\thandle /blog/* {\n\t\tconsent {\n\t\t\tprefix /blog/.consent/\n\t\t}\n\t\troot * %s\n\t\ttry_files {path} /index.html\n\t\tfile_server\n\t}\n\thandle {\n\t\trespond \"the rest of the site\" 501\n\t}\n}", spa, dir, app, dir, blog, dir))
	for _, site := range []struct{ base, prefix, page string }{
		{baseURL(spa), "/.consent/", "/shop/item?id=7"},
		{baseURL(app), "/app/.consent/", "/app/shop/item?id=7"},
		{baseURL(blog), "/blog/.consent/", "/blog/item?id=7"},
	} {
		c := newClient(t)
		resp, page := get(t, c, site.base+site.page, asPage...)
		if resp.StatusCode != 200 || !strings.Contains(page, `data-consent-src="https://www.googletagmanager.com/`) {
			t.Fatalf("%s: the app's page: %d\n%s", site.page, resp.StatusCode, page)
		}
		if want := `name="return" value="` + strings.ReplaceAll(site.page, "&", "&amp;") + `"`; !strings.Contains(page, want) {
			t.Errorf("%s: the form does not send the visitor back (%s):\n%s", site.page, want, page)
		}
		shim := regexp.MustCompile(`src="(` + regexp.QuoteMeta(site.prefix) + `shim\.[0-9a-f]+\.js)"`).FindStringSubmatch(page)
		if shim == nil {
			t.Fatalf("%s: no shim under %s:\n%s", site.page, site.prefix, page)
		}
		if resp, body := get(t, c, site.base+shim[1]); resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript") || strings.Contains(body, "<html") {
			t.Errorf("%s: the shim: %d %q", shim[1], resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if resp, body := get(t, c, site.base+site.prefix+"state"); resp.StatusCode != 200 || !strings.HasPrefix(body, "{") {
			t.Errorf("%sstate: %d %s", site.prefix, resp.StatusCode, body)
		}
		req, _ := http.NewRequest(http.MethodPost, site.base+site.prefix+"choice", strings.NewReader(`{"all":true}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || len(resp.Cookies()) == 0 {
			t.Errorf("%schoice: %d, cookies %v", site.prefix, resp.StatusCode, resp.Cookies())
		}
	}
}
