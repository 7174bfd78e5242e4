package caddymodule

import (
	"net/http"
	"time"

	"github.com/consentgate/consentgate/consent/cookie"
	"github.com/consentgate/consentgate/consent/proof"
)

// cookieGrace is how long the consent cookie outlives the choice it holds
// (its Max-Age, and the age up to which the codec reads it). A browser
// drops a cookie at its Max-Age: were that the choice's lifetime, a visitor
// coming back after it ran out would come back unknown, and the expiry
// could never be recorded. Within the grace the gateway still treats the
// choice as expired (see visit): the banner asks again, nothing optional is
// granted, and recordExpiry writes the expired proof.
const cookieGrace = 30 * 24 * time.Hour

// recordExpiry records, once, that a returning visitor's choice ran out:
// the cookie still decodes but is older than the choice's lifetime. The
// proof (expired, layer automatic, every optional purpose off) supersedes
// the choice's. The cookie then keeps only the consent id and that proof's
// event, marked Expired (see visit), so the page views that follow record
// nothing more, and the visitor's next choice continues the consent id and
// supersedes the expiry. If the store cannot take it the page is served
// all the same, and the next page view tries again.
func (h *Handler) recordExpiry(w http.ResponseWriter, r *http.Request, v *visit) {
	c := v.lapsed
	if c.ID == "" {
		return
	}
	next := cookie.Consent{ID: c.ID, Time: time.Now().Unix(), Expired: true}
	if _, ok := h.recordAutomatic(w, r, v, c, next, proof.ActionExpire); ok {
		v.lapsed = cookie.Consent{}
	}
}
