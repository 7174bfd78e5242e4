package caddymodule_test

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestProxyReadsContentTypeAsBrowsersDo: a page reaches the browser as a
// page whatever is wrong with its Content-Type, so the gateway must rewrite
// it whenever a browser would render it as HTML: a malformed parameter, a
// list of types (the last valid one counts), no type at all (browsers, and
// net/http on the way out, sniff the body). Bodies a browser would not take
// for a page pass through byte for byte.
func TestProxyReadsContentTypeAsBrowsersDo(t *testing.T) {
	small, big := trackerPage(200), trackerPage(100<<10)
	const text = "Plain words for a plain file, with a <b>bracket</b> in the middle.\n"
	const data = `{"html":"<script src=https://www.google-analytics.com/analytics.js></script>"}`
	type upstreamCase struct {
		types    []string // Content-Type lines; nil sends none at all
		nosniff  bool
		download bool // Content-Disposition: attachment: saved, never shown
		body     string
		dribble  int // this many first bytes, a flush, a pause past the gateway's flush grace, the rest
		rewrite  bool
		wantType string // the Content-Type the client gets, when it is not the upstream's
	}
	cases := map[string]upstreamCase{
		"bad-charset-param":    {types: []string{"text/html; charset"}, body: small, rewrite: true},
		"unterminated-quote":   {types: []string{`text/html; charset="utf-8`}, body: small, rewrite: true},
		"list-last-is-html":    {types: []string{"text/plain, text/html"}, body: small, rewrite: true},
		"two-lines":            {types: []string{"text/plain", "TEXT/HTML ;charset=utf-8"}, body: big, rewrite: true},
		"quoted-comma":         {types: []string{`text/html; x="a,b"`}, body: small, rewrite: true},
		"none-small":           {body: small, rewrite: true, wantType: "text/html; charset=utf-8"},
		"none-big":             {body: big, rewrite: true, wantType: "text/html; charset=utf-8"},
		"none-dribbled":        {body: big, dribble: 64, rewrite: true, wantType: "text/html; charset=utf-8"},
		"none-dribbled-short":  {body: big, dribble: 5, rewrite: true, wantType: "text/html; charset=utf-8"}, // "<!DOC" tells nothing yet
		"empty":                {types: []string{""}, body: small, rewrite: true},
		"unparsable":           {types: []string{"html"}, body: small, rewrite: true},
		"list-last-is-text":    {types: []string{"text/html, text/plain"}, body: small},
		"comma-in-quotes-only": {types: []string{`text/plain; x="y,text/html"`}, body: small},
		"none-text":            {body: text, wantType: "text/plain; charset=utf-8"},
		"none-json":            {body: data, wantType: "text/plain; charset=utf-8"},
		"none-empty-body":      {body: ""},
		"empty-nosniff":        {types: []string{""}, nosniff: true, body: small},
		"html-attachment":      {types: []string{"text/html"}, download: true, body: small},
	}
	mux := http.NewServeMux()
	for name, c := range cases {
		mux.HandleFunc("/"+name, func(w http.ResponseWriter, r *http.Request) {
			w.Header()["Content-Type"] = c.types // nil: none, and net/http adds none
			if c.nosniff {
				w.Header().Set("X-Content-Type-Options", "nosniff")
			}
			if c.download {
				w.Header().Set("Content-Disposition", `Attachment; filename="report.html"`)
			}
			if c.dribble == 0 {
				io.WriteString(w, c.body)
				return
			}
			io.WriteString(w, c.body[:c.dribble])
			w.(http.Flusher).Flush()
			time.Sleep(60 * time.Millisecond)
			io.WriteString(w, c.body[c.dribble:])
		})
	}
	base := consentProxy(t, mux)
	client := newClient(t)
	for name, c := range cases {
		resp, body := get(t, client, base+"/"+name)
		if got, want := resp.Header.Values("Content-Type"), c.types; c.wantType != "" {
			if len(got) != 1 || got[0] != c.wantType {
				t.Errorf("%s: Content-Type %q, want %q", name, got, c.wantType)
			}
		} else if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s: Content-Type %q, want the upstream's %q", name, got, want)
		}
		if !c.rewrite {
			if body != c.body {
				t.Errorf("%s: body changed: %s", name, firstDiff(body, c.body))
			}
			if strings.Contains(resp.Header.Get("Vary"), "Cookie") {
				t.Errorf("%s: passed-through body got Vary: Cookie", name)
			}
			continue
		}
		if live := liveTrackers([]byte(body)); len(live) > 0 {
			t.Errorf("%s: trackers live without consent:\n%s", name, strings.Join(live, "\n"))
		}
		if n := len(hookPattern.FindAllStringIndex(body, -1)); n != 1 {
			t.Errorf("%s: banner hook injected %d times, want once", name, n)
		}
		if !strings.HasSuffix(body, "</html>\n") {
			t.Errorf("%s: body incomplete (%d bytes)", name, len(body))
		}
	}
}

// TestCompressedBodiesWithoutATypeAreSniffed: a browser undoes a body's
// Content-Encoding before it sniffs an unlabelled body, so a compressed page
// without a Content-Type is a page to it. The gateway decodes the beginning
// to decide the same way: such pages are rewritten in every encoding, also
// when their first compressed bytes, which decode to nothing yet, come alone
// before a flush; anything else (JSON, a body whose beginning does not
// decode) passes byte for byte, still compressed. (A gzip body reaches the
// gateway decoded: Caddy's proxy transport asks for gzip and undoes it.)
func TestCompressedBodiesWithoutATypeAreSniffed(t *testing.T) {
	small, big := trackerPage(200), trackerPage(100<<10)
	type upstreamCase struct {
		enc, body string
		dribble   bool // the first 20 compressed bytes, a flush, a pause past the gateway's flush grace, the rest
		corrupt   bool // the compressed body cut to its first half and its bytes flipped after the header
		typed     bool // labelled text/html after all
		rewrite   bool
	}
	cases := map[string]upstreamCase{
		"gzip-big":      {enc: "gzip", body: big, rewrite: true},
		"br-big":        {enc: "br", body: big, rewrite: true},
		"zstd-small":    {enc: "zstd", body: small, rewrite: true},
		"deflate-big":   {enc: "deflate", body: big, rewrite: true},
		"zstd-dribbled": {enc: "zstd", body: big, dribble: true, rewrite: true},
		"zstd-json":     {enc: "zstd", body: `{"html":"<script src=https://www.google-analytics.com/analytics.js></script>"}`},
		"br-text":       {enc: "br", body: "Plain words, with a <b>bracket</b> in them.\n"},
		"br-corrupt":    {enc: "br", body: big, corrupt: true},
		"deflate-typed": {enc: "deflate", body: big, typed: true, rewrite: true},
	}
	compressed := map[string][]byte{}
	mux := http.NewServeMux()
	for name, c := range cases {
		var b bytes.Buffer
		zw := encoder(c.enc, &b)
		io.WriteString(zw, c.body)
		zw.Close()
		z := b.Bytes()
		if c.corrupt {
			z = z[:len(z)/2]
			for i := 10; i < len(z); i++ {
				z[i] ^= 0x5a
			}
		}
		compressed[name] = z
		mux.HandleFunc("/"+name, func(w http.ResponseWriter, r *http.Request) {
			w.Header()["Content-Type"] = nil // none, and net/http adds none
			if c.typed {
				w.Header().Set("Content-Type", "text/html")
			}
			w.Header().Set("Content-Encoding", c.enc)
			if !c.dribble {
				w.Write(z)
				return
			}
			w.Write(z[:20])
			w.(http.Flusher).Flush()
			time.Sleep(60 * time.Millisecond)
			w.Write(z[20:])
		})
	}
	base := consentProxy(t, mux)
	client := newClient(t)
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			resp, body := get(t, client, base+"/"+name, "Accept-Encoding", c.enc)
			if !c.rewrite {
				if !bytes.Equal([]byte(body), compressed[name]) || resp.Header.Get("Content-Encoding") != c.enc {
					t.Errorf("not passed through as sent (Content-Encoding %q, %d bytes, sent %d)",
						resp.Header.Get("Content-Encoding"), len(body), len(compressed[name]))
				}
				return
			}
			if enc := resp.Header.Get("Content-Encoding"); enc != "" {
				t.Fatalf("Content-Encoding %q; the gateway sends what it rewrote uncompressed when no encode directive asks", enc)
			}
			if live := liveTrackers([]byte(body)); len(live) > 0 {
				t.Errorf("trackers live without consent:\n%s", strings.Join(live, "\n"))
			}
			if n := len(hookPattern.FindAllStringIndex(body, -1)); n != 1 {
				t.Errorf("banner hook injected %d times, want once", n)
			}
			if !strings.HasSuffix(body, "</html>\n") {
				t.Errorf("body incomplete (%d bytes)", len(body))
			}
		})
	}
}
