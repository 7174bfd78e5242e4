package caddymodule

import (
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/consentgate/consentgate/consent/proof"
)

// recordSignalDefault records, once, that a browser signal (GPC or DNT)
// switched off part of an earlier choice: the visitor granted marketing
// without the signal and now sends it. The proof (gpc_default, layer
// automatic) supersedes the choice's, and the cookie is marked so the page
// views that follow record nothing more. If the store cannot take it the
// page is served all the same, and the next page view tries again.
func (h *Handler) recordSignalDefault(w http.ResponseWriter, r *http.Request, v *visit) {
	c := v.consent
	if c.ID == "" || c.SignalApplied || !v.decision.SignalTookBack {
		return
	}
	next := c
	next.SignalApplied = true
	next.Event = proof.NewEventID(time.Now())
	value, err := h.codec.Encode(next)
	if err != nil {
		h.logger.Error("encoding the consent cookie after a privacy signal", zap.Error(err))
		return
	}
	auto := choice{how: how{Layer: proof.LayerAutomatic, Action: proof.ActionSignal, Page: r.URL.Path}}
	rec := h.proofOf(r, auto, next, c, v.decision, true, v.lang)
	rec.EventID = next.Event
	if _, err := h.sink.record(r.Context(), rec); err != nil {
		h.logger.Warn("recording that a privacy signal switched purposes off failed; will try again", zap.Error(err))
		return
	}
	h.metrics.proofsWritten.Inc()
	h.metrics.decisions.WithLabelValues(proof.ActionSignal).Inc()
	h.setConsentCookie(w, r, next, value)
	v.consent = next
}
