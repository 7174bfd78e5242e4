package rewrite

import (
	"github.com/consentgate/consentgate/consent/catalog"
)

// cssTail judges the URLs in the text of a style element past its first
// HoldLimit bytes, as it streams. It follows the text with a cssLexer, so
// that comments and strings hide what they hide, and holds each URL that
// loads (a url()'s argument, from right after its '(', or a string in an
// image-set(), from right after its quote) until it ends, or for at most
// maxCSSArg bytes; then puts cssArgRename in front of it if it names a
// blocked vendor.
type cssTail struct {
	on    bool
	held  tailHeld // the URL being held, if any
	depth int      // within an image-set(): how deep in parentheses (0 outside)
	lx    cssLexer
	ctx   [maxFuncName]byte // the last bytes of text seen: a function's name
}

type tailHeld uint8

const (
	heldNone   tailHeld = iota
	heldURL             // a url()'s argument
	heldString          // the text of an image-set()'s string
)

// cssArgRename goes at the start of a blocked URL's text in a url() or an
// image-set() string (inside its quotes), which then names no fetchable
// URL, so the browser loads nothing; no token of the text changes extent
// (written before a quote, it would make a bad url token end at the first
// ')' in the string, and what followed in the string would be read as CSS).
var cssArgRename = []byte("consentgate:")

// maxCSSArg bounds a held URL: a longer one (a data: URL, or junk) is
// judged on its beginning.
const maxCSSArg = 2 << 10

func (c *cssTail) push(b []byte) {
	if len(b) >= len(c.ctx) {
		copy(c.ctx[:], b[len(b)-len(c.ctx):])
		return
	}
	copy(c.ctx[:], c.ctx[len(b):])
	copy(c.ctx[len(c.ctx)-len(b):], b)
}

// step reads style text b from i up to the next point that matters to the
// tail, and returns it: where a URL to hold begins (hold), or where the held
// one ends (decide), or the end of b.
func (c *cssTail) step(b []byte, i int) (k int, hold, decide bool) {
	want := evString | evStringEnd | evURLEnd
	if c.depth > 0 {
		want |= evClose
	}
	k, ev := c.lx.next(b, i, want)
	if ev != evParen {
		c.push(b[i:k])
	}
	switch ev {
	case evParen:
		c.push(b[i : k-1])
		name := c.ctx[:]
		if c.depth > 0 {
			c.depth++
		}
		switch {
		case urlName(name):
			c.lx.openURL()
			hold = c.held == heldNone
			if hold {
				c.held = heldURL
			}
		case c.depth == 0 && funcBefore(name) == cssImageSet:
			c.depth = 1
		}
		c.push(b[k-1 : k])
	case evString:
		hold = c.depth > 0 && c.held == heldNone
		if hold {
			c.held = heldString
		}
	case evClose:
		c.depth--
	case evURLEnd, evStringEnd:
		if ev == evURLEnd && c.depth > 0 {
			c.depth-- // the url( that opened it counted
		}
		decide = c.held != heldNone
	}
	return k, hold, decide
}

// follow reads the first bytes of a long style's text, which are judged
// whole, as the tail reads text, and returns where in them a URL still open
// at their end begins (the tail holds it from there), or len(prefix).
func (c *cssTail) follow(prefix []byte) int {
	at := len(prefix)
	for i := 0; i < len(prefix); {
		k, hold, decide := c.step(prefix, i)
		if hold {
			at = k
		}
		if decide {
			c.held, at = heldNone, len(prefix)
		}
		i = k
	}
	return at
}

// cssTailText scans style text p[i:end] in tail mode.
func (r *Rewriter) cssTailText(p []byte, i, end int) {
	c := &r.css
	c.lx.newPiece()
	for i < end {
		k, hold, decide := c.step(p[:end], i)
		if hold {
			r.startHold(k)
		}
		if decide {
			r.decideArg(p, k)
		}
		i = k
	}
	if c.held != heldNone && r.heldLen(end) >= maxCSSArg {
		r.decideArg(p, end) // on its beginning; the lexer reads the rest
	}
}

// decideArg judges the held URL, which ends before p[stop] (or is cut off
// there), and emits it, renamed if it is blocked.
func (r *Rewriter) decideArg(p []byte, stop int) {
	arg := r.heldPrefix(p, r.heldLen(stop))
	u := arg
	if r.css.held == heldURL {
		u, _ = urlArgument(arg)
	} else {
		u, _ = cssString(arg, 0, r.css.lx.quote)
	}
	r.css.held = heldNone
	var buf [1]cssEdit
	edits := buf[:0]
	if len(u) > 0 && r.blocks(catalog.KindImage, cssText(u)) {
		edits = append(edits, cssEdit{endIn(arg, u) - len(u), cssArgRename})
	}
	r.emitEdited(p, stop, arg, edits)
}

// decideEndedLongStyle decides a held style whose text is longer than
// HoldLimit and ends at the end tag at p[endTag]: its prefix as a short
// one's, the rest as the tail.
func (r *Rewriter) decideEndedLongStyle(p []byte, endTag int) {
	r.endCSSTail(p, r.decideStylePrefix(p), endTag)
}

// decideStylePrefix decides the first HoldLimit bytes of a held style's
// text as a short style's, turns the tail on after them, and returns where
// in p the text after them begins. A URL that they cut is left held, for
// the tail to judge whole.
func (r *Rewriter) decideStylePrefix(p []byte) (rest int) {
	r.heldPrefix(p, r.tagLen+HoldLimit)
	rest = r.restAfterPrefix()
	// All that is held: the prefix, and maybe the start of what looked like
	// an end tag, which the tail must read too.
	prefix := r.heldPrefix(p, r.heldLen(rest))
	r.css = cssTail{on: true}
	cut := r.css.follow(prefix)
	var buf [16]cssEdit
	edits := r.cssEdits(buf[:0], prefix[:cut])
	if r.css.held == heldNone {
		r.emitEdited(p, rest, prefix, edits)
	} else {
		r.emitEditedTo(p, prefix, edits, cut)
	}
	return rest
}

// endCSSTail finishes tail mode where the style's text ends, at p[end]:
// a URL still held is judged on what it holds.
func (r *Rewriter) endCSSTail(p []byte, i, end int) {
	r.cssTailText(p, i, end)
	if r.css.held != heldNone {
		r.decideArg(p, end)
	}
	r.css.on = false
}
