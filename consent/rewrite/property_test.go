package rewrite

import (
	"bytes"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/consentgate/consentgate/consent/catalog"
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
// start tags and @import rules changes when everything is blocked.
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
	if want := expectInjected(src, toks, testEarly, testHook); string(id) != want {
		return fmt.Errorf("blocking nothing: output differs from input with injections at byte %d", mismatch(id, []byte(want)))
	}

	// Read as a style sheet, it is unchanged when nothing is blocked.
	if sheet := Rewrite(nil, src, Options{Judge: nopJudge{}, Sheet: true, Hook: []byte(testHook)}); !bytes.Equal(sheet, src) {
		return fmt.Errorf("as a sheet, blocking nothing: output differs from input at byte %d", mismatch(sheet, src))
	}
	Rewrite(nil, src, Options{Judge: blockAll{}, Sheet: true}) // and never panics when all is blocked

	out, tags := traced(src, Options{Judge: blockAll{}})
	if want := xnetTags(toks); !slices.Equal(tags, want) {
		return fmt.Errorf("tags differ from x/net/html:\n got %v\nwant %v", tags, want)
	}
	return sameOutsideJudged(toks, xnetTokens(out))
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

func FuzzRewrite(f *testing.F) {
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
