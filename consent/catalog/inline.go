package catalog

import (
	"fmt"
	"slices"
)

// signature is one inline rule of one vendor.
type signature struct {
	text   string
	vendor int32
}

// inlineIndex finds every signature in a text in one pass: an Aho-Corasick
// automaton compiled to a DFA, so that a byte costs one table lookup. Bytes
// that occur in no signature share one column, and at the root the scan skips
// ahead to the next byte pair that begins a signature, which most positions
// of ordinary script do not.
type inlineIndex struct {
	class [256]uint32 // byte → column
	// next[row+column] is the next state's row (state × columns). States
	// are numbered so that those ending a signature come last.
	next     []uint32
	width    uint32    // columns
	firstOut uint32    // row of the first state that ends a signature
	out      [][]int32 // vendors, sorted, by (row-firstOut)/width
	starts   pairSet   // the first two bytes of every signature
}

// maxTable bounds the transition table (64 MiB), far above the catalogue's
// needs (under 1 MiB).
const maxTable = 1 << 24

func newInlineIndex(sigs []signature) (*inlineIndex, error) {
	ix := &inlineIndex{}
	for _, sig := range sigs {
		for i := 0; i < len(sig.text); i++ {
			ix.class[sig.text[i]] = 1
		}
		ix.starts.add(sig.text[0], sig.text[1]) // signatures are longer than two bytes
	}
	w := 1
	for b, used := range ix.class {
		if used != 0 {
			ix.class[b] = uint32(w)
			w++
		}
	}
	delta, outs := buildTrie(sigs, &ix.class, w)
	n := len(outs)
	if n*w > maxTable {
		return nil, fmt.Errorf("inline signatures are too long together (%d automaton states)", n)
	}
	completeDFA(delta, outs, w)

	// Renumber so that states without output come first (the root stays 0).
	order := make([]int, 0, n)
	for _, final := range []bool{false, true} {
		for s := range outs {
			if (len(outs[s]) > 0) == final {
				order = append(order, s)
			}
		}
	}
	row := make([]uint32, n) // old state → new row
	for i, s := range order {
		row[s] = uint32(i * w)
	}
	ix.width, ix.firstOut = uint32(w), uint32(n*w)
	ix.next = make([]uint32, n*w)
	for i, s := range order {
		for c := range w {
			ix.next[i*w+c] = row[delta[s*w+c]]
		}
		if len(outs[s]) > 0 {
			ix.firstOut = min(ix.firstOut, uint32(i*w))
			slices.Sort(outs[s])
			ix.out = append(ix.out, outs[s])
		}
	}
	return ix, nil
}

// buildTrie returns the signatures' trie as a dense table (0 means no edge:
// nothing leads back to the root) and the vendors ending at each state.
func buildTrie(sigs []signature, class *[256]uint32, w int) (delta []int32, outs [][]int32) {
	delta, outs = make([]int32, w), [][]int32{nil}
	for _, sig := range sigs {
		s := 0
		for i := 0; i < len(sig.text); i++ {
			e := s*w + int(class[sig.text[i]])
			if delta[e] == 0 {
				delta[e] = int32(len(outs))
				delta = append(delta, make([]int32, w)...)
				outs = append(outs, nil)
			}
			s = int(delta[e])
		}
		outs[s] = appendUnique(outs[s], sig.vendor)
	}
	return delta, outs
}

// completeDFA turns the trie into the automaton: a missing edge goes where
// the fail state's edge goes, and a state also ends its fail state's
// signatures. Breadth first, so that a fail state is complete before use.
func completeDFA(delta []int32, outs [][]int32, w int) {
	fail := make([]int32, len(outs))
	var queue []int32
	for c := range w {
		if t := delta[c]; t != 0 {
			queue = append(queue, t)
		}
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		row, failRow := int(s)*w, int(fail[s])*w
		for c := range w {
			t := delta[row+c]
			if t == 0 {
				delta[row+c] = delta[failRow+c]
				continue
			}
			fail[t] = delta[failRow+c]
			for _, v := range outs[fail[t]] {
				outs[t] = appendUnique(outs[t], v)
			}
			queue = append(queue, t)
		}
	}
}

func appendUnique(list []int32, v int32) []int32 {
	if slices.Contains(list, v) {
		return list
	}
	return append(list, v)
}

func (ix *inlineIndex) scan(text []byte, dst []int) []int {
	start := len(dst)
	next, class, firstOut := ix.next, &ix.class, ix.firstOut
	var s uint32
	for i := 0; i < len(text); i++ {
		if s == 0 {
			// At the root, skipping a byte that cannot begin a signature
			// reaches the state that reading it would.
			for i+1 < len(text) && !ix.starts.has(text[i], text[i+1]) {
				i++
			}
			if i+1 == len(text) {
				break
			}
		}
		s = next[s+class[text[i]]]
		if s >= firstOut {
			for _, v := range ix.out[(s-firstOut)/ix.width] {
				if !slices.Contains(dst[start:], int(v)) {
					dst = append(dst, int(v))
				}
			}
		}
	}
	slices.Sort(dst[start:])
	return dst
}

// pairSet is a set of byte pairs.
type pairSet [1 << 16 / 64]uint64

func (p *pairSet) add(a, b byte) {
	i := uint(a)<<8 | uint(b)
	p[i>>6] |= 1 << (i & 63)
}

func (p *pairSet) has(a, b byte) bool {
	i := uint(a)<<8 | uint(b)
	return p[i>>6]&(1<<(i&63)) != 0
}
