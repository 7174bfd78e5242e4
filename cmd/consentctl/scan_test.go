package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/consentgate/consentgate/caddymodule/gatewaytest"
)

// scanPage loads a script, a stylesheet, a frame and an image from hosts no
// vendor covers and posts a form to one, next to a catalogued tracker and a
// first-party script.
const scanPage = `<!doctype html><html><head>` +
	`<script src="https://cdn.unlisted-widgets.example/w.js"></script>` +
	`<link rel="stylesheet" href="https://fonts.unlisted-type.example/f.css">` +
	`<script async src="https://www.googletagmanager.com/gtag/js?id=G-SCAN1"></script>` +
	`<script src="/app.js"></script>` +
	`</head><body><img src="https://pixel.unlisted-ads.example/p.gif" alt="">` +
	`<iframe src="https://maps.unlisted-embeds.example/map?q=shop"></iframe>` +
	`<form method="post" action="https://forms.unlisted-crm.example/submit"><input name="email"></form></body></html>`

// scanEntry is an entry of the admin API's /consent/scan, as sent.
type scanEntry struct {
	Site      string    `json:"site"`
	Path      string    `json:"path"`
	Kind      string    `json:"kind"`
	Origin    string    `json:"origin"`
	Via       string    `json:"via"`
	Count     int       `json:"count"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
}

// scanEntries asks the admin API what pages of the test site loaded.
func scanEntries(t *testing.T, admin string) map[string]scanEntry {
	t.Helper()
	resp, body := gatewaytest.Get(t, gatewaytest.NewClient(t), "http://"+admin+"/consent/scan?site=127.0.0.1")
	var rep struct {
		Entries []scanEntry `json:"entries"`
	}
	if err := json.Unmarshal([]byte(body), &rep); resp.StatusCode != 200 || err != nil {
		t.Fatalf("/consent/scan: %d %v\n%s", resp.StatusCode, err, body)
	}
	byOrigin := map[string]scanEntry{}
	for _, e := range rep.Entries {
		byOrigin[e.Origin+" "+e.Path] = e
	}
	return byOrigin
}

// uncovered are the scan page's third parties no vendor covers, by kind.
var uncovered = map[string]string{
	"script": "cdn.unlisted-widgets.example",
	"link":   "fonts.unlisted-type.example",
	"image":  "pixel.unlisted-ads.example",
	"frame":  "maps.unlisted-embeds.example",
	"form":   "forms.unlisted-crm.example",
}

// TestScan: a page with a script from an unknown third party shows up in
// the admin API and in consentctl scan; fetching the page through the
// gateway shows what it loads before and after consent.
func TestScan(t *testing.T) {
	port, adminPort := gatewaytest.FreePort(t), gatewaytest.FreePort(t)
	gatewaytest.Start(t, gatewayCaddyfile(adminPort, port, filepath.Join(t.TempDir(), "proofs.db"), "ctl-scan", scanPage))
	site := gatewaytest.BaseURL(port)
	admin := fmt.Sprintf("localhost:%d", adminPort)
	visitor := gatewaytest.NewClient(t)
	start := time.Now().Add(-time.Second) // JSON times may round
	gatewaytest.Get(t, visitor, site+"/products?id=1")
	first := scanEntries(t, admin)
	// The table shows whole seconds: see the page again in the next one.
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second)))
	gatewaytest.Get(t, visitor, site+"/products?id=2")
	second := scanEntries(t, admin)
	for kind, origin := range uncovered {
		e, ok := second[origin+" /products"]
		if !ok {
			t.Errorf("the admin API lists no %s from %s on /products: %v", kind, origin, second)
			continue
		}
		was := first[origin+" /products"]
		if e.Site != "127.0.0.1" || e.Kind != kind || e.Via != "" || was.Count != 1 || e.Count != 2 {
			t.Errorf("%s entry after one view %+v, after two %+v; want kind %s, site 127.0.0.1, counts 1 then 2", origin, was, e, kind)
		}
		if was.FirstSeen.Before(start) || !e.FirstSeen.Equal(was.FirstSeen) || !e.LastSeen.After(was.LastSeen) ||
			!was.LastSeen.Equal(was.FirstSeen) || e.LastSeen.After(time.Now()) {
			t.Errorf("%s: first/last seen %v/%v after one view, %v/%v after two", origin, was.FirstSeen, was.LastSeen, e.FirstSeen, e.LastSeen)
		}
	}
	for key := range second {
		if strings.Contains(key, "googletagmanager") {
			t.Errorf("a catalogued vendor is listed as uncovered: %s", key)
		}
	}

	code, out, errOut := ctl(t, "scan", "--address", admin, "--site", "127.0.0.1")
	if code != 0 {
		t.Fatalf("scan: exit %d: %s", code, errOut)
	}
	for kind, origin := range uncovered {
		e := second[origin+" /products"]
		row := regexp.MustCompile(`(?m)^127\.0\.0\.1 +` + regexp.QuoteMeta(origin) + ` +` + kind + ` +/products +2 +` +
			regexp.QuoteMeta(e.FirstSeen.UTC().Format(time.RFC3339)) + ` +` + regexp.QuoteMeta(e.LastSeen.UTC().Format(time.RFC3339)) + `$`)
		if !row.MatchString(out) {
			t.Errorf("scan output lacks the row for the %s from %s (count 2, first and last seen as the admin API says):\n%s", kind, origin, out)
		}
	}
	if strings.Contains(out, "googletagmanager") {
		t.Errorf("a catalogued vendor is listed as uncovered:\n%s", out)
	}
	// A path a visitor made up, with a terminal's control sequence in it,
	// is listed escaped.
	gatewaytest.Get(t, visitor, site+"/spa/%1b%5b2J%1b%5b31mHACKED")
	if code, out, _ := ctl(t, "scan", "--address", admin); code != 0 || strings.Contains(out, "\x1b") || !strings.Contains(out, `/spa/\x1b[2J\x1b[31mHACKED`) {
		t.Errorf("scan prints a visitor's control characters as they are (exit %d):\n%q", code, out)
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
