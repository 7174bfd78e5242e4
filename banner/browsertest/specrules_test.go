package browsertest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/consentgate/consentgate/caddymodule/gatewaytest"
)

// TestSpeculationRulesFileLosesVendors: a page's Speculation-Rules header
// has the browser fetch a rules file and act on it. Before consent, the
// file the browser gets lists the site's own page and not the vendor's
// URL, and it still works: the site's page is prefetched, and the next
// navigation is served from that prefetch.
func TestSpeculationRulesFileLosesVendors(t *testing.T) {
	const rules = `{"prefetch": [{"source": "list", "urls": ["/next.html", "https://connect.facebook.net/spec/next.html"], "eagerness": "immediate"}]}`
	const doc = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>%s</title></head><body><main><h1>%s</h1></main></body></html>`
	port := gatewaytest.FreePort(t)
	gatewaytest.StartSites(t, fmt.Sprintf(`:%d {
	consent {
		privacy_policy /privacy.html
	}
	handle /rules.json {
		header Content-Type application/speculationrules+json
		respond `+"`%s`"+`
	}
	handle /next.html {
		header Content-Type "text/html; charset=utf-8"
		respond `+"`%s`"+`
	}
	handle {
		header Speculation-Rules `+"`\"/rules.json\"`"+`
		header Content-Type "text/html; charset=utf-8"
		respond `+"`%s`"+`
	}
}`, port, rules, fmt.Sprintf(doc, "Next", "Next"), fmt.Sprintf(doc, "Speculation", "Speculation")))
	gatewaytest.WaitListening(t, port)
	p := newPage(t, gatewaytest.BaseURL(port))
	p.open("/")
	p.waitFirstLayer()
	got := p.responseBody("/rules.json")
	if strings.Contains(got, "facebook") || !strings.Contains(got, `"/next.html"`) {
		t.Errorf("before consent, the browser got the rules file\n  %s\nwant the site's /next.html without Facebook's URL", got)
	}
	p.expectNoThirdParty("before consent")
	// A navigation the page starts, as a click on a link would: only such
	// a navigation takes a prefetch the page's rules asked for.
	p.do(chromedp.Evaluate[chromedp.Void](`location.href = '/next.html'`))
	p.waitFor("the next page has loaded", `location.pathname === '/next.html' && document.readyState === 'complete'`)
	if how := evalJS[string](p, `performance.getEntriesByType('navigation')[0].deliveryType`); how != "navigational-prefetch" {
		t.Errorf("the site's own page was not served from the prefetch its rules file asks for (deliveryType %q): the filtered file did not work", how)
	}
}

// responseBody is the body of the answer the page got for the request
// whose URL ends in suffix.
func (p *page) responseBody(suffix string) string {
	p.t.Helper()
	p.mu.Lock()
	var id network.RequestID
	for _, r := range p.requests {
		if strings.HasSuffix(r.URL, suffix) {
			id = r.ID
		}
	}
	p.mu.Unlock()
	if id == "" {
		p.t.Fatalf("the page never requested %s", suffix)
	}
	var body string
	p.do(chromedp.Func(func(ctx context.Context, tt *chromedp.Target) error {
		res, err := cdp.Call(ctx, tt, network.GetResponseBody, network.GetResponseBodyParams{RequestID: id})
		body = string(res.Body)
		return err
	}))
	return body
}
