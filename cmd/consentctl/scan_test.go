package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/consentgate/consentgate/caddymodule/gatewaytest"
)

// scanPage loads an analytics script from a host no vendor covers, next to
// a catalogued tracker and a first-party script.
const scanPage = `<!doctype html><html><head>` +
	`<script src="https://cdn.unlisted-widgets.example/w.js"></script>` +
	`<script async src="https://www.googletagmanager.com/gtag/js?id=G-SCAN1"></script>` +
	`<script src="/app.js"></script>` +
	`</head><body><img src="https://pixel.unlisted-ads.example/p.gif" alt="">` +
	`<form method="post" action="https://forms.unlisted-crm.example/submit"><input name="email"></form></body></html>`

// TestScan: a page with a script from an unknown third party shows up in
// the admin API and in consentctl scan; fetching the page through the
// gateway shows what it loads before and after consent.
func TestScan(t *testing.T) {
	port, adminPort := gatewaytest.FreePort(t), gatewaytest.FreePort(t)
	gatewaytest.Start(t, gatewayCaddyfile(adminPort, port, filepath.Join(t.TempDir(), "proofs.db"), "ctl-scan", scanPage))
	site := gatewaytest.BaseURL(port)
	admin := fmt.Sprintf("localhost:%d", adminPort)
	gatewaytest.Get(t, gatewaytest.NewClient(t), site+"/products?id=1")

	code, out, errOut := ctl(t, "scan", "--address", admin, "--site", "127.0.0.1")
	if code != 0 {
		t.Fatalf("scan: exit %d: %s", code, errOut)
	}
	for _, want := range []string{"cdn.unlisted-widgets.example", "script", "/products", "pixel.unlisted-ads.example", "image",
		"forms.unlisted-crm.example", "form"} {
		if !strings.Contains(out, want) {
			t.Errorf("scan output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "googletagmanager") {
		t.Errorf("a catalogued vendor is listed as uncovered:\n%s", out)
	}

	code, out, errOut = ctl(t, "scan", site+"/products")
	if code != 0 {
		t.Fatalf("scan of a page: exit %d: %s", code, errOut)
	}
	before, after, _ := strings.Cut(out, "after consent:")
	if !strings.Contains(before, "cdn.unlisted-widgets.example") || strings.Contains(before, "googletagmanager") {
		t.Errorf("before consent the page should load the unlisted script but not Google's:\n%s", out)
	}
	if !strings.Contains(after, "www.googletagmanager.com") || !strings.Contains(after, "cdn.unlisted-widgets.example") {
		t.Errorf("after consent the page should load both:\n%s", out)
	}
}
