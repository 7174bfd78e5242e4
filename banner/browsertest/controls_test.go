package browsertest

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/consentgate/consentgate/consent/proof"
)

// The home page's embeds, found by the page's own attributes (the gateway
// renames src and adds its marks, but leaves the title alone).
const (
	youtubeFrame  = `document.querySelector('iframe[title="YouTube video player"]')`
	facebookFrame = `document.querySelector('iframe[title="Facebook Like button"]')`
	// The visitor sees the vendor's name from the details, as banner.js
	// writes it into the placeholder.
	loadOnceLabel     = `cg.texts.load_once`
	alwaysAllowYTName = `cg.texts.always_allow.replace('%s', 'YouTube')`
)

// placeholderButton is a JS expression for the button labelled label inside
// the placeholder document (srcdoc) of frame, or null.
func placeholderButton(frame, label string) string {
	return `(function (f, want) {
  var d = null;
  try { d = f && f.contentDocument; } catch (e) {}
  if (!d) return null;
  return Array.prototype.filter.call(d.querySelectorAll('button'), function (b) {
    return cg.norm(b.textContent) === cg.norm(want);
  })[0] || null;
})(` + frame + `, ` + label + `)`
}

// frameBlocked is a JS condition: the frame still shows the gateway's
// placeholder instead of its content.
func frameBlocked(frame string) string {
	return `(function (f) { return !!f && f.hasAttribute('data-consent-purpose') && f.hasAttribute('srcdoc') && !f.hasAttribute('src'); })(` + frame + `)`
}

// youtubeLoaded is a JS condition: the YouTube frame has its real address
// and no consent marks.
const youtubeLoaded = `(function (f) {
  return !!f && !f.hasAttribute('data-consent-purpose') && !f.hasAttribute('srcdoc') &&
    /^https:\/\/www\.youtube\.com\/embed\//.test(f.getAttribute('src') || '');
})(` + youtubeFrame + `)`

// describeFrame says what a frame looks like now, for failure messages.
func (p *page) describeFrame(frame string) string {
	p.t.Helper()
	return evalJS[string](p, `(function (f) {
  if (!f) return 'no such frame';
  var attrs = Array.prototype.map.call(f.attributes, function (a) {
    return a.name + '=' + JSON.stringify(a.value.length > 80 ? a.value.slice(0, 77) + '...' : a.value);
  }).join(' ');
  var d = null, buttons = '(document not accessible)';
  try { d = f.contentDocument; } catch (e) {}
  if (d) buttons = Array.prototype.map.call(d.querySelectorAll('button'), function (b) { return JSON.stringify(cg.norm(b.textContent)); }).join(', ') || '(none)';
  return '<iframe ' + attrs + '> with buttons ' + buttons;
})(`+frame+`)`)
}

// waitPlaceholderButton waits until the frame's placeholder offers the button.
func (p *page) waitPlaceholderButton(what, frame, label string) {
	p.t.Helper()
	if err := p.poll("!!"+placeholderButton(frame, label), waitTimeout); err != nil {
		p.t.Fatalf("%s: the placeholder does not offer it (%v); the frame is %s", what, err, p.describeFrame(frame))
	}
}

// clickInFrame clicks a button inside a frame's placeholder document with a
// real mouse click (Input.dispatchMouseEvent at page coordinates), as a
// person would: the point is the frame's content box in the page plus the
// button's centre in the frame's document. It fails when something covers
// the point, in the page or in the frame.
func (p *page) clickInFrame(what, frame, label string) {
	p.t.Helper()
	pt := evalJS[clickPoint](p, `(function (f, b) {
  if (!f || !b) return {found: false};
  f.scrollIntoView({block: 'center', inline: 'center'});
  var br = b.getBoundingClientRect();
  if (!(br.width > 0 && br.height > 0)) return {found: false};
  var fr = f.getBoundingClientRect(), cs = getComputedStyle(f);
  var ix = br.left + br.width / 2, iy = br.top + br.height / 2;
  var x = fr.left + f.clientLeft + parseFloat(cs.paddingLeft) + ix;
  var y = fr.top + f.clientTop + parseFloat(cs.paddingTop) + iy;
  var top = document.elementFromPoint(x, y), inner = b.ownerDocument.elementFromPoint(ix, iy);
  var covered = '';
  if (top !== f) covered = 'in the page, ' + cg.describe(top).what;
  else if (!inner || (inner !== b && !b.contains(inner))) {
    covered = 'in the frame, ' + (inner ? inner.tagName.toLowerCase() + ' "' + cg.norm(inner.textContent).slice(0, 50) + '"' : 'nothing (outside its viewport)');
  }
  return {found: true, x: x, y: y, covered: covered};
})(`+frame+`, `+placeholderButton(frame, label)+`)`)
	if !pt.Found {
		p.t.Fatalf("%s: not in the placeholder or not visible; the frame is %s", what, p.describeFrame(frame))
	}
	if pt.Covered != "" {
		p.t.Fatalf("%s: covered %s, a person could not click it", what, pt.Covered)
	}
	p.do(chromedp.MouseClickXY(pt.X, pt.Y))
}

// ownProofs is GET <prefix>proofs: the records of this browser's consent id.
type ownProofs struct {
	Status    int
	ConsentID string         `json:"consent_id"`
	Records   []proof.Record `json:"records"`
}

func (p *page) ownProofs() ownProofs {
	p.t.Helper()
	type resp struct {
		Status int    `json:"status"`
		Body   string `json:"body"`
	}
	r := evalJS[resp](p, `fetch(cg.cfg.prefix + 'proofs', {credentials: 'same-origin', cache: 'no-store'}).then(function (r) {
  return r.text().then(function (b) { return {status: r.status, body: b}; });
})`)
	out := ownProofs{Status: r.Status}
	if r.Status != 200 {
		return out
	}
	if err := json.Unmarshal([]byte(r.Body), &out); err != nil {
		p.t.Fatalf("GET /.consent/proofs: %v\n%s", err, abbreviate(r.Body))
	}
	return out
}

func recordSummary(rs []proof.Record) string {
	var out []string
	for _, r := range rs {
		out = append(out, fmt.Sprintf("%s (layer %q, action %q, control %q, vendors %v)", r.Type, r.How.Layer, r.How.Action, r.How.Control, r.Vendors))
	}
	return listOr(out)
}

// choicePosts lists the page's requests to the choice endpoint since the
// record was last started.
func (p *page) choicePosts() []string { return p.requestsTo("/.consent/choice") }

// requestsTo lists the page's requests to a path of the gateway (and
// below), as "type URL", since the record was last started.
func (p *page) requestsTo(path string) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, r := range p.requests {
		if strings.HasPrefix(r.URL, p.base+path) {
			out = append(out, fmt.Sprintf("%s %s", r.Type, r.URL))
		}
	}
	return out
}

// withdrawWith clicks a page's Withdraw consent control, what, and waits
// for the reload that follows (a script cannot be un-run); the record of
// requests starts afresh before the click.
func (p *page) withdrawWith(what, elementExpr string) {
	p.t.Helper()
	p.watchChanges()
	navs := p.navigations()
	p.forgetRequests()
	p.click(what, elementExpr)
	p.waitReloaded("withdrawing reloads the page (a script cannot be un-run)", navs)
}

// reload reloads the page as the browser's reload button does and waits
// for the new document (the marker of watchChanges is gone) to settle.
func (p *page) reload() {
	p.t.Helper()
	evalJS[bool](p, `(window.__marker = window.__marker || 'before the reload', true)`)
	p.do(chromedp.Reload())
	p.waitFor("the page reloads", `!window.__marker && document.readyState === 'complete'`)
	p.waitIdle()
}

func (p *page) rejectAll() {
	p.t.Helper()
	p.waitFirstLayer()
	p.clickFirstLayer("reject_all", "Reject all")
	p.waitBannerGone()
	p.waitFor("the banner records Reject all", `window.consentgate && window.consentgate.state && window.consentgate.state.decided === true`)
	p.waitIdle()
}

func TestLoadOnceActivatesOnlyThatEmbed(t *testing.T) {
	p := newPage(t, startShop(t))
	p.open("/")
	// Placeholders are decorated before a choice too, but the first layer is
	// a modal dialog over the page then: decide first, as a visitor must.
	p.rejectAll()
	p.expectNoThirdParty("after Reject all")
	if !evalJS[bool](p, frameBlocked(youtubeFrame)) {
		t.Fatalf("after Reject all the YouTube embed must show a placeholder; it is %s", p.describeFrame(youtubeFrame))
	}
	p.waitPlaceholderButton("the YouTube placeholder's Load this once button", youtubeFrame, loadOnceLabel)

	stateBefore := evalJS[string](p, `JSON.stringify(window.consentgate.state)`)
	proofsBefore := p.ownProofs()
	if proofsBefore.Status != 200 || len(proofsBefore.Records) == 0 {
		t.Fatalf("after Reject all, GET /.consent/proofs must list the visitor's record; status %d, records %s", proofsBefore.Status, recordSummary(proofsBefore.Records))
	}
	p.forgetRequests()
	p.watchChanges()
	navs := p.navigations()

	// A real mouse click at the button's place on screen (the frame's
	// offset in the page plus the button's rect in the srcdoc document).
	p.clickInFrame("the YouTube placeholder's Load this once button", youtubeFrame, loadOnceLabel)
	if err := p.poll(youtubeLoaded, waitTimeout); err != nil {
		t.Fatalf("after Load this once the YouTube frame must get its real address (%v); it is %s", err, p.describeFrame(youtubeFrame))
	}
	p.waitHosts("after Load this once, the YouTube video loads", "www.youtube.com")
	p.waitIdle()
	p.expectOnlyThirdParty("after Load this once on the YouTube embed (only YouTube may load)", "www.youtube.com")
	if !evalJS[bool](p, frameBlocked(facebookFrame)) {
		t.Errorf("Load this once on YouTube must leave the Facebook frame blocked; it is %s", p.describeFrame(facebookFrame))
	}
	p.expectNoReload("Load this once", navs)

	// Loading once is not a choice: nothing posted, nothing recorded.
	if posts := p.choicePosts(); len(posts) > 0 {
		t.Errorf("Load this once must not post a choice; the page requested: %s", listOr(posts))
	}
	if after := evalJS[string](p, `JSON.stringify(window.consentgate.state)`); after != stateBefore {
		t.Errorf("Load this once must leave the consent state as it was:\nbefore %s\nafter  %s", stateBefore, after)
	}
	if n := evalJS[int](p, `(window.__changes || []).length`); n > 0 {
		t.Errorf("Load this once must not fire consentgate:change (it is no choice); it fired %d times: %s", n, evalJS[string](p, `JSON.stringify(window.__changes)`))
	}
	if granted := evalJS[bool](p, `window.consentgate.granted('social')`); granted {
		t.Error("after Load this once, window.consentgate.granted('social') must stay false")
	}
	if proofsAfter := p.ownProofs(); len(proofsAfter.Records) != len(proofsBefore.Records) {
		t.Errorf("Load this once must record no proof: GET /.consent/proofs listed %d records before, %d after:%s",
			len(proofsBefore.Records), len(proofsAfter.Records), recordSummary(proofsAfter.Records))
	}

	// Once means once: after a reload the embed is blocked again.
	p.forgetRequests()
	p.reload()
	if !evalJS[bool](p, frameBlocked(youtubeFrame)) {
		t.Errorf("after a reload the YouTube embed must be blocked again; it is %s", p.describeFrame(youtubeFrame))
	}
	p.waitPlaceholderButton("after a reload, the YouTube placeholder offers Load this once again", youtubeFrame, loadOnceLabel)
	p.expectNoThirdParty("after reloading the page where YouTube was loaded once")
}

func TestAlwaysAllowVendorFromPlaceholder(t *testing.T) {
	p := newPage(t, startShop(t))
	p.open("/")
	p.rejectAll()
	p.waitPlaceholderButton("the YouTube placeholder's Always allow YouTube button (named from the vendor details)", youtubeFrame, alwaysAllowYTName)
	p.forgetRequests()
	p.watchChanges()
	navs := p.navigations()

	p.clickInFrame("the YouTube placeholder's Always allow YouTube button", youtubeFrame, alwaysAllowYTName)
	if err := p.poll(youtubeLoaded, waitTimeout); err != nil {
		t.Fatalf("after Always allow YouTube the YouTube frame must get its real address without a reload (%v); it is %s", err, p.describeFrame(youtubeFrame))
	}
	p.waitHosts("after Always allow YouTube, the YouTube video loads", "www.youtube.com")
	p.waitFor("a consentgate:change event reports the choice", `(window.__changes || []).length > 0`)
	p.waitIdle()
	p.expectNoReload("Always allow YouTube", navs)
	p.expectOnlyThirdParty("after Always allow YouTube (only YouTube may load)", "www.youtube.com")
	if !evalJS[bool](p, frameBlocked(facebookFrame)) {
		t.Errorf("Always allow YouTube must leave the Facebook frame blocked; it is %s", p.describeFrame(facebookFrame))
	}

	st := p.apiState()
	if !slices.Contains(st.Vendors, "youtube") {
		t.Errorf("after Always allow YouTube, window.consentgate.state.vendors must contain \"youtube\": %+v", st)
	}
	if st.Purposes["social"] {
		t.Errorf("allowing one vendor must not grant its whole purpose (social): %+v", st.Purposes)
	}

	var rec *proof.Record
	var last ownProofs
	if err := p.pollGo(func() bool {
		last = p.ownProofs()
		for i := range last.Records {
			if last.Records[i].Type == proof.PlaceholderAccept {
				rec = &last.Records[i]
				return true
			}
		}
		return false
	}); err != nil {
		t.Errorf("GET /.consent/proofs must list a %q record after Always allow YouTube (status %d); it lists:%s",
			proof.PlaceholderAccept, last.Status, recordSummary(last.Records))
	} else {
		if rec.How.Layer != proof.LayerPlaceholder {
			t.Errorf("the %s record must say how.layer %q, it says %q", rec.Type, proof.LayerPlaceholder, rec.How.Layer)
		}
		if !rec.Vendors["youtube"] {
			t.Errorf("the %s record must allow the vendor youtube: vendors %v", rec.Type, rec.Vendors)
		}
	}

	// The gateway no longer blocks YouTube; Facebook stays blocked.
	p.forgetRequests()
	p.reload()
	if !evalJS[bool](p, youtubeLoaded) {
		t.Errorf("after a reload the gateway must serve the YouTube embed unblocked (no data-consent-purpose, src on youtube.com); it is %s", p.describeFrame(youtubeFrame))
	}
	p.waitHosts("after a reload, the always-allowed YouTube video loads", "www.youtube.com")
	p.waitIdle()
	if !evalJS[bool](p, frameBlocked(facebookFrame)) {
		t.Errorf("after a reload the Facebook frame (social, not allowed) must still be blocked; it is %s", p.describeFrame(facebookFrame))
	}
	p.expectOnlyThirdParty("after a reload with only YouTube allowed", "www.youtube.com")

	// The settings show the permission, under its purpose, and take it back.
	p.click("the Privacy settings control", reopenControl)
	p.waitSecondLayer()
	const ownBox = `cg.toggles(cg.second()).filter(function (t) { return cg.norm(cg.label(t)) === cg.norm(` + alwaysAllowYTName + `); })[0] || null`
	p.waitFor("the settings show YouTube, allowed on its own, as a checked Always allow YouTube box", `cg.checked(`+ownBox+`) === true`)
	if !evalJS[bool](p, `(function (ts, box) { return ts.indexOf(box) === ts.indexOf(cg.toggle(cg.second(), 'social')) + 1; })(cg.toggles(cg.second()), `+ownBox+`)`) {
		t.Error("the Always allow YouTube box must come right after the Social switch, the purpose YouTube serves")
	}
	if evalJS[bool](p, `cg.checked(cg.toggle(cg.second(), 'social'))`) {
		t.Error("the Social switch must stay off: only YouTube was allowed")
	}
	navs = p.navigations()
	p.click("the Always allow YouTube box", ownBox)
	p.waitFor("the Always allow YouTube box is unchecked", `cg.checked(`+ownBox+`) === false`)
	p.click("the second layer's Save selection button", `cg.control(cg.second(), 'save')`)
	p.waitReloaded("taking YouTube's permission back reloads the page (a playing video cannot be stopped in place)", navs)
	if st := p.apiState(); slices.Contains(st.Vendors, "youtube") {
		t.Errorf("after unchecking Always allow YouTube and saving, state.vendors must not contain youtube: %+v", st)
	}
	if !evalJS[bool](p, frameBlocked(youtubeFrame)) {
		t.Errorf("after YouTube's permission is taken back the gateway must block its frame again; it is %s", p.describeFrame(youtubeFrame))
	}
	p.expectLastProof("after saving without YouTube,", proof.LayerSecond, proof.ActionSaveSelection)
	if own := p.ownProofs(); len(own.Records) > 0 && own.Records[len(own.Records)-1].Vendors["youtube"] {
		t.Errorf("the newest proof record must no longer allow youtube: %s", recordSummary(own.Records))
	}
}

// pollGo polls a condition checked in Go until it holds, for at most
// waitTimeout.
func (p *page) pollGo(cond func() bool) error {
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) || p.ctx.Err() != nil {
			return fmt.Errorf("still not so after %s", waitTimeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return nil
}

// reopenControl is the banner's persistent Privacy settings control: a
// visible control labelled with the reopen text that is not part of the
// page's own landmarks (the shop's footer has a link with the same label).
const reopenControl = `cg.controls(document).filter(function (c) {
  return cg.norm(cg.label(c)) === cg.norm(cg.texts.reopen) && !c.closest('header, nav, main, footer, aside');
})[0] || null`

// inViewport is a JS condition: the element lies within the viewport.
func inViewport(el string) string {
	return `(function (c) { if (!c) return false; var r = c.getBoundingClientRect();
  return r.width > 0 && r.height > 0 && r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight && r.right <= innerWidth; })(` + el + `)`
}

// expectReopenControl checks that the Privacy settings control is on
// screen, at the top of the page and scrolled to its end.
func (p *page) expectReopenControl(when string) {
	p.t.Helper()
	p.waitFor(when+", a Privacy settings control is visible on the page", reopenControl)
	for _, scroll := range []string{"document.documentElement.scrollHeight", "0"} {
		evalJS[bool](p, `(window.scrollTo(0, `+scroll+`), true)`)
		if !evalJS[bool](p, inViewport(reopenControl)) {
			p.t.Errorf("%s, the Privacy settings control must stay on screen wherever the visitor scrolls; at scrollY %d it is out of view",
				when, evalJS[int](p, `Math.round(scrollY)`))
		}
	}
}

func TestPrivacySettingsControlReopensSecondLayer(t *testing.T) {
	p := newPage(t, startShop(t))
	p.open("/")
	if evalJS[bool](p, "!!("+reopenControl+")") {
		t.Error("before any choice the persistent Privacy settings control must not show (the banner itself is open)")
	}
	p.rejectAll()
	p.expectReopenControl("after Reject all")

	p.forgetRequests()
	p.open("/contact.html")
	if l := p.layers(); l.First || l.Second {
		t.Fatal("after Reject all the banner must not ask again on the next page")
	}
	p.expectReopenControl("on the next page after Reject all")
	p.watchChanges()
	navs := p.navigations()

	p.click("the Privacy settings control", reopenControl)
	p.waitSecondLayer()
	for _, pu := range p.config().Purposes {
		type sw struct {
			Found   bool `json:"found"`
			Checked bool `json:"checked"`
		}
		s := evalJS[sw](p, fmt.Sprintf(`(function (t) { return {found: !!t, checked: !!cg.checked(t)}; })(cg.toggle(cg.second(), %q))`, pu.ID))
		switch {
		case !s.Found:
			t.Errorf("the second layer opened from Privacy settings has no switch for %q (%s)", pu.ID, pu.Name)
		case pu.Required && !s.Checked:
			t.Errorf("the switch for the required purpose %q must be on", pu.ID)
		case !pu.Required && s.Checked:
			t.Errorf("after Reject all the second layer must show %q switched off (the current choice); it is on", pu.ID)
		}
	}

	p.click("the Analytics switch", `cg.toggle(cg.second(), 'analytics')`)
	p.waitFor("the Analytics switch turns on", `cg.checked(cg.toggle(cg.second(), 'analytics'))`)
	p.click("the second layer's Save selection button", `cg.control(cg.second(), 'save')`)
	p.waitBannerGone()
	p.waitHosts("after switching Analytics on in the reopened settings, Google Analytics loads", contactAnalytics...)
	p.waitIdle()
	p.expectHostsNotRequested("with only Analytics allowed, no marketing or social service may load",
		slices.Concat(contactMarketing, contactSocial, []string{"facebook.com"})...)
	p.expectNoReload("saving a selection that only grants more, from the Privacy settings control", navs)
	if st := p.apiState(); !st.Purposes["analytics"] || st.Purposes["marketing"] || st.Purposes["social"] {
		t.Errorf("after switching only Analytics on, window.consentgate.state must grant analytics alone: %+v", st.Purposes)
	}
	p.expectReopenControl("after saving from the second layer")

	// The public API opens the same dialog, with the new choice shown.
	evalJS[bool](p, `(window.consentgate.open(), true)`)
	p.waitSecondLayer()
	if !evalJS[bool](p, `!!cg.checked(cg.toggle(cg.second(), 'analytics'))`) {
		t.Error("window.consentgate.open() must show the current choice: the Analytics switch is off, but analytics is granted")
	}
	p.key(kb.Escape)
	p.waitBannerGone()

	// So does any element of the operator's with data-consent-action="open":
	// the shop's footer link.
	const footerLink = `document.querySelector('.site-footer [data-consent-action=open]')`
	if !evalJS[bool](p, `!!`+footerLink) {
		t.Fatal("the contact page's footer has no Privacy settings link with data-consent-action=open")
	}
	p.click("the footer's Privacy settings link", footerLink)
	p.waitSecondLayer()
	if !evalJS[bool](p, `!!cg.checked(cg.toggle(cg.second(), 'analytics'))`) {
		t.Error("the second layer opened from the footer link must show the current choice: Analytics is granted, its switch is off")
	}
	if u := evalJS[string](p, `location.href`); u != p.base+"/contact.html" {
		t.Errorf("the footer link (href=\"#\") must open the settings without navigating; the page is now %s", u)
	}
	p.key(kb.Escape)
	p.waitBannerGone()
}

func TestConsentgateChangeEventAndGranted(t *testing.T) {
	p := newPage(t, startShop(t))
	p.open("/contact.html")
	p.waitFirstLayer()
	// What a site's own code does to follow the visitor's choice.
	evalJS[bool](p, `(function () {
  window.__pageSaw = [];
  document.addEventListener('consentgate:change', function (e) {
    window.__pageSaw.push({type: e.type, detail: JSON.parse(JSON.stringify(e.detail || null)), analytics: window.consentgate.granted('analytics')});
  });
  return true;
})()`)
	if evalJS[bool](p, `window.consentgate.granted('analytics')`) {
		t.Fatal("before any choice window.consentgate.granted('analytics') must be false")
	}

	p.openSettings()
	p.click("the Analytics switch", `cg.toggle(cg.second(), 'analytics')`)
	p.waitFor("the Analytics switch turns on", `cg.checked(cg.toggle(cg.second(), 'analytics'))`)
	if evalJS[bool](p, `window.consentgate.granted('analytics')`) {
		t.Error("switching Analytics on without saving must not grant it yet: window.consentgate.granted('analytics') is true")
	}
	p.click("the second layer's Save selection button", `cg.control(cg.second(), 'save')`)
	p.waitFor("the page's consentgate:change listener is called after Save", `window.__pageSaw.length > 0`)
	p.waitBannerGone()

	type seen struct {
		Type      string `json:"type"`
		Detail    *state `json:"detail"`
		Analytics bool   `json:"analytics"`
	}
	got := evalJS[[]seen](p, `window.__pageSaw`)
	if len(got) != 1 {
		t.Errorf("one Save must fire consentgate:change once; the listener was called %d times", len(got))
	}
	ev := got[len(got)-1]
	switch {
	case ev.Detail == nil:
		t.Fatal("the consentgate:change event carries no detail; it must be the new state")
	case !ev.Detail.Decided:
		t.Errorf("the event's state must say decided: %+v", *ev.Detail)
	case !ev.Detail.Purposes["analytics"]:
		t.Errorf("the event's state must grant analytics, which was switched on: %+v", ev.Detail.Purposes)
	}
	for _, id := range []string{"marketing", "social", "functional"} {
		if ev.Detail.Purposes[id] {
			t.Errorf("the event's state grants %s, which was left off: %+v", id, ev.Detail.Purposes)
		}
	}
	if !ev.Analytics {
		t.Error("while the consentgate:change listener runs, window.consentgate.granted('analytics') must already be true")
	}
	if st := p.apiState(); fmt.Sprint(st) != fmt.Sprint(*ev.Detail) {
		t.Errorf("the event's detail must be the new state, as window.consentgate.state has it:\nevent %+v\nstate %+v", *ev.Detail, st)
	}
	if !evalJS[bool](p, `window.consentgate.granted('analytics') === true`) {
		t.Error("after saving with Analytics on, window.consentgate.granted('analytics') must be true")
	}
	if evalJS[bool](p, `window.consentgate.granted('marketing')`) {
		t.Error("window.consentgate.granted('marketing') must stay false")
	}
}

// TestPlaceholderInATinyFrame: in a frame too short for the placeholder's
// text (the shop's 35 px Facebook Like button, which cannot scroll), both
// buttons still lie inside the frame, where a person can click them.
func TestPlaceholderInATinyFrame(t *testing.T) {
	p := newPage(t, startShop(t))
	p.open("/")
	p.rejectAll()
	p.waitPlaceholderButton("the Like button's Load this once", facebookFrame, loadOnceLabel)
	if h := evalJS[float64](p, facebookFrame+`.clientHeight`); h > 40 {
		t.Fatalf("the shop's Like button frame is %v px high; this test needs a tiny frame", h)
	}
	alwaysFB := `cg.texts.always_allow.replace('%s', ` + facebookFrame + `.contentDocument.querySelectorAll('button')[1].textContent.replace(cg.texts.always_allow.replace('%s', ''), ''))`
	p.waitPlaceholderButton("the Like button's Always allow", facebookFrame, alwaysFB)
	p.forgetRequests()
	p.clickInFrame("the Like button's Always allow button", facebookFrame, alwaysFB)
	p.waitHosts("after Always allow from the tiny frame, Facebook's plugins load", "www.facebook.com")
	if evalJS[bool](p, frameBlocked(facebookFrame)) {
		t.Errorf("the Like button is still blocked after Always allow: %s", p.describeFrame(facebookFrame))
	}
}

// expectLastProof fails unless the visitor's newest proof record names
// this layer and action, as the control that made the choice says.
func (p *page) expectLastProof(when, layer, action string) {
	p.t.Helper()
	own := p.ownProofs()
	if n := len(own.Records); n == 0 || own.Records[n-1].How.Layer != layer || own.Records[n-1].How.Action != action {
		p.t.Errorf("%s the newest proof record must say layer %q, action %q; GET /.consent/proofs (status %d) lists:%s",
			when, layer, action, own.Status, recordSummary(own.Records))
	}
}

// expectNothingGranted fails unless the page's state grants nothing but
// the necessary purpose.
func (p *page) expectNothingGranted(when string) {
	p.t.Helper()
	st := p.config().State
	if !st.Decided {
		p.t.Errorf("%s the page's state must say the visitor decided: %+v", when, st)
	}
	for id, granted := range st.Purposes {
		if granted && id != "necessary" {
			p.t.Errorf("%s the page's state still grants %s: %+v", when, id, st.Purposes)
		}
	}
}

// TestOperatorPageActionsAndBannerWithdraw: elements on the operator's own
// page carrying data-consent-action="accept_all" and "reject_all" (the
// shop's privacy page) make that choice, and the Withdraw button of the
// banner's second layer withdraws; taking consent back reloads the page.
func TestOperatorPageActionsAndBannerWithdraw(t *testing.T) {
	const (
		pageAccept = `document.querySelector('main [data-consent-action=accept_all]')`
		pageReject = `document.querySelector('main [data-consent-action=reject_all]')`
		pageOpen   = `document.querySelector('main [data-consent-action=open]')`
	)
	p := newPage(t, startShop(t))
	p.open("/privacy.html")
	p.rejectAll()

	// accept_all on the page grants everything, in place.
	acceptFromPage := func() {
		t.Helper()
		p.forgetRequests()
		p.watchChanges()
		navs := p.navigations()
		p.click("the privacy page's Allow all services button", pageAccept)
		p.waitHosts("after the page's accept_all button, Google Analytics loads", "www.googletagmanager.com")
		p.expectNoReload("the page's accept_all button (it only grants more)", navs)
		if st := p.apiState(); !st.Purposes["analytics"] || !st.Purposes["marketing"] || !st.Purposes["social"] || !st.Purposes["functional"] {
			t.Errorf("after the page's accept_all button every purpose must be granted: %+v", st.Purposes)
		}
		p.expectLastProof("after the page's accept_all button,", proof.LayerAPI, proof.ActionAcceptAll)
	}
	acceptFromPage()

	// takeBack clicks a control that takes consent back: the page reloads,
	// nothing loads, nothing is granted, and the proof says how.
	takeBack := func(control, js, layer, action string) {
		t.Helper()
		navs := p.navigations()
		p.forgetRequests()
		p.click(control, js)
		p.waitFor(control+" reloads the page", `!window.__marker && document.readyState === 'complete'`)
		p.waitIdle()
		if p.navigations() == navs {
			t.Errorf("%s took consent back; the page must reload", control)
		}
		p.expectNoThirdParty("after " + control)
		p.expectNothingGranted("after " + control + ",")
		p.expectLastProof("after "+control+",", layer, action)
	}
	takeBack("the privacy page's Refuse all services button", pageReject, proof.LayerAPI, proof.ActionRejectAll)

	// The banner's own Withdraw button, in the second layer.
	acceptFromPage()
	p.click("the privacy page's Privacy settings link", pageOpen)
	p.waitSecondLayer()
	takeBack("the second layer's Withdraw button", `cg.control(cg.second(), 'withdraw')`, proof.LayerWithdraw, proof.ActionWithdraw)
	if own := p.ownProofs(); len(own.Records) == 0 || own.Records[len(own.Records)-1].Type != proof.Withdrawn {
		t.Errorf("the banner's Withdraw button must record a %s proof; GET /.consent/proofs lists:%s", proof.Withdrawn, recordSummary(own.Records))
	}
}

// TestSiteThatAsksNothingOpensNoBanner: the institute example lists no
// service, so its banner asks about nothing: a visit shows no dialog and
// sets no cookie, as its privacy policy promises. Its footer's Privacy
// settings link still opens the settings, which show what is on and offer
// nothing to choose: only Close, and still no cookie.
func TestSiteThatAsksNothingOpensNoBanner(t *testing.T) {
	p := newPage(t, startExample(t, "institute"))
	p.open("/")
	p.waitIdle()
	if l := p.layers(); l.First || l.Second {
		t.Fatal("a site that asks about nothing opened its banner by itself")
	}
	if evalJS[bool](p, "!!("+reopenControl+")") {
		t.Error("before any choice, a site that asks about nothing shows a floating Privacy settings control")
	}
	if c := p.cookies(); len(c) > 0 {
		t.Errorf("a visit set cookies: %v", c[0].Name)
	}
	p.click("the footer's Privacy settings link", `document.querySelector('footer [data-consent-action=open]')`)
	const settings = `document.querySelector('.cg-overlay:not([hidden]) [role=dialog]')`
	p.waitFor("the settings open", "!!"+settings)
	labels := evalJS[[]string](p, `Array.prototype.map.call(`+settings+`.querySelectorAll('button'), function (b) { return cg.norm(b.textContent); })
  .filter(function (l) { return l !== cg.norm(cg.texts.show_vendors); })`)
	if !slices.Equal(labels, []string{evalJS[string](p, `cg.norm(cg.texts.close)`)}) {
		t.Errorf("the settings of a site that asks about nothing offer %v; want only Close", labels)
	}
	// Nothing is asked and nothing kept: the dialog informs, under the
	// first layer's title, and does not speak of remembering a choice.
	if title := evalJS[string](p, settings+`.querySelector('h2').textContent`); title != "Privacy settings" {
		t.Errorf("the settings of a site that asks about nothing are titled %q, want %q", title, "Privacy settings")
	}
	text := evalJS[string](p, settings+`.textContent`)
	for _, wrong := range []string{"Choose what you allow", "remember your privacy choices"} {
		if strings.Contains(text, wrong) {
			t.Errorf("the settings of a site that asks about nothing say %q: %q", wrong, text)
		}
	}
	p.click("the settings' Close button", `cg.control(`+settings+`, 'close')`)
	p.waitBannerGone()
	if c := p.cookies(); len(c) > 0 {
		t.Errorf("opening and closing the settings set cookies: %v", c[0].Name)
	}
}

// TestWithdrawControlWithNothingAllowed: after Reject all, the privacy
// page's Withdraw control has nothing to take back: it opens the settings,
// which show everything off, and records no withdrawal of nothing.
func TestWithdrawControlWithNothingAllowed(t *testing.T) {
	p := newPage(t, startShop(t))
	p.decideOn("/privacy.html", "reject_all", "Reject all")
	const records = `fetch('/.consent/proofs').then(function (r) { return r.json(); }).then(function (j) { return j.records.length; })`
	before := evalJS[int](p, records)
	p.click("the privacy page's Withdraw consent control", `document.querySelector('main [data-consent-action=withdraw]')`)
	p.waitSecondLayer()
	if after := evalJS[int](p, records); after != before {
		t.Errorf("the Withdraw control with nothing allowed recorded %d more proofs", after-before)
	}
}
