package rewrite

import (
	"encoding/json"
	"testing"
)

// Document rules that could pick another host's links are narrowed to the
// site's own paths, in a page and in a rules file; those that keep to the
// site stay byte for byte.
func TestDocumentRules(t *testing.T) {
	const narrowedAll = `{"prefetch":[{"eagerness":"immediate","source":"document","where":{"and":[{"selector_matches":"a"},{"href_matches":"/*"}]}}]}`
	script := func(rules string) string { return `<script type="speculationrules">` + rules + `</script>` }
	page := []rwCase{
		{"every link", script(`{"prefetch": [{"source": "document", "where": {"selector_matches": "a"}, "eagerness": "immediate"}]}`),
			script(narrowedAll)},
		{"no condition: every link", script(`{"prefetch":[{"source":"document"}]}`),
			script(`{"prefetch":[{"source":"document","where":{"href_matches":"/*"}}]}`)},
		{"the condition alone makes it a document rule", script(`{"prerender":[{"where":{"not":{"href_matches":"/logout"}}}]}`),
			script(`{"prerender":[{"where":{"and":[{"not":{"href_matches":"/logout"}},{"href_matches":"/*"}]}}]}`)},
		{"WordPress's rules keep to the site", script(`{"prefetch":[{"source":"document","where":{"and":[{"href_matches":"\/*"},` +
			`{"not":{"href_matches":["\/wp-*.php","\/wp-admin\/*"]}},{"not":{"selector_matches":"a[rel~=\"nofollow\"]"}}]},"eagerness":"conservative"}]}`), ""},
		{"a path pattern as a dictionary", script(`{"prefetch":[{"where":{"href_matches":{"pathname":"/shop/*"}}}]}`), ""},
		{"one of two paths", script(`{"prefetch":[{"where":{"or":[{"href_matches":"/a/*"},{"href_matches":["/b/*","/c"]}]}}]}`), ""},
		{"a path or anything", script(`{"prefetch":[{"where":{"or":[{"href_matches":"/a/*"},{"selector_matches":".x"}]}}]}`),
			script(`{"prefetch":[{"where":{"and":[{"or":[{"href_matches":"/a/*"},{"selector_matches":".x"}]},{"href_matches":"/*"}]}}]}`)},
		{"another host's pattern", script(`{"prefetch":[{"where":{"href_matches":"//tracker.example/*"}}]}`),
			script(`{"prefetch":[{"where":{"and":[{"href_matches":"//tracker.example/*"},{"href_matches":"/*"}]}}]}`)},
		{"a host in a dictionary", script(`{"prefetch":[{"where":{"href_matches":{"hostname":"*","pathname":"/*"}}}]}`),
			script(`{"prefetch":[{"where":{"and":[{"href_matches":{"hostname":"*","pathname":"/*"}},{"href_matches":"/*"}]}}]}`)},
		{"a key spelt with an escape", script(`{"prefetch":[{"wh\u0065re":{"selector_matches":"a"}}]}`),
			script(`{"prefetch":[{"where":{"and":[{"selector_matches":"a"},{"href_matches":"/*"}]}}]}`)},
		{"no \"<\" can end the script", script(`{"prefetch":[{"where":{"selector_matches":"a[title='<\/script>']"}}]}`),
			script(`{"prefetch":[{"where":{"and":[{"selector_matches":"a[title='\u003c/script\u003e']"},{"href_matches":"/*"}]}}]}`)},
		{"list rules are left to the URL judge", script(`{"prefetch":[{"urls":["/a","https://cdn.example/b"]}]}`), ""},
		{"not JSON goes as it came", script(`{"prefetch":[{"where":{"selector_matches":"a"}}]`), ""},
		{"with a tracker's URL: held for consent, narrowed",
			script(`{"prefetch":[{"urls":["` + trk + `"]},{"where":{"selector_matches":"a"}}]}`),
			`<script` + txt + ads + ` data-consent-type="speculationrules">{"prefetch":[{"urls":["` + trk + `"]},{"where":{"and":[{"selector_matches":"a"},{"href_matches":"/*"}]}}]}</script>`},
	}
	checkCases(t, page, Options{Judge: newTestJudge()})
	// The narrowing does not depend on the visitor's choice.
	checkCases(t, page[:1], Options{})

	// In XHTML, rules wrapped in CDATA come out as plain (escaped) text.
	checkCases(t, []rwCase{{"CDATA", `<script type="speculationrules"><![CDATA[{"prefetch":[{"where":{"selector_matches":"a"}}]}]]></script>`,
		script(`{"prefetch":[{"where":{"and":[{"selector_matches":"a"},{"href_matches":"/*"}]}}]}`)}}, Options{Judge: newTestJudge(), XML: true})

	file := []rwCase{
		{"every link", `{"prefetch": [{"source": "document", "where": {"selector_matches": "a"}, "eagerness": "immediate"}]}`, narrowedAll},
		{"a path", "{\"prefetch\": [{\"where\": {\"href_matches\": \"/*\", \"relative_to\": \"ruleset\"}}]}\n", ""},
	}
	checkCases(t, file, Options{Judge: newTestJudge(), Rules: true})
}

// keepsToOwnPaths on conditions as written in rules.
func TestKeepsToOwnPaths(t *testing.T) {
	for cond, want := range map[string]bool{
		`{"href_matches":"/*"}`:                                    true,
		`{"href_matches":"/"}`:                                     true,
		`{"href_matches":"/*","relative_to":"document"}`:           true,
		`{"href_matches":[]}`:                                      false,
		`{"href_matches":"//evil.example/*"}`:                      false,
		`{"href_matches":"/\\evil.example/*"}`:                     false,
		`{"href_matches":"https://site.example/*"}`:                false,
		`{"href_matches":"*"}`:                                     false,
		`{"href_matches":{"search":"?q=*","hash":"*"}}`:            true,
		`{"href_matches":{"protocol":"https","pathname":"/*"}}`:    false,
		`{"href_matches":{"baseURL":"https://evil.example/"}}`:     false,
		`{"and":[{"selector_matches":"a"},{"href_matches":"/*"}]}`: true,
		`{"and":[]}`:                    false,
		`{"or":[]}`:                     false,
		`{"not":{"href_matches":"/*"}}`: false,
		`{"href_matches":"/*","selector_matches":"a"}`: false,
		`"x"`: false,
	} {
		var c any
		if err := json.Unmarshal([]byte(cond), &c); err != nil {
			t.Fatal(err)
		}
		if got := keepsToOwnPaths(c); got != want {
			t.Errorf("keepsToOwnPaths(%s) = %v, want %v", cond, got, want)
		}
	}
}
