package rewrite

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// foreignWords are the tags that move the parser in and out of SVG and
// MathML, and the elements whose content is raw text outside them.
var foreignWords = []string{
	"<svg>", "</svg>", "<svg/>", "<math>", "</math>", "<SVG>",
	"<title>", "</title>", "<title/>", "<style>", "</style>", "<style/>", "<script>", "</script>", "<script/>",
	"<textarea>", "</textarea>", "<xmp>", "</xmp>", "<iframe>", "</iframe>", "<noembed>", "</noembed>",
	"<desc>", "</desc>", "<foreignObject>", "</foreignObject>", "<mtext>", "</mtext>", "<mi>", "</mi>",
	"<annotation-xml>", `<annotation-xml encoding="text/html">`, "</annotation-xml>",
	"<p>", "</p>", "<div>", "</div>", "<font>", "<font color=red>", "</font>", "<g>", "</g>", "<br>", "</br>",
	"<table>", "<td>", "<b>", "<span>", "</span>", "<img src=/x>", "x", " ", "<!-- c -->",
}

// TestForeignContentAgainstParser: in random mixes of those tags, the
// rewriter finds its tags where x/net/html's parser has its tokenizer find
// them (see xnetTokens), and nothing but judged tags changes; or, where it
// cannot tell (see foreign.go), it finds more, never fewer.
func TestForeignContentAgainstParser(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	exact := 0
	for range 4000 {
		var b strings.Builder
		for range 1 + rng.IntN(14) {
			b.WriteString(foreignWords[rng.IntN(len(foreignWords))])
		}
		b.WriteString(`<img src="` + trk + `">`)
		src := []byte(b.String())
		toks := xnetTokens(src)
		out, tags := traced(src, Options{Judge: newTestJudge()})
		want := xnetTags(toks)
		switch {
		case slices.Equal(tags, want):
			if err := sameOutsideJudged(toks, xnetTokens(out)); err != nil {
				t.Fatalf("%q: %v", src, err)
			}
			exact++
		case moreMarkupInForeign(src, tags, want):
		default:
			t.Fatalf("tags differ from x/net/html in %q:\n got %v\nwant %v", src, tags, want)
		}
	}
	t.Logf("%d of 4000 mixes read exactly as the parser reads them", exact)
	if exact < 3000 {
		t.Errorf("only %d of 4000 mixes read exactly as the parser reads them", exact)
	}
}
