package browsertest

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// A site with push notifications hosts the push service's service worker
// on its own origin, beside a worker of its own. These stand in for
// OneSignal's worker (which a site may register for its pages, here those
// under /news/: it sees every load of them and, this one, reports each to
// OneSignal before it lets it go on) and Firebase's (push only, under the
// scope Firebase gives it).
var workerSiteFiles = map[string]string{
	"index.html":      workerPage("Home"),
	"news/index.html": workerPage("News"),
	"sw.js": "// The site's own worker.\n" +
		"self.addEventListener('install', function () { self.skipWaiting(); });\n" +
		"self.addEventListener('fetch', function () {});\n",
	"OneSignalSDKWorker.js": "self.addEventListener('install', function () { self.skipWaiting(); });\n" +
		"self.addEventListener('fetch', function (e) {\n" +
		"  if (e.request.mode != 'navigate') return;\n" +
		"  var report = 'https://onesignal.com/sw/seen?page=' + encodeURIComponent(new URL(e.request.url).pathname);\n" +
		"  e.respondWith(fetch(report, { mode: 'no-cors' }).catch(function () {}).then(function () { return fetch(e.request); }));\n" +
		"});\n",
	"firebase-messaging-sw.js": "self.addEventListener('install', function () { self.skipWaiting(); });\n" +
		"self.addEventListener('push', function () {});\n",
}

func workerPage(title string) string {
	return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>` + title + `</title></head>` +
		`<body><main><h1>` + title + `</h1><p><button type="button" id="withdraw" data-consent-action="withdraw">Withdraw consent</button></p></main></body></html>`
}

// Where the workers are registered, as the push services' SDKs and the
// site's own code register them.
const (
	ownWorker      = "/sw.js"
	oneSignal      = "/OneSignalSDKWorker.js"
	firebaseWorker = "/firebase-messaging-sw.js"
)

var workerScopes = map[string]string{ownWorker: "/", oneSignal: "/news/", firebaseWorker: "/firebase-cloud-messaging-push-scope"}

// openWorkerSite serves workerSiteFiles behind `consent` (the whole
// catalogue: OneSignal and Firebase are functional) and opens path.
func openWorkerSite(t *testing.T, path string) *page {
	t.Helper()
	dir := t.TempDir()
	for name, body := range workerSiteFiles {
		file := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p := openSite(t, "root * "+dir+"\n\tfile_server")
	if path != "/" {
		p.open(path)
	}
	return p
}

// register registers the worker as page code does and waits until it is
// active; it returns the error the browser gave, or "".
func (p *page) register(script string) string {
	p.t.Helper()
	return evalJS[string](p, `navigator.serviceWorker.register('`+script+`', {scope: '`+workerScopes[script]+`'}).then(function (r) {
  return new Promise(function (done) {
    (function check() {
      if (r.active && r.active.state == 'activated') done('');
      else if (!r.installing && !r.waiting && !r.active) done('its worker did not install');
      else setTimeout(check, 20);
    })();
  });
}, function (e) { return String(e && e.message || e) || 'refused'; })`)
}

// serviceWorkers lists the paths of the scripts of every service worker
// registration of the site, as a page of it sees them.
func (p *page) serviceWorkers() []string {
	p.t.Helper()
	got := evalJS[[]string](p, `navigator.serviceWorker.getRegistrations().then(function (rs) {
  return rs.map(function (r) { return new URL((r.active || r.waiting || r.installing).scriptURL).pathname; }).sort();
})`)
	if got == nil {
		got = []string{}
	}
	return got
}

// waitServiceWorkers waits until the site's registrations are those of want.
func (p *page) waitServiceWorkers(what string, want ...string) {
	p.t.Helper()
	slices.Sort(want)
	deadline := time.Now().Add(waitTimeout)
	for got := p.serviceWorkers(); !slices.Equal(got, want); got = p.serviceWorkers() {
		if time.Now().After(deadline) {
			p.t.Fatalf("%s: the site's service workers are %q, want %q", what, got, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// acceptWithWorkers accepts all in the banner's first layer, then
// registers the site's own worker and the two push services'.
func (p *page) acceptWithWorkers() {
	p.t.Helper()
	p.waitFirstLayer()
	p.clickFirstLayer("accept_all", "Accept all")
	p.waitBannerGone()
	for _, w := range []string{ownWorker, oneSignal, firebaseWorker} {
		if err := p.register(w); err != "" {
			p.t.Fatalf("after Accept all, registering %s failed: %s", w, err)
		}
	}
}

func (p *page) deleteCookie(name string) {
	p.t.Helper()
	p.do(chromedp.Func(func(ctx context.Context, tt *chromedp.Target) error {
		_, err := cdp.Call(ctx, tt, network.DeleteCookies, network.DeleteCookiesParams{Name: name, URL: p.base + "/"})
		return err
	}))
}

// TestWithdrawalUnregistersVendorServiceWorkers: a push service's worker,
// registered after consent, goes with the withdrawal, before the page
// reloads (so the worker does not see that load either: the visitor's
// withdrawal is the last the vendor hears); the site's own worker stays.
func TestWithdrawalUnregistersVendorServiceWorkers(t *testing.T) {
	p := openWorkerSite(t, "/news/")
	p.acceptWithWorkers()
	p.open("/news/")
	if c := evalJS[string](p, `(navigator.serviceWorker.controller || {}).scriptURL || ''`); !strings.HasSuffix(c, oneSignal) {
		t.Fatalf("the news page is controlled by %q, want OneSignal's worker", c)
	}
	p.waitQueries("OneSignal's worker reports the news page loading", "page=%2Fnews%2F")

	p.withdrawWith("the page's Withdraw consent button", `document.getElementById('withdraw')`)
	p.waitServiceWorkers("after withdrawing", ownWorker)
	if c := evalJS[string](p, `(navigator.serviceWorker.controller || {}).scriptURL || ''`); strings.HasSuffix(c, oneSignal) {
		t.Errorf("after withdrawing, OneSignal's worker still controls the page")
	}
	p.expectNoThirdParty("after withdrawing (OneSignal's worker reporting the reload)")
}

// TestPageLoadUnregistersServiceWorkersOfVendorsNotAllowed: a push
// service's worker left from a consent that has ended otherwise than
// through the banner (the consent cookie gone, as when it runs out or the
// visitor clears cookies only) is removed by the next page view that
// does not allow it; the site's own worker stays.
func TestPageLoadUnregistersServiceWorkersOfVendorsNotAllowed(t *testing.T) {
	p := openWorkerSite(t, "/")
	p.acceptWithWorkers()
	p.open("/")
	p.waitServiceWorkers("a page view with consent keeps the workers", ownWorker, oneSignal, firebaseWorker)

	p.deleteCookie("consentgate")
	p.open("/")
	p.waitFirstLayer()
	p.waitServiceWorkers("a page view without consent", ownWorker)
}

// TestVendorServiceWorkerWaitsForConsent: before consent a push service's
// worker cannot be installed (the gateway refuses the browser's request for
// its script); the site's own can; after Accept all, the push service's
// registers too (the browser sends the consent cookie for it).
func TestVendorServiceWorkerWaitsForConsent(t *testing.T) {
	p := openWorkerSite(t, "/")
	p.waitFirstLayer()
	if err := p.register(ownWorker); err != "" {
		t.Fatalf("registering the site's own worker before any choice failed: %s", err)
	}
	if err := p.register(firebaseWorker); err == "" {
		t.Errorf("before any choice, Firebase's worker registered; the gateway must refuse its script")
	}
	p.waitServiceWorkers("before any choice", ownWorker)
	p.clickFirstLayer("accept_all", "Accept all")
	p.waitBannerGone()
	if err := p.register(firebaseWorker); err != "" {
		t.Errorf("after Accept all, registering Firebase's worker failed: %s", err)
	}
	p.waitServiceWorkers("after Accept all", ownWorker, firebaseWorker)
}
