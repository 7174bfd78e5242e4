package caddymodule

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"go.uber.org/zap"
)

func zapString(k, v string) zap.Field { return zap.String(k, v) }

// filterSetCookies drops Set-Cookie headers of vendors the visitor has not
// consented to (a site's own analytics cookie set server-side, say). One
// that deletes such a cookie stays: the gateway's own, after a signal took
// the vendor back, or the site's.
func (pw *pageWriter) filterSetCookies(hdr http.Header) {
	cookies := hdr["Set-Cookie"]
	if len(cookies) == 0 {
		return
	}
	kept := cookies[:0]
	for _, c := range cookies {
		name, _, _ := strings.Cut(c, "=")
		if pw.visit.decision.CookieAllowed(strings.TrimSpace(name)) || deletesCookie(c) {
			kept = append(kept, c)
		}
	}
	if len(kept) == 0 {
		delete(hdr, "Set-Cookie")
		return
	}
	hdr["Set-Cookie"] = kept
}

// deletesCookie reports whether a Set-Cookie line removes its cookie, as a
// browser reads it: Max-Age decides when it is given (net/http's MaxAge < 0
// is "Max-Age=0" or less); a past Expires only without it. A past Expires
// beside a long Max-Age sets the cookie, and stays filtered.
func deletesCookie(line string) bool {
	c, err := http.ParseSetCookie(line)
	if err != nil {
		return false
	}
	if c.MaxAge != 0 {
		return c.MaxAge < 0
	}
	return !c.Expires.IsZero() && c.Expires.Before(time.Now())
}

// markPerVisitor marks a rewritten page (or its 304) as made for this
// visitor's consent state and language: caches key it on both, tell states
// apart by ETag, and ask before reusing it, since the visitor's choice may
// have changed since.
func markPerVisitor(hdr http.Header, etagSuffix string) {
	// (A fragment's form differs by HX-Request and X-Requested-With: htmx
	// puts fragment URLs into the history, whence the browser's cache may
	// answer a navigation.)
	addVary(hdr, "Cookie", "Accept-Language", "HX-Request", "X-Requested-With")
	suffixETag(hdr, etagSuffix)
	cc := strings.ToLower(hdr.Get("Cache-Control"))
	if !strings.Contains(cc, "no-cache") && !strings.Contains(cc, "no-store") {
		if cc == "" {
			hdr.Set("Cache-Control", "no-cache")
		} else {
			hdr.Set("Cache-Control", hdr.Get("Cache-Control")+", no-cache")
		}
	}
}

// markSheetPerVisitor marks a rewritten style sheet (or speculation rules
// file) as made for this visitor's consent state: caches key it on the
// cookie, and tell states apart by ETag. Unlike a page it keeps the
// upstream's caching otherwise: a sheet is fetched on every page view, and
// the key on the cookie already makes a browser fetch it again once the
// choice changes.
func markSheetPerVisitor(hdr http.Header, etagSuffix string) {
	addVary(hdr, "Cookie")
	suffixETag(hdr, etagSuffix)
}

// addVary adds to Vary the fields it does not cover yet, in one line.
func addVary(hdr http.Header, fields ...string) {
	missing := make([]string, 0, 4)
	for _, f := range fields {
		if !varies(hdr, f) {
			missing = append(missing, f)
		}
	}
	switch len(missing) {
	case 0:
	case 1:
		hdr.Add("Vary", missing[0])
	default:
		hdr.Add("Vary", strings.Join(missing, ", "))
	}
}

// varies reports whether Vary covers a field (or is "*").
func varies(hdr http.Header, field string) bool {
	for _, v := range hdr["Vary"] {
		for v != "" {
			var f string
			f, v, _ = strings.Cut(v, ",")
			if f = strings.TrimSpace(f); f == "*" || strings.EqualFold(f, field) {
				return true
			}
		}
	}
	return false
}

// suffixETag marks an upstream ETag with the consent state, so a cache
// never answers one visitor's conditional request with another's page.
func suffixETag(hdr http.Header, suffix string) {
	etag := hdr.Get("Etag")
	if len(etag) < 2 || etag[len(etag)-1] != '"' || strings.HasSuffix(etag, suffix+`"`) {
		return
	}
	hdr.Set("Etag", etag[:len(etag)-1]+suffix+`"`)
}

// stripETagSuffix turns the client's If-None-Match back into upstream ETags
// for the current consent state, and reports whether it named one (the
// cached answer is then the gateway's). Tags made for another state are
// dropped, as they must not match, and so is If-Modified-Since. For a
// navigation or a sheet, so is a tag the gateway did not make: every page
// and sheet it sends carries its mark, so such a tag names a copy cached
// before the gateway stood in front of the site, unrewritten, which must not
// be shown again. (A navigation to a PDF or an image then gets it whole
// rather than a 304.) It returns a function that restores the headers.
func stripETagSuffix(hdr http.Header, suffix string, dest destination) (restore func(), ours bool) {
	// A date cannot tell consent states apart: only tags decide.
	since, hasSince := hdr["If-Modified-Since"]
	delete(hdr, "If-Modified-Since")
	restoreSince := func() {
		if hasSince {
			hdr["If-Modified-Since"] = since
		}
	}
	orig, ok := hdr["If-None-Match"]
	if !ok {
		return restoreSince, false
	}
	rendered := dest == destDocument || dest.subresource()
	var tags []string
	for _, v := range orig {
		for _, t := range strings.Split(v, ",") {
			t = strings.TrimSpace(t)
			switch {
			case strings.HasSuffix(t, suffix+`"`):
				tags = append(tags, t[:len(t)-len(suffix)-1]+`"`)
				ours = true
			case strings.Contains(t, "-cg") && strings.HasSuffix(t, `"`):
				// another consent state's tag: cannot match this page
			case rendered && t != "*":
				// cached before the gateway: must not match either
			default:
				tags = append(tags, t)
			}
		}
	}
	if len(tags) == 0 {
		delete(hdr, "If-None-Match")
	} else {
		hdr["If-None-Match"] = []string{strings.Join(tags, ", ")}
	}
	return func() {
		hdr["If-None-Match"] = orig
		restoreSince()
	}, ours
}

// unrewrittenWriter passes an answer through as it is, but keeps a page
// among them out of every cache (see keepPageUncached).
type unrewrittenWriter struct {
	*caddyhttp.ResponseWriterWrapper
}

func (w unrewrittenWriter) WriteHeader(status int) {
	if shownStatus(status) { // (not a 101: the upgrade goes through untouched)
		keepPageUncached(w.Header(), mimeEssence(w.Header().Values("Content-Type")))
	}
	w.ResponseWriterWrapper.WriteHeader(status)
}

// keepPageUncached marks a page that goes out unrewritten, because the
// request asked for something else (an image, JSON, another protocol), as
// not to be stored: a shared cache, or the browser's, would otherwise give
// it with its trackers live to the next visitor who navigates to its URL.
func keepPageUncached(hdr http.Header, essence string) {
	if essence == "text/html" || essence == "application/xhtml+xml" {
		hdr.Set("Cache-Control", "no-store")
	}
}

// hideCookie takes every cookie called by one of names out of the
// request's Cookie lines (leaving the others as they were written) and
// returns what puts them back.
func hideCookie(hdr http.Header, names ...string) (restore func()) {
	lines, ok := hdr["Cookie"]
	if !ok || !mentionsCookie(lines, names) {
		return func() {}
	}
	kept := make([]string, 0, len(lines))
	for _, line := range lines {
		var pairs []string
		for _, pair := range strings.Split(line, ";") {
			if n, _, _ := strings.Cut(strings.TrimSpace(pair), "="); !slices.Contains(names, n) {
				pairs = append(pairs, strings.TrimSpace(pair))
			}
		}
		if len(pairs) > 0 {
			kept = append(kept, strings.Join(pairs, "; "))
		}
	}
	if len(kept) == 0 {
		delete(hdr, "Cookie")
	} else {
		hdr["Cookie"] = kept
	}
	return func() { hdr["Cookie"] = lines }
}

// mentionsCookie reports whether a Cookie line may hold one of the cookie
// names (a quick look, so that most requests keep their lines untouched).
func mentionsCookie(lines, names []string) bool {
	for _, line := range lines {
		for _, name := range names {
			if strings.Contains(line, name+"=") {
				return true
			}
		}
	}
	return false
}
