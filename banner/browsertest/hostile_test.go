package browsertest

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/consentgate/consentgate/caddymodule/gatewaytest"
)

// TestHostileTextsStayText: with every operator text set to markup, quotes
// and script (gatewaytest.HostileConfig, as TestHostileConfigIsEscaped
// checks them on the wire), Chromium shows both banner layers, a purpose's
// vendor details and the blocked frame's placeholder with the texts
// literally; no element the texts try to inject exists, no script of
// theirs ran (window.__injected stays unset, no dialog opened), and the
// blocked vendor is not contacted.
func TestHostileTextsStayText(t *testing.T) {
	h := gatewaytest.NewHostileConfig(t)
	port := gatewaytest.FreePort(t)
	gatewaytest.StartSites(t, fmt.Sprintf(`:%d {
	consent {
%s	}
	header Content-Type "text/html; charset=utf-8"
	respond `+"`"+`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Hostile texts</title></head><body><main><h1>Hostile texts</h1>%s</main></body></html>`+"`"+`
}`, port, h.Consent(), gatewaytest.HostileFrame))
	gatewaytest.WaitListening(t, port)
	p := newPage(t, gatewaytest.BaseURL(port))
	p.open("/")
	p.expectNothingInjected("once the page has loaded")
	p.waitFirstLayer()
	first := map[string]string{
		"title": h.Texts["title"], "desc": h.Texts["text"] + " " + h.Texts["policy_link"],
		"policy_link": h.Texts["policy_link"], "policy_href": h.PrivacyPolicy,
		"accept_all": h.Texts["accept_all"], "reject_all": h.Texts["reject_all"], "settings": h.Texts["settings"],
	}
	p.expectShown("the first layer", layerTexts("cg.first()"), first)

	// The placeholder names the vendor once the details have loaded.
	p.waitPlaceholderButton("the placeholder's Always allow, with the vendor's name", hostileFrame,
		jsString(fmt.Sprintf(h.Texts["always_allow"], h.VendorName)))
	p.waitPlaceholderButton("the placeholder's Load this once", hostileFrame, jsString(h.Texts["load_once"]))
	p.expectShown("the blocked frame's placeholder", `{text: `+hostileFrame+`.contentDocument.querySelector('p').textContent}`,
		map[string]string{"text": fmt.Sprintf(h.Texts["placeholder"], h.VendorName, h.PurposeName)})

	p.openSettings()
	second := map[string]string{
		"title": h.Texts["settings_title"], "desc": first["desc"],
		"policy_link": first["policy_link"], "policy_href": first["policy_href"],
		"accept_all": first["accept_all"], "reject_all": first["reject_all"], "save": h.Texts["save"], "close": h.Texts["close"],
		"purpose": h.PurposeName, "purpose_desc": h.PurposeDesc, "show_vendors": h.Texts["show_vendors"],
		"analytics": h.Analytics,
	}
	p.expectNothingInjected("on the second layer")
	p.expectShown("the second layer", layerTexts("cg.second()"), second)

	p.click("the hostile purpose's Show services button", hostileVendorsButton)
	p.waitFor("the hostile purpose's services are listed", hostileVendorsRegion+`.querySelector('a[href]')`)
	p.expectShown("the hostile purpose's services", `(function (b, r) {
  var link = r.querySelector('a[href]');
  return {button: b.textContent, vendor: r.querySelector('h1,h2,h3,h4,h5,h6').textContent,
    details: Array.prototype.map.call(r.querySelectorAll('p,dt,dd'), function (e) { return e.textContent; }).join('|'),
    vendor_policy: link.textContent, vendor_policy_href: link.getAttribute('href')};
})(`+hostileVendorsButton+`, `+hostileVendorsRegion+`)`, map[string]string{
		"button": h.Texts["hide_vendors"], "vendor": h.VendorName,
		"details":       h.VendorDesc + "|" + h.Texts["company"] + "|" + h.Company + "|" + h.Texts["country"] + "|Germany|" + h.Texts["cookies"] + "|" + h.Texts["no_cookies"],
		"vendor_policy": h.Texts["vendor_policy"], "vendor_policy_href": h.VendorPolicy,
	})

	p.waitIdle()
	p.expectNothingInjected("with the services shown")
	p.expectNoThirdParty("with hostile texts, before consent")
}

// expectNothingInjected fails if the page holds an element or ran a script
// the hostile texts would inject (see injectedJS), or opened a dialog.
func (p *page) expectNothingInjected(when string) {
	p.t.Helper()
	if bad := evalJS[[]string](p, injectedJS); len(bad) > 0 {
		p.t.Errorf("%s, the hostile texts injected markup or ran script:%s", when, listOr(bad))
	}
	p.mu.Lock()
	dialogs := p.dialogs
	p.mu.Unlock()
	if len(dialogs) > 0 {
		p.t.Errorf("%s, the hostile texts opened dialogs: %q", when, dialogs)
	}
}

// hostileFrame is gatewaytest.HostileFrame in the page; hostileVendorsButton
// is the hostile purpose's Show services button (it carries aria-controls,
// docs/operators.md); hostileVendorsRegion is what it controls.
const (
	hostileFrame         = `document.querySelector('iframe[title="hostile video"]')`
	hostileVendorsButton = `cg.toggle(cg.second(), 'hostile').closest('li').querySelector('button[aria-controls]')`
	hostileVendorsRegion = `document.getElementById(` + hostileVendorsButton + `.getAttribute('aria-controls'))`
)

// layerTexts is a JS expression for the texts a banner layer d shows: its
// title and description (the dialog's aria-labelledby and
// aria-describedby), the privacy policy link, its buttons and, on the
// second layer, the hostile purpose's name, description and Show services
// button, and the analytics purpose's name.
func layerTexts(d string) string {
	return `(function (d) {
  function text(e) { return e ? e.textContent : null; }
  var desc = document.getElementById(d.getAttribute('aria-describedby')), link = desc.querySelector('a[href]');
  var r = {title: text(document.getElementById(d.getAttribute('aria-labelledby'))), desc: text(desc),
    policy_link: text(link), policy_href: link && link.getAttribute('href')};
  ['accept_all', 'reject_all', 'settings', 'save', 'close'].forEach(function (k) { var c = cg.control(d, k); if (c) r[k] = c.textContent; });
  var box = cg.toggle(d, 'hostile');
  if (box) {
    r.purpose = text(box.labels[0]);
    r.purpose_desc = (box.getAttribute('aria-describedby') || '').split(/\s+/).map(function (id) {
      return text(id && document.getElementById(id)) || ''; }).join('');
    r.show_vendors = text(box.closest('li').querySelector('button[aria-controls]'));
    r.analytics = text(cg.toggle(d, 'analytics').labels[0]);
  }
  return r;
})(` + d + `)`
}

// expectShown evaluates a JS object of texts and fails for each that is
// not exactly as wanted (or is missing, or not wanted).
func (p *page) expectShown(what, expr string, want map[string]string) {
	p.t.Helper()
	got := evalJS[map[string]*string](p, expr)
	for k, w := range want {
		if g := got[k]; g == nil || *g != w {
			p.t.Errorf("%s: %s shows %s, want %q", what, k, quoteOrMissing(g), w)
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			p.t.Errorf("%s: unexpected %s %s", what, k, quoteOrMissing(g))
		}
	}
}

func quoteOrMissing(s *string) string {
	if s == nil {
		return "nothing"
	}
	return fmt.Sprintf("%q", *s)
}

// jsString is s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// injectedJS lists, in the page and in every frame's document it can
// read, any <img>, event handler attribute or script that is not the
// gateway's (an external one from the consent prefix, or the config
// block), and a window.__injected the hostile texts would set.
const injectedJS = `(function () {
  var bad = [];
  function check(doc, where) {
    Array.prototype.forEach.call(doc.querySelectorAll('*'), function (e) {
      var tag = e.tagName.toLowerCase();
      if (tag === 'img') bad.push(where + ': <img src=' + e.getAttribute('src') + '>');
      Array.prototype.forEach.call(e.attributes, function (a) {
        if (/^on/i.test(a.name)) bad.push(where + ': <' + tag + ' ' + a.name + '=' + a.value + '>');
      });
      if (tag === 'script' && e.id !== 'consentgate-config' && !(e.src && new URL(e.src).pathname.indexOf('/.consent/') === 0)) {
        bad.push(where + ': <script>' + e.textContent.slice(0, 80));
      }
    });
    if (doc.defaultView && doc.defaultView.__injected !== undefined) bad.push(where + ': window.__injected is set');
  }
  check(document, 'page');
  Array.prototype.forEach.call(document.querySelectorAll('iframe'), function (f, i) {
    var d = null;
    try { d = f.contentDocument; } catch (e) {}
    if (d) check(d, 'frame ' + i);
  });
  return bad;
})()`
