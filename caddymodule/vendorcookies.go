package caddymodule

import (
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/consentgate/consentgate/consent/policy"
)

// maxParentDomains bounds the parent domains a vendor cookie is expired on
// (www.shop.example.co.uk has four).
const maxParentDomains = 4

// expireVendorCookies expires every cookie the request carries that belongs
// to a vendor the new decision no longer allows — HttpOnly ones too, which
// no script in the page can remove. Where a cookie was set (host only or a
// parent domain) is not sent by browsers, so it is expired on each.
func (h *Handler) expireVendorCookies(w http.ResponseWriter, r *http.Request, d *policy.Decision) {
	var domains []string
	expired := map[string]bool{} // a name the request repeats is expired once
	for _, c := range r.Cookies() {
		if h.isConsentCookie(c.Name) || expired[c.Name] || d.CookieAllowed(c.Name) {
			continue
		}
		expired[c.Name] = true
		if domains == nil {
			domains = cookieDomains(siteOf(r), h.CookieDomain)
		}
		for _, domain := range domains {
			http.SetCookie(w, h.expiredCookie(r, c.Name, domain))
		}
	}
}

// expireStrayConsentCookies expires every consent cookie the request shows
// but the one set now, so that only the new choice is left: under the
// name set now, in every other scope, when the browser holds more than one
// (one set before cookie_domain changed, say); under the other name (one
// set before the gateway used the __Host- prefix, or before cookie_domain
// was configured), in every scope.
func (h *Handler) expireStrayConsentCookies(w http.ResponseWriter, r *http.Request) {
	current, other := h.consentCookieNames(r)
	if len(r.CookiesNamed(current)) > 1 {
		own := strings.TrimPrefix(h.consentCookieDomain(r), ".") // the scope the choice is set in now
		for _, domain := range h.consentCookieScopes(r, current) {
			if domain != own {
				http.SetCookie(w, h.expiredCookie(r, current, domain))
			}
		}
	}
	if len(r.CookiesNamed(other)) > 0 {
		for _, domain := range h.consentCookieScopes(r, other) {
			http.SetCookie(w, h.expiredCookie(r, other, domain))
		}
	}
}

// consentCookieScopes lists the Domain attributes the consent cookie
// called name may carry: none for the __Host- name, which browsers keep
// for the host alone, else those of cookieDomains.
func (h *Handler) consentCookieScopes(r *http.Request, name string) []string {
	if name == h.hostCookie {
		return []string{""}
	}
	return cookieDomains(siteOf(r), h.CookieDomain)
}

// expiredCookie is a Set-Cookie that removes the cookie name set on domain
// ("" for host only) at Path /.
func (h *Handler) expiredCookie(r *http.Request, name, domain string) *http.Cookie {
	return &http.Cookie{
		Name: name, Path: "/", Domain: domain,
		MaxAge: -1, Expires: time.Unix(0, 0),
		Secure: h.secureCookies(r), HttpOnly: true, SameSite: http.SameSiteLaxMode,
	}
}

// cookieDomains lists the Domain attributes a cookie of host may carry: ""
// (host only), the host and its parent domains but the top level, and the
// configured cookie domain.
func cookieDomains(host, configured string) []string {
	out := []string{""}
	if _, err := netip.ParseAddr(host); err == nil || !strings.Contains(host, ".") {
		return out // an IP address or a single label: host-only cookies only
	}
	for d, n := host, 0; strings.Contains(d, ".") && n < maxParentDomains; n++ {
		out = append(out, d)
		d = d[strings.IndexByte(d, '.')+1:]
	}
	if configured != "" && !slices.Contains(out, strings.TrimPrefix(configured, ".")) {
		out = append(out, strings.TrimPrefix(configured, "."))
	}
	return out
}
