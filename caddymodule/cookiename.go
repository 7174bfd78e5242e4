package caddymodule

import (
	"net/http"

	"github.com/consentgate/consentgate/consent/cookie"
)

// The consent cookie is set as __Host-<cookie_name> where browsers accept
// that name: over HTTPS, without cookie_domain. Browsers take such a cookie
// from the host itself only, so a sibling subdomain (one serving its users'
// pages, say) cannot plant one on this site, such as a copy of another
// visitor's "accept all". Elsewhere the cookie is <cookie_name>. Both names
// are read, so that cookies set before the gateway used the prefix keep
// their choice until the next cookie set replaces them; the MAC covers the
// name, so no value moves from one name to the other.

// consentCookieNames returns the name the consent cookie is set under on
// this request, and its other name.
func (h *Handler) consentCookieNames(r *http.Request) (current, other string) {
	if h.CookieDomain == "" && h.secureCookies(r) {
		return h.hostCookie, h.CookieName
	}
	return h.CookieName, h.hostCookie
}

// cookieNamesInUse are the names consentCookieNames can set the consent
// cookie under with this configuration.
func (h *Handler) cookieNamesInUse() []string {
	switch {
	case h.CookieDomain != "":
		return []string{h.CookieName}
	case h.CookieSecure == cookieSecureAlways:
		return []string{h.hostCookie}
	}
	return []string{h.CookieName, h.hostCookie}
}

// isConsentCookie reports whether a cookie name is one of the consent
// cookie's.
func (h *Handler) isConsentCookie(name string) bool {
	return name == h.CookieName || name == h.hostCookie
}

// codecFor is the codec of one of the consent cookie's names.
func (h *Handler) codecFor(name string) *cookie.Codec {
	if name == h.hostCookie {
		return h.hostCodec
	}
	return h.codec
}

// encodeConsent encodes c for the consent cookie this request sets.
func (h *Handler) encodeConsent(r *http.Request, c cookie.Consent) (string, error) {
	name, _ := h.consentCookieNames(r)
	return h.codecFor(name).Encode(c)
}

// detailsKey names the second layer of one language that lists the consent
// cookie under one of its names (banner.NewAssets).
func (h *Handler) detailsKey(name, lang string) string {
	if name == h.hostCookie {
		return lang + ".host"
	}
	return lang
}
