// Package examples_test runs every example site from its own Caddyfile
// through a real consentgate and checks each page as a visitor would get it.
package examples_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/consentgate/consentgate/caddymodule/gatewaytest"
	"github.com/consentgate/consentgate/consent/catalog"
	"github.com/consentgate/consentgate/consent/policy"
	"github.com/consentgate/consentgate/consent/rewrite/htmlcheck"
)

// TestMain runs from the repository root, where the example Caddyfiles'
// relative paths point.
func TestMain(m *testing.M) {
	dir, err := gatewaytest.IsolateDataDirs()
	if err != nil {
		panic(err)
	}
	if err := os.Chdir(".."); err != nil {
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

var (
	adminLine = regexp.MustCompile(`(?m)^\s*admin\s+\S+\s*$`)
	portLine  = regexp.MustCompile(`(?m)^(\s*http_port\s+)\d+`)
	siteLine  = regexp.MustCompile(`(?m)^:\d+ \{`)
)

// startExample runs an example's Caddyfile as written, but on a free port,
// without the admin endpoint, and with log files under logDir.
func startExample(t *testing.T, name, logDir string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("examples", name, "Caddyfile"))
	if err != nil {
		t.Fatal(err)
	}
	port := gatewaytest.FreePort(t)
	cf := adminLine.ReplaceAllString(string(data), "\tadmin off\n\tpersist_config off")
	cf = portLine.ReplaceAllString(cf, fmt.Sprintf("${1}%d", port))
	cf = siteLine.ReplaceAllString(cf, fmt.Sprintf(":%d {", port))
	cf = strings.ReplaceAll(cf, "examples/"+name+"/logs/", logDir+"/")
	gatewaytest.Start(t, cf)
	return gatewaytest.BaseURL(port)
}

// exampleVendors is the built-in catalogue with the example's own vendor
// declarations applied, read back from the adapted config.
func exampleVendors(t *testing.T, name string) []catalog.Vendor {
	t.Helper()
	data, _ := os.ReadFile(filepath.Join("examples", name, "Caddyfile"))
	cfg, err := gatewaytest.Adapt(string(data))
	if err != nil {
		t.Fatal(err)
	}
	var operator []catalog.Vendor
	findConsentHandlers(t, cfg, func(h json.RawMessage) {
		var c struct {
			Vendors []catalog.Vendor `json:"vendors"`
		}
		if err := json.Unmarshal(h, &c); err != nil {
			t.Fatal(err)
		}
		operator = append(operator, c.Vendors...)
	})
	return policy.MergeVendors(catalog.Builtin(), operator)
}

// findConsentHandlers calls fn with every {"handler":"consent",...} object
// anywhere in the config.
func findConsentHandlers(t *testing.T, cfg []byte, fn func(json.RawMessage)) {
	var walk func(raw json.RawMessage)
	walk = func(raw json.RawMessage) {
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) == nil {
			if string(obj["handler"]) == `"consent"` {
				fn(raw)
			}
			for _, v := range obj {
				walk(v)
			}
			return
		}
		var arr []json.RawMessage
		if json.Unmarshal(raw, &arr) == nil {
			for _, v := range arr {
				walk(v)
			}
		}
	}
	walk(cfg)
}

func TestExamplePages(t *testing.T) {
	for _, name := range []string{"shop", "portal", "institute"} {
		t.Run(name, func(t *testing.T) {
			vendors := exampleVendors(t, name)
			matcher, err := catalog.NewMatcher(vendors)
			if err != nil {
				t.Fatal(err)
			}
			base := startExample(t, name, t.TempDir())
			pages, _ := filepath.Glob(filepath.Join("examples", name, "site", "*.html"))
			if len(pages) < 3 {
				t.Fatalf("only %d pages", len(pages))
			}
			undecided := gatewaytest.NewClient(t)
			consented := gatewaytest.NewClient(t)
			gatewaytest.PostChoice(t, consented, base, `{"all":true}`)
			for _, file := range pages {
				path := "/" + filepath.Base(file)
				original, _ := os.ReadFile(file)
				t.Run(path, func(t *testing.T) {
					resp, body := gatewaytest.Get(t, undecided, base+path)
					if resp.StatusCode != 200 {
						t.Fatalf("status %d", resp.StatusCode)
					}
					live := htmlcheck.Inspect([]byte(body)).Trackers(matcher, vendors, func(v catalog.Vendor) bool {
						return v.Purpose == policy.Necessary
					})
					if len(live) > 0 {
						t.Errorf("without consent, live:\n  %s", strings.Join(live, "\n  "))
					}
					_, body = gatewaytest.Get(t, consented, base+path)
					if got := gatewaytest.WithoutHook(t, body); got != string(original) {
						t.Errorf("with full consent the page is not the site's page plus the hook")
					}
				})
			}
		})
	}
}

// TestShopBlocksWhatItsPolicyNames: the shop's pages really carry the
// services its policy names, so the test above has something to block.
func TestShopBlocksWhatItsPolicyNames(t *testing.T) {
	vendors := exampleVendors(t, "shop")
	matcher, _ := catalog.NewMatcher(vendors)
	found := map[string]bool{}
	pages, _ := filepath.Glob(filepath.Join("examples", "shop", "site", "*.html"))
	for _, f := range pages {
		data, _ := os.ReadFile(f)
		for _, tr := range htmlcheck.Inspect(data).Trackers(matcher, vendors, func(catalog.Vendor) bool { return false }) {
			id, _, _ := strings.Cut(tr, ":")
			found[id] = true
		}
	}
	for _, want := range []string{"google-analytics", "mailchimp", "facebook-social", "google-sign-in", "login-with-amazon",
		"firebase", "manychat", "twitter", "instagram", "youtube", "paypal", "klarna"} {
		if !found[want] {
			t.Errorf("no shop page embeds %s", want)
		}
	}
}

// TestInstituteLogsNoFullIP: the institute's access log, configured with
// Caddy's own filters, keeps no full client address.
func TestInstituteLogsNoFullIP(t *testing.T) {
	logDir := t.TempDir()
	base := startExample(t, "institute", logDir)
	c := gatewaytest.NewClient(t)
	gatewaytest.Get(t, c, base+"/", "X-Forwarded-For", "203.0.113.77", "User-Agent", "Tester/1.0")
	gatewaytest.Get(t, c, base+"/contact.html", "X-Forwarded-For", "2001:db8:abcd:12::1")
	// Stopping Caddy flushes and closes the log.
	gatewaytest.Stop(t)
	data, err := os.ReadFile(filepath.Join(logDir, "access.log"))
	if err != nil {
		t.Fatalf("no access log: %v", err)
	}
	log := string(data)
	lines := strings.Split(strings.TrimSpace(log), "\n")
	if len(lines) < 2 {
		t.Fatalf("access log has fewer than two lines:\n%s", log)
	}
	for _, line := range lines {
		var entry struct {
			Request struct {
				RemoteIP string              `json:"remote_ip"`
				ClientIP string              `json:"client_ip"`
				Headers  map[string][]string `json:"headers"`
			} `json:"request"`
		}
		if err := json.Unmarshal([]byte(line), &entry); err != nil {
			t.Fatalf("log line is not JSON: %v\n%s", err, line)
		}
		for _, ip := range append([]string{entry.Request.RemoteIP, entry.Request.ClientIP}, entry.Request.Headers["X-Forwarded-For"]...) {
			if ip != "127.0.0.0" && ip != "203.0.0.0" && ip != "2001:db8::" {
				t.Errorf("logged address %q is not truncated", ip)
			}
		}
	}
	for _, full := range []string{"203.0.113.77", "2001:db8:abcd:12::1", "Tester/1.0"} {
		if strings.Contains(log, full) {
			t.Errorf("access log contains %q:\n%s", full, log)
		}
	}
}

// TestReadmeCaddyfiles: every Caddyfile snippet in the README adapts, so the
// documentation cannot drift from the code. A bare `consent { … }` snippet
// is put in a site block first.
func TestReadmeCaddyfiles(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	snippets := regexp.MustCompile("(?s)```caddyfile\n(.*?)```").FindAllSubmatch(readme, -1)
	if len(snippets) < 3 {
		t.Fatalf("found %d Caddyfile snippets in the README", len(snippets))
	}
	for i, m := range snippets {
		snippet := string(m[1])
		if strings.HasPrefix(snippet, "consent") {
			snippet = ":8080 {\n" + snippet + "}\n"
		}
		if _, err := gatewaytest.Adapt(snippet); err != nil {
			t.Errorf("README snippet %d does not adapt: %v\n%s", i+1, err, snippet)
		}
	}
}
