package browsertest

import (
	"fmt"
	"testing"
)

// runtimeCSS is page code that loads trackers through CSS it sets at run
// time, and through the media, font and connection constructors. Each asks
// for its own f=N. No tracker host is written whole, so that only the shim,
// not the gateway's reading of the page, can catch them.
const runtimeCSS = `var fb = 'https://www.face' + 'book.com/tr?f=', main = document.querySelector('main');
function box(id) { var e = document.createElement('div'); e.id = id; e.className = 'b'; main.appendChild(e); return e; }
// lite-youtube-embed's thumbnail, as its connectedCallback sets it.
customElements.define('lite-youtube', class extends HTMLElement {
  connectedCallback() { this.style.backgroundImage = 'url("https://i.yt' + 'img.com/vi/' + this.getAttribute('videoid') + '/hqdefault.jpg?f=201")'; }
});
box('s202').style.background = '#000 url(' + fb + '202) no-repeat';
box('s203').style.setProperty('background-image', 'url("' + fb + '203")');
box('s204').style.cssText = 'width: 6px; background-image: url(' + fb + '204)';
box('s205').setAttribute('style', 'width: 6px; background-image: url(' + fb + '205)');
box('s206').style = 'background-image: url(' + fb + '206)';
box('s207').style['background-image'] = 'image-set("' + fb + '207" 1x)';
box('s208').attributeStyleMap.set('background-image', 'url(' + fb + '208)');
var st = document.createElement('style');
document.head.appendChild(st);
st.sheet.insertRule('#s209 { background-image: url(' + fb + '209) }', 0);
st.sheet.cssRules[st.sheet.insertRule('@media all {}', 1)].insertRule('#s210 { background-image: url(' + fb + '210) }', 0);
box('s209'); box('s210');
var tn = document.createElement('style');
document.head.appendChild(tn);
tn.appendChild(document.createTextNode('@import url(https://fonts.goog' + 'leapis.com/css2?family=Roboto&f=211);\n#s212 { background-image: url(' + fb + '212) }'));
box('s212');
var tc = document.createElement('style');
document.head.appendChild(tc);
tc.textContent = '#s213 { background-image: url(' + fb + '213) }';
box('s213');
var cs = new CSSStyleSheet();
cs.replaceSync('#s214 { background-image: url(' + fb + '214) }');
document.adoptedStyleSheets = [cs];
new CSSStyleSheet().replace('#s215 { background-image: url(' + fb + '215) }').then(function (s) {
  document.adoptedStyleSheets = document.adoptedStyleSheets.concat([s]);
});
box('s214'); box('s215');
var ff = new FontFace('cgfont', 'url(https://fonts.gst' + 'atic.com/s/cg.woff2?f=216) format("woff2")');
document.fonts.add(ff);
ff.load().catch(function () {});
box('s216').style.fontFamily = 'cgfont';
window.__audio = new Audio(fb + '217');
try { new EventSource(fb + '218'); window.__es = 'made'; } catch (e) { window.__es = e.name; }
try { new WebSocket('wss://www.face' + 'book.com/ws?f=219'); window.__ws = 'made'; } catch (e) { window.__ws = e.name; }
var h = document.createElement('div');
h.innerHTML = '<div id="s220" class="b" style="background-image: url(' + fb + '220)"></div>' +
  '<style>#s221 { background-image: url(' + fb + '221) }</style><div id="s221" class="b"></div>';
main.appendChild(h);
// The site's own image and an unknown third party's load at once.
box('own').style.backgroundImage = 'url(/own.gif)';
box('other').style.backgroundImage = 'url(https://cdn.example.org/x.gif?f=231)';`

// runtimeCSSQueries are the requests runtimeCSS makes once allowed.
var runtimeCSSQueries = []string{"f=201", "f=202", "f=203", "f=204", "f=205", "f=206", "f=207", "f=208", "f=209",
	"f=210", "f=211", "f=212", "f=213", "f=214", "f=215", "f=216", "f=217", "f=220", "f=221"}

// TestRuntimeCSSWaitsForConsent: page code that sets CSS at run time (an
// element's style properties as lite-youtube-embed sets its thumbnail,
// setProperty, cssText, the style attribute and property, Typed OM, rules
// inserted into a sheet and into its @media, a style element's text node
// and text, constructed sheets, markup with a style attribute and element),
// and new FontFace, new Audio, new EventSource and new WebSocket, contacts
// no tracker before consent, while the rest of its style and the site's own
// and an unknown third party's images apply at once. After Accept all,
// everything held loads in place, without a reload; a connection that
// was refused can then be opened.
func TestRuntimeCSSWaitsForConsent(t *testing.T) {
	p := openServed(t, `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Run-time CSS</title>`+
		`<style>.b, lite-youtube { display: block; width: 8px; height: 8px; font-size: 8px }</style></head>`+
		`<body><main><h1>CSS set at run time</h1><lite-youtube id="ly" videoid="ogfYd705cRs"></lite-youtube></main>`+
		`<script>`+runtimeCSS+`</script></body></html>`)
	p.waitQueries("before consent, an unknown third party's image set in a style loads at once", "f=231")
	p.waitIdle()
	p.expectOnlyThirdParty("before consent, with trackers loaded through CSS set at run time", "cdn.example.org")
	for what, cond := range map[string]string{
		"the rest of a held cssText applies at once":            `getComputedStyle(document.getElementById('s204')).width === '6px'`,
		"the rest of a held style attribute applies at once":    `getComputedStyle(document.getElementById('s205')).width === '6px'`,
		"the site's own image set in a style applies at once":   `/\/own\.gif/.test(getComputedStyle(document.getElementById('own')).backgroundImage)`,
		"the lite-youtube thumbnail is held":                    `!/url\("https:\/\/i\.ytimg/.test(getComputedStyle(document.getElementById('ly')).backgroundImage)`,
		"new EventSource to a tracker fails with SecurityError": `window.__es === 'SecurityError'`,
		"new WebSocket to a tracker fails with SecurityError":   `window.__ws === 'SecurityError'`,
	} {
		if !evalJS[bool](p, cond) {
			t.Errorf("before consent: %s", what)
		}
	}

	p.watchChanges()
	navs := p.navigations()
	p.clickFirstLayer("accept_all", "Accept all")
	p.waitBannerGone()
	p.waitQueries("after Accept all, what the page loads through run-time CSS, fonts and media loads", runtimeCSSQueries...)
	p.waitFor("after Accept all, the lite-youtube thumbnail shows",
		`/^url\("https:\/\/i\.ytimg\.com\/vi\/ogfYd705cRs\/hqdefault\.jpg\?f=201"\)$/.test(getComputedStyle(document.getElementById('ly')).backgroundImage)`)
	for _, id := range []string{"s202", "s204", "s209", "s210", "s212", "s213", "s214", "s220", "s221"} {
		p.waitFor(fmt.Sprintf("after Accept all, #%s shows its image", id),
			fmt.Sprintf(`/^url\("https:\/\/www\.facebook\.com\/tr\?f=/.test(getComputedStyle(document.getElementById(%q)).backgroundImage)`, id))
	}
	evalJS[bool](p, `(function () {
  new EventSource('https://www.face' + 'book.com/tr?f=228');
  new WebSocket('wss://www.face' + 'book.com/ws?f=229');
  return true;
})()`)
	p.waitQueries("after Accept all, an EventSource and a WebSocket to the tracker connect", "f=228", "f=229")
	p.expectNoReload("Accept all", navs)
}
