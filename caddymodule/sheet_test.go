package caddymodule_test

import (
	"net/http"
	"strings"
	"testing"
)

// themeSheet is a site's own style sheet as many themes write it: Google
// Fonts through @import, a vendor's image, the site's own images.
func themeSheet(filler int) string {
	return `@import url("https://fonts.googleapis.com/css2?family=Roboto:wght@400,700&display=swap");` + "\n" +
		`@import "/css/local.css";` + "\n" +
		strings.Repeat(".pad{color:#123;background:url(/img/pad.png)}\n", filler/48+1) +
		`.promo{background-image:url(https://www.facebook.com/tr?id=1&ev=PageView)}` + "\n" +
		`.hero{background:url("/img/hero.jpg") no-repeat}` + "\n"
}

// TestStyleSheetsAreRewritten: a first-party style sheet loads what it
// @imports and its url()s, so the gateway judges it as it judges a <style>
// element: without consent Google Fonts and the pixel are neutralised and
// the site's own URLs stay; with everything granted the sheet is the
// upstream's, byte for byte. It is marked per consent state (Vary: Cookie,
// ETag) but keeps its own caching, and a HEAD is not touched.
func TestStyleSheetsAreRewritten(t *testing.T) {
	small, big := themeSheet(100), themeSheet(100<<10)
	mux := http.NewServeMux()
	for path, sheet := range map[string]string{"/small.css": small, "/big.css": big} {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/css; charset=utf-8")
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
			w.Header().Set("Etag", `"v1"`)
			if r.Method != http.MethodHead {
				w.Write([]byte(sheet))
			}
		})
	}
	base := consentProxy(t, mux)
	for path, sheet := range map[string]string{"/small.css": small, "/big.css": big} {
		c := newClient(t)
		resp, body := get(t, c, base+path, "Accept", "text/css,*/*;q=0.1")
		for _, want := range []string{
			`@consentgate-import url("https://fonts.googleapis.com/`,
			`.promo{background-image:url(consentgate:https://www.facebook.com/tr?id=1&ev=PageView)}`,
			`@import "/css/local.css";`, `.hero{background:url("/img/hero.jpg") no-repeat}`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("%s without consent: the sheet lacks %s", path, want)
			}
		}
		if got := strings.ReplaceAll(strings.ReplaceAll(body, "consentgate-", ""), "consentgate:", ""); got != sheet {
			t.Errorf("%s without consent: changed beyond the two renames: %s", path, firstDiff(got, sheet))
		}
		if !strings.Contains(resp.Header.Get("Vary"), "Cookie") || resp.Header.Get("Etag") == `"v1"` {
			t.Errorf("%s: Vary %q, ETag %q: not marked per consent state", path, resp.Header.Get("Vary"), resp.Header.Get("Etag"))
		}
		if cc := resp.Header.Get("Cache-Control"); cc != "public, max-age=31536000, immutable" {
			t.Errorf("%s: Cache-Control %q, want the upstream's", path, cc)
		}

		postChoice(t, c, base, `{"all":true}`)
		if _, body = get(t, c, base+path, "Accept", "text/css,*/*;q=0.1"); body != sheet {
			t.Errorf("%s with everything granted: %s", path, firstDiff(body, sheet))
		}
	}
	req, _ := http.NewRequest(http.MethodHead, base+"/small.css", nil)
	if resp, _ := do(t, newClient(t), req); resp.Header.Get("Etag") != `"v1"` {
		t.Errorf("a HEAD was marked as rewritten: ETag %q", resp.Header.Get("Etag"))
	}
}
