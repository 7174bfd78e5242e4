package browsertest

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/consentgate/consentgate/caddymodule/gatewaytest"
)

// turboSource reads Hotwire Turbo (npm package @hotwired/turbo, version 8):
// $CONSENTGATE_TURBO names turbo.es2017-umd.js, else see npmFile.
func turboSource(t *testing.T) string {
	t.Helper()
	return npmFile(t, "CONSENTGATE_TURBO", "@hotwired/turbo", "dist/turbo.es2017-umd.js", "the Turbo Drive test")
}

// turboPage is one page of a small site that navigates with Turbo Drive:
// Turbo and the site's stylesheet are tracked (data-turbo-track="reload"),
// as Rails' layouts have them, so that Turbo reloads the page in full when
// what it tracks differs between two pages.
func turboPage(title, body string) string {
	return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>` + title + `</title>` +
		`<script src="/turbo.js" data-turbo-track="reload"></script>` +
		`<link rel="stylesheet" href="/site.css" data-turbo-track="reload"></head>` +
		`<body><main><h1>` + title + `</h1>` + body + `</main></body></html>`
}

// startTurboSite serves the site's pages and Turbo from files through a
// gateway of `consent` with no other configuration.
func startTurboSite(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"turbo.js": turboSource(t),
		"site.css": "main { font: 16px sans-serif }\n",
		"a.html":   turboPage("Page A", `<p><a id="next" href="/b.html">Page B</a></p>`),
		"b.html": turboPage("Page B", `<script src="https://www.google-analytics.com/analytics.js?f=401"></script>`+
			`<img src="https://www.facebook.com/tr?f=402" width="1" height="1" alt="">`+
			`<p><button type="button" data-consent-action="withdraw">Withdraw consent</button></p>`+
			`<p><a id="back" href="/a.html">Page A</a> <a id="next" href="/c.html">Page C</a></p>`),
		"c.html": turboPage("Page C", `<script src="https://www.google-analytics.com/analytics.js?f=403"></script>`+
			`<img src="https://www.facebook.com/tr?f=404" width="1" height="1" alt="">`+
			`<p><a id="back" href="/b.html">Page B</a></p>`),
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	port := gatewaytest.FreePort(t)
	gatewaytest.StartSites(t, fmt.Sprintf(":%d {\n\tconsent\n\troot * %s\n\tfile_server\n}", port, dir))
	gatewaytest.WaitListening(t, port)
	return gatewaytest.BaseURL(port)
}

// turboVisit follows the page's link #id as a visitor clicks it, and
// waits until Turbo has rendered the page titled title without a full
// load: Turbo reloads in full when a tracked head element changed, which
// the gateway's own head elements must never make it do.
func (p *page) turboVisit(id, title string) {
	p.t.Helper()
	navs := p.navigations()
	evalJS[bool](p, `(window.__turboMarker = 'no full load since', true)`)
	p.click("the link to "+title, `document.getElementById('`+id+`')`)
	p.waitFor("Turbo renders "+title, `document.querySelector('h1') && document.querySelector('h1').textContent === '`+title+`' && document.readyState === 'complete'`)
	p.waitIdle()
	if n := p.navigations(); n != navs || evalJS[string](p, `window.__turboMarker || ''`) == "" {
		p.t.Fatalf("following the link to %s loaded the page in full (%d main-frame navigations); Turbo Drive must render it in place", title, n-navs)
	}
}

// historyBack goes back as the browser's Back button does and waits until
// Turbo has restored the page titled title, without a full load.
func (p *page) historyBack(title string) {
	p.t.Helper()
	navs := p.navigations()
	evalJS[bool](p, `(window.__turboMarker = 'no full load since', history.back(), true)`)
	p.waitFor("Turbo restores "+title, `document.querySelector('h1') && document.querySelector('h1').textContent === '`+title+`'`)
	p.waitIdle()
	if evalJS[string](p, `window.__turboMarker || ''`) == "" {
		p.t.Fatalf("going back to %s loaded the page in full (%d main-frame navigations); Turbo Drive must restore it in place", title, p.navigations()-navs)
	}
}

// expectOneBanner fails unless the page has one of each of the gateway's
// parts, and one banner in its body: Turbo appends to the head the script
// elements of a new page that the current head lacks, and runs them.
func (p *page) expectOneBanner(when string) {
	p.t.Helper()
	for what, expr := range map[string]string{
		"consent config blocks": `document.querySelectorAll('#consentgate-config').length`,
		"shims":                 `document.querySelectorAll('script[src*="/.consent/shim"]').length`,
		"banner scripts":        `document.querySelectorAll('script[src*="/.consent/banner"]').length`,
		"banner stylesheets":    `document.querySelectorAll('link[href*="/.consent/banner"]').length`,
		"banners":               `document.querySelectorAll('.cg').length`,
	} {
		if n := evalJS[float64](p, expr); n != 1 {
			p.t.Errorf("%s the page has %v %s, want 1", when, n, what)
		}
	}
}

// TestTurboDriveKeepsOneBannerAndTheChoice: on a site that navigates with
// Turbo Drive, a visitor who allows Analytics only on one page finds on
// the next, rendered by Turbo, one config block that says so, one shim and
// one banner (one request per click), Analytics loading and Marketing
// held; coming back to the first page (from Turbo's cache) and going on
// again keeps that; after withdrawing, the next Turbo page says withdrawn
// and loads nothing. No visit is a full load.
func TestTurboDriveKeepsOneBannerAndTheChoice(t *testing.T) {
	p := newPage(t, startTurboSite(t))
	p.open("/a.html")
	p.waitFirstLayer()
	p.waitFor("Turbo Drive runs", `window.Turbo && Turbo.session && Turbo.session.drive`)
	p.openSettings()
	p.click("the Analytics switch", `cg.toggle(cg.second(), 'analytics')`)
	p.waitFor("the Analytics switch turns on", `cg.checked(cg.toggle(cg.second(), 'analytics'))`)
	p.click("the second layer's Save selection button", `cg.control(cg.second(), 'save')`)
	p.waitBannerGone()
	p.forgetRequests()

	analyticsOnly := func(when string) {
		t.Helper()
		p.expectOneBanner(when)
		if c := p.config(); !c.State.Decided || !c.State.Purposes["analytics"] || c.State.Purposes["marketing"] {
			t.Errorf("%s the config block says %+v, want decided with analytics and without marketing", when, c.State)
		}
		if st := p.apiState(); !st.Purposes["analytics"] || st.Purposes["marketing"] {
			t.Errorf("%s window.consentgate.state is %+v, want analytics and not marketing", when, st)
		}
		p.expectReopenControl(when)
	}
	p.turboVisit("next", "Page B")
	analyticsOnly("on page B after allowing Analytics on page A,")
	p.waitQueries("on page B, the allowed analytics script loads", "f=401")
	p.expectHostsNotRequested("on page B, the refused marketing pixel stays blocked", "www.facebook.com")

	// Back to A (a Turbo restoration from its cache of A) and on to B
	// again (Turbo shows its copy of B, then the page it fetches).
	p.turboVisit("back", "Page A")
	analyticsOnly("back on page A,")
	p.turboVisit("next", "Page B")
	analyticsOnly("on page B again,")
	p.expectHostsNotRequested("on page B again, the refused marketing pixel stays blocked", "www.facebook.com")
	// The browser's Back button: Turbo restores A from its cache.
	p.historyBack("Page A")
	analyticsOnly("on page A after the browser's Back button,")
	p.turboVisit("next", "Page B")

	// Withdraw on B: one request, a reload, and C rendered by Turbo says
	// withdrawn.
	p.withdrawWith("page B's Withdraw consent button", `document.querySelector('main [data-consent-action=withdraw]')`)
	if posts := p.choicePosts(); len(posts) != 1 {
		t.Errorf("one click on Withdraw consent sent %d choices, want 1: %v", len(posts), posts)
	}
	p.forgetRequests()
	p.turboVisit("next", "Page C")
	when := "on page C after withdrawing on page B,"
	p.expectOneBanner(when)
	if c := p.config(); !c.State.Decided || slices.ContainsFunc([]string{"analytics", "marketing"}, func(id string) bool { return c.State.Purposes[id] }) {
		t.Errorf("%s the config block says %+v, want decided with nothing allowed", when, c.State)
	}
	if st := p.apiState(); st.Purposes["analytics"] || st.Purposes["marketing"] {
		t.Errorf("%s window.consentgate.state is %+v, want nothing allowed", when, st)
	}
	p.expectNoThirdParty(when)
}
