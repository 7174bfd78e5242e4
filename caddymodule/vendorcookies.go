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
		if c.Name == h.CookieName || expired[c.Name] || d.CookieAllowed(c.Name) {
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

// expireStrayConsentCookies expires the consent cookie in every scope but
// the one it is set in now, when the request shows the browser holds more
// than one (one set before cookie_domain changed, say), so that only the
// new choice is left.
func (h *Handler) expireStrayConsentCookies(w http.ResponseWriter, r *http.Request) {
	if len(r.CookiesNamed(h.CookieName)) < 2 {
		return
	}
	own := strings.TrimPrefix(h.consentCookieDomain(r), ".") // the scope the choice is set in now
	for _, domain := range cookieDomains(siteOf(r), h.CookieDomain) {
		if domain != own {
			http.SetCookie(w, h.expiredCookie(r, h.CookieName, domain))
		}
	}
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
