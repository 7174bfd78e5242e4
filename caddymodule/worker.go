package caddymodule

import (
	"io"
	"net/http"

	"go.uber.org/zap"

	"github.com/consentgate/consentgate/consent/catalog"
	"github.com/consentgate/consentgate/consent/policy"
)

// A vendor's service worker script (catalog.Vendor.ServiceWorkers) is the
// vendor's code on the site's own origin, which, once installed, runs on
// whatever a page allows. The browser asks for it with "Service-Worker:
// script" when page code registers it and whenever it checks it for an
// update; while the visitor has not allowed the vendor, the gateway
// answers that with 404, so that the worker is neither installed nor
// updated before consent (the banner's shim unregisters one installed
// earlier: a failed update leaves a registration as it was). Any other
// request for the file passes (a plain fetch, an importScripts).

// workerOwner is the vendor whose service worker script is at path, or nil.
func (h *Handler) workerOwner(path string) *catalog.Vendor {
	for i := range h.workerVendors {
		if h.workerVendors[i].OwnsWorker(path) {
			return &h.workerVendors[i]
		}
	}
	return nil
}

// holdWorker answers a request for a vendor's service worker script that
// the visitor has not allowed, and reports whether it did. Every answer
// for such a script varies by Cookie and Service-Worker, so that no cache
// gives one visitor's to another, or a plain fetch's to the browser's
// installation.
func (h *Handler) holdWorker(w http.ResponseWriter, r *http.Request, path string, d *policy.Decision) bool {
	v := h.workerOwner(path)
	if v == nil {
		return false
	}
	addVary(w.Header(), "Cookie", "Service-Worker")
	if r.Header.Get("Service-Worker") != "script" || d.VendorAllowedID(v.ID) {
		return false
	}
	if ce := h.logger.Check(zap.DebugLevel, "service worker of a vendor held back until consent"); ce != nil {
		ce.Write(zapString("path", path), zap.String("vendor", v.ID))
	}
	h.metrics.blocked.Inc()
	hdr := w.Header()
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("Content-Type", "text/plain; charset=utf-8")
	hdr.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusNotFound)
	if r.Method != http.MethodHead {
		io.WriteString(w, "held back until the visitor allows "+v.ID+"\n") // (an error is the client's going away)
	}
	return true
}
