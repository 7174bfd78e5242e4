package caddymodule

import (
	"net/http"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// destination is what the browser will make of the answer to a request, as
// far as the gateway needs to know: whether it may be shown as a page, read
// as a style sheet or as speculation rules, or none of these.
type destination uint8

const (
	destAny      destination = iota // a client that does not say (no Accept): may be a page
	destDocument                    // a navigation or a frame: shown as a page if it is one
	destFragment                    // htmx, jQuery: a script puts the answer into a page that has the banner
	destFetch                       // fetch() or XHR that says no more: a whole page or not, as its body tells
	destStyle                       // a style sheet
	destRules                       // a speculation rules file a page's Speculation-Rules header names
	destMedia                       // an image, a script, a font…: never shown as a page nor read as a sheet
)

// destinationOf reads Sec-Fetch-Dest, which browsers send to secure
// origins, or else the Accept header browsers send for each kind of
// request. A destination it does not know may be a page.
func destinationOf(r *http.Request) destination {
	switch r.Header.Get("Sec-Fetch-Dest") {
	case "document", "iframe", "frame", "embed", "object", "xslt": // an XSL style sheet's output is a document
		return destDocument
	case "style":
		return destStyle
	case "speculationrules":
		return destRules
	case "image", "script", "font", "audio", "video", "track", "manifest",
		"worker", "sharedworker", "serviceworker", "audioworklet", "paintworklet", "report", "json":
		return destMedia
	case "empty":
		// A script that asks for HTML as such wants a whole page (Turbo
		// Drive swaps the page for it); otherwise it may read data, a
		// fragment or a whole page (a service worker's app shell).
		if scriptFragment(r) {
			return destFragment
		}
		if !strings.Contains(r.Header.Get("Accept"), "text/html") {
			return destFetch
		}
	}
	if scriptFragment(r) { // without Sec-Fetch-Dest (plain HTTP)
		return destFragment
	}
	accept := r.Header.Get("Accept")
	switch {
	case strings.Contains(accept, "text/html"):
		return destDocument
	case strings.HasPrefix(accept, "text/css"):
		return destStyle
	case strings.HasPrefix(accept, "image/"):
		return destMedia
	case accept != "" && r.Header.Get("Sec-Fetch-Dest") == "":
		// Every browser asks for text/html when it navigates, so on plain
		// HTTP an Accept without it is a script's fetch() or XHR (or curl).
		return destFetch
	}
	return destAny
}

// navigable reports whether the browser itself handles the answer (a
// download is saved), not a script that may put it into a page.
func (d destination) navigable() bool { return d == destDocument || d == destAny }

// scriptFragment reports whether the request says that a script will put
// the answer into a page: htmx (not for a boosted link, whose answer is a
// whole page), jQuery's load() and every jQuery request to its own site.
func scriptFragment(r *http.Request) bool {
	return r.Header.Get("HX-Request") == "true" && r.Header.Get("HX-Boosted") == "" ||
		r.Header.Get("X-Requested-With") == "XMLHttpRequest"
}

// mayBePage reports whether the answer may be a page, a sheet or a rules
// file the gateway rewrites: only then do the request's conditional headers
// and the answer's caching depend on the visitor's consent.
func (d destination) mayBePage(r *http.Request) bool {
	// A browser shows the answer to a form it posted as a page, too.
	if d == destMedia || r.Method != http.MethodGet && r.Method != http.MethodPost {
		return false
	}
	a := r.Header.Get("Accept")
	return a == "" || strings.Contains(a, "text/html") || strings.Contains(a, "*/*") || d.subresource()
}

// subresource reports whether the answer is read as a sheet or as rules: a
// rewritten one keeps the upstream's caching (markSheetPerVisitor).
func (d destination) subresource() bool { return d == destStyle || d == destRules }

// upgrading reports whether the request asks for another protocol on its
// connection, as reverse_proxy reads it (both Upgrade and Connection:
// upgrade): an Upgrade header alone leaves an ordinary request.
func upgrading(r *http.Request) bool {
	return r.Header.Get("Upgrade") != "" && httpguts.HeaderValuesContainsToken(r.Header["Connection"], "Upgrade")
}
