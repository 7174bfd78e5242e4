// Package examples_test runs every example site from its own Caddyfile
// through a real consentgate and checks each page as a visitor would get it.
package examples_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"golang.org/x/net/html"

	"github.com/consentgate/consentgate/caddymodule"
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

// startExample runs an example's Caddyfile as written (see startCaddyfile).
func startExample(t *testing.T, name, logDir string) string {
	t.Helper()
	return startCaddyfile(t, filepath.Join("examples", name, "Caddyfile"), logDir)
}

// startExampleWith runs an example as startExample does, with edit's changes
// to its adapted config.
func startExampleWith(t *testing.T, name, logDir string, edit func(cfg map[string]any)) string {
	t.Helper()
	return startConfig(t, adaptFile(t, filepath.Join("examples", name, "Caddyfile")), logDir, edit)
}

// startCaddyfile runs the config a Caddyfile adapts to (imports included),
// changed only where a test must: the admin endpoint off, the one server on
// a free loopback port, and log files under logDir.
func startCaddyfile(t *testing.T, file, logDir string) string {
	t.Helper()
	return startConfig(t, adaptFile(t, file), logDir, nil)
}

// startConfig runs an adapted config, changed as startCaddyfile says and then
// by edit (if not nil).
func startConfig(t *testing.T, adapted []byte, logDir string, edit func(cfg map[string]any)) string {
	t.Helper()
	var cfg map[string]any
	if err := json.Unmarshal(adapted, &cfg); err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(cfg)
	}
	port := gatewaytest.FreePort(t)
	cfg["admin"] = map[string]any{"disabled": true, "config": map[string]any{"persist": false}}
	web := member(cfg, "apps", "http")
	web["http_port"] = port
	servers := member(web, "servers")
	if len(servers) != 1 {
		t.Fatalf("want one server, got %d", len(servers))
	}
	for _, srv := range servers {
		srv.(map[string]any)["listen"] = []string{fmt.Sprintf("127.0.0.1:%d", port)}
	}
	for _, l := range member(cfg, "logging", "logs") {
		if w := member(l.(map[string]any), "writer"); w["filename"] != nil {
			w["filename"] = filepath.Join(logDir, filepath.Base(w["filename"].(string)))
		}
	}
	data, _ := json.Marshal(cfg)
	if err := caddy.Load(data, true); err != nil {
		t.Fatalf("loading the config: %v", err)
	}
	t.Cleanup(func() { _ = caddy.Stop() })
	return gatewaytest.BaseURL(port)
}

// member walks JSON objects by key; nil where one is missing.
func member(obj map[string]any, keys ...string) map[string]any {
	for _, k := range keys {
		obj, _ = obj[k].(map[string]any)
	}
	return obj
}

// adaptFile adapts a Caddyfile as `consentgate adapt --config file` does.
// Caddy resolves imports against the working directory it saw at start (this
// package's, before TestMain moved to the root), so it gets the absolute name.
func adaptFile(t *testing.T, file string) []byte {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(file)
	cfg, _, err := caddyconfig.GetAdapter("caddyfile").Adapt(data, map[string]any{"filename": abs})
	if err != nil {
		t.Fatalf("adapting %s: %v", file, err)
	}
	return cfg
}

// exampleVendors is the built-in catalogue with the example's own vendor
// declarations applied, read back from the adapted config.
func exampleVendors(t *testing.T, name string) []catalog.Vendor {
	t.Helper()
	cfg := adaptFile(t, filepath.Join("examples", name, "Caddyfile"))
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

// asksAnything reports whether the site's banner asks about any purpose
// beyond the strictly necessary.
func asksAnything(t *testing.T, base string) bool {
	t.Helper()
	_, body := gatewaytest.Get(t, gatewaytest.NewClient(t), base+"/.consent/state")
	var state struct {
		Purposes map[string]bool `json:"purposes"`
	}
	if err := json.Unmarshal([]byte(body), &state); err != nil {
		t.Fatalf("state: %v in %s", err, body)
	}
	return len(state.Purposes) > 1
}

// TestExamplePages: without consent a page loads nothing from another host
// but strictly necessary services, runs no tracker snippet and sets no
// cookie; with full consent it is the site's page as written.
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
			if asksAnything(t, base) { // else there is no choice to make (the institute)
				gatewaytest.PostChoice(t, consented, base, `{"all":true}`)
			}
			for _, file := range pages {
				path := "/" + filepath.Base(file)
				original, _ := os.ReadFile(file)
				t.Run(path, func(t *testing.T) {
					resp, body := gatewaytest.Get(t, undecided, base+path)
					if resp.StatusCode != 200 {
						t.Fatalf("status %d", resp.StatusCode)
					}
					if c := resp.Header.Values("Set-Cookie"); len(c) > 0 {
						t.Errorf("without consent the page sets cookies: %q", c)
					}
					page := htmlcheck.Inspect([]byte(body))
					if off := offSite(page, matcher, vendors); len(off) > 0 {
						t.Errorf("without consent, loads from other hosts:\n  %s", strings.Join(off, "\n  "))
					}
					for _, action := range formActions([]byte(body)) {
						if _, abs := matcher.Host([]byte(action)); abs && matcher.Match(catalog.KindForm, []byte(action)) < 0 {
							t.Errorf("a form posts to %s, which no vendor covers, so the banner does not name who receives it", action)
						}
					}
					live := page.Trackers(matcher, vendors, func(v catalog.Vendor) bool {
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

// offSite lists what a page would load from a host other than the site's
// own (any absolute or protocol-relative URL: the example pages use only
// relative ones for themselves) unless a necessary vendor covers it,
// whether the host is catalogued or not.
func offSite(page htmlcheck.Page, m *catalog.Matcher, vendors []catalog.Vendor) []string {
	var out []string
	for _, l := range page.Loads {
		if _, abs := m.Host([]byte(l.URL)); !abs {
			continue
		}
		if i := m.Match(l.Kind, []byte(l.URL)); i >= 0 && vendors[i].Purpose == policy.Necessary {
			continue
		}
		out = append(out, "<"+l.Tag+"> "+l.URL)
	}
	return out
}

// formActions lists where a page's forms post. A form loads nothing until
// the visitor sends it, so the gateway never blocks one (htmlcheck does not
// list them); but whoever receives it must be a vendor of the policy.
func formActions(page []byte) []string {
	var out []string
	z := html.NewTokenizer(bytes.NewReader(page))
	for tt := z.Next(); tt != html.ErrorToken; tt = z.Next() {
		if tt != html.StartTagToken {
			continue
		}
		name, more := z.TagName()
		for more && string(name) == "form" {
			var k, v []byte
			k, v, more = z.TagAttr()
			if string(k) == "action" {
				out = append(out, string(v))
			}
		}
	}
	return out
}

// TestShopBlocksWhatItsPolicyNames: every service the shop's policy names
// (seeds/002) is on a page as its vendor documents it, is recognised as
// that vendor, and is held back without consent unless it is needed to pay.
func TestShopBlocksWhatItsPolicyNames(t *testing.T) {
	vendors := exampleVendors(t, "shop")
	matcher, _ := catalog.NewMatcher(vendors)
	base := startExample(t, "shop", t.TempDir())
	undecided := gatewaytest.NewClient(t)
	for _, s := range []struct {
		service, page string
		signature     string // in a URL the page loads, in an inline script, or in a link
		vendor        string // "" for a plain link, which loads nothing
		live          bool   // loads without consent
	}{
		{"Google Analytics", "index.html", "www.googletagmanager.com/gtag/js?id=G-EXAMPLE123", "google-analytics", false},
		{"Google Analytics", "cart.html", "gtag('config', 'G-EXAMPLE123')", "google-analytics", false},
		{"Mailchimp newsletter", "newsletter.html", "cdn-images.mailchimp.com/embedcode/", "mailchimp", false},
		{"Mailchimp newsletter", "newsletter.html", "downloads.mailchimp.com/js/mc-validate.js", "mailchimp", false},
		{"Mailchimp newsletter", "newsletter.html", "window.fnames = new Array()", "mailchimp", false},
		{"Facebook Login", "login.html", "connect.facebook.net/en_GB/sdk.js#xfbml=1", "facebook-social", false},
		{"Google Sign-In", "login.html", "accounts.google.com/gsi/client", "google-sign-in", false},
		{"Login with Amazon", "login.html", "assets.loginwithamazon.com/sdk/na/login1.js", "login-with-amazon", false},
		{"Login with Amazon", "login.html", "images-na.ssl-images-amazon.com/images/G/01/lwa/", "login-with-amazon", false},
		{"WhatsApp share button", "index.html", "https://wa.me/?text=", "", true},
		{"WhatsApp share button", "product.html", "https://wa.me/?text=", "", true},
		{"Firebase push", "index.html", "www.gstatic.com/firebasejs/8.10.1/firebase-messaging.js", "firebase", false},
		{"Firebase push", "index.html", "firebase.messaging()", "firebase", false},
		{"Google +1 button", "product.html", "apis.google.com/js/platform.js", "google-sign-in", false},
		{"Facebook Like button", "index.html", "www.facebook.com/plugins/like.php", "facebook-social", false},
		{"Facebook Like button", "product.html", "www.facebook.com/plugins/like.php", "facebook-social", false},
		{"Facebook Messenger chat", "contact.html", "connect.facebook.net/en_GB/sdk/xfbml.customerchat.js", "facebook-social", false},
		{"Facebook Messenger chat", "contact.html", `getElementById('fb-customer-chat')`, "facebook-social", false},
		{"ManyChat", "contact.html", "widget.manychat.com/", "manychat", false},
		{"ManyChat", "contact.html", "mccdn.me/assets/js/widget.js", "manychat", false},
		{"Twitter", "index.html", "platform.twitter.com/widgets.js", "twitter", false},
		{"Twitter", "product.html", "platform.twitter.com/widgets.js", "twitter", false},
		{"Instagram", "index.html", "www.instagram.com/embed.js", "instagram", false},
		{"YouTube", "index.html", "www.youtube.com/embed/", "youtube", false},
		{"YouTube", "product.html", "www.youtube.com/embed/", "youtube", false},
		{"Klarna on-site messaging (advertising)", "product.html", "js.klarna.com/web-sdk/v1/klarna.js", "klarna", false},
		{"Klarna on-site messaging (advertising)", "cart.html", "js.klarna.com/web-sdk/v1/klarna.js", "klarna", false},
		{"Klarna Payments", "checkout.html", "x.klarnacdn.net/kp/lib/v1/api.js", "klarna", true},
		{"Klarna Payments", "checkout.html", "Klarna.Payments.init(", "klarna", true},
		{"PayPal checkout", "checkout.html", "www.paypal.com/sdk/js?client-id=test", "paypal", true},
		{"PayPal checkout", "checkout.html", "paypal.Buttons(", "paypal", true},
	} {
		raw, err := os.ReadFile(filepath.Join("examples", "shop", "site", s.page))
		if err != nil {
			t.Fatal(err)
		}
		what := fmt.Sprintf("%s on %s (%q)", s.service, s.page, s.signature)
		if s.vendor == "" {
			if !bytes.Contains(raw, []byte(`href="`+s.signature)) {
				t.Errorf("%s: the page has no such link", what)
			}
			continue
		}
		found := carrying(htmlcheck.Inspect(raw), matcher, vendors, s.signature)
		if len(found) == 0 {
			t.Errorf("%s: the page loads or runs nothing with it", what)
		}
		for _, ids := range found {
			if !slices.Contains(ids, s.vendor) {
				t.Errorf("%s: recognised as %v, not %s", what, ids, s.vendor)
			}
		}
		_, body := gatewaytest.Get(t, undecided, base+"/"+s.page)
		switch live := len(carrying(htmlcheck.Inspect([]byte(body)), matcher, vendors, s.signature)) > 0; {
		case live && !s.live:
			t.Errorf("%s: live without consent", what)
		case !live && s.live:
			t.Errorf("%s: held back without consent, but it is needed to pay", what)
		case !strings.Contains(body, s.signature):
			t.Errorf("%s: gone from the page instead of held back for consent", what)
		}
	}
}

// TestShopNamesTheCompaniesItsPolicyNames: where the shop's policy
// (seeds/002) names the company behind a service, the banner and the
// shop's privacy page name the same one, in the same country.
func TestShopNamesTheCompaniesItsPolicyNames(t *testing.T) {
	base := startExample(t, "shop", t.TempDir())
	var details struct {
		Purposes []struct {
			Vendors []struct{ ID, Company, Country string } `json:"vendors"`
		} `json:"purposes"`
	}
	bannerDetails(t, gatewaytest.NewClient(t), base, &details)
	page, err := os.ReadFile(filepath.Join("examples", "shop", "site", "privacy.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []struct{ vendor, company, country string }{
		{"facebook-social", "Meta Platforms, Inc. (formerly Facebook, Inc.)", "US"}, // "Facebook, Inc., Menlo Park"
		{"instagram", "Instagram, Inc. (Meta Platforms, Inc.)", "US"},               // "Instagram, Inc., Menlo Park"
		{"twitter", "X Corp. (formerly Twitter, Inc.)", "US"},                       // "Twitter, Inc., San Francisco"
		{"login-with-amazon", "Amazon EU S.à r.l.", "LU"},                           // "Amazon EU S.à r.l."
	} {
		found := false
		for _, p := range details.Purposes {
			for _, v := range p.Vendors {
				if v.ID != want.vendor {
					continue
				}
				found = true
				if v.Company != want.company || v.Country != want.country {
					t.Errorf("the banner presents %s as %s (%s), want %s (%s)", v.ID, v.Company, v.Country, want.company, want.country)
				}
			}
		}
		if !found {
			t.Errorf("the banner does not list %s", want.vendor)
		}
		if !strings.Contains(string(page), want.company) {
			t.Errorf("privacy.html does not name %s for %s", want.company, want.vendor)
		}
	}
}

// carrying lists, for each load and inline script of a page whose URL or
// text contains signature, the ids of the vendors it is recognised as.
func carrying(page htmlcheck.Page, m *catalog.Matcher, vendors []catalog.Vendor, signature string) [][]string {
	ids := func(idx ...int) (out []string) {
		for _, i := range idx {
			if i >= 0 {
				out = append(out, vendors[i].ID)
			}
		}
		return out
	}
	var out [][]string
	for _, l := range page.Loads {
		if strings.Contains(l.URL, signature) {
			out = append(out, ids(m.Match(l.Kind, []byte(l.URL))))
		}
	}
	for _, script := range page.Scripts {
		if strings.Contains(script, signature) {
			out = append(out, ids(m.MatchInline([]byte(script), nil)...))
		}
	}
	return out
}

// TestCaddyfileExample: the README's first command runs the shop: the root
// Caddyfile.example adapts to the shop's config on :8080, and serves its
// pages.
func TestCaddyfileExample(t *testing.T) {
	cfg := adaptFile(t, "Caddyfile.example")
	if shop := adaptFile(t, filepath.Join("examples", "shop", "Caddyfile")); !bytes.Equal(cfg, shop) {
		t.Errorf("Caddyfile.example is not the shop's config:\n%s\n--- the shop's:\n%s", cfg, shop)
	}
	var c struct {
		Apps struct {
			HTTP struct {
				Servers map[string]struct {
					Listen []string `json:"listen"`
				} `json:"servers"`
			} `json:"http"`
		} `json:"apps"`
	}
	if err := json.Unmarshal(cfg, &c); err != nil {
		t.Fatal(err)
	}
	if len(c.Apps.HTTP.Servers) != 1 || !slices.Equal(c.Apps.HTTP.Servers["srv0"].Listen, []string{":8080"}) {
		t.Errorf("want one server on :8080, got %+v", c.Apps.HTTP.Servers)
	}
	handlers := 0
	findConsentHandlers(t, cfg, func(json.RawMessage) { handlers++ })
	if handlers != 1 || !bytes.Contains(cfg, []byte(`"root":"examples/shop/site"`)) || !bytes.Contains(cfg, []byte(`"handler":"file_server"`)) {
		t.Errorf("want a consent handler in front of file_server with root examples/shop/site:\n%s", cfg)
	}

	base := startCaddyfile(t, "Caddyfile.example", t.TempDir())
	c2 := gatewaytest.NewClient(t)
	gatewaytest.PostChoice(t, c2, base, `{"all":true}`)
	index, _ := os.ReadFile(filepath.Join("examples", "shop", "site", "index.html"))
	if resp, body := gatewaytest.Get(t, c2, base+"/"); resp.StatusCode != 200 || gatewaytest.WithoutHook(t, body) != string(index) {
		t.Errorf("/ is not the shop's home page behind the gateway (status %d)", resp.StatusCode)
	}
}

// TestInstituteLogRetention: the institute's policy keeps logs seven days at
// most. Files roll at midnight and a rolled file is deleted at the first
// midnight roll after it turned roll_keep_for old, so a line lives at most
// one day in the current file, roll_keep_for days in a backup, and one day
// until the next roll: roll_keep_for may be 5 days at most.
func TestInstituteLogRetention(t *testing.T) {
	var cfg struct {
		Logging struct {
			Logs map[string]struct {
				Writer struct {
					Output       string   `json:"output"`
					RollAt       []string `json:"roll_at"`
					RollKeepDays int      `json:"roll_keep_days"`
					RollLocal    bool     `json:"roll_local_time"`
					Filename     string   `json:"filename"`
				} `json:"writer"`
				Include []string `json:"include"`
				Exclude []string `json:"exclude"`
			} `json:"logs"`
		} `json:"logging"`
	}
	if err := json.Unmarshal(adaptFile(t, filepath.Join("examples", "institute", "Caddyfile")), &cfg); err != nil {
		t.Fatal(err)
	}
	var files []string
	for name, l := range cfg.Logging.Logs {
		if l.Writer.Output != "file" {
			continue
		}
		files = append(files, filepath.Base(l.Writer.Filename))
		w := l.Writer
		// Caddy's default when roll_keep_for is missing is 90 days.
		if !slices.Equal(w.RollAt, []string{"00:00"}) || w.RollKeepDays < 1 || w.RollKeepDays > 5 {
			t.Errorf("log %s rolls at %v and keeps backups %d days; want roll_at 00:00 and roll_keep_for 1d to 5d", name, w.RollAt, w.RollKeepDays)
		}
	}
	// The policy names two logs: the access log, and the error log with
	// the HTTP error code. Neither may go to stderr, which keeps no term.
	if slices.Sort(files); !slices.Equal(files, []string{"access.log", "error.log"}) {
		t.Errorf("want the access log and the error log in files, found %v", files)
	}
	if def := cfg.Logging.Logs["default"]; !slices.Contains(def.Exclude, "http.log.error") {
		t.Errorf("the default log (stderr) also takes Caddy's error log: %v", def.Exclude)
	}
}

// TestInstituteLogsOnlyWhatItsPolicyNames: the institute's policy (seeds/001)
// says its logs hold the address with its last two octets removed, the date
// and time, the referrer, the size and the status, the HTTP error code in
// the error log. Requests that carry much more (forwarding and client-IP
// headers, client hints, a referrer and a URL with queries) leave those in
// the access log and nothing of the rest; and Caddy's error log, which
// would otherwise go to stderr with the whole request, keeps the same and
// Caddy's words about the error.
//
// A static site gives a client no way to cause a 5xx, the only errors the
// error log keeps at its level; so the test lowers that log's level to
// debug, where Caddy's 404 is written to it, with the same fields a 5xx has.
func TestInstituteLogsOnlyWhatItsPolicyNames(t *testing.T) {
	logDir := t.TempDir()
	base := startExampleWith(t, "institute", logDir, func(cfg map[string]any) {
		errorLog := member(cfg, "logging", "logs", "errors")
		if errorLog == nil {
			t.Fatal(`the institute's Caddyfile has no "errors" log: Caddy's error log goes to stderr with the whole request`)
		}
		errorLog["level"] = "DEBUG"
	})
	c := gatewaytest.NewClient(t)
	private := []string{
		"Forwarded", "for=198.51.100.23;proto=https",
		"X-Forwarded-For", "203.0.113.77",
		"X-Real-IP", "203.0.113.78",
		"CF-Connecting-IP", "203.0.113.79",
		"True-Client-IP", "203.0.113.80",
		"X-Client-IP", "2001:db8:abcd:12::1",
		"Sec-CH-UA", `"Chromium";v="140", "Not=A?Brand";v="24"`,
		"Sec-CH-UA-Platform", `"SecretOS"`,
		"Sec-CH-UA-Model", `"Pixel-Secret"`,
		"User-Agent", "Tester/1.0",
		"Cookie", "session=cookie-secret",
		"Referer", "https://search.example/results?q=referrer-secret&uid=42",
	}
	gatewaytest.Get(t, c, base+"/research.html?token=query-secret", private...)
	gatewaytest.Get(t, c, base+"/missing.html?token=query-secret", private...)
	// Stopping Caddy flushes and closes the logs.
	gatewaytest.Stop(t)

	access := policyLogLines(t, filepath.Join(logDir, "access.log"), private, "research.html")
	want := []map[string]any{
		{"request>remote_ip": "127.0.0.0", "request>client_ip": "127.0.0.0", "referer": "https://search.example/results", "status": 200.0},
		{"request>remote_ip": "127.0.0.0", "request>client_ip": "127.0.0.0", "referer": "https://search.example/results", "status": 404.0},
	}
	if len(access) != len(want) {
		t.Fatalf("want %d access log lines, got %d", len(want), len(access))
	}
	for i, fields := range access {
		// (Caddy's own 404 has an empty body.)
		if size, ok := fields["size"].(float64); !ok || size <= 0 && fields["status"] == 200.0 {
			t.Errorf("access log line %d: no size of the response: %v", i+1, fields)
		}
		onlyNamed(t, "access log", i, fields, want[i], "size", "msg")
	}

	errs := policyLogLines(t, filepath.Join(logDir, "error.log"), private)
	if len(errs) != 1 {
		t.Fatalf("want the 404 in the error log, got %d lines", len(errs))
	}
	// What the error was (its message, Caddy's id for it and where in
	// Caddy it arose) is the error log's job.
	if msg, _ := errs[0]["msg"].(string); msg == "" {
		t.Errorf("the error log does not say what went wrong: %v", errs[0])
	}
	onlyNamed(t, "error log", 0, errs[0], map[string]any{"request>remote_ip": "127.0.0.0", "request>client_ip": "127.0.0.0", "status": 404.0}, "msg", "err_id", "err_trace")
}

// policyLogLines reads a log file of the institute's, checks that none of
// the private header values, queries, the full address or the extra words
// are in it, and returns its lines' fields with Caddy's level, logger name
// and time taken out (each line must have a time).
func policyLogLines(t *testing.T, file string, private []string, extra ...string) []map[string]any {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("no log: %v", err)
	}
	log := string(data)
	for i := 1; i < len(private); i += 2 {
		if strings.Contains(log, private[i]) {
			t.Errorf("%s keeps the %s header's %q:\n%s", filepath.Base(file), private[i-1], private[i], log)
		}
	}
	for _, secret := range append([]string{"query-secret", "referrer-secret", "Chromium", "127.0.0.1"}, extra...) {
		if strings.Contains(log, secret) {
			t.Errorf("%s contains %q:\n%s", filepath.Base(file), secret, log)
		}
	}
	var lines []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(log), "\n") {
		fields := map[string]any{}
		if err := flatten(line, fields); err != nil {
			t.Fatalf("%s: line is not JSON: %v\n%s", filepath.Base(file), err, line)
		}
		if ts, ok := fields["ts"].(float64); !ok || ts < 1e9 {
			t.Errorf("%s: no time of the request: %s", filepath.Base(file), line)
		}
		for _, k := range []string{"level", "logger", "ts"} {
			delete(fields, k)
		}
		lines = append(lines, fields)
	}
	return lines
}

// onlyNamed checks that a log line has the values want names and no field
// besides those and the ones allowed.
func onlyNamed(t *testing.T, log string, i int, fields, want map[string]any, allowed ...string) {
	t.Helper()
	for k, v := range want {
		if fields[k] != v {
			t.Errorf("%s line %d: %s is %v, want %v", log, i+1, k, fields[k], v)
		}
	}
	extra := slices.DeleteFunc(slices.Sorted(maps.Keys(fields)), func(k string) bool {
		_, named := want[k]
		return named || slices.Contains(allowed, k)
	})
	if len(extra) > 0 {
		t.Errorf("%s line %d logs %v, which the policy does not name: %v", log, i+1, extra, fields)
	}
}

// flatten reads a JSON object into fields, nested keys joined with ">" as
// in Caddy's log filters.
func flatten(line string, fields map[string]any) error {
	var obj map[string]any
	if err := json.Unmarshal([]byte(line), &obj); err != nil {
		return err
	}
	var walk func(prefix string, obj map[string]any)
	walk = func(prefix string, obj map[string]any) {
		for k, v := range obj {
			if inner, ok := v.(map[string]any); ok {
				walk(prefix+k+">", inner)
			} else {
				fields[prefix+k] = v
			}
		}
	}
	walk("", obj)
	return nil
}

// caddyfileSnippet finds the Caddyfile snippets of a Markdown file.
var caddyfileSnippet = regexp.MustCompile("(?s)```caddyfile\n(.*?)```")

// TestReadmeCaddyfiles: every Caddyfile snippet in the README and the guides
// in docs/ adapts, so the documentation cannot drift from the code. A bare
// `consent { … }` snippet is put in a site block first.
func TestReadmeCaddyfiles(t *testing.T) {
	docs, _ := filepath.Glob(filepath.Join("docs", "*.md"))
	total := 0
	for _, file := range append([]string{"README.md"}, docs...) {
		text, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for i, m := range caddyfileSnippet.FindAllSubmatch(text, -1) {
			total++
			if _, err := gatewaytest.Adapt(siteBlock(string(m[1]))); err != nil {
				t.Errorf("%s, Caddyfile snippet %d does not adapt: %v\n%s", file, i+1, err, m[1])
			}
		}
	}
	if total < 15 {
		t.Fatalf("found only %d Caddyfile snippets in README.md and docs/", total)
	}
}

// siteBlock puts a bare `consent { … }` snippet into a site block.
func siteBlock(snippet string) string {
	if strings.HasPrefix(snippet, "consent") {
		return ":8080 {\n" + snippet + "}\n"
	}
	return snippet
}

// TestReadmeJSONConfig: the README's JSON config is what its reference
// Caddyfile snippet adapts to.
func TestReadmeJSONConfig(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, _ := bytes.Cut(readme, []byte("\n## Caddyfile reference\n"))
	section, _, _ = bytes.Cut(section, []byte("\n## "))
	snippet := caddyfileSnippet.FindSubmatch(section)
	doc := regexp.MustCompile("(?s)```json\n(.*?)```").FindSubmatch(section)
	if snippet == nil || doc == nil {
		t.Fatal("the README's Caddyfile reference lacks its Caddyfile snippet or its JSON")
	}
	cfg, err := gatewaytest.Adapt(siteBlock(string(snippet[1])))
	if err != nil {
		t.Fatal(err)
	}
	var handlers []any
	findConsentHandlers(t, cfg, func(h json.RawMessage) {
		var v any
		_ = json.Unmarshal(h, &v)
		handlers = append(handlers, v)
	})
	var want any
	if err := json.Unmarshal(doc[1], &want); err != nil {
		t.Fatalf("the README's JSON config is not JSON: %v", err)
	}
	if len(handlers) != 1 || !reflect.DeepEqual(handlers[0], want) {
		got, _ := json.MarshalIndent(handlers, "", "  ")
		t.Errorf("the README's JSON config is not what its Caddyfile snippet adapts to:\n%s", got)
	}
}

// TestExamplesAskOnlyWhatTheirPoliciesName: each example's banner asks about
// the purposes its privacy policy names and lists the services its pages
// use, no others: the institute (no third parties) about nothing, so its
// banner does not open by itself; the portal (no analytics, no advertising)
// only about its newsletter form; the shop about the services its policy
// lists, every one its pages embed among them.
func TestExamplesAskOnlyWhatTheirPoliciesName(t *testing.T) {
	tests := []struct {
		name     string
		purposes []string
		vendors  []string // nil: every service the pages embed, and no other catalogued one
	}{
		{"institute", []string{"necessary"}, []string{}},
		{"portal", []string{"functional", "necessary"}, []string{"brevo"}},
		{"shop", []string{"analytics", "functional", "marketing", "necessary", "social"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := startExample(t, tt.name, t.TempDir())
			c := gatewaytest.NewClient(t)
			_, body := gatewaytest.Get(t, c, base+"/.consent/state")
			var state struct {
				Purposes map[string]bool `json:"purposes"`
			}
			if err := json.Unmarshal([]byte(body), &state); err != nil {
				t.Fatal(err)
			}
			if got := slices.Sorted(maps.Keys(state.Purposes)); !slices.Equal(got, tt.purposes) {
				t.Errorf("the banner asks about %v, want %v", got, tt.purposes)
			}
			var details struct {
				Purposes []struct {
					Vendors []struct{ ID string } `json:"vendors"`
				} `json:"purposes"`
			}
			bannerDetails(t, c, base, &details)
			listed := []string{}
			for _, p := range details.Purposes {
				for _, v := range p.Vendors {
					listed = append(listed, v.ID)
				}
			}
			slices.Sort(listed)
			if tt.vendors != nil && !slices.Equal(listed, tt.vendors) {
				t.Errorf("the banner lists %v, want %v", listed, tt.vendors)
			}
			vendors := exampleVendors(t, tt.name)
			matcher, err := catalog.NewMatcher(vendors)
			if err != nil {
				t.Fatal(err)
			}
			pages, _ := filepath.Glob(filepath.Join("examples", tt.name, "site", "*.html"))
			for _, file := range pages {
				original, _ := os.ReadFile(file)
				htmlcheck.Inspect(original).Trackers(matcher, vendors, func(v catalog.Vendor) bool {
					if !slices.Contains(listed, v.ID) {
						t.Errorf("%s embeds %s, which the banner does not list", filepath.Base(file), v.ID)
					}
					return true
				})
			}
		})
	}
}

// bannerDetails reads the second layer's list of services, as the banner
// on the home page fetches it, into v.
func bannerDetails(t *testing.T, c *http.Client, base string, v any) {
	t.Helper()
	_, page := gatewaytest.Get(t, c, base+"/")
	var cfg struct {
		Details string `json:"details"`
	}
	m := regexp.MustCompile(`<script type="application/json" id="consentgate-config">([^<]*)</script>`).FindStringSubmatch(page)
	if m == nil || json.Unmarshal([]byte(html.UnescapeString(m[1])), &cfg) != nil {
		t.Fatalf("no banner config on the home page")
	}
	_, body := gatewaytest.Get(t, c, base+cfg.Details)
	if err := json.Unmarshal([]byte(body), v); err != nil {
		t.Fatalf("details: %v in %s", err, body)
	}
}

// TestExamplesListTheConsentCookie: a site that asks for consent keeps the
// answer in a cookie, which is strictly necessary and is listed as such in
// the banner and, by name, in the privacy policy's section on cookies: the
// name the example has over plain HTTP, and the one it would have over
// HTTPS (no example sets cookie_domain), __Host- before it. The institute
// asks about nothing, so no cookie is ever set, as its policy (seeds/001:
// "does not create, save or use cookies") says.
func TestExamplesListTheConsentCookie(t *testing.T) {
	for _, name := range []string{"shop", "portal", "institute"} {
		t.Run(name, func(t *testing.T) {
			cookie := exampleCookieName(t, name)
			base := startExample(t, name, t.TempDir())
			var details struct {
				Purposes []struct {
					ID      string                            `json:"id"`
					Cookies []struct{ Name, Lifetime string } `json:"cookies"`
				} `json:"purposes"`
			}
			bannerDetails(t, gatewaytest.NewClient(t), base, &details)
			var banner []string
			for _, p := range details.Purposes {
				for _, c := range p.Cookies {
					banner = append(banner, p.ID+": "+c.Name+" "+c.Lifetime)
				}
			}
			raw, err := os.ReadFile(filepath.Join("examples", name, "site", "privacy.html"))
			if err != nil {
				t.Fatal(err)
			}
			_, section, _ := strings.Cut(string(raw), "<h2>Cookies</h2>")
			section, _, _ = strings.Cut(section, "<h2>")
			plainNamed := strings.Contains(section, "<code>"+cookie+"</code>")
			hostNamed := strings.Contains(section, "<code>__Host-"+cookie+"</code>")
			named := plainNamed && hostNamed
			if !asksAnything(t, base) {
				if len(banner) > 0 || plainNamed || hostNamed || !strings.Contains(section, "no cookies") {
					t.Errorf("asks about nothing, yet the banner lists %q or the policy names %s (or does not say it sets no cookies)", banner, cookie)
				}
				return
			}
			if want := []string{"necessary: " + cookie + " 210d"}; !slices.Equal(banner, want) {
				t.Errorf("the banner lists the site's own cookies as %q, want %q", banner, want)
			}
			if !named || !strings.Contains(section, "strictly necessary") || !strings.Contains(section, "210 days") {
				t.Errorf("the privacy policy's Cookies section does not name %s and __Host-%[1]s as strictly necessary, with its 210 days:\n%s", cookie, section)
			}
		})
	}
}

// exampleCookieName is the consent cookie's name in an example's config.
func exampleCookieName(t *testing.T, name string) string {
	t.Helper()
	cookie := caddymodule.DefaultCookieName
	findConsentHandlers(t, adaptFile(t, filepath.Join("examples", name, "Caddyfile")), func(h json.RawMessage) {
		var c struct {
			CookieName string `json:"cookie_name"`
		}
		if json.Unmarshal(h, &c) == nil && c.CookieName != "" {
			cookie = c.CookieName
		}
	})
	return cookie
}

// TestExamplesSpeakTheirVisitorsLanguage: the portal and the institute
// replace the banner's built-in text (and the portal the description of
// "functional") with what their policies say, in English and German. A
// German visitor reads the German words, not the built-in German text of
// statistics and marketing; a French visitor, for whom no text was given,
// gets the English banner rather than the built-in French one.
func TestExamplesSpeakTheirVisitorsLanguage(t *testing.T) {
	for name, want := range map[string][]string{
		"portal":    {"das Anmeldeformular für den Newsletter", "Das Anmeldeformular für den Newsletter, bereitgestellt vom Versanddienst Brevo"},
		"institute": {"Diese Website nutzt keine Dienste anderer Unternehmen"},
	} {
		base := startExample(t, name, t.TempDir())
		c := gatewaytest.NewClient(t)
		_, de := gatewaytest.Get(t, c, base+"/", "Accept-Language", "de-DE,de;q=0.9")
		for _, w := range want {
			if !strings.Contains(de, `"lang":"de"`) || !strings.Contains(de, w) {
				t.Errorf("%s, a German visitor: the banner lacks %q", name, w)
			}
		}
		if strings.Contains(de, "für Statistik, Marketing und eingebettete Inhalte") {
			t.Errorf("%s, a German visitor: the banner has the built-in text of statistics and marketing", name)
		}
		if _, fr := gatewaytest.Get(t, c, base+"/", "Accept-Language", "fr"); !strings.Contains(fr, `"lang":"en"`) {
			t.Errorf("%s, a French visitor: want the English banner", name)
		}
	}
}
