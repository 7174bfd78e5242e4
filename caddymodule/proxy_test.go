package caddymodule_test

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/zlib"
	"github.com/klauspost/compress/zstd"

	"github.com/consentgate/consentgate/caddymodule/gatewaytest"
	"github.com/consentgate/consentgate/consent/rewrite/htmlcheck"
)

// trackerPage is a shop page as sites really ship it: Tag Manager with its
// noscript frame, gtag.js, the Facebook pixel with its noscript image, a
// YouTube embed, Google Fonts and Hotjar. filler pads it beyond the
// small-page buffer so it streams.
func trackerPage(filler int) string {
	return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Shop</title>
<link rel="preconnect" href="https://fonts.gstatic.com">
<link href="https://fonts.googleapis.com/css2?family=Roboto&amp;display=swap" rel="stylesheet">
<script>(function(w,d,s,l,i){w[l]=w[l]||[];w[l].push({'gtm.start':
new Date().getTime(),event:'gtm.js'});var f=d.getElementsByTagName(s)[0],
j=d.createElement(s),dl=l!='dataLayer'?'&l='+l:'';j.async=true;j.src=
'https://www.googletagmanager.com/gtm.js?id='+i+dl;f.parentNode.insertBefore(j,f);
})(window,document,'script','dataLayer','GTM-ABC123');</script>
<script async src="https://www.googletagmanager.com/gtag/js?id=G-TEST123"></script>
<script>window.dataLayer = window.dataLayer || [];function gtag(){dataLayer.push(arguments);}gtag('js', new Date());gtag('config', 'G-TEST123');</script>
<script>!function(f,b,e,v,n,t,s){if(f.fbq)return;n=f.fbq=function(){n.callMethod?n.callMethod.apply(n,arguments):n.queue.push(arguments)};if(!f._fbq)f._fbq=n;n.push=n;n.loaded=!0;n.version='2.0';n.queue=[];t=b.createElement(e);t.async=!0;t.src=v;s=b.getElementsByTagName(e)[0];s.parentNode.insertBefore(t,s)}(window, document,'script','https://connect.facebook.net/en_US/fbevents.js');fbq('init', '1234567890');fbq('track', 'PageView');</script>
<noscript><img height="1" width="1" style="display:none" src="https://www.facebook.com/tr?id=1234567890&ev=PageView&noscript=1"/></noscript>
<script src="/static/app.js"></script>
</head>
<body>
<noscript><iframe src="https://www.googletagmanager.com/ns.html?id=GTM-ABC123" height="0" width="0" style="display:none;visibility:hidden"></iframe></noscript>
<h1>Our products</h1>
<iframe width="560" height="315" src="https://www.youtube.com/embed/dQw4w9WgXcQ" title="YouTube video player" frameborder="0" allowfullscreen></iframe>
<p>` + strings.Repeat("Fine goods, fairly priced. ", filler/27+1)[:filler] + `</p>
<img src="/img/product.svg" alt="A product">
</body></html>
`
}

// upstream serves the tracker page in several encodings, plus resources that
// must pass through untouched.
func upstream(t *testing.T) int {
	big, small := trackerPage(100<<10), trackerPage(200)
	mux := http.NewServeMux()
	page := func(body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Add("Set-Cookie", "_ga=GA1.1.42.42; Path=/; Max-Age=63072000")
			w.Header().Add("Set-Cookie", "session=abc; Path=/; HttpOnly")
			w.Header().Set("Etag", `"v1"`)
			if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
				w.Header().Set("Content-Encoding", "gzip")
				zw := gzip.NewWriter(w)
				io.WriteString(zw, body)
				zw.Close()
				return
			}
			io.WriteString(w, body)
		}
	}
	mux.HandleFunc("/page.html", page(big))
	mux.HandleFunc("/small.html", page(small))
	// Upstreams that compress whatever the request asked for.
	// (/forced/br,zstd: br, then zstd over it, as "Content-Encoding: br, zstd" says)
	mux.HandleFunc("/forced/", func(w http.ResponseWriter, r *http.Request) {
		codings := strings.Split(strings.TrimPrefix(r.URL.Path, "/forced/"), ",")
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("Content-Encoding", strings.Join(codings, ", "))
		var out io.Writer = w
		var layers []io.WriteCloser // the last applied first
		for _, c := range slices.Backward(codings) {
			zw := encoder(c, out)
			layers, out = append(layers, zw), zw
		}
		io.WriteString(out, big)
		for _, zw := range slices.Backward(layers) {
			zw.Close()
		}
	})
	// raw deflate, without the zlib wrapping RFC 9110 asks for (browsers
	// read it)
	mux.HandleFunc("/raw-deflate", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("Content-Encoding", "deflate")
		fw, _ := flate.NewWriter(w, flate.DefaultCompression)
		io.WriteString(fw, big)
		fw.Close()
	})
	// A body that begins as a valid page in its encoding and goes on with
	// bytes that do not decode, after a flush (so the gateway has started
	// the answer).
	mux.HandleFunc("/corrupt/", func(w http.ResponseWriter, r *http.Request) {
		enc := strings.TrimPrefix(r.URL.Path, "/corrupt/")
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("Content-Encoding", enc)
		var z bytes.Buffer
		zw := encoder(enc, &z)
		io.WriteString(zw, big)
		zw.Close()
		good := z.Bytes()[:z.Len()/2]
		w.Write(good)
		w.(http.Flusher).Flush()
		time.Sleep(50 * time.Millisecond)
		bad := make([]byte, 4096)
		for i := range bad {
			bad[i] = byte(i*131 + 7)
		}
		w.Write(bad)
	})
	mux.HandleFunc("/data.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", "25")
		io.WriteString(w, `{"src":"<script src=x>"} `)
	})
	return serveMux(t, mux)
}

// encoder compresses what is written to it into w with a Content-Encoding.
func encoder(enc string, w io.Writer) io.WriteCloser {
	switch enc {
	case "gzip":
		return gzip.NewWriter(w)
	case "br":
		return brotli.NewWriter(w)
	case "zstd":
		zw, _ := zstd.NewWriter(w)
		return zw
	case "deflate": // zlib, as RFC 9110 defines it
		return zlib.NewWriter(w)
	}
	panic("no encoder for " + enc)
}

var (
	hookPattern = gatewaytest.HookPattern
	withoutHook = gatewaytest.WithoutHook
)

// liveTrackers lists the catalogued trackers a page would still load for a
// visitor who granted the given purposes, judged by x/net/html's parser.
var liveTrackers = htmlcheck.BuiltinTrackers

func vendorsLive(body string) map[string]bool {
	all := liveTrackers([]byte(body)) // everything non-necessary that is live
	live := map[string]bool{}
	for _, a := range all {
		id, _, _ := strings.Cut(a, ":")
		live[id] = true
	}
	return live
}

func TestProxyRewritesForConsentState(t *testing.T) {
	up := upstream(t)
	port := freePort(t)
	startCaddy(t, fmt.Sprintf(`:%d {
	encode gzip
	consent
	reverse_proxy 127.0.0.1:%d
}`, port, up))
	base := baseURL(port)
	for _, path := range []string{"/page.html", "/small.html"} {
		t.Run(path, func(t *testing.T) {
			original := trackerPage(100 << 10)
			if path == "/small.html" {
				original = trackerPage(200)
			}
			c := newClient(t)

			// No cookie: no tracker stays live, the hook is there once, the
			// vendor's cookie is dropped and the site's own kept.
			resp, body := get(t, c, base+path)
			if resp.StatusCode != 200 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			if live := liveTrackers([]byte(body)); len(live) > 0 {
				t.Errorf("without consent these trackers stay live:\n%s", strings.Join(live, "\n"))
			}
			withoutHook(t, body)
			if !strings.Contains(resp.Header.Get("Vary"), "Cookie") {
				t.Errorf("Vary = %q, want Cookie", resp.Header.Get("Vary"))
			}
			assertCookies(t, resp, []string{"session"}, []string{"_ga"})
			if et := resp.Header.Get("Etag"); et == `"v1"` || et == "" {
				t.Errorf("ETag %q not marked with the consent state", et)
			}
			if !strings.Contains(body, `data-consent-vendor="youtube"`) {
				t.Error("YouTube frame is not a placeholder naming its vendor")
			}

			// Analytics only: Google Analytics and Tag Manager run, the
			// rest stays blocked.
			postChoice(t, c, base, `{"purposes":{"analytics":true}}`)
			resp, body = get(t, c, base+path)
			live := vendorsLive(body)
			for _, want := range []string{"google-analytics", "google-tag-manager"} {
				if !live[want] {
					t.Errorf("analytics granted but %s is not live", want)
				}
			}
			if live := liveTrackers([]byte(body), "analytics"); len(live) > 0 {
				t.Errorf("with analytics only, these stay live:\n%s", strings.Join(live, "\n"))
			}
			assertCookies(t, resp, []string{"session", "_ga"}, nil)

			// Everything granted: the page is the upstream's, plus the hook.
			postChoice(t, c, base, `{"all":true}`)
			resp, body = get(t, c, base+path)
			if got := withoutHook(t, body); got != original {
				t.Errorf("with full consent the page changed beyond the hook:\n%s", firstDiff(got, original))
			}
			if path == "/small.html" {
				if resp.ContentLength != int64(len(body)) {
					t.Errorf("small page Content-Length %d, body %d bytes", resp.ContentLength, len(body))
				}
			}

			// A client that accepts gzip gets the outer encode's gzip of the
			// same page.
			resp, zbody := get(t, c, base+path, "Accept-Encoding", "gzip")
			if resp.Header.Get("Content-Encoding") != "gzip" {
				t.Fatalf("Content-Encoding %q, want gzip from encode", resp.Header.Get("Content-Encoding"))
			}
			zr, err := gzip.NewReader(strings.NewReader(zbody))
			if err != nil {
				t.Fatal(err)
			}
			plain, _ := io.ReadAll(zr)
			if string(plain) != body {
				t.Error("gzip-encoded page differs from the identity one")
			}
		})
	}
}

// startProxy starts a gateway in front of upstream and returns its port.
func startProxy(t *testing.T) int {
	t.Helper()
	up := upstream(t)
	port := freePort(t)
	startCaddy(t, fmt.Sprintf(`:%d {
	consent
	reverse_proxy 127.0.0.1:%d
}`, port, up))
	return port
}

// TestProxyDecodesCompressedUpstream: upstreams that compress regardless of
// what they were asked still get their pages rewritten.
func TestProxyDecodesCompressedUpstream(t *testing.T) {
	port := startProxy(t)
	for _, path := range []string{"/forced/gzip", "/forced/br", "/forced/zstd", "/forced/deflate", "/raw-deflate", "/forced/gzip,br", "/forced/br,zstd,deflate"} {
		enc := path
		resp, body := get(t, newClient(t), baseURL(port)+path)
		if ce := resp.Header.Get("Content-Encoding"); ce != "" {
			t.Errorf("%s: Content-Encoding %q left on a decoded body", enc, ce)
		}
		if live := liveTrackers([]byte(body)); len(live) > 0 {
			t.Errorf("%s: trackers live without consent:\n%s", enc, strings.Join(live, "\n"))
		}
		if !strings.Contains(body, "Fine goods") || !strings.HasSuffix(body, "</html>\n") {
			t.Errorf("%s: body incomplete (%d bytes)", enc, len(body))
		}
	}
}

// TestProxyAbortsAPageThatDoesNotDecode: when an upstream's compressed
// page stops decoding after the answer has begun, the connection is cut, as
// reverse_proxy does with a broken upstream, so that no browser or cache
// keeps the part it got as the whole page.
func TestProxyAbortsAPageThatDoesNotDecode(t *testing.T) {
	port := startProxy(t)
	for _, enc := range []string{"br", "zstd", "deflate"} {
		resp, err := newClient(t).Get(baseURL(port) + "/corrupt/" + enc)
		if err != nil {
			continue // cut off before the answer: nothing to mistake for a page
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err == nil && resp.StatusCode == http.StatusOK {
			t.Errorf("%s: a page whose body stops decoding came back as a complete 200 (%d bytes); the connection must be cut", enc, len(body))
		}
	}
}

func TestProxyPassesNonHTMLUntouched(t *testing.T) {
	up := upstream(t)
	port := freePort(t)
	startCaddy(t, fmt.Sprintf(":%d {\n\tconsent\n\treverse_proxy 127.0.0.1:%d\n}", port, up))
	resp, body := get(t, newClient(t), baseURL(port)+"/data.json")
	if body != `{"src":"<script src=x>"} ` || resp.ContentLength != 25 {
		t.Errorf("JSON changed: %q (Content-Length %d)", body, resp.ContentLength)
	}
	if strings.Contains(resp.Header.Get("Vary"), "Cookie") {
		t.Error("non-HTML response got Vary: Cookie")
	}
}

func assertCookies(t *testing.T, resp *http.Response, want, dropped []string) {
	t.Helper()
	names := map[string]bool{}
	for _, c := range resp.Cookies() {
		names[c.Name] = true
	}
	for _, w := range want {
		if !names[w] {
			t.Errorf("Set-Cookie %s missing", w)
		}
	}
	for _, d := range dropped {
		if names[d] {
			t.Errorf("Set-Cookie %s passed without consent", d)
		}
	}
}

func firstDiff(a, b string) string {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		if a[i] != b[i] {
			lo := max(0, i-60)
			return fmt.Sprintf("at byte %d:\n got: %q\nwant: %q", i, a[lo:min(len(a), i+60)], b[lo:min(len(b), i+60)])
		}
	}
	return fmt.Sprintf("lengths differ: %d vs %d", len(a), len(b))
}

// TestStreamedHeadIsNotHeldBack: a server-rendering upstream that flushes
// its head at once and renders the rest later (React, Next.js, Rails
// streaming) gets that head to the browser while it renders, rewritten,
// as plain reverse_proxy would, and not only with the next part. The
// upstream holds the rest until the test has read the head through the
// gateway, so the test fails (after a bound far longer than the grace) if
// the gateway waits for the upstream's next write.
func TestStreamedHeadIsNotHeldBack(t *testing.T) {
	const head = `<!doctype html><html><head><title>Shop</title>` +
		`<script async src="https://www.googletagmanager.com/gtag/js?id=G-1"></script></head><body><h1>Loading</h1>`
	const rest = `<p>rendered</p><img src="https://www.facebook.com/tr?id=1&ev=PageView"></body></html>`
	for _, c := range []struct{ site, enc string }{
		{"consent", ""},
		{"encode gzip\n\tconsent", ""},
		// an upstream that compresses on its own and flushes its encoder
		{"consent", "br"},
		{"consent", "zstd"},
	} {
		t.Run(strings.ReplaceAll(c.site, "\n\t", ", ")+" "+c.enc, func(t *testing.T) {
			release := make(chan struct{})
			up := serveUpstream(t, map[string]http.HandlerFunc{"/ssr": func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				var body io.Writer = w
				var zw io.WriteCloser
				if c.enc != "" {
					w.Header().Set("Content-Encoding", c.enc)
					zw = encoder(c.enc, w)
					body = zw
				}
				io.WriteString(body, head)
				if zw != nil {
					zw.(interface{ Flush() error }).Flush()
				}
				w.(http.Flusher).Flush()
				select {
				case <-release:
				case <-r.Context().Done():
					return
				}
				io.WriteString(body, rest)
				if zw != nil {
					zw.Close()
				}
			}})
			port := freePort(t)
			startCaddy(t, fmt.Sprintf(":%d {\n\t%s\n\treverse_proxy 127.0.0.1:%d\n}", port, c.site, up))
			// The status and headers wait with the head: read both in the
			// background, against the bound.
			type early struct {
				resp *http.Response
				got  string
				err  error
			}
			arrived := make(chan early, 1)
			go func() {
				resp, err := newClient(t).Get(baseURL(port) + "/ssr")
				if err != nil {
					arrived <- early{err: err}
					return
				}
				var got strings.Builder
				buf := make([]byte, 4096)
				for !strings.Contains(got.String(), "<h1>Loading</h1>") {
					n, err := resp.Body.Read(buf)
					got.Write(buf[:n])
					if err != nil {
						break
					}
				}
				arrived <- early{resp: resp, got: got.String()}
			}()
			var e early
			select {
			case e = <-arrived:
			case <-time.After(10 * time.Second):
				close(release)
				e = <-arrived
				if e.resp != nil {
					e.resp.Body.Close()
				}
				t.Fatalf("the flushed head did not reach the client while the upstream rendered; it came only with the rest (%v):\n%s", e.err, e.got)
			}
			if e.err != nil {
				close(release)
				t.Fatal(e.err)
			}
			resp, got := e.resp, e.got
			defer resp.Body.Close()
			close(release)
			if !strings.Contains(got, "<h1>Loading</h1>") {
				t.Fatalf("the head did not arrive: %q", got)
			}
			if live := liveTrackers([]byte(got)); len(live) > 0 {
				t.Errorf("the early part went out with live trackers: %v\n%s", live, got)
			}
			if !hookPattern.MatchString(got) {
				t.Errorf("the early part has no banner hook:\n%s", got)
			}
			more, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			body := got + string(more)
			if !strings.Contains(body, "<p>rendered</p>") || !strings.HasSuffix(body, "</html>") {
				t.Errorf("the rest of the page did not follow:\n%s", body)
			}
			if live := liveTrackers([]byte(body)); len(live) > 0 {
				t.Errorf("the whole page has live trackers: %v", live)
			}
		})
	}
}
