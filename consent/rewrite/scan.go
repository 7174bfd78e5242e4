package rewrite

import "bytes"

// state is the scanner's position in the HTML5 tokenizer's data state
// machine (as x/net/html implements it), reduced to what finding the tags
// needs.
type state uint8

const (
	stText     state = iota // text: looking for '<'
	stLT                    // after '<'
	stEndOpen               // after "</"
	stName                  // in a tag name
	stTag                   // in a tag, after its name
	stBang                  // after "<!"
	stBangDash              // after "<!-"
	stComment               // in "<!--" ... "-->"
	stBogus                 // in a bogus comment or doctype: up to '>'
	stRaw                   // in the text of a raw text, RCDATA or script element
	stPlain                 // after <plaintext>: text to the end
)

// scan runs the scanner over p. Each step consumes what it can and leaves
// the state where the next byte is to be read.
func (r *Rewriter) scan(p []byte) {
	for i := 0; i < len(p); {
		switch r.st {
		case stText:
			i = r.text(p, i)
		case stLT:
			i = r.afterLT(p, i)
		case stEndOpen:
			i = r.afterEndOpen(p, i)
		case stName:
			i = r.tagName(p, i)
		case stTag:
			i = r.tag(p, i)
		case stBang:
			i = r.afterBang(p, i, stBangDash)
		case stBangDash:
			i = r.afterBang(p, i, stComment)
		case stComment:
			i = r.comment(p, i)
		case stBogus:
			i = r.bogus(p, i)
		case stRaw:
			i = r.rawText(p, i)
		case stPlain:
			i = len(p)
		}
	}
}

// text skips text and, in the same loop, the tags that need nothing done.
func (r *Rewriter) text(p []byte, i int) int {
	for {
		// After a tag, the next '<' is often a byte or two away: look at
		// the first bytes before paying for a call to IndexByte.
		switch {
		case i < len(p) && p[i] == '<':
		case i+1 < len(p) && p[i+1] == '<':
			i++
		default:
			j := bytes.IndexByte(p[i:], '<')
			if j < 0 {
				return len(p)
			}
			i += j
		}
		k, ok := r.plainTag(p, i)
		if !ok {
			break
		}
		if i = k; r.st != stText {
			return i
		}
	}
	// Hold from '<' until the name says whether anything happens here.
	r.startHold(i)
	r.tagStart = r.pos + int64(i)
	if i++; i == len(p) {
		r.st = stLT
		return i
	}
	return r.afterLT(p, i)
}

// plainTag is the fast path for most tags: if p[i:] begins a tag whose
// whole name is in p and needs nothing done, it skips the tag. Otherwise it
// returns false and the general path takes the tag from its '<'.
func (r *Rewriter) plainTag(p []byte, i int) (int, bool) {
	k := i + 1
	if k >= len(p) {
		return i, false
	}
	c := p[k]
	end := c == '/'
	if end {
		if k++; k >= len(p) {
			return i, false
		}
		c = p[k]
	}
	if class[c]&cAlpha == 0 {
		return i, false
	}
	n := skipClass(p, k+1, nameStop)
	if n == len(p) {
		return i, false
	}
	el := elOther
	if end {
		if n-k == 4 && isHead(p[k:n]) {
			return i, false
		}
	} else if el = classify(p[k:n]); el != elOther && el != elForeign {
		return i, false
	} else if r.earlyGoesBefore(el, p[k:n]) {
		return i, false // Early goes before it: see openTag
	}
	j, ok, loads := skipAttrs(p, n)
	if ok && (end || !loads) {
		if !r.opt.XML && (r.fs.n > 0 || el == elForeign) { // see foreign.go
			r.fs.note(p[k:n], end, selfClosing(p[i:j], n-i), p[i:j])
		}
		if r.trace != nil {
			r.traceTag(end, r.pos+int64(i), j)
		}
		return j, true
	}
	if !end {
		return i, false // a start tag that may load, or going on in the next write: held and judged
	}
	// The end tag goes on in the next write: lex what is here resumably.
	r.tl.st = tsBeforeAttr
	j, ev := r.tl.lex(p, n, false)
	if ev == lexEnd {
		r.traceTag(end, r.pos+int64(i), j)
	} else {
		r.st, r.isEnd, r.el = stTag, end, elOther
		r.tagStart = r.pos + int64(i)
	}
	return j, true
}

func (r *Rewriter) afterLT(p []byte, i int) int {
	switch c := p[i]; {
	case isAlpha(c):
		r.isEnd, r.pi = false, false
		return r.startName(p, i)
	case c == '/':
		r.st = stEndOpen
		return i + 1
	case c == '!':
		r.st = stBang
		i++
	case c == '?' && r.opt.XML: // a processing instruction: an xml-stylesheet loads
		r.isEnd, r.pi = false, true
		return r.startName(p, i+1)
	case c == '?':
		r.st = stBogus
	default: // the '<' was text; c is read again
		r.st = stText
	}
	r.unhold()
	return i
}

func (r *Rewriter) afterEndOpen(p []byte, i int) int {
	switch c := p[i]; {
	case isAlpha(c):
		r.isEnd, r.pi = true, false
		return r.startName(p, i)
	case c == '>': // "</>" is nothing
		r.st = stText
		i++
	default:
		r.st = stBogus
	}
	r.unhold()
	return i
}

func (r *Rewriter) startName(p []byte, i int) int {
	r.st, r.nameLen = stName, 0
	return r.tagName(p, i)
}

// tagName reads the tag name, keeping as much of it as any name of
// interest has.
func (r *Rewriter) tagName(p []byte, i int) int {
	j := skipClass(p, i, nameStop)
	copy(r.name[r.nameLen:], p[i:j])
	r.nameLen = min(r.nameLen+j-i, len(r.name))
	if j == len(p) && r.nameLen <= maxForeignName {
		return j // hold on: the name goes on in the next write
	}
	if r.pi && !isXMLStylesheet(r.name[:r.nameLen]) {
		r.unhold() // any other processing instruction loads nothing
		r.st = stBogus
		return j
	}
	r.openTag(p)
	r.st, r.tl.slash = stTag, false
	if r.tl.st = tsBeforeAttr; j == len(p) {
		r.tl.st = tsName // an uninteresting name goes on (held no further than TagLimit)
	}
	return r.tag(p, j)
}

// openTag acts on a tag once its name is known: injections that go before
// it, and whether it stays held.
func (r *Rewriter) openTag(p []byte) {
	r.el = elOther
	name := r.name[:r.nameLen]
	if r.pi {
		r.el = elXMLStylesheet
	} else if !r.isEnd {
		if r.el = classify(name); r.el == elOther {
			r.el = elStyled // plainTag left it here: it may have url() in its style
		}
	} else if isHead(name) {
		r.injectHook(p, r.ts)
	}
	switch r.el {
	case elScript, elLink, elStyle, elBody:
		r.injectEarly(p, r.ts)
	default:
		if !r.isEnd && !r.pi && r.earlyGoesBefore(r.el, name) {
			r.injectEarly(p, r.ts)
		}
	}
	if !r.el.judged() {
		r.unhold()
	}
}

// isXMLStylesheet reports whether a processing instruction's target is
// xml-stylesheet, whose href an XML document loads as a style sheet.
func isXMLStylesheet(name []byte) bool {
	return len(name) == len("xml-stylesheet") && string(name) == "xml-stylesheet"
}

func isHead(name []byte) bool { return len(name) == 4 && hasPrefixFold(name, "head") }

// earlyGoesBefore reports whether Early, still due, goes before a start
// tag of el named name (the tag is neither a script, link, style nor body).
func (r *Rewriter) earlyGoesBefore(el elem, name []byte) bool {
	return !r.earlyDone && !r.opt.XML && endsHead(el, name)
}

// endsHead reports whether a start tag (not a script, link, style or body)
// is one that a page without <head> starts its content with: any but the
// few that keep the parser in the head. Early goes before it, so that the
// hooks are in place before an inline handler on it can run (an <img
// onerror> fires while the parser waits for a script after it). A <meta
// charset> stays in front, within the bytes where browsers look for it.
func endsHead(el elem, name []byte) bool {
	switch el {
	case elHead, elBase, elTitle:
		return false
	}
	return !(len(name) == 4 && (hasPrefixFold(name, "html") || hasPrefixFold(name, "meta")))
}

func (r *Rewriter) tag(p []byte, i int) int {
	if r.ov.on {
		return r.oversizedTag(p, i)
	}
	end, held := len(p), r.holding && !r.isEnd && r.el.judged()
	if held {
		// Hold no more than TagLimit (a name alone may have passed it).
		end = min(end, i+max(0, TagLimit-r.heldLen(i)))
	}
	j, ev := r.tl.lex(p[:end], i, false)
	if ev == lexEnd {
		r.closeTag(p, j)
	} else if held && r.heldLen(j) >= TagLimit {
		r.startOversized(p, j)
	}
	return j
}

// closeTag acts on a tag that ends just before p[j].
func (r *Rewriter) closeTag(p []byte, j int) {
	r.st = stText
	r.traceTag(r.isEnd, r.tagStart, j)
	if r.isEnd || r.el == elOther {
		r.noteForeign(p, j)
		return
	}
	raw, markup := r.rawEndName(), r.opt.XML || r.fs.foreign() // as the content around the tag has it
	r.noteForeign(p, j)
	if r.holding {
		r.judgeTag(p, j)
	}
	switch r.el {
	case elHead:
		r.injectEarly(p, j)
	case elBody:
		r.injectBody(p, j)
	case elPlaintext:
		if !markup {
			r.st = stPlain
		}
	}
	if name := raw; name != "" {
		if r.el == elStyle {
			r.tagLen = 0
			r.startHold(j) // its text, for @import
		}
		r.raw.reset(name, r.el == elScript)
		r.st = stRaw
	}
}

// rawEndName is the end tag that closes the text of the element whose start
// tag was just read, or "" if markup follows. An XML parser, and an HTML
// one in SVG or MathML (see foreign.go), reads markup inside every element:
// only a script's and a style's content is read as text here (as CSS, or
// judged as a script), and none follows a tag that closes itself
// (<script src="…"/>, <title/>).
func (r *Rewriter) rawEndName() string {
	if (r.opt.XML || r.fs.foreign()) && (r.tl.slash || r.el != elScript && r.el != elStyle) {
		return ""
	}
	return rawEnd[r.el]
}

// traceTag reports a tag from stream offset start to p[j], for tests.
func (r *Rewriter) traceTag(end bool, start int64, j int) {
	if r.trace != nil {
		r.trace(end, start, r.pos+int64(j))
	}
}

func (r *Rewriter) rawText(p []byte, i int) int {
	j, ended := r.raw.scan(p, i)
	if !ended {
		if r.tail.on {
			r.tailText(p, i, j, r.raw.pending())
			return j
		}
		if r.css.on {
			r.cssTailText(p, i, j)
			return j
		}
		// Decide as soon as the prefix to judge is certain, so that a long
		// text is not held.
		if r.holding && r.heldLen(j)-r.tagLen-r.raw.pending() >= HoldLimit {
			r.decideLongBody(p, j)
		}
		return j
	}
	endTagLen := len("</") + len(r.raw.name)
	switch bodyLen := r.heldLen(j) - endTagLen - r.tagLen; {
	case r.tail.on:
		if r.holding && r.heldLen(j) > endTagLen {
			r.unhold() // the '<' held at the end of the last write was text
		}
		r.endTail(p, i, max(j-endTagLen, r.from))
	case r.css.on:
		r.endCSSTail(p, i, max(j-endTagLen, i))
	case r.holding && r.el == elScript && r.json == notJSON && bodyLen > HoldLimit && j-endTagLen >= r.ts:
		r.decideEndedLongScript(p, j-endTagLen)
	case r.holding && r.el == elStyle && bodyLen > HoldLimit && j-endTagLen >= r.ts:
		r.decideEndedLongStyle(p, j-endTagLen)
	case r.holding:
		r.decideBody(p, j, r.heldLen(j)-endTagLen)
	}
	r.tagStart = r.pos + int64(j-endTagLen)
	r.st, r.isEnd, r.el = stTag, true, elOther
	r.tl.st = tsBeforeAttr
	return r.tag(p, j)
}

func (r *Rewriter) afterBang(p []byte, i int, next state) int {
	if p[i] != '-' {
		r.st = stBogus // the byte is read again
		return i
	}
	r.st = next
	r.clen = 0
	return i + 1
}

// comment finds the end of a comment as x/net/html's readComment does: the
// first '>' after "--" or "--!", or right at the start ("<!-->", "<!--->").
func (r *Rewriter) comment(p []byte, i int) int {
	for {
		j := bytes.IndexByte(p[i:], '>')
		if j < 0 {
			r.commentText(p[i:])
			return len(p)
		}
		r.commentText(p[i : i+j])
		i += j + 1
		if r.commentEnds() {
			r.st = stText
			return i
		}
		r.commentText(p[i-1 : i])
	}
}

// commentText notes text of the comment, keeping the last 3 bytes.
func (r *Rewriter) commentText(b []byte) {
	if len(b) >= len(r.ctail) {
		copy(r.ctail[:], b[len(b)-len(r.ctail):])
	} else {
		for _, c := range b {
			r.ctail[0], r.ctail[1], r.ctail[2] = r.ctail[1], r.ctail[2], c
		}
	}
	r.clen = min(r.clen+len(b), len(r.ctail))
}

func (r *Rewriter) commentEnds() bool {
	t := r.ctail
	switch {
	case r.clen == 0, r.clen == 1 && t[2] == '-':
		return true
	case r.clen >= 2 && t[1] == '-' && t[2] == '-':
		return true
	}
	return r.clen == 3 && t == [3]byte{'-', '-', '!'}
}

func (r *Rewriter) bogus(p []byte, i int) int {
	j := bytes.IndexByte(p[i:], '>')
	if j < 0 {
		return len(p)
	}
	r.st = stText
	return i + j + 1
}
