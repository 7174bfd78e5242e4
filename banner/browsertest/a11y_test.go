package browsertest

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// focused is the element that has the keyboard focus.
type focused struct {
	ID       int    `json:"id"`
	What     string `json:"what"`
	InFirst  bool   `json:"inFirst"`
	InSecond bool   `json:"inSecond"`
}

func (p *page) focused() focused {
	p.t.Helper()
	return evalJS[focused](p, `cg.describe(cg.active())`)
}

type control struct {
	ID   int    `json:"id"`
	What string `json:"what"`
}

func (p *page) tabbables(layer string) []control {
	p.t.Helper()
	return evalJS[[]control](p, `cg.tabbables(`+layer+`).map(function (el) { var d = cg.describe(el); return {id: d.id, what: d.what}; })`)
}

// tabUntil presses Tab until the condition holds.
func (p *page) tabUntil(what, cond string, max int) {
	p.t.Helper()
	for i := 0; i <= max; i++ {
		if evalJS[bool](p, "!!("+cond+")") {
			return
		}
		p.key(kb.Tab)
	}
	p.t.Fatalf("%s: not reached with %d presses of Tab (focus is on %s)", what, max, p.focused().What)
}

func whats(cs []control) string {
	var out []string
	for _, c := range cs {
		out = append(out, c.What)
	}
	return strings.Join(out, ", ")
}

// focusRing is how the focused element shows that it has the focus.
type focusRing struct {
	What         string  `json:"what"`
	FocusVisible bool    `json:"focusVisible"`
	Style        string  `json:"style"`
	Width        float64 `json:"width"`
	Color        string  `json:"color"`
	Background   string  `json:"background"`
	Ratio        float64 `json:"ratio"`
}

// focusRingJS measures the outline of the focused element against the
// background of the dialog it is drawn on (the outline lies outside the
// element, with an offset).
const focusRingJS = `(function () {
  ` + lookContrastJS + `
  var a = cg.active(), d = a && a.closest('[role=dialog]');
  if (!a || !d) return {what: cg.describe(a).what};
  var s = getComputedStyle(a), bg = getComputedStyle(d).backgroundColor;
  return {what: cg.describe(a).what, focusVisible: a.matches(':focus-visible'), style: s.outlineStyle,
    width: parseFloat(s.outlineWidth) || 0, color: s.outlineColor, background: bg, ratio: contrast(s.outlineColor, bg)};
})()`

// expectVisibleFocus fails unless the focused control of the dialog shows
// an outline at least 2px wide with a contrast of 3:1 or more against the
// dialog (WCAG 2.2 2.4.7 and 1.4.11).
func (p *page) expectVisibleFocus(when string) {
	p.t.Helper()
	r := evalJS[focusRing](p, focusRingJS)
	switch {
	case r.Background == "":
		p.t.Errorf("%s: focus is on %s, not in a dialog", when, r.What)
	case !r.FocusVisible:
		p.t.Errorf("%s: %s has the keyboard focus but does not match :focus-visible", when, r.What)
	case r.Style == "none" || r.Width < 2:
		p.t.Errorf("%s: %s has the focus but no visible outline (outline-style %s, width %.1fpx; want a style and at least 2px)", when, r.What, r.Style, r.Width)
	case r.Ratio < 3:
		p.t.Errorf("%s: the focus outline of %s (%s) has a contrast of %.2f:1 against the dialog (%s); it needs at least 3:1", when, r.What, r.Color, r.Ratio, r.Background)
	}
}

func missingControls(want []control, reached map[int]bool) []string {
	var out []string
	for _, c := range want {
		if !reached[c.ID] {
			out = append(out, c.What)
		}
	}
	return out
}

func TestKeyboardOnly(t *testing.T) {
	p := newPage(t, startShop(t))
	p.open("/")
	p.waitFirstLayer()
	// Focus moves into the dialog as it opens, not only at the first Tab
	// (which the dialog's trap would pull in anyway).
	p.waitFor("focus moves into the first layer when it opens", `cg.first().contains(cg.active())`)
	p.expectVisibleFocus("as the first layer opens")
	// No answer is preselected: Enter at once must not decide anything.
	if f := p.focused(); f.What != evalJS[focused](p, `cg.describe(cg.first())`).What {
		t.Errorf("as the first layer opens, the dialog itself must have the focus (so Enter answers nothing and a screen reader reads its text); %s has it", f.What)
	}

	// Tab reaches every control of the first layer; if it is modal, focus
	// stays in it; the focused control is always visibly marked.
	want := p.tabbables("cg.first()")
	if len(want) < 3 {
		t.Fatalf("the first layer must offer at least Accept all, Reject all and Settings to the keyboard; it has %v", want)
	}
	modal := evalJS[bool](p, `(function (d) { return d.getAttribute('aria-modal') === 'true' || (d.matches && d.matches(':modal')); })(cg.first())`)
	reached := map[int]bool{}
	entered := false
	const maxTabs = 80 // the whole home page, links and frames included, has fewer stops
	for i := 0; i < maxTabs && len(missingControls(want, reached)) > 0; i++ {
		p.key(kb.Tab)
		f := p.focused()
		if f.InFirst {
			entered, reached[f.ID] = true, true
			p.expectVisibleFocus("first layer, Tab to " + f.What)
		} else if entered && modal {
			t.Fatalf("the first layer is a modal dialog, but Tab moved focus out of it to %s", f.What)
		}
	}
	if m := missingControls(want, reached); len(m) > 0 {
		t.Fatalf("Tab never reached these controls of the first layer: %s", strings.Join(m, "; "))
	}
	t.Logf("first layer (modal: %v): Tab reached all %d controls: %s", modal, len(want), whats(want))

	// Enter on Settings opens the second layer and moves focus into it.
	p.tabUntil("the first layer's Settings button", `cg.active() === cg.control(cg.first(), 'settings')`, maxTabs)
	p.key(kb.Enter)
	p.waitSecondLayer()
	p.waitFor("focus moves into the second layer when it opens", `cg.second().contains(cg.active())`)

	// Tab reaches every control of the second layer, and Tab and Shift+Tab
	// never leave it: focus is trapped in the modal dialog.
	want2 := p.tabbables("cg.second()")
	if len(want2) < 4 {
		t.Fatalf("the second layer must offer at least the purpose switches and Save to the keyboard; it has %v", want2)
	}
	reached2 := map[int]bool{p.focused().ID: true}
	for i := 0; i < 2*len(want2)+2; i++ {
		p.key(kb.Tab)
		f := p.focused()
		if !f.InSecond {
			t.Fatalf("Tab moved focus out of the second layer (a modal dialog) to %s", f.What)
		}
		reached2[f.ID] = true
		p.expectVisibleFocus("second layer, Tab to " + f.What)
	}
	// In the dark scheme too.
	p.emulateMedia("dark")
	p.expectVisibleFocus("second layer, dark scheme")
	p.emulateMedia("light")
	if m := missingControls(want2, reached2); len(m) > 0 {
		t.Errorf("Tab never reached these controls of the second layer: %s", strings.Join(m, "; "))
	} else {
		t.Logf("second layer: Tab reached all %d controls and never left it: %s", len(want2), whats(want2))
	}
	for i := 0; i < len(want2)+2; i++ {
		p.key(kb.Tab, chromedp.ModifierShift)
		if f := p.focused(); !f.InSecond {
			t.Fatalf("Shift+Tab moved focus out of the second layer (a modal dialog) to %s", f.What)
		}
	}

	// Space toggles a purpose switch, as for any checkbox or switch.
	p.tabUntil("the Analytics switch", `cg.active() === cg.toggle(cg.second(), 'analytics')`, 2*len(want2))
	p.key(" ")
	p.waitFor("Space turns the focused Analytics switch on", `cg.checked(cg.toggle(cg.second(), 'analytics'))`)
	p.key(" ")
	p.waitFor("Space turns it off again", `!cg.checked(cg.toggle(cg.second(), 'analytics'))`)

	// Escape returns to the first layer, to the Settings button.
	p.key(kb.Escape)
	p.waitFor("Escape closes the second layer and shows the first again", `!cg.second() && cg.first()`)
	p.waitFor("focus returns to the Settings button that opened the second layer", `cg.active() === cg.control(cg.first(), 'settings')`)

	// Enter on Reject all makes the choice.
	p.tabUntil("the first layer's Reject all button", `cg.active() === cg.control(cg.first(), 'reject_all')`, maxTabs)
	p.key(kb.Enter)
	p.waitFor("Enter on Reject all records the choice", `window.consentgate && window.consentgate.state && window.consentgate.state.decided === true`)
	p.waitBannerGone()

	// Focus returns to what had it before the dialog opened: the footer's
	// Privacy settings link, opened with Enter, closed with Escape.
	const link = `document.querySelector('.site-footer [data-consent-action=open]')`
	if !evalJS[bool](p, `(function (l) { l.focus(); return document.activeElement === l; })(`+link+`)`) {
		t.Fatal("could not focus the footer's Privacy settings link")
	}
	p.key(kb.Enter)
	p.waitSecondLayer()
	p.waitFor("focus moves into the settings dialog opened from the footer", `cg.second().contains(cg.active())`)
	p.waitIdle()
	if evalJS[bool](p, `!!cg.second().querySelector('[aria-expanded="true"]')`) {
		t.Error("the Enter that opened the dialog from the footer's link also pressed the button it focused (a purpose's Show services is expanded)")
	}
	p.key(kb.Escape)
	p.waitBannerGone()
	p.waitFor("focus returns to the footer's Privacy settings link after the dialog closes", `cg.active() === `+link)
}

// axeSource reads axe-core (npm package axe-core): $CONSENTGATE_AXE names
// axe.min.js, else see npmFile.
func axeSource(t *testing.T) string {
	t.Helper()
	return npmFile(t, "CONSENTGATE_AXE", "axe-core", "axe.min.js", "the accessibility check")
}

// npmFile reads a file of an npm package the tests need, installed outside
// the repository: the environment variable env names it, else it is
// $HOME/.cache/consentgate-npm/node_modules/<pkg>/<file>, where .ci/run
// installs it.
func npmFile(t *testing.T, env, pkg, file, forWhat string) string {
	t.Helper()
	path := os.Getenv(env)
	if path == "" {
		home, _ := os.UserHomeDir()
		path = filepath.Join(home, ".cache", "consentgate-npm", "node_modules", filepath.FromSlash(pkg), filepath.FromSlash(file))
	}
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%s is needed for %s and is missing (%v).\n"+
			"Install it with: npm install --prefix \"$HOME/.cache/consentgate-npm\" %s (.ci/run does),\n"+
			"or point %s at %s", pkg, forWhat, err, pkg, env, filepath.Base(file))
	}
	return string(src)
}

type axeViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

// checkAxe runs axe-core on one element of the page and fails on every
// violation of impact serious or critical.
func (p *page) checkAxe(what, element, src string) {
	p.t.Helper()
	if !evalJS[bool](p, `typeof window.axe === 'object'`) {
		p.do(chromedp.Evaluate[chromedp.Void](src))
	}
	vs := evalJS[[]axeViolation](p, `axe.run(`+element+`, {resultTypes: ['violations']}).then(function (r) {
  return r.violations.map(function (v) {
    return {id: v.id, impact: v.impact || '', help: v.help, nodes: v.nodes.map(function (n) {
      return n.target.join(' ') + ': ' + (n.failureSummary || '').replace(/\s+/g, ' ');
    })};
  });
})`)
	for _, v := range vs {
		msg := fmt.Sprintf("%s: axe %s (%s): %s\n\t%s", what, v.ID, v.Impact, v.Help, strings.Join(v.Nodes, "\n\t"))
		if v.Impact == "serious" || v.Impact == "critical" {
			p.t.Error(msg)
		} else {
			p.t.Log(msg)
		}
	}
}

// expandVendors opens every "Show services" section of the second layer,
// so the vendor details are checked and shown too.
func (p *page) expandVendors() {
	p.t.Helper()
	n := evalJS[int](p, `cg.controls(cg.second()).filter(function (c) { return cg.norm(cg.label(c)) === cg.norm(cg.texts.show_vendors); }).length`)
	for i := 0; i < n; i++ {
		p.click("a Show services button", `cg.controls(cg.second()).filter(function (c) { return cg.norm(cg.label(c)) === cg.norm(cg.texts.show_vendors); })[0]`)
	}
	if n > 0 {
		p.waitFor("every Show services section opens", `cg.controls(cg.second()).filter(function (c) { return cg.norm(cg.label(c)) === cg.norm(cg.texts.show_vendors); }).length === 0`)
		p.waitIdle()
	}
}

func TestAxeFindsNoSeriousViolation(t *testing.T) {
	src := axeSource(t)
	p := newPage(t, startShop(t))
	p.open("/")
	p.waitFirstLayer()
	for _, scheme := range []string{"light", "dark"} {
		p.emulateMedia(scheme)
		p.checkAxe("first layer, "+scheme, "cg.first()", src)
	}
	p.emulateMedia("light")
	p.openSettings()
	p.expandVendors()
	for _, scheme := range []string{"light", "dark"} {
		p.emulateMedia(scheme)
		p.checkAxe("second layer, "+scheme, "cg.second()", src)
	}
}

// screenshotDirs are where the screenshots go: artifacts/screenshots in
// the repository on every run (gitignored; the test run's artifacts, which
// the README links), and with CONSENTGATE_SCREENSHOTS=1 docs/screenshots
// too (the copies committed for the README).
func screenshotDirs(t *testing.T) []string {
	t.Helper()
	dirs := []string{filepath.Join(repoRoot, "artifacts", "screenshots")}
	if os.Getenv("CONSENTGATE_SCREENSHOTS") == "1" {
		dirs = append(dirs, filepath.Join(repoRoot, "docs", "screenshots"))
	}
	for _, dir := range dirs {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dirs
}

type rect struct{ X, Y, W, H float64 }

// shoot saves a screenshot of the viewport in every dir and returns the
// mean luminance (0 black, 1 white) of the layer's area in it.
func (p *page) shoot(dirs []string, name, layer string) float64 {
	p.t.Helper()
	p.waitFor("animations settle", `document.getAnimations().every(function (a) { return a.playState !== 'running'; })`)
	r := evalJS[rect](p, `(function (d) { var r = d.getBoundingClientRect(); return {X: r.left, Y: r.top, W: r.width, H: r.height}; })(`+layer+`)`)
	buf, err := chromedp.Run(p.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		p.t.Fatalf("screenshot %s: %v", name, err)
	}
	for _, dir := range dirs {
		if err := os.WriteFile(filepath.Join(dir, name), buf, 0o644); err != nil {
			p.t.Fatal(err)
		}
	}
	img, err := png.Decode(bytes.NewReader(buf))
	if err != nil {
		p.t.Fatalf("screenshot %s: %v", name, err)
	}
	return meanLuminance(img, r)
}

func meanLuminance(img image.Image, r rect) float64 {
	b := img.Bounds()
	x0, y0 := max(b.Min.X, int(r.X)), max(b.Min.Y, int(r.Y))
	x1, y1 := min(b.Max.X, int(r.X+r.W)), min(b.Max.Y, int(r.Y+r.H))
	var sum float64
	var n int
	for y := y0; y < y1; y += 2 {
		for x := x0; x < x1; x += 2 {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			sum += (0.2126*float64(cr) + 0.7152*float64(cg) + 0.0722*float64(cb)) / 65535
			n++
		}
	}
	if n == 0 {
		return -1
	}
	return sum / float64(n)
}

// fitViewport makes the viewport tall enough for the whole layer, its
// overlay's padding included, so a screenshot shows all of it.
func (p *page) fitViewport(layer string) {
	p.t.Helper()
	h := evalJS[int](p, `(function (d) { var o = d.parentElement, s = getComputedStyle(o);
  return Math.ceil(d.scrollHeight + parseFloat(s.paddingTop) + parseFloat(s.paddingBottom)); })(`+layer+`)`)
	p.do(chromedp.EmulateViewport(1280, int64(max(800, h))))
}

// TestScreenshotsOfBothLayersLightAndDark writes first-layer-light.png,
// first-layer-dark.png, second-layer-light.png and second-layer-dark.png
// (see screenshotDirs); the second layer is shown whole, down to its Save
// selection, Accept all and Reject all buttons.
func TestScreenshotsOfBothLayersLightAndDark(t *testing.T) {
	dirs := screenshotDirs(t)
	p := newPage(t, startShop(t))
	p.open("/")
	p.waitFirstLayer()
	lum := map[string]float64{}
	for _, scheme := range []string{"light", "dark"} {
		p.emulateMedia(scheme)
		lum["first-"+scheme] = p.shoot(dirs, "first-layer-"+scheme+".png", "cg.first()")
	}
	p.emulateMedia("light")
	p.openSettings()
	p.fitViewport("cg.second()")
	for _, key := range []string{"save", "accept_all", "reject_all"} {
		if !evalJS[bool](p, inViewport(`cg.control(cg.second(), '`+key+`')`)) {
			t.Errorf("the second layer's %s button must be on screen for its screenshot", key)
		}
	}
	for _, scheme := range []string{"light", "dark"} {
		p.emulateMedia(scheme)
		lum["second-"+scheme] = p.shoot(dirs, "second-layer-"+scheme+".png", "cg.second()")
	}
	for _, layer := range []string{"first", "second"} {
		light, dark := lum[layer+"-light"], lum[layer+"-dark"]
		if !(dark < light-0.2) {
			t.Errorf("the %s layer must turn dark when the system prefers a dark scheme: mean luminance %.2f light, %.2f dark", layer, light, dark)
		}
	}
	t.Logf("screenshots in %s", strings.Join(dirs, " and "))
}

// pageInertness says which parts of the test page are inert, the banner
// being left out.
type pageInertness struct {
	Main, Aside, Added bool
	Banner             bool // the banner itself (its dialog) is inert
}

const pageInertnessJS = `(function () {
  function inert(el) { return !!(el && el.closest('[inert]')); }
  var d = cg.dialogs()[0];
  return {Main: inert(document.querySelector('main a')), Aside: inert(document.querySelector('#own-inert button')),
    Added: inert(document.querySelector('#added a')), Banner: !!d && inert(d)};
})()`

// TestModalDialogMakesThePageInert: while the modal dialog is open, the
// page behind it is inert (neither Tab nor a screen reader's cursor
// reaches it), content the page adds meanwhile too; once it closes the
// page is as it was, what the page had made inert itself still inert.
func TestModalDialogMakesThePageInert(t *testing.T) {
	p := openServed(t, `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Behind</title></head>`+
		`<body><main><h1>Behind the dialog</h1><p><a href="/next">A link</a></p></main>`+
		`<aside id="own-inert" inert><button type="button">Made inert by the page</button></aside></body></html>`)
	if !evalJS[bool](p, `(function (d) { return d.getAttribute('aria-modal') === 'true'; })(cg.first())`) {
		t.Fatal("the first layer must be a modal dialog (aria-modal=true) on a first visit")
	}
	check := func(when string, want pageInertness) {
		t.Helper()
		if got := evalJS[pageInertness](p, pageInertnessJS); got != want {
			t.Errorf("%s: inert parts are %+v, want %+v", when, got, want)
		}
	}
	check("first layer open", pageInertness{Main: true, Aside: true})
	p.do(chromedp.Evaluate[chromedp.Void](`(function () { var d = document.createElement('div'); d.id = 'added';
  d.innerHTML = '<a href="/added">Added while the dialog is open</a>'; document.body.insertBefore(d, document.body.firstChild); })()`))
	p.waitFor("content the page adds while the dialog is open is inert too", `document.querySelector('#added a').closest('[inert]')`)
	p.openSettings()
	check("second layer open", pageInertness{Main: true, Aside: true, Added: true})
	p.click("the second layer's Reject all button", `cg.control(cg.second(), 'reject_all')`)
	p.waitBannerGone()
	check("after the choice", pageInertness{Aside: true})
	p.do(chromedp.Evaluate[chromedp.Void](`window.consentgate.open()`))
	p.waitSecondLayer()
	check("settings opened again", pageInertness{Main: true, Aside: true, Added: true})
	p.key(kb.Escape)
	p.waitBannerGone()
	check("settings closed with Escape", pageInertness{Aside: true})
}

// TestSettingsButtonKeepsClearOfFocus: at 400 % zoom (a 320 × 256 CSS pixel
// window) the floating Privacy settings button must not cover the element
// a keyboard user is on (WCAG 2.4.11): tabbing through the whole shop page,
// no focused element lies under it while it shows.
func TestSettingsButtonKeepsClearOfFocus(t *testing.T) {
	p := newPage(t, startShop(t))
	p.do(chromedp.EmulateViewport(320, 256))
	p.open("/")
	p.waitFirstLayer()
	p.clickFirstLayer("accept_all", "Accept all")
	p.waitFor("the Privacy settings button shows", `!document.querySelector('.cg-reopen').hidden`)
	const covered = `(function () {
  var a = document.activeElement, r = document.querySelector('.cg-reopen');
  if (!a || a === r || a === document.body || r.hidden || getComputedStyle(r).visibility === 'hidden') return "";
  var x = r.getBoundingClientRect(), y = a.getBoundingClientRect();
  return x.left < y.right && y.left < x.right && x.top < y.bottom && y.top < x.bottom ? a.outerHTML.slice(0, 100) : "";
})()`
	seen, focusedReopen := map[string]bool{}, false
	for range 60 {
		p.key(kb.Tab)
		time.Sleep(50 * time.Millisecond) // the scroll into view, and the button's move after it
		if under := evalJS[string](p, covered); under != "" && !seen[under] {
			seen[under] = true
			t.Errorf("the Privacy settings button covers the focused %s", under)
		}
		focusedReopen = focusedReopen || evalJS[bool](p, `document.activeElement === document.querySelector('.cg-reopen')`)
	}
	if !focusedReopen {
		t.Error("tabbing through the page never reached the Privacy settings button")
	}
}
