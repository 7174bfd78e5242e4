package caddymodule

import (
	"context"
	"encoding/json"
	"net/http"

	"go.uber.org/zap"
)

// serveOwnProofs gives visitors their rights over their own records: GET
// downloads every proof of this browser's consent id as JSON (access and
// portability); DELETE erases them (each becomes a tombstone that keeps the
// chain verifiable) and forgets the consent cookie.
func (h *Handler) serveOwnProofs(w http.ResponseWriter, r *http.Request) error {
	closeIfBodyUnread(w, r) // neither GET nor DELETE reads one
	consent := h.previousConsent(r)
	switch r.Method {
	case http.MethodGet, http.MethodHead:
	case http.MethodDelete:
		if err := checkSameOrigin(r); err != nil {
			return writeError(w, http.StatusForbidden, err.Error())
		}
	default:
		w.Header().Set("Allow", "GET, DELETE")
		return writeError(w, http.StatusMethodNotAllowed, "use GET or DELETE")
	}
	if consent.ID == "" {
		return writeError(w, http.StatusNotFound, "this browser has no recorded consent")
	}
	st, err := h.sink.openedStore()
	if err != nil {
		h.logger.Error("the proof store cannot be opened", zap.Error(err))
		return writeError(w, http.StatusServiceUnavailable, "your records cannot be reached right now; please try again")
	}
	if r.Method == http.MethodDelete {
		// Once begun, an erasure goes on if the visitor leaves: the store's
		// timeouts bound it.
		n, err := st.Erase(context.WithoutCancel(r.Context()), consent.ID, h.sink.erasure())
		if err != nil {
			h.logger.Error("erasing a visitor's proofs failed")
			return writeError(w, http.StatusServiceUnavailable, "your records could not be erased right now; please try again")
		}
		// As an erasure through the admin API is: the tombstones it leaves
		// are accounted for, and the consent id stays out of the log.
		h.logger.Info("consent records erased at the visitor's request", zap.Int("records", n))
		h.expireStrayConsentCookies(w, r)
		name, _ := h.consentCookieNames(r)
		http.SetCookie(w, h.expiredCookie(r, name, h.consentCookieDomain(r)))
		return writeJSON(w, map[string]any{"consent_id": consent.ID, "erased": n})
	}
	out := &recordStream{w: w, consentID: consent.ID, disposition: `attachment; filename="consent-records.json"`}
	if err := st.EachOfConsent(r.Context(), consent.ID, out.add); err != nil {
		h.logger.Error("reading a visitor's proofs failed", zap.Int("records_sent", out.records), zap.Error(err))
		out.abortIfStarted()
		return writeError(w, http.StatusServiceUnavailable, "your records cannot be read right now; please try again")
	}
	return out.close()
}

func writeJSON(w http.ResponseWriter, v any) error {
	body, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	setJSONHeaders(w.Header())
	_, err = w.Write(append(body, '\n'))
	return err
}

// setJSONHeaders marks an answer as JSON about one visitor: never cached,
// never sniffed as anything else.
func setJSONHeaders(hdr http.Header) {
	hdr.Set("Content-Type", "application/json")
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("X-Content-Type-Options", "nosniff")
}
