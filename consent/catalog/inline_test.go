package catalog

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// refInline is MatchInline restated plainly: every vendor one of whose
// signatures the text contains, in vendor order.
func refInline(vendors []Vendor, text string) []int {
	var out []int
	for i, v := range vendors {
		if slices.ContainsFunc(v.Match.Inline, func(sig string) bool { return strings.Contains(text, sig) }) {
			out = append(out, i)
		}
	}
	return out
}

// TestMatchInlineAgreesWithReference checks the skipping scan against
// refInline on texts built to land signatures, their prefixes and near
// misses at every offset: at the start and end of the text, across the
// borders of the parts the scan splits a text into, overlapping each other,
// in texts shorter than the shortest signature.
func TestMatchInlineAgreesWithReference(t *testing.T) {
	builtin := Builtin()
	small := []Vendor{
		{ID: "a", Match: Rules{Inline: []string{"abcdefgh"}}},
		{ID: "b", Match: Rules{Inline: []string{"cdefgh"}}},
		{ID: "c", Match: Rules{Inline: []string{"bcdefghijk"}}},
		{ID: "d", Match: Rules{Inline: []string{"aaaaaab", "abcabcabcX"}}},
		{ID: "e", Match: Rules{Inline: []string{strings.Repeat("z", 300)}}}, // deeper than a state's saturated depth
	}
	for name, vendors := range map[string][]Vendor{"builtin": builtin, "overlapping": small} {
		m := testMatcher(t, vendors...)
		var sigs []string
		for _, v := range vendors {
			sigs = append(sigs, v.Match.Inline...)
		}
		rng := rand.New(rand.NewPCG(1, uint64(len(vendors))))
		piece := func() string {
			sig := sigs[rng.IntN(len(sigs))]
			switch rng.IntN(5) {
			case 0:
				return sig
			case 1: // a prefix: the automaton starts and gives up
				return sig[:rng.IntN(len(sig))]
			case 2: // a suffix: the skip table knows only signatures' heads
				return sig[rng.IntN(len(sig)):]
			case 3: // one byte off
				b := []byte(sig)
				b[rng.IntN(len(b))] ^= 1
				return string(b)
			default:
				return strings.Repeat(string("ab_(.'"[rng.IntN(6)]), rng.IntN(4))
			}
		}
		for n := range 20000 {
			var b strings.Builder
			for range rng.IntN(12) {
				b.WriteString(piece())
			}
			text := b.String()
			if n%7 == 0 && len(text) > 0 { // any length, not only whole pieces
				text = text[rng.IntN(len(text)):]
			}
			got := m.MatchInline([]byte(text), nil)
			if want := refInline(vendors, text); !slices.Equal(got, want) {
				t.Fatalf("%s: MatchInline(%q) = %v, want %v", name, text, got, want)
			}
		}
	}
}
