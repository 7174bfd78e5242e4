package catalog

import (
	"encoding/binary"
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
// that occur in no signature share one column.
//
// Most of a script holds no signature, and the automaton spends its time
// there for nothing. So the scan skips ahead as Wu and Manber's search does:
// it slides a window as long as the shortest signature and looks at the
// window's last three bytes; where these occur in no signature's first
// window, no signature starts in the window, and the window moves on by up to
// its length less two. Where a signature may start, the automaton runs from
// its root until the text it is reading can no longer be the start of one.
type inlineIndex struct {
	class [256]uint32 // byte → column
	// next[row+column] is the next state: its row (state × columns) in the
	// low 24 bits, the length of the signature prefix it stands for
	// (saturated at 255) in the high 8. States are numbered so that those
	// ending a signature come last.
	next     []uint32
	width    uint32    // columns
	firstOut uint32    // row of the first state that ends a signature
	out      [][]int32 // vendors, sorted, by (row-firstOut)/width
	// window is the length of the shortest signature (at most 255), 0 when
	// there is none; skip[h] is how far a window whose last three bytes hash
	// to h can move on without passing the start of a signature.
	window int
	skip   [skipSize]uint8
}

// A window must hold four bytes; this fails to compile where minInline is
// lowered below that.
const _ = uint(minInline - 4)

const (
	rowMask   = 1<<24 - 1
	depthBits = 24
	skipBits  = 15
	skipSize  = 1 << skipBits
)

// trigram hashes the three high bytes of the little-endian x to an index of
// inlineIndex.skip, cheaply: the scan waits for it at every step.
func trigram(x uint32) uint32 {
	return (x >> 8) * 0x9E3779B1 >> (32 - skipBits)
}

// maxTable bounds the transition table (64 MiB), far above the catalogue's
// needs (under 1 MiB); a row must fit in next's low 24 bits.
const maxTable = 1 << 24

func newInlineIndex(sigs []signature) (*inlineIndex, error) {
	ix := &inlineIndex{}
	for _, sig := range sigs {
		for i := 0; i < len(sig.text); i++ {
			ix.class[sig.text[i]] = 1
		}
	}
	ix.fillSkip(sigs)
	w := 1
	for b, used := range ix.class {
		if used != 0 {
			ix.class[b] = uint32(w)
			w++
		}
	}
	delta, outs, depth := buildTrie(sigs, &ix.class, w)
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
			t := delta[s*w+c]
			ix.next[i*w+c] = row[t] | uint32(min(depth[t], 255))<<depthBits
		}
		if len(outs[s]) > 0 {
			ix.firstOut = min(ix.firstOut, uint32(i*w))
			slices.Sort(outs[s])
			ix.out = append(ix.out, outs[s])
		}
	}
	return ix, nil
}

// fillSkip sets window and skip from the signatures, which Validate holds
// to at least minInline bytes; shift reads a window's last four.
func (ix *inlineIndex) fillSkip(sigs []signature) {
	if len(sigs) == 0 {
		return
	}
	m := 255
	for _, sig := range sigs {
		m = min(m, len(sig.text))
	}
	ix.window = m
	for h := range ix.skip {
		ix.skip[h] = uint8(m - 2)
	}
	for _, sig := range sigs {
		for j := 0; j+3 <= m; j++ {
			h := trigram(uint32(sig.text[j])<<8 | uint32(sig.text[j+1])<<16 | uint32(sig.text[j+2])<<24)
			ix.skip[h] = min(ix.skip[h], uint8(m-3-j))
		}
	}
}

// buildTrie returns the signatures' trie as a dense table (0 means no edge:
// nothing leads back to the root), the vendors ending at each state and the
// length of each state's prefix.
func buildTrie(sigs []signature, class *[256]uint32, w int) (delta []int32, outs [][]int32, depth []int) {
	delta, outs, depth = make([]int32, w), [][]int32{nil}, []int{0}
	for _, sig := range sigs {
		s := 0
		for i := 0; i < len(sig.text); i++ {
			e := s*w + int(class[sig.text[i]])
			if delta[e] == 0 {
				delta[e] = int32(len(outs))
				delta = append(delta, make([]int32, w)...)
				outs = append(outs, nil)
				depth = append(depth, i+1)
			}
			s = int(delta[e])
		}
		outs[s] = appendUnique(outs[s], sig.vendor)
	}
	return delta, outs, depth
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
	m := ix.window
	if m == 0 || len(text) < m {
		return dst
	}
	// Each window move waits for the table lookup before it, so the scan
	// moves four windows at once, each over a quarter of the text: lane k
	// looks at the windows starting in [at[k], end[k]).
	var at, end [4]int
	starts := len(text) - m + 1
	for k := range at {
		at[k], end[k] = starts*k/4, starts*(k+1)/4
	}
	a, b, c, d := at[0], at[1], at[2], at[3]
	for a < end[0] && b < end[1] && c < end[2] && d < end[3] {
		sa, sb, sc, sd := ix.shift(text, a), ix.shift(text, b), ix.shift(text, c), ix.shift(text, d)
		if sa != 0 && sb != 0 && sc != 0 && sd != 0 {
			a, b, c, d = a+sa, b+sb, c+sc, d+sd
			continue
		}
		a, dst = ix.step(text, a, sa, dst, start)
		b, dst = ix.step(text, b, sb, dst, start)
		c, dst = ix.step(text, c, sc, dst, start)
		d, dst = ix.step(text, d, sd, dst, start)
	}
	at = [4]int{a, b, c, d}
	for k := range at {
		for i := at[k]; i < end[k]; {
			i, dst = ix.step(text, i, ix.shift(text, i), dst, start)
		}
	}
	slices.Sort(dst[start:])
	return dst
}

// shift returns how far the window of text at i can move on without passing
// the start of a signature: 0 when one may start there.
func (ix *inlineIndex) shift(text []byte, i int) int {
	// The window's last three bytes, and the one before them.
	return int(ix.skip[trigram(binary.LittleEndian.Uint32(text[i+ix.window-4:]))])
}

// step moves the window at i on by its shift, or runs the automaton from i.
func (ix *inlineIndex) step(text []byte, i, shift int, dst []int, start int) (int, []int) {
	if shift > 0 {
		return i + shift, dst
	}
	return ix.run(text, i, dst, start)
}

// run feeds the automaton text from i, where a signature may start, and
// appends to dst the vendors whose signatures end in what it reads. It stops
// once the signature begun at i, if any, is over and what it has read ends in
// at most two bytes that may begin another, and returns where those begin:
// no signature that starts before there ends after the bytes read.
// Restarting at most two bytes back keeps the whole scan linear in the text.
func (ix *inlineIndex) run(text []byte, i int, dst []int, start int) (int, []int) {
	next, class, firstOut := ix.next, &ix.class, ix.firstOut
	var s uint32
	for j := i; j < len(text); j++ {
		e := next[s+class[text[j]]]
		s = e & rowMask
		if s >= firstOut {
			for _, v := range ix.out[(s-firstOut)/ix.width] {
				if !slices.Contains(dst[start:], int(v)) {
					dst = append(dst, int(v))
				}
			}
		}
		if depth := int(e >> depthBits); depth <= 2 && depth < j+1-i {
			return j + 1 - depth, dst
		}
	}
	return len(text), dst
}
