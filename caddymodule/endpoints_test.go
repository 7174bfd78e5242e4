package caddymodule_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/consentgate/consentgate/caddymodule/gatewaytest"
)

func startSite(t *testing.T) string {
	t.Helper()
	port := freePort(t)
	startCaddy(t, fmt.Sprintf(`:%d {
	consent {
		privacy_policy /privacy.html
	}
	respond "<html><head></head><body>ok</body></html>"
	header Content-Type text/html
}`, port))
	return baseURL(port)
}

type stateJSON struct {
	Decided       bool            `json:"decided"`
	Purposes      map[string]bool `json:"purposes"`
	PolicyVersion string          `json:"policy_version"`
	Signal        bool            `json:"signal"`
	Changed       string          `json:"changed"`
}

func getState(t *testing.T, c *http.Client, base string, headers ...string) stateJSON {
	t.Helper()
	resp, body := get(t, c, base+"/.consent/state", headers...)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("state: %d %s", resp.StatusCode, body)
	}
	var s stateJSON
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		t.Fatalf("state is not JSON: %v: %s", err, body)
	}
	return s
}

func TestStateAndJSONChoice(t *testing.T) {
	base := startSite(t)
	c := newClient(t)
	s := getState(t, c, base)
	if s.Decided || s.PolicyVersion == "" || len(s.Purposes) != 5 || !s.Purposes["necessary"] || s.Purposes["analytics"] {
		t.Fatalf("fresh state: %+v", s)
	}
	postChoice(t, c, base, `{"purposes":{"analytics":true,"marketing":false}}`)
	s = getState(t, c, base)
	if !s.Decided || !s.Purposes["analytics"] || s.Purposes["marketing"] || !s.Purposes["necessary"] {
		t.Fatalf("after choice: %+v", s)
	}
	// The cookie is HttpOnly, SameSite=Lax, for the whole site, and lasts
	// 30 days past the choice's 180 (so that its expiry can be recorded).
	req, _ := http.NewRequest("POST", base+"/.consent/choice", strings.NewReader(`{"all":false}`))
	req.Header.Set("Content-Type", "application/json")
	resp, body := do(t, c, req)
	if resp.StatusCode != 200 {
		t.Fatalf("reject all: %d %s", resp.StatusCode, body)
	}
	var after stateJSON
	json.Unmarshal([]byte(body), &after)
	if !after.Decided || after.Purposes["analytics"] {
		t.Errorf("reject-all answer: %+v", after)
	}
	set := resp.Header.Get("Set-Cookie")
	for _, want := range []string{"consentgate=", "Path=/", "HttpOnly", "SameSite=Lax", "Max-Age=18144000"} {
		if !strings.Contains(set, want) {
			t.Errorf("Set-Cookie %q lacks %q", set, want)
		}
	}
}

func TestGPCSwitchesOffMarketing(t *testing.T) {
	base := startSite(t)
	c := newClient(t)
	postChoice(t, c, base, `{"all":true}`)
	s := getState(t, c, base, "Sec-GPC", "1")
	if s.Purposes["marketing"] || !s.Purposes["analytics"] || !s.Signal {
		t.Errorf("with Sec-GPC after an opt-in made without it: %+v", s)
	}
	// An explicit opt-in made while the signal is sent outranks it.
	req, _ := http.NewRequest("POST", base+"/.consent/choice", strings.NewReader(`{"purposes":{"marketing":true}}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Sec-GPC", "1")
	do(t, c, req)
	if s := getState(t, c, base, "Sec-GPC", "1"); !s.Purposes["marketing"] {
		t.Errorf("explicit opt-in under GPC not honoured: %+v", s)
	}
	resp, body := get(t, c, base+"/.well-known/gpc.json")
	if resp.StatusCode != 200 || !strings.Contains(body, `"gpc":true`) {
		t.Errorf("gpc.json: %d %s", resp.StatusCode, body)
	}
}

func TestFormChoiceWithoutJavaScript(t *testing.T) {
	base := startSite(t)
	c := newClient(t)
	form := url.Values{"action": {"save"}, "purpose": {"social", "analytics"}, "return": {"/shop/item?id=3"}}
	req, _ := http.NewRequest("POST", base+"/.consent/choice", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	resp, _ := do(t, c, req)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/shop/item?id=3" {
		t.Fatalf("form post: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if s := getState(t, c, base); !s.Purposes["social"] || !s.Purposes["analytics"] || s.Purposes["marketing"] {
		t.Errorf("after form: %+v", s)
	}
}

// TestChoiceRejectsBadInput: every bad post gets a 4xx JSON error and
// changes nothing: no cookie, no proof in the store.
func TestChoiceRejectsBadInput(t *testing.T) {
	base, admin, _ := auditGateway(t, "bad-input")
	cases := []struct {
		name, ctype, body string
		headers           map[string]string
		status            int
		want              string
	}{
		{"malformed json", "application/json", `{"purposes":`, nil, 400, "malformed choice"},
		{"unknown purpose", "application/json", `{"purposes":{"spying":true}}`, nil, 400, `unknown purpose \"spying\"`},
		{"unknown vendor", "application/json", `{"vendors":{"nobody":true}}`, nil, 400, `unknown vendor \"nobody\"`},
		{"unknown field", "application/json", `{"everything":true}`, nil, 400, "unknown field"},
		{"both forms", "application/json", `{"all":true,"purposes":{}}`, nil, 400, "give one of"},
		{"empty", "application/json", `{}`, nil, 400, "needs"},
		{"trailing", "application/json", `{"all":true} {"all":false}`, nil, 400, "trailing"},
		{"member twice", "application/json", `{"all":true,"all":false}`, nil, 400, `\"all\" given twice`},
		{"member twice in another case", "application/json", `{"all":true,"All":false}`, nil, 400, `\"All\" given twice`},
		{"purpose twice", "application/json", `{"purposes":{"analytics":true,"analytics":false}}`, nil, 400, `\"analytics\" given twice`},
		{"form action twice", "application/x-www-form-urlencoded", `action=accept_all&action=reject_all`, nil, 400, `\"action\" given twice`},
		{"oversized", "application/json", `{"purposes":{"analytics":true` + strings.Repeat(`,"analytics":true`, 2000) + `}}`, nil, 413, "too large"},
		{"cross-site", "application/json", `{"all":true}`, map[string]string{"Sec-Fetch-Site": "cross-site"}, 403, "cross-site"},
		{"foreign origin", "application/x-www-form-urlencoded", `action=accept_all`, map[string]string{"Origin": "https://evil.example"}, 403, "cross-origin"},
		{"null origin", "application/x-www-form-urlencoded", `action=accept_all`, map[string]string{"Origin": "null"}, 403, "cross-origin"},
		{"off-site return", "application/x-www-form-urlencoded", `action=accept_all&return=https://evil.example/`, nil, 400, "return must be a path"},
		{"protocol-relative return", "application/x-www-form-urlencoded", `action=accept_all&return=//evil.example/`, nil, 400, "return must be a path"},
		{"backslash return", "application/x-www-form-urlencoded", `action=accept_all&return=/\evil.example/`, nil, 400, "return must be a path"},
		{"unknown action", "application/x-www-form-urlencoded", `action=sell_everything`, nil, 400, "unknown action"},
		{"wrong type", "text/plain", `all`, nil, 415, "send application/json"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(t)
			req, _ := http.NewRequest("POST", base+"/.consent/choice", strings.NewReader(tc.body))
			req.Header.Set("Content-Type", tc.ctype)
			for k, v := range tc.headers {
				req.Header.Set(k, v)
			}
			resp, body := do(t, c, req)
			if resp.StatusCode != tc.status || resp.Header.Get("Content-Type") != "application/json" || !strings.Contains(body, tc.want) {
				t.Errorf("got %d %s %s, want %d with %q", resp.StatusCode, resp.Header.Get("Content-Type"), body, tc.status, tc.want)
			}
			if len(resp.Cookies()) != 0 {
				t.Error("a refused choice set a cookie")
			}
		})
	}
	resp, _ := get(t, newClient(t), base+"/.consent/choice")
	if resp.StatusCode != 405 {
		t.Errorf("GET choice: %d", resp.StatusCode)
	}
	if recs := exportJSONL(t, admin, ""); len(recs) != 0 {
		t.Errorf("refused choices wrote %d proofs: %+v", len(recs), recs)
	}
}

// TestBadCookiesMeanNoConsent: a tampered, foreign or garbage cookie is
// treated as no consent, never as an error page.
func TestBadCookiesMeanNoConsent(t *testing.T) {
	base := startSite(t)
	for _, v := range []string{"garbage", "", strings.Repeat("x", 3000), "MTIz|YWJj|ZGVm", "%00%ff"} {
		req, _ := http.NewRequest("GET", base+"/", nil)
		req.Header.Set("Accept", "text/html")
		req.Header.Set("Cookie", "consentgate="+v)
		resp, body := do(t, newClient(t), req)
		if resp.StatusCode != 200 || !strings.Contains(body, `"decided":false`) {
			t.Errorf("cookie %.20q: %d %.200s", v, resp.StatusCode, body)
		}
	}
}

func TestBannerAssetsCachedForever(t *testing.T) {
	base := startSite(t)
	_, page := get(t, newClient(t), base+"/")
	m := hookPattern.FindString(page)
	if m == "" {
		t.Fatalf("no hook in %q", page)
	}
	for _, ext := range []string{"js", "css"} {
		i := strings.Index(m, "/.consent/banner.")
		path := m[i:]
		path = path[:strings.Index(path, "."+ext)+len(ext)+1]
		if ext == "js" {
			j := strings.Index(m, `src="`) + 5
			path = m[j : j+strings.IndexByte(m[j:], '"')]
		}
		resp, body := get(t, newClient(t), base+path)
		if resp.StatusCode != 200 || len(body) == 0 || !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") {
			t.Errorf("%s: %d, Cache-Control %q", path, resp.StatusCode, resp.Header.Get("Cache-Control"))
		}
	}
	if resp, _ := get(t, newClient(t), base+"/.consent/banner.0000.js"); resp.StatusCode != 404 {
		t.Errorf("unknown asset: %d", resp.StatusCode)
	}
}

// TestOperatorPurposeAndPolicyChange: an operator's own purpose is offered
// and can be granted; changing what visitors are asked about (a new vendor)
// makes the gateway ask again.
func TestOperatorPurposeAndPolicyChange(t *testing.T) {
	port := freePort(t)
	base := baseURL(port)
	site := func(extra string) string {
		return fmt.Sprintf(`:%d {
	consent {
		purpose newsletter {
			name en "Newsletter tracking"
			name de "Newsletter-Tracking"
			sale
		}
%s	}
	respond "ok"
}`, port, extra)
	}
	c := newClient(t)
	startCaddy(t, site(""))
	s := getState(t, c, base)
	if _, ok := s.Purposes["newsletter"]; !ok {
		t.Fatalf("operator purpose missing from state: %+v", s)
	}
	postChoice(t, c, base, `{"purposes":{"newsletter":true}}`)
	granted := getState(t, c, base)
	if !granted.Decided || !granted.Purposes["newsletter"] {
		t.Fatalf("newsletter not granted: %+v", granted)
	}
	startCaddy(t, site("\t\tvendor acme {\n\t\t\tname Acme\n\t\t\tpurpose newsletter\n\t\t\tmatch script acme.example\n\t\t}\n"))
	// Right after a reload the old config's server may still answer a
	// request or two (Caddy shuts it down gracefully): ask on fresh
	// connections until the new policy answers, or give up after 5 s.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		c.CloseIdleConnections()
		if s = getState(t, c, base); s.PolicyVersion != granted.PolicyVersion || time.Now().After(deadline) {
			break
		}
	}
	if s.Decided || s.Purposes["newsletter"] || s.PolicyVersion == "" {
		t.Errorf("a new vendor did not ask again: %+v", s)
	}
	// The banner says why it asks again, naming what is new.
	if !strings.Contains(s.Changed, "changed since your last choice") || !strings.Contains(s.Changed, "New: Acme (Newsletter tracking).") {
		t.Errorf("what changed: %q", s.Changed)
	}
	if s := getState(t, newClient(t), base); s.Changed != "" {
		t.Errorf("a first-time visitor is told of a change: %q", s.Changed)
	}
}

type ownRecords struct {
	ConsentID string `json:"consent_id"`
	Records   []struct {
		Type       string          `json:"type"`
		EventID    string          `json:"event_id"`
		Supersedes string          `json:"supersedes"`
		ConsentID  string          `json:"consent_id"`
		Time       int64           `json:"time"`
		ExpiresAt  int64           `json:"expires_at"`
		Site       string          `json:"site"`
		Path       string          `json:"path"`
		IP         string          `json:"ip"`
		UA         string          `json:"ua"`
		Purposes   map[string]bool `json:"purposes"`
		Vendors    map[string]bool `json:"vendors"`
		Policy     struct{ Version, Hash string }
		Texts      struct{ Hash, Lang string }
		How        struct{ Layer, Action, Control string }
		Signals    struct {
			GPC    bool   `json:"gpc"`
			DNT    bool   `json:"dnt"`
			Effect string `json:"effect"`
		} `json:"signals"`
		Software string `json:"software"`
		Hash     string `json:"hash"`
	} `json:"records"`
}

// TestVisitorProofs: every choice is a proof the visitor can download, each
// new one superseding the last; erasure leaves nothing personal and forgets
// the cookie.
func TestVisitorProofs(t *testing.T) {
	base := startSite(t)
	c := newClient(t)
	if resp, _ := get(t, c, base+"/.consent/proofs"); resp.StatusCode != 404 {
		t.Errorf("no consent yet: %d", resp.StatusCode)
	}
	req, _ := http.NewRequest("POST", base+"/.consent/choice", strings.NewReader(`{"all":true,"page":"/shop/item?id=7","control":"banner-accept"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0")
	req.Header.Set("Sec-GPC", "1")
	if resp, body := do(t, c, req); resp.StatusCode != 200 {
		t.Fatalf("choice: %d %s", resp.StatusCode, body)
	}
	form := url.Values{"action": {"withdraw"}, "return": {"/privacy.html"}}
	req, _ = http.NewRequest("POST", base+"/.consent/choice", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if resp, _ := do(t, c, req); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("withdraw: %d", resp.StatusCode)
	}
	resp, body := get(t, c, base+"/.consent/proofs")
	var own ownRecords
	if err := json.Unmarshal([]byte(body), &own); err != nil || resp.StatusCode != 200 {
		t.Fatalf("own proofs: %d %v %s", resp.StatusCode, err, body)
	}
	if len(own.Records) != 2 {
		t.Fatalf("want 2 records, got %d: %s", len(own.Records), body)
	}
	given, withdrawn := own.Records[0], own.Records[1]
	// Posted without a layer, as a script would: not the banner's click.
	if given.Type != "given" || given.How.Layer != "api" || given.How.Action != "accept_all" || given.How.Control != "banner-accept" ||
		given.Path != "/shop/item" || !given.Purposes["analytics"] || !given.Signals.GPC || given.Signals.Effect != "overridden" {
		t.Errorf("given record: %+v", given)
	}
	if given.IP != "127.0.0.0/16" || given.UA != "Firefox 133" {
		t.Errorf("ip %q ua %q: want the truncated address and reduced user agent", given.IP, given.UA)
	}
	if withdrawn.Type != "withdrawn" || withdrawn.Supersedes != given.EventID || withdrawn.Purposes["analytics"] ||
		withdrawn.How.Layer != "withdraw" || withdrawn.Path != "/privacy.html" || withdrawn.ConsentID != given.ConsentID {
		t.Errorf("withdrawal record: %+v (given %s)", withdrawn, given.EventID)
	}
	if withdrawn.IP != given.IP {
		t.Errorf("withdrawal ip %q", withdrawn.IP)
	}

	// Erasure is refused cross-site, done same-site.
	req, _ = http.NewRequest("DELETE", base+"/.consent/proofs", nil)
	req.Header.Set("Origin", "https://evil.example")
	if resp, _ := do(t, c, req); resp.StatusCode != 403 {
		t.Errorf("cross-site erasure: %d", resp.StatusCode)
	}
	req, _ = http.NewRequest("DELETE", base+"/.consent/proofs", nil)
	resp, body = do(t, c, req)
	if resp.StatusCode != 200 || !strings.Contains(body, `"erased": 2`) {
		t.Fatalf("erasure: %d %s", resp.StatusCode, body)
	}
	if resp, _ := get(t, c, base+"/.consent/proofs"); resp.StatusCode != 404 {
		t.Errorf("after erasure the cookie still names a consent: %d", resp.StatusCode)
	}
}

// TestIPTruncateOff: with ip_truncate off a proof keeps no address at
// all; with 24 64, an IPv4 address keeps its /24.
func TestIPTruncateOff(t *testing.T) {
	for _, tc := range []struct{ setting, want string }{{"off", ""}, {"24 64", "127.0.0.0/24"}} {
		port := freePort(t)
		startCaddy(t, fmt.Sprintf(":%d {\n\tconsent {\n\t\tip_truncate %s\n\t}\n\trespond ok\n}", port, tc.setting))
		c := newClient(t)
		postChoice(t, c, baseURL(port), `{"all":true}`)
		_, body := get(t, c, baseURL(port)+"/.consent/proofs")
		if got := ownProofs(t, c, baseURL(port)).Records[0].IP; got != tc.want || tc.want == "" && strings.Contains(body, `"ip"`) {
			t.Errorf("ip_truncate %s: proof ip %q, want %q", tc.setting, got, tc.want)
		}
	}
}

// TestProofRecordsWhatWasShown: a proof names the policy the visitor
// decided under (as the state endpoint gives it), the language and a hash
// of the texts they were shown (which differs by language and changes with
// a text), the vendors allowed one by one, both privacy signals, the
// software, and when the choice expires.
func TestProofRecordsWhatWasShown(t *testing.T) {
	port := freePort(t)
	base := baseURL(port)
	site := func(extra string) string {
		return fmt.Sprintf(":%d {\n\tconsent {\n%s\t}\n\trespond ok\n}", port, extra)
	}
	startCaddy(t, site(""))
	version := getState(t, newClient(t), base).PolicyVersion
	post := func(lang, choice string, headers ...string) ownRecords {
		c := newClient(t)
		req, _ := http.NewRequest("POST", base+"/.consent/choice", strings.NewReader(choice))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept-Language", lang)
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		if resp, body := do(t, c, req); resp.StatusCode != 200 {
			t.Fatalf("choice: %d %s", resp.StatusCode, body)
		}
		return ownProofs(t, c, base)
	}
	en := post("en", `{"purposes":{"analytics":true},"vendors":{"youtube":true}}`, "DNT", "1").Records[0]
	de := post("de-DE,de;q=0.9", `{"all":false}`).Records[0]
	if en.Policy.Version != version || len(en.Policy.Hash) != 64 || en.Texts.Lang != "en" || len(en.Texts.Hash) != 64 ||
		!en.Vendors["youtube"] || len(en.Vendors) != 1 || !en.Signals.DNT || en.Signals.GPC || !strings.HasPrefix(en.Software, "consentgate ") {
		t.Errorf("proof: %+v", en)
	}
	// As FORMAT.md says: the cookie's whole second plus renew_after, when
	// the gateway stops honouring the choice; so up to a second before
	// time plus 180 days.
	if want := time.UnixMilli(en.Time).Add(180 * 24 * time.Hour).UnixMilli(); en.ExpiresAt > want || en.ExpiresAt < want-1000 || en.ExpiresAt%1000 != 0 {
		t.Errorf("expires_at %d, want 180 days after %d, in whole seconds", en.ExpiresAt, en.Time)
	}
	if de.Texts.Lang != "de" || de.Texts.Hash == en.Texts.Hash || de.Policy != en.Policy {
		t.Errorf("German proof: texts %+v policy %+v; English texts %+v", de.Texts, de.Policy, en.Texts)
	}
	startCaddy(t, site("\t\ttext en accept_all \"Sure\"\n"))
	if again := post("en", `{"all":true}`).Records[0]; again.Texts.Lang != "en" || again.Texts.Hash == en.Texts.Hash {
		t.Errorf("a changed text left the texts hash as it was: %+v", again.Texts)
	}
}

// TestRecordTypesAndVendorOverride: granting one optional purpose is
// "given", granting none "refused"; a catalogued vendor taught a
// self-hosted address by its id alone blocks that address.
func TestRecordTypesAndVendorOverride(t *testing.T) {
	port := freePort(t)
	startCaddy(t, fmt.Sprintf(`:%d {
	consent {
		vendor matomo {
			match script stats.example.com/js/
		}
	}
	respond "<html><head><script src=\"https://stats.example.com/js/tracker.js\"></script></head></html>"
	header Content-Type text/html
}`, port))
	base := baseURL(port)
	_, page := get(t, newClient(t), base+"/")
	if !strings.Contains(page, `data-consent-vendor="matomo"`) {
		t.Errorf("the self-hosted address taught to a catalogued vendor is not blocked:\n%s", page)
	}
	for _, tc := range []struct{ choice, want string }{
		{`{"purposes":{"analytics":true}}`, "given"},
		{`{"all":false}`, "refused"},
		{`{"purposes":{"necessary":true}}`, "refused"},
	} {
		c := newClient(t)
		postChoice(t, c, base, tc.choice)
		_, body := get(t, c, base+"/.consent/proofs")
		var own ownRecords
		if err := json.Unmarshal([]byte(body), &own); err != nil || len(own.Records) != 1 || own.Records[0].Type != tc.want {
			t.Errorf("%s recorded as %s, want %s", tc.choice, body, tc.want)
		}
	}
}

// TestSignalDefaultIsRecordedOnce: when a browser starts sending GPC after
// its visitor granted marketing, the first page view records that the
// signal switched marketing off (gpc_default, superseding the choice), and
// later page views record nothing more.
func TestSignalDefaultIsRecordedOnce(t *testing.T) {
	base := startSite(t)
	c := newClient(t)
	postChoice(t, c, base, `{"purposes":{"analytics":true}}`)
	get(t, c, base+"/", "Sec-GPC", "1") // nothing the signal switches off
	postChoice(t, c, base, `{"all":true}`)
	siteURL, _ := url.Parse(base)
	c.Jar.SetCookies(siteURL, []*http.Cookie{{Name: "_fbp", Value: "fb.1.1700000000.123", Path: "/"}}) // set by Meta's pixel
	for range 3 {
		get(t, c, base+"/", "Sec-GPC", "1")
	}
	for _, ck := range c.Jar.Cookies(siteURL) {
		if ck.Name == "_fbp" {
			t.Errorf("the marketing cookie _fbp outlived the signal that switched marketing off")
		}
	}
	// Without the signal marketing stays off, as the record says, until
	// the visitor chooses again; nothing more is recorded.
	_, body := get(t, c, base+"/.consent/state")
	var state struct{ Purposes map[string]bool }
	if err := json.Unmarshal([]byte(body), &state); err != nil || state.Purposes["marketing"] || !state.Purposes["analytics"] {
		t.Errorf("state without the signal after gpc_default: %s, want marketing still off", body)
	}
	get(t, c, base+"/")
	_, body = get(t, c, base+"/.consent/proofs")
	var own ownRecords
	if err := json.Unmarshal([]byte(body), &own); err != nil || len(own.Records) != 3 {
		t.Fatalf("want the two choices and one gpc_default, got %s", body)
	}
	choice, auto := own.Records[1], own.Records[2]
	if auto.Type != "gpc_default" || auto.Supersedes != choice.EventID || auto.ConsentID != choice.ConsentID ||
		auto.Purposes["marketing"] || !auto.Purposes["analytics"] || auto.How.Layer != "automatic" || auto.How.Action != "signal" ||
		!auto.Signals.GPC || auto.Signals.Effect != "default_off" || auto.Path != "/" {
		t.Errorf("gpc_default record: %+v", auto)
	}
	// A new choice under the signal is explicit and starts afresh.
	req, _ := http.NewRequest("POST", base+"/.consent/choice", strings.NewReader(`{"purposes":{"marketing":true}}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Sec-GPC", "1")
	do(t, c, req)
	get(t, c, base+"/", "Sec-GPC", "1")
	_, body = get(t, c, base+"/.consent/proofs")
	json.Unmarshal([]byte(body), &own)
	if n := len(own.Records); n != 4 || own.Records[3].Type != "updated" {
		t.Errorf("after an explicit opt-in under the signal: %d records, last %+v", n, own.Records[n-1])
	}
}

// TestVisitorErasureIsLogged: a visitor's own erasure is logged as an
// auditor's is, with the number of records and without the consent id, so
// that every tombstone in the chain is accounted for.
func TestVisitorErasureIsLogged(t *testing.T) {
	port, adminPort := freePort(t), freePort(t)
	logFile := filepath.Join(t.TempDir(), "caddy.log")
	gatewaytest.Start(t, gatewaytest.GlobalsLogging(adminPort, logFile)+fmt.Sprintf(":%d {\n\tconsent\n\trespond ok\n}", port))
	base := baseURL(port)
	c := newClient(t)
	postChoice(t, c, base, `{"all":true}`)
	id := ownProofs(t, c, base).Records[0].ConsentID
	req, _ := http.NewRequest("DELETE", base+"/.consent/proofs", nil)
	if resp, body := do(t, c, req); resp.StatusCode != 200 {
		t.Fatalf("erasure: %d %s", resp.StatusCode, body)
	}
	gatewaytest.Stop(t) // flushes the log
	logs, _ := os.ReadFile(logFile)
	if !strings.Contains(string(logs), `"msg":"consent records erased at the visitor's request","records":1`) || strings.Contains(string(logs), id) {
		t.Errorf("the log must note the visitor's erasure of 1 record, without the consent id %s:\n%s", id, logs)
	}
}

// TestProofPathAndSiteStayPlain: a page path taken from the Referer is
// recorded percent-encoded, as the banner's page and the no-JavaScript
// form's return path are, so one page is one path in the records, and its
// control characters stay encoded (a record stays on one line in a CSV
// cell or a log); a host written with the root's trailing dot is recorded
// as the same site as without it, and an IPv6 host the same with a port
// or without.
func TestProofPathAndSiteStayPlain(t *testing.T) {
	base := startSite(t)
	host := strings.TrimPrefix(base, "http://")
	c := newClient(t)
	req, _ := http.NewRequest("POST", base+"/.consent/choice", strings.NewReader(`{"all":true}`))
	req.Header.Set("Content-Type", "application/json")
	req.Host = "localhost." + host[strings.LastIndex(host, ":"):]
	req.Header.Set("Referer", "http://"+req.Host+"/a,b%22c%0Ad%7F")
	if resp, body := do(t, c, req); resp.StatusCode != 200 {
		t.Fatalf("choice: %d %s", resp.StatusCode, body)
	}
	req, _ = http.NewRequest("GET", base+"/.consent/proofs", nil)
	req.Host = "localhost." + host[strings.LastIndex(host, ":"):]
	_, body := do(t, c, req)
	var own ownRecords
	if err := json.Unmarshal([]byte(body), &own); err != nil || len(own.Records) != 1 {
		t.Fatalf("own proofs: %v %s", err, body)
	}
	if r := own.Records[0]; r.Path != `/a,b%22c%0Ad%7F` || r.Site != "localhost" {
		t.Errorf("recorded path %q and site %q, want %q and %q", r.Path, r.Site, `/a,b%22c%0Ad%7F`, "localhost")
	}
	// One page, four ways: the Referer of a JSON choice, the banner's
	// page, the form's return path (below, a page view that records a
	// signal's default); an IPv6 host without a port (as with one) is the
	// address alone.
	c = newClient(t)
	for i, tc := range []struct{ ctype, body, referer string }{
		{"application/json", `{"all":true}`, "http://[::1]/caf%C3%A9.html"},
		{"application/json", `{"all":false,"page":"/caf%C3%A9.html"}`, ""},
		{"application/x-www-form-urlencoded", "action=accept_all&return=%2Fcaf%25C3%25A9.html", ""},
	} {
		req, _ := http.NewRequest("POST", base+"/.consent/choice", strings.NewReader(tc.body))
		req.Host = "[::1]"
		req.Header.Set("Content-Type", tc.ctype)
		req.Header.Set("Origin", "http://[::1]")
		if tc.referer != "" {
			req.Header.Set("Referer", tc.referer)
		}
		if resp, body := do(t, c, req); resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("choice %d: %d %s", i, resp.StatusCode, body)
		}
	}
	// And the fourth: a page view that records a signal's default.
	req, _ = http.NewRequest("GET", base+"/caf%C3%A9.html", nil)
	req.Host = "[::1]"
	req.Header.Set("Sec-GPC", "1")
	do(t, c, req)
	req, _ = http.NewRequest("GET", base+"/.consent/proofs", nil)
	req.Host = "[::1]"
	_, body = do(t, c, req)
	own = ownRecords{}
	if err := json.Unmarshal([]byte(body), &own); err != nil || len(own.Records) != 4 || own.Records[3].Type != "gpc_default" {
		t.Fatalf("own proofs: %v %s", err, body)
	}
	for _, r := range own.Records {
		if r.Path != "/caf%C3%A9.html" || r.Site != "::1" {
			t.Errorf("recorded path %q and site %q, want %q and %q", r.Path, r.Site, "/caf%C3%A9.html", "::1")
		}
	}
	// A Referer path longer than a JSON choice's page may be is not kept.
	req, _ = http.NewRequest("POST", base+"/.consent/choice", strings.NewReader(`{"all":false}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Referer", base+"/"+strings.Repeat("x", 5000))
	if resp, body := do(t, c, req); resp.StatusCode != 200 {
		t.Fatalf("choice: %d %s", resp.StatusCode, body)
	}
	var latest ownRecords
	_, body = get(t, c, base+"/.consent/proofs")
	if err := json.Unmarshal([]byte(body), &latest); err != nil || len(latest.Records) == 0 {
		t.Fatalf("own proofs: %v %s", err, body)
	}
	if last := latest.Records[len(latest.Records)-1]; last.Type != "refused" || last.Path != "" {
		t.Errorf("a 5000-byte Referer path: the proof of the choice is %s with path %.40q…, want no path", last.Type, last.Path)
	}
}

// TestNoscriptFormUnderSignal: the form for visitors without JavaScript
// says, as the banner does, that a GPC or DNT signal is honoured.
func TestNoscriptFormUnderSignal(t *testing.T) {
	base := startSite(t)
	signal := regexp.MustCompile(`<noscript><form class="cg-noscript"[^>]*><p>[^<]*Global Privacy Control`)
	if _, page := get(t, newClient(t), base+"/", "Sec-GPC", "1"); !signal.MatchString(page) {
		t.Errorf("with Sec-GPC: 1 the no-JavaScript form does not mention the signal:\n%s", page)
	}
	if _, page := get(t, newClient(t), base+"/"); signal.MatchString(page) || !strings.Contains(page, `<noscript><form class="cg-noscript"`) {
		t.Errorf("without a signal the no-JavaScript form must be there without the signal sentence:\n%s", page)
	}
}
