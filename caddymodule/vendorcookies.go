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
			http.SetCookie(w, &http.Cookie{
				Name: c.Name, Path: "/", Domain: domain,
				MaxAge: -1, Expires: time.Unix(0, 0),
				Secure: h.secureCookies(r), HttpOnly: true, SameSite: http.SameSiteLaxMode,
			})
		}
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
