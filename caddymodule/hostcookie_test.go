package caddymodule_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/consentgate/consentgate/caddymodule/gatewaytest"
	"github.com/consentgate/consentgate/consent/cookie"
)

// TestConsentCookieHostPrefix: over HTTPS, without cookie_domain, the
// consent cookie is __Host-consentgate, which browsers take from the host
// alone (Secure, Path=/, no Domain), so that a sibling subdomain cannot
// plant a copy of another visitor's consent. A visitor whose cookie was set
// before, under the plain name, keeps their choice; their next cookie comes
// under the new name, and the old one is expired. The MAC covers the name:
// a value moved to the other name counts for nothing. Beside a visitor's
// own __Host- cookie a plain one counts only to narrow it: a withdrawal
// made since on an instance not yet upgraded does; a copy of someone's,
// older or newer, planted there does not. Over plain HTTP, and with
// cookie_domain, the name stays consentgate. The
// second layer lists the name the browser keeps, and the upstream sees
// neither.
func TestConsentCookieHostPrefix(t *testing.T) {
	up := serveCookieEcho(t)
	tlsPort, plainPort, domainPort := freePort(t), freePort(t), freePort(t)
	keys := expiryKeys.directive()
	gatewaytest.Start(t, fmt.Sprintf(`{
	admin off
	persist_config off
	skip_install_trust
	local_certs
	log {
		level ERROR
	}
}
https://localhost:%[1]d {
	tls internal
	consent {
		%[4]s
	}
	reverse_proxy 127.0.0.1:%[5]d
}
http://127.0.0.1:%[2]d {
	consent {
		%[4]s
	}
	reverse_proxy 127.0.0.1:%[5]d
}
https://shop.example.test:%[3]d {
	tls internal
	consent {
		%[4]s
		cookie_domain example.test
	}
	reverse_proxy 127.0.0.1:%[5]d
}`, tlsPort, plainPort, domainPort, keys, up))
	// A browser that trusts the internal CA, and finds shop.example.test
	// on the loopback.
	client := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true},
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			_, port, _ := net.SplitHostPort(addr)
			return new(net.Dialer).DialContext(ctx, network, "127.0.0.1:"+port)
		},
	}}
	secure := fmt.Sprintf("https://localhost:%d", tlsPort)
	plain := baseURL(plainPort)
	shared := fmt.Sprintf("https://shop.example.test:%d", domainPort)
	for _, site := range []string{secure, shared} {
		waitForCertificate(t, client, site)
	}

	plainCodec, hostCodec := expiryKeys.codec(t), expiryKeys.codecNamed(t, "__Host-consentgate")
	version := getState(t, client, plain).PolicyVersion
	encode := func(codec *cookie.Codec, id string, purposes []string, age time.Duration) string {
		v, err := codec.Encode(cookie.Consent{ID: id, Version: version, Purposes: purposes, Time: time.Now().Add(-age).Unix()})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	// choose posts a choice with the given Cookie header and returns the
	// cookies the answer sets, by name.
	choose := func(base, cookies, body string) map[string][]*http.Cookie {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, base+"/.consent/choice", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if cookies != "" {
			req.Header.Set("Cookie", cookies)
		}
		resp, out := do(t, client, req)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("choice on %s: %d %s", base, resp.StatusCode, out)
		}
		return cookiesSet(resp)
	}
	// one is the only cookie called name that set holds; it fails the
	// test unless it is set (expire false) or expired (expire true).
	one := func(what string, set map[string][]*http.Cookie, name string, expire bool) *http.Cookie {
		t.Helper()
		if len(set[name]) != 1 || (set[name][0].MaxAge < 0) != expire {
			t.Fatalf("%s: cookies set %v, want %s once, expired: %v", what, set, name, expire)
		}
		return set[name][0]
	}

	// A fresh choice over HTTPS: the prefixed name only.
	set := choose(secure, "", `{"all":true}`)
	issued := one("a fresh choice over HTTPS", set, "__Host-consentgate", false)
	if !issued.Secure || issued.Path != "/" || issued.Domain != "" || !issued.HttpOnly || len(set) != 1 {
		t.Errorf("a fresh choice over HTTPS set %v, want __Host-consentgate alone, Secure, Path=/ and no Domain", set)
	}
	if s := getState(t, client, secure, "Cookie", "__Host-consentgate="+issued.Value); !s.Decided || !s.Purposes["analytics"] {
		t.Errorf("the __Host- cookie does not hold the choice: %+v", s)
	}

	// A visitor with a cookie from before keeps their choice, and their
	// next cookie, after a choice or recorded without one (a privacy
	// signal's default), has the new name while the old one is expired.
	old := encode(plainCodec, "old-visitor", []string{"analytics", "marketing"}, time.Hour)
	if s := getState(t, client, secure, "Cookie", "consentgate="+old); !s.Decided || !s.Purposes["analytics"] {
		t.Errorf("a cookie set before the prefix lost its choice: %+v", s)
	}
	set = choose(secure, "consentgate="+old, `{"all":false}`)
	renewed := one("a choice with a cookie from before", set, "__Host-consentgate", false)
	if gone := one("a choice with a cookie from before", set, "consentgate", true); gone.Domain != "" {
		t.Errorf("the old cookie is expired on Domain=%q, want host-only", gone.Domain)
	}
	if c, err := hostCodec.Decode(renewed.Value); err != nil || c.ID != "old-visitor" {
		t.Errorf("the new cookie continues consent id %q (%v), want old-visitor", c.ID, err)
	}
	req, _ := http.NewRequest(http.MethodGet, secure+"/page", nil)
	req.Header.Set("Accept", "text/html")
	req.Header.Set("Sec-GPC", "1")
	req.Header.Set("Cookie", "consentgate="+old)
	resp, _ := do(t, client, req)
	set = cookiesSet(resp)
	one("a privacy signal's default recorded", set, "__Host-consentgate", false)
	one("a privacy signal's default recorded", set, "consentgate", true)

	// Values moved to the other name, and cookies under both names.
	planted := encode(plainCodec, "someone", []string{"analytics"}, 3*time.Hour)
	refused := encode(hostCodec, "visitor", nil, 2*time.Hour)
	acceptedBefore := encode(hostCodec, "visitor", []string{"analytics"}, time.Hour)
	withdrawnOnOld := encode(plainCodec, "visitor", nil, 0)
	// Minted where the plain name is still set (plain HTTP, a site with
	// cookie_domain and the same keys), so newer than the visitor's own.
	plantedNewer := encode(plainCodec, "someone", []string{"analytics"}, 30*time.Minute)
	for _, tc := range []struct {
		what, cookies string
		decided       bool
	}{
		{"a __Host- value under the plain name", "consentgate=" + issued.Value, false},
		{"a plain value under the __Host- name", "__Host-consentgate=" + old, false},
		{"a copy from before the prefix beside the visitor's own refusal", "consentgate=" + planted + "; __Host-consentgate=" + refused, true},
		{"a withdrawal on an instance not yet upgraded", "__Host-consentgate=" + acceptedBefore + "; consentgate=" + withdrawnOnOld, true},
		{"a newer copy of someone's beside the visitor's own refusal", "consentgate=" + plantedNewer + "; __Host-consentgate=" + refused, true},
	} {
		if s := getState(t, client, secure, "Cookie", tc.cookies); s.Decided != tc.decided || s.Purposes["analytics"] {
			t.Errorf("%s: decided %v, analytics %v; want decided %v, analytics off", tc.what, s.Decided, s.Purposes["analytics"], tc.decided)
		}
	}

	// Plain HTTP, and cookie_domain: the plain name. A __Host- cookie from
	// before cookie_domain still counts, and the next choice expires it.
	set = choose(plain, "", `{"all":true}`)
	if c := one("a choice over HTTP", set, "consentgate", false); c.Secure || c.Domain != "" || len(set) != 1 {
		t.Errorf("a choice over HTTP set %v, want consentgate alone, not Secure, no Domain", set)
	}
	earlier := encode(hostCodec, "before-domain", []string{"analytics"}, time.Hour)
	if s := getState(t, client, shared, "Cookie", "__Host-consentgate="+earlier); !s.Decided || !s.Purposes["analytics"] {
		t.Errorf("with cookie_domain, a __Host- cookie from before lost its choice: %+v", s)
	}
	set = choose(shared, "__Host-consentgate="+earlier, `{"all":true}`)
	if c := one("a choice with cookie_domain", set, "consentgate", false); !c.Secure || c.Domain != "example.test" {
		t.Errorf("with cookie_domain the cookie is %v, want Secure on Domain=example.test", c)
	}
	if gone := one("a choice with cookie_domain", set, "__Host-consentgate", true); !gone.Secure || gone.Domain != "" {
		t.Errorf("the __Host- cookie is expired as %v, which browsers ignore", gone)
	}

	// The second layer names the cookie the browser keeps.
	for _, tc := range []struct{ site, want string }{
		{secure, "__Host-consentgate 210d"},
		{plain, "consentgate 210d"},
		{shared, "consentgate 210d"},
	} {
		if listed := listedOwnCookies(t, client, tc.site, "/page"); strings.Join(listed, ", ") != tc.want {
			t.Errorf("%s: the second layer lists %q, want %q", tc.site, listed, tc.want)
		}
	}

	// The upstream sees neither name.
	_, body := get(t, client, secure+"/echo", "Cookie", "cart=42; consentgate="+old+"; __Host-consentgate="+issued.Value+"; theme=dark")
	if body != `["cart=42; theme=dark"]` {
		t.Errorf("the upstream saw %s, want the visitor's other cookies alone", body)
	}
}

// waitForCertificate waits until site answers over HTTPS: the internal CA
// issues its certificate in the background.
func waitForCertificate(t *testing.T, c *http.Client, site string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		resp, err := c.Get(site + "/.consent/state")
		if err == nil {
			resp.Body.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no certificate: %v", site, err)
		}
	}
}

// cookiesSet returns the cookies an answer sets, by name.
func cookiesSet(resp *http.Response) map[string][]*http.Cookie {
	set := map[string][]*http.Cookie{}
	for _, c := range resp.Cookies() {
		set[c.Name] = append(set[c.Name], c)
	}
	return set
}
