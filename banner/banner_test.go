package banner

import (
	"bytes"
	"compress/gzip"
	"slices"
	"strings"
	"testing"

	"github.com/consentgate/consentgate/consent/catalog"
	"github.com/consentgate/consentgate/consent/policy"
)

// gzipped is the size of body gzipped at the default level, as the
// gateway's encode directive serves it.
func gzipped(body []byte) int {
	var gz bytes.Buffer
	w, _ := gzip.NewWriterLevel(&gz, gzip.DefaultCompression)
	w.Write(body)
	w.Close()
	return gz.Len()
}

// The banner's script and stylesheet, each gzipped as served, stay within
// 15 KB together: visitors load them on every first visit. The shim (code
// plus the catalogue's match data) is reported, not budgeted here.
func TestAssetsWithinBudget(t *testing.T) {
	a := NewAssets(ShimData(catalog.Builtin()), nil)
	script, style := gzipped(a.Script.Body), gzipped(a.Style.Body)
	if script+style > 15000 {
		t.Errorf("banner script (%d bytes) and stylesheet (%d bytes) are %d bytes gzipped, over the 15 KB budget", script, style, script+style)
	}
	t.Logf("gzipped as served: %s %d + %s %d = %d bytes; %s (with the built-in catalogue) %d bytes",
		a.Script.Name, script, a.Style.Name, style, script+style, a.Shim.Name, gzipped(a.Shim.Body))
}

// Every language has every text, with the same placeholders as English.
func TestEveryLanguageComplete(t *testing.T) {
	l, err := LoadLocales("en", nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"da", "de", "en", "es", "fr", "it", "nl", "pl", "pt", "sv"}
	if got := l.Languages(); !slices.Equal(got, want) {
		t.Fatalf("languages %v, want %v", got, want)
	}
	en := l.Texts("en")
	for _, lang := range want {
		texts := l.Texts(lang)
		if len(texts) != len(en) {
			t.Errorf("%s has %d texts, English %d", lang, len(texts), len(en))
		}
		for k, v := range en {
			if strings.TrimSpace(texts[k]) == "" {
				t.Errorf("%s: %s is empty", lang, k)
			}
			if strings.Count(texts[k], "%s") != strings.Count(v, "%s") {
				t.Errorf("%s: %s has placeholders %q, English %q", lang, k, texts[k], v)
			}
			if lang != "en" && k != "cookies" && texts[k] == v && len(v) > 12 {
				t.Errorf("%s: %s is still English: %q", lang, k, v)
			}
		}
	}
	for header, lang := range map[string]string{
		"fr-CH, fr;q=0.9, en;q=0.8": "fr",
		"de-AT":                     "de",
		"xx, pt-BR;q=0.5":           "pt",
		"ja":                        "en",
		"":                          "en",
		"sv;q=0.2, da;q=0.9":        "da",
	} {
		if got := l.Pick(header); got != lang {
			t.Errorf("Accept-Language %q picked %s, want %s", header, got, lang)
		}
	}
}

// The built-in purposes are named and described in every language the
// banner speaks, not left to fall back on English.
func TestBuiltInPurposesInEveryLanguage(t *testing.T) {
	l, err := LoadLocales("en", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range policy.DefaultPurposes() {
		for _, lang := range l.Languages() {
			name, desc := p.Name[lang], p.Description[lang]
			if strings.TrimSpace(name) == "" || strings.TrimSpace(desc) == "" {
				t.Errorf("purpose %s in %s: name %q, description %q; both must be given", p.ID, lang, name, desc)
			}
			if lang != "en" && desc == p.Description["en"] {
				t.Errorf("purpose %s in %s: the description is still English: %q", p.ID, lang, desc)
			}
		}
	}
}

// Operators override any text per language; an unknown key is an error.
func TestTextOverrides(t *testing.T) {
	l, err := LoadLocales("de", map[string]Texts{"de": {"accept_all": "Alles erlauben"}, "fi": {"title": "Yksityisyys"}})
	if err != nil {
		t.Fatal(err)
	}
	if l.Texts("de")["accept_all"] != "Alles erlauben" || l.Texts("de")["reject_all"] != "Alle ablehnen" {
		t.Errorf("German override: %v", l.Texts("de")["accept_all"])
	}
	if l.Texts("fi")["title"] != "Yksityisyys" || l.Texts("fi")["save"] != l.Texts("de")["save"] {
		t.Errorf("a new language starts from the default language's texts")
	}
	if l.Pick("ja") != "de" {
		t.Errorf("fallback language not used")
	}
	if _, err := LoadLocales("en", map[string]Texts{"en": {"acept_all": "x"}}); err == nil {
		t.Errorf("a misspelt text key was accepted")
	}
	if _, err := LoadLocales("zz", nil); err == nil {
		t.Errorf("a default language without texts was accepted")
	}
}

// TestOperatorLanguageNamesItsStandIns: a language only the operator
// gives shows the texts it lacks as the default language has them, the
// operator's changes included (whatever the order of the map), and says
// which language those are in.
func TestOperatorLanguageNamesItsStandIns(t *testing.T) {
	for range 20 { // map order varies from run to run
		l, err := LoadLocales("de", map[string]Texts{"de": {"accept_all": "Alles erlauben"}, "fi": {"title": "Yksityisyys"}, "ar": {"title": "الخصوصية"}})
		if err != nil {
			t.Fatal(err)
		}
		for _, lang := range []string{"fi", "ar"} {
			if got := l.Texts(lang)["accept_all"]; got != "Alles erlauben" {
				t.Fatalf("%s lacks accept_all: it must show the default language's as the operator gave it, %q; it shows %q", lang, "Alles erlauben", got)
			}
			if got := l.TextLang(lang, "accept_all"); got != "de" {
				t.Errorf("%s's accept_all is the German text; TextLang says %q", lang, got)
			}
			if got := l.TextLang(lang, "title"); got != lang {
				t.Errorf("%s's title is its own; TextLang says %q", lang, got)
			}
		}
		if got := l.TextLangs("de"); got != nil {
			t.Errorf("German, built in, has every text of its own; TextLangs says %v", got)
		}
	}
	if Dir("ar") != "rtl" || Dir("he-IL") != "rtl" || Dir("de") != "" {
		t.Errorf("Dir: ar %q, he-IL %q, de %q", Dir("ar"), Dir("he-IL"), Dir("de"))
	}
}

func TestValidColor(t *testing.T) {
	for _, c := range []string{"#fff", "#FFFF", "#102030", "#10203040"} {
		if !ValidColor(c) {
			t.Errorf("%s refused", c)
		}
	}
	for _, c := range []string{"", "#", "fff", "#ff", "#12345", "#gggggg", "red", "#fff;x:1", "#102030 !important"} {
		if ValidColor(c) {
			t.Errorf("%q accepted", c)
		}
	}
}

// The no-JavaScript form escapes what it echoes: the page's own address.
func TestNoscriptEscapes(t *testing.T) {
	n := NewNoscript(Page{Prefix: "/.consent/", PrivacyPolicy: `/p?a=1&b="2"`, Texts: Texts{"text": "<b>", "signal": "<i>", "noscript": "x", "policy_link": "P", "accept_all": "A", "reject_all": "R"}}, true)
	out := string(n.Append(nil, `/page?q="><script>alert(1)</script>`))
	if strings.Contains(out, "<script>") || strings.Contains(out, "<b>") || strings.Contains(out, "<i>") || strings.Contains(out, `"2"`) {
		t.Errorf("unescaped: %s", out)
	}
	if !strings.Contains(out, "<p>&lt;b&gt; &lt;i&gt; x") {
		t.Errorf("the form under a signal does not say it is honoured: %s", out)
	}
	if !strings.Contains(out, `value="/page?q=&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"`) {
		t.Errorf("return path: %s", out)
	}
}

// The form for a page under a foreign <base> names the site's origin in
// front of its paths on the site, and only there: an absolute privacy
// policy URL stays as it is.
func TestNoscriptFrom(t *testing.T) {
	texts := Texts{"text": "T", "noscript": "N", "policy_link": "P", "accept_all": "A", "reject_all": "R"}
	for _, c := range []struct{ policy, wantAction, wantPolicy string }{
		{"/privacy.html", `action="https://shop.example&amp;x/.consent/choice"`, `href="https://shop.example&amp;x/privacy.html"`},
		{"https://legal.example/p", `action="https://shop.example&amp;x/.consent/choice"`, `href="https://legal.example/p"`},
		{"", `action="https://shop.example&amp;x/.consent/choice"`, ""},
	} {
		n := NewNoscript(Page{Prefix: "/.consent/", PrivacyPolicy: c.policy, Texts: texts}, false)
		out := string(n.AppendFrom(nil, "https://shop.example&x", "/p?q=1"))
		if !strings.Contains(out, c.wantAction) || !strings.Contains(out, c.wantPolicy) || strings.Count(out, "shop.example") != 1+strings.Count(c.wantPolicy, "shop.example") {
			t.Errorf("policy %q: %s\nwant %s and %s", c.policy, out, c.wantAction, c.wantPolicy)
		}
		rel := strings.ReplaceAll(out, "https://shop.example&amp;x", "")
		if got := string(n.Append(nil, "/p?q=1")); got != rel {
			t.Errorf("policy %q: Append gives\n%s\nAppendFrom without the origin\n%s", c.policy, got, rel)
		}
	}
}
