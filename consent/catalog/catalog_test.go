package catalog

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var kebab = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// TestDescriptionsInEveryBannerLanguage: the banner's second layer shows
// each vendor's description in the visitor's language, else in English. So
// every vendor has one in every language the banner ships (its locale
// files), and a new locale cannot be added without them.
func TestDescriptionsInEveryBannerLanguage(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "banner", "locales", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("the banner's locale files: %v %v", files, err)
	}
	for _, f := range files {
		lang := strings.TrimSuffix(filepath.Base(f), ".json")
		var missing []string
		for _, v := range Builtin() {
			if strings.TrimSpace(v.Description[lang]) == "" {
				missing = append(missing, v.ID)
			}
		}
		if len(missing) > 0 {
			t.Errorf("no %s description for %d vendors: %v", lang, len(missing), missing)
		}
	}
	if _, err := os.Stat(filepath.Join("..", "..", "banner", "locales", "en.json")); err != nil {
		t.Errorf("English, the fallback, is not among the banner's languages: %v", err)
	}
}

func TestBuiltinCatalogue(t *testing.T) {
	vendors := Builtin()
	standard := []string{PurposeNecessary, PurposeFunctional, PurposeAnalytics, PurposeMarketing, PurposeSocial}
	var necessary []string
	others := 0
	for _, v := range vendors {
		switch {
		case !kebab.MatchString(v.ID):
			t.Errorf("%s: id is not kebab-case", v.ID)
		case !slices.Contains(standard, v.Purpose):
			t.Errorf("%s: purpose %q is not one of %v", v.ID, v.Purpose, standard)
		case v.Company == "" || v.Country == "" || v.PolicyURL == "":
			t.Errorf("%s: company, country and policy_url are required", v.ID)
		case !strings.HasPrefix(v.PolicyURL, "https://"):
			t.Errorf("%s: policy_url %q is not https", v.ID, v.PolicyURL)
		case ruleCount(v.Match) == 0:
			t.Errorf("%s: has no match rule", v.ID)
		}
		for _, c := range v.Cookies {
			if c.Lifetime == "" {
				t.Errorf("%s: cookie %q has no lifetime", v.ID, c.Name)
			}
		}
		if v.Purpose == PurposeNecessary {
			necessary = append(necessary, v.ID)
		} else {
			others++
		}
	}
	// Only payment and checkout widgets are needed for the contract.
	slices.Sort(necessary)
	if want := []string{"amazon-pay", "klarna", "paypal", "stripe"}; !slices.Equal(necessary, want) {
		t.Errorf("necessary vendors = %v, want %v", necessary, want)
	}
	if others < 40 {
		t.Errorf("%d non-necessary vendors, want at least 40", others)
	}
}

func ruleCount(r Rules) int {
	n := len(r.Inline)
	for _, l := range r.lists() {
		n += len(l.patterns)
	}
	return n
}

func TestBuiltinIsACopy(t *testing.T) {
	a := Builtin()
	a[0].Name = "changed"
	a[0].Description["en"] = "changed"
	a[0].Match.URLs[0] = "changed.example"
	a[0].Cookies[0].Name = "changed"
	push := slices.IndexFunc(a, func(v Vendor) bool { return len(v.ServiceWorkers) > 0 })
	a[push].ServiceWorkers[0] = "/changed.js"
	b := Builtin()
	if b[0].Name == "changed" || b[0].Description["en"] == "changed" ||
		b[0].Match.URLs[0] == "changed.example" || b[0].Cookies[0].Name == "changed" ||
		b[push].ServiceWorkers[0] == "/changed.js" {
		t.Error("Builtin returned shared data")
	}
}

// No two vendors may claim the same pattern, signature or site cookie: the
// winner would depend on catalogue order alone.
func TestBuiltinUnambiguous(t *testing.T) {
	owner := map[string]string{}
	claim := func(what, id string) {
		if prev, ok := owner[what]; ok && prev != id {
			t.Errorf("%s is claimed by %s and %s", what, prev, id)
		}
		owner[what] = id
	}
	for _, v := range Builtin() {
		for _, l := range v.Match.lists() {
			for _, p := range l.patterns {
				claim("pattern "+p, v.ID)
			}
		}
		for _, s := range v.Match.Inline {
			claim("signature "+s, v.ID)
		}
		for _, p := range v.ServiceWorkers {
			claim("service worker "+strings.TrimPrefix(p, "*"), v.ID)
		}
		for _, c := range v.Cookies {
			// Google's ad products share __gads and friends by design.
			if c.Domain == "" && !strings.HasPrefix(v.ID, "google-ad") {
				claim(fmt.Sprintf("cookie %s (prefix %v)", c.Name, c.Prefix), v.ID)
			}
		}
	}
}

// A site cookie in the catalogue is dropped from the site's own responses
// without consent, so it must not be a name applications commonly use.
func TestBuiltinCookiesAreDistinctive(t *testing.T) {
	m, vendors, _ := builtinMatcher(t)
	for _, name := range []string{"session", "sessionid", "sid", "id", "uid", "user", "token", "csrftoken",
		"csrf_token", "XSRF-TOKEN", "PHPSESSID", "JSESSIONID", "ASP.NET_SessionId", "lang", "locale", "ts",
		"cart", "m", "mc", "fr", "loc", "country", "currency", "remember_me", "wordpress_logged_in_abc",
		"wp-settings-1", "laravel_session", "connect.sid", "__Host-session", "__cf_bm", "cf_clearance"} {
		if i := m.MatchCookie(name); i >= 0 {
			t.Errorf("MatchCookie(%q) = %s: too generic for a site cookie", name, vendors[i].ID)
		}
	}
}

// Every pattern must change what some URL matches: a pattern made redundant by
// a broader one of the same vendor is noise that hides mistakes.
func TestBuiltinNoRedundantPatterns(t *testing.T) {
	vendors := Builtin()
	for i := range vendors {
		vendors[i].Match.Inline = nil // keeps the many matchers cheap to build
	}
	full, err := NewMatcher(vendors)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range vendors {
		for li, l := range v.Match.lists() {
			for pi, p := range l.patterns {
				reduced := slices.Clone(vendors)
				reduced[i] = reduced[i].clone()
				lists := reduced[i].Match.lists()
				*listField(&reduced[i].Match, lists[li].name) = slices.Delete(slices.Clone(l.patterns), pi, pi+1)
				without, err := NewMatcher(reduced)
				if err != nil {
					t.Fatal(err)
				}
				u := []byte(sampleURL(p))
				k := sampleKind(l.kinds)
				if full.Match(k, u) == without.Match(k, u) {
					t.Errorf("%s: %s %q is redundant: %s matches the same without it", v.ID, l.name, p, u)
				}
			}
		}
	}
}

func listField(r *Rules, name string) *[]string {
	switch name {
	case "urls":
		return &r.URLs
	case "script":
		return &r.Script
	case "frame":
		return &r.Frame
	case "image":
		return &r.Image
	default:
		return &r.Link
	}
}

// sampleURL is a URL a pattern matches, with '*' segments filled in.
func sampleURL(p string) string {
	p = strings.ReplaceAll(p, "*/", "seg/")
	if strings.HasPrefix(p, "seg/") {
		return "https://first-party.example/dir/" + p[len("seg/"):]
	}
	return "https://" + p
}

func sampleKind(k kindSet) Kind {
	for i := Kind(0); i < numKinds; i++ {
		if k&kindBit(i) != 0 {
			return i
		}
	}
	return KindScript
}

func TestParseErrors(t *testing.T) {
	valid := `{"id":"x","name":"X","purpose":"analytics","match":{"urls":["x.example.com"]}}`
	with := func(field string) string {
		return `[` + strings.Replace(valid, `"id":"x",`, `"id":"x",`+field+`,`, 1) + `]`
	}
	tests := []struct {
		name, data, want string
	}{
		{"not json", `[{`, "catalogue:"},
		{"not an array", `{"id":"x"}`, "catalogue:"},
		{"trailing data", `[]x`, "catalogue:"},
		{"unknown field", with(`"tracking":true`), `vendor "x": json: unknown field "tracking"`},
		{"unknown rule field", `[{"id":"x","name":"X","purpose":"a","match":{"hosts":["a.b"]}}]`, `vendor "x": json: unknown field "hosts"`},
		{"unknown cookie field", with(`"cookies":[{"name":"a","secure":true}]`), `vendor "x": json: unknown field "secure"`},
		{"wrong type", `[{"id":"x","name":1}]`, `vendor "x": json: cannot unmarshal`},
		{"empty id", `[{"id":"","name":"X","purpose":"analytics"}]`, `vendor "": id must be`},
		{"no id, by position", `[` + valid + `,{"name":2}]`, `vendor #1: json`},
		{"bad id", `[{"id":"Google Analytics","name":"X","purpose":"analytics"}]`, `vendor "Google Analytics": id must be`},
		{"duplicate id", `[` + valid + `,` + valid + `]`, `vendor "x": defined twice (entries 0 and 1)`},
		{"no name", `[{"id":"x","purpose":"analytics"}]`, `vendor "x": name is empty`},
		{"no purpose", `[{"id":"x","name":"X"}]`, `vendor "x": purpose "" is not`},
		{"bad country", with(`"country":"Germany"`), `vendor "x": country "Germany"`},
		{"bad policy url", with(`"policy_url":"example.com/privacy"`), `vendor "x": policy_url`},
		{"bad language", with(`"description":{"English":"x"}`), `vendor "x": description "English"`},
		{"bad lifetime", with(`"cookies":[{"name":"_x","lifetime":"2 years"}]`), `vendor "x": cookies[0] "_x": lifetime "2 years"`},
		{"bad cookie name", with(`"cookies":[{"name":"a b"}]`), `vendor "x": cookies[0] "a b": name`},
		{"bad cookie domain", with(`"cookies":[{"name":"a","domain":".Example.com"}]`), `vendor "x": cookies[0] "a": domain`},
		{"upper-case host", `[{"id":"x","name":"X","purpose":"a","match":{"script":["ok.example","Example.com/x"]}}]`, `vendor "x": match.script[1] "Example.com/x": host`},
		{"scheme", `[{"id":"x","name":"X","purpose":"a","match":{"urls":["https://x.com/a"]}}]`, `vendor "x": match.urls[0] "https://x.com/a": must not include a scheme`},
		{"bare tld", `[{"id":"x","name":"X","purpose":"a","match":{"frame":["com"]}}]`, `match.frame[0] "com": host`},
		{"empty pattern", `[{"id":"x","name":"X","purpose":"a","match":{"image":[""]}}]`, `match.image[0] "": empty pattern`},
		{"space", `[{"id":"x","name":"X","purpose":"a","match":{"link":["x.com/a b"]}}]`, `byte ' ' is not allowed`},
		{"entity", `[{"id":"x","name":"X","purpose":"a","match":{"urls":["x.com/a?b=1&amp;c"]}}]`, `not "&amp;"`},
		{"partial wildcard", `[{"id":"x","name":"X","purpose":"a","match":{"urls":["x.com/a*/b"]}}]`, `'*' may only`},
		{"wildcard host", `[{"id":"x","name":"X","purpose":"a","match":{"urls":["*.x.com"]}}]`, `host "*.x.com"`},
		{"wildcard in query", `[{"id":"x","name":"X","purpose":"a","match":{"urls":["x.com/a?b=/*"]}}]`, `'*' may only`},
		{"bare suffix", `[{"id":"x","name":"X","purpose":"a","match":{"urls":["*/"]}}]`, `"*/" must be followed`},
		{"suffix with empty segment", `[{"id":"x","name":"X","purpose":"a","match":{"urls":["*//p.js"]}}]`, `"*/" must be followed`},
		{"suffix with query", `[{"id":"x","name":"X","purpose":"a","match":{"urls":["*/p.php?x"]}}]`, `"*/" must be followed`},
		{"short signature", `[{"id":"x","name":"X","purpose":"a","match":{"inline":["ga("]}}]`, `match.inline[0] "ga(": shorter than 6 bytes`},
		{"worker without a path", with(`"service_workers":["sw.js"]`), `vendor "x": service_workers[0] "sw.js": want "/path" or "*/name"`},
		{"worker on another host", with(`"service_workers":["push.example/sw.js"]`), `service_workers[0] "push.example/sw.js": want`},
		{"worker folder", with(`"service_workers":["/push/"]`), `service_workers[0] "/push/": want`},
		{"worker root", with(`"service_workers":["/"]`), `service_workers[0] "/": want`},
		{"worker anywhere", with(`"service_workers":["*/"]`), `service_workers[0] "*/": want`},
		{"worker empty segment", with(`"service_workers":["*//sw.js"]`), `service_workers[0] "*//sw.js": want`},
		{"worker query", with(`"service_workers":["/sw.js?v=1"]`), `service_workers[0] "/sw.js?v=1": byte '?'`},
		{"worker escape", with(`"service_workers":["/push%2Fsw.js"]`), `byte '%'`},
		{"worker inner wildcard", with(`"service_workers":["/*/sw.js"]`), `byte '*'`},
	}
	for _, tt := range tests {
		_, err := Parse([]byte(tt.data))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Parse error = %v, want one containing %q", tt.name, err, tt.want)
		}
	}
}

func TestParseRoundTrip(t *testing.T) {
	vendors, err := Parse([]byte(`[{"id":"acme-pixel","name":"Acme","purpose":"ads",
		"cookies":[{"name":"_acme","prefix":true,"lifetime":"90d","http_only":false}],
		"match":{"urls":["px.acme.example"],"inline":["acme('init'"]}}]`))
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewMatcher(vendors)
	if err != nil {
		t.Fatal(err)
	}
	if m.Match(KindImage, []byte("https://px.acme.example/p.gif")) != 0 || m.MatchCookie("_acme_1") != 0 ||
		len(m.MatchInline([]byte("acme('init', 1)"), nil)) != 1 {
		t.Error("a parsed operator vendor does not match")
	}
}

func TestNewMatcherRejects(t *testing.T) {
	ok := Vendor{ID: "a", Name: "A", Purpose: PurposeSocial}
	if _, err := NewMatcher([]Vendor{ok, ok}); err == nil || !strings.Contains(err.Error(), "defined twice") {
		t.Errorf("duplicate ids: %v", err)
	}
	bad := ok
	bad.Match.URLs = []string{"*.example.com"}
	if _, err := NewMatcher([]Vendor{bad}); err == nil || !strings.Contains(err.Error(), `vendor "a"`) {
		t.Errorf("bad pattern: %v", err)
	}
	if m, err := NewMatcher(nil); err != nil || m.Match(KindScript, []byte("https://x.example/")) != -1 ||
		m.MatchInline([]byte("anything"), nil) != nil || m.MatchCookie("x") != -1 {
		t.Errorf("empty matcher: %v", err)
	}
}
