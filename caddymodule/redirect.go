package caddymodule

import (
	"io"
	"net/http"
	"strconv"
	"strings"

	"go.uber.org/zap"

	"github.com/consentgate/consentgate/consent/catalog"
	"github.com/consentgate/consentgate/consent/rewrite"
)

// A first-party URL may answer with a redirect to a vendor: a pixel or a
// script behind the site's own path (/px → www.facebook.com/tr), a frame
// that lands on a video platform. The page names only the first-party URL,
// so nothing in it is judged, and the browser follows the redirect for the
// image, the script or the frame. The gateway judges the redirect's target
// as the page's reference would be judged, and holds it back in the same
// cases. A navigation is the visitor's own going there, and passes.

// redirectHeld answers in place of a redirect, to a request that is not a
// navigation, whose Location loads a vendor the visitor has not allowed: a
// frame gets the placeholder document, anything else 204. It reports
// whether it did. A redirect that loads an allowed vendor goes on, marked
// as depending on consent (a cached 301 must not outlive a withdrawal).
func (pw *pageWriter) redirectHeld(status int, hdr http.Header) bool {
	if !isRedirect(status) || pw.navigation() {
		return false
	}
	loc := hdr.Get("Location")
	if loc == "" {
		return false
	}
	judge := pw.h.judge(pw.visit.decision)
	var v rewrite.Verdict
	for _, kind := range pw.dest.kinds(pw.req) {
		got := judge.JudgeURL(kind, []byte(loc))
		pw.noteThirdParty(kind, []byte(loc), got)
		if got.Block || v.Vendor == "" {
			v = got
		}
		if v.Block {
			break
		}
	}
	if v.Vendor == "" {
		return false
	}
	addVary(hdr, "Cookie")
	if !v.Block {
		return false
	}
	pw.h.logger.Debug("redirect to a vendor held back until consent",
		zap.String("path", pw.req.URL.Path), zap.String("vendor", v.Vendor), zap.String("purpose", v.Purpose))
	for _, k := range []string{"Location", "Content-Type", "Content-Length", "Content-Encoding", "Etag", "Last-Modified", "Expires", "Refresh"} {
		hdr.Del(k)
	}
	pw.h.metrics.blocked.Inc()
	hdr.Set("Cache-Control", "no-store")
	pw.state = stateDiscard
	if !pw.framed() {
		pw.status = http.StatusNoContent
		pw.ResponseWriter.WriteHeader(http.StatusNoContent)
		return true
	}
	// A frame shows the placeholder a blocked frame of the page would.
	doc := pw.h.placeholderDoc(pw.visit.lang, v)
	hdr.Set("Content-Type", "text/html; charset=utf-8")
	hdr.Set("Content-Length", strconv.Itoa(len(doc)))
	pw.status = http.StatusOK
	pw.ResponseWriter.WriteHeader(http.StatusOK)
	if pw.req.Method != http.MethodHead {
		io.WriteString(pw.ResponseWriter, doc) // (an error is the client's going away)
	}
	return true
}

// framed reports whether the request loads a frame's document.
func (pw *pageWriter) framed() bool {
	switch pw.req.Header.Get("Sec-Fetch-Dest") {
	case "iframe", "frame", "embed", "object":
		return true
	}
	return false
}

func isRedirect(status int) bool {
	switch status {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

// navigation reports whether the request is the visitor going to a page:
// a top-level navigation by Sec-Fetch-*, or, where a browser does not send
// those (plain HTTP), any request that accepts HTML (which cannot tell a
// frame from a navigation: there a redirecting frame is not held).
func (pw *pageWriter) navigation() bool {
	r := pw.req
	if dest := r.Header.Get("Sec-Fetch-Dest"); dest != "" {
		return dest == "document" && r.Header.Get("Sec-Fetch-Mode") == "navigate"
	}
	return strings.Contains(r.Header.Get("Accept"), "text/html")
}

// kinds are the kinds of reference by which a redirect's target is judged,
// for what the request loads: a frame's, a script's, a sheet's or an
// image's; a fetch() or a request that does not say, as a script or an
// image (blocked if either is).
func (d destination) kinds(r *http.Request) []catalog.Kind {
	switch r.Header.Get("Sec-Fetch-Dest") {
	case "iframe", "frame", "embed", "object", "document":
		return kindsFrame
	case "script", "worker", "sharedworker", "serviceworker", "audioworklet", "paintworklet":
		return kindsScript
	case "style", "font":
		return kindsLink
	case "image", "audio", "video", "track":
		return kindsImage
	}
	switch d {
	case destStyle:
		return kindsLink
	case destMedia:
		return kindsImage
	}
	return kindsAny
}

var (
	kindsFrame  = []catalog.Kind{catalog.KindFrame}
	kindsScript = []catalog.Kind{catalog.KindScript}
	kindsLink   = []catalog.Kind{catalog.KindLink}
	kindsImage  = []catalog.Kind{catalog.KindImage}
	kindsAny    = []catalog.Kind{catalog.KindScript, catalog.KindImage}
)
