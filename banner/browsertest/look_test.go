package browsertest

// How the banner looks and behaves for the eye: it overlays the page without
// moving it, offers its three choices with equal weight, follows the
// operator's theme and position with readable contrast, speaks the
// visitor's language, works without JavaScript and honours reduced motion.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/consentgate/consentgate/caddymodule/gatewaytest"
)

// lookEmulate sets prefers-color-scheme and prefers-reduced-motion
// ("reduce" or "no-preference"); page.emulateMedia always reduces motion.
func (p *page) lookEmulate(scheme, motion string) {
	p.t.Helper()
	p.do(chromedp.Func(func(ctx context.Context, tt *chromedp.Target) error {
		_, err := cdp.Call(ctx, tt, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Features: []*emulation.MediaFeature{
			{Name: "prefers-color-scheme", Value: scheme},
			{Name: "prefers-reduced-motion", Value: motion},
		}})
		return err
	}))
	if !evalJS[bool](p, `matchMedia('(prefers-color-scheme: `+scheme+`)').matches && matchMedia('(prefers-reduced-motion: `+motion+`)').matches`) {
		p.t.Fatalf("emulating prefers-color-scheme: %s and prefers-reduced-motion: %s did not take effect", scheme, motion)
	}
}

// lookAddScript runs a script in every new document of the tab, before the
// page's own scripts.
func (p *page) lookAddScript(src string) {
	p.t.Helper()
	p.do(chromedp.Func(func(ctx context.Context, tt *chromedp.Target) error {
		_, err := cdp.Call(ctx, tt, cdppage.AddScriptToEvaluateOnNewDocument,
			cdppage.AddScriptToEvaluateOnNewDocumentParams{Source: src})
		return err
	}))
}

// lookTrackInsertionsJS records every node banner.js inserts into the
// page's document (window.__cgLookAdded), by wrapping the DOM's insertion
// methods and attributing each call by its stack to the banner's script
// (/<prefix>banner.<hash>.js). The parser does not use these methods, and
// nodes inserted into the placeholders' srcdoc documents go through those
// documents' own prototypes, so they are not recorded.
const lookTrackInsertionsJS = `(function () {
  var added = window.__cgLookAdded = [];
  var fromBanner = /\/banner\.[^\/\s:?]*js/;
  function note(parent, nodes) {
    var doc = parent && (parent.nodeType === 9 ? parent : parent.ownerDocument);
    if (doc !== document) return;
    if (!fromBanner.test(String(new Error().stack))) return;
    for (var i = 0; i < nodes.length; i++) {
      var n = nodes[i];
      if (n && n.nodeType === 11) { for (var c = n.firstChild; c; c = c.nextSibling) added.push(c); }
      else if (n && typeof n === 'object') added.push(n);
    }
  }
  function wrap(proto, name, nodesOf) {
    var orig = proto[name];
    if (typeof orig !== 'function') return;
    proto[name] = function () {
      try { note(name === 'before' || name === 'after' || name === 'replaceWith' ? this.parentNode : this, nodesOf(arguments)); } catch (e) {}
      return orig.apply(this, arguments);
    };
  }
  function first(a) { return [a[0]]; }
  function all(a) { return Array.prototype.slice.call(a); }
  wrap(Node.prototype, 'appendChild', first);
  wrap(Node.prototype, 'insertBefore', first);
  wrap(Node.prototype, 'replaceChild', first);
  ['append', 'prepend', 'before', 'after', 'replaceWith'].forEach(function (m) { wrap(Element.prototype, m, all); });
  wrap(Element.prototype, 'insertAdjacentElement', function (a) { return [a[1]]; });
})();`

// lookLayout is where the page's own content is.
type lookLayout struct {
	Rects        map[string]*lookRect `json:"rects"`
	ScrollHeight float64              `json:"scrollHeight"`
	ScrollWidth  float64              `json:"scrollWidth"`
	ClientWidth  float64              `json:"clientWidth"`
	BodyWidth    float64              `json:"bodyWidth"`
	Scrollbar    float64              `json:"scrollbar"` // innerWidth - clientWidth
	ScrollX      float64              `json:"scrollX"`
	ScrollY      float64              `json:"scrollY"`
	// Lock is how html and body may hold the page still (overflow,
	// position, padding-right): a scroll lock that hides the scrollbar
	// shifts the page sideways in browsers with classic scrollbars
	// (headless Chromium hides them, so the scrollbar width alone cannot
	// tell).
	Lock string `json:"lock"`
}

type lookRect struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
	W float64 `json:"w"`
	H float64 `json:"h"`
}

func (r *lookRect) String() string {
	if r == nil {
		return "missing"
	}
	return fmt.Sprintf("(%.2f, %.2f) %.2f×%.2f", r.X, r.Y, r.W, r.H)
}

const lookMeasureJS = `(function () {
  function r(sel) {
    var e = document.querySelector(sel);
    if (!e) return null;
    var b = e.getBoundingClientRect();
    return {x: b.left, y: b.top, w: b.width, h: b.height};
  }
  var de = document.documentElement, b = document.body;
  return {
    rects: {'header (.site-header)': r('.site-header'), 'main h1': r('main h1'),
      'first paragraph (main p)': r('main p'), 'footer (.site-footer)': r('.site-footer')},
    scrollHeight: de.scrollHeight, scrollWidth: de.scrollWidth, clientWidth: de.clientWidth,
    bodyWidth: b.getBoundingClientRect().width, scrollbar: innerWidth - de.clientWidth,
    scrollX: scrollX, scrollY: scrollY,
    lock: [de, b].map(function (e) {
      var s = getComputedStyle(e);
      return e.tagName.toLowerCase() + ' overflow ' + s.overflowX + ' ' + s.overflowY + ', position ' + s.position +
        ', padding-right ' + s.paddingRight + ', scrollbar-gutter ' + s.scrollbarGutter;
    }).join('; ')
  };
})()`

// lookDiff lists how two layouts differ.
func lookDiff(a, b lookLayout) []string {
	var out []string
	same := func(x, y float64) bool { return math.Abs(x-y) < 0.01 }
	for name, ra := range a.Rects {
		rb := b.Rects[name]
		if ra == nil || rb == nil {
			if ra != rb {
				out = append(out, fmt.Sprintf("%s: %s, then %s", name, ra, rb))
			}
			continue
		}
		if !same(ra.X, rb.X) || !same(ra.Y, rb.Y) || !same(ra.W, rb.W) || !same(ra.H, rb.H) {
			out = append(out, fmt.Sprintf("%s: %s, then %s", name, ra, rb))
		}
	}
	for _, f := range []struct {
		name string
		x, y float64
	}{
		{"document scrollHeight", a.ScrollHeight, b.ScrollHeight},
		{"document scrollWidth", a.ScrollWidth, b.ScrollWidth},
		{"document clientWidth", a.ClientWidth, b.ClientWidth},
		{"body width", a.BodyWidth, b.BodyWidth},
		{"scrollbar width", a.Scrollbar, b.Scrollbar},
		{"scrollX", a.ScrollX, b.ScrollX},
		{"scrollY", a.ScrollY, b.ScrollY},
	} {
		if !same(f.x, f.y) {
			out = append(out, fmt.Sprintf("%s: %.2f, then %.2f", f.name, f.x, f.y))
		}
	}
	if a.Lock != b.Lock {
		out = append(out, fmt.Sprintf("html and body: %q, then %q", a.Lock, b.Lock))
	}
	return out
}

func TestBannerOverlaysWithoutShiftingLayout(t *testing.T) {
	p := newPage(t, startShop(t))
	p.lookAddScript(lookTrackInsertionsJS)
	p.open("/")
	p.waitFirstLayer()
	p.waitFor("animations settle", `document.getAnimations().every(function (a) { return a.playState !== 'running'; })`)
	with := evalJS[lookLayout](p, lookMeasureJS)
	for name, r := range with.Rects {
		if r == nil {
			t.Fatalf("the shop's home page has no %s to measure", name)
		}
	}
	if with.ScrollHeight <= 800 {
		t.Fatalf("the home page should be taller than the 800px viewport to tell a scroll lock; its scrollHeight is %.0f", with.ScrollHeight)
	}
	t.Logf("with the banner: scrollHeight %.0f, body width %.0f, scrollbar %.0fpx, %s",
		with.ScrollHeight, with.BodyWidth, with.Scrollbar, with.Lock)

	// The visitor can still scroll the page behind the banner (no scroll
	// lock): informative, the layout comparison below is what counts.
	scrolls := evalJS[bool](p, `(function () { scrollTo(0, 200); var ok = scrollY > 0; scrollTo(0, 0); return ok; })()`)
	t.Logf("with the banner shown the page scrolls: %v", scrolls)
	p.waitFor("the page is back at the top", `scrollY === 0`)

	// Remove everything banner.js added to the page.
	tracked := evalJS[int](p, `(window.__cgLookAdded || []).length`)
	removed := evalJS[[]string](p, `(function () {
  var nodes = (window.__cgLookAdded || []).slice();
  // Whatever the tracking missed: the body-level ancestor of the dialog.
  var d = cg.first(), top = d;
  while (top && top.parentNode && top.parentNode !== document.body && top.parentNode !== document.documentElement) top = top.parentNode;
  if (top && nodes.indexOf(top) < 0) nodes.push(top);
  var out = [];
  nodes.forEach(function (n) {
    if (!n.isConnected) return;
    if (n.parentNode === document.body || n.parentNode === document.documentElement || n === top)
      out.push(n.nodeType === 1 ? n.tagName.toLowerCase() + (n.className ? '.' + String(n.className).trim().split(/\s+/).join('.') : '') : '#text');
    n.remove();
  });
  return out;
})()`)
	if len(removed) == 0 {
		t.Fatal("found nothing banner.js added to the page; cannot compare the layout without the banner")
	}
	if evalJS[int](p, `cg.dialogs().length`) != 0 {
		t.Fatalf("after removing what banner.js added (%s), a consent dialog is still shown", strings.Join(removed, ", "))
	}
	without := evalJS[lookLayout](p, lookMeasureJS)
	if d := lookDiff(with, without); len(d) > 0 {
		t.Errorf("the banner moves the page's content: measured with the banner shown, then with what banner.js added (%s) removed:\n\t%s",
			strings.Join(removed, ", "), strings.Join(d, "\n\t"))
	} else {
		t.Logf("removed %s (%d nodes banner.js inserted): header, h1, first paragraph, footer, scrollHeight, body width, scrollbar and html/body overflow are unchanged",
			strings.Join(removed, ", "), tracked)
	}

	// Nor does the banner's stylesheet touch the page.
	sheets := evalJS[int](p, `(function () {
  var ls = Array.prototype.filter.call(document.querySelectorAll('link[rel=stylesheet]'), function (l) {
    return cg.cfg && l.getAttribute('href').indexOf(cg.cfg.prefix) === 0;
  });
  ls.forEach(function (l) { l.remove(); });
  return ls.length;
})()`)
	if sheets == 0 {
		t.Error("the page has no stylesheet link under the consent prefix; the gateway's hook should add banner.css")
	}
	bare := evalJS[lookLayout](p, lookMeasureJS)
	if d := lookDiff(with, bare); len(d) > 0 {
		t.Errorf("the banner's stylesheet changes the page's layout: measured with the banner shown, then without the banner and its stylesheet:\n\t%s", strings.Join(d, "\n\t"))
	}
}

// lookButton is one first-layer button as the eye sees it.
type lookButton struct {
	Key        string  `json:"key"`
	Label      string  `json:"label"`
	X          float64 `json:"x"`
	Y          float64 `json:"y"`
	W          float64 `json:"w"`
	H          float64 `json:"h"`
	FontSize   string  `json:"fontSize"`
	FontWeight string  `json:"fontWeight"`
	FontFamily string  `json:"fontFamily"`
	Background string  `json:"background"`
	BgImage    string  `json:"bgImage"`
	Color      string  `json:"color"`
	Border     string  `json:"border"`
	Radius     string  `json:"radius"`
	Decoration string  `json:"decoration"`
	Opacity    string  `json:"opacity"`
}

const lookButtonsJS = `['accept_all', 'reject_all', 'settings'].map(function (k) {
  var b = cg.control(cg.first(), k);
  if (!b) return {key: k};
  var r = b.getBoundingClientRect(), s = getComputedStyle(b);
  return {key: k, label: cg.norm(cg.label(b)), x: r.left, y: r.top, w: r.width, h: r.height,
    fontSize: s.fontSize, fontWeight: s.fontWeight, fontFamily: s.fontFamily,
    background: s.backgroundColor, bgImage: s.backgroundImage, color: s.color,
    border: ['Top', 'Right', 'Bottom', 'Left'].map(function (d) {
      return d.toLowerCase() + ' ' + s['border' + d + 'Width'] + ' ' + s['border' + d + 'Style'] + ' ' + s['border' + d + 'Color'];
    }).join(', '),
    radius: s.borderRadius, decoration: s.textDecorationLine, opacity: s.opacity};
})`

func TestFirstLayerButtonsHaveEqualWeight(t *testing.T) {
	p := newPage(t, startShop(t))
	p.open("/")
	p.waitFirstLayer()
	var lightBg string
	for _, scheme := range []string{"light", "dark"} {
		p.emulateMedia(scheme)
		p.waitFor("the page follows prefers-color-scheme: "+scheme, `matchMedia('(prefers-color-scheme: `+scheme+`)').matches`)
		bs := evalJS[[]lookButton](p, lookButtonsJS)
		for _, b := range bs {
			if b.Label == "" {
				t.Fatalf("%s: the first layer has no visible %s button", scheme, b.Key)
			}
		}
		ref := bs[0]
		for _, b := range bs[1:] {
			what := fmt.Sprintf("%s scheme: %q and %q", scheme, b.Label, ref.Label)
			if math.Abs(b.Y-ref.Y) > 1 {
				t.Errorf("%s are not side by side: their tops are %.1fpx and %.1fpx", what, b.Y, ref.Y)
			}
			if math.Abs(b.W-ref.W) > 1 || math.Abs(b.H-ref.H) > 1 {
				t.Errorf("%s differ in size: %.1f×%.1f and %.1f×%.1f", what, b.W, b.H, ref.W, ref.H)
			}
			for _, f := range []struct{ name, a, b string }{
				{"font-size", b.FontSize, ref.FontSize},
				{"font-weight", b.FontWeight, ref.FontWeight},
				{"font-family", b.FontFamily, ref.FontFamily},
				{"background-color", b.Background, ref.Background},
				{"background-image", b.BgImage, ref.BgImage},
				{"color", b.Color, ref.Color},
				{"border", b.Border, ref.Border},
				{"border-radius", b.Radius, ref.Radius},
				{"text-decoration", b.Decoration, ref.Decoration},
				{"opacity", b.Opacity, ref.Opacity},
			} {
				if f.a != f.b {
					t.Errorf("%s do not have equal weight: %s %q and %q", what, f.name, f.a, f.b)
				}
			}
		}
		if len(bs) > 1 && bs[0].X >= bs[1].X {
			t.Logf("%s: note: Accept all is not left of Reject all (x %.0f, %.0f)", scheme, bs[0].X, bs[1].X)
		}
		t.Logf("%s: %q, %q, %q: %.0f×%.0f each at top %.0f, font %s/%s, background %s, text %s, border %s",
			scheme, bs[0].Label, bs[1].Label, bs[2].Label, ref.W, ref.H, ref.Y, ref.FontSize, ref.FontWeight, ref.Background, ref.Color, ref.Border)
		if scheme == "light" {
			lightBg = ref.Background
		} else if ref.Background == lightBg {
			t.Logf("note: the buttons keep the background %s in the dark scheme", ref.Background)
		}
	}
}

// lookContrastJS defines contrast(fg, bg) on computed rgb()/rgba() colours
// (WCAG 2 relative luminance; a translucent foreground is blended over
// the background).
const lookContrastJS = `function parse(c) {
  var m = /rgba?\(([^)]+)\)/.exec(c || '');
  if (!m) return null;
  var v = m[1].split(/[\s,\/]+/).filter(Boolean).map(parseFloat);
  return {r: v[0], g: v[1], b: v[2], a: v.length > 3 ? v[3] : 1};
}
function lum(c) {
  return [c.r, c.g, c.b].map(function (x) {
    x /= 255;
    return x <= 0.04045 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4);
  }).reduce(function (s, x, i) { return s + x * [0.2126, 0.7152, 0.0722][i]; }, 0);
}
function contrast(fg, bg) {
  var f = parse(fg), b = parse(bg);
  if (!f || !b) return 0;
  f = {r: f.r * f.a + b.r * (1 - f.a), g: f.g * f.a + b.g * (1 - f.a), b: f.b * f.a + b.b * (1 - f.a)};
  var l1 = lum(f), l2 = lum(b);
  return (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
}`

type lookTheme struct {
	Theme      map[string]string `json:"theme"`
	Background string            `json:"background"`
	Color      string            `json:"color"`
	Top        float64           `json:"top"`
	Left       float64           `json:"left"`
	Right      float64           `json:"right"`
	Bottom     float64           `json:"bottom"`
	VW         float64           `json:"vw"`
	VH         float64           `json:"vh"`
	Texts      []lookContrast    `json:"texts"`
}

type lookContrast struct {
	What  string  `json:"what"`
	FG    string  `json:"fg"`
	BG    string  `json:"bg"`
	Ratio float64 `json:"ratio"`
	Black float64 `json:"black"` // the ratio #000 would have on bg
	White float64 `json:"white"` // the ratio #fff would have on bg
}

const lookThemeJS = `(function () {
  ` + lookContrastJS + `
  var d = cg.first(), r = d.getBoundingClientRect(), s = getComputedStyle(d);
  function row(what, el, bgEl) {
    var fg = getComputedStyle(el).color, bg = getComputedStyle(bgEl).backgroundColor;
    return {what: what, fg: fg, bg: bg, ratio: contrast(fg, bg),
      black: contrast('rgb(0, 0, 0)', bg), white: contrast('rgb(255, 255, 255)', bg)};
  }
  var texts = ['accept_all', 'reject_all', 'settings'].map(function (k) {
    var b = cg.control(d, k);
    return row('the ' + cg.norm(cg.label(b)) + ' button', b, b);
  });
  var desc = d.querySelector('#' + (d.getAttribute('aria-describedby') || 'cg-desc').split(/\s+/)[0]);
  var title = d.querySelector('#' + (d.getAttribute('aria-labelledby') || 'cg-title').split(/\s+/)[0]);
  if (title) texts.push(row('the title', title, d));
  if (desc) texts.push(row('the text', desc, d));
  var link = d.querySelector('a[href]');
  if (link) texts.push(row('the privacy policy link', link, d));
  return {theme: (cg.cfg && cg.cfg.theme) || {}, background: s.backgroundColor, color: s.color,
    top: r.top, left: r.left, right: r.right, bottom: r.bottom, vw: innerWidth, vh: innerHeight, texts: texts};
})()`

func TestOperatorThemeAndPosition(t *testing.T) {
	bottomLeft := func(th lookTheme) string {
		var bad []string
		if th.VH-th.Bottom >= 50 {
			bad = append(bad, fmt.Sprintf("its bottom is %.0fpx above the bottom of the %.0fpx viewport (want < 50px)", th.VH-th.Bottom, th.VH))
		}
		if th.Left >= 50 {
			bad = append(bad, fmt.Sprintf("its left edge is %.0fpx from the left (want < 50px)", th.Left))
		}
		if th.Right > th.VW/2 {
			bad = append(bad, fmt.Sprintf("its right edge is at %.0fpx, beyond the middle of the %.0fpx viewport", th.Right, th.VW))
		}
		return strings.Join(bad, "; ")
	}
	for _, tc := range []struct {
		name, position, accent string
		where                  func(th lookTheme) string // what is wrong with the placement, or ""
	}{
		{"top", "top", "#ffcc00", func(th lookTheme) string {
			if th.Top >= 50 {
				return fmt.Sprintf("its top is %.0fpx from the top of the viewport (want < 50px)", th.Top)
			}
			return ""
		}},
		{"bottom-left", "bottom-left", "#ffcc00", bottomLeft},
		// A mid-grey accent (relative luminance 0.19): the hardest case for
		// picking black or white text on it.
		{"mid-grey accent", "bottom-left", "#7a7a7a", bottomLeft},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := startShop(t, "banner {", "\tposition "+tc.position, "\tbackground \"#102030\"", "\ttext \"#ffffff\"", "\taccent \""+tc.accent+"\"", "}")
			p := newPage(t, base)
			p.open("/")
			p.waitFirstLayer()
			p.waitFor("animations settle", `document.getAnimations().every(function (a) { return a.playState !== 'running'; })`)
			for _, scheme := range []string{"light", "dark"} {
				p.emulateMedia(scheme)
				th := evalJS[lookTheme](p, lookThemeJS)
				if th.Theme["position"] != tc.position || th.Theme["accent"] != tc.accent {
					t.Fatalf("the config block's theme is %v; the Caddyfile's banner block set position %s and accent %s", th.Theme, tc.position, tc.accent)
				}
				if th.Background != "rgb(16, 32, 48)" {
					t.Errorf("%s scheme: the dialog's background is %s; the operator set #102030 = rgb(16, 32, 48)", scheme, th.Background)
				}
				if th.Color != "rgb(255, 255, 255)" {
					t.Errorf("%s scheme: the dialog's text colour is %s; the operator set #ffffff = rgb(255, 255, 255)", scheme, th.Color)
				}
				if msg := tc.where(th); msg != "" {
					t.Errorf("%s scheme: with position %s the dialog is at left %.0f, top %.0f, right %.0f, bottom %.0f: %s",
						scheme, tc.position, th.Left, th.Top, th.Right, th.Bottom, msg)
				}
				for _, c := range th.Texts {
					if c.Ratio < 4.5 {
						t.Errorf("%s scheme, accent %s: %s has text %s on %s, a contrast of %.2f:1; it must be at least 4.5:1 (on this background black text would give %.2f:1, white %.2f:1)",
							scheme, tc.accent, c.What, c.FG, c.BG, c.Ratio, c.Black, c.White)
					} else {
						t.Logf("%s scheme, accent %s: %s: %s on %s, %.2f:1", scheme, tc.accent, c.What, c.FG, c.BG, c.Ratio)
					}
				}
			}
		})
	}
}

// TestOperatorColoursHoldInTheDarkScheme: an operator who sets only a
// light background gets their theme in the dark scheme too, not the
// built-in dark text colour on it.
func TestOperatorColoursHoldInTheDarkScheme(t *testing.T) {
	p := newPage(t, startShop(t, "banner {", "\tbackground \"#fdf6e3\"", "}"))
	p.open("/")
	p.waitFirstLayer()
	for _, scheme := range []string{"light", "dark"} {
		p.emulateMedia(scheme)
		th := evalJS[lookTheme](p, lookThemeJS)
		if th.Background != "rgb(253, 246, 227)" {
			t.Errorf("%s scheme: the dialog's background is %s; the operator set #fdf6e3 = rgb(253, 246, 227)", scheme, th.Background)
		}
		for _, c := range th.Texts {
			if c.Ratio < 4.5 {
				t.Errorf("%s scheme, background #fdf6e3 alone: %s has text %s on %s, a contrast of %.2f:1; it must be at least 4.5:1",
					scheme, c.What, c.FG, c.BG, c.Ratio)
			}
		}
	}
}

// lookLocale reads one language's texts from banner/locales.
func lookLocale(t *testing.T, lang string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, "banner", "locales", lang+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var texts map[string]string
	if err := json.Unmarshal(data, &texts); err != nil {
		t.Fatalf("banner/locales/%s.json: %v", lang, err)
	}
	return texts
}

// lookShownTexts is what the first layer says.
type lookShownTexts struct {
	Lang, Title, Text, Link, AcceptAll, RejectAll, Settings string
	Clipped                                                 []string
}

func (p *page) lookShownTexts() lookShownTexts {
	p.t.Helper()
	return evalJS[lookShownTexts](p, `(function (d) {
  function txt(sel) { var e = d.querySelector(sel); return e ? cg.norm(e.textContent) : ''; }
  var title = '#' + (d.getAttribute('aria-labelledby') || 'cg-title').split(/\s+/)[0];
  var desc = d.querySelector('#' + (d.getAttribute('aria-describedby') || 'cg-desc').split(/\s+/)[0]);
  var link = desc && desc.querySelector('a');
  var bs = ['accept_all', 'reject_all', 'settings'].map(function (k) { return cg.control(d, k); });
  return {Lang: (cg.cfg && cg.cfg.lang) || '', Title: txt(title), Text: desc ? cg.norm(desc.textContent) : '',
    Link: link ? cg.norm(link.textContent) : '',
    AcceptAll: bs[0] ? cg.norm(bs[0].innerText) : '', RejectAll: bs[1] ? cg.norm(bs[1].innerText) : '',
    Settings: bs[2] ? cg.norm(bs[2].innerText) : '',
    Clipped: bs.filter(function (b) { return b && (b.scrollWidth > b.clientWidth + 1 || b.scrollHeight > b.clientHeight + 1); })
      .map(function (b) { return cg.norm(b.innerText); })};
})(cg.first())`)
}

// lookLanguageMismatch lists where the first layer is not in lang.
func lookLanguageMismatch(got lookShownTexts, lang string, want map[string]string) []string {
	norm := func(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), " ")) }
	var bad []string
	if got.Lang != lang {
		bad = append(bad, fmt.Sprintf("the config block's lang is %q, want %q", got.Lang, lang))
	}
	for _, c := range []struct{ name, got, key string }{
		{"the title", got.Title, "title"},
		{"the Accept all button", got.AcceptAll, "accept_all"},
		{"the Reject all button", got.RejectAll, "reject_all"},
		{"the Settings button", got.Settings, "settings"},
		{"the privacy policy link", got.Link, "policy_link"},
	} {
		if c.got != norm(want[c.key]) {
			bad = append(bad, fmt.Sprintf("%s reads %q; banner/locales/%s.json has %q", c.name, c.got, lang, want[c.key]))
		}
	}
	if !strings.HasPrefix(got.Text, norm(want["text"])) {
		bad = append(bad, fmt.Sprintf("the text reads %q; banner/locales/%s.json has %q", got.Text, lang, want["text"]))
	}
	return bad
}

// lookPageHeaders fetches a page as a browser in that language would and
// returns the headers a cache goes by.
func lookPageHeaders(t *testing.T, url, acceptLanguage string) http.Header {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/html")
	req.Header.Set("Accept-Language", acceptLanguage)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.Header
}

func TestLanguageFromAcceptLanguage(t *testing.T) {
	base := startShop(t)
	cases := []struct{ header, lang string }{
		{"de-DE,de;q=0.9", "de"},
		{"fr", "fr"},
	}
	for _, tc := range cases {
		t.Run(tc.lang, func(t *testing.T) {
			want := lookLocale(t, tc.lang)
			p := newPage(t, base)
			p.setHeaders("Accept-Language", tc.header)
			p.open("/")
			p.waitFirstLayer()
			what := "with Accept-Language: " + tc.header + ", the first layer"
			got := p.lookShownTexts()
			for _, m := range lookLanguageMismatch(got, tc.lang, want) {
				t.Errorf("%s: %s", what, m)
			}
			if len(got.Clipped) > 0 {
				t.Errorf("%s cuts off the labels of these buttons: %v", what, got.Clipped)
			}
			// The language of the banner's text, as assistive technology
			// sees it (informative: the shop's pages say lang=en whatever
			// the banner shows).
			langs := evalJS[map[string]string](p, `(function (d) {
  var own = d.closest('[lang]');
  return {html: document.documentElement.getAttribute('lang') || '', effective: own ? own.getAttribute('lang') : '',
    on: own ? own.tagName.toLowerCase() + (own.className ? '.' + String(own.className).split(' ')[0] : '') : 'nothing'};
})(cg.first())`)
			if eff := strings.ToLower(langs["effective"]); eff == tc.lang || strings.HasPrefix(eff, tc.lang+"-") {
				t.Logf("%s is marked lang=%s (on %s); html lang=%q", what, langs["effective"], langs["on"], langs["html"])
			} else {
				t.Logf("%s: NOTE: shows %s texts, but neither the dialog nor an ancestor says so: the nearest lang attribute is %q (on %s), so a screen reader reads them as the page's language",
					what, tc.lang, langs["effective"], langs["on"])
			}
		})
	}

	// The same browser, its language changed: the page follows. The page
	// a visitor gets depends on Accept-Language, so a browser's (or any
	// shared) cache must not hand out the page made for another language.
	t.Run("same browser, language changed", func(t *testing.T) {
		p := newPage(t, base)
		for _, tc := range cases {
			p.setHeaders("Accept-Language", tc.header)
			p.open("/")
			p.waitFirstLayer()
			bad := lookLanguageMismatch(p.lookShownTexts(), tc.lang, lookLocale(t, tc.lang))
			if len(bad) == 0 {
				continue
			}
			de, fr := lookPageHeaders(t, base+"/", cases[0].header), lookPageHeaders(t, base+"/", cases[1].header)
			t.Errorf("after switching the browser to Accept-Language: %s, the home page still shows the banner of the language before (%s).\n"+
				"The gateway's page depends on Accept-Language, but its response says Vary: %q, Cache-Control: %q, Last-Modified: %q, "+
				"and the ETag is %q for de and %q for fr, so the browser serves the page it cached for the other language",
				tc.header, strings.Join(bad[:min(2, len(bad))], "; "), strings.Join(de.Values("Vary"), ", "), de.Get("Cache-Control"), de.Get("Last-Modified"),
				de.Get("Etag"), fr.Get("Etag"))
			return
		}
	})
}

// TestDefaultLanguageFromCaddyfile: the Caddyfile's default_language is
// what a browser asking for no language the banner has gets; a language
// it has still wins.
func TestDefaultLanguageFromCaddyfile(t *testing.T) {
	p := newPage(t, startShop(t, "default_language de"))
	for _, tc := range []struct{ header, lang string }{
		{"ja", "de"},
		{"fr", "fr"},
	} {
		p.setHeaders("Accept-Language", tc.header)
		p.open("/")
		p.waitFirstLayer()
		for _, m := range lookLanguageMismatch(p.lookShownTexts(), tc.lang, lookLocale(t, tc.lang)) {
			t.Errorf("with default_language de and Accept-Language: %s, the first layer must be in %s: %s", tc.header, tc.lang, m)
		}
	}
}

// disableScripts turns JavaScript off in the page's tab.
func (p *page) disableScripts() {
	p.do(chromedp.Func(func(ctx context.Context, tt *chromedp.Target) error {
		_, err := cdp.Call(ctx, tt, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		return err
	}))
}

// submitNoscript clicks a button (by its value) of the no-JavaScript form
// and waits until the browser is back at path.
func (p *page) submitNoscript(value, path string) {
	p.t.Helper()
	navs := p.navigations()
	p.click("the no-JavaScript form's "+value+" button", `document.querySelector('form.cg-noscript button[value=`+value+`]')`)
	if err := p.pollGo(func() bool { return p.navigations() > navs }); err != nil {
		p.t.Fatalf("clicking %s in the no-JavaScript form: the browser did not navigate: %v", value, err)
	}
	p.waitFor("the browser comes back to "+path+" after the form post", `document.readyState === 'complete' && location.pathname === `+strconv.Quote(path))
	p.waitIdle()
}

// TestWithdrawWithoutJavaScript: a visitor without JavaScript who accepted
// everything in the no-JavaScript form finds a form to withdraw on every
// page after; withdrawing there stops the embeds, and the form then offers
// to accept again.
func TestWithdrawWithoutJavaScript(t *testing.T) {
	p := newPage(t, startShop(t))
	p.disableScripts()
	p.open("/index.html")
	p.submitNoscript("accept_all", "/index.html")
	p.waitHosts("without JavaScript, after Accept all, the home page's YouTube frame loads", "www.youtube.com")
	p.open("/product.html")
	if !evalJS[bool](p, `!!document.querySelector('form.cg-noscript button[value=withdraw]') && cg.shown(document.querySelector('form.cg-noscript'))`) {
		t.Fatal("without JavaScript, after Accept all, another page shows no form to withdraw consent")
	}
	if evalJS[bool](p, `!!document.querySelector('form.cg-noscript button[value=accept_all]')`) {
		t.Error("without JavaScript, with everything allowed, the form still offers Accept all")
	}
	p.submitNoscript("withdraw", "/product.html")
	p.forgetRequests()
	p.open("/index.html")
	p.waitIdle()
	p.expectNoThirdParty("without JavaScript, after withdrawing in the form")
	if !evalJS[bool](p, `!!document.querySelector('form.cg-noscript button[value=accept_all]') && !document.querySelector('form.cg-noscript button[value=withdraw]')`) {
		t.Error("after withdrawing, with nothing allowed, the page must offer Accept all again and nothing to withdraw")
	}
}

func TestWithoutJavaScript(t *testing.T) {
	p := newPage(t, startShop(t))
	p.disableScripts()
	const path, query = "/product.html", "?id=3"
	docs := p.lookWatchDocuments()
	p.open(path + query)

	// The page's scripts do not run: the banner script defines no API and
	// shows no dialog.
	if evalJS[bool](p, `typeof window.consentgate !== 'undefined' || typeof window.__consentgate !== 'undefined'`) {
		t.Fatal("with script execution disabled, the banner's or the shim's script ran anyway (window.consentgate or window.__consentgate is defined)")
	}
	if n := evalJS[int](p, `cg.dialogs().length`); n != 0 {
		t.Errorf("without JavaScript, %d consent dialog(s) are shown; only the no-JavaScript form can be", n)
	}

	// The <noscript> content is rendered: the form is an element, visible,
	// with the two buttons.
	const form = `document.querySelector('form.cg-noscript')`
	type nsForm struct {
		Found   bool     `json:"found"`
		Shown   bool     `json:"shown"`
		Action  string   `json:"action"`
		Method  string   `json:"method"`
		Return  string   `json:"ret"`
		Buttons []string `json:"buttons"`
		Text    string   `json:"text"`
	}
	f := evalJS[nsForm](p, `(function (f) {
  if (!f) return {found: false};
  var ret = f.querySelector('input[name=return]');
  return {found: true, shown: cg.shown(f), action: f.getAttribute('action'), method: f.method, ret: ret ? ret.value : '',
    buttons: Array.prototype.map.call(f.querySelectorAll('button'), function (b) { return b.value + '=' + cg.norm(b.textContent); }),
    text: cg.norm(f.innerText)};
})(`+form+`)`)
	if !f.Found {
		raw := evalJS[string](p, `(function (n) { return n ? n.outerHTML.slice(0, 300) : 'no <noscript> element'; })(document.querySelector('noscript'))`)
		t.Fatalf("without JavaScript the page has no rendered form.cg-noscript (the <noscript> content is not parsed as markup?): %s", raw)
	}
	if !f.Shown {
		t.Fatal("without JavaScript the no-JavaScript consent form is in the page but not visible")
	}
	t.Logf("the no-JavaScript form: %s %s, return=%q, buttons %v, text %q", f.Method, f.Action, f.Return, f.Buttons, abbreviate(f.Text))
	if f.Return != path+query {
		t.Errorf("the form's return field is %q; it should send the visitor back to %s", f.Return, path+query)
	}

	// No third party may load (the product page's Klarna messaging is marketing).
	p.expectNoThirdParty("without JavaScript, before any choice")
	if cs := p.cookies(); len(cs) > 0 {
		t.Errorf("without JavaScript, before any choice, the browser holds the cookies %v", cookieNames(cs))
	}

	// A real click on Reject all posts the form and comes back.
	navs := p.navigations()
	p.click("the no-JavaScript form's Reject all button", form+`.querySelector('button[value=reject_all]')`)
	if err := p.pollGo(func() bool { return p.navigations() > navs }); err != nil {
		t.Fatalf("clicking Reject all in the no-JavaScript form: the browser did not navigate: %v", err)
	}
	p.waitFor("the browser comes back to the page after the form post", `document.readyState === 'complete' && location.pathname !== '/.consent/choice'`)
	p.waitIdle()
	loc := evalJS[map[string]string](p, `{pathname: location.pathname, search: location.search, text: cg.norm(document.body ? document.body.innerText : '').slice(0, 200)}`)
	if loc["pathname"] != path || loc["search"] != query {
		t.Fatalf("after Reject all in the no-JavaScript form the browser is at %s%s (%q); it should come back to %s%s",
			loc["pathname"], loc["search"], loc["text"], path, query)
	}
	if c := findCookie(p.cookies(), "consentgate"); c == nil {
		t.Errorf("after Reject all in the no-JavaScript form the browser holds no consent cookie; it holds %v", cookieNames(p.cookies()))
	} else if !c.HTTPOnly {
		t.Errorf("the consent cookie set by the form post is not HttpOnly")
	}
	// Once decided, the form to change the choice replaces the choice's
	// (no Reject all: Accept all alone after a refusal).
	stale := evalJS[bool](p, `document.querySelector('form.cg-noscript button[value=reject_all]') !== null || Array.prototype.some.call(document.querySelectorAll('noscript'), function (n) { return n.innerHTML.indexOf('value="reject_all"') >= 0; })`)
	if stale {
		// Is it the gateway's page or a stale copy? Ask the gateway with
		// the browser's cookies.
		fresh := "could not ask"
		if c := findCookie(p.cookies(), "consentgate"); c != nil {
			req, _ := http.NewRequest(http.MethodGet, p.base+path+query, nil)
			req.Header.Set("Accept", "text/html")
			req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
			if resp, err := http.DefaultClient.Do(req); err == nil {
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				fresh = fmt.Sprintf("%d, ETag %s, with the choice form: %v", resp.StatusCode, resp.Header.Get("Etag"), strings.Contains(string(body), `value="reject_all"`))
			}
		}
		t.Errorf("after Reject all the page the browser came back to still shows the no-JavaScript consent form, though the visitor has decided.\n"+
			"The browser's requests for documents:\n\t%s\nThe gateway's page for the same URL with the new consent cookie: %s",
			strings.Join(docs.lines(), "\n\t"), fresh)
	}
	if cfg := p.config(); !cfg.State.Decided && !stale {
		t.Errorf("after Reject all in the no-JavaScript form the page's config says the visitor has not decided: %+v", cfg.State)
	} else {
		for id, on := range cfg.State.Purposes {
			if on && id != "necessary" {
				t.Errorf("after Reject all the purpose %s is granted", id)
			}
		}
	}
	p.expectNoThirdParty("without JavaScript, after Reject all")
	if !evalJS[bool](p, `!!document.querySelector('form.cg-noscript button[value=accept_all]') && !document.querySelector('form.cg-noscript button[value=withdraw]')`) {
		t.Error("without JavaScript, after Reject all, the page must offer Accept all (and nothing to withdraw) to change the choice")
	}
}

// lookDocLog records the browser's document requests to the gateway and
// their answers (status, ETag, If-None-Match), for messages.
type lookDocLog struct {
	base string
	mu   sync.Mutex
	ids  map[network.RequestID]bool
	evs  []lookDocEvent
}

type lookDocEvent struct {
	id   network.RequestID
	text string
}

func (p *page) lookWatchDocuments() *lookDocLog {
	l := &lookDocLog{base: p.base, ids: map[network.RequestID]bool{}}
	chromedp.Listen(p.tab, func(ev any) {
		l.mu.Lock()
		defer l.mu.Unlock()
		switch e := ev.(type) {
		case *network.EventRequestWillBeSent:
			if e.Type == network.ResourceTypeDocument && strings.HasPrefix(e.Request.URL, l.base) {
				l.ids[e.RequestID] = true
				if r := e.RedirectResponse; r != nil {
					l.evs = append(l.evs, lookDocEvent{e.RequestID, fmt.Sprintf("<- %d, Location %v", r.Status, r.Headers["Location"])})
				}
				l.evs = append(l.evs, lookDocEvent{e.RequestID, "-> " + e.Request.Method + " " + strings.TrimPrefix(e.Request.URL, l.base)})
			}
		case *network.EventRequestWillBeSentExtraInfo:
			if v, ok := e.Headers["If-None-Match"]; ok {
				l.evs = append(l.evs, lookDocEvent{e.RequestID, fmt.Sprintf("   with If-None-Match: %v", v)})
			}
		case *network.EventResponseReceivedExtraInfo:
			if e.StatusCode >= 300 && e.StatusCode < 400 && e.StatusCode != 304 {
				return // shown with the redirect
			}
			l.evs = append(l.evs, lookDocEvent{e.RequestID, fmt.Sprintf("<- %d, ETag %v", e.StatusCode, e.Headers["Etag"])})
		case *network.EventResponseReceived:
			if e.Type == network.ResourceTypeDocument && e.Response.FromDiskCache {
				l.evs = append(l.evs, lookDocEvent{e.RequestID, "<- served from the browser's cache"})
			}
		}
	})
	return l
}

func (l *lookDocLog) lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, e := range l.evs {
		if l.ids[e.id] {
			out = append(out, e.text)
		}
	}
	return out
}

// lookMotion is the motion of one part of the banner.
type lookMotion struct {
	What       string `json:"what"`
	Transition string `json:"transition"` // transition-property transition-duration
	Duration   string `json:"duration"`   // transition-duration
	Animation  string `json:"animation"`  // animation-name animation-duration
	AnimDur    string `json:"animDur"`    // animation-duration
	Running    int    `json:"running"`    // animations of the element now
}

const lookMotionJS = `(function () {
  var d = cg.dialogs()[0];
  if (!d) return [];
  var parts = [['the dialog', d, null]];
  var back = d.parentElement;
  while (back && back !== document.body) {
    var cs = getComputedStyle(back);
    if (cs.position === 'fixed') { parts.push(['the backdrop (' + back.className + ')', back, null]); break; }
    back = back.parentElement;
  }
  cg.controls(d).forEach(function (b) { parts.push(['button "' + cg.norm(cg.label(b)) + '"', b, null]); });
  cg.toggles(d).forEach(function (s) {
    parts.push(['switch ' + (s.id || ''), s, null]);
    parts.push(['switch ' + (s.id || '') + '::before', s, '::before']);
  });
  return parts.map(function (x) {
    var s = getComputedStyle(x[1], x[2]);
    return {what: x[0], transition: s.transitionProperty + ' ' + s.transitionDuration, duration: s.transitionDuration,
      animation: s.animationName + ' ' + s.animationDuration, animDur: s.animationDuration,
      running: x[2] ? 0 : x[1].getAnimations().length};
  });
})()`

// lookZero reports whether every duration of a computed list ("0s, 0.2s") is 0.
func lookZero(list string) bool {
	for _, d := range strings.Split(list, ",") {
		d = strings.TrimSpace(d)
		if d != "0s" && d != "0ms" {
			return false
		}
	}
	return true
}

func TestReducedMotion(t *testing.T) {
	p := newPage(t, startShop(t))

	// Without a preference: report what moves.
	p.lookEmulate("light", "no-preference")
	p.open("/")
	p.waitFirstLayer()
	for _, m := range evalJS[[]lookMotion](p, lookMotionJS) {
		t.Logf("no motion preference, first layer: %s: transition %s, animation %s", m.What, m.Transition, m.Animation)
	}
	p.openSettings()
	for _, m := range evalJS[[]lookMotion](p, lookMotionJS) {
		if !lookZero(m.Duration) || !lookZero(m.AnimDur) {
			t.Logf("no motion preference, second layer: %s: transition %s, animation %s", m.What, m.Transition, m.Animation)
		}
	}

	// Reduced: nothing of the banner moves, from the moment it appears.
	p.lookEmulate("light", "reduce")
	p.open("/")
	p.waitFirstLayer()
	check := func(layer string) {
		t.Helper()
		ms := evalJS[[]lookMotion](p, lookMotionJS)
		if len(ms) < 4 {
			t.Fatalf("%s: found only %v of the dialog, backdrop and buttons", layer, ms)
		}
		hasBackdrop := false
		for _, m := range ms {
			hasBackdrop = hasBackdrop || strings.HasPrefix(m.What, "the backdrop")
			if !lookZero(m.Duration) {
				t.Errorf("prefers-reduced-motion: reduce, %s: %s has a transition (%s); its transition-duration must be 0s", layer, m.What, m.Transition)
			}
			if !lookZero(m.AnimDur) {
				t.Errorf("prefers-reduced-motion: reduce, %s: %s has an animation (%s); its animation-duration must be 0s", layer, m.What, m.Animation)
			}
			if m.Running > 0 {
				t.Errorf("prefers-reduced-motion: reduce, %s: %s has %d animation(s) running", layer, m.What, m.Running)
			}
		}
		if !hasBackdrop {
			t.Errorf("%s: found no fixed backdrop around the dialog to check", layer)
		}
	}
	check("first layer")
	p.openSettings()
	check("second layer")
	p.click("the Analytics switch", `cg.toggle(cg.second(), 'analytics')`)
	p.waitFor("the Analytics switch turns on", `cg.checked(cg.toggle(cg.second(), 'analytics'))`)
	if n := evalJS[int](p, `document.getAnimations().filter(function (a) {
  var t = a.effect && a.effect.target; return t && t.closest && t.closest('[role=dialog]');
}).length`); n > 0 {
		t.Errorf("prefers-reduced-motion: reduce: switching a purpose on starts %d animation(s) or transition(s) in the dialog", n)
	}
}

// showVendorsOf opens the home page's second layer and a purpose's list of
// services, and waits for its entries.
func (p *page) showVendorsOf(purpose string) {
	p.t.Helper()
	p.open("/")
	p.waitFirstLayer()
	p.openSettings()
	p.click("the "+purpose+" purpose's Show services button", `document.querySelector('button[aria-controls="cg-v-`+purpose+`"]')`)
	p.waitFor("the "+purpose+" entries appear", `document.querySelectorAll('#cg-v-`+purpose+` .cg-vendor').length > 0`)
}

// TestSecondLayerShowsEachVendor: a purpose opens to its vendors as the
// catalogue describes them: name, company, country, what they do, their
// cookies with lifetimes, and their privacy policy (opening elsewhere,
// without the page's referrer).
func TestSecondLayerShowsEachVendor(t *testing.T) {
	p := newPage(t, startShop(t))
	p.showVendorsOf("analytics")
	type vendor struct {
		Text, Href, Rel, Target string
	}
	ga := evalJS[vendor](p, `(function () {
  var v = Array.prototype.filter.call(document.querySelectorAll('#cg-v-analytics .cg-vendor'), function (li) {
    return li.querySelector('h4').textContent === 'Google Analytics';
  })[0];
  if (!v) return {};
  var a = v.querySelector('a');
  return {text: v.textContent.replace(/\s+/g, " "), href: a && a.href, rel: a && a.rel, target: a && a.target};
})()`)
	for _, want := range []string{"Google Analytics", "Google Ireland Limited", "Ireland", "random ID", "_ga – " + "Lifetime: 2 years", "_gid – Lifetime: 1 day"} {
		if !strings.Contains(ga.Text, want) {
			t.Errorf("the Google Analytics entry lacks %q: %q", want, ga.Text)
		}
	}
	if ga.Href != "https://policies.google.com/privacy" || !strings.Contains(ga.Rel, "noopener") || !strings.Contains(ga.Rel, "noreferrer") || ga.Target != "_blank" {
		t.Errorf("the privacy policy link: %+v", ga)
	}
	if marketing := evalJS[int](p, `document.querySelectorAll('#cg-v-marketing .cg-vendor').length`); marketing != 0 {
		t.Errorf("a closed purpose shows %d vendors", marketing)
	}
}

// TestSecondLayerShowsTheConsentCookie: "Strictly necessary" opens to the
// site itself first, with the consent cookie and its lifetime, so the
// visitor is told of the cookie that keeps the choice too.
func TestSecondLayerShowsTheConsentCookie(t *testing.T) {
	p := newPage(t, startShop(t))
	p.showVendorsOf("necessary")
	first := evalJS[string](p, `document.querySelector('#cg-v-necessary .cg-vendor').textContent.replace(/\s+/g, " ")`)
	for _, want := range []string{"This site", "Remembers your privacy choice", "consentgate – Lifetime: 210 days"} {
		if !strings.Contains(first, want) {
			t.Errorf("the first necessary entry lacks %q: %q", want, first)
		}
	}
}

// TestWithoutJavaScriptUnderAForeignBase: a page whose <base href> names
// another host (a CDN) still gets the no-JavaScript form, with its action
// and privacy link on the site itself rather than resolved against the
// base, and Accept all in it posts to the gateway, not to the CDN.
func TestWithoutJavaScriptUnderAForeignBase(t *testing.T) {
	base := startCSPSite(t, "object-src 'none'", `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>CDN base</title>`+
		`<base href="https://static.cdn-example.net/assets/"></head><body><main><h1>CDN base</h1></main></body></html>`)
	p := newPage(t, base)
	p.do(chromedp.Func(func(ctx context.Context, tt *chromedp.Target) error {
		_, err := cdp.Call(ctx, tt, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		return err
	}))
	p.open("/?from=cdn")
	const form = `document.querySelector('form.cg-noscript')`
	got := evalJS[map[string]string](p, `(function (f) {
  if (!f) return {found: 'no'};
  var a = f.querySelector('a');
  // (f.action would be the button named "action")
  return {found: 'yes', action: new URL(f.getAttribute('action'), document.baseURI).href, policy: a ? a.href : '', ret: f.querySelector('input[name=return]').value};
})(`+form+`)`)
	if got["found"] != "yes" {
		t.Fatal("under a <base href> naming another host, the page has no no-JavaScript consent form")
	}
	if got["action"] != base+"/.consent/choice" || got["policy"] != base+"/privacy.html" || got["ret"] != "/?from=cdn" {
		t.Errorf("the form posts to %q, links the privacy policy at %q and returns to %q; want %s/.consent/choice, %s/privacy.html and /?from=cdn",
			got["action"], got["policy"], got["ret"], base, base)
	}
	navs := p.navigations()
	p.click("the no-JavaScript form's Accept all button", form+`.querySelector('button[value=accept_all]')`)
	if err := p.pollGo(func() bool { return p.navigations() > navs }); err != nil {
		t.Fatalf("clicking Accept all in the no-JavaScript form: the browser did not navigate: %v", err)
	}
	p.waitFor("the browser comes back to the page after the form post", `document.readyState === 'complete' && location.pathname === '/' && location.search === '?from=cdn'`)
	if c := findCookie(p.cookies(), "consentgate"); c == nil {
		t.Errorf("after Accept all in the no-JavaScript form the browser holds no consent cookie; it holds %v", cookieNames(p.cookies()))
	}
	p.expectNoThirdParty("without JavaScript, under a foreign base, through Accept all") // the post did not go to the CDN
}

// TestSecondLayerInHighContrastAndAt400Percent: under forced colours
// (Windows' high contrast), which replace background colours, a switch
// still shows whether it is on; at 320 CSS pixels wide (400 % zoom) a
// vendor's details, long cookie names among them, wrap inside the dialog
// instead of running off its side.
func TestSecondLayerInHighContrastAndAt400Percent(t *testing.T) {
	p := newPage(t, startShop(t))
	p.do(chromedp.Func(func(ctx context.Context, tt *chromedp.Target) error {
		_, err := cdp.Call(ctx, tt, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Features: []*emulation.MediaFeature{
			{Name: "forced-colors", Value: "active"},
			{Name: "prefers-reduced-motion", Value: "reduce"},
		}})
		return err
	}), chromedp.EmulateViewport(320, 256))
	p.open("/")
	p.waitFirstLayer()
	p.openSettings()

	type look struct{ Track, Knob string }
	sw := `cg.toggle(cg.second(), 'analytics')`
	lookOf := func() look {
		return evalJS[look](p, `(function (s) { return {track: getComputedStyle(s).backgroundColor, knob: getComputedStyle(s, '::before').backgroundColor}; })(`+sw+`)`)
	}
	off := lookOf()
	p.click("the Analytics switch", sw)
	p.waitFor("the Analytics switch is on", `cg.checked(`+sw+`)`)
	on := lookOf()
	if off.Knob == off.Track || on.Knob == on.Track || on.Track == off.Track {
		t.Errorf("in forced colours a switch does not show its state: off %+v, on %+v", off, on)
	}

	p.click("the functional purpose's Show services button", `document.querySelector('button[aria-controls="cg-v-functional"]')`)
	p.waitFor("the functional vendors appear", `document.querySelectorAll('#cg-v-functional .cg-vendor').length > 0`)
	if over := evalJS[[]string](p, `(function () {
  var out = [], d = cg.second();
  if (d.scrollWidth > d.clientWidth) out.push('the dialog: ' + d.scrollWidth + ' > ' + d.clientWidth);
  document.querySelectorAll('#cg-v-functional .cg-vendor').forEach(function (v) {
    if (v.scrollWidth > v.clientWidth) out.push(v.querySelector('h4').textContent + ': ' + v.scrollWidth + ' > ' + v.clientWidth);
  });
  return out;
})()`); len(over) > 0 {
		t.Errorf("at 320 CSS pixels, vendor details run off the side: %v", over)
	}
}

// shownLanguages is the language (and direction) that the banner, the
// YouTube placeholder and its Load this once button, and the form for
// visitors without JavaScript (parsed as such a browser does) say they
// are in; NoscriptText is the language of the form's "Without
// JavaScript" sentence, Held that of the placeholder of a YouTube frame
// the page added at run time (which the shim holds).
type shownLanguages struct {
	Banner, BannerDir, Placeholder, PlaceholderDir, LoadOnce, Form, FormDir, NoscriptText, Held, HeldDir string
}

const shownLanguagesJS = `(function () {
  function lang(e) { var l = e && e.closest('[lang]'); return l ? l.lang : ''; }
  function dir(e) { var l = e && e.closest('[dir]'); return l ? l.dir : ''; }
  var f = ` + youtubeFrame + `, d = f && f.contentDocument, ph = d && d.querySelector('p');
  var once = d && [].filter.call(d.querySelectorAll('button'), function (b) { return b.textContent === cg.texts.load_once; })[0];
  var ns = document.querySelector('noscript'), form = ns && new DOMParser().parseFromString(ns.textContent, 'text/html').querySelector('form');
  var sentence = form && [].filter.call(form.querySelectorAll('p, p *'), function (e) { return e.textContent === cg.texts.noscript; })[0];
  var held = document.getElementById('rt-yt'), hp = held && held.contentDocument && held.contentDocument.querySelector('p');
  return {Held: lang(hp), HeldDir: dir(hp), Banner: lang(cg.first()), BannerDir: dir(cg.first()), Placeholder: lang(ph), PlaceholderDir: dir(ph),
    LoadOnce: lang(once), Form: lang(form), FormDir: dir(form), NoscriptText: lang(sentence || (form && form.querySelector('p')))};
})()`

// TestPlaceholdersAndFormNameTheirLanguage: the placeholders of blocked
// embeds and the form for visitors without JavaScript name the language
// of the text they show (the banner's, not the page's), the language of
// a text an operator's own language lacks being that of the stand-in
// text, and a right-to-left language its direction.
func TestPlaceholdersAndFormNameTheirLanguage(t *testing.T) {
	base := startShop(t,
		`text ar title "إعدادات الخصوصية"`,
		`text ar text "نستخدم خدمات شركات أخرى للإحصاءات والتسويق والمحتوى المضمن."`,
		`text ar accept_all "قبول الكل"`,
		`text ar reject_all "رفض الكل"`,
		`text ar settings "الإعدادات"`,
		`text ar placeholder "هذا المحتوى مقدم من %s (الغرض: %s) ولا يُحمّل إلا بموافقتك."`)
	for _, tc := range []struct {
		accept string
		want   shownLanguages
	}{
		{"de-DE,de;q=0.9", shownLanguages{Banner: "de", Placeholder: "de", LoadOnce: "de", Form: "de", NoscriptText: "de", Held: "de"}},
		// The operator's Arabic lacks load_once and noscript: those are
		// shown in English, and say so.
		{"ar", shownLanguages{Banner: "ar", BannerDir: "rtl", Placeholder: "ar", PlaceholderDir: "rtl", LoadOnce: "en",
			Form: "ar", FormDir: "rtl", NoscriptText: "en", Held: "ar", HeldDir: "rtl"}},
	} {
		t.Run(tc.accept, func(t *testing.T) {
			p := newPage(t, base)
			p.setHeaders("Accept-Language", tc.accept)
			p.open("/")
			p.waitFirstLayer()
			p.waitPlaceholderButton("the YouTube placeholder's Load this once button", youtubeFrame, loadOnceLabel)
			p.do(chromedp.Evaluate[chromedp.Void](`(function () { var y = document.createElement('iframe');
  y.id = 'rt-yt'; y.title = 'YouTube video'; y.src = 'https://www.youtube.com/embed/M7lc1UVf-VE'; document.body.appendChild(y); })()`))
			p.waitPlaceholderButton("the run-time YouTube frame's Load this once button", `document.getElementById('rt-yt')`, loadOnceLabel)
			if got := evalJS[shownLanguages](p, shownLanguagesJS); got != tc.want {
				t.Errorf("Accept-Language %s: the languages named are %+v, want %+v", tc.accept, got, tc.want)
			}
		})
	}
}

// TestErrorsSpeakTheVisitorsLanguage: when the gateway cannot be reached
// (stopped here, after the page loaded), the list of services that does
// not load and the choice that is not saved are said in the visitor's
// language, not as a bare sign or the server's English.
func TestErrorsSpeakTheVisitorsLanguage(t *testing.T) {
	de := lookLocale(t, "de")
	quoted := func(s string) string {
		b, _ := json.Marshal(s)
		return string(b)
	}
	p := newPage(t, startShop(t))
	p.setHeaders("Accept-Language", "de")
	p.open("/imprint.html") // no embeds: nothing has loaded the list of services yet
	p.waitFirstLayer()
	p.openSettings()
	gatewaytest.Stop(t)

	p.click("the analytics purpose's Show services button", `document.querySelector('button[aria-controls="cg-v-analytics"]')`)
	p.waitFor("the list of services says in German that it could not be loaded",
		`document.getElementById('cg-v-analytics').textContent === "⚠ " + `+quoted(de["error_details"]))
	p.click("the second layer's Accept all button", "cg.control(cg.second(), 'accept_all')")
	p.waitFor("the dialog says in German that the choice was not saved",
		`(document.querySelector('.cg-err') || {}).textContent === "⚠ " + `+quoted(de["error_choice"]))
}
