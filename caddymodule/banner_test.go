package caddymodule_test

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	xhtml "golang.org/x/net/html"

	"github.com/consentgate/consentgate/banner"
	"github.com/consentgate/consentgate/caddymodule/gatewaytest"
	"github.com/consentgate/consentgate/consent/cookie"
)

const gtagPage = `<!doctype html><html><head><title>t</title>` +
	`<script async src="https://www.googletagmanager.com/gtag/js?id=G-ABC123"></script>` +
	`<script>window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments)}gtag('js',new Date());gtag('config', 'G-ABC123');</script>` +
	`<script src="https://connect.facebook.net/en_US/fbevents.js"></script>` +
	`</head><body><h1>Shop</h1><iframe src="https://www.youtube.com/embed/xyz"></iframe></body></html>`

// startTrackerSite serves gtagPage behind a consent block with extra
// subdirectives.
func startTrackerSite(t *testing.T, extra string) string {
	t.Helper()
	port := freePort(t)
	startCaddy(t, fmt.Sprintf(`:%d {
	consent {
		privacy_policy /privacy.html
%s
	}
	respond /page.html `+"`%s`"+`
	header /page.html Content-Type text/html
	respond "ok"
}`, port, extra, gtagPage))
	return baseURL(port)
}

// parseHead returns the head's element children as parsed by a browser
// parser, and the body's first child.
func parsePage(t *testing.T, page string) (head []*xhtml.Node, bodyFirst *xhtml.Node) {
	t.Helper()
	doc, err := xhtml.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var walk func(*xhtml.Node)
	walk = func(n *xhtml.Node) {
		switch {
		case n.Type == xhtml.ElementNode && n.Data == "head":
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				if c.Type == xhtml.ElementNode {
					head = append(head, c)
				}
			}
		case n.Type == xhtml.ElementNode && n.Data == "body":
			bodyFirst = n.FirstChild
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return head, bodyFirst
}

func attr(n *xhtml.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// TestShimComesFirstAndKnowsTheGrants: the shim is the first script of the
// head, told what is granted, and served content-hashed with the policy's
// match data.
func TestShimComesFirstAndKnowsTheGrants(t *testing.T) {
	base := startTrackerSite(t, "")
	c := newClient(t)
	_, page := get(t, c, base+"/page.html")
	head, _ := parsePage(t, page)
	if len(head) == 0 || head[0].Data != "script" || !strings.HasPrefix(attr(head[0], "src"), "/.consent/shim.") {
		t.Fatalf("the shim is not the head's first element:\n%s", page)
	}
	if g := attr(head[0], "data-cg-granted"); g != "necessary" {
		t.Errorf("undecided visitor: data-cg-granted=%q, want only necessary", g)
	}
	shimURL := attr(head[0], "src")
	resp, shim := get(t, c, base+shimURL)
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") ||
		!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript") {
		t.Fatalf("shim: %d %q %q", resp.StatusCode, resp.Header.Get("Cache-Control"), resp.Header.Get("Content-Type"))
	}
	call := regexp.MustCompile(`\n__cgShim\((.*),("[^\n]*")\);\n$`).FindStringSubmatch(shim)
	if call == nil {
		t.Fatalf("shim does not end with its data call: ...%s", shim[max(0, len(shim)-200):])
	}
	var data [][4]json.RawMessage
	if err := json.Unmarshal([]byte(call[1]), &data); err != nil {
		t.Fatalf("shim data is not JSON: %v", err)
	}
	// Frames the shim holds get the gateway's own placeholder, so one CSP
	// hash admits the style of both.
	var placeholder string
	if err := json.Unmarshal([]byte(call[2]), &placeholder); err != nil || placeholder != banner.PlaceholderHead+"</p>" {
		t.Errorf("the shim's placeholder %q (%v) is not the gateway's", placeholder, err)
	}
	found := map[string]string{}
	for _, row := range data {
		var id, purpose string
		json.Unmarshal(row[0], &id)
		json.Unmarshal(row[1], &purpose)
		found[id] = purpose
		if id == "google-analytics" && !strings.Contains(string(row[3]), `["_ga",false]`) {
			t.Errorf("google-analytics cookies in shim data: %s", row[3])
		}
	}
	if found["facebook-pixel"] != "marketing" || found["google-analytics"] != "analytics" || found["paypal"] != "necessary" {
		t.Errorf("shim data lacks vendors or purposes: %v", found)
	}

	postChoice(t, c, base, `{"purposes":{"analytics":true},"vendors":{"youtube":true}}`)
	_, page = get(t, c, base+"/page.html")
	head, _ = parsePage(t, page)
	if g, v := attr(head[0], "data-cg-granted"), attr(head[0], "data-cg-vendors"); g != "necessary analytics" || v != "youtube" {
		t.Errorf("after a choice: data-cg-granted=%q data-cg-vendors=%q", g, v)
	}
	if !strings.Contains(page, `"vendors":["youtube"]`) {
		t.Errorf("the banner's state lacks the vendor allowed one by one")
	}
}

// TestSecondLayerDetails: the vendor list the second layer shows is served
// per language, cached forever, with each vendor's cookies.
func TestSecondLayerDetails(t *testing.T) {
	base := startTrackerSite(t, "")
	for _, lang := range []string{"en", "de"} {
		_, page := get(t, newClient(t), base+"/page.html", "Accept-Language", lang)
		var cfg struct {
			Details string `json:"details"`
			Lang    string `json:"lang"`
		}
		readConfig(t, page, &cfg)
		if cfg.Lang != lang || !strings.HasPrefix(cfg.Details, "/.consent/details."+lang+".") {
			t.Fatalf("%s: config lang %q details %q", lang, cfg.Lang, cfg.Details)
		}
		resp, body := get(t, newClient(t), base+cfg.Details)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" ||
			!strings.Contains(resp.Header.Get("Cache-Control"), "immutable") {
			t.Fatalf("%s details: %d %q", lang, resp.StatusCode, resp.Header.Get("Cache-Control"))
		}
		var details struct {
			Purposes []struct {
				ID      string `json:"id"`
				Vendors []struct {
					ID, Name, Company, Country, Description string
					PolicyURL                               string `json:"policy_url"`
					Cookies                                 []struct{ Name, Lifetime string }
				} `json:"vendors"`
			} `json:"purposes"`
		}
		if err := json.Unmarshal([]byte(body), &details); err != nil {
			t.Fatal(err)
		}
		var ga bool
		for _, p := range details.Purposes {
			for _, v := range p.Vendors {
				if v.ID != "google-analytics" {
					continue
				}
				ga = p.ID == "analytics" && v.Company != "" && v.Country == "IE" && v.PolicyURL != "" && len(v.Cookies) > 0 && v.Cookies[0].Lifetime == "2y"
				if lang == "de" && !strings.Contains(v.Description, "Website") {
					t.Errorf("German details carry %q", v.Description)
				}
			}
		}
		if !ga || len(details.Purposes) != 5 {
			t.Errorf("%s details incomplete: %s", lang, body[:min(len(body), 400)])
		}
	}
}

// TestSecondLayerListsTheConsentCookie: under "Strictly necessary" the
// second layer lists the cookie the gateway itself sets, by its configured
// name and with the longest life it can have; a site that asks about
// nothing never sets it and lists none.
func TestSecondLayerListsTheConsentCookie(t *testing.T) {
	for _, tt := range []struct {
		name, config string
		want         string // "name lifetime", "" for none
	}{
		{"default", "", "consentgate 210d"},
		{"renamed, longer refusals", "cookie_name cg_choice\nrenew_after 90d\nrefusal_renew_after 365d", "cg_choice 395d"},
		{"nothing to ask", "services declared", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			base := startPlainSite(t, tt.config)
			if listed := listedOwnCookies(t, newClient(t), base, "/page.html"); strings.Join(listed, ", ") != tt.want {
				t.Errorf("the site's own cookies are %q, want %q", listed, tt.want)
			}
		})
	}
}

// listedOwnCookies reads the second layer the banner of the page at path
// links to, and returns the site's own cookies it lists, as "name
// lifetime"; each must be listed under necessary and be HttpOnly.
func listedOwnCookies(t *testing.T, c *http.Client, base, path string) []string {
	t.Helper()
	_, page := get(t, c, base+path)
	var cfg struct {
		Details string `json:"details"`
	}
	readConfig(t, page, &cfg)
	_, body := get(t, c, base+cfg.Details)
	var details struct {
		Purposes []struct {
			ID      string `json:"id"`
			Cookies []struct {
				Name, Lifetime string
				HTTPOnly       bool `json:"http_only"`
			} `json:"cookies"`
		} `json:"purposes"`
	}
	if err := json.Unmarshal([]byte(body), &details); err != nil {
		t.Fatalf("the second layer %s: %v", cfg.Details, err)
	}
	var listed []string
	for _, p := range details.Purposes {
		for _, ck := range p.Cookies {
			if p.ID != "necessary" || !ck.HTTPOnly {
				t.Errorf("the site's own cookie %s is listed under %s, HttpOnly %v", ck.Name, p.ID, ck.HTTPOnly)
			}
			listed = append(listed, ck.Name+" "+ck.Lifetime)
		}
	}
	return listed
}

// startPlainSite serves /page.html, which loads nothing from another host
// (so it adds nothing to the process-wide third-party scan), behind a
// consent block with the extra lines.
func startPlainSite(t *testing.T, extra string) string {
	t.Helper()
	port := freePort(t)
	startCaddy(t, fmt.Sprintf(`:%d {
	consent {
%s
	}
	respond /page.html "<!doctype html><html lang=en><head><title>Plain</title></head><body><p>Nothing from elsewhere.</p></body></html>"
	header /page.html Content-Type text/html
}`, port, extra))
	return baseURL(port)
}

func readConfig(t *testing.T, page string, v any) {
	t.Helper()
	m := regexp.MustCompile(`<script type="application/json" id="consentgate-config">([^<]*)</script>`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no config block in %s", page)
	}
	if err := json.Unmarshal([]byte(m[1]), v); err != nil {
		t.Fatalf("config block: %v", err)
	}
}

// TestNoscriptForm: without a choice, the body starts with a plain form that
// posts to the choice endpoint and comes back to this page; after a choice
// it is gone.
func TestNoscriptForm(t *testing.T) {
	base := startTrackerSite(t, "")
	c := newClient(t)
	_, page := get(t, c, base+"/page.html?ref=a&b=<x>")
	_, first := parsePage(t, page)
	if first == nil || first.Type != xhtml.ElementNode || first.Data != "noscript" {
		t.Fatalf("the body does not start with the no-JavaScript form:\n%s", page)
	}
	// Inside <noscript> a scripting browser sees text; parse it as markup,
	// as a browser without JavaScript does.
	form, err := xhtml.Parse(strings.NewReader(escText(first)))
	if err != nil {
		t.Fatal(err)
	}
	var inputs = map[string]string{}
	var buttons []string
	var action string
	var walk func(*xhtml.Node)
	walk = func(n *xhtml.Node) {
		if n.Type == xhtml.ElementNode {
			switch n.Data {
			case "form":
				action = attr(n, "method") + " " + attr(n, "action")
			case "input":
				inputs[attr(n, "name")] = attr(n, "value")
			case "button":
				buttons = append(buttons, attr(n, "value"))
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(form)
	if action != "post /.consent/choice" || inputs["return"] != "/page.html?ref=a&b=<x>" ||
		strings.Join(buttons, ",") != "accept_all,reject_all" {
		t.Errorf("form: %q return=%q buttons=%v", action, inputs["return"], buttons)
	}
	// Once decided, the form that changes the choice takes its place: after
	// Reject all it offers Accept all alone.
	postChoice(t, c, base, `{"all":false}`)
	_, page = get(t, c, base+"/page.html")
	if forms := gatewaytest.NoscriptPattern.FindAllString(page, -1); len(forms) != 1 ||
		strings.Contains(forms[0], `value="reject_all"`) || !strings.Contains(forms[0], `value="accept_all"`) || strings.Contains(forms[0], `value="withdraw"`) {
		t.Errorf("after Reject all, want the form offering Accept all alone: %q", forms)
	}
}

// TestConsentModeBasic: the gtag consent default precedes every Google tag;
// a decided visitor's update is rendered into the same script; the tags stay
// blocked until consent.
func TestConsentModeBasic(t *testing.T) {
	base := startTrackerSite(t, "consent_mode basic")
	c := newClient(t)
	_, page := get(t, c, base+"/page.html")
	head, _ := parsePage(t, page)
	if len(head) < 2 || head[0].Data != "script" || !strings.Contains(escText(head[0]), `gtag("consent","default",{`) {
		t.Fatalf("Consent Mode default is not the first script:\n%s", page)
	}
	def := escText(head[0])
	for _, want := range []string{`"ad_storage":"denied"`, `"ad_user_data":"denied"`, `"ad_personalization":"denied"`,
		`"analytics_storage":"denied"`, `"functionality_storage":"denied"`, `"personalization_storage":"denied"`,
		`"security_storage":"denied"`, `"wait_for_update":500`} {
		if !strings.Contains(def, want) {
			t.Errorf("default lacks %s: %s", want, def)
		}
	}
	if strings.Contains(def, `"update"`) {
		t.Errorf("undecided visitor got an update: %s", def)
	}
	if !strings.Contains(page, `data-consent-vendor="google-analytics"`) {
		t.Errorf("basic mode let the Google tag load before consent")
	}
	postChoice(t, c, base, `{"purposes":{"analytics":true}}`)
	_, page = get(t, c, base+"/page.html")
	head, _ = parsePage(t, page)
	upd := escText(head[0])
	// Every type, in order; security_storage follows the necessary purpose.
	if !strings.Contains(upd, `gtag("consent","update",{"ad_personalization":"denied","ad_storage":"denied","ad_user_data":"denied","analytics_storage":"granted",`+
		`"functionality_storage":"denied","personalization_storage":"denied","security_storage":"granted"});`) {
		t.Errorf("server-rendered update: %s", upd)
	}
	var cfg struct {
		ConsentMode struct {
			Mode string            `json:"mode"`
			Map  map[string]string `json:"map"`
		} `json:"consent_mode"`
	}
	readConfig(t, page, &cfg)
	if cfg.ConsentMode.Mode != "basic" || cfg.ConsentMode.Map["analytics_storage"] != "analytics" {
		t.Errorf("banner config lacks Consent Mode: %+v", cfg.ConsentMode)
	}
}

// TestConsentModeAdvanced: Google tags load before consent (denied), other
// trackers stay blocked, and the shim lets the Google tags through too.
func TestConsentModeAdvanced(t *testing.T) {
	base := startTrackerSite(t, "consent_mode advanced")
	c := newClient(t)
	_, page := get(t, c, base+"/page.html")
	if strings.Contains(page, `data-consent-vendor="google-analytics"`) || !strings.Contains(page, `<script async src="https://www.googletagmanager.com/gtag/js?id=G-ABC123">`) {
		t.Errorf("advanced mode blocked the Google tag:\n%s", page)
	}
	if !strings.Contains(page, `data-consent-vendor="facebook-pixel"`) {
		t.Errorf("advanced mode let the Facebook pixel through")
	}
	if !strings.Contains(page, `gtag("set","ads_data_redaction",true)`) {
		t.Errorf("advanced mode does not redact ads data while denied")
	}
	head, _ := parsePage(t, page)
	_, shim := get(t, c, base+attr(head[1], "src"))
	if !strings.Contains(shim, `["google-analytics","necessary"`) || !strings.Contains(shim, `["facebook-pixel","marketing"`) {
		t.Errorf("shim data in advanced mode: Google tags must pass, others not")
	}
}

// TestBannerTheme: operator colours and position reach the banner config;
// anything but a hex colour is refused at load.
func TestBannerTheme(t *testing.T) {
	base := startTrackerSite(t, "banner {\n\tposition bottom-left\n\tbackground \"#102030\"\n\ttext fff\n\taccent \"#ffcc00\"\n}")
	_, page := get(t, newClient(t), base+"/page.html")
	var cfg struct{ Theme map[string]string }
	readConfig(t, page, &cfg)
	if cfg.Theme["position"] != "bottom-left" || cfg.Theme["background"] != "#102030" || cfg.Theme["text"] != "#fff" || cfg.Theme["accent"] != "#ffcc00" {
		t.Errorf("theme: %v", cfg.Theme)
	}
	for _, bad := range []string{
		"banner {\n\tbackground red\n}",
		"banner {\n\tbackground \"#12345\"\n}",
		"banner {\n\tposition left\n}",
		"banner {\n\tbackground url(x)\n}",
		"banner {\n\tcolour #fff\n}",
		"consent_mode full",
		"consent_mode basic advanced",
	} {
		_, err := gatewaytest.Adapt(":80 {\n\tconsent {\n" + bad + "\n\t}\n}")
		if err == nil || !strings.Contains(err.Error(), "Caddyfile:") {
			t.Errorf("%q: want an error naming the line, got %v", bad, err)
		}
	}
}

// TestWithdrawExpiresVendorCookies: withdrawing expires every cookie of a
// withdrawn vendor the browser sent (HttpOnly ones too, which scripts cannot
// reach), on the host and its parent domains; other cookies stay.
func TestWithdrawExpiresVendorCookies(t *testing.T) {
	base := startTrackerSite(t, "")
	c := newClient(t)
	postChoice(t, c, base, `{"all":true}`)
	req, _ := http.NewRequest("POST", base+"/.consent/choice", strings.NewReader(`{"withdraw":true}`))
	req.Header.Set("Content-Type", "application/json")
	req.AddCookie(&http.Cookie{Name: "_ga", Value: "GA1.1.1"})
	req.AddCookie(&http.Cookie{Name: "_ga_ABC123", Value: "GS1"})
	req.AddCookie(&http.Cookie{Name: "_fbp", Value: "fb.1"})
	req.AddCookie(&http.Cookie{Name: "cart", Value: "3"})
	for range 50 { // a name sent again and again is expired once per domain
		req.AddCookie(&http.Cookie{Name: "_ga", Value: "GA1.1.1"})
	}
	req.Host = "www.shop.example.com"
	resp, body := do(t, c, req)
	if resp.StatusCode != 200 {
		t.Fatalf("withdraw: %d %s", resp.StatusCode, body)
	}
	expired := map[string][]string{}
	for _, ck := range resp.Cookies() {
		if ck.MaxAge < 0 {
			expired[ck.Name] = append(expired[ck.Name], ck.Domain)
		}
	}
	for _, name := range []string{"_ga", "_ga_ABC123", "_fbp"} {
		if got := strings.Join(expired[name], ","); got != ",www.shop.example.com,shop.example.com,example.com" {
			t.Errorf("%s expired on %q", name, got)
		}
	}
	if len(expired["cart"]) > 0 || len(expired["consentgate"]) > 0 {
		t.Errorf("withdrawal expired the site's own cookies: %v", expired)
	}
	// Narrowing a choice expires only what it takes back.
	req, _ = http.NewRequest("POST", base+"/.consent/choice", strings.NewReader(`{"purposes":{"analytics":true}}`))
	req.Header.Set("Content-Type", "application/json")
	req.AddCookie(&http.Cookie{Name: "_ga", Value: "GA1.1.1"})
	req.AddCookie(&http.Cookie{Name: "_fbp", Value: "fb.1"})
	resp, _ = do(t, c, req)
	var names []string
	for _, ck := range resp.Cookies() {
		if ck.MaxAge < 0 {
			names = append(names, ck.Name)
		}
	}
	if strings.Join(names, ",") != "_fbp" {
		t.Errorf("granting analytics only expired %v, want only _fbp", names)
	}
}

// TestPlaceholderAcceptIsRecorded: "always allow" on a click-to-load
// placeholder is its own kind of proof.
func TestPlaceholderAcceptIsRecorded(t *testing.T) {
	base := startTrackerSite(t, "")
	c := newClient(t)
	postChoice(t, c, base, `{"purposes":{},"vendors":{"youtube":true},"layer":"placeholder","action":"load_embed","control":"always_allow"}`)
	_, body := get(t, c, base+"/.consent/proofs")
	var own ownRecords
	if err := json.Unmarshal([]byte(body), &own); err != nil || len(own.Records) != 1 {
		t.Fatalf("proofs: %s", body)
	}
	if r := own.Records[0]; r.Type != "placeholder_accept" || r.How.Layer != "placeholder" || r.How.Control != "always_allow" {
		t.Errorf("placeholder accept recorded as %+v", r)
	}
	if _, page := get(t, c, base+"/page.html"); strings.Contains(page, `data-consent-vendor="youtube"`) {
		t.Errorf("the always-allowed vendor is still blocked")
	}
}

// TestRenewalAndScope: a consent and a refusal each last their own
// lifetime, after which the banner comes back; cookie_domain shares the
// consent across subdomains.
func TestRenewalAndScope(t *testing.T) {
	hash, block := make([]byte, 32), make([]byte, 32)
	for i := range hash {
		hash[i], block[i] = byte(i), byte(100+i)
	}
	port := freePort(t)
	startCaddy(t, fmt.Sprintf(`:%d {
	consent {
		key %x %x
		renew_after 90d
		refusal_renew_after 30d
		cookie_domain example.test
	}
	respond "ok"
}`, port, hash, block))
	base := baseURL(port)
	version := getState(t, newClient(t), base).PolicyVersion

	for _, tc := range []struct {
		body   string
		maxAge int
	}{{`{"all":true}`, (90 + 30) * 86400}, {`{"all":false}`, (30 + 30) * 86400}} { // each lifetime plus 30 days' grace
		req, _ := http.NewRequest("POST", base+"/.consent/choice", strings.NewReader(tc.body))
		req.Header.Set("Content-Type", "application/json")
		req.Host = "www.example.test"
		resp, _ := do(t, newClient(t), req)
		var set *http.Cookie
		for _, ck := range resp.Cookies() {
			if ck.Name == "consentgate" {
				set = ck
			}
		}
		if set == nil || set.Domain != "example.test" || set.MaxAge != tc.maxAge {
			t.Errorf("%s: consent cookie %+v, want Domain=example.test Max-Age=%d", tc.body, set, tc.maxAge)
		}
	}

	codec, err := cookie.NewCodec("consentgate", []cookie.KeyPair{{Hash: hash, Block: block}}, 365*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	daysAgo := func(d int) int64 { return time.Now().Add(-time.Duration(d) * 24 * time.Hour).Unix() }
	for _, tc := range []struct {
		name     string
		purposes []string
		age      int
		decided  bool
	}{
		{"a consent 80 days old", []string{"analytics"}, 80, true},
		{"a consent 100 days old", []string{"analytics"}, 100, false},
		{"a refusal 20 days old", nil, 20, true},
		{"a refusal 40 days old", nil, 40, false},
	} {
		value, err := codec.Encode(cookie.Consent{ID: cookie.NewID(), Version: version, Purposes: tc.purposes, Time: daysAgo(tc.age)})
		if err != nil {
			t.Fatal(err)
		}
		s := getState(t, newClient(t), base, "Cookie", "consentgate="+value)
		if s.Decided != tc.decided {
			t.Errorf("%s: decided=%v, want %v (the banner must come back once a choice is older than its lifetime)", tc.name, s.Decided, tc.decided)
		}
	}
}

// TestPageCacheKeyedOnEveryState: a page cached before a choice, or in
// another language, is never revalidated as fresh — not by its ETag, not by
// its date — while the same state gets its 304.
func TestPageCacheKeyedOnEveryState(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "index.html"), []byte("<!doctype html><html><head><title>t</title></head><body>hi</body></html>"), 0o644); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	startCaddy(t, fmt.Sprintf(":%d {\n\tconsent\n\troot * %s\n\tfile_server\n}", port, dir))
	base := baseURL(port)
	c := newClient(t)
	resp, _ := get(t, c, base+"/")
	undecided, modified := resp.Header.Get("Etag"), resp.Header.Get("Last-Modified")
	vary := strings.Join(resp.Header.Values("Vary"), ",")
	if undecided == "" || modified == "" || !strings.Contains(vary, "Cookie") || !strings.Contains(vary, "Accept-Language") ||
		!strings.Contains(resp.Header.Get("Cache-Control"), "no-cache") {
		t.Fatalf("page headers: ETag %q Last-Modified %q Vary %q Cache-Control %q", undecided, modified, vary, resp.Header.Get("Cache-Control"))
	}
	postChoice(t, c, base, `{"all":false}`) // grants nothing more, but the banner is gone
	resp, body := get(t, c, base+"/", "If-None-Match", undecided, "If-Modified-Since", modified)
	refused := resp.Header.Get("Etag")
	if resp.StatusCode != 200 || refused == undecided || strings.Contains(body, `value="reject_all"`) {
		t.Errorf("after Reject all, the page cached before: %d, ETag %q (was %q)", resp.StatusCode, refused, undecided)
	}
	if resp, _ := get(t, c, base+"/", "If-None-Match", refused); resp.StatusCode != http.StatusNotModified {
		t.Errorf("the same state's page: %d, want 304", resp.StatusCode)
	}
	if resp, _ := get(t, c, base+"/", "If-None-Match", refused, "Accept-Language", "de"); resp.StatusCode != 200 {
		t.Errorf("another language revalidated the English page: %d", resp.StatusCode)
	}
	if resp, _ := get(t, c, base+"/", "If-Modified-Since", modified); resp.StatusCode != 200 {
		t.Errorf("a date alone revalidated a page: %d", resp.StatusCode)
	}
}

// TestConsentCookieSecureOnHTTPS: over HTTPS the consent cookie is Secure
// as well as HttpOnly and SameSite=Lax; behind a TLS-terminating proxy it
// is Secure when the proxy is one of the server's trusted_proxies and says
// X-Forwarded-Proto: https (the header from anyone else is ignored), and
// with cookie_secure always it is Secure even over plain HTTP. The cookies
// the gateway expires follow the same rule: a vendor cookie a choice takes
// back, and the consent cookie a visitor's erasure forgets. A Secure
// consent cookie (without cookie_domain) is named __Host-consentgate.
func TestConsentCookieSecureOnHTTPS(t *testing.T) {
	tlsPort, proxiedPort, directPort, alwaysPort := freePort(t), freePort(t), freePort(t), freePort(t)
	gatewaytest.Start(t, fmt.Sprintf(`{
	admin off
	persist_config off
	skip_install_trust
	local_certs
	servers :%d {
		trusted_proxies static private_ranges
	}
	log {
		level ERROR
	}
}
https://localhost:%d {
	tls internal
	consent
	respond "ok"
}
http://127.0.0.1:%d, http://127.0.0.1:%d {
	consent
	respond "ok"
}
http://127.0.0.1:%d {
	consent {
		cookie_secure always
	}
	respond "ok"
}`, proxiedPort, tlsPort, proxiedPort, directPort, alwaysPort))
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	// send makes a request with the given cookies and returns the cookies
	// its answer sets, by name.
	send := func(method, url, body string, cookies []*http.Cookie, headers ...string) (map[string][]*http.Cookie, error) {
		req, _ := http.NewRequest(method, url, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		for _, c := range cookies {
			req.AddCookie(c)
		}
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return nil, fmt.Errorf("%s %s: %d", method, url, resp.StatusCode)
		}
		return cookiesSet(resp), nil
	}
	// check rejects all with a Google Analytics cookie (which the choice
	// expires), then erases the visitor's records (which forgets the consent
	// cookie), and fails unless every cookie set is HttpOnly, SameSite=Lax
	// and Secure exactly when want says.
	check := func(what, base string, want bool, headers ...string) error {
		set, err := send("POST", base+"/.consent/choice", `{"all":false}`, []*http.Cookie{{Name: "_ga", Value: "GA1.1.1"}}, headers...)
		if err != nil {
			return err
		}
		name := "consentgate"
		if want {
			name = "__Host-consentgate"
		}
		if len(set[name]) != 1 || len(set["_ga"]) == 0 || len(set) != 2 {
			t.Fatalf("%s: the choice set %v, want the consent cookie (%s) and _ga expired", what, set, name)
		}
		erased, err := send("DELETE", base+"/.consent/proofs", "", set[name], headers...)
		if err != nil {
			t.Fatalf("%s: erasing: %v", what, err)
		}
		if len(erased[name]) != 1 || erased[name][0].MaxAge >= 0 {
			t.Fatalf("%s: erasing set %v, want the consent cookie expired", what, erased)
		}
		for _, cs := range [][]*http.Cookie{set[name], set["_ga"], erased[name]} {
			for _, c := range cs {
				if c.Secure != want || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode {
					t.Errorf("%s: cookie %+v, want Secure=%v, HttpOnly, SameSite=Lax", what, c, want)
				}
			}
		}
		return nil
	}

	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		// The internal CA issues the site's certificate in the background.
		err := check("over HTTPS", fmt.Sprintf("https://localhost:%d", tlsPort), true)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("choice over HTTPS: %v", err)
		}
	}

	for _, tt := range []struct {
		what    string
		port    int
		headers []string
		secure  bool
	}{
		{"from a trusted proxy that terminated TLS", proxiedPort, []string{"X-Forwarded-Proto", "https"}, true},
		{"from a trusted proxy, plain HTTP", proxiedPort, []string{"X-Forwarded-Proto", "http"}, false},
		{"from a trusted proxy, no X-Forwarded-Proto", proxiedPort, nil, false},
		{"X-Forwarded-Proto from an untrusted client", directPort, []string{"X-Forwarded-Proto", "https"}, false},
		{"cookie_secure always, plain HTTP", alwaysPort, nil, true},
	} {
		if err := check(tt.what, baseURL(tt.port), tt.secure, tt.headers...); err != nil {
			t.Fatalf("%s: %v", tt.what, err)
		}
	}
}

// TestSeveralConsentCookies: a browser that holds two consent cookies (one
// set before cookie_domain was configured, one after) is judged by its
// newest decision, whichever it sends first, and the next choice expires
// the stray one so that only the new choice is left.
func TestSeveralConsentCookies(t *testing.T) {
	hash, block := make([]byte, 32), make([]byte, 32)
	for i := range hash {
		hash[i], block[i] = byte(3*i), byte(200-i)
	}
	port := freePort(t)
	startCaddy(t, fmt.Sprintf(`:%d {
	consent {
		key %x %x
		cookie_domain example.test
	}
	respond "ok"
}`, port, hash, block))
	base := baseURL(port)
	version := getState(t, newClient(t), base).PolicyVersion
	codec, err := cookie.NewCodec("consentgate", []cookie.KeyPair{{Hash: hash, Block: block}}, 365*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	encode := func(purposes []string, age time.Duration) string {
		v, err := codec.Encode(cookie.Consent{ID: cookie.NewID(), Version: version, Purposes: purposes, Time: time.Now().Add(-age).Unix()})
		if err != nil {
			t.Fatal(err)
		}
		return "consentgate=" + v
	}
	accepted, refusedLater := encode([]string{"analytics", "marketing"}, 2*time.Hour), encode(nil, time.Hour)
	acceptedLater := encode([]string{"analytics"}, 30*time.Minute)
	acceptedNow, refusedNow := encode([]string{"analytics"}, 0), encode(nil, 0)
	for _, tc := range []struct {
		name, cookies string
		analytics     bool
	}{
		{"an accept, then a refusal", accepted + "; " + refusedLater, false},
		{"a refusal sent after the older accept", refusedLater + "; " + accepted, false},
		{"a refusal, then an accept", refusedLater + "; " + acceptedLater, true},
		{"the newer accept sent first", acceptedLater + "; " + refusedLater, true},
		{"an accept and a refusal of the same second", acceptedNow + "; " + refusedNow, false},
		{"a refusal and an accept of the same second", refusedNow + "; " + acceptedNow, false},
		{"a broken cookie before a valid one", "consentgate=garbage; " + acceptedLater, true},
	} {
		if s := getState(t, newClient(t), base, "Cookie", tc.cookies); !s.Decided || s.Purposes["analytics"] != tc.analytics {
			t.Errorf("%s: decided %v, analytics %v; want decided, analytics %v", tc.name, s.Decided, s.Purposes["analytics"], tc.analytics)
		}
	}

	req, _ := http.NewRequest("POST", base+"/.consent/choice", strings.NewReader(`{"all":false}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Cookie", accepted+"; "+acceptedLater)
	req.Host = "www.example.test"
	resp, _ := do(t, newClient(t), req)
	var expired, set []string
	for _, ck := range resp.Cookies() {
		switch {
		case ck.Name != "consentgate":
		case ck.MaxAge < 0:
			expired = append(expired, "Domain="+ck.Domain)
		default:
			set = append(set, "Domain="+ck.Domain)
		}
	}
	if !slices.Contains(expired, "Domain=") || slices.Contains(expired, "Domain=example.test") || !slices.Equal(set, []string{"Domain=example.test"}) {
		t.Errorf("a choice from a browser with two consent cookies expired %v and set %v; want the host-only one expired and the one on example.test set", expired, set)
	}
}

// TestHostOutsideCookieDomain: a site asked for under a host that
// cookie_domain does not cover (a mistake, or a second domain) gets its
// consent cookie for the host alone, which the browser keeps, instead of
// one it refuses (which would ask the visitor on every page and record a
// proof for each answer); the log says so once. Hosts inside it share it.
func TestHostOutsideCookieDomain(t *testing.T) {
	site, _, logFile := auditGateway(t, "cookie-domain", "cookie_domain example.test")
	consentCookie := func(host string) *http.Cookie {
		t.Helper()
		req, _ := http.NewRequest("POST", site+"/.consent/choice", strings.NewReader(`{"all":true}`))
		req.Header.Set("Content-Type", "application/json")
		req.Host = host
		resp, body := do(t, newClient(t), req)
		for _, ck := range resp.Cookies() {
			if ck.Name == "consentgate" {
				return ck
			}
		}
		t.Fatalf("%s: no consent cookie (%d %s)", host, resp.StatusCode, body)
		return nil
	}
	if ck := consentCookie("shop.example.test"); ck.Domain != "example.test" {
		t.Errorf("shop.example.test: Domain=%q, want example.test", ck.Domain)
	}
	for range 2 {
		if ck := consentCookie("example.org"); ck.Domain != "" {
			t.Errorf("example.org: Domain=%q, which the browser would refuse; want none", ck.Domain)
		}
	}
	// A browser on the host keeps it: the next visit is decided.
	c := newClient(t)
	postChoice(t, c, site, `{"all":false}`)
	if s := getState(t, c, site); !s.Decided {
		t.Errorf("on %s the choice was not kept", site)
	}
	logs, _ := os.ReadFile(logFile)
	if n := strings.Count(string(logs), "outside cookie_domain"); n != 1 || !strings.Contains(string(logs), `"host":"example.org"`) {
		t.Errorf("the mismatch is logged %d times, want once naming example.org:\n%s", n, logs)
	}
}
