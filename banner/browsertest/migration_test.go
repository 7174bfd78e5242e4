package browsertest

import (
	"encoding/json"
	"maps"
	"slices"
	"testing"
)

const migrationNonce = "bWlncmF0aW9uLW5vbmNl"

// migrationRecorder defines window.__ran, with which the pages' inline
// scripts note their runs (window.__runs) and their order.
const migrationRecorder = `<script nonce="` + migrationNonce + `">window.__runs = {}; window.__order = []; window.__ran = function (k) { __runs[k] = (__runs[k] || 0) + 1; __order.push(k); };</script>`

// migrationPage is a site still carrying the markup of three client-side
// consent tools (docs/migration.md), under a nonce-based CSP without
// 'strict-dynamic', so a re-created script runs only if it keeps its nonce.
// Inline scripts note their runs with window.__ran.
func migrationPage() string {
	n := ` nonce="` + migrationNonce + `"`
	return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Migration</title>` + migrationRecorder +
		// Cookiebot, statistics → analytics; a catalogued URL, so the gateway neutralises it too.
		`<script type="text/plain" data-cookieconsent="statistics"` + n + ` src="https://www.googletagmanager.com/gtag/js?id=G-MIGRATE"></script>` +
		`<script type="text/plain" data-cookieconsent="statistics"` + n + `>window.__sawGtag = !!window.__gtagSaw; __ran('cookiebot-statistics');</script>` +
		`<script type="text/plain" data-cookieconsent="necessary"` + n + `>__ran('cookiebot-necessary');</script>` +
		`<script type="text/plain" data-cookieconsent="statistics, marketing"` + n + `>__ran('cookiebot-statistics+marketing');</script>` +
		`<script data-cookieconsent="ignore"` + n + `>__ran('cookiebot-ignore');</script>` +
		// CookieConsent (orestbida).
		`<script type="text/plain" data-category="analytics"` + n + `>__ran('cc-analytics');</script>` +
		`<script type="text/plain" data-category="marketing" data-service="Meta Pixel"` + n + ` src="https://connect.facebook.net/en_US/fbevents.js"></script>` +
		`<script type="text/plain" data-category="targeting"` + n + `>__ran('cc-targeting');</script>` +
		`<script type="text/plain" data-category="!analytics"` + n + `>__ran('cc-not-analytics');</script>` +
		// analytics by its category, but the URL is LinkedIn's Insight Tag (marketing).
		`<script type="text/plain" data-category="analytics"` + n + ` data-src="https://snap.licdn.com/li.lms-analytics/insight.min.js"></script>` +
		// Klaro: a service name that is a catalogued vendor, and one that is not.
		`<script type="text/plain" data-type="text/javascript" data-name="googleAnalytics"` + n + `>__ran('klaro-google-analytics');</script>` +
		`<script type="text/plain" data-type="text/javascript" data-name="facebook_pixel"` + n + ` data-src="https://connect.facebook.net/signals/config/123?v=2.9.1"></script>` +
		`<script type="text/plain" data-type="text/javascript" data-name="myChat"` + n + `>__ran('klaro-unknown');</script>` +
		`</head><body><main><h1>Migration</h1>` +
		`<button type="button" data-consent-action="open">Privacy settings</button>` +
		`<iframe title="Video" data-name="youtube" data-src="https://www.youtube.com/embed/migrate"></iframe>` +
		`<iframe title="Page" data-cookieconsent="marketing" data-cookieblock-src="https://www.facebook.com/plugins/page.php?href=migrate"></iframe>` +
		`</main></body></html>`
}

// runs are how often each inline script of migrationPage ran.
func (p *page) runs() map[string]int {
	p.t.Helper()
	return evalJS[map[string]int](p, `window.__runs || {}`)
}

// expectRuns fails unless exactly the named inline scripts ran, once each.
func (p *page) expectRuns(when string, names ...string) {
	p.t.Helper()
	want := map[string]int{}
	for _, n := range names {
		want[n] = 1
	}
	if got := p.runs(); !maps.Equal(got, want) {
		p.t.Errorf("%s the inline scripts ran %v; want each of %v exactly once, and nothing else", when, got, slices.Sorted(maps.Keys(want)))
	}
}

// expectFetchedOnce fails unless every host+path was requested exactly once.
func expectFetchedOnce(t *testing.T, when string, paths ...string) {
	t.Helper()
	n := map[string]int{}
	for _, h := range trackers.Hits() {
		n[h.Host+h.Path]++
	}
	for _, pth := range paths {
		if n[pth] != 1 {
			t.Errorf("%s %s was requested %d times; want exactly once.\nthe trackers received: %s", when, pth, n[pth], listOr(hitStrings(trackers.Hits())))
		}
	}
}

// TestMigrationFromClientSideConsentTools: the markup of Klaro, CookieConsent
// and Cookiebot is understood: nothing of it runs before consent (but
// strictly necessary ones), granting one purpose runs exactly its elements
// once each, in document order, with their nonce, and Accept all the rest,
// without a reload; an element the gateway neutralised as well runs once,
// as a script.
func TestMigrationFromClientSideConsentTools(t *testing.T) {
	base := startCSPSite(t, "script-src 'nonce-"+migrationNonce+"'; object-src 'none'; base-uri 'none'", migrationPage())
	p := newPage(t, base)
	p.watchViolations()
	p.open("/")
	p.waitFirstLayer()
	p.waitIdle()

	p.expectNoThirdParty("on a first visit, before any choice")
	p.expectRuns("before any choice,", "cookiebot-necessary", "cookiebot-ignore")
	if !evalJS[bool](p, `!!document.querySelector('script[data-cookieconsent][data-consent-purpose="analytics"]')`) {
		t.Error("the gateway did not neutralise the Cookiebot-marked Google tag (a catalogued URL); this test needs it to")
	}
	p.expectNoViolation("before consent")

	// Analytics only.
	p.watchChanges()
	navs := p.navigations()
	p.openSettings()
	p.click("the Analytics switch", `cg.toggle(cg.second(), 'analytics')`)
	p.waitFor("the Analytics switch turns on", `cg.checked(cg.toggle(cg.second(), 'analytics'))`)
	p.click("the second layer's Save selection button", `cg.control(cg.second(), 'save')`)
	p.waitBannerGone()
	p.waitHosts("after allowing Analytics, the Cookiebot-marked Google tag loads", "www.googletagmanager.com")
	p.waitFor("the analytics-marked inline scripts run", `['cookiebot-statistics', 'cc-analytics', 'klaro-google-analytics'].every(function (k) { return window.__runs[k]; })`)
	p.waitIdle()
	p.expectRuns("after allowing Analytics only,", "cookiebot-necessary", "cookiebot-ignore",
		"cookiebot-statistics", "cc-analytics", "klaro-google-analytics")
	if order := evalJS[[]string](p, `window.__order`); !slices.Equal(order[2:], []string{"cookiebot-statistics", "cc-analytics", "klaro-google-analytics"}) {
		t.Errorf("after allowing Analytics the inline scripts ran in the order %v; want document order", order)
	}
	if !evalJS[bool](p, `window.__sawGtag === true`) {
		t.Error("the inline Cookiebot script after the Google tag ran before it: scripts must run one after another, in document order")
	}
	expectFetchedOnce(t, "after allowing Analytics,", "www.googletagmanager.com/gtag/js")
	p.waitFor("the Google tag ran once", `(window.__tracked || []).filter(function (x) { return x === 'www.googletagmanager.com/gtag/js'; }).length === 1`)
	p.expectHostsNotRequested("after allowing Analytics only, nothing marked for marketing or social (nor a marketing URL marked analytics) may load",
		"connect.facebook.net", "facebook.com", "youtube.com", "snap.licdn.com")
	p.expectNoReload("allowing Analytics", navs)

	// Then everything.
	p.click("the page's privacy settings button", `document.querySelector('main [data-consent-action="open"]')`)
	p.waitSecondLayer()
	p.click("the second layer's Accept all button", `cg.control(cg.second(), 'accept_all')`)
	p.waitBannerGone()
	p.waitHosts("after Accept all, the rest loads", "connect.facebook.net", "www.facebook.com", "www.youtube.com", "snap.licdn.com")
	p.waitFor("the rest of the inline scripts run", `window.__runs['cc-targeting'] && window.__runs['klaro-unknown'] && window.__runs['cookiebot-statistics+marketing']`)
	p.waitFor("the embeds load their real address", `Array.prototype.every.call(document.querySelectorAll('main iframe'), function (f) {
		return /^https:\/\/www\.(youtube|facebook)\.com\//.test(f.src);
	})`)
	p.waitIdle()
	p.expectRuns("after Accept all,", "cookiebot-necessary", "cookiebot-ignore", "cookiebot-statistics", "cc-analytics",
		"klaro-google-analytics", "cookiebot-statistics+marketing", "cc-targeting", "klaro-unknown")
	expectFetchedOnce(t, "after Accept all,", "www.googletagmanager.com/gtag/js", "connect.facebook.net/en_US/fbevents.js",
		"connect.facebook.net/signals/config/123", "snap.licdn.com/li.lms-analytics/insight.min.js",
		"www.youtube.com/embed/migrate", "www.facebook.com/plugins/page.php")
	tracked := evalJS[[]string](p, `(window.__tracked || []).slice().sort()`)
	if want := []string{"connect.facebook.net/en_US/fbevents.js", "connect.facebook.net/signals/config/123",
		"snap.licdn.com/li.lms-analytics/insight.min.js", "www.googletagmanager.com/gtag/js"}; !slices.Equal(tracked, want) {
		t.Errorf("after Accept all the page's external scripts ran %v; want each of %v once", tracked, want)
	}
	if s := evalJS[string](p, `Array.prototype.filter.call(document.scripts, function (s) {
		return /text\/plain/i.test(s.type) && !/^!/.test(s.getAttribute('data-category') || '');
	}).map(function (s) { return s.outerHTML.slice(0, 120); }).join('\n')`); s != "" {
		t.Errorf("after Accept all these scripts are still inert:\n%s", s)
	}
	p.expectNoReload("Accept all", navs)
	p.expectNoViolation("after consent")

	// The next visit: everything runs at load, once.
	p.forgetRequests()
	p.open("/")
	p.waitFor("at load, the tool-marked scripts run", `window.__runs && window.__runs['klaro-unknown'] && window.__runs['cc-targeting']`)
	p.waitIdle()
	p.expectRuns("on the next visit, after Accept all,", "cookiebot-necessary", "cookiebot-ignore", "cookiebot-statistics", "cc-analytics",
		"klaro-google-analytics", "cookiebot-statistics+marketing", "cc-targeting", "klaro-unknown")
	expectFetchedOnce(t, "on the next visit,", "www.googletagmanager.com/gtag/js", "connect.facebook.net/en_US/fbevents.js",
		"connect.facebook.net/signals/config/123", "snap.licdn.com/li.lms-analytics/insight.min.js",
		"www.youtube.com/embed/migrate", "www.facebook.com/plugins/page.php")
	if !evalJS[bool](p, `window.__sawGtag === true`) {
		t.Error("on the next visit the inline Cookiebot script after the Google tag ran before it")
	}
	p.expectNoViolation("on the next visit")
}

// aliasPage carries tool markup whose categories are the aliases of
// docs/migration.md's table, or unknown, and the tools' markup on a
// <link> (Klaro's data-href) and on images (Cookiebot's
// data-cookieblock-src, Klaro's data-src).
func aliasPage() string {
	script := func(attrs, name string) string {
		return `<script type="text/plain" ` + attrs + ` nonce="` + migrationNonce + `">__ran('` + name + `');</script>`
	}
	return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Aliases</title>` + migrationRecorder +
		// → marketing
		script(`data-category="ads"`, "cc-ads") +
		script(`data-category="advertising"`, "cc-advertising") +
		script(`data-category="Targeting"`, "cc-targeting") +
		script(`data-cookieconsent="marketing"`, "cookiebot-marketing") +
		// → functional
		script(`data-cookieconsent="preferences"`, "cookiebot-preferences") +
		script(`data-category="functionality"`, "cc-functionality") +
		script(`data-category="preferences"`, "cc-preferences") +
		// → analytics, social, unknown, or refused-only: neither
		script(`data-category="performance"`, "cc-performance") +
		script(`data-cookieconsent="statistics"`, "cookiebot-statistics") +
		script(`data-category="social"`, "cc-social") +
		script(`data-category="misc"`, "cc-unknown") +
		script(`data-cookieconsent="unclassified"`, "cookiebot-unknown") +
		script(`data-category="marketing" data-service="!Meta Pixel"`, "cc-not-service") +
		// Klaro, by a catalogued vendor's name: Google Fonts is functional.
		`<link rel="stylesheet" data-name="googleFonts" data-href="https://fonts.googleapis.com/css2?family=Migrate">` +
		`</head><body><main><h1>Aliases</h1>` +
		`<img alt="" width="1" height="1" data-cookieconsent="marketing" data-cookieblock-src="https://pixel.migrate-ads.example/cookiebot.gif">` +
		`<img alt="" width="1" height="1" data-name="marketing" data-src="https://pixel.migrate-klaro.example/klaro.gif">` +
		`</main></body></html>`
}

// TestMigrationCategoryAliases: the tools' category names map to the
// policy's purposes as docs/migration.md's table says. Granting Marketing
// only runs what is marked ads, advertising, targeting or marketing, and
// loads the marketing-marked images; granting Functional only runs what is
// marked preferences or functionality and loads the Klaro-marked Google
// Fonts link. Neither runs analytics, social or unknown categories, nor a
// CookieConsent "!service".
func TestMigrationCategoryAliases(t *testing.T) {
	base := startCSPSite(t, "script-src 'nonce-"+migrationNonce+"'; object-src 'none'; base-uri 'none'", aliasPage())
	marketingHosts := []string{"pixel.migrate-ads.example", "pixel.migrate-klaro.example"}
	functionalHosts := []string{"fonts.googleapis.com"}
	for _, tc := range []struct {
		purpose         string
		runs            []string
		hosts, notHosts []string
	}{
		{"marketing", []string{"cc-ads", "cc-advertising", "cc-targeting", "cookiebot-marketing"}, marketingHosts, functionalHosts},
		{"functional", []string{"cookiebot-preferences", "cc-functionality", "cc-preferences"}, functionalHosts, marketingHosts},
	} {
		t.Run(tc.purpose, func(t *testing.T) {
			p := newPage(t, base)
			p.watchViolations()
			p.open("/")
			p.waitFirstLayer()
			p.waitIdle()
			p.expectNoThirdParty("on a first visit, before any choice")
			p.expectRuns("before any choice,")

			p.watchChanges()
			navs := p.navigations()
			p.openSettings()
			sw := `cg.toggle(cg.second(), '` + tc.purpose + `')`
			p.click("the "+tc.purpose+" switch", sw)
			p.waitFor("the "+tc.purpose+" switch turns on", `cg.checked(`+sw+`)`)
			p.click("the second layer's Save selection button", `cg.control(cg.second(), 'save')`)
			p.waitBannerGone()
			p.waitHosts("after allowing "+tc.purpose+" only, its tool-marked elements load", tc.hosts...)
			names, _ := json.Marshal(tc.runs)
			p.waitFor("the "+tc.purpose+"-marked inline scripts run", string(names)+`.every(function (k) { return window.__runs[k]; })`)
			p.waitIdle()
			p.expectRuns("after allowing "+tc.purpose+" only,", tc.runs...)
			p.expectHostsNotRequested("after allowing "+tc.purpose+" only, elements marked for other purposes must not load", tc.notHosts...)
			p.expectNoReload("allowing "+tc.purpose, navs)
			p.expectNoViolation("after consent")
		})
	}
}
