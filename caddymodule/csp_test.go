package caddymodule_test

import (
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/consentgate/consentgate/caddymodule/gatewaytest"
)

// startCSPSite serves gtagPage with the given page CSP (if any) under the
// header name (Content-Security-Policy or ...-Report-Only) and extra consent
// subdirectives, with an admin endpoint for the scan.
func startCSPSite(t *testing.T, name, pageCSP, extra string) (site, admin string) {
	t.Helper()
	port, adminPort := freePort(t), freePort(t)
	header := ""
	if pageCSP != "" {
		header = fmt.Sprintf("header /page.html %s %q", name, pageCSP)
	}
	gatewaytest.Start(t, gatewaytest.Globals(adminPort)+fmt.Sprintf(`:%d {
	consent {
%s
	}
	%s
	respond /page.html `+"`%s`"+`
	header /page.html Content-Type text/html
	respond "ok"
}`, port, extra, header, gtagPage))
	return baseURL(port), fmt.Sprintf("http://localhost:%d", adminPort)
}

const (
	enforcedCSP   = "Content-Security-Policy"
	reportOnlyCSP = "Content-Security-Policy-Report-Only"
)

// TestPageNonceCarriedByInjectedMarkup: under a strict nonce-based CSP, the
// shim, the Consent Mode script, the stylesheet and the banner script carry
// the page's nonce, and the policy is left exactly as it was.
func TestPageNonceCarriedByInjectedMarkup(t *testing.T) {
	const policy = "script-src 'nonce-R4nd0m' 'strict-dynamic'; object-src 'none'; base-uri 'none'"
	base, _ := startCSPSite(t, enforcedCSP, policy, "consent_mode basic")
	resp, page := get(t, newClient(t), base+"/page.html")
	if got := resp.Header.Get("Content-Security-Policy"); got != policy {
		t.Errorf("the page's policy was changed to %q", got)
	}
	head, _ := parsePage(t, page)
	var scripts int
	for _, n := range head {
		switch {
		case n.Data == "script" && (strings.HasPrefix(attr(n, "src"), "/.consent/") || strings.Contains(escText(n), `gtag("consent"`)):
			scripts++
			if attr(n, "nonce") != "R4nd0m" {
				t.Errorf("injected script without the page's nonce: %v", n.Attr)
			}
		case n.Data == "link" && strings.HasPrefix(attr(n, "href"), "/.consent/"):
			if attr(n, "nonce") != "R4nd0m" {
				t.Errorf("injected stylesheet without the page's nonce: %v", n.Attr)
			}
		}
	}
	if scripts != 3 {
		t.Errorf("found %d injected scripts, want consent mode, shim and banner", scripts)
	}
}

// TestStrictPolicyWithoutNonceGetsOnlyOurs: a hash-only policy gains a nonce
// for the injected markup alone; a policy relying on 'unsafe-inline' keeps
// it in force.
func TestStrictPolicyWithoutNonceGetsOnlyOurs(t *testing.T) {
	base, _ := startCSPSite(t, enforcedCSP, "script-src 'sha256-AAAA'; img-src 'self'", "")
	resp, page := get(t, newClient(t), base+"/page.html")
	got := resp.Header.Get("Content-Security-Policy")
	head, _ := parsePage(t, page)
	nonce := attr(head[0], "nonce")
	if len(nonce) < 16 || got != "script-src 'sha256-AAAA' 'nonce-"+nonce+"'; img-src 'self'" {
		t.Errorf("policy %q, shim nonce %q", got, nonce)
	}
	if _, page2 := get(t, newClient(t), base+"/page.html"); strings.Contains(page2, nonce) {
		t.Errorf("a nonce was reused across responses")
	}

	base, _ = startCSPSite(t, enforcedCSP, "script-src 'self' 'unsafe-inline' https://www.googletagmanager.com", "")
	resp, page = get(t, newClient(t), base+"/page.html")
	if got := resp.Header.Get("Content-Security-Policy"); got != "script-src 'self' 'unsafe-inline' https://www.googletagmanager.com" {
		t.Errorf("a policy that already admits the banner was changed: %q", got)
	}
	if strings.Contains(page, "nonce=") {
		t.Errorf("nonce added where 'unsafe-inline' rules")
	}
}

// TestOwnPolicyAndReports: the opt-in policy allows the site and the vendors
// the visitor allows, in report-only mode first; reports of run-time loads
// feed the third-party scan, naming a catalogued tracker that slipped
// through.
func TestOwnPolicyAndReports(t *testing.T) {
	base, admin := startCSPSite(t, "", "", "csp report_only https://cdn.example.com")
	c := newClient(t)
	resp, _ := get(t, c, base+"/page.html")
	own := resp.Header.Get("Content-Security-Policy-Report-Only")
	if !strings.HasPrefix(own, "default-src 'self' data: blob: https://cdn.example.com") || !strings.Contains(own, "report-uri /.consent/csp-report") ||
		strings.Contains(own, "google-analytics.com") || !strings.Contains(own, "paypal.com") {
		t.Errorf("policy before consent: %q", own)
	}
	if resp.Header.Get("Content-Security-Policy") != "" {
		t.Errorf("report-only mode enforced a policy")
	}
	postChoice(t, c, base, `{"purposes":{"analytics":true}}`)
	resp, _ = get(t, c, base+"/page.html")
	if own := resp.Header.Get("Content-Security-Policy-Report-Only"); !strings.Contains(own, " google-analytics.com *.google-analytics.com") || strings.Contains(own, "facebook") {
		t.Errorf("policy after granting analytics: %q", own)
	}

	post := func(ct, body string) int {
		req, _ := http.NewRequest("POST", base+"/.consent/csp-report", strings.NewReader(body))
		req.Header.Set("Content-Type", ct)
		resp, _ := do(t, newClient(t), req)
		return resp.StatusCode
	}
	if s := post("application/csp-report", `{"csp-report":{"document-uri":"`+base+`/page.html","blocked-uri":"https://connect.facebook.net/en_US/fbevents.js","effective-directive":"script-src-elem"}}`); s != 204 {
		t.Errorf("legacy report: %d", s)
	}
	if s := post("application/reports+json", `[{"type":"csp-violation","body":{"documentURL":"`+base+`/shop","blockedURL":"https://unknown-widget.example/w.js","effectiveDirective":"script-src-elem"}}]`); s != 204 {
		t.Errorf("Reporting API report: %d", s)
	}
	if s := post("application/csp-report", `{"csp-report":`); s != 400 {
		t.Errorf("malformed report: %d", s)
	}
	if s := post("text/plain", `x`); s != 400 {
		t.Errorf("wrong content type: %d", s)
	}
	if s := post("application/csp-report", `{"csp-report":{"blocked-uri":"`+strings.Repeat("x", 64<<10)+`"}}`); s != 413 {
		t.Errorf("report over 64 KiB: %d", s)
	}
	var rep struct {
		Entries []struct{ Path, Kind, Origin, Via, Vendor string }
	}
	adminJSON(t, "GET", admin+"/consent/scan?site=127.0.0.1", 200, &rep)
	found := map[string]bool{}
	for _, e := range rep.Entries {
		found[strings.Join([]string{e.Path, e.Kind, e.Origin, e.Via, e.Vendor}, " ")] = true
	}
	for _, want := range []string{
		"/page.html script connect.facebook.net csp-report facebook-pixel",
		"/shop script unknown-widget.example csp-report ",
	} {
		if !found[want] {
			t.Errorf("scan lacks %q: %v", want, found)
		}
	}
}

// TestPagePolicyAdaptedBesideOwnPolicy: with the gateway's own policy on, a
// page policy under the same header name is still adapted for the banner
// (its stylesheet by nonce, its fetches to the prefix), and the own policy
// is added beside it, not in its place.
func TestPagePolicyAdaptedBesideOwnPolicy(t *testing.T) {
	const page = "default-src 'none'; script-src 'nonce-R4nd0m'"
	for _, tt := range []struct{ header, mode string }{
		{enforcedCSP, "enforce"},
		{reportOnlyCSP, "report_only"},
	} {
		t.Run(tt.mode, func(t *testing.T) {
			base, _ := startCSPSite(t, tt.header, page, "csp "+tt.mode)
			resp, body := get(t, newClient(t), base+"/page.html")
			got := resp.Header.Values(tt.header)
			if len(got) != 2 {
				t.Fatalf("%s: %q, want the page's policy and the gateway's", tt.header, got)
			}
			head, _ := parsePage(t, body)
			nonce := ""
			for _, n := range head {
				if n.Data == "link" && strings.HasPrefix(attr(n, "href"), "/.consent/") {
					nonce = attr(n, "nonce")
				}
			}
			if nonce == "" {
				t.Fatal("the injected stylesheet carries no nonce")
			}
			if tt.mode == "enforce" && nonce != "R4nd0m" {
				t.Errorf("injected markup carries nonce %q, not the page's", nonce)
			}
			adapted := got[0]
			for _, want := range []string{"default-src 'none'", "script-src 'nonce-R4nd0m'", "style-src 'nonce-" + nonce + "'", "connect-src " + base + "/.consent/"} {
				if !strings.Contains(adapted, want) {
					t.Errorf("the page's policy lacks %q: %q", want, adapted)
				}
			}
			if own := got[1]; !strings.HasPrefix(own, "default-src 'self' data: blob:") || !strings.Contains(own, "report-uri /.consent/csp-report") {
				t.Errorf("second policy is not the gateway's own: %q", own)
			}
		})
	}
}

// TestNoReportEndpointWithoutCSP: a gateway that sends no policy asks for no
// reports, so it takes none: a post there is answered like any unknown
// consent path, and nothing reaches the log.
func TestNoReportEndpointWithoutCSP(t *testing.T) {
	site, _, logFile := auditGateway(t, "no-csp")
	req, _ := http.NewRequest("POST", site+"/.consent/csp-report", strings.NewReader(`{"csp-report":{"document-uri":"`+site+`/","blocked-uri":"https://planted.example/x.js","effective-directive":"script-src-elem"}}`))
	req.Header.Set("Content-Type", "application/csp-report")
	resp, body := do(t, newClient(t), req)
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(body, "no such consent endpoint") {
		t.Errorf("report without csp: %d %s, want 404", resp.StatusCode, body)
	}
	if logs, _ := os.ReadFile(logFile); strings.Contains(string(logs), "planted.example") {
		t.Errorf("a report was logged although the gateway sends no policy:\n%s", logs)
	}
}
