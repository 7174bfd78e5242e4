package browsertest

import "testing"

// swapPage fetches HTML and puts it into the page as htmx does (its
// HX-Request header, and its scripts run again), and reads JSON that the
// site labels as HTML (PHP's default type).
const swapPage = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Orders</title></head>` +
	`<body><main><h1>Orders</h1><table><tbody id="rows"></tbody></table></main><script>
fetch('/rows', { headers: { 'HX-Request': 'true' } }).then(function (r) { return r.text(); }).then(function (html) {
  var rows = document.getElementById('rows');
  rows.innerHTML = html;
  rows.querySelectorAll('script').forEach(function (old) {
    var s = document.createElement('script');
    Array.prototype.forEach.call(old.attributes, function (a) { s.setAttribute(a.name, a.value); });
    s.text = old.text;
    old.replaceWith(s);
  });
  window.__swapped = true;
});
fetch('/api.php').then(function (r) { return r.json(); }).then(function (j) { window.__json = j.items.length; }, function (e) { window.__json = String(e); });
</script></body></html>`

// TestSwappedFragmentsBringNoSecondBanner: HTML a page swaps in (htmx)
// comes without a second shim, banner or form, its tracker waits for
// consent as the page's own would and loads in place after Accept all,
// and JSON the site labels as HTML still parses.
func TestSwappedFragmentsBringNoSecondBanner(t *testing.T) {
	p := openServed(t, swapPage,
		"@rows path /rows",
		"handle @rows {\n\t\theader Content-Type \"text/html; charset=utf-8\"\n\t\trespond `"+
			`<tr><td>Order 42</td><td><img src="https://www.facebook.com/tr?f=301" width="1" height="1" alt=""></td></tr>`+
			`<script src="https://www.google-analytics.com/analytics.js?f=302"></script>`+"`\n\t}",
		"@api path /api.php",
		"handle @api {\n\t\theader Content-Type \"text/html; charset=UTF-8\"\n\t\trespond `{\"items\":[1,2]}`\n\t}")
	p.waitFor("the fragment is swapped in", `window.__swapped === true`)
	p.waitFor("the JSON labelled as HTML is read", `window.__json !== undefined`)
	p.waitIdle()
	if got := evalJS[any](p, `window.__json`); got != float64(2) {
		t.Errorf("JSON labelled as HTML, fetched and parsed: %v, want its 2 items", got)
	}
	p.expectNoThirdParty("after the fragment was swapped in, before any choice")
	for what, expr := range map[string]string{
		"consent config blocks": `document.querySelectorAll('#consentgate-config').length`,
		"shims":                 `document.querySelectorAll('script[src*="/.consent/shim"]').length`,
		"banner scripts":        `document.querySelectorAll('script[src*="/.consent/banner"]').length`,
		"no-JavaScript forms":   `document.querySelectorAll('noscript').length`,
	} {
		if n := evalJS[float64](p, expr); n != 1 {
			t.Errorf("after the swap the page has %v %s, want 1", n, what)
		}
	}
	p.clickFirstLayer("accept_all", "Accept all")
	p.waitBannerGone()
	p.waitQueries("after Accept all, the swapped-in fragment's pixel and script load in place", "f=301", "f=302")
}

// softNavigation replaces the page's body as single-page navigations do:
// Turbo Drive puts a new <body> element in place, htmx's boosted links
// replace the body's content.
var softNavigation = map[string]string{
	"Turbo Drive": `(function () { var b = document.createElement('body'); b.innerHTML = '<main><h1>Page two</h1></main>'; document.documentElement.replaceChild(b, document.body); return true; })()`,
	"htmx boost":  `(document.body.innerHTML = '<main><h1>Page two</h1></main>', true)`,
}

// TestBannerSurvivesSoftNavigation: after a single-page navigation that
// swaps the page's body, an undecided visitor still sees the first layer
// and can choose there, and a visitor who chose still has the Privacy
// settings control to change or withdraw it.
func TestBannerSurvivesSoftNavigation(t *testing.T) {
	for name, swap := range softNavigation {
		t.Run(name, func(t *testing.T) {
			p := openServed(t, `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Page one</title></head>`+
				`<body><main><h1>Page one</h1></main></body></html>`)
			evalJS[bool](p, swap)
			p.waitFor("the new body is in place", `document.querySelector('h1').textContent === 'Page two'`)
			p.waitFirstLayer()
			p.waitFor("the new page behind the open dialog is inert", `document.querySelector('main').closest('[inert]')`)
			p.clickFirstLayer("accept_all", "Accept all")
			p.waitBannerGone()
			if evalJS[bool](p, `!!document.querySelector('main').closest('[inert]')`) {
				t.Error("after the choice the new page is still inert")
			}
			evalJS[bool](p, swap)
			p.expectReopenControl("after Accept all and another soft navigation")
			if n := evalJS[float64](p, `document.querySelectorAll('.cg').length`); n != 1 {
				t.Errorf("the banner is in the page %v times, want once", n)
			}
		})
	}
}
