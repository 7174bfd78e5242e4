package caddymodule

import (
	"net/http"

	"github.com/consentgate/consentgate/consent/proof"
)

// recordSignalDefault records, once, that a browser signal (GPC or DNT)
// switched off part of an earlier choice: the visitor granted marketing
// without the signal and now sends it. The proof (gpc_default, layer
// automatic) supersedes the choice's, and the cookie is marked so the page
// views that follow record nothing more and keep marketing off, even
// without the signal, until the visitor chooses again. The cookies of the
// vendors switched off are expired, as after a choice. If the store cannot
// take the proof the page is served all the same, and the next page view
// tries again.
func (h *Handler) recordSignalDefault(w http.ResponseWriter, r *http.Request, v *visit) {
	c := v.consent
	if c.ID == "" || c.SignalApplied || !v.decision.SignalTookBack {
		return
	}
	next := c
	next.SignalApplied = true
	if next, ok := h.recordAutomatic(w, r, v, c, next, proof.ActionSignal); ok {
		v.consent = next
		h.expireVendorCookies(w, r, v.decision)
	}
}
