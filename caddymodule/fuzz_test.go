package caddymodule

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/consentgate/consentgate/consent/catalog"
	"github.com/consentgate/consentgate/consent/cookie"
	"github.com/consentgate/consentgate/consent/policy"
	"github.com/consentgate/consentgate/consent/proof"
)

// newChoiceHandler is a handler with an operator purpose and vendor beside
// the defaults and the catalogue, set up as far as parsing choices needs.
func newChoiceHandler(tb testing.TB) *Handler {
	tb.Helper()
	h := &Handler{
		Purposes: []policy.Purpose{{ID: "newsletter", Name: map[string]string{"en": "Newsletter tracking"}}},
		Vendors: []catalog.Vendor{{ID: "acme", Name: "Acme", Purpose: "newsletter",
			Match: catalog.Rules{Script: []string{"acme.example"}}}},
	}
	if err := h.buildPolicy(); err != nil {
		tb.Fatal(err)
	}
	var err error
	h.codec, err = cookie.NewCodec(h.CookieName, []cookie.KeyPair{cookie.GenerateKeyPair()}, h.renew)
	if err != nil {
		tb.Fatal(err)
	}
	return h
}

// checkChoice holds every choice the endpoint accepts to what it may
// contain: only the policy's purposes (each once, in policy order) and
// vendors (each once), a known layer and action that agree with what is
// granted, a control id and page path that validate, and a cookie that
// fits.
func checkChoice(t *testing.T, h *Handler, c choice) {
	t.Helper()
	last := -1
	for _, id := range c.purposes {
		i := slices.IndexFunc(h.policy.Purposes, func(p policy.Purpose) bool { return p.ID == id })
		if i < 0 {
			t.Fatalf("unknown purpose %q accepted", id)
		}
		if i <= last {
			t.Fatalf("purposes %q are not each once in policy order", c.purposes)
		}
		last = i
	}
	seen := map[string]bool{}
	for _, id := range c.vendors {
		if _, ok := h.policy.Vendor(id); !ok {
			t.Fatalf("unknown vendor %q accepted", id)
		}
		if seen[id] {
			t.Fatalf("vendor %q accepted twice: %q", id, c.vendors)
		}
		seen[id] = true
	}
	if !knownLayers[c.how.Layer] || !knownActions[c.how.Action] {
		t.Fatalf("layer %q / action %q: not a known layer and action", c.how.Layer, c.how.Action)
	}
	if err := c.how.validate(); err != nil {
		t.Fatalf("accepted a choice whose how does not validate: %v", err)
	}
	// The action is what the proof records the visitor did (and a
	// withdrawal is recorded as such): it must not contradict what the
	// choice grants. Necessary is always granted, so it does not count.
	optional := 0
	for _, id := range c.purposes {
		if id != policy.Necessary {
			optional++
		}
	}
	switch c.how.Action {
	case proof.ActionWithdraw, proof.ActionRejectAll:
		if optional > 0 || len(c.vendors) > 0 {
			t.Fatalf("action %q granting %q / %q", c.how.Action, c.purposes, c.vendors)
		}
	case proof.ActionAcceptAll:
		if optional != len(h.policy.Purposes)-1 {
			t.Fatalf("action %q granting only %q", c.how.Action, c.purposes)
		}
	}
	// What is accepted becomes the consent cookie: it must fit.
	consent := cookie.Consent{ID: cookie.NewID(), Version: h.policy.Version, Purposes: c.purposes,
		Vendors: c.vendors, Time: time.Now().Unix(), UnderSignal: true, Event: "019b7a2c-8c00-7000-8000-000000000001"}
	if _, err := h.codec.Encode(consent); err != nil {
		t.Fatalf("accepted choice (%d purposes, %d vendors) makes no cookie: %v", len(c.purposes), len(c.vendors), err)
	}
}

// checkReturn holds a form's return= target to a path on this site, as the
// browser will resolve the Location it becomes.
func checkReturn(t *testing.T, ret string) {
	t.Helper()
	if !strings.HasPrefix(ret, "/") || strings.HasPrefix(ret, "//") || strings.ContainsAny(ret, "\\\r\n\t") {
		t.Fatalf("return %q is not a same-origin path", ret)
	}
	u, err := url.Parse(ret)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		t.Fatalf("return %q parses as %+v, %v", ret, u, err)
	}
	// What the browser does with it: the redirect the endpoint sends,
	// resolved against the page.
	w := httptest.NewRecorder()
	http.Redirect(w, httptest.NewRequest(http.MethodPost, "https://site.example/.consent/choice", nil), ret, http.StatusSeeOther)
	loc := w.Header().Get("Location")
	base, _ := url.Parse("https://site.example/shop/item")
	target, err := url.Parse(loc)
	if err != nil {
		t.Fatalf("Location %q: %v", loc, err)
	}
	if got := base.ResolveReference(target); got.Host != "site.example" || got.Scheme != "https" {
		t.Fatalf("return %q redirects to %s", ret, got)
	}
}

func choiceBody(body []byte) io.ReadCloser {
	return http.MaxBytesReader(nil, io.NopCloser(bytes.NewReader(body)), maxChoiceBody)
}

// FuzzChoiceJSON feeds arbitrary bodies to the JSON choice parser: it never
// panics, refuses with a message, and accepts only what checkChoice allows;
// the same body always makes the same choice.
func FuzzChoiceJSON(f *testing.F) {
	h := newChoiceHandler(f)
	for _, s := range []string{
		`{"all":true}`, `{"all":false}`, `{"withdraw":true}`,
		`{"purposes":{"analytics":true,"marketing":false,"newsletter":true},"vendors":{"youtube":true,"acme":false}}`,
		`{"all":true,"layer":"second","action":"accept_all","control":"cg-accept","page":"/shop?x=1"}`,
		`{"vendors":{"youtube":true},"layer":"placeholder","action":"load_embed"}`,
		`{"purposes":{"spying":true}}`, `{"all":true} {"all":false}`, `{"all":true,"purposes":{}}`, `{}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		c, err := h.parseJSONChoice(choiceBody(body))
		if err != nil {
			if err.Error() == "" || !reflect.DeepEqual(c, choice{}) {
				t.Fatalf("refusal without a message or with a choice: %q %+v", err, c)
			}
			return
		}
		checkChoice(t, h, c)
		if c.form || c.ret != "" {
			t.Fatalf("a JSON choice with a return path: %+v", c)
		}
		again, err := h.parseJSONChoice(choiceBody(body))
		if err != nil || !slices.Equal(again.purposes, c.purposes) || again.how != c.how ||
			!sameSet(again.vendors, c.vendors) {
			t.Fatalf("the same body made %+v, then %+v, %v", c, again, err)
		}
	})
}

// FuzzChoiceForm does the same for the no-JavaScript form, whose return=
// target must stay on the site.
func FuzzChoiceForm(f *testing.F) {
	h := newChoiceHandler(f)
	for _, s := range []string{
		"action=accept_all&return=%2Fshop%2Fitem%3Fid%3D3",
		"action=reject_all", "action=withdraw&return=/privacy.html",
		"action=save&purpose=social&purpose=analytics&purpose=analytics&vendor=youtube&return=/",
		"action=accept_all&return=https://evil.example/", "action=accept_all&return=//evil.example/",
		"action=accept_all&return=/\\evil.example/", "action=accept_all&return=/%0d%0aSet-Cookie:x=1",
		"action=sell_everything", "action=save&vendor=nobody", "%zz",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r := httptest.NewRequest(http.MethodPost, "/.consent/choice", nil)
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Body = choiceBody(body)
		c, err := h.parseFormChoice(r)
		if err != nil {
			if err.Error() == "" || !reflect.DeepEqual(c, choice{}) {
				t.Fatalf("refusal without a message or with a choice: %q %+v", err, c)
			}
			return
		}
		checkChoice(t, h, c)
		if !c.form || c.how.Control != "form" {
			t.Fatalf("a form choice not marked as one: %+v", c)
		}
		checkReturn(t, c.ret)
		if page, _, _ := strings.Cut(c.ret, "?"); c.how.Page != page {
			t.Fatalf("page %q for return %q", c.how.Page, c.ret)
		}
	})
}

func sameSet(a, b []string) bool {
	return len(a) == len(b) && reflect.DeepEqual(setOf(a), setOf(b))
}

func setOf(s []string) map[string]bool {
	m := map[string]bool{}
	for _, v := range s {
		m[v] = true
	}
	return m
}

// caddyfileLine finds where an error says it happened: Dispenser errors end
// in ", at <file>:<line>" (and an import chain), the lexer's say "line #N".
var caddyfileLine = regexp.MustCompile(`(?:at Caddyfile:(\d+)(?: import chain.*)?$)|(?:line #(\d+))`)

// FuzzCaddyfile gives arbitrary text inside `consent { … }` to the
// Caddyfile lexer and the directive's parser: they never panic, every
// error names a line of the input, and whatever is accepted also goes
// through the policy stage of Provision without panicking and survives the
// JSON config Caddy makes of it.
func FuzzCaddyfile(f *testing.F) {
	for _, s := range []string{
		"privacy_policy /privacy.html\ndefault_language de\ncookie_name cg\nrenew_after 90d\nrefusal_renew_after 30d",
		"purpose newsletter {\n\tname en \"Newsletter tracking\"\n\tdescription en `Tells us\nwhat you read`\n\tsale\n}",
		"vendor acme {\n\tname Acme\n\tcompany \"Acme Ltd\"\n\tcountry DE\n\tpurpose analytics\n\tpolicy_url https://acme.example/privacy\n\tcookie _acme 1y prefix http_only\n\tmatch script acme.example/js/\n\tinline acme_init(\n}",
		"vendor matomo {\n\tmatch script stats.example.com/js/\n}",
		"text en accept_all \"OK!\"\nkey {env.CG_HASH} {env.CG_BLOCK}\nip_truncate 24 64\nstore bolt:///tmp/x.db\nchain gw-1",
		"banana yes", "renew_after -5d", "key !!!! alsobad", "vendor acme {\n\tpurpose spying\n}",
		"purpose x\npurpose x", "ip_truncate off extra", "text en", "}\n}\nconsent {",
		"purpose p <<EOF\nunterminated", "\"unterminated", "vendor {",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		input := "consent {\n" + text + "\n}\n"
		lines := strings.Count(input, "\n") + 1
		checkLine := func(err error) {
			t.Helper()
			m := caddyfileLine.FindStringSubmatch(err.Error())
			if m == nil {
				t.Fatalf("error names no line: %q\ninput:\n%s", err, input)
			}
			n, _ := strconv.Atoi(m[1] + m[2])
			if n < 1 || n > lines {
				t.Fatalf("error names line %d of %d: %q", n, lines, err)
			}
		}
		tokens, err := caddyfile.Tokenize([]byte(input), "Caddyfile")
		if err != nil {
			checkLine(err)
			return
		}
		var h Handler
		if err := h.UnmarshalCaddyfile(caddyfile.NewDispenser(tokens)); err != nil {
			checkLine(err)
			return
		}
		cfg, err := json.Marshal(&h)
		if err != nil {
			t.Fatalf("accepted config does not marshal: %v", err)
		}
		var back Handler
		if err := json.Unmarshal(cfg, &back); err != nil {
			t.Fatalf("config JSON %s does not load back: %v", cfg, err)
		}
		if !reflect.DeepEqual(back, h) {
			t.Fatalf("config changes through JSON:\n%+v\n%+v", h, back)
		}
		_ = back.buildPolicy() // may refuse (unknown text key, language), must not panic
	})
}

// FuzzScanChoice: whatever the direct choice decoder accepts, encoding/json
// decodes to the same value, with no error and no trailing data; whatever
// it declines goes to encoding/json, so errors are the same as ever.
func FuzzScanChoice(f *testing.F) {
	for _, s := range []string{
		`{"purposes":{"analytics":true,"marketing":false},"layer":"second","control":"save"}`,
		` { "all" : true , "action":"accept_all","page":"/p?q=1" } ` + "\n\t\r",
		`{"withdraw":false,"vendors":{}}`, `{"purposes":{"a":true,"a":false}}`, `{}`, `{"all":null}`,
		`{"All":true}`, `{"all":true,"all":false}`, `{"all":true}}`, `{"all":true} x`, `{"layer":"s\u0065"}`,
		`{"page":"/ä"}`, `{"all":tru}`, `{"purposes":{"a":true,}}`, `{"nope":1}`, `{"all":true,}`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		fast, ok := scanChoice(body)
		if !ok {
			return
		}
		slow, err := unmarshalChoice(body)
		if err != nil || !reflect.DeepEqual(fast, slow) {
			t.Fatalf("%q: direct %+v, encoding/json %+v (%v)", body, fast, slow, err)
		}
	})
}

// What the banner posts takes the direct path.
func TestScanChoiceTakesBannerBodies(t *testing.T) {
	for _, s := range []string{
		`{"purposes":{"analytics":true,"marketing":false},"layer":"second","control":"save"}`,
		`{"all":true,"layer":"first","action":"accept_all","control":"cg-accept","page":"/shop/item"}`,
		`{"withdraw":true,"layer":"withdraw","control":"cg-withdraw","page":"/"}`,
		`{"vendors":{"youtube":true},"layer":"placeholder","action":"load_embed","control":"page","page":"/v"}`,
	} {
		if _, ok := scanChoice([]byte(s)); !ok {
			t.Errorf("%s went to encoding/json", s)
		}
	}
}
