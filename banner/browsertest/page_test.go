package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/storage"
	"github.com/chromedp/chromedp"
)

const (
	testTimeout = 45 * time.Second // one test, start to end
	waitTimeout = 10 * time.Second // one condition
	quietPeriod = 500 * time.Millisecond
)

// page is one browser tab in a browser context of its own, on one gateway.
type page struct {
	t    *testing.T
	ctx  context.Context // carries the test's deadline
	tab  context.Context // the tab, without deadline
	base string          // the gateway, e.g. http://127.0.0.1:12345
	bc   cdp.BrowserContextID

	mu       sync.Mutex
	requests []netRequest // everything the page asked the network for
	inflight map[network.RequestID]bool
	lastNet  time.Time
	mainNavs int      // main-frame navigations (loads and reloads)
	dialogs  []string // messages of the JavaScript dialogs the page opened
}

type netRequest struct {
	ID   network.RequestID
	URL  string
	Type network.ResourceType
	At   time.Time
}

// newPage opens a tab in a fresh browser context (no cookies, no cache) and
// forgets what the tracker recorder saw before.
func newPage(t *testing.T, base string) *page {
	t.Helper()
	if setupErr != nil {
		t.Fatalf("the browser for these tests did not start: %v", setupErr)
	}
	trackers.Reset()
	tab, cancel := chromedp.NewContext(browserCtx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel) // closes the tab and disposes of its browser context
	p := &page{t: t, tab: tab, base: base, inflight: map[network.RequestID]bool{}}
	if err := chromedp.Do(tab); err != nil { // opens the tab
		t.Fatalf("opening a tab: %v", err)
	}
	if err := chromedp.Listen(tab, p.onEvent); err != nil {
		t.Fatal(err)
	}
	ctx, cancelDeadline := context.WithTimeout(tab, testTimeout)
	t.Cleanup(cancelDeadline)
	p.ctx = ctx
	p.bc = chromedp.FromContext(tab).BrowserContextID
	p.do(
		chromedp.EmulateViewport(1280, 800),
		chromedp.Func(func(ctx context.Context, tt *chromedp.Target) error {
			// Behave as the focused window: focus, :focus-visible and key
			// events work as for a person at the keyboard.
			_, err := cdp.Call(ctx, tt, emulation.SetFocusEmulationEnabled, emulation.SetFocusEmulationEnabledParams{Enabled: true})
			return err
		}),
	)
	p.emulateMedia("light")
	return p
}

func (p *page) onEvent(ev any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		if u := ev.Request.URL; strings.HasPrefix(u, "http:") || strings.HasPrefix(u, "https:") {
			p.requests = append(p.requests, netRequest{ID: ev.RequestID, URL: u, Type: ev.Type, At: now})
			p.inflight[ev.RequestID] = true
			p.lastNet = now
		}
	case *network.EventLoadingFinished:
		delete(p.inflight, ev.RequestID)
		p.lastNet = now
	case *network.EventLoadingFailed:
		delete(p.inflight, ev.RequestID)
		p.lastNet = now
	case *cdppage.EventJavascriptDialogOpening:
		p.dialogs = append(p.dialogs, string(ev.Type)+": "+ev.Message)
		// Dismissed from another goroutine (a listener must not call the
		// browser), so the page goes on.
		go chromedp.Call(p.tab, cdppage.HandleJavaScriptDialog, cdppage.HandleJavaScriptDialogParams{})
	case *cdppage.EventFrameNavigated:
		if ev.Frame != nil && ev.Frame.ParentID == "" {
			p.mainNavs++
			clear(p.inflight) // a new document: what the old one had open is gone
			p.lastNet = now
		}
	}
}

func (p *page) do(actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, actions...); err != nil {
		p.t.Fatalf("browser: %v", err)
	}
}

// emulateMedia sets prefers-color-scheme ("light" or "dark"); motion is
// always reduced, so screenshots never catch a transition half way.
func (p *page) emulateMedia(scheme string) {
	p.t.Helper()
	p.do(chromedp.Func(func(ctx context.Context, tt *chromedp.Target) error {
		_, err := cdp.Call(ctx, tt, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Features: []*emulation.MediaFeature{
			{Name: "prefers-color-scheme", Value: scheme},
			{Name: "prefers-reduced-motion", Value: "reduce"},
		}})
		return err
	}))
}

// setHeaders sends extra request headers (Sec-GPC, say) with every request
// of this tab from now on.
func (p *page) setHeaders(kv ...string) {
	p.t.Helper()
	h := network.Headers{}
	for i := 0; i+1 < len(kv); i += 2 {
		h[kv[i]] = kv[i+1]
	}
	p.do(chromedp.Func(func(ctx context.Context, tt *chromedp.Target) error {
		_, err := cdp.Call(ctx, tt, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: h})
		return err
	}))
}

// open loads a page of the shop and waits until its network is quiet.
func (p *page) open(path string) {
	p.t.Helper()
	p.do(chromedp.Navigate(p.base + path))
	p.waitFor("the page "+path+" has loaded", `document.readyState === 'complete'`)
	p.waitIdle()
}

// navigations counts main-frame navigations so far.
func (p *page) navigations() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.mainNavs
}

// waitIdle waits until the page has had no request open and none started
// for quietPeriod (at most waitTimeout; a page that never settles is not
// an error here, the assertions that follow decide).
func (p *page) waitIdle() {
	deadline := time.Now().Add(waitTimeout)
	for time.Now().Before(deadline) {
		p.mu.Lock()
		idle := len(p.inflight) == 0 && time.Since(p.lastNet) >= quietPeriod
		p.mu.Unlock()
		if idle {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	p.t.Logf("the page's network did not settle within %s; going on", waitTimeout)
}

// evalJS evaluates an expression in the page, with the helpers of cgJS in
// scope as cg, and decodes its value.
func evalJS[T any](p *page, expr string) T {
	p.t.Helper()
	v, err := evalErr[T](p, expr)
	if err != nil {
		p.t.Fatalf("evaluating %s: %v", abbreviate(expr), err)
	}
	return v
}

func evalErr[T any](p *page, expr string) (T, error) {
	return chromedp.Run(p.ctx, chromedp.Evaluate[T](wrapJS(expr), chromedp.EvalAwaitPromise))
}

func wrapJS(expr string) string {
	return "(function () {\nvar cg = " + cgJS + ";\nreturn (" + expr + ");\n})()"
}

// waitFor polls a JavaScript condition until it holds; it survives reloads.
func (p *page) waitFor(what, cond string) {
	p.t.Helper()
	if err := p.poll(cond, waitTimeout); err != nil {
		p.t.Fatalf("%s: %v", what, err)
	}
}

func (p *page) poll(cond string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last error
	for {
		ok, err := evalErr[bool](p, "!!("+cond+")")
		if err == nil && ok {
			return nil
		}
		if err != nil {
			last = err
		}
		if time.Now().After(deadline) || p.ctx.Err() != nil {
			if last != nil {
				return fmt.Errorf("still not so after %s (last error: %v)", timeout, last)
			}
			return fmt.Errorf("still not so after %s", timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// clickPoint is where a person would click an element.
type clickPoint struct {
	Found   bool    `json:"found"`
	X       float64 `json:"x"`
	Y       float64 `json:"y"`
	Covered string  `json:"covered"` // what lies on top of it, if anything
}

// click clicks with the mouse in the middle of the element the expression
// yields, as a person would, after scrolling it into view; it fails when the
// element is missing, invisible or covered by something else.
func (p *page) click(what, elementExpr string) {
	p.t.Helper()
	pt := evalJS[clickPoint](p, "cg.clickPoint("+elementExpr+")")
	if !pt.Found {
		p.t.Fatalf("%s: not on the page or not visible", what)
	}
	if pt.Covered != "" {
		p.t.Fatalf("%s: covered by %s, a person could not click it", what, pt.Covered)
	}
	p.do(chromedp.MouseClickXY(pt.X, pt.Y))
}

// clickFirstLayer clicks the first layer's button for control
// (accept_all, reject_all, settings), named label on screen.
func (p *page) clickFirstLayer(control, label string) {
	p.t.Helper()
	p.click("the first layer's "+label+" button", "cg.control(cg.first(), '"+control+"')")
}

// key presses one key (kb.Tab, kb.Enter, kb.Escape), with modifiers.
func (p *page) key(k string, mods ...chromedp.Modifier) {
	p.t.Helper()
	p.do(chromedp.KeyEvent(k, chromedp.KeyModifiers(mods...)))
}

// cookies are every cookie of this tab's browser context, HttpOnly ones and
// other sites' included.
func (p *page) cookies() []*network.Cookie {
	p.t.Helper()
	res, err := chromedp.CallBrowser(p.ctx, storage.GetCookies, storage.GetCookiesParams{BrowserContextID: p.bc})
	if err != nil {
		p.t.Fatalf("reading cookies: %v", err)
	}
	return res.Cookies
}

// setCookie stores a cookie for the gateway's origin, as its own server
// would have.
func (p *page) setCookie(name, value string, httpOnly bool) {
	p.t.Helper()
	p.do(chromedp.Func(func(ctx context.Context, tt *chromedp.Target) error {
		_, err := cdp.Call(ctx, tt, network.SetCookie, network.SetCookieParams{
			Name: name, Value: value, URL: p.base + "/", Path: "/", HTTPOnly: &httpOnly,
			Expires: cdp.TimeSinceEpoch(time.Now().Add(24 * time.Hour).Unix()),
		})
		return err
	}))
}

// thirdParty lists the requests to other hosts than the gateway, both as the
// page's own network log has them and as the tracker recorder received them.
func (p *page) thirdParty() (log []string, recorded []hit) {
	p.mu.Lock()
	for _, r := range p.requests {
		u, err := url.Parse(r.URL)
		if err != nil || u.Hostname() == "127.0.0.1" || u.Hostname() == "localhost" {
			continue
		}
		log = append(log, fmt.Sprintf("%s %s", r.Type, abbreviate(r.URL)))
	}
	p.mu.Unlock()
	return log, trackers.Hits()
}

// forgetRequests starts the record of requests afresh.
func (p *page) forgetRequests() {
	p.mu.Lock()
	p.requests = nil
	p.mu.Unlock()
	trackers.Reset()
}

// expectNoThirdParty fails unless the page has made no request to any other
// host since the record was last started.
func (p *page) expectNoThirdParty(when string) {
	p.t.Helper()
	p.expectOnlyThirdParty(when)
}

// expectOnlyThirdParty fails if the page has requested any other host than
// the gateway and the allowed ones since the record was last started.
func (p *page) expectOnlyThirdParty(when string, allowed ...string) {
	p.t.Helper()
	log, recorded := p.thirdParty()
	log = slices.DeleteFunc(log, func(l string) bool {
		return slices.ContainsFunc(allowed, func(h string) bool { return strings.Contains(l, "//"+h+"/") })
	})
	recorded = slices.DeleteFunc(recorded, func(h hit) bool { return slices.Contains(allowed, h.Host) })
	if len(log) == 0 && len(recorded) == 0 {
		return
	}
	p.t.Errorf("%s, the browser contacted third parties; it must not.\nthe page's network log: %s\nthe trackers received: %s",
		when, listOr(log), listOr(hitStrings(recorded)))
}

// waitHosts waits until the recorder has received a request for every host.
func (p *page) waitHosts(what string, hosts ...string) {
	p.t.Helper()
	p.waitHits(what, func(h hit) []string { return []string{h.Host} }, hosts...)
}

// waitQueries waits until the recorder has received a request whose query
// has each of the given parameters ("f=1").
func (p *page) waitQueries(what string, params ...string) {
	p.t.Helper()
	p.waitHits(what, func(h hit) []string { return strings.Split(h.Query, "&") }, params...)
}

// waitHits waits until each wanted key is among the keys of the requests
// the recorder has received.
func (p *page) waitHits(what string, keys func(hit) []string, want ...string) {
	p.t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		seen := map[string]bool{}
		for _, h := range trackers.Hits() {
			for _, k := range keys(h) {
				seen[k] = true
			}
		}
		missing := slices.DeleteFunc(slices.Clone(want), func(k string) bool { return seen[k] })
		if len(missing) == 0 {
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%s: no request for %s within %s.\nthe trackers received: %s",
				what, strings.Join(missing, ", "), waitTimeout, listOr(hitStrings(trackers.Hits())))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// expectHostsNotRequested fails if any of the hosts (or a subdomain) was requested.
func (p *page) expectHostsNotRequested(what string, hosts ...string) {
	p.t.Helper()
	log, recorded := p.thirdParty()
	var bad []string
	for _, h := range recorded {
		for _, want := range hosts {
			if h.Host == want || strings.HasSuffix(h.Host, "."+want) {
				bad = append(bad, h.String())
			}
		}
	}
	for _, l := range log {
		for _, want := range hosts {
			if strings.Contains(l, "//"+want+"/") || strings.Contains(l, "."+want+"/") {
				bad = append(bad, "network log: "+l)
			}
		}
	}
	if len(bad) > 0 {
		p.t.Errorf("%s: the browser contacted %s:\n%s", what, strings.Join(hosts, ", "), strings.Join(bad, "\n"))
	}
}

func hitStrings(hs []hit) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = h.String()
	}
	return out
}

func listOr(s []string) string {
	if len(s) == 0 {
		return "(nothing)"
	}
	return "\n\t" + strings.Join(s, "\n\t")
}

func abbreviate(s string) string {
	if len(s) > 160 {
		return s[:157] + "..."
	}
	return s
}

// config is the banner's config block (#consentgate-config) of the page
// now shown, decoded.
type config struct {
	Prefix        string            `json:"prefix"`
	PrivacyPolicy string            `json:"privacy_policy"`
	Texts         map[string]string `json:"texts"`
	Purposes      []struct {
		ID       string `json:"id"`
		Name     string `json:"name"`
		Required bool   `json:"required"`
	} `json:"purposes"`
	ConsentMode json.RawMessage `json:"consent_mode"`
	State       state           `json:"state"`
}

type state struct {
	Decided  bool            `json:"decided"`
	Purposes map[string]bool `json:"purposes"`
	Vendors  []string        `json:"vendors"`
	Signal   bool            `json:"signal"`
	Changed  string          `json:"changed"` // what changed since the visitor's earlier choice
}

func (p *page) config() config {
	p.t.Helper()
	raw := evalJS[string](p, `(document.getElementById('consentgate-config') || {}).textContent || ''`)
	if raw == "" {
		p.t.Fatal("the page has no #consentgate-config block: the gateway did not inject the banner")
	}
	var c config
	if err := json.Unmarshal([]byte(raw), &c); err != nil {
		p.t.Fatalf("#consentgate-config is not valid JSON: %v\n%s", err, raw)
	}
	return c
}

// apiState is window.consentgate.state, the banner's own view.
func (p *page) apiState() state {
	p.t.Helper()
	raw := evalJS[string](p, `JSON.stringify((window.consentgate && window.consentgate.state) || null)`)
	var s state
	if raw == "null" {
		p.t.Fatal("window.consentgate.state is missing: the banner script did not define its API")
	}
	if err := json.Unmarshal([]byte(raw), &s); err != nil {
		p.t.Fatalf("window.consentgate.state: %v (%s)", err, raw)
	}
	return s
}

// watchChanges records every consentgate:change event from now on (in
// window.__changes) and marks the document (window.__marker), so a test can
// tell a reload from an in-place update.
func (p *page) watchChanges() {
	p.t.Helper()
	evalJS[bool](p, `(function () {
  window.__marker = 'still the same document';
  window.__changes = [];
  document.addEventListener('consentgate:change', function (e) { window.__changes.push(e.detail); });
  return true;
})()`)
}

// expectNoReload fails if the document was replaced since watchChanges.
func (p *page) expectNoReload(what string, navsBefore int) {
	p.t.Helper()
	if n := p.navigations(); n != navsBefore {
		p.t.Errorf("%s: the page navigated (%d main-frame navigations); it must update in place", what, n-navsBefore)
	}
	if m := evalJS[string](p, `window.__marker || ''`); m == "" {
		p.t.Errorf("%s: the page was reloaded (the marker set before is gone); it must update in place", what)
	}
}

// waitReloaded waits until the document marked by watchChanges has been
// replaced by a fresh load, and fails if the page did not navigate.
func (p *page) waitReloaded(what string, navsBefore int) {
	p.t.Helper()
	p.waitFor(what, `!window.__marker && document.readyState === 'complete'`)
	p.waitIdle()
	if p.navigations() == navsBefore {
		p.t.Errorf("%s: the page did not navigate", what)
	}
}

// shownDialog describes the banner layers visible now.
type shownDialog struct {
	First  bool   `json:"first"`
	Second bool   `json:"second"`
	Text   string `json:"text"`
}

func (p *page) layers() shownDialog {
	p.t.Helper()
	return evalJS[shownDialog](p, `{first: !!cg.first(), second: !!cg.second(), text: cg.dialogs().map(function (d) { return d.innerText; }).join('\n')}`)
}

// description is what a screen reader reads as the shown dialog's
// description: the text of the elements its aria-describedby names.
func (p *page) description() string {
	p.t.Helper()
	return evalJS[string](p, `(function (d) {
  return d ? String(d.getAttribute('aria-describedby') || '').split(/\s+/).map(function (id) {
    var e = id && document.getElementById(id); return e ? e.textContent : '';
  }).join(' ') : '';
})(cg.dialogs()[0])`)
}

func (p *page) waitFirstLayer() {
	p.t.Helper()
	p.waitFor("the banner's first layer (a visible role=dialog with an Accept all button) appears", `cg.first()`)
}

func (p *page) waitSecondLayer() {
	p.t.Helper()
	p.waitFor("the banner's second layer (a visible role=dialog with a Save selection button) appears", `cg.second()`)
}

func (p *page) waitBannerGone() {
	p.t.Helper()
	p.waitFor("the banner closes (no visible consent dialog is left)", `cg.dialogs().length === 0`)
}

// decideOn opens path, waits for the first layer and decides there with
// its control (accept_all, reject_all), named label on screen.
func (p *page) decideOn(path, control, label string) {
	p.t.Helper()
	p.open(path)
	p.waitFirstLayer()
	p.clickFirstLayer(control, label)
	p.waitBannerGone()
}

// openSettings goes from the first layer to the second with its Settings button.
func (p *page) openSettings() {
	p.t.Helper()
	p.clickFirstLayer("settings", "Settings")
	p.waitSecondLayer()
}

// cookieNames lists cookie names as name@domain, for messages.
func cookieNames(cs []*network.Cookie) []string {
	var out []string
	for _, c := range cs {
		n := c.Name + "@" + c.Domain
		if c.HTTPOnly {
			n += " (HttpOnly)"
		}
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// cgJS finds the banner's parts by the contract of docs/banner.md, not by
// its class names: layers are visible role=dialog elements, the first with
// an Accept all control, the second with a Save selection control; controls
// are found by data-consent-action, else by their label from the config's
// texts. It looks into open shadow roots too.
const cgJS = `(function () {
  function allDeep(sel, root) {
    root = root || document;
    var out = Array.prototype.slice.call(root.querySelectorAll(sel));
    var all = root.querySelectorAll('*');
    for (var i = 0; i < all.length; i++) if (all[i].shadowRoot) out = out.concat(allDeep(sel, all[i].shadowRoot));
    return out;
  }
  function shown(el) {
    if (!el || !el.isConnected) return false;
    if (el.checkVisibility && !el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true})) return false;
    var r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  }
  function focusable(el) {
    if (!el || !el.isConnected || el.disabled || el.tabIndex < 0 || el.type === 'hidden') return false;
    if (el.closest('[inert]')) return false;
    return !el.checkVisibility || el.checkVisibility({checkVisibilityCSS: true});
  }
  var cfg = null;
  try { cfg = JSON.parse(document.getElementById('consentgate-config').textContent); } catch (e) {}
  var texts = (cfg && cfg.texts) || {};
  function norm(s) { return String(s || '').replace(/\s+/g, ' ').trim().toLowerCase(); }
  function byIds(ids) {
    return String(ids || '').split(/\s+/).map(function (id) {
      var el = id && document.getElementById(id); return el ? el.textContent : '';
    }).join(' ');
  }
  function label(el) {
    if (!el) return '';
    var l = el.getAttribute('aria-label') || byIds(el.getAttribute('aria-labelledby'));
    if (norm(l)) return l;
    if (el.labels && el.labels.length) return Array.prototype.map.call(el.labels, function (x) { return x.textContent; }).join(' ');
    return el.innerText || el.textContent || el.value || el.title || '';
  }
  function dialogs() {
    return allDeep('[role=dialog],[role=alertdialog],dialog').filter(shown);
  }
  var attrs = {accept_all: ['accept_all'], reject_all: ['reject_all'], settings: ['open'], withdraw: ['withdraw'],
    save: ['save_selection', 'save']};
  function controls(root) {
    return root ? allDeep('button,[role=button],a[href],input[type=button],input[type=submit]', root).filter(shown) : [];
  }
  function control(root, key) {
    var cs = controls(root);
    var as = attrs[key] || [];
    for (var i = 0; i < as.length; i++) {
      var hit = cs.filter(function (c) { return c.getAttribute('data-consent-action') === as[i]; });
      if (hit.length) return hit[0];
    }
    var want = norm(texts[key]);
    if (!want) return null;
    return cs.filter(function (c) { return norm(label(c)) === want; })[0] || null;
  }
  function isSecond(d) { return !!control(d, 'save'); }
  function second() { return dialogs().filter(isSecond).pop() || null; }
  function first() {
    return dialogs().filter(function (d) { return !isSecond(d) && control(d, 'accept_all'); }).pop() || null;
  }
  function purposeName(id) {
    var ps = (cfg && cfg.purposes) || [];
    for (var i = 0; i < ps.length; i++) if (ps[i].id === id) return ps[i].name;
    return id;
  }
  function toggles(root) {
    return root ? allDeep('input[type=checkbox],[role=switch],[role=checkbox]', root) : [];
  }
  function toggle(root, purpose) {
    var ts = toggles(root);
    var idRe = new RegExp('(^|[-_:.])' + purpose + '$');
    var byAttr = ts.filter(function (t) {
      return t.value === purpose || t.name === purpose || idRe.test(t.id || '') ||
        t.getAttribute('data-purpose') === purpose || t.getAttribute('data-consent-purpose') === purpose;
    });
    if (byAttr.length) return byAttr[0];
    var name = norm(purposeName(purpose));
    return ts.filter(function (t) { var l = norm(label(t)); return l === name || l.indexOf(name) === 0; })[0] || null;
  }
  function checked(t) {
    if (!t) return null;
    return t.type === 'checkbox' ? t.checked : t.getAttribute('aria-checked') === 'true';
  }
  function disabled(t) { return !!t && (t.disabled || t.getAttribute('aria-disabled') === 'true'); }
  function active() {
    var a = document.activeElement;
    while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement;
    return a;
  }
  function tabbables(root) {
    return root ? allDeep('a[href],button,input,select,textarea,summary,iframe,[tabindex],[contenteditable]', root).filter(focusable) : [];
  }
  window.__cgIds = window.__cgIds || new WeakMap();
  window.__cgNext = window.__cgNext || 1;
  function idOf(el) {
    if (!el) return 0;
    if (!window.__cgIds.has(el)) window.__cgIds.set(el, window.__cgNext++);
    return window.__cgIds.get(el);
  }
  function describe(el) {
    if (!el) return {id: 0, what: 'nothing'};
    var f = first(), s = second();
    return {id: idOf(el), what: el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + ' "' + norm(label(el)).slice(0, 50) + '"',
      inFirst: !!f && f.contains(el), inSecond: !!s && s.contains(el), body: el === document.body};
  }
  function clickTarget(el) {
    if (el && el.tagName === 'INPUT') {
      var r = el.getBoundingClientRect();
      if ((r.width < 8 || r.height < 8 || (el.checkVisibility && !el.checkVisibility({checkOpacity: true}))) && el.labels && el.labels.length) return el.labels[0];
    }
    return el;
  }
  function deepPoint(x, y) {
    var el = document.elementFromPoint(x, y);
    while (el && el.shadowRoot) { var inner = el.shadowRoot.elementFromPoint(x, y); if (!inner || inner === el) break; el = inner; }
    return el;
  }
  function clickPoint(el) {
    if (!el) return {found: false};
    var target = clickTarget(el);
    target.scrollIntoView({block: 'center', inline: 'center'});
    if (!shown(target)) return {found: false};
    var r = target.getBoundingClientRect();
    var x = r.left + r.width / 2, y = r.top + r.height / 2;
    var top = deepPoint(x, y);
    var ok = top && (top === target || target.contains(top) ||
      (top.closest && top.closest('label') && top.closest('label').control === el));
    return {found: true, x: x, y: y, covered: ok ? '' : (top ? describe(top).what : 'nothing')};
  }
  return {cfg: cfg, texts: texts, dialogs: dialogs, first: first, second: second, control: control, controls: controls,
    toggle: toggle, toggles: toggles, checked: checked, disabled: disabled, label: label, norm: norm, active: active,
    tabbables: tabbables, describe: describe, idOf: idOf, clickPoint: clickPoint, allDeep: allDeep, shown: shown};
})()`
