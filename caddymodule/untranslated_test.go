package caddymodule_test

import (
	"fmt"
	"strings"
	"testing"
)

// TestUntranslatedLanguagesAreNotOffered: when the operator replaced a
// text (the banner's, a purpose's) in some languages only, a visitor who
// asks for another built-in language gets the default language as the
// operator wrote it, not a built-in translation that describes what the
// site does not do; a language the operator gave every replaced text in
// is still offered, and so are all built-in ones where nothing built in
// was replaced (texts for a language the banner lacks, or for the
// operator's own purpose, replace nothing).
func TestUntranslatedLanguagesAreNotOffered(t *testing.T) {
	const ours, unsere = "We use one form of another company.", "Wir nutzen ein Formular eines anderen Unternehmens."
	for _, tc := range []struct {
		name, consent string
		wantLang      map[string]string // Accept-Language → the banner's language
		wantText      string            // in the German visitor's banner
	}{
		{"text in English only", "text en text \"" + ours + "\"", map[string]string{"de": "en", "fr": "en", "en": "en"}, ours},
		{"text in English and German", "text en text \"" + ours + "\"\n\t\ttext de text \"" + unsere + "\"", map[string]string{"de": "de", "fr": "en"}, unsere},
		{"a purpose's description in English only", "purpose functional {\n\t\t\tdescription en \"The newsletter form.\"\n\t\t}", map[string]string{"de": "en", "nl": "en"}, ""},
		{"nothing replaced", "", map[string]string{"de": "de", "fr": "fr"}, "Wir möchten"},
		// A language the banner lacks, and the operator's own purpose, add
		// texts rather than replace built-in ones.
		{"a language added", "text ar accept_all \"قبول الكل\"", map[string]string{"de": "de", "ar": "ar"}, "Wir möchten"},
		{"an own purpose described in English", "purpose newsletter {\n\t\t\tname en \"Newsletter\"\n\t\t\tdescription en \"The newsletter form.\"\n\t\t}",
			map[string]string{"de": "de", "fr": "fr"}, "Wir möchten"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			port := freePort(t)
			startCaddy(t, fmt.Sprintf(":%d {\n\tconsent {\n\t\t%s\n\t}\n\theader Content-Type text/html\n\trespond \"<html><head></head><body>hi</body></html>\"\n}", port, tc.consent))
			c := newClient(t)
			for accept, want := range tc.wantLang {
				_, body := get(t, c, baseURL(port)+"/", "Accept-Language", accept)
				if !strings.Contains(body, `"lang":"`+want+`"`) {
					t.Errorf("Accept-Language %s: want the banner in %s:\n%.400s", accept, want, body)
				}
				if accept == "de" && tc.wantText != "" && !strings.Contains(body, tc.wantText) {
					t.Errorf("the German visitor's banner lacks %q", tc.wantText)
				}
			}
		})
	}
}
