package rewrite

import (
	"io"
	"strings"
	"testing"

	"github.com/consentgate/consentgate/consent/catalog"
)

// A speculation rules file (Options.Rules) loses the URLs the visitor's
// choice blocks and keeps the rest; what cannot be read whole becomes an
// empty rule set.
func TestSpeculationRulesFile(t *testing.T) {
	mixed := `{"prefetch": [{"source": "list", "urls": ["/next.html", "` + trk + `"], "eagerness": "immediate"}],
		"prerender": [{"where": {"href_matches": "/*"}, "eagerness": 0.50}]}`
	long := `{"prefetch": [{"urls": ["/a.html"], "tag": "` + strings.Repeat("x", RulesLimit) + `"}]}`
	cases := []rwCase{
		{"a tracker among the site's own URLs", mixed,
			`{"prefetch":[{"eagerness":"immediate","source":"list","urls":["/next.html"]}],"prerender":[{"eagerness":0.50,"where":{"href_matches":"/*"}}]}`},
		{"only a tracker", `{"prerender":[{"urls":["` + trk + `"]}]}`, `{"prerender":[{"urls":[]}]}`},
		{"the site's own URLs only, as written", "{ \"prefetch\" : [ {\"urls\": [\"/a.html\", \"https://cdn.example/b.html\"]} ] }\n", ""},
		{"a tracker's URL outside any list of urls", `{"prefetch": [{"urls": ["/a"]}], "tag": "` + trk + `"}`, ""},
		{"a document rule that could pick a tracker's link", `{"prefetch": [{"where": {"href_matches": "` + trk + `"}}]}`,
			`{"prefetch":[{"where":{"and":[{"href_matches":"` + trk + `"},{"href_matches":"/*"}]}}]}`},
		{"a byte order mark", "\xEF\xBB\xBF" + `{"prefetch":[{"urls":["` + trk + `","/a"]}]}`, `{"prefetch":[{"urls":["/a"]}]}`},
		{"HTML characters stay as they are", `{"prefetch":[{"urls":["/a?x=1&y=<2>","` + trk + `"]}]}`, `{"prefetch":[{"urls":["/a?x=1&y=<2>"]}]}`},
		{"not JSON", `{"prefetch": [{"urls": ["` + trk + `"]}`, `{}`},
		{"more after the JSON", `{"prefetch": []} {"prefetch": [{"urls": ["` + trk + `"]}]}`, `{}`},
		{"no JSON after the JSON", `{"prefetch": [{"urls": ["` + trk + `"]}]} url(x)`, `{}`},
		{"a list inside a list of urls", `{"prefetch": [{"urls": [1, {"urls": ["` + trk + `", "/a"]}]}]}`, `{"prefetch":[{"urls":[1,{"urls":["/a"]}]}]}`},
		{"empty", ``, `{}`},
		{"longer than RulesLimit", long, `{}`},
	}
	checkCases(t, cases, Options{Judge: newTestJudge(), Rules: true})

	// A visitor who allows everything gets the file as it was.
	checkCases(t, []rwCase{{"allowed", mixed, ""}}, Options{Rules: true})

	var seen []string
	opt := Options{Judge: newTestJudge(), Rules: true, OnURL: func(_ catalog.Kind, url []byte, _ Verdict) { seen = append(seen, string(url)) }}
	var r Rewriter
	r.RewriteAll(nil, []byte(mixed), opt)
	if r.Blocked() != 1 || r.Oversized() != 0 {
		t.Errorf("Blocked, Oversized = %d, %d; want 1, 0", r.Blocked(), r.Oversized())
	}
	if strings.Join(seen, " ") != "/next.html "+trk {
		t.Errorf("OnURL saw %q, want both listed URLs", seen)
	}
	r.RewriteAll(nil, []byte(long), opt)
	if r.Oversized() != 1 {
		t.Errorf("a file longer than RulesLimit: Oversized = %d, want 1", r.Oversized())
	}

	// Memory stays bounded however long the file.
	r.Reset(io.Discard, opt)
	chunk := []byte(strings.Repeat(" ", 4<<10))
	for range 64 {
		r.Write(chunk)
		if held := r.heldCap(); held > 2*RulesLimit {
			t.Fatalf("holds %d bytes of a long file, over twice RulesLimit", held)
		}
	}
}
