package browsertest

import "testing"

// contentPage holds what a site's visitors could write into a comment
// that a sanitizer keeps (data- attributes do nothing by themselves): the
// gateway's own marks, a consent tool's markup and a consent control, set
// to run script or cover the banner with a control that chooses for the
// visitor, and an element whose id would hide the banner's API. Beside
// them, a tracker the gateway blocks, which must still load once allowed.
const contentPage = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Comments</title></head>` +
	`<body><main><h1>Comments</h1><div class="comment">` +
	`<a id="c1" data-consent-purpose="necessary" data-consent-href="javascript:window.__pwned='c1'">one</a> ` +
	`<a id="c2" data-consent-purpose="analytics" data-consent-vendor="" data-consent-href="  java&#9;script:window.__pwned='c2'">two</a> ` +
	`<a id="c3" data-name="analytics" data-href="javascript:window.__pwned='c3'">three</a> ` +
	`<iframe id="c4" title="c4" data-consent-purpose="necessary" data-consent-srcdoc="&lt;script&gt;parent.__pwned='c4'&lt;/script&gt;"></iframe>` +
	`<div id="c5" data-consent-action="accept_all" data-consent-purpose="necessary" ` +
	`data-consent-style="position:fixed;inset:0;opacity:0;z-index:2147483647">nice post!</div>` +
	`<a id="consentgate" href="#top">top</a>` +
	`</div><img src="https://www.facebook.com/tr?f=401" width="1" height="1" alt="">` +
	`<script src="https://www.google-analytics.com/analytics.js?f=402"></script></main></body></html>`

// TestContentMarkupActivatesNothing: markup in a page's content that
// imitates the gateway's marks never becomes a javascript: link, a srcdoc
// that runs script or a style that covers the banner (and its consent
// control with it); an element with id="consentgate" does not stop the
// banner. What the gateway itself held still loads after Accept all.
func TestContentMarkupActivatesNothing(t *testing.T) {
	p := openServed(t, contentPage) // the first layer is shown despite id="consentgate"
	inert := func(when string) {
		t.Helper()
		for what, expr := range map[string]string{
			"a script of the content's ran":       `window.__pwned === undefined`,
			"c1 got an href":                      `!document.getElementById('c1').hasAttribute('href')`,
			"c2 got an href":                      `!document.getElementById('c2').hasAttribute('href')`,
			"c3 got an href":                      `!document.getElementById('c3').hasAttribute('href')`,
			"the frame got the content's srcdoc":  `!document.getElementById('c4').hasAttribute('srcdoc')`,
			"the content's overlay got its style": `!document.getElementById('c5').hasAttribute('style')`,
		} {
			if !evalJS[bool](p, expr) {
				t.Errorf("%s: %s", when, what)
			}
		}
	}
	inert("before any choice")

	// A person clicks Reject all where the content's overlay would lie.
	p.clickFirstLayer("reject_all", "Reject all")
	p.waitBannerGone()
	p.waitIdle()
	if s := p.apiState(); !s.Decided || s.Purposes["analytics"] || s.Purposes["marketing"] {
		t.Errorf("after Reject all: %+v, want all rejected", s)
	}
	p.expectNoThirdParty("after Reject all")

	evalJS[bool](p, `(window.consentgate.acceptAll(), true)`)
	p.waitQueries("after Accept all, what the gateway held loads", "f=401", "f=402")
	evalJS[bool](p, `(['c1', 'c2', 'c3'].forEach(function (id) { document.getElementById(id).click(); }), true)`)
	p.waitIdle()
	inert("after Accept all, with the content's links clicked")
}
