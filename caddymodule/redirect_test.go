package caddymodule_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// redirectSite is an application that redirects first-party paths to
// vendors (a pixel, a tag script, a video frame), to a CDN that is no
// vendor, and within the site, behind `consent` and reverse_proxy.
func redirectSite(t *testing.T) string {
	t.Helper()
	app, gated := freePort(t), freePort(t)
	startCaddy(t, fmt.Sprintf(`:%d {
	redir /px "https://www.facebook.com/tr?id=1&ev=PageView" 302
	redir /js "https://www.googletagmanager.com/gtag/js?id=G-REDIR1" 307
	redir /yt https://www.youtube.com/embed/abc 301
	redir /cdn https://cdn.example.org/lib.js 302
	redir /home / 302
	respond "home"
}
:%d {
	consent
	reverse_proxy 127.0.0.1:%d
}`, app, gated, app))
	return baseURL(gated)
}

// Request headers of a navigation and of a frame, by Sec-Fetch-*.
var (
	asNavigation = []string{"Accept", "text/html,application/xhtml+xml,*/*;q=0.8", "Sec-Fetch-Dest", "document", "Sec-Fetch-Mode", "navigate"}
	asFrame      = []string{"Accept", "text/html,application/xhtml+xml,*/*;q=0.8", "Sec-Fetch-Dest", "iframe", "Sec-Fetch-Mode", "navigate"}
)

// TestRedirectsToVendorsWait: a first-party URL that redirects an image,
// a script, a frame or a fetch() to a vendor the visitor has not allowed
// is answered 204 (a frame: the placeholder naming the vendor),
// uncacheable, with no Location, so the browser loads nothing from the
// vendor; the same redirect followed as a navigation
// (the visitor going there) passes, and so do redirects to hosts that are
// no vendor's. After consent the redirects pass, marked Vary: Cookie so a
// cached 301 does not outlive a withdrawal.
func TestRedirectsToVendorsWait(t *testing.T) {
	base := redirectSite(t)
	c := newClient(t)
	held := []struct {
		name, path string
		headers    []string
	}{
		{"pixel as an image", "/px", asImage},
		{"pixel as an image, no Sec-Fetch-Dest", "/px", asImage[:2]},
		{"pixel by fetch()", "/px", asFetch},
		{"tag as a script", "/js", asScript},
		{"tag as a script, no Sec-Fetch-Dest", "/js", asScript[:2]},
		{"video as a frame", "/yt", asFrame},
	}
	for _, tc := range held {
		resp, body := get(t, c, base+tc.path, tc.headers...)
		switch {
		case resp.Header.Get("Location") != "":
			t.Errorf("%s: %d to %q; want no redirect", tc.name, resp.StatusCode, resp.Header.Get("Location"))
		case tc.path == "/yt": // a frame shows what a blocked frame of the page shows
			if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
				!strings.Contains(body, "This content is provided by YouTube") {
				t.Errorf("%s: %d %q, body %q; want 200 with the placeholder naming YouTube", tc.name, resp.StatusCode, resp.Header.Get("Content-Type"), body)
			}
		case resp.StatusCode != http.StatusNoContent || body != "":
			t.Errorf("%s: %d, body %q; want 204", tc.name, resp.StatusCode, body)
		}
		if cc := resp.Header.Get("Cache-Control"); cc != "no-store" || !strings.Contains(strings.Join(resp.Header.Values("Vary"), ","), "Cookie") {
			t.Errorf("%s: Cache-Control %q, Vary %q; want no-store and Cookie", tc.name, cc, resp.Header.Values("Vary"))
		}
	}
	passed := []struct {
		name, path, to string
		headers        []string
	}{
		{"video as a navigation", "/yt", "https://www.youtube.com/embed/abc", asNavigation},
		{"video as a navigation, no Sec-Fetch-Dest", "/yt", "https://www.youtube.com/embed/abc", asNavigation[:2]},
		{"a CDN as a script", "/cdn", "https://cdn.example.org/lib.js", asScript},
		{"the site's own page as an image", "/home", "/", asImage},
	}
	for _, tc := range passed {
		resp, _ := get(t, c, base+tc.path, tc.headers...)
		if !redirected(resp) || resp.Header.Get("Location") != tc.to {
			t.Errorf("%s: %d to %q; want the site's redirect to %q", tc.name, resp.StatusCode, resp.Header.Get("Location"), tc.to)
		}
	}

	postChoice(t, c, base, `{"all":true}`)
	for _, tc := range held {
		resp, _ := get(t, c, base+tc.path, tc.headers...)
		if !redirected(resp) || !strings.Contains(resp.Header.Get("Location"), "https://www.") {
			t.Errorf("%s after consent: %d to %q; want the site's redirect", tc.name, resp.StatusCode, resp.Header.Get("Location"))
		}
		if !strings.Contains(strings.Join(resp.Header.Values("Vary"), ","), "Cookie") {
			t.Errorf("%s after consent: Vary %q; want Cookie (the answer depends on consent)", tc.name, resp.Header.Values("Vary"))
		}
	}
}

func redirected(resp *http.Response) bool { return resp.StatusCode >= 300 && resp.StatusCode < 400 }
