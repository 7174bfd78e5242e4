package rewrite

import (
	"bytes"

	"github.com/consentgate/consentgate/consent/catalog"
)

// cssTail judges the URLs in the text of a style element past its first
// HoldLimit bytes, as it streams: from each "url(" it holds the argument,
// and from each "image-set(" all its arguments (at most maxCSSArg bytes),
// until they end, and puts cssArgRename in front of each URL in them that
// names a blocked vendor.
type cssTail struct {
	on    bool
	ctx   [maxFuncName]byte // the last bytes of text seen: a function's name
	inArg bool              // holding a function's arguments
	fn    cssFunc           // whose
}

// cssArgRename goes at the start of a blocked url()'s argument, which then
// names no fetchable URL (or is no longer a valid url()), so the browser
// loads nothing and drops the declaration.
var cssArgRename = []byte("consentgate:")

// maxCSSArg bounds a held url() argument: a longer one (a data: URL, or
// junk) is judged on its beginning.
const maxCSSArg = 2 << 10

// startCSSTail turns the tail on after the prefix judged whole, whose last
// bytes may begin a "url(".
func (r *Rewriter) startCSSTail(prefix []byte) {
	r.css = cssTail{on: true}
	r.css.push(prefix)
}

func (c *cssTail) push(b []byte) {
	if len(b) >= len(c.ctx) {
		copy(c.ctx[:], b[len(b)-len(c.ctx):])
		return
	}
	copy(c.ctx[:], c.ctx[len(b):])
	copy(c.ctx[len(c.ctx)-len(b):], b)
}

// cssTailText scans style text p[i:end] in tail mode.
func (r *Rewriter) cssTailText(p []byte, i, end int) {
	c := &r.css
	for i < end {
		if c.inArg {
			stop, ok := r.argEnd(p, end)
			if !ok {
				return // the argument goes on in the next write
			}
			r.decideArg(p, stop)
			i = stop
			continue
		}
		k := bytes.IndexByte(p[i:end], '(')
		if k < 0 {
			c.push(p[i:end])
			return
		}
		k += i
		c.push(p[i:k])
		fn := funcBefore(c.ctx[:])
		c.push(p[k : k+1])
		i = k + 1
		if fn != cssOther {
			r.startHold(i)
			c.inArg, c.fn = true, fn
		}
	}
}

// argEnd finds where the held argument's URL ends in p (whose bytes up to
// end have arrived), or false if it goes on; one grown past maxCSSArg ends
// at end.
func (r *Rewriter) argEnd(p []byte, end int) (int, bool) {
	arg := p[r.ts:end]
	if r.inBuf { // the argument began in an earlier write: look without moving it
		arg = append(r.buf[:len(r.buf):len(r.buf)], arg...)
	}
	var n int
	if r.css.fn == cssImageSet {
		if n = setArgs(arg, nil); n < 0 {
			return end, len(arg) >= maxCSSArg
		}
		return end - len(arg) + n, true
	}
	u, ok := urlArgument(arg)
	if !ok {
		return end, len(arg) >= maxCSSArg
	}
	n = endIn(arg, u)
	if n < len(arg) && (arg[n] == '"' || arg[n] == '\'') {
		n++ // a quoted URL's closing quote
	}
	return end - len(arg) + n, true
}

// decideArg judges the held arguments, which end before p[stop], and emits
// them with each blocked URL renamed.
func (r *Rewriter) decideArg(p []byte, stop int) {
	r.css.inArg = false
	r.css.ctx = [maxFuncName]byte{}
	arg := r.heldPrefix(p, r.heldLen(stop))
	var buf [4]cssEdit
	edits := buf[:0]
	judge := func(at int, u []byte) { // u as CSS reads it
		if len(u) > 0 && r.blocks(catalog.KindImage, u) {
			edits = append(edits, cssEdit{at, cssArgRename})
		}
	}
	if r.css.fn == cssImageSet {
		setArgs(arg, func(at int, s []byte) { judge(at, cssText(s)) })
		cssURLs(arg, judge) // a url() among them
	} else {
		u, _ := urlArgument(arg)
		judge(0, cssText(u))
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
// in p the text after them begins.
func (r *Rewriter) decideStylePrefix(p []byte) (rest int) {
	r.startCSSTail(r.heldPrefix(p, r.tagLen+HoldLimit))
	rest = r.restAfterPrefix()
	r.decideBody(p, rest, r.tagLen+HoldLimit)
	return rest
}

// endCSSTail finishes tail mode where the style's text ends, at p[end]:
// an argument still open is judged on what it holds.
func (r *Rewriter) endCSSTail(p []byte, i, end int) {
	r.cssTailText(p, i, end)
	if r.css.inArg {
		r.decideArg(p, end)
	}
	r.css.on = false
}
