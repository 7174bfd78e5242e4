package browsertest

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/consentgate/consentgate/caddymodule/gatewaytest"
)

// trackerSpellings are ways of writing a tracker's URL in an attribute that
// a browser still loads: character references, backslashes for slashes,
// tabs and newlines (which URL parsing drops), a percent-encoded or
// full-width host, and the slashes after "https:" missing or doubled; then
// elements that load from other attributes than src, references in a
// script's type or a link's rel, and a frame's srcdoc. Each asks for its
// own f=N, so the network log says which one got through.
var trackerSpellings = []string{
	`<script src="https:&#47;&#47;www.google-analytics.com/analytics.js?f=1"></script>`,
	`<script src="https&#x3A;//www.google-analytics.com/analytics.js?f=2"></script>`,
	`<script src="&#104;ttps://www.google-analytics.com/analytics.js?f=3"></script>`,
	`<script src="https://www.google&#45;analytics.com/analytics.js?f=4"></script>`,
	`<script src="https://WWW.GOOGLE&#x2D;ANALYTICS.COM/analytics.js?f=5"></script>`,
	`<script src="&sol;&sol;www.google-analytics.com/analytics.js?f=6"></script>`,
	`<script src="https:\\www.google-analytics.com\analytics.js?f=7"></script>`,
	`<script src="\\www.google-analytics.com/analytics.js?f=8"></script>`,
	`<script src="/\www.google-analytics.com/analytics.js?f=9"></script>`,
	`<script src="https:///www.google-analytics.com/analytics.js?f=10"></script>`,
	"<script src=\"https://www.google-\nanalytics.com/analytics.js?f=11\"></script>",
	`<script src="https://www.google-&#10;analytics.com/analytics.js?f=12"></script>`,
	"<script src=\"ht\ttps://www.google-analytics.com/analytics.js?f=13\"></script>",
	`<script src="https://www.google%2Danalytics.com/analytics.js?f=14"></script>`,
	`<script src="https:www.google-analytics.com/analytics.js?f=15"></script>`,
	`<script src="https:/www.google-analytics.com/analytics.js?f=16"></script>`,
	`<script src="https://www.google-analytics.com&#63;f=17"></script>`,
	`<script src="https://www.ｇoogle-analytics.com/analytics.js?f=18"></script>`,
	`<script src="https://www.%67oogle-analytics.com/analytics.js?f=19"></script>`,
	`<script src="https://www.google-analytics.com\@cdn.example/analytics.js?f=20"></script>`,
	`<img alt="" src="https:&#47;&#47;www.facebook.com/tr?id=1&amp;ev=PageView&amp;f=21">`,
	`<img alt="" src="\\www.facebook.com\tr?id=1&amp;f=22">`,
	`<iframe title="video" src="https:\\www.youtube.com\embed\dQw4w9WgXcQ?f=23"></iframe>`,
	`<link rel="stylesheet" href="https://fonts.googleapis.com&#47;css2?family=Roboto&amp;f=24">`,
	// A reference spells the comma between two candidates; at 1x the browser picks the tracker.
	`<img alt="" src="/nothing.gif" srcset="/nothing.gif 3x&#44; https://www.facebook.com/tr?id=1&amp;f=25 1x">`,
	// Elements that load a URL from attributes other than src.
	`<svg width="10" height="10"><script href="https://www.google-analytics.com/analytics.js?f=26"></script></svg>`,
	`<svg width="10" height="10"><script xlink:href="https://www.google-analytics.com/analytics.js?f=27"></script></svg>`,
	`<svg width="10" height="10"><image href="https://www.facebook.com/tr?f=28" width="5" height="5"/></svg>`,
	`<input type="image" alt="Go" src="https://www.facebook.com/tr?f=29">`,
	`<link rel="preload" as="image" imagesrcset="https://www.facebook.com/tr?f=30 1x">`,
	// References in the attributes that decide whether something loads.
	`<link rel="style&#115;heet" href="https://fonts.googleapis.com/css2?family=Roboto&amp;f=31">`,
	`<script type="text&#47;javascript">window.__typedRan = true; window.gtag = window.gtag || function () {}; gtag('js', new Date()); gtag('config', 'G-ABC123');</script>`,
	// An image a style attribute loads, as Taboola's thumbnails do.
	`<span style="display:inline-block;width:5px;height:5px;background-image: url(&quot;https://images.taboola.com/taboola/image/fetch/x.jpg?f=33&quot;)"></span>`,
	`<div style="width:5px;height:5px;background:#000 URL(https://www.facebook.com/tr?f=34) no-repeat"></div>`,
	// And one a style element loads, as Taboola's and Changyan's widget styles do.
	`<style>.cg-probe{width:5px;height:5px;background:url(//cdn.taboola.com/libtrc/static/thumbnails/x.png?f=35) no-repeat}</style><div class="cg-probe"></div>`,
	// … far into a long one (the gateway judges the first 16 KiB whole, the rest as it streams).
	`<style>` + strings.Repeat(".cg-pad{color:#123}\n", 1200) + `.cg-far{width:5px;height:5px;background:url("https://www.facebook.com/tr?f=36")}</style><div class="cg-far"></div>`,
	// image-set() strings, and a url() and an @import spelt with CSS escapes.
	`<div style="width:5px;height:5px;background-image:image-set(&quot;https://www.facebook.com/tr?f=47&quot; 1x)"></div>`,
	`<style>.cg-esc{width:5px;height:5px;background:u\72l(https://www.facebook.com/tr?f=48)}</style><div class="cg-esc"></div>`,
	`<style>.cg-set{width:5px;height:5px;background:-webkit-image-set("https://www.facebook.com/tr?f=49" 1x)}</style><div class="cg-set"></div>`,
	`<style>@\69mport "https://fonts.googleapis.com/css2?family=Roboto&f=50";</style>`,
	// A "/*" in a CSS string opens no comment: the rule after it applies.
	// So in a long style element, where a url( in a real comment, with a
	// quote after it, opens nothing either.
	`<style>.cg-str::before{content:"/*"}.cg-str{width:5px;height:5px;background:url(https://www.facebook.com/tr?f=81)}</style><div class="cg-str"></div>`,
	`<style>` + strings.Repeat(".cg-pad{color:#123}\n", 1200) + `/* see url(" */ .cg-cmt{width:5px;height:5px;background:url(https://www.facebook.com/tr?f=82)} .cg-cmt::after{content:"x"}</style><div class="cg-cmt"></div>`,
	// Images a table's or a cell's background attribute loads, and a style
	// on elements the gateway knows by name (a textarea, an img whose own
	// src is first-party).
	`<table background="https://www.facebook.com/tr?f=37" width="5" height="5"><tr><td>x</td></tr></table>`,
	`<table><tr><td background="https:&#47;&#47;www.facebook.com/tr?f=38" width="5" height="5">x</td></tr></table>`,
	`<textarea style="width:5px;height:5px;background:url(https://www.facebook.com/tr?f=39)">x</textarea>`,
	`<img alt="" src="/nothing.gif" style="width:5px;height:5px;background:url('https://www.facebook.com/tr?f=40')">`,
	// Frames whose document is a data: URL (HTML, or SVG in an embed).
	`<iframe title="data" src="data:text/html,%3Cscript%20src=%22https://www.google-analytics.com/analytics.js?f=45%22%3E%3C/script%3E"></iframe>`,
	`<embed type="image/svg+xml" width="5" height="5" src="data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg'%3E%3Cimage href='https://www.facebook.com/tr?f=46' width='5' height='5'/%3E%3C/svg%3E">`,
	// An image an SVG filter loads.
	`<svg width="10" height="10"><filter id="cg-fe"><feImage href="https://www.facebook.com/tr?f=71" width="5" height="5"/></filter><rect width="10" height="10" filter="url(#cg-fe)"/></svg>`,
	// SVG presentation attributes load what their url() names (a paint
	// server, a clip path), as the property in a style would.
	`<svg width="10" height="10"><rect width="10" height="10" fill="url(https://www.facebook.com/tr?f=156#p)"/></svg>`,
	`<svg width="10" height="10"><rect width="10" height="10" clip-path="url(https://www.facebook.com/tr?f=157#c)"/></svg>`,
	// In SVG the parser reads markup in a title or xmp, and a title or
	// style that closes itself has no content.
	`<svg width="10" height="10"><title/></svg><img alt="" src="https://www.facebook.com/tr?f=151">`,
	`<svg width="10" height="10"><style/><image href="https://www.facebook.com/tr?f=152" width="5" height="5"/></svg>`,
	`<svg width="10" height="10"><title><img alt="" src="https://www.facebook.com/tr?f=153"></title></svg>`,
	`<svg width="10" height="10"><script/><image href="https://www.facebook.com/tr?f=154" width="5" height="5"/></svg>`,
	`<svg width="10" height="10"><xmp><img alt="" src="https://www.facebook.com/tr?f=155"></xmp></svg>`,
	// A frame whose document is written into its srcdoc.
	`<iframe title="widget" srcdoc="&lt;p&gt;Hi&lt;/p&gt;&lt;script src=&quot;https://www.google-analytics.com/analytics.js?f=32&quot;&gt;&lt;/script&gt;"></iframe>`,
	// … in a tag made longer than the gateway holds by another attribute,
	`<iframe title="` + strings.Repeat("widget ", 2400) + `" srcdoc="&lt;script src=&quot;https://www.google-analytics.com/analytics.js?f=67&quot;&gt;&lt;/script&gt;"></iframe>`,
	// … and a srcdoc longer itself: the gateway rewrites its document in
	// place, so its tracker loads from the page view after the choice.
	`<iframe title="long widget" srcdoc="` + strings.Repeat("&lt;p&gt;Lorem ipsum &amp;amp; dolor sit amet.&lt;/p&gt;\n", 400) +
		`&lt;img alt=&quot;&quot; src=&quot;https://www.facebook.com/tr?f=66&quot;&gt;"></iframe>`,
}

// loadAfterReload are the spellings that load only from the next page view
// after consent: the shim does not reach into a frame's document.
var loadAfterReload = []string{"f=66"}

// fParam finds a spelling's f=N.
var fParam = regexp.MustCompile(`f=[0-9]+`)

// TestTrackerSpellingsBrowsersLoadAreBlocked: however a tracker's URL is
// spelt, if Chromium would load it, the gateway holds it back until consent;
// after Accept all, each of them loads, so the page really asked for them.
func TestTrackerSpellingsBrowsersLoadAreBlocked(t *testing.T) {
	page := `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Spellings</title></head>` +
		`<body><main><h1>Tracker URLs, spelt oddly</h1>` + strings.Join(trackerSpellings, "\n") + `</main></body></html>`
	p := openServed(t, page)
	p.expectNoThirdParty("on a page whose tracker URLs are spelt oddly, before any choice")
	if evalJS[bool](p, `window.__typedRan === true`) {
		t.Error("before any choice, the Google tag snippet whose script type is spelt with a reference ran")
	}

	p.clickFirstLayer("accept_all", "Accept all")
	p.waitBannerGone()
	// Each loads in place, without a reload: SVG scripts are re-created in
	// their namespace, a preload is re-inserted, and style elements get
	// their url()s back.
	var all []string
	for _, s := range trackerSpellings {
		if f := fParam.FindString(s); f != "" && !slices.Contains(loadAfterReload, f) {
			all = append(all, f)
		}
	}
	p.waitQueries("after Accept all, every spelling loads", all...)
	p.waitFor("after Accept all, the snippet whose script type is spelt with a reference runs", `window.__typedRan === true`)
	p.waitIdle()
	early := slices.ContainsFunc(trackers.Hits(), func(h hit) bool {
		return slices.ContainsFunc(loadAfterReload, func(f string) bool { return slices.Contains(strings.Split(h.Query, "&"), f) })
	})
	t.Logf("after Accept all, before a reload, the tracker in a long srcdoc loaded: %v", early)
	p.reload()
	p.waitQueries("after Accept all and a reload, the tracker in a long srcdoc loads", loadAfterReload...)
}

// TestBaseNamingATrackerHost: a page whose <base href> names a tracker's
// host loads that tracker through plain relative URLs. Before a choice
// none of them loads; the banner still comes from the gateway (its hook
// goes in front of the base) and posts the choice there, not to the
// tracker's host; after Accept all, the page's relative tracker URLs load.
func TestBaseNamingATrackerHost(t *testing.T) {
	page := `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Base</title>` +
		`<base href="https://www.google-analytics.com/"><script async src="analytics.js?f=41"></script></head>` +
		`<body><main><h1>A page on another base</h1><img alt="" src="collect?f=42" width="1" height="1">` +
		`<table><tr><td background="/collect?f=43" width="5" height="5">x</td></tr></table>` +
		// Page code loading a relative URL: the shim holds it back too.
		`<script>var im = new Image(); im.alt = ""; im.src = "collect?f=44"; document.querySelector("main").appendChild(im);</script>` +
		`</main></body></html>`
	p := openServed(t, page)
	p.expectNoThirdParty("on a page whose base names a tracker's host, before any choice")

	p.clickFirstLayer("accept_all", "Accept all")
	p.waitBannerGone()
	p.waitQueries("after Accept all, the relative tracker URLs load from the base's host", "f=41", "f=42", "f=43", "f=44")
	p.reload()
	if cfg := p.config(); !cfg.State.Decided {
		t.Error("after Accept all and a reload, the gateway does not know of the choice: it was not posted to the gateway")
	}
	if log, _ := p.thirdParty(); slices.ContainsFunc(log, func(s string) bool { return strings.Contains(s, "/.consent/") }) {
		t.Errorf("the gateway's own URLs went to the base's host:\n  %s", strings.Join(log, "\n  "))
	}
}

// openServed serves page through a gateway with no other configuration
// (but the Caddyfile directives in extra), opens it in Chromium and waits
// for the banner's first layer and for the network to settle.
func openServed(t *testing.T, page string, extra ...string) *page {
	p := openSite(t, strings.Join(extra, "\n\t")+"\n\theader Content-Type \"text/html; charset=utf-8\"\n\trespond `"+page+"`")
	p.waitFirstLayer()
	p.waitIdle()
	return p
}

// openSite starts a gateway site of `consent` and the Caddyfile directives
// given, and opens its front page in Chromium.
func openSite(t *testing.T, directives string) *page {
	port := gatewaytest.FreePort(t)
	gatewaytest.StartSites(t, fmt.Sprintf(":%d {\n\tconsent\n\t%s\n}", port, directives))
	gatewaytest.WaitListening(t, port)
	p := newPage(t, gatewaytest.BaseURL(port))
	p.open("/")
	return p
}

// TestStyleURLsReleasedPerVendor: a style element's url()s come back, in
// place, for the vendors the visitor allows, and only for those.
func TestStyleURLsReleasedPerVendor(t *testing.T) {
	p := openServed(t, `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Styles</title>`+
		`<style>.cg-a{width:5px;height:5px;background:url("https://www.google-analytics.com/collect?f=51")}`+
		`.cg-m{width:5px;height:5px;background:url(https://www.facebook.com/tr?f=52)}</style></head>`+
		`<body><main><h1>Two styled boxes</h1><div class="cg-a"></div><div class="cg-m"></div></main></body></html>`)
	p.expectNoThirdParty("on a page whose style element names two trackers, before any choice")
	p.openSettings()
	p.click("the Analytics switch", `cg.toggle(cg.second(), 'analytics')`)
	p.waitFor("the Analytics switch turns on", `cg.checked(cg.toggle(cg.second(), 'analytics'))`)
	p.click("the second layer's Save selection button", `cg.control(cg.second(), 'save')`)
	p.waitBannerGone()
	p.waitQueries("after allowing Analytics only, its style url() loads without a reload", "f=51")
	p.waitIdle()
	p.expectHostsNotRequested("after allowing Analytics only, the marketing style url() stays blocked", "www.facebook.com")
}

// TestLinkHeaderPreloadsOfTrackersWait: Chromium preloads from a page's
// Link header before it reads the page; without consent the gateway drops
// the trackers' links, and after Accept all the next page view has them.
func TestLinkHeaderPreloadsOfTrackersWait(t *testing.T) {
	p := openServed(t, `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Hints</title></head>`+
		`<body><main><h1>A page whose headers preload</h1></main></body></html>`,
		`header Link "<https://www.google-analytics.com/analytics.js?f=61>; rel=preload; as=script"`,
		`header +Link "<https://www.facebook.com/tr?f=62>; rel=preload; as=image"`)
	p.expectNoThirdParty("on a page whose Link header preloads trackers, before any choice")
	p.clickFirstLayer("accept_all", "Accept all")
	p.waitBannerGone()
	p.reload()
	p.waitQueries("after Accept all, the next page view preloads from its Link header", "f=61", "f=62")
}

// TestLinkPingsWaitForConsent: Chromium posts to a link's ping URLs when the
// link is followed (hyperlink auditing); a tracker's ping waits for consent.
func TestLinkPingsWaitForConsent(t *testing.T) {
	p := openServed(t, `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Pings</title></head>`+
		`<body><main><h1>A link that pings</h1><p><a id="pinger" href="#next" ping="https://www.facebook.com/tr?f=63">Next</a></p>`+
		`<p id="next">Here.</p></main></body></html>`)
	// (The first layer covers the page, as it should: the page follows it.)
	evalJS[bool](p, `document.getElementById("pinger").click(), true`)
	p.waitIdle()
	p.expectNoThirdParty("after following a link whose ping is a tracker's, before any choice")
	p.clickFirstLayer("accept_all", "Accept all")
	p.waitBannerGone()
	p.click("the pinging link", `document.getElementById("pinger")`)
	p.waitQueries("after Accept all, following the link sends its ping", "f=63")
}

// TestSiteStyleSheetsWait: a theme's own style sheet that @imports Google
// Fonts and puts a vendor's image in a url() loads them as a page would;
// through the gateway neither is fetched before a choice, and after Accept
// all the next page view (whose sheet is fetched again: it varies on the
// cookie) loads both.
func TestSiteStyleSheetsWait(t *testing.T) {
	sheet := `@import url("https://fonts.googleapis.com/css2?family=Roboto&f=64");` + "\n" +
		`.cg-promo{width:5px;height:5px;background:url(https://www.facebook.com/tr?f=65)}`
	page := `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Theme</title>` +
		`<link rel="stylesheet" href="/theme.css"></head>` +
		`<body><main><h1>A themed page</h1><div class="cg-promo"></div></main></body></html>`
	p := openSite(t, pageAnd(page, "/theme.css", "text/css; charset=utf-8", sheet))
	p.heldUntilAccepted("a page whose own style sheet imports Google Fonts and an image", "f=64", "f=65")
}

// pageAnd is the directives of a site that serves page at / and body, of
// type ctype, at path.
func pageAnd(page, path, ctype, body string) string {
	return fmt.Sprintf(`handle %s {
		header Content-Type "%s"
		respond * `+"`%s`"+` 200
	}
	handle {
		header Content-Type "text/html; charset=utf-8"
		respond `+"`%s`"+`
	}`, path, ctype, body, page)
}

// heldUntilAccepted: the page (what) loads nothing from a third party
// before a choice, and after Accept all its next view loads the queries.
func (p *page) heldUntilAccepted(what string, queries ...string) {
	p.waitFirstLayer()
	p.waitIdle()
	p.expectNoThirdParty(what + ", before any choice")
	p.clickFirstLayer("accept_all", "Accept all")
	p.waitBannerGone()
	p.reload()
	p.waitQueries("after Accept all and a reload, "+what+": it loads", queries...)
}

// TestFramesetFramesWaitForConsent: a frameset page (old sites still have
// them) loads its frames' documents; a tracker's frame waits for consent
// like an iframe. A frameset shows no banner, so the choice is posted as the
// banner would post it.
func TestFramesetFramesWaitForConsent(t *testing.T) {
	p := openSite(t, `header Content-Type "text/html; charset=utf-8"
	respond /menu `+"`"+`<!doctype html><html lang="en"><head><title>Menu</title></head><body><p>Menu</p></body></html>`+"`"+`
	respond `+"`"+`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Frames</title></head><frameset cols="50%,50%"><frame src="/menu" title="Menu"><frame title="Video" src="https://www.youtube.com/embed/dQw4w9WgXcQ?f=72"></frameset></html>`+"`")
	p.expectNoThirdParty("on a frameset page with a video frame, before any choice")
	if got := evalJS[float64](p, `fetch('/.consent/choice', {method: 'POST', headers: {'Content-Type': 'application/json'}, body: '{"all":true}'}).then(function (r) { return r.status; })`); got != 200 {
		t.Fatalf("posting Accept all: %v", got)
	}
	p.reload()
	p.waitQueries("after Accept all, the frameset's video frame loads", "f=72")
}

// TestRedirectsToTrackersWait: a pixel, a tag script and a video frame
// behind the site's own paths, which the application redirects to the
// vendors. The page names only first-party URLs; before a choice the
// gateway holds the redirects back, so the browser loads nothing from the
// vendors, and the frame shows the placeholder; after Accept all the next
// view follows them.
func TestRedirectsToTrackersWait(t *testing.T) {
	page := `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Redirects</title></head>` +
		`<body><main><h1>A pixel and a tag behind the site's own paths</h1>` +
		`<img alt="" width="1" height="1" src="/px"><script src="/tag.js"></script>` +
		`<iframe title="Video" width="320" height="180" src="/video"></iframe></main></body></html>`
	p := openSite(t, fmt.Sprintf(`handle /video {
		header Location "https://www.youtube.com/embed/x?f=123"
		respond 302
	}
	handle /px {
		header Location "https://www.facebook.com/tr?f=121"
		respond 302
	}
	handle /tag.js {
		header Location "https://www.google-analytics.com/analytics.js?f=122"
		respond 307
	}
	handle {
		header Content-Type "text/html; charset=utf-8"
		respond `+"`%s`"+`
	}`, page))
	p.waitFor("the frame shows the placeholder naming YouTube",
		`(function (f) { var d = f.contentDocument; return !!d && /provided by YouTube/.test(d.body ? d.body.textContent : ""); })(document.querySelector('iframe'))`)
	p.heldUntilAccepted("a page whose pixel, tag and video frame redirect to the vendors", "f=121", "f=122", "f=123")
}
