package browsertest

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"

	"github.com/consentgate/consentgate/consent/catalog"
)

// What the shop's pages embed, by purpose (see examples/shop/Caddyfile).
var (
	// index.html
	homeAnalytics  = []string{"www.googletagmanager.com"}
	homeSocial     = []string{"www.facebook.com", "www.youtube.com", "www.instagram.com", "platform.twitter.com"}
	homeFunctional = []string{"www.gstatic.com"}
	// contact.html
	contactAnalytics  = []string{"www.googletagmanager.com"}
	contactSocial     = []string{"connect.facebook.net"}
	contactMarketing  = []string{"widget.manychat.com", "mccdn.me", "www.facebook.com"} // the Meta Pixel's image tag
	contactFunctional = []string{"fonts.googleapis.com"}
)

// The contact page's inert pixel and font stylesheet (the gateway moves
// their URLs into data-consent-src / data-consent-href until consent).
const (
	contactPixel = `document.querySelector('main img[width="1"][height="1"]')`
	contactFonts = `document.querySelector('link[rel=stylesheet][href*="fonts.googleapis.com"], link[rel=stylesheet][data-consent-href*="fonts.googleapis.com"]')`
)

func TestFreshVisitMakesNoTrackerRequestAndSetsNoCookie(t *testing.T) {
	p := newPage(t, startShop(t))
	for _, pg := range []struct {
		path string
		// Services the shop declares strictly necessary for checkout
		// (examples/shop/Caddyfile: Klarna Payments and PayPal), which load
		// without consent; Klarna's on-site messaging elsewhere is marketing.
		necessary []string
	}{
		{"/", nil},
		{"/contact.html", nil},
		{"/login.html", nil},
		{"/newsletter.html", nil},
		{"/product.html", nil},
		{"/cart.html", nil},
		{"/checkout.html", []string{"x.klarnacdn.net", "www.paypal.com"}},
	} {
		p.forgetRequests()
		p.open(pg.path)
		p.waitFirstLayer()
		p.waitIdle()
		p.expectOnlyThirdParty("on a first visit to "+pg.path+", before any choice", pg.necessary...)
		if len(pg.necessary) > 0 { // necessary for the contract: never held back
			p.waitHosts("the necessary services on "+pg.path, pg.necessary...)
		}
		if c := evalJS[string](p, `document.cookie`); c != "" {
			t.Errorf("%s: before any choice the page's scripts see the cookies %q; there must be none", pg.path, c)
		}
		if cs := p.cookies(); len(cs) > 0 {
			t.Errorf("%s: before any choice the browser holds the cookies %v; there must be none, not even the consent cookie", pg.path, cookieNames(cs))
		}
		if cfg := p.config(); cfg.State.Decided {
			t.Errorf("%s: the config block says the visitor decided already: %+v", pg.path, cfg.State)
		}
	}
}

func TestAcceptAllLoadsTrackersWithoutReload(t *testing.T) {
	p := newPage(t, startShop(t))
	p.open("/")
	p.waitFirstLayer()
	p.expectNoThirdParty("before the visitor chose")
	p.watchChanges()
	navs := p.navigations()

	p.clickFirstLayer("accept_all", "Accept all")
	p.waitBannerGone()
	want := slices.Concat(homeAnalytics, homeSocial, homeFunctional)
	p.waitHosts("after Accept all, every service of the home page loads", want...)
	p.waitFor("the released scripts run (Google tag, Instagram, X/Twitter, Firebase)", `['www.googletagmanager.com/gtag/js', 'www.instagram.com/embed.js',
		'platform.twitter.com/widgets.js', 'www.gstatic.com/firebasejs/8.10.1/firebase-app.js',
		'www.gstatic.com/firebasejs/8.10.1/firebase-messaging.js'].every(function (id) { return (window.__tracked || []).indexOf(id) >= 0; })`)
	p.waitFor("the released embeds show their content (the YouTube and Facebook frames load their real address)",
		`Array.prototype.every.call(document.querySelectorAll('iframe'), function (f) {
			return !f.hasAttribute('srcdoc') && /^https:\/\/www\.(youtube|facebook)\.com\//.test(f.src);
		})`)
	p.expectNoReload("Accept all", navs)
	p.waitFor("a consentgate:change event reports the choice", `(window.__changes || []).length > 0 && window.__changes[window.__changes.length - 1].decided === true`)

	st := p.apiState()
	for _, id := range []string{"necessary", "functional", "analytics", "marketing", "social"} {
		if !st.Purposes[id] {
			t.Errorf("after Accept all, window.consentgate.state says %s is not granted: %+v", id, st.Purposes)
		}
	}
	if !evalJS[bool](p, `['analytics', 'marketing', 'social', 'functional'].every(function (x) { return window.consentgate.granted(x) === true; })`) {
		t.Error("after Accept all, window.consentgate.granted() is not true for every purpose")
	}
	p.waitFor("the released Google tag sets its _ga cookie", `document.cookie.indexOf('_ga=') >= 0`)
	consent := findCookie(p.cookies(), "consentgate")
	if consent == nil || !consent.HTTPOnly {
		t.Errorf("after Accept all the browser must hold the HttpOnly consent cookie; it holds %v", cookieNames(p.cookies()))
	}
	expectConsentLifetime(t, p, "after Accept all")
}

// consentLifetime is how long a choice lasts by default (renew_after and
// refusal_renew_after): 6 months. The cookie outlives it by cookieGrace, so
// that a visitor coming back after it ran out is recorded as expired.
const (
	consentLifetime = 180 * 24 * time.Hour
	cookieGrace     = 30 * 24 * time.Hour
)

// expectConsentLifetime fails unless the browser keeps the consent cookie
// for the default lifetime and the grace from now (Max-Age, give or take a
// minute for the test's own run).
func expectConsentLifetime(t *testing.T, p *page, when string) {
	t.Helper()
	c := findCookie(p.cookies(), "consentgate")
	if c == nil {
		t.Errorf("%s the browser holds no consent cookie", when)
		return
	}
	left := time.Until(time.Unix(int64(c.Expires), 0))
	if want := consentLifetime + cookieGrace; left > want+time.Minute || left < want-time.Minute {
		t.Errorf("%s the consent cookie expires in %s; it must last the 6 months of the choice and 30 days of grace (%s)", when, left.Round(time.Hour), want)
	}
}

// TestAcceptAllBringsPixelsAndLinksAlive: the contact page's Meta Pixel
// image and Google Fonts stylesheet, inert before a choice, load after
// Accept all without a reload: an image request to the pixel, a
// stylesheet request to Google Fonts.
func TestAcceptAllBringsPixelsAndLinksAlive(t *testing.T) {
	p := newPage(t, startShop(t))
	p.open("/contact.html")
	p.waitFirstLayer()
	p.expectNoThirdParty("before the visitor chose")
	type inert struct {
		Pixel string `json:"pixel"`
		Fonts string `json:"fonts"`
	}
	in := evalJS[inert](p, `{pixel: (function (i) { return i && !i.hasAttribute('src') ? i.getAttribute('data-consent-src') || '' : ''; })(`+contactPixel+`),
		fonts: (function (l) { return l && !l.hasAttribute('href') ? l.getAttribute('data-consent-href') || '' : ''; })(`+contactFonts+`)}`)
	if !strings.HasPrefix(in.Pixel, "https://www.facebook.com/tr?") || !strings.HasPrefix(in.Fonts, "https://fonts.googleapis.com/css2?") {
		t.Fatalf("before a choice the pixel and the font stylesheet must be inert, their URLs kept aside; they are %+v", in)
	}
	p.watchChanges()
	navs := p.navigations()

	p.clickFirstLayer("accept_all", "Accept all")
	p.waitBannerGone()
	p.waitHosts("after Accept all, the pixel and the fonts load", "www.facebook.com", "fonts.googleapis.com")
	p.waitFor("the pixel's image has loaded", `(function (i) { return i.complete && i.naturalWidth === 1 && /^https:\/\/www\.facebook\.com\/tr\?/.test(i.src); })(`+contactPixel+`)`)
	p.waitFor("the font stylesheet has loaded", `(function (l) { return !!l.sheet && /^https:\/\/fonts\.googleapis\.com\/css2\?/.test(l.href); })(`+contactFonts+`)`)
	p.expectNoReload("Accept all", navs)
	dests := map[string]string{}
	for _, h := range trackers.Hits() {
		dests[h.Host+h.Path] = h.Dest
	}
	if d := dests["www.facebook.com/tr"]; d != "image" {
		t.Errorf("the Meta Pixel must be requested as an image, it was %q; the trackers received: %s", d, listOr(hitStrings(trackers.Hits())))
	}
	if d := dests["fonts.googleapis.com/css2"]; d != "style" {
		t.Errorf("Google Fonts must be requested as a stylesheet, it was %q; the trackers received: %s", d, listOr(hitStrings(trackers.Hits())))
	}
}

// TestAsyncReleasedScriptDoesNotHoldUpTheNext: of two released scripts, an
// async one whose answer has not come yet does not keep the next from
// running (async keeps its meaning); it runs when its answer comes.
func TestAsyncReleasedScriptDoesNotHoldUpTheNext(t *testing.T) {
	base := startCSPSite(t, "object-src 'none'", `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Async</title>`+
		`<script async src="https://www.googletagmanager.com/gtag/js?id=G-HELD"></script>`+
		`<script src="https://connect.facebook.net/en_US/fbevents.js"></script>`+
		`</head><body><main><h1>Async</h1></main></body></html>`)
	release := trackers.holdAnswers(t, "id=G-HELD")
	p := newPage(t, base)
	p.open("/")
	p.waitFirstLayer()
	p.expectNoThirdParty("before consent")

	p.clickFirstLayer("accept_all", "Accept all")
	p.waitHosts("after Accept all, the async Google tag is requested (its answer held back)", "www.googletagmanager.com")
	p.waitFor("the script after the unanswered async one runs", `(window.__tracked || []).indexOf('connect.facebook.net/en_US/fbevents.js') >= 0`)
	if evalJS[bool](p, `(window.__tracked || []).indexOf('www.googletagmanager.com/gtag/js') >= 0`) {
		t.Fatal("the async Google tag ran though its answer was held back; this test proves nothing")
	}
	release()
	p.waitFor("the async Google tag runs once its answer comes", `(window.__tracked || []).indexOf('www.googletagmanager.com/gtag/js') >= 0`)
}

func TestRejectAllLoadsNothing(t *testing.T) {
	p := newPage(t, startShop(t))
	p.open("/")
	p.waitFirstLayer()
	p.watchChanges()
	p.clickFirstLayer("reject_all", "Reject all")
	p.waitBannerGone()
	p.waitFor("the banner records the choice", `window.consentgate && window.consentgate.state && window.consentgate.state.decided === true`)
	p.waitIdle()
	p.expectNoThirdParty("after Reject all")
	expectOnlyConsentCookie(t, p, "after Reject all")
	expectConsentLifetime(t, p, "after Reject all")
	st := p.apiState()
	for id, granted := range st.Purposes {
		if granted && id != "necessary" {
			t.Errorf("after Reject all, %s is granted: %+v", id, st.Purposes)
		}
	}

	p.forgetRequests()
	p.open("/contact.html")
	p.waitIdle()
	if l := p.layers(); l.First || l.Second {
		t.Error("after Reject all the banner must not ask again on the next page")
	}
	p.expectNoThirdParty("on the next page after Reject all")
	expectOnlyConsentCookie(t, p, "on the next page after Reject all")
}

func TestAcceptingOnePurposeReleasesOnlyItsVendors(t *testing.T) {
	p := newPage(t, startShop(t))
	p.open("/contact.html")
	p.waitFirstLayer()
	p.watchChanges()
	navs := p.navigations()
	p.openSettings()

	cfg := p.config()
	for _, pu := range cfg.Purposes {
		type sw struct {
			Found    bool `json:"found"`
			Checked  bool `json:"checked"`
			Disabled bool `json:"disabled"`
		}
		s := evalJS[sw](p, fmt.Sprintf(`(function (t) { return {found: !!t, checked: !!cg.checked(t), disabled: cg.disabled(t)}; })(cg.toggle(cg.second(), %q))`, pu.ID))
		switch {
		case !s.Found:
			t.Errorf("the second layer has no switch for %q (%s)", pu.ID, pu.Name)
		case pu.Required && (!s.Checked || !s.Disabled):
			t.Errorf("the switch for %q must be on and unchangeable, it is checked=%v disabled=%v", pu.ID, s.Checked, s.Disabled)
		case !pu.Required && s.Checked:
			t.Errorf("before any choice the switch for %q must be off (nothing pre-ticked)", pu.ID)
		}
	}

	p.click("the Analytics switch", `cg.toggle(cg.second(), 'analytics')`)
	p.waitFor("the Analytics switch turns on", `cg.checked(cg.toggle(cg.second(), 'analytics'))`)
	p.click("the second layer's Save selection button", `cg.control(cg.second(), 'save')`)
	p.waitBannerGone()
	p.waitHosts("after allowing Analytics only, Google Analytics loads", contactAnalytics...)
	p.waitIdle()
	p.expectHostsNotRequested("after allowing Analytics only, no marketing, social or functional service may load",
		slices.Concat(contactMarketing, contactSocial, contactFunctional, []string{"facebook.com"})...)
	p.expectNoReload("saving a selection that only grants more", navs)

	st := p.apiState()
	if !st.Purposes["analytics"] {
		t.Errorf("window.consentgate.state must say analytics is granted: %+v", st.Purposes)
	}
	for _, id := range []string{"marketing", "social", "functional"} {
		if st.Purposes[id] {
			t.Errorf("window.consentgate.state says %s is granted, but only analytics was switched on: %+v", id, st.Purposes)
		}
	}
}

// runTimeHeld are the elements page code adds in TestScriptsAddedAtRunTimeWaitForConsent,
// by id, with the host each loads from once released.
var runTimeHeld = []struct{ id, how, host string }{
	{"rt-frame", "an iframe given its src by the property setter", "player.vimeo.com"},
	{"rt-img", "an img given its src by setAttribute", "px.ads.linkedin.com"},
	{"rt-inner", "an img written with innerHTML", "bat.bing.com"},
	{"rt-adjacent", "an iframe written with insertAdjacentHTML", "www.google.com"},
}

// addFrameAndImage is JS that adds, at run time, a Vimeo frame (#rt-frame,
// src set by the property) and a LinkedIn image (#rt-img, by setAttribute).
const addFrameAndImage = `  var f = document.createElement('iframe');
  f.id = 'rt-frame';
  f.title = 'Vimeo video';
  f.src = 'https://player.vimeo.com/video/76979871';
  document.body.appendChild(f);
  var i = document.createElement('img');
  i.id = 'rt-img';
  i.alt = '';
  i.setAttribute('src', 'https://px.ads.linkedin.com/collect/?pid=1&fmt=gif');
  document.body.appendChild(i);
`

// heldElement is a JS condition: the element with this id is held (marked
// with its purpose, no src of its own).
func heldElement(id string) string {
	return fmt.Sprintf(`(function (e) { return !!e && e.hasAttribute('data-consent-purpose') && !e.hasAttribute('src'); })(document.getElementById(%q))`, id)
}

func TestScriptsAddedAtRunTimeWaitForConsent(t *testing.T) {
	// Every catalogued service listed: the page adds some the shop does not
	// use (TestUnlistedServicesAddedAtRunTimeStayHeld is the shop as it is).
	p := newPage(t, startShop(t, "services all"))
	p.open("/imprint.html")
	p.waitFirstLayer()
	p.forgetRequests()

	// What a tag manager does once the page runs.
	evalJS[bool](p, `(function () {
  var s = document.createElement('script');
  s.src = 'https://www.google-analytics.com/analytics.js';
  document.head.appendChild(s);
  window.__img = new Image();
  window.__img.src = 'https://www.facebook.com/tr?id=1&ev=PageView';
  window.__fetched = 'pending';
  fetch('https://connect.facebook.net/signals/config/1?v=2.9.1').then(
    function (r) { window.__fetched = r.status; }, function (e) { window.__fetched = 'failed: ' + e; });
  var x = new XMLHttpRequest();
  x.open('GET', 'https://stats.g.doubleclick.net/j/collect?t=dc&tid=G-EXAMPLE123');
  x.send();
  window.__beacon = navigator.sendBeacon('https://www.google-analytics.com/g/collect?v=2&en=page_view', 'x');
  // Two writes of one cookie: replayed in order, the later one wins.
  document.cookie = '_fbp=fb.1.1700000000.41; Path=/';
  document.cookie = '_fbp=fb.1.1700000000.42; Path=/';

`+addFrameAndImage+`  var d = document.createElement('div');
  d.innerHTML = '<img id="rt-inner" alt="" src="https://bat.bing.com/action/0?ti=1&Ver=2">';
  document.body.appendChild(d);
  document.body.insertAdjacentHTML('beforeend', '<iframe id="rt-adjacent" title="Map" src="https://www.google.com/maps/embed?pb=1"></iframe>');
  return true;
})()`)
	// The page's own code, meanwhile, works as without the shim: its
	// cookie, a same-origin fetch and XHR, an image written as HTML.
	evalJS[bool](p, `(function () {
  document.cookie = 'gp_cart=' + encodeURIComponent('[{"id":3,"qty":1}]') + '; Path=/';
  window.__own = {};
  fetch('/style.css').then(function (r) { __own.fetch = r.status; }, function (e) { __own.fetch = String(e); });
  var x = new XMLHttpRequest();
  x.onload = function () { __own.xhr = x.status; };
  x.open('GET', '/imprint.html');
  x.send();
  var d = document.createElement('div');
  d.innerHTML = '<img id="own-img" alt="" src="/img/logo.svg">';
  document.body.appendChild(d);
  return true;
})()`)
	p.waitFor("before consent, the page's same-origin fetch and XHR answer 200", `window.__own.fetch === 200 && window.__own.xhr === 200`)
	p.waitFor("before consent, the page's own image written with innerHTML loads",
		`(function (i) { return i.complete && i.naturalWidth > 0 && i.getAttribute('src') === '/img/logo.svg' && !i.hasAttribute('data-consent-purpose'); })(document.getElementById('own-img'))`)
	if c := evalJS[string](p, `document.cookie`); !strings.Contains(c, "gp_cart=") {
		t.Errorf("before consent the page could not store its own cart cookie gp_cart: document.cookie = %q", c)
	}
	p.waitIdle()
	p.expectNoThirdParty("before consent, with a script, an image beacon, a fetch, an XHR, a sendBeacon, frames and images added at run time")
	if c := evalJS[string](p, `document.cookie`); strings.Contains(c, "_fbp") {
		t.Errorf("before consent the page could store the Facebook cookie _fbp: document.cookie = %q", c)
	}
	for _, e := range runTimeHeld {
		if !evalJS[bool](p, heldElement(e.id)) {
			t.Errorf("before consent, %s (#%s) must be held: marked with its purpose and without src", e.how, e.id)
		}
	}

	p.watchChanges()
	navs := p.navigations()
	p.clickFirstLayer("accept_all", "Accept all")
	p.waitBannerGone()
	p.expectNoReload("Accept all (a reload would drop what the page queued)", navs)
	hosts := []string{"www.google-analytics.com", "www.facebook.com", "connect.facebook.net", "stats.g.doubleclick.net"}
	for _, e := range runTimeHeld {
		hosts = append(hosts, e.host)
	}
	p.waitHosts("after Accept all, what the page added at run time is sent", hosts...)
	p.waitFor("the held script runs", `(window.__tracked || []).indexOf('www.google-analytics.com/analytics.js') >= 0`)
	p.waitFor("the held fetch resolves for the page's code", `window.__fetched === 204`)
	for _, e := range runTimeHeld {
		p.waitFor(fmt.Sprintf("after Accept all, %s (#%s) gets its src back from %s", e.how, e.id, e.host),
			fmt.Sprintf(`(function (e) { return !!e && !e.hasAttribute('data-consent-purpose') && e.src.indexOf('https://%s/') === 0; })(document.getElementById(%q))`, e.host, e.id))
	}
	paths := map[string]bool{}
	for _, h := range trackers.Hits() {
		paths[h.Host+h.Path] = true
	}
	for _, want := range []string{"www.facebook.com/tr", "connect.facebook.net/signals/config/1", "stats.g.doubleclick.net/j/collect", "www.google-analytics.com/g/collect"} {
		if !paths[want] {
			t.Errorf("after Accept all the held request to %s was never sent; the trackers received: %s", want, listOr(hitStrings(trackers.Hits())))
		}
	}
	p.waitFor("the held cookie writes are replayed in order (the later value stays)", `document.cookie.indexOf('_fbp=fb.1.1700000000.42') >= 0`)
}

// TestUnlistedServicesAddedAtRunTimeStayHeld: the shop lists only the
// services it uses (services declared). After Accept all, a frame and an
// image the page adds at run time from catalogued services it does not
// list (Vimeo, LinkedIn) are held by the shim and never requested, while
// one from a listed service (YouTube) loads.
func TestUnlistedServicesAddedAtRunTimeStayHeld(t *testing.T) {
	p := newPage(t, startShop(t))
	p.decideOn("/imprint.html", "accept_all", "Accept all")
	p.forgetRequests()
	evalJS[bool](p, `(function () {
`+addFrameAndImage+`  var y = document.createElement('iframe');
  y.id = 'rt-listed';
  y.title = 'YouTube video';
  y.src = 'https://www.youtube.com/embed/M7lc1UVf-VE';
  document.body.appendChild(y);
  return true;
})()`)
	p.waitHosts("after Accept all, a frame of the listed YouTube added at run time loads", "www.youtube.com")
	p.waitIdle()
	p.expectHostsNotRequested("after Accept all, services the shop does not list stay off", "player.vimeo.com", "px.ads.linkedin.com")
	for _, id := range []string{"rt-frame", "rt-img"} {
		if !evalJS[bool](p, heldElement(id)) {
			t.Errorf("after Accept all, #%s of a service the shop does not list must stay held", id)
		}
	}
}

func TestWithdrawReloadsAndLeavesNoVendorCookie(t *testing.T) {
	p := newPage(t, startShop(t))
	p.decideOn("/privacy.html", "accept_all", "Accept all")
	p.waitHosts("after Accept all, Google Analytics loads", "www.googletagmanager.com")
	p.waitFor("the Google tag sets its _ga cookie", `document.cookie.indexOf('_ga=') >= 0`)
	// A vendor cookie scripts cannot see or delete, as a vendor's
	// server-side tag on the site's own domain would set it.
	p.setCookie("_fbp", "fb.1.1700000000.7", true)
	if c := findCookie(p.cookies(), "_fbp"); c == nil || !c.HTTPOnly {
		t.Fatalf("planting the HttpOnly _fbp cookie failed: %v", cookieNames(p.cookies()))
	}

	p.withdrawWith("the privacy page's Withdraw consent button", `document.querySelector('main [data-consent-action=withdraw]')`)
	p.expectNoThirdParty("after withdrawing consent")
	var left []string
	for _, c := range p.cookies() {
		if v := catalogCookie(c.Name); v != "" {
			left = append(left, fmt.Sprintf("%s@%s (HttpOnly %v, of %s)", c.Name, c.Domain, c.HTTPOnly, v))
		}
	}
	if len(left) > 0 {
		t.Errorf("after withdrawing, vendor cookies remain: %s", strings.Join(left, ", "))
	}
	if c := evalJS[string](p, `document.cookie`); strings.Contains(c, "_ga") {
		t.Errorf("after withdrawing, scripts still see %q", c)
	}
	st := p.config().State
	for id, granted := range st.Purposes {
		if granted && id != "necessary" {
			t.Errorf("after withdrawing, the page's state still grants %s: %+v", id, st.Purposes)
		}
	}
}

func TestGlobalPrivacyControl(t *testing.T) {
	base := startShop(t)

	t.Run("first visit shows the signal and a selection keeps marketing off", func(t *testing.T) {
		p := newPage(t, base)
		p.setHeaders("Sec-GPC", "1")
		p.open("/contact.html")
		p.waitFirstLayer()
		cfg := p.config()
		if !cfg.State.Signal {
			t.Errorf("with Sec-GPC: 1 the config's state must carry signal: true, it is %+v", cfg.State)
		}
		if cfg.State.Purposes["marketing"] {
			t.Errorf("with Sec-GPC: 1 marketing must be off: %+v", cfg.State.Purposes)
		}
		want := cfg.Texts["signal"]
		if want == "" {
			t.Fatal("the config's texts have no signal text")
		}
		if l := p.layers(); !strings.Contains(normSpace(l.Text), normSpace(want)) {
			t.Errorf("the banner must tell the visitor their signal is honoured (%q); it shows:\n%s", want, l.Text)
		}
		if d := p.description(); !strings.Contains(normSpace(d), normSpace(want)) {
			t.Errorf("the note that the signal is honoured (%q) must be part of the dialog's description (aria-describedby); that reads %q", want, d)
		}
		p.expectNoThirdParty("on a first visit with Sec-GPC: 1")

		p.openSettings()
		if evalJS[bool](p, `!!cg.checked(cg.toggle(cg.second(), 'marketing'))`) {
			t.Error("with Sec-GPC: 1 the Marketing switch must be off")
		}
		p.click("the Analytics switch", `cg.toggle(cg.second(), 'analytics')`)
		p.click("the second layer's Save selection button", `cg.control(cg.second(), 'save')`)
		p.waitBannerGone()
		p.waitHosts("after allowing Analytics with Sec-GPC: 1, Google Analytics loads", contactAnalytics...)
		p.waitIdle()
		p.expectHostsNotRequested("with Sec-GPC: 1 and only Analytics allowed, no marketing service may load", contactMarketing...)
		if st := p.apiState(); st.Purposes["marketing"] || !st.Purposes["analytics"] {
			t.Errorf("the state must grant analytics and not marketing: %+v", st.Purposes)
		}
	})

	// An earlier Accept all no longer releases marketing once the browser
	// sends the signal; DNT: 1 alone does as Sec-GPC does.
	for _, signal := range []string{"Sec-GPC", "DNT"} {
		t.Run("an earlier Accept all no longer releases marketing once "+signal+": 1 is sent", func(t *testing.T) {
			p := newPage(t, base)
			p.open("/contact.html")
			p.waitFirstLayer()
			p.clickFirstLayer("accept_all", "Accept all")
			p.waitHosts("without a signal, Accept all loads marketing too", slices.Concat(contactAnalytics, contactMarketing)...)

			p.setHeaders(signal, "1")
			p.forgetRequests()
			p.open("/contact.html")
			if st := p.config().State; !st.Signal || st.Purposes["marketing"] || !st.Purposes["analytics"] {
				t.Errorf("with %s: 1 after an Accept all made without it, marketing must be off and the signal noted, analytics stays on: %+v", signal, st)
			}
			if evalJS[bool](p, `window.consentgate.granted('marketing')`) {
				t.Errorf("window.consentgate.granted('marketing') must be false while %s: 1 is honoured", signal)
			}
			p.waitHosts("analytics, which the signal does not touch, still loads", contactAnalytics...)
			p.waitIdle()
			p.expectHostsNotRequested("with "+signal+": 1, marketing must stay off", contactMarketing...)
		})
	}

	t.Run("Accept all while sending the signal is an explicit opt-in", func(t *testing.T) {
		// docs/visitors.md: "If you click Accept all while your browser
		// sends the signal, that click counts as your explicit choice, and
		// marketing is switched on as well."
		p := newPage(t, base)
		p.setHeaders("Sec-GPC", "1")
		p.open("/contact.html")
		p.waitFirstLayer()
		p.clickFirstLayer("accept_all", "Accept all")
		p.waitHosts("Accept all under the signal loads marketing as documented", slices.Concat(contactAnalytics, contactMarketing)...)
		if st := p.apiState(); !st.Purposes["marketing"] {
			t.Errorf("after Accept all under the signal, marketing must be granted: %+v", st.Purposes)
		}
	})
}

// TestPolicyChangeSaysWhatChanged: when the operator adds a vendor after
// the visitor chose, the banner asks again and its dialog says what is new.
func TestPolicyChangeSaysWhatChanged(t *testing.T) {
	p := newPage(t, startShop(t))
	p.decideOn("/contact.html", "accept_all", "Accept all")

	// The same keys and cookie (cookies do not tell ports apart), a policy
	// with one more vendor.
	p.base = startShop(t, "vendor acme {", "\tname Acme", "\tpurpose marketing", "\tmatch script acme.example", "}")
	p.open("/contact.html")
	p.waitFirstLayer()
	changed := p.config().State.Changed
	if !strings.Contains(changed, "Acme") {
		t.Fatalf("after the policy gained the vendor Acme, the state's changed line must name it; it is %q", changed)
	}
	if l := p.layers(); !strings.Contains(normSpace(l.Text), normSpace(changed)) {
		t.Errorf("the dialog must say what changed (%q); it shows:\n%s", changed, l.Text)
	}
	if d := p.description(); !strings.Contains(normSpace(d), normSpace(changed)) {
		t.Errorf("what changed (%q) must be part of the dialog's description (aria-describedby); that reads %q", changed, d)
	}
}

// TestGPCSwitchesOffOperatorSalePurpose: a purpose the operator marks
// "sale" is switched off by Sec-GPC like marketing: here the shop moves
// Mailchimp to its own newsletter purpose.
func TestGPCSwitchesOffOperatorSalePurpose(t *testing.T) {
	mailchimp := []string{"cdn-images.mailchimp.com", "s3.amazonaws.com"}
	p := newPage(t, startShop(t, "purpose newsletter {", "\tname en \"Newsletter tracking\"", "\tsale", "}",
		"vendor mailchimp {", "\tpurpose newsletter", "}"))
	p.open("/newsletter.html")
	p.waitFirstLayer()
	p.clickFirstLayer("accept_all", "Accept all")
	p.waitHosts("without a signal, Accept all loads Mailchimp (newsletter)", mailchimp...)
	if st := p.apiState(); !st.Purposes["newsletter"] {
		t.Fatalf("after Accept all the operator's newsletter purpose must be granted: %+v", st.Purposes)
	}

	p.setHeaders("Sec-GPC", "1")
	p.forgetRequests()
	p.open("/newsletter.html")
	if st := p.config().State; !st.Signal || st.Purposes["newsletter"] || st.Purposes["marketing"] || !st.Purposes["analytics"] {
		t.Errorf("with Sec-GPC: 1 the sale purpose newsletter must be off like marketing, the signal noted, analytics on: %+v", st)
	}
	p.waitHosts("analytics, which the signal does not touch, still loads", "www.googletagmanager.com")
	p.waitIdle()
	p.expectHostsNotRequested("with Sec-GPC: 1, the sale purpose's Mailchimp must stay off", mailchimp...)
}

// dlEntry is one dataLayer entry: gtag() pushes Arguments objects.
type dlEntry struct {
	IsArgs bool              `json:"isArgs"`
	Args   []json.RawMessage `json:"args"`
}

func (e dlEntry) command() (string, string) {
	var a, b string
	if len(e.Args) > 0 {
		json.Unmarshal(e.Args[0], &a)
	}
	if len(e.Args) > 1 {
		json.Unmarshal(e.Args[1], &b)
	}
	return a, b
}

func (e dlEntry) params() map[string]any {
	var m map[string]any
	if len(e.Args) > 2 {
		json.Unmarshal(e.Args[2], &m)
	}
	return m
}

func (e dlEntry) String() string {
	var parts []string
	for _, a := range e.Args {
		parts = append(parts, string(a))
	}
	kind := "array/object"
	if e.IsArgs {
		kind = "arguments"
	}
	return kind + "[" + strings.Join(parts, ", ") + "]"
}

const dataLayerJS = `JSON.parse(JSON.stringify((%s || []).map(function (e) {
  var isArgs = Object.prototype.toString.call(e) === '[object Arguments]';
  return {isArgs: isArgs, args: (isArgs || Array.isArray(e)) ? Array.prototype.slice.call(e) : [e]};
})))`

func (p *page) dataLayer(expr string) []dlEntry {
	p.t.Helper()
	return evalJS[[]dlEntry](p, fmt.Sprintf(dataLayerJS, expr))
}

func findConsent(dl []dlEntry, kind string) int {
	for i, e := range dl {
		if a, b := e.command(); a == "consent" && b == kind {
			return i
		}
	}
	return -1
}

// lastConsent is the index of the last gtag('consent', kind, …), or -1.
func lastConsent(dl []dlEntry, kind string) int {
	for i := len(dl) - 1; i >= 0; i-- {
		if a, b := dl[i].command(); a == "consent" && b == kind {
			return i
		}
	}
	return -1
}

// consentTypes are the seven Google Consent Mode v2 types.
var consentTypes = []string{"ad_storage", "ad_user_data", "ad_personalization", "analytics_storage",
	"functionality_storage", "personalization_storage", "security_storage"}

// expectConsentTypes fails unless params sets every Consent Mode type,
// the granted ones "granted" and the rest "denied".
func expectConsentTypes(t *testing.T, what string, params map[string]any, granted ...string) {
	t.Helper()
	for _, k := range consentTypes {
		want := "denied"
		if slices.Contains(granted, k) {
			want = "granted"
		}
		if params[k] != want {
			t.Errorf("%s must set %s to %q, it says %v (all: %v)", what, k, want, params[k], params)
		}
	}
}

// waitConsentUpdates waits until the dataLayer holds n consent updates.
func (p *page) waitConsentUpdates(what string, n int) {
	p.t.Helper()
	p.waitFor(what, fmt.Sprintf(`(window.dataLayer || []).filter(function (e) { return e[0] === 'consent' && e[1] === 'update'; }).length >= %d`, n))
}

func TestConsentModeDefaultComesFirst(t *testing.T) {
	p := newPage(t, startShop(t, "consent_mode basic"))
	p.open("/")
	p.waitFirstLayer()

	dl := p.dataLayer("window.dataLayer")
	if len(dl) == 0 {
		t.Fatal("with consent_mode basic the page must have a dataLayer holding the consent default; it has none")
	}
	if a, b := dl[0].command(); a != "consent" || b != "default" {
		t.Fatalf("the first dataLayer entry must be gtag('consent','default',…), it is %s (all: %v)", dl[0], dl)
	}
	if !dl[0].IsArgs {
		t.Errorf("the consent default must be pushed as an Arguments object, as gtag() does; gtag.js ignores %s", dl[0])
	}
	def := dl[0].params()
	// Every type denied, security_storage too, as the issue asks.
	expectConsentTypes(t, "the consent default, before any choice", def)
	if w, _ := def["wait_for_update"].(float64); w <= 0 {
		t.Errorf("the consent default should carry wait_for_update, it is %v", def["wait_for_update"])
	}
	if i := findConsent(dl, "update"); i >= 0 {
		t.Errorf("before any choice there must be no consent update, found %s", dl[i])
	}
	type order struct{ Default, Tag int }
	o := evalJS[order](p, `(function () {
  var s = Array.prototype.slice.call(document.scripts);
  return {
    default: s.findIndex(function (x) { return !x.src && /consent['"]\s*,\s*['"]default/.test(x.textContent); }),
    tag: s.findIndex(function (x) { return /googletagmanager\.com|google-analytics\.com/.test(x.src || x.getAttribute('data-consent-src') || ''); })
  };
})()`)
	if o.Default < 0 || (o.Tag >= 0 && o.Default > o.Tag) {
		t.Errorf("the inline consent default script must come before the first Google tag in the document (default at script #%d, Google tag at #%d)", o.Default, o.Tag)
	}

	p.clickFirstLayer("accept_all", "Accept all")
	p.waitFor("the Google tag runs after Accept all", `window.__gtagSaw`)
	p.waitFor("the dataLayer gets a consent update", `(window.dataLayer || []).some(function (e) { return e[0] === 'consent' && e[1] === 'update'; })`)
	dl = p.dataLayer("window.dataLayer")
	di, ui := findConsent(dl, "default"), findConsent(dl, "update")
	if di != 0 || ui <= di {
		t.Errorf("the consent default must stay first and the update follow it: default at %d, update at %d (%v)", di, ui, dl)
	} else {
		if !dl[ui].IsArgs {
			t.Errorf("the consent update must be an Arguments object, as gtag() pushes: %s", dl[ui])
		}
		expectConsentTypes(t, "after Accept all the consent update", dl[ui].params(), consentTypes...)
	}
	for i, e := range dl {
		if a, _ := e.command(); (a == "config" || a == "js" || a == "event") && i < di {
			t.Errorf("the Google tag command %s comes before the consent default", e)
		}
	}
	if saw := p.dataLayer("window.__gtagSaw"); len(saw) == 0 || findConsent(saw, "default") != 0 {
		t.Errorf("when the Google tag ran, the dataLayer's first entry must have been the consent default; it saw %v", saw)
	}

	// The next page: the server writes the visitor's grants as an update
	// right after the default, before any tag.
	p.open("/")
	dl = p.dataLayer("window.dataLayer")
	if len(dl) < 2 || findConsent(dl, "default") != 0 || findConsent(dl, "update") != 1 {
		t.Errorf("for a visitor who decided, the page must start with the consent default then the update; its dataLayer is %v", dl)
	} else {
		expectConsentTypes(t, "after Accept all the server-rendered update", dl[1].params(), consentTypes...)
	}
}

// TestConsentModeUpdateOnEveryChoice: with a bare consent_mode line (basic
// mode), Reject all and a saved selection each push an update: Reject all
// grants security_storage alone (necessary), a selection of Functional
// grants functionality_storage and personalization_storage too.
func TestConsentModeUpdateOnEveryChoice(t *testing.T) {
	p := newPage(t, startShop(t, "consent_mode"))
	p.open("/")
	p.waitFirstLayer()
	if dl := p.dataLayer("window.dataLayer"); len(dl) == 0 || findConsent(dl, "default") != 0 {
		t.Fatalf("a bare consent_mode line must turn Consent Mode on (basic): the dataLayer is %v", dl)
	}

	p.clickFirstLayer("reject_all", "Reject all")
	p.waitConsentUpdates("Reject all pushes a consent update", 1)
	dl := p.dataLayer("window.dataLayer")
	expectConsentTypes(t, "after Reject all the consent update", dl[lastConsent(dl, "update")].params(), "security_storage")
	p.waitBannerGone()

	evalJS[bool](p, `(window.consentgate.open(), true)`)
	p.waitSecondLayer()
	p.click("the Functional switch", `cg.toggle(cg.second(), 'functional')`)
	p.waitFor("the Functional switch turns on", `cg.checked(cg.toggle(cg.second(), 'functional'))`)
	p.click("the second layer's Save selection button", `cg.control(cg.second(), 'save')`)
	p.waitConsentUpdates("saving a selection pushes another consent update", 2)
	dl = p.dataLayer("window.dataLayer")
	expectConsentTypes(t, "after saving Functional alone the consent update", dl[lastConsent(dl, "update")].params(),
		"functionality_storage", "personalization_storage", "security_storage")
}

func findCookie(cs []*network.Cookie, name string) *network.Cookie {
	for _, c := range cs {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func expectOnlyConsentCookie(t *testing.T, p *page, when string) {
	t.Helper()
	cs := p.cookies()
	for _, c := range cs {
		if c.Name != "consentgate" {
			t.Errorf("%s the browser holds %v; only the consent cookie may be set", when, cookieNames(cs))
			return
		}
	}
	if c := findCookie(cs, "consentgate"); c == nil {
		t.Errorf("%s the consent cookie is missing", when)
	} else if !c.HTTPOnly {
		t.Errorf("%s the consent cookie must be HttpOnly", when)
	}
}

// catalogCookie names the catalogued vendor that sets a cookie of this name,
// or "".
func catalogCookie(name string) string {
	for _, v := range catalog.Builtin() {
		for _, c := range v.Cookies {
			if c.Name == name || (c.Prefix && strings.HasPrefix(name, c.Name)) {
				return v.ID
			}
		}
	}
	return ""
}

func normSpace(s string) string { return strings.Join(strings.Fields(s), " ") }

// TestDocumentWriteWaitsForConsent: a first-party script that writes
// trackers' markup with document.write (old ad and analytics snippets do)
// gets each loading tag neutralised before the parser reads it, so nothing
// is requested and the written script does not run; the rest of what it
// writes appears as written. Accept all brings each back in place.
func TestDocumentWriteWaitsForConsent(t *testing.T) {
	// The script names its trackers as a script that builds URLs would,
	// so that only the shim, not the gateway's reading of the page, can
	// catch them.
	writer := `var h = 'https://www.', q = '?f=';
document.write('<script id="dw-s" src="' + h + 'google-analytics.com/analytics.js' + q + '91"><\/script>');
document.write('<p id="dw-own">Written ', 'by the page', '</p><img id="dw-i" alt="" src="' + h + 'facebook.com/tr' + q + '92">');
document.writeln('<iframe id="dw-f" title="Video" src="https://player.vimeo.com/video/1' + q + '93"></iframe>');`
	p := openServed(t, `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Written</title></head>`+
		`<body><main><h1>A page that writes</h1><script src="/w.js"></script></main></body></html>`,
		"handle /w.js {\n\t\theader Content-Type text/javascript\n\t\trespond `"+writer+"`\n\t}")
	p.expectWrittenHeld("with document.write", "dw-s", "dw-i", "dw-f")
	if got := evalJS[string](p, `(document.getElementById('dw-own') || {}).textContent || ''`); got != "Written by the page" {
		t.Errorf("the page's own written text: %q", got)
	}
	p.acceptWritten("with document.write", "f=91", "f=92", "f=93")
}

// expectWrittenHeld: before a choice, the page loaded nothing from a third
// party, each element a script wrote (how) is held, and the tracker script
// it wrote has not run.
func (p *page) expectWrittenHeld(how string, ids ...string) {
	p.t.Helper()
	p.expectNoThirdParty("on a page whose script writes trackers " + how + ", before any choice")
	for _, id := range ids {
		if !evalJS[bool](p, heldElement(id)) {
			p.t.Errorf("before consent, #%s written %s must be held: marked with its purpose and without src", id, how)
		}
	}
	if evalJS[bool](p, `(window.__tracked || []).length > 0`) {
		p.t.Errorf("before consent, the tracker script written %s ran", how)
	}
}

// acceptWritten: Accept all loads what the script wrote (how) in place,
// without a reload, and runs the tracker script it wrote.
func (p *page) acceptWritten(how string, queries ...string) {
	p.t.Helper()
	p.clickFirstLayer("accept_all", "Accept all")
	p.waitBannerGone()
	p.waitQueries("after Accept all, what was written "+how+" loads in place", queries...)
	p.waitFor("the script written "+how+" runs", `(window.__tracked || []).indexOf('www.google-analytics.com/analytics.js') >= 0`)
}

// TestSplitDocumentWriteWaitsForConsent: a tracker's start tag that a script
// writes in pieces, over several document.write calls, is held like a whole
// one (the parser joins the pieces, so the shim does too), also when a
// script written just before it writes too, and in a second document
// between writes to the page. Text written in pieces appears as written; a
// tag of the page's own that its markup finishes after the script still
// does; a tracker tag that nothing finishes never loads. Accept all brings
// the joined tags back in place.
func TestSplitDocumentWriteWaitsForConsent(t *testing.T) {
	// No piece names a whole tracker host, so that only the joined markup
	// does.
	writer := `var h = 'https://www.', q = '?f=';
document.write('<p id="dw-own"');
document.write(' class="own">Split over ');
document.write('writes, 1 <');
document.write(' 2</p>');
document.write('<script id="dw-s" src="' + h + 'google-an');
document.write('alytics.com/analytics.js' + q + '94"');
document.write('><\/script>');
document.writeln('<img id="dw-i" alt=""');
document.write(' src="' + h + 'faceb');
document.write('ook.com/tr' + q + '95"');
document.writeln('>');
document.write('<script>document.write("<b id=dw-inner>Inner</b>")<\/script><img id="dw-n" alt="" src="' + h + 'faceb');
document.write('ook.com/tr' + q + '98">');
var x = document.implementation.createHTMLDocument('');
x.open();
x.write('<img id="dw-x" alt="" src="' + h + 'faceb');
document.write('<p id="dw-between">Between</p>');
x.write('ook.com/tr' + q + '96">');
x.close();
window.__otherHeld = x.getElementById('dw-x').hasAttribute('data-consent-purpose');
document.write('<img id="dw-late" alt="');`
	p := openServed(t, `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Written in pieces</title></head>`+
		`<body><main><h1>A page that writes in pieces</h1>`+
		`<script>`+writer+`</script>finished by the page">`+
		`<script>document.write('<img id="dw-lost" alt="" src="https://www.' + 'facebook.com/tr?f=97')</script>`+
		`<p id="dw-after">After</p></main></body></html>`)
	p.expectWrittenHeld("in pieces with document.write", "dw-s", "dw-i", "dw-n")
	if !evalJS[bool](p, `window.__otherHeld === true`) {
		t.Error("a tracker image written in pieces into another document, between writes to the page, must be held there too")
	}
	for id, want := range map[string]string{
		"dw-own":     "Split over writes, 1 < 2",
		"dw-between": "Between",
		"dw-inner":   "Inner",
		"dw-after":   "After",
	} {
		if got := evalJS[string](p, fmt.Sprintf(`(document.getElementById(%q) || {}).textContent || ''`, id)); got != want {
			t.Errorf("the page's own text #%s: %q, want %q", id, got, want)
		}
	}
	if got := evalJS[string](p, `(document.getElementById('dw-late') || {}).alt || ''`); got != "finished by the page" {
		t.Errorf("an image tag the script leaves for the page's markup to finish: alt %q, want %q", got, "finished by the page")
	}
	if evalJS[bool](p, `!!document.getElementById('dw-lost')`) {
		t.Error("a tracker tag that no later write finishes must be dropped, not joined with the page's markup")
	}
	p.acceptWritten("in pieces with document.write", "f=94", "f=95", "f=98")
}

// TestFriendlyFramesWaitForConsent: first-party code that builds a
// same-origin frame without a src (a "friendly iframe", as ad and widget
// code do) and loads trackers through that frame's own window and document
// (innerHTML, document.write, createElement and a src setter, new Image(),
// fetch, XMLHttpRequest), reaching it through contentDocument and
// contentWindow or only through window.frames, loads nothing before a
// choice; Accept all loads each in place, in the frame, without a reload.
// A frame showing a page of the site keeps that page's own shim.
func TestFriendlyFramesWaitForConsent(t *testing.T) {
	// No tracker host is written whole, so that only the shim, not the
	// gateway's reading of the page, can catch them.
	script := `var h = 'https://www.', q = '?f=', ga = h + 'google-an' + 'alytics.com/', fb = h + 'faceb' + 'ook.com/tr' + q;
var f = document.createElement('iframe');
f.title = 'Friendly';
document.body.appendChild(f);
var d = f.contentDocument, w = f.contentWindow;
d.write('<p id="fi-own">Written into the frame</p><script id="fi-s" src="' + ga + 'analytics.js' + q + '132"><\/script>');
d.close();
var box = d.createElement('div');
d.body.appendChild(box);
box.innerHTML = '<img id="fi-h" alt="" src="' + fb + '131">';
var i = d.createElement('img');
i.id = 'fi-c';
i.alt = '';
i.src = fb + '133';
d.body.appendChild(i);
new w.Image().src = fb + '137';
w.fetch(ga + 'collect' + q + '134');
var x = new w.XMLHttpRequest();
x.open('GET', ga + 'collect' + q + '135');
x.send();
var g = document.createElement('iframe');
g.title = 'Reached as frames[1]';
document.body.appendChild(g);
frames[1].document.body.innerHTML = '<img id="fi-n" alt="" src="' + fb + '136">';
var o = document.createElement('iframe');
o.title = 'A page of the site';
o.src = '/own';
document.body.appendChild(o);
o.contentWindow.name = 'own';`
	p := openServed(t, `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Friendly frames</title></head>`+
		`<body><main><h1>A page that fills frames of its own</h1></main><script>`+script+`</script></body></html>`,
		"handle /own {\n\t\theader Content-Type \"text/html; charset=utf-8\"\n\t\trespond `<!doctype html><html lang=\"en\"><head><title>Own</title></head><body><p>A page of the site</p></body></html>`\n\t}")
	// A frame showing a page the gateway served has that page's own shim.
	p.waitFor("the site's own page loads in its frame", `frames[2].document.readyState === 'complete' && /\/own$/.test(frames[2].location.href)`)
	if !evalJS[bool](p, `!!frames[2].__consentgate && frames[2].__consentgate !== window.__consentgate`) {
		t.Error("a frame showing a page of the site must run that page's own shim, not the parent's")
	}
	p.expectNoThirdParty("on a page whose script loads trackers through same-origin frames, before any choice")
	// The checks read the frames through window.frames, which passes none
	// of the getters the shim watches.
	for _, e := range []struct{ frame, id string }{{"0", "fi-s"}, {"0", "fi-h"}, {"0", "fi-c"}, {"1", "fi-n"}} {
		held := fmt.Sprintf(`(function (e) { return !!e && e.hasAttribute('data-consent-purpose') && !e.hasAttribute('src'); })(frames[%s].document.getElementById(%q))`, e.frame, e.id)
		if !evalJS[bool](p, held) {
			t.Errorf("before consent, #%s in frame %s must be held: marked with its purpose and without src", e.id, e.frame)
		}
	}
	if got := evalJS[string](p, `(frames[0].document.getElementById('fi-own') || {}).textContent || ''`); got != "Written into the frame" {
		t.Errorf("the page's own text written into the frame: %q", got)
	}
	if evalJS[bool](p, `(frames[0].__tracked || []).length > 0`) {
		t.Error("before consent, the tracker script written into the frame ran")
	}
	p.watchChanges()
	navs := p.navigations()
	p.clickFirstLayer("accept_all", "Accept all")
	p.waitBannerGone()
	p.waitQueries("after Accept all, what the page loaded through its frames loads",
		"f=131", "f=132", "f=133", "f=134", "f=135", "f=136", "f=137")
	p.waitFor("the script written into the frame runs there", `(frames[0].__tracked || []).indexOf('www.google-analytics.com/analytics.js') >= 0`)
	for _, e := range []struct{ frame, id string }{{"0", "fi-h"}, {"0", "fi-c"}, {"1", "fi-n"}} {
		if !evalJS[bool](p, fmt.Sprintf(`/facebook\.com\/tr/.test((frames[%s].document.getElementById(%q) || {}).src || '')`, e.frame, e.id)) {
			t.Errorf("after Accept all, #%s in frame %s must have its tracker src back, in place", e.id, e.frame)
		}
	}
	p.expectNoReload("Accept all", navs)
}

// TestModuleImportOfATrackerWaitsForConsent: an inline module that imports
// a vendor's code from the vendor's host, named by no inline signature,
// neither runs nor fetches anything before consent, and runs (fetching its
// import) after Accept all, without a reload; so does one that imports a
// name the page's import map maps to a vendor's URL, and the map keeps
// working for the page's own modules meanwhile. The CSP is the page's own
// and refuses nothing the modules need: the gateway, not csp enforce,
// holds them.
func TestModuleImportOfATrackerWaitsForConsent(t *testing.T) {
	base := startCSPSite(t, "object-src 'none'", `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Modules</title>`+
		`<script type="importmap">{"imports": {"tag": "https://www.googletagmanager.com/gtag/js?id=G-1", "own": "data:text/javascript,window.__own=true"}}</script>`+
		`<script type="module">import "https://connect.facebook.net/signals/config/1234"; window.__moduleRan = true;</script>`+
		`<script type="module">const m = await import( "//script.hotjar.com/modules.js" ); window.__dynamicRan = true;</script>`+
		`<script type="module">import "tag"; window.__mappedRan = true;</script>`+
		`<script type="module">import "own"; window.__ownRan = true;</script>`+
		`</head><body><main><h1>Modules</h1></main></body></html>`)
	p := newPage(t, base)
	p.open("/")
	p.waitFirstLayer()
	p.waitFor("before consent, the page's own module runs through the import map", `window.__own === true && window.__ownRan === true`)
	p.waitIdle()
	p.expectNoThirdParty("before consent")
	if ran := evalJS[bool](p, `!!(window.__moduleRan || window.__dynamicRan || window.__mappedRan)`); ran {
		t.Fatal("a module importing a tracker ran before consent")
	}
	p.watchChanges()
	navs := p.navigations()

	p.clickFirstLayer("accept_all", "Accept all")
	p.waitHosts("after Accept all, the modules' imports are fetched", "connect.facebook.net", "script.hotjar.com", "www.googletagmanager.com")
	p.waitFor("the module with a static import runs", `window.__moduleRan === true`)
	p.waitFor("the module with a dynamic import runs", `window.__dynamicRan === true`)
	p.waitFor("the module importing a mapped name runs", `window.__mappedRan === true`)
	p.expectNoReload("Accept all", navs)
}

// TestSpeculationRulesWaitForConsent: speculation rules that would have the
// browser prefetch a vendor's URL are inert before consent (no rules of
// that type in the page, nothing fetched), and are put back, as the page
// had them, after Accept all, without a reload. (This headless Chromium
// makes no cross-site prefetch even for rules in the page as served, so
// the test checks the rules, not the fetch.)
func TestSpeculationRulesWaitForConsent(t *testing.T) {
	const rules = `{"prefetch": [{"source": "list", "urls": ["https://connect.facebook.net/spec/next.html"], "eagerness": "immediate"}]}`
	base := startCSPSite(t, "object-src 'none'", `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Speculation</title>`+
		`<script type="speculationrules">`+rules+`</script>`+
		`</head><body><main><h1>Speculation</h1></main></body></html>`)
	p := newPage(t, base)
	p.open("/")
	p.waitFirstLayer()
	if !evalJS[bool](p, `HTMLScriptElement.supports('speculationrules')`) {
		t.Fatal("this Chromium does not support speculation rules: the test would show nothing")
	}
	const live = `Array.prototype.filter.call(document.querySelectorAll('script'), function (s) { return s.type === 'speculationrules'; }).map(function (s) { return s.textContent; })`
	if got := evalJS[[]string](p, live); len(got) != 0 {
		t.Errorf("before consent, the page holds live speculation rules %q", got)
	}
	p.waitIdle()
	p.expectNoThirdParty("before consent")
	p.watchChanges()
	navs := p.navigations()
	p.clickFirstLayer("accept_all", "Accept all")
	p.waitFor("after Accept all, the speculation rules are back", live+`.length === 1`)
	if got := evalJS[[]string](p, live); len(got) != 1 || got[0] != rules {
		t.Errorf("after Accept all, the live speculation rules are %q, want the page's own %q", got, rules)
	}
	p.expectNoReload("Accept all", navs)
}
