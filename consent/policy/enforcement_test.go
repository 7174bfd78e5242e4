package policy_test

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/consentgate/consentgate/consent/catalog"
	"github.com/consentgate/consentgate/consent/policy"
	"github.com/consentgate/consentgate/consent/rewrite"
	"github.com/consentgate/consentgate/consent/rewrite/htmlcheck"
)

const corpusDir = "../../../shared/corpus"

var hook = []byte(`<script defer="" src="/.consent/banner.js"></script>`)

func builtinPolicy(t testing.TB) *policy.Policy {
	t.Helper()
	p, err := policy.New(policy.DefaultPurposes(), catalog.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func rewritten(page []byte, d *policy.Decision) []byte {
	return rewrite.Rewrite(nil, page, rewrite.Options{Judge: d, Hook: hook})
}

// granting returns the decision of a visitor who granted the given purposes.
func granting(p *policy.Policy, purposes ...string) *policy.Decision {
	return p.Decide(policy.Choice{Purposes: purposes}, false)
}

// liveTrackers: what x/net/html says the page still loads or runs from
// vendors the decision does not allow.
func liveTrackers(p *policy.Policy, page []byte, d *policy.Decision) []string {
	return htmlcheck.Inspect(page).Trackers(p.Matcher(), p.Vendors, func(v catalog.Vendor) bool {
		return d.VendorAllowedID(v.ID)
	})
}

// withoutHook removes the single injected hook.
func withoutHook(t *testing.T, out []byte) []byte {
	t.Helper()
	if n := bytes.Count(out, hook); n != 1 {
		t.Fatalf("hook injected %d times", n)
	}
	return bytes.Replace(out, hook, nil, 1)
}

func corpus(t *testing.T) map[string][]byte {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(corpusDir, "*.html"))
	if len(files) == 0 {
		t.Fatalf("no corpus pages in %s (the shared corpus belongs beside this repository)", corpusDir)
	}
	pages := map[string][]byte{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		pages[filepath.Base(f)] = data
	}
	return pages
}

// TestCorpusEnforcement: over every real page, without consent no catalogued
// tracker stays live; with everything granted the output is the input plus
// only the hook.
func TestCorpusEnforcement(t *testing.T) {
	p := builtinPolicy(t)
	none, all := p.Undecided(false), granting(p, p.PurposeIDs()...)
	blockedSomewhere := 0
	for name, page := range corpus(t) {
		t.Run(name, func(t *testing.T) {
			out := rewritten(page, none)
			if live := liveTrackers(p, out, none); len(live) > 0 {
				t.Errorf("without consent, still live:\n  %s", strings.Join(live, "\n  "))
			}
			if !bytes.Equal(withoutHook(t, rewritten(page, all)), page) {
				t.Error("with everything granted, the output is not the input plus the hook")
			}
			if len(liveTrackers(p, page, none)) > 0 {
				blockedSomewhere++
			}
		})
	}
	if blockedSomewhere < 30 {
		t.Errorf("only %d corpus pages had trackers to block; the catalogue misses the corpus's trackers", blockedSomewhere)
	}
}

// TestStyleCommentsAndStrings: with the built-in catalogue, the url()s and
// @imports of a style element are judged however comments, strings and
// url tokens surround them: a "/*" in a string or a url token opens no
// comment, a quote in a comment opens no string. Without consent none of
// them is live as htmlcheck reads the output; with everything granted the
// page is untouched.
func TestStyleCommentsAndStrings(t *testing.T) {
	p := builtinPolicy(t)
	none, all := p.Undecided(false), granting(p, p.PurposeIDs()...)
	ga, fonts := "https://www.google-analytics.com/collect", "https://fonts.googleapis.com/css?family=X"
	styles := []string{
		`@import "` + fonts + `";.a{content:"/*"}.b{background:url(` + ga + `)}`,
		`.a{content:'/*'}.b{background:url('` + ga + `')}@import url(` + fonts + `);.c{} /* */`,
		`.a{background:url(//cdn.example/a/*b.png)}.b{background:url(` + ga + `)}/* */`,
		`.a{content:"\"}/*"}.b{background:url(` + ga + `)}`,
		".a{content:\"/*\n}.b{background:url(" + ga + ")} .c{content:\"*/\"}",
		`/* don't */ @import/**/"` + fonts + `"; .b{background:url(` + ga + `)}`,
		strings.Repeat(".p{color:red}\n", 1200) + `/* url(" */ .b{background:url(` + ga + `)} .c{content:"x"}`,
	}
	for _, css := range styles {
		page := []byte("<!doctype html><html><head><style>" + css + "</style></head><body></body></html>")
		if len(liveTrackers(p, page, none)) == 0 {
			t.Errorf("%.80q: htmlcheck finds nothing to block in the page", css)
		}
		if live := liveTrackers(p, rewritten(page, none), none); len(live) > 0 {
			t.Errorf("%.80q: without consent, still live:\n  %s", css, strings.Join(live, "\n  "))
		}
		if !bytes.Equal(withoutHook(t, rewritten(page, all)), page) {
			t.Errorf("%.80q: with everything granted, the output is not the input plus the hook", css)
		}
	}
}

// alsoRE finds a snippet's note that it legitimately loads other vendors too.
var alsoRE = regexp.MustCompile(`<!--\s*also:\s*([a-z0-9, _-]+?)\s*-->`)

// alsoPurposes are the purposes of the other vendors a snippet names.
func alsoPurposes(p *policy.Policy, snippet []byte) []string {
	var out []string
	for _, m := range alsoRE.FindAllSubmatch(snippet, -1) {
		for _, id := range strings.Split(string(m[1]), ",") {
			if v, ok := p.Vendor(strings.TrimSpace(id)); ok {
				out = append(out, v.Purpose)
			}
		}
	}
	return out
}

// TestVendorSnippets: for every catalogued vendor, its real-world snippet is
// neutralised when its purpose is not granted and untouched when it is.
func TestVendorSnippets(t *testing.T) {
	p := builtinPolicy(t)
	for _, v := range p.Vendors {
		t.Run(v.ID, func(t *testing.T) {
			snippet, err := os.ReadFile(filepath.Join("..", "catalog", "testdata", "snippets", v.ID+".html"))
			if err != nil {
				t.Fatalf("no snippet for %s: %v", v.ID, err)
			}
			page := append(append([]byte("<!doctype html><html><head>"), snippet...), "</head><body></body></html>"...)
			others := []string{}
			for _, id := range p.PurposeIDs() {
				if id != v.Purpose {
					others = append(others, id)
				}
			}
			without := granting(p, others...)
			out := rewritten(page, without)
			if v.Purpose == policy.Necessary {
				if !bytes.Equal(withoutHook(t, out), page) {
					t.Errorf("necessary vendor %s was changed", v.ID)
				}
				return
			}
			if before := liveTrackers(p, page, without); len(before) == 0 {
				t.Fatalf("snippet of %s loads nothing the catalogue attributes to it", v.ID)
			}
			if live := liveTrackers(p, out, without); len(live) > 0 {
				t.Errorf("%s not granted, still live:\n  %s", v.Purpose, strings.Join(live, "\n  "))
			}
			if !bytes.Contains(out, []byte(`data-consent-vendor="`)) {
				t.Errorf("no element names its vendor:\n%s", out)
			}
			with := granting(p, append(alsoPurposes(p, snippet), v.Purpose)...)
			if !bytes.Equal(withoutHook(t, rewritten(page, with)), page) {
				t.Errorf("%s granted, but the snippet changed", v.Purpose)
			}
		})
	}
}

// TestTailPoisonIsSyntaxError: the long inline scripts of the corpus in
// which a tracker hides past the rewriter's hold limit are made syntax
// errors, so browsers never run them. Node's parser (the one V8 uses)
// proves it: each original script parses, the poisoned one does not.
func TestTailPoisonIsSyntaxError(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is needed to parse JavaScript (.ci/run installs it)")
	}
	p := builtinPolicy(t)
	none := p.Undecided(false)
	poisoned := 0
	for name, page := range corpus(t) {
		out := rewritten(page, none)
		for _, script := range htmlcheck.InlineScriptTexts(out) {
			if !strings.HasSuffix(script, rewrite.TailPoison) {
				continue
			}
			poisoned++
			original := strings.TrimSuffix(script, rewrite.TailPoison)
			if err := nodeCheck(t, node, original); err != nil {
				t.Logf("%s: original script does not parse either, skipping it: %v", name, err)
				continue
			}
			if nodeCheck(t, node, script) == nil {
				t.Errorf("%s: poisoned script still parses", name)
			}
		}
	}
	if poisoned == 0 {
		t.Fatal("no corpus script was poisoned; the corpus has two that need it")
	}
}

func nodeCheck(t *testing.T, node, script string) error {
	f := filepath.Join(t.TempDir(), "s.js")
	if err := os.WriteFile(f, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(node, "--check", f).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%v: %s", err, firstLine(out))
	}
	return nil
}

func firstLine(b []byte) string {
	s, _, _ := strings.Cut(string(b), "\n")
	return s
}

// TestLoadsThroughBaseAndBackground: a page whose <base href> names a
// tracker's host loads that tracker through plain relative URLs, and legacy
// background attributes and styles of any element load images; x/net/html
// (resolving against the base itself) finds none of them live without
// consent, and all of them as they were with everything granted.
func TestLoadsThroughBaseAndBackground(t *testing.T) {
	p := builtinPolicy(t)
	none, all := p.Undecided(false), granting(p, p.PurposeIDs()...)
	page := []byte(`<!doctype html><html><head><title>t</title>` +
		`<base href="https://www.google-analytics.com/"><script async src="analytics.js"></script></head>` +
		`<body background="https://www.facebook.com/tr?id=1&amp;ev=PageView">` +
		`<table><tr><td background="//www.facebook.com/tr?id=2">x</td></tr></table>` +
		`<textarea style="background:url(https://www.facebook.com/tr?id=3)"></textarea></body></html>`)
	before := liveTrackers(p, page, none) // once per parse, scripting on and off
	slices.Sort(before)
	if before = slices.Compact(before); len(before) != 4 {
		t.Fatalf("the page should load four trackers unrewritten, x/net/html finds %d:\n  %s", len(before), strings.Join(before, "\n  "))
	}
	if live := liveTrackers(p, rewritten(page, none), none); len(live) > 0 {
		t.Errorf("without consent, still live:\n  %s", strings.Join(live, "\n  "))
	}
	if !bytes.Equal(withoutHook(t, rewritten(page, all)), page) {
		t.Error("with everything granted, the output is not the input plus the hook")
	}
}

// TestDataURLFramesAreJudgedAsDocuments: a frame whose URL is a data: URL
// of an HTML or SVG document loads what that document names; with the real
// catalogue, such frames are blocked for the vendor inside, and left alone
// when it is granted or when nothing inside is a vendor's.
func TestDataURLFramesAreJudgedAsDocuments(t *testing.T) {
	p := builtinPolicy(t)
	none, all := p.Undecided(false), granting(p, p.PurposeIDs()...)
	svg := base64.StdEncoding.EncodeToString([]byte(`<svg xmlns="http://www.w3.org/2000/svg"><image href="https://www.facebook.com/tr?id=1&amp;ev=PageView"/></svg>`))
	page := []byte(`<!doctype html><html><head><title>t</title></head><body>` +
		`<iframe src="data:text/html,%3Cscript%20async%20src=%22https://www.googletagmanager.com/gtag/js?id=G-1%22%3E%3C/script%3E"></iframe>` +
		`<embed type="image/svg+xml" src="data:image/svg+xml;base64,` + svg + `">` +
		`<iframe src="data:text/html,%3Cp%3Ehello%3C/p%3E"></iframe></body></html>`)
	out := string(rewritten(page, none))
	for _, want := range []string{`<iframe data-consent-purpose="analytics" data-consent-vendor="google-analytics"`, `<embed data-consent-purpose="marketing" data-consent-vendor="facebook-pixel"`} {
		if !strings.Contains(out, want) {
			t.Errorf("without consent, the output lacks %s:\n%s", want, out)
		}
	}
	if !strings.Contains(out, `<iframe src="data:text/html,%3Cp%3Ehello%3C/p%3E">`) {
		t.Error("a data: frame naming no vendor was changed")
	}
	if !bytes.Equal(withoutHook(t, rewritten(page, all)), page) {
		t.Error("with everything granted, the output is not the input plus the hook")
	}
}

// TestSrcdocsOfAnyLengthAreJudged: with the real catalogue, a frame's
// srcdoc loads its trackers whatever the tag's length: a small one in an
// oversized tag blocks its frame; one too long to hold is rewritten in
// place. Without consent none is left live; with everything granted the
// page is the input plus the hook.
func TestSrcdocsOfAnyLengthAreJudged(t *testing.T) {
	p := builtinPolicy(t)
	none, all := p.Undecided(false), granting(p, p.PurposeIDs()...)
	padding := strings.Repeat("&lt;p&gt;Lorem ipsum &amp;amp; dolor.&lt;/p&gt;\n", rewrite.TagLimit/30)
	page := []byte(`<!doctype html><html><head><title>t</title></head><body>` +
		`<iframe title="` + strings.Repeat("w", rewrite.TagLimit) + `" srcdoc="&lt;script async src=&quot;https://www.googletagmanager.com/gtag/js?id=G-1&quot;&gt;&lt;/script&gt;"></iframe>` +
		`<iframe title="long" srcdoc="` + padding + `&lt;img alt='' src=&quot;https://www.facebook.com/tr?id=1&amp;amp;ev=PageView&quot;&gt;` +
		`&lt;script&gt;gtag('config', 'G-2');&lt;/script&gt;"></iframe></body></html>`)
	before := liveTrackers(p, page, none)
	slices.Sort(before)
	if before = slices.Compact(before); len(before) != 3 {
		t.Fatalf("the page should load three trackers unrewritten, x/net/html finds %d:\n  %s", len(before), strings.Join(before, "\n  "))
	}
	out := rewritten(page, none)
	if live := liveTrackers(p, out, none); len(live) > 0 {
		t.Errorf("without consent, still live:\n  %s", strings.Join(live, "\n  "))
	}
	if !bytes.Contains(out, []byte(`<iframe title="long" srcdoc="`+padding+`&lt;img data-consent-purpose=&quot;marketing&quot;`)) {
		t.Error("the long srcdoc's frame did not keep its document")
	}
	if !bytes.Equal(withoutHook(t, rewritten(page, all)), page) {
		t.Error("with everything granted, the output is not the input plus the hook")
	}
}
