package caddymodule_test

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/unicode"
)

// TestUTF16PagesAreRewritten: a browser reads a page as UTF-16 when it
// begins with a UTF-16 byte order mark (whatever its label) or is labelled
// UTF-16 without a BOM. Such a page has no ASCII bytes for trackers to be
// found by, so the gateway turns it into UTF-8 (with a UTF-8 BOM, which
// browsers obey first) and rewrites that: no tracker stays live, the text
// survives, the hook goes in once. A UTF-8 BOM beats a UTF-16 label.
func TestUTF16PagesAreRewritten(t *testing.T) {
	const words = "Grüße aus Zürich – 日本語のページ"
	page := func(filler int) string {
		p := trackerPage(filler)
		return strings.Replace(p, "<title>Shop</title>", "<title>"+words+"</title>", 1)
	}
	utf16 := func(s string, e unicode.Endianness, bom bool) []byte {
		policy := unicode.IgnoreBOM
		if bom {
			policy = unicode.UseBOM
		}
		b, err := unicode.UTF16(e, policy).NewEncoder().Bytes([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	small, big := page(200), page(100<<10)
	type upstreamCase struct {
		ctype    string
		body     []byte
		gzip     bool
		dribble  bool // one byte, a flush, a pause past the flush grace, the rest
		want     string
		wantType string
	}
	cases := map[string]upstreamCase{
		"le-bom-small":          {ctype: "text/html", body: utf16(small, unicode.LittleEndian, true), want: small, wantType: "text/html"},
		"be-bom-beats-latin1":   {ctype: "text/html; charset=iso-8859-1", body: utf16(big, unicode.BigEndian, true), want: big, wantType: "text/html; charset=iso-8859-1"},
		"label-no-bom":          {ctype: "text/html; charset=UTF-16", body: utf16(small, unicode.LittleEndian, false), want: small, wantType: "text/html; charset=utf-8"},
		"label-be-big-gzip":     {ctype: `text/html; charset="utf-16be"`, body: utf16(big, unicode.BigEndian, false), gzip: true, want: big, wantType: "text/html; charset=utf-8"},
		"le-bom-dribbled":       {ctype: "text/html", body: utf16(big, unicode.LittleEndian, true), dribble: true, want: big, wantType: "text/html"},
		"utf8-bom-utf16-label":  {ctype: "text/html; charset=utf-16", body: append([]byte("\uFEFF"), small...), want: small, wantType: "text/html; charset=utf-8"},
		"utf8-bom-no-label-big": {ctype: "text/html", body: append([]byte("\uFEFF"), big...), want: big, wantType: "text/html"},
	}
	mux := http.NewServeMux()
	for name, c := range cases {
		mux.HandleFunc("/"+name, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", c.ctype)
			body := c.body
			if c.gzip {
				var zb bytes.Buffer
				zw := gzip.NewWriter(&zb)
				zw.Write(body)
				zw.Close()
				body = zb.Bytes()
				w.Header().Set("Content-Encoding", "gzip")
			}
			if c.dribble {
				w.Write(body[:1])
				w.(http.Flusher).Flush()
				time.Sleep(60 * time.Millisecond)
				body = body[1:]
			}
			w.Write(body)
		})
	}
	base := consentProxy(t, mux)
	client := newClient(t)
	for name, c := range cases {
		resp, body := get(t, client, base+"/"+name)
		if got := resp.Header.Get("Content-Type"); got != c.wantType {
			t.Errorf("%s: Content-Type %q, want %q", name, got, c.wantType)
		}
		text, ok := strings.CutPrefix(body, "\uFEFF")
		if !ok {
			t.Errorf("%s: the page does not begin with a UTF-8 BOM: %q", name, body[:min(len(body), 8)])
		}
		if strings.HasPrefix(text, "\uFEFF") {
			t.Errorf("%s: two BOMs", name)
		}
		if live := liveTrackers([]byte(text)); len(live) > 0 {
			t.Errorf("%s: trackers live without consent:\n%s", name, strings.Join(live, "\n"))
		}
		if n := len(hookPattern.FindAllStringIndex(text, -1)); n != 1 {
			t.Errorf("%s: banner hook injected %d times, want once", name, n)
		}
		if !strings.Contains(text, "<title>"+words+"</title>") || !strings.HasSuffix(text, "</html>\n") {
			t.Errorf("%s: the text did not come through whole as UTF-8 (%d bytes)", name, len(text))
		}
		if len(text) < len(c.want) {
			t.Errorf("%s: %d bytes of text, less than the %d of the page", name, len(text), len(c.want))
		}
	}
}
