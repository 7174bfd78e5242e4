package rewrite

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/consentgate/consentgate/consent/catalog"
	"github.com/consentgate/consentgate/consent/rewrite/htmlcheck/csscheck"
)

// hashJudge blocks about half of what it is asked, by a hash of the bytes,
// so both paths of every element are exercised.
type hashJudge struct{}

func (hashJudge) verdict(b []byte) Verdict {
	h := fnv.New32a()
	h.Write(b)
	return Verdict{Block: h.Sum32()&1 == 1, Vendor: "v<&>", VendorName: "Vendör \"X\"", Purpose: "p'1"}
}
func (j hashJudge) JudgeURL(_ catalog.Kind, u []byte) Verdict { return j.verdict(u) }

// JudgeInline blocks scripts containing "push(" or "if(": like real
// signatures, what it finds in a text it also finds in any text containing
// it, which the tail scan of long scripts relies on.
func (j hashJudge) JudgeInline(s []byte) Verdict {
	v := j.verdict(nil)
	v.Block = bytes.Contains(s, []byte("push(")) || bytes.Contains(s, []byte("if("))
	return v
}
func (j hashJudge) JudgePurpose(p []byte) Verdict { return j.verdict(p) }

const (
	testEarly = "<script>/*early*/</script>"
	testHook  = "<script src=/.consent/b.js></script>"
)

// streamed writes src through a Rewriter in writes of random sizes up to
// maxChunk, calling Flush now and then; after every Flush the output so far
// must be a prefix of want.
func streamed(src []byte, opt Options, rng *rand.Rand, maxChunk int, want []byte) ([]byte, error) {
	var out bytes.Buffer
	r := New(&out, opt)
	for p := src; len(p) > 0; {
		n := min(len(p), 1+rng.IntN(maxChunk))
		if _, err := r.Write(p[:n]); err != nil {
			return nil, err
		}
		p = p[n:]
		if rng.IntN(8) == 0 {
			r.Flush()
			if got := out.Bytes(); !bytes.HasPrefix(want, got) {
				return nil, fmt.Errorf("after Flush at input offset %d: output is not a prefix of the whole rewrite", len(src)-len(p))
			}
		}
	}
	if err := r.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// checkProperties checks the rewriter's properties on one input:
// chunking does not change the output, a judge that blocks nothing only
// injects (and, reading it as a style sheet, changes nothing), tags are where x/net/html finds them, and nothing but judged
// start tags and @import rules changes when everything is blocked, when
// no style text (nor the input read as a style sheet, or as the end of a
// long one) loads anything as the CSS reference (csscheck) reads it.
func checkProperties(src []byte, rng *rand.Rand, rounds int) error {
	opt := Options{Judge: hashJudge{}, Early: []byte(testEarly), Hook: []byte(testHook)}
	whole := Rewrite(nil, src, opt)
	for round := range rounds {
		maxChunk := []int{1, 7, 300, 64 << 10}[round%4]
		got, err := streamed(src, opt, rng, maxChunk, whole)
		if err != nil {
			return err
		}
		if !bytes.Equal(got, whole) {
			return fmt.Errorf("writes of up to %d bytes: output differs from Rewrite at byte %d", maxChunk, mismatch(got, whole))
		}
	}

	toks := xnetTokens(src)
	id := Rewrite(nil, src, Options{Judge: nopJudge{}, Early: []byte(testEarly), Hook: []byte(testHook)})
	narrowed := []byte(withRulesNarrowed(string(src))) // (before the injections, which may follow a script the page leaves open)
	if want := expectInjected(narrowed, xnetTokens(narrowed), testEarly, testHook); string(id) != want {
		return fmt.Errorf("blocking nothing: output differs from input with injections at byte %d", mismatch(id, []byte(want)))
	}

	if err := checkRulesFile(src); err != nil {
		return err
	}

	// Read as a style sheet, it is unchanged when nothing is blocked.
	if sheet := Rewrite(nil, src, Options{Judge: nopJudge{}, Sheet: true, Hook: []byte(testHook)}); !bytes.Equal(sheet, src) {
		return fmt.Errorf("as a sheet, blocking nothing: output differs from input at byte %d", mismatch(sheet, src))
	}
	if l, ok := liveCSS(Rewrite(nil, src, Options{Judge: blockAll{}, Sheet: true})); ok {
		return fmt.Errorf("as a sheet, blocking all: it still loads %q (at %d)", l.URL, l.At)
	}
	// So as the rest of a long sheet, whose first bytes are white space up
	// to somewhere in src's first 64, judged as it streams, in writes of any
	// size.
	pad := HoldLimit - len(src)%64
	long := append(bytes.Repeat([]byte(" "), pad), src...)
	all := Options{Judge: blockAll{}, Sheet: true}
	tail := Rewrite(nil, long, all)
	if l, ok := liveCSS(tail); ok {
		return fmt.Errorf("as the rest of a long sheet, blocking all: it still loads %q (at %d)", l.URL, l.At-pad)
	}
	var got bytes.Buffer
	r := New(&got, all)
	small := max(7, len(src)>>6) // (writes of a few bytes for a fuzz input, not for a page)
	for p := long; len(p) > 0; {
		n := min(len(p), 1+rng.IntN(small))
		if len(p) == len(long) { // the white space in one write, up to near its end
			n = pad - rng.IntN(16)
		}
		r.Write(p[:n])
		p = p[n:]
	}
	if r.Close(); !bytes.Equal(got.Bytes(), tail) {
		return fmt.Errorf("as the rest of a long sheet, in small writes: output differs from Rewrite at byte %d", mismatch(got.Bytes(), tail)-pad)
	}

	out, tags := traced(src, Options{Judge: blockAll{}})
	if want := xnetTags(toks); !slices.Equal(tags, want) {
		if moreMarkupInForeign(src, tags, want) {
			return nil // the rest compares token for token, which judging more changes
		}
		return fmt.Errorf("tags differ from x/net/html:\n got %v\nwant %v", tags, want)
	}
	outToks := xnetTokens(out)
	for k, t := range outToks {
		if t.typ != html.TextToken || k == 0 || !isStart(outToks[k-1]) {
			continue
		}
		switch tag := outToks[k-1]; {
		case tag.name == "style":
			if l, ok := liveCSS([]byte(t.raw)); ok {
				return fmt.Errorf("blocking all: a style element still loads %q (at %d of its text)", l.URL, l.At)
			}
		case tag.name == "script" && isRulesScript(tag.raw) && len(t.raw) < HoldLimit:
			if err := checkDocumentRules([]byte(t.raw)); err != nil {
				return fmt.Errorf("blocking all: speculation rules in the page: %v", err)
			}
		}
	}
	return sameOutsideJudged(toks, outToks)
}

// liveCSS finds a URL that CSS text, rewritten with everything blocked,
// still loads as csscheck reads it. (An @import is judged only in the first
// HoldLimit bytes: one in a longer text is not looked at.)
func liveCSS(css []byte) (csscheck.Load, bool) {
	for _, l := range csscheck.Loads(string(css)) {
		if l.Import && len(css) > HoldLimit {
			continue
		}
		if !strings.HasPrefix(l.URL, string(cssArgRename)) {
			return l, true
		}
	}
	return csscheck.Load{}, false
}

func mismatch(a, b []byte) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

func TestCorpusProperties(t *testing.T) {
	for _, pg := range corpus(t) {
		t.Run(pg.name, func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(uint64(len(pg.src)), 1))
			if err := checkProperties(pg.src, rng, 4); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestTableProperties(t *testing.T) {
	for _, c := range cases {
		rng := rand.New(rand.NewPCG(uint64(len(c.in)), 2))
		if err := checkProperties([]byte(c.in), rng, 8); err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}

// checkRulesFile checks src read as a speculation rules file: unchanged
// when nothing is blocked (an empty rule set if it is not JSON) but for its
// document rules, narrowed; JSON that lists no URL when everything is; and
// either way, no document rule that could pick another host's links.
func checkRulesFile(src []byte) error {
	none := Rewrite(nil, src, Options{Judge: nopJudge{}, Rules: true})
	if !bytes.Equal(none, src) && string(none) != "{}" {
		set, ok := decodeRules(bytes.TrimPrefix(src, byteOrderMark))
		ok = ok && narrowDocumentRules(set)
		if narrowed, _ := encodeRules(set, false); !ok || !bytes.Equal(none, narrowed) {
			return fmt.Errorf("as a rules file, blocking nothing: output %q is neither the input, nor an empty rule set, nor the input with its document rules narrowed", none)
		}
	}
	if err := checkDocumentRules(none); err != nil {
		return fmt.Errorf("as a rules file, blocking nothing: %v", err)
	}
	all := Rewrite(nil, src, Options{Judge: blockAll{}, Rules: true})
	var set any
	// (A byte order mark before it is the browser's to drop, as it decodes.)
	if err := json.Unmarshal(bytes.TrimPrefix(all, byteOrderMark), &set); err != nil {
		return fmt.Errorf("as a rules file, blocking all: output %q is not JSON: %v", all, err)
	}
	if err := checkDocumentRules(all); err != nil {
		return fmt.Errorf("as a rules file, blocking all: %v", err)
	}
	var listed func(v any, urls bool) string
	listed = func(v any, urls bool) string {
		switch v := v.(type) {
		case []any: // only the strings right in a list of urls are URLs
			for _, e := range v {
				if s, ok := e.(string); ok && urls && s != "" {
					return s
				}
				if s := listed(e, false); s != "" {
					return s
				}
			}
		case map[string]any:
			for k, e := range v {
				if s := listed(e, k == "urls"); s != "" { // an empty URL names nothing to judge
					return s
				}
			}
		}
		return ""
	}
	if u := listed(set, false); u != "" {
		return fmt.Errorf("as a rules file, blocking all: it still lists %q", u)
	}
	return nil
}

// checkDocumentRules finds a document rule in a rule set (if it is JSON)
// that could pick another host's links.
func checkDocumentRules(rules []byte) error {
	var set any
	if json.Unmarshal(bytes.TrimPrefix(rules, byteOrderMark), &set) != nil {
		return nil
	}
	var err error
	eachDocumentRule(set, func(rule map[string]any) {
		if err == nil && !keepsToOwnPaths(rule["where"]) {
			err = fmt.Errorf("a document rule may pick any link: %v", rule)
		}
	})
	return err
}

// isRulesScript reports a script start tag of speculation rules, live or
// held for consent.
func isRulesScript(tag string) bool {
	z := html.NewTokenizer(strings.NewReader(tag))
	z.Next()
	for _, a := range z.Token().Attr {
		if (a.Key == "type" || a.Key == "data-consent-type") && strings.EqualFold(strings.TrimSpace(a.Val), "speculationrules") {
			return true
		}
	}
	return false
}

// withRulesNarrowed is page with the text of each speculation rules script
// whose document rules the rewriter narrows (documentrules.go) narrowed.
func withRulesNarrowed(page string) string {
	toks := xnetTokens([]byte(page))
	var b strings.Builder
	last := 0
	for k, t := range toks {
		if t.typ == html.TextToken && k > 0 && isStart(toks[k-1]) && toks[k-1].name == "script" &&
			isRulesScript(toks[k-1].raw) && len(t.raw) < HoldLimit {
			var r Rewriter
			if narrowed := r.narrowInlineRules([]byte(t.raw)); narrowed != nil {
				b.WriteString(page[last:t.start])
				b.Write(narrowed)
				last = t.end
			}
		}
	}
	b.WriteString(page[last:])
	return b.String()
}

// rulesSeeds are speculation rules files for the fuzzer to start from.
var rulesSeeds = []string{
	`{"prefetch": [{"source": "list", "urls": ["/a.html", "` + trk + `"]}]}`,
	"\xEF\xBB\xBF" + `{"prerender": [{"urls": ["x", 1, null, ["y"], {"urls": ["z"]}], "eagerness": 1e3}]}`,
	`{"prefetch": [{"source": "document", "where": {"or": [{"href_matches": "/a/*"}, {"not": {"selector_matches": "a"}}]}}]}`,
}

func FuzzRewrite(f *testing.F) {
	for _, s := range rulesSeeds {
		f.Add([]byte(s))
	}
	for _, c := range cases {
		if len(c.in) < 1<<10 { // long inputs make the fuzzer slow to minimise
			f.Add([]byte(c.in))
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		h := fnv.New64a()
		h.Write(src)
		rng := rand.New(rand.NewPCG(h.Sum64(), 3))
		if err := checkProperties(src, rng, 4); err != nil {
			t.Fatalf("%v\ninput %q", err, src)
		}
	})
}
