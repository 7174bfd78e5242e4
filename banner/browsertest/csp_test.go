package browsertest

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/consentgate/consentgate/caddymodule/gatewaytest"
)

// The Google tag as a CSP-aware site writes it: the loader and the inline
// setup, each allowed by the page's policy.
const cspInline = `window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments)}gtag('js',new Date());gtag('config', 'G-CSPTEST');`

func cspPage(nonceAttr string) string {
	return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Strict CSP</title>` +
		`<script async` + nonceAttr + ` src="https://www.googletagmanager.com/gtag/js?id=G-CSPTEST"></script>` +
		`<script` + nonceAttr + `>` + cspInline + `</script></head><body><main><h1>Strict CSP</h1><p>A page with a strict policy.</p></main></body></html>`
}

// startCSPSite serves one page with the given Content-Security-Policy behind
// the gateway.
func startCSPSite(t *testing.T, policy, page string) string {
	t.Helper()
	return startCSPSiteWith(t, policy, page, "")
}

// startCSPSiteWith is startCSPSite with extra consent subdirectives (such
// as "csp enforce").
func startCSPSiteWith(t *testing.T, policy, page, extra string) string {
	t.Helper()
	port := gatewaytest.FreePort(t)
	gatewaytest.StartSites(t, fmt.Sprintf(`:%d {
	consent {
		privacy_policy /privacy.html
		%s
	}
	header Content-Security-Policy %q
	header Content-Type "text/html; charset=utf-8"
	respond `+"`%s`"+`
}`, port, extra, policy, page))
	gatewaytest.WaitListening(t, port)
	return gatewaytest.BaseURL(port)
}

// watchViolations records every CSP violation the page reports, from before
// its first script runs (a script the DevTools protocol adds is not subject
// to the page's policy).
func (p *page) watchViolations() {
	p.t.Helper()
	p.do(chromedp.Func(func(ctx context.Context, tt *chromedp.Target) error {
		_, err := cdp.Call(ctx, tt, cdppage.AddScriptToEvaluateOnNewDocument,
			cdppage.AddScriptToEvaluateOnNewDocumentParams{Source: `window.__violations = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__violations.push(e.effectiveDirective + ' ' + (e.blockedURI || 'inline'));
});`})
		return err
	}))
}

func (p *page) expectNoViolation(when string) {
	p.t.Helper()
	if v := p.violations(); len(v) > 0 {
		p.t.Errorf("%s the page's policy blocked: %v", when, v)
	}
}

// violations lists "directive blocked-URI" for each violation so far.
func (p *page) violations() []string {
	p.t.Helper()
	return evalJS[[]string](p, `window.__violations || []`)
}

// gtagRan holds once the released Google tag has loaded and its inline
// setup has run.
const gtagRan = `(window.__tracked || []).indexOf('www.googletagmanager.com/gtag/js') >= 0 &&
	(window.dataLayer || []).some(function (e) { return e[0] === 'config' && e[1] === 'G-CSPTEST'; })`

// TestNoncedCSP: under a nonce-based policy the banner works, consent
// activates the blocked Google tag (external and inline) without a reload,
// and the policy blocks nothing the gateway or the banner added. With
// 'strict-dynamic' a script another script creates may run; under a nonce
// alone it runs only if it carries the nonce, so the released scripts must
// be re-created with the page's nonce.
func TestNoncedCSP(t *testing.T) {
	for _, tc := range []struct{ name, nonce, scriptSrc string }{
		{"with 'strict-dynamic'", "cHJvb2Ytb2Ytbm9uY2U", " 'strict-dynamic'"},
		{"nonce only", "bm9uY2Utb25seQ", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			policy := "script-src 'nonce-" + tc.nonce + "'" + tc.scriptSrc + "; object-src 'none'; base-uri 'none'"
			p := newPage(t, startCSPSite(t, policy, cspPage(` nonce="`+tc.nonce+`"`)))
			p.watchViolations()
			p.open("/")
			p.waitFirstLayer()
			p.waitIdle()
			p.expectNoThirdParty("before consent, under " + policy)
			p.expectNoViolation("before consent")
			p.watchChanges()
			navs := p.navigations()
			p.click("Accept all", `cg.control(cg.first(), 'accept_all')`)
			p.waitBannerGone()
			p.waitHosts("after Accept all under "+policy+", the Google tag loads", "www.googletagmanager.com")
			p.waitFor("the released Google tag and its inline setup ran", gtagRan)
			p.expectNoReload("Accept all under "+policy, navs)
			p.expectNoViolation("after consent")
		})
	}
}

// TestStrictCSPUnderOwnEnforcedPolicy: a page policy that allows nothing
// but its nonced scripts, and the gateway's own policy enforced under the
// same header name. The page's policy is still adapted, so the banner's
// stylesheet applies and the choice reaches the gateway. The own policy of
// a page served before consent does not admit the Google loader's host, so
// Accept all reloads the page: the new one carries the policy for the
// consent given, and the Google tag loads and runs. Reject all grants
// nothing new and does not reload.
func TestStrictCSPUnderOwnEnforcedPolicy(t *testing.T) {
	const nonce = "b3duLXBvbGljeQ"
	base := startCSPSiteWith(t, "default-src 'none'; script-src 'nonce-"+nonce+"'; base-uri 'none'", cspPage(` nonce="`+nonce+`"`), "csp enforce")
	p := newPage(t, base)
	p.watchViolations()
	p.open("/")
	p.waitFirstLayer()
	p.waitFor("the banner's stylesheet applies", `Array.prototype.some.call(document.styleSheets, function (s) {
		return s.href && s.href.indexOf('/.consent/') >= 0 && s.cssRules.length > 0; })`)
	p.waitIdle()
	p.expectNoThirdParty("before consent, under page and own policies")
	p.expectNoViolation("before consent")
	p.watchChanges()
	navs := p.navigations()
	p.click("Accept all", `cg.control(cg.first(), 'accept_all')`)
	p.waitReloaded("Accept all under the gateway's enforced policy reloads the page", navs)
	p.waitHosts("after Accept all and the reload, the Google tag loads", "www.googletagmanager.com")
	p.waitFor("the Google tag and its inline setup ran", gtagRan)
	p.expectNoViolation("on the page reloaded under the policies for the consent given")
	if l := p.layers(); l.First || l.Second {
		t.Errorf("the banner is shown again after consent: %+v", l)
	}

	p = newPage(t, base)
	p.open("/")
	p.waitFirstLayer()
	p.watchChanges()
	navs = p.navigations()
	p.rejectAll()
	p.expectNoReload("Reject all under the gateway's enforced policy (it grants nothing)", navs)
	p.expectNoThirdParty("after Reject all, under page and own policies")
}

// TestPlaceholderUnderOwnEnforcedPolicy: under the gateway's enforced
// policy a click-to-load placeholder offers no "Load this once" (it grants
// nothing, so the policy would block the frame); "Always allow" reloads the
// page, which then serves the embed and admits its host.
func TestPlaceholderUnderOwnEnforcedPolicy(t *testing.T) {
	p := newPage(t, startShop(t, "csp enforce"))
	p.watchViolations()
	p.open("/")
	p.rejectAll()
	p.waitPlaceholderButton("the YouTube placeholder's Always allow YouTube button", youtubeFrame, alwaysAllowYTName)
	if evalJS[bool](p, "!!"+placeholderButton(youtubeFrame, loadOnceLabel)) {
		t.Errorf("under csp enforce the placeholder offers Load this once, which the policy would block: %s", p.describeFrame(youtubeFrame))
	}
	p.watchChanges()
	navs := p.navigations()
	p.clickInFrame("the YouTube placeholder's Always allow YouTube button", youtubeFrame, alwaysAllowYTName)
	p.waitReloaded("Always allow YouTube under the gateway's enforced policy reloads the page", navs)
	p.waitFor("the reloaded page serves the YouTube embed", youtubeLoaded)
	p.waitHosts("after Always allow YouTube and the reload, the YouTube video loads", "www.youtube.com")
	p.expectNoViolation("on the page reloaded for the YouTube grant")
}

// TestHashOnlyCSP: under a policy that allows only the page's inline script
// (by hash) and the Google host (by name) — not even the site's own files —
// the gateway adds a nonce for its own markup only, and the released inline
// script still matches its hash.
func TestHashOnlyCSP(t *testing.T) {
	sum := sha256.Sum256([]byte(cspInline))
	hash := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	base := startCSPSite(t, "script-src https://www.googletagmanager.com "+hash+"; object-src 'none'", cspPage(""))
	p := newPage(t, base)
	p.watchViolations()
	p.open("/")
	p.waitFirstLayer()
	p.waitIdle()
	p.expectNoThirdParty("before consent, under a hash-based CSP")
	p.expectNoViolation("before consent")
	p.click("Accept all", `cg.control(cg.first(), 'accept_all')`)
	p.waitBannerGone()
	p.waitFor("the Google tag and its inline setup ran", gtagRan)
	p.expectNoViolation("after consent")
}

// TestCSPReportsFeedTheScan: with the gateway's own policy on (report-only),
// a third party that page code loads at run time, past every other layer,
// is reported by the browser and shows up in the third-party scan.
func TestCSPReportsFeedTheScan(t *testing.T) {
	port, adminPort := gatewaytest.FreePort(t), gatewaytest.FreePort(t)
	page := `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Run time</title></head><body><main><h1>Run time</h1>` +
		`<script>setTimeout(function () { var i = new Image(); i.src = 'https://cdn.unknown-widgets.example/pixel.gif'; document.body.appendChild(i); }, 0);</script>` +
		`</main></body></html>`
	gatewaytest.Start(t, gatewaytest.Globals(adminPort)+fmt.Sprintf(`:%d {
	consent {
		csp report_only
	}
	header Content-Type "text/html; charset=utf-8"
	respond /page.html `+"`%s`"+`
	respond 404
}`, port, page))
	gatewaytest.WaitListening(t, port)
	p := newPage(t, gatewaytest.BaseURL(port))
	p.open("/page.html")
	p.waitHosts("the page's run-time image loads (report-only)", "cdn.unknown-widgets.example")
	deadline := time.Now().Add(waitTimeout)
	for {
		resp, body := gatewaytest.Get(t, gatewaytest.NewClient(t), fmt.Sprintf("http://localhost:%d/consent/scan", adminPort))
		if resp.StatusCode == 200 && strings.Contains(body, `"origin": "cdn.unknown-widgets.example"`) && strings.Contains(body, `"via": "csp-report"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the browser's report did not reach the scan:\n%s", body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
