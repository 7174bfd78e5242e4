package banner

import (
	"embed"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

//go:embed locales/*.json
var localeFS embed.FS

// Texts are the banner's words in one language, by key.
type Texts map[string]string

// Locales holds the banner texts of every language, operator overrides
// applied, and picks one per request.
type Locales struct {
	byLang   map[string]Texts
	fallback string
	builtin  map[string]bool // languages whose texts come with the banner
	// borrowed holds, for a language only the operator gives, the
	// language of each text it took from another language (see TextLang).
	borrowed map[string]map[string]string
}

// LoadLocales reads the built-in texts, applies overrides (language → key →
// text) and sets the fallback language. Overrides for a language the banner
// has no texts for start from the fallback's texts, so no key is ever missing.
func LoadLocales(fallback string, overrides map[string]Texts) (*Locales, error) {
	l := &Locales{byLang: map[string]Texts{}, fallback: "en", builtin: map[string]bool{}, borrowed: map[string]map[string]string{}}
	entries, err := localeFS.ReadDir("locales")
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		data, err := localeFS.ReadFile("locales/" + e.Name())
		if err != nil {
			return nil, err
		}
		var t Texts
		if err := json.Unmarshal(data, &t); err != nil {
			return nil, fmt.Errorf("locale %s: %w", e.Name(), err)
		}
		lang := strings.TrimSuffix(e.Name(), ".json")
		l.byLang[lang], l.builtin[lang] = t, true
	}
	base := l.byLang["en"]
	for lang, t := range l.byLang {
		for k := range base {
			if _, ok := t[k]; !ok {
				return nil, fmt.Errorf("locale %s lacks text %q", lang, k)
			}
		}
	}
	if fallback != "" {
		if _, ok := l.byLang[fallback]; !ok && overrides[fallback] == nil {
			return nil, fmt.Errorf("default language %q has no texts (have %s)", fallback, strings.Join(l.Languages(), ", "))
		}
		l.fallback = fallback
	}
	for _, lang := range overrideOrder(overrides, l.fallback) {
		if !isLanguageSubtag(lang) {
			return nil, fmt.Errorf("language %q: give a primary language subtag in lower case, such as %q: Accept-Language is matched on it", lang, primarySubtag(lang))
		}
		over := overrides[lang]
		for k := range over {
			if _, known := base[k]; !known {
				return nil, fmt.Errorf("language %s: unknown text %q", lang, k)
			}
		}
		from := lang
		if !l.builtin[lang] {
			if from = l.fallback; l.byLang[from] == nil {
				from = "en"
			}
			l.borrow(lang, from, over)
		}
		merged := make(Texts, len(base))
		for k, v := range l.byLang[from] {
			merged[k] = v
		}
		for k, v := range over {
			merged[k] = v
		}
		l.byLang[lang] = merged
	}
	return l, nil
}

// overrideOrder lists the overridden languages, the fallback first: the
// others that lack a text take the fallback's as the operator gave it,
// whatever the order of the map.
func overrideOrder(overrides map[string]Texts, fallback string) []string {
	langs := make([]string, 0, len(overrides))
	for lang := range overrides {
		langs = append(langs, lang)
	}
	sort.Slice(langs, func(i, j int) bool {
		if (langs[i] == fallback) != (langs[j] == fallback) {
			return langs[i] == fallback
		}
		return langs[i] < langs[j]
	})
	return langs
}

// borrow notes that lang, given only by the operator, shows the texts it
// lacks (those not in own) as from has them.
func (l *Locales) borrow(lang, from string, own Texts) {
	m := map[string]string{}
	for k := range l.byLang["en"] {
		if _, ok := own[k]; !ok {
			m[k] = l.TextLang(from, k)
		}
	}
	l.borrowed[lang] = m
}

// TextLang is the language the text under key is written in for visitors
// of lang: lang itself, but for a language only the operator gives, the
// language whose text stands in for one the operator left out.
func (l *Locales) TextLang(lang, key string) string {
	if from := l.borrowed[lang][key]; from != "" {
		return from
	}
	return lang
}

// TextLangs lists the texts of lang written in another language, by key
// (nil when there are none, as for every built-in language).
func (l *Locales) TextLangs(lang string) map[string]string {
	var out map[string]string
	for k, from := range l.borrowed[lang] {
		if from != lang {
			if out == nil {
				out = map[string]string{}
			}
			out[k] = from
		}
	}
	return out
}

// Dir is the writing direction of lang: "rtl" for the right-to-left
// scripts of Arabic, Hebrew, Persian and Urdu, else "" (left to right).
func Dir(lang string) string {
	switch primarySubtag(lang) {
	case "ar", "he", "fa", "ur":
		return "rtl"
	}
	return ""
}

// Languages lists the available languages, sorted.
func (l *Locales) Languages() []string {
	langs := make([]string, 0, len(l.byLang))
	for k := range l.byLang {
		langs = append(langs, k)
	}
	sort.Strings(langs)
	return langs
}

// Drop stops offering lang (the fallback always stays): a visitor who
// asks for it gets the fallback.
func (l *Locales) Drop(lang string) {
	if lang != l.fallback {
		delete(l.byLang, lang)
	}
}

// Builtin reports whether lang's texts come with the banner (rather than
// only from the operator).
func (l *Locales) Builtin(lang string) bool { return l.builtin[lang] }

// Fallback is the language a visitor gets when none of theirs is offered.
func (l *Locales) Fallback() string { return l.fallback }

// Texts returns one language's texts.
func (l *Locales) Texts(lang string) Texts { return l.byLang[lang] }

// Pick chooses the language for an Accept-Language header: the available
// language with the highest q-value (primary subtag match), else the fallback.
func (l *Locales) Pick(acceptLanguage string) string {
	best, bestQ := l.fallback, 0.0
	for part := range strings.SplitSeq(acceptLanguage, ",") {
		tag, q := parseLangRange(part)
		if q <= bestQ || tag == "" {
			continue
		}
		if _, ok := l.byLang[tag]; ok {
			best, bestQ = tag, q
		}
	}
	return best
}

// isLanguageSubtag tells whether lang is what Pick can match: a primary
// language subtag (two or three letters, lower case), as it reads
// Accept-Language ("de-AT" is "de").
func isLanguageSubtag(lang string) bool {
	if n := len(lang); n < 2 || n > 3 {
		return false
	}
	return strings.Trim(lang, "abcdefghijklmnopqrstuvwxyz") == ""
}

// primarySubtag is lang as Pick would match it, for an error's example.
func primarySubtag(lang string) string {
	lang = strings.ToLower(lang)
	if i := strings.IndexAny(lang, "-_"); i >= 0 {
		lang = lang[:i]
	}
	return lang
}

func parseLangRange(s string) (string, float64) {
	tag, params, _ := strings.Cut(strings.TrimSpace(s), ";")
	q := 1.0
	if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
		if _, err := fmt.Sscanf(v, "%g", &q); err != nil {
			q = 0
		}
	}
	tag = primarySubtag(tag)
	return tag, q
}

// Fingerprint is a stable encoding of every text in every language; it enters
// the policy version, so a change of wording asks visitors again.
func (l *Locales) Fingerprint() []byte {
	data, _ := json.Marshal(l.byLang) // map keys are sorted by encoding/json
	return data
}
