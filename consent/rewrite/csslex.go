package rewrite

import "bytes"

// CSS text is read as CSS Syntax Level 3 tokenizes it as far as that
// decides what is a comment: a "/*" inside a string or a url token opens
// none, and a quote or a url( inside a comment opens nothing. A string ends
// at its closing quote or at a newline (escapes aside); a url token, as
// url(x) opens one, ends at its ')' (a bad one too). A cssLexer follows
// text held whole (a style's prefix, an attribute) or given piece by piece
// (the rest of a long style, a write at a time).

type cssLexState uint8

const (
	lxData    cssLexState = iota
	lxComment             // after "/*"
	lxString              // after an opening quote
	lxURLOpen             // after "url(" and any white space: a quote makes it a function, anything else a url token
	lxURL                 // in a url token, or the remnants of a bad one
)

// Escapes in progress (in a string or a url token) at the end of a piece.
const (
	escNone  uint8 = iota
	escStart       // after a backslash
	escCR          // after a '\r' an escape took: a '\n' right after is taken too ("\r\n" is one newline)
	escHex         // escHex+n-1: after n hex digits; one white space may end the escape
)

// cssEvent is where cssLexer.next stops, having read what it names.
type cssEvent uint8

const (
	evEnd       cssEvent = 0      // the piece ended
	evParen     cssEvent = 1 << 0 // a '(' in data, which may make a url( (see openURL); always reported
	evClose     cssEvent = 1 << 1 // a ')' in data
	evString    cssEvent = 1 << 2 // an opening quote
	evStringEnd cssEvent = 1 << 3 // a string's closing quote, or the newline that ends it (not read)
	evURLEnd    cssEvent = 1 << 4 // a url token's ')'
	evComment   cssEvent = 1 << 5 // "/*" opening a comment
)

type cssLexer struct {
	st    cssLexState
	quote byte  // lxString: the quote that closes it
	esc   uint8 // lxString, lxURL
	slash bool  // lxData: the last piece ended in a '/' that a '*' would make a comment
	star  bool  // lxComment: the last piece ended in a '*'
	bsOdd bool  // lxData: the last piece ended in an odd run of backslashes, whose last escapes the next byte
	stops dataStops
}

// newPiece tells the lexer that it reads another slice from now on (the
// next write): where it found bytes in the last one no longer holds.
func (lx *cssLexer) newPiece() { lx.stops = dataStops{} }

// openURL tells the lexer that the '(' it just reported follows the name
// url: a url token may follow.
func (lx *cssLexer) openURL() { lx.st = lxURLOpen }

// nextIn is next for text held whole, b from its start: it tells itself
// whether a '(' makes a url(.
func (lx *cssLexer) nextIn(b []byte, i int, want cssEvent) (int, cssEvent) {
	k, ev := lx.next(b, i, want)
	if ev == evParen && urlName(b[max(0, k-1-maxFuncName):k-1]) {
		lx.openURL()
	}
	return k, ev
}

// next reads the piece b from i and returns where it stopped: at the end
// of b (evEnd), or just past the first event it reports (one of want, or
// evParen). A string's end is reported where it ends: past its quote, or
// at the newline that ended it.
func (lx *cssLexer) next(b []byte, i int, want cssEvent) (int, cssEvent) {
	for i < len(b) {
		switch lx.st {
		case lxData:
			if lx.slash {
				lx.slash = false
				if b[i] == '*' {
					i++
					lx.st = lxComment
					if want&evComment != 0 {
						return i, evComment
					}
					continue
				}
			}
			k := lx.stops.next(b, i, want&evClose != 0)
			escaped := oddBackslashes(b, i, k, lx.bsOdd)
			if k == len(b) {
				lx.bsOdd = escaped
				return k, evEnd
			}
			lx.bsOdd = false
			i = k + 1
			if escaped {
				continue
			}
			switch c := b[k]; c {
			case '(':
				return i, evParen
			case ')':
				return i, evClose
			case '"', '\'':
				lx.st, lx.quote, lx.esc = lxString, c, escNone
				if want&evString != 0 {
					return i, evString
				}
			case '/':
				if i == len(b) {
					lx.slash = true
				} else if b[i] == '*' {
					i++
					lx.st = lxComment
					if want&evComment != 0 {
						return i, evComment
					}
				}
			}
		case lxComment:
			if lx.star {
				lx.star = false
				if b[i] == '/' {
					i++
					lx.st = lxData
					continue
				}
			}
			k := bytes.Index(b[i:], []byte("*/"))
			if k < 0 {
				lx.star = b[len(b)-1] == '*'
				return len(b), evEnd
			}
			i += k + 2
			lx.st = lxData
		case lxString:
			k, ok := lx.stringText(b, i)
			if !ok {
				return k, evEnd
			}
			lx.st, i = lxData, k
			if b[k] == lx.quote {
				i++
			}
			if want&evStringEnd != 0 {
				return i, evStringEnd
			}
		case lxURLOpen:
			i = skipSpace(b, i)
			if i == len(b) {
				return i, evEnd
			}
			if b[i] == '"' || b[i] == '\'' {
				lx.st = lxData // a function: the string is read as any other
			} else {
				lx.st, lx.esc = lxURL, escNone
			}
		case lxURL:
			k, ok := lx.urlText(b, i)
			if !ok {
				return k, evEnd
			}
			lx.st, i = lxData, k+1
			if want&evURLEnd != 0 {
				return i, evURLEnd
			}
		}
	}
	return i, evEnd
}

// dataStops finds the bytes that may change the lexer's state in data:
// '(' (which may open url(), ')' if asked, a quote, or '/'. It remembers,
// for the slice read, how far each is known not to occur, so that reading
// on past a string, or a '/' that opens no comment, does not look for the
// others again: each byte is looked at once for each, however many
// strings a long style's text holds before its next '('.
type dataStops [5]int // for stopBytes: none in [the index asked from, upTo), b[upTo] one if upTo < len

var stopBytes = [...]byte{'(', '"', '\'', '/', ')'}

// next is the index of the first of them at or after b[i] (or len(b)).
// '(' is looked for first: the most frequent, it narrows the window the
// others are looked for in.
func (s *dataStops) next(b []byte, i int, close bool) int {
	lim := len(b)
	for j, c := range stopBytes {
		if c == ')' && !close {
			break
		}
		u := max(s[j], i)
		if u < lim && b[u] != c {
			if k := bytes.IndexByte(b[u:lim], c); k >= 0 {
				u += k
			} else {
				u = lim
			}
		}
		s[j] = u
		lim = min(lim, u)
	}
	return lim
}

// oddBackslashes reports whether the run of backslashes right before b[k]
// is odd, so that its last one escapes b[k]; from is where the piece read
// begins, and odd what the run before it was.
func oddBackslashes(b []byte, from, k int, odd bool) bool {
	j := k
	for j > from && b[j-1] == '\\' {
		j--
	}
	if j == from {
		return (k-j)&1 == 1 != odd
	}
	return (k-j)&1 == 1
}

// stringText reads a string's text from b[i] and returns the index of its
// closing quote or of the newline that ends it, and true; or len(b) and
// false if b ends first.
func (lx *cssLexer) stringText(b []byte, i int) (int, bool) {
	if lx.esc == escNone { // fast path: no backslash or newline before the quote
		w := b[i:]
		k := bytes.IndexByte(w, lx.quote)
		if k >= 0 {
			w = w[:k]
		}
		if bytes.IndexByte(w, '\\') < 0 && !hasNewline(w) {
			if k < 0 {
				return len(b), false
			}
			return i + k, true
		}
	}
	for ; i < len(b); i++ {
		c := b[i]
		switch e := lx.esc; {
		case e == escStart:
			switch {
			case isHex(c):
				lx.esc = escHex
			case c == '\r':
				lx.esc = escCR // an escaped newline continues the string
			default: // '\n', '\f', or a character standing for itself
				lx.esc = escNone
			}
			continue
		case e == escCR:
			lx.esc = escNone
			if c == '\n' {
				continue
			}
		case e >= escHex:
			if isHex(c) && e < escHex+5 {
				lx.esc++
				continue
			}
			lx.esc = escNone
			if c == '\r' {
				lx.esc = escCR
			}
			if class[c]&cSpace != 0 { // one white space ends the escape
				continue
			}
		}
		switch c {
		case '\\':
			lx.esc = escStart
		case lx.quote, '\n', '\r', '\f':
			return i, true
		}
	}
	return len(b), false
}

// urlText reads a url token's text from b[i] and returns the index of the
// ')' that ends it and true, or len(b) and false. (Anything else that makes
// it a bad url token leaves it going on to that ')': only an escape skips
// one.)
func (lx *cssLexer) urlText(b []byte, i int) (int, bool) {
	if lx.esc == escNone { // fast path: no backslash before the ')'
		if k := bytes.IndexByte(b[i:], ')'); k >= 0 && bytes.IndexByte(b[i:i+k], '\\') < 0 {
			return i + k, true
		}
	}
	for ; i < len(b); i++ {
		if lx.esc == escStart {
			lx.esc = escNone // (a newline after a backslash escapes nothing, but is no ')' either)
			continue
		}
		switch b[i] {
		case '\\':
			lx.esc = escStart
		case ')':
			return i, true
		}
	}
	return len(b), false
}

func hasNewline(b []byte) bool {
	return bytes.IndexByte(b, '\n') >= 0 || bytes.IndexByte(b, '\r') >= 0 || bytes.IndexByte(b, '\f') >= 0
}

// cssString returns the text of the CSS string that begins at b[i], closed
// by q, and the index of the quote that closes it or of the newline that
// ends it first; or, if b ends first, its text up to there and -1 (without
// a backslash at the very end, which escapes nothing there: at the end of
// the text CSS drops it).
func cssString(b []byte, i int, q byte) ([]byte, int) {
	lx := cssLexer{st: lxString, quote: q}
	if k, ok := lx.stringText(b, i); ok {
		return b[i:k], k
	}
	if lx.esc == escStart {
		return b[i : len(b)-1], -1
	}
	return b[i:], -1
}

// cssComments finds the comments of CSS text held whole, in order. The
// text is read up to each "/*", whose place decides whether it opens one.
type cssComments struct {
	css  []byte
	lx   cssLexer
	i    int // where the lexer stands
	next int // where the next comment opens, or -1
}

func newCSSComments(css []byte) cssComments {
	c := cssComments{css: css}
	c.find()
	return c
}

// find looks for the next comment from where the lexer stands.
func (c *cssComments) find() {
	c.next = -1
	for {
		k := index(c.css, c.i, "/*")
		if k < 0 {
			return
		}
		if c.lx.st == lxData && !c.lx.bsOdd && plainData(c.css[c.i:k]) {
			c.next = k
			return
		}
		upTo := c.css[:k+2]
		for c.i < len(upTo) {
			j, ev := c.lx.nextIn(upTo, c.i, evComment)
			if c.i = j; ev == evComment {
				c.next = j - 2
				return
			}
		}
	}
}

// plainData reports whether text b, read from data, leaves the lexer in
// data, in a way quick to see: without quotes or backslashes, it can hold
// only url tokens, and none is open at its end when no '(' follows its last
// ')'. (So CSS with comments but no strings around them is not read
// through.)
func plainData(b []byte) bool {
	if bytes.IndexByte(b, '"') >= 0 || bytes.IndexByte(b, '\'') >= 0 || bytes.IndexByte(b, '\\') >= 0 {
		return false
	}
	return bytes.IndexByte(b[bytes.LastIndexByte(b, ')')+1:], '(') < 0
}

// skip reports whether a comment opens before css[k]; if so it returns the
// index just past that comment (-1 if it never ends) and finds the next.
func (c *cssComments) skip(k int) (int, bool) {
	if c.next < 0 || c.next >= k {
		return 0, false
	}
	end := index(c.css, c.next+2, "*/")
	if end < 0 {
		c.next = -1
		return -1, true
	}
	end += 2
	c.i, c.lx = end, cssLexer{}
	c.find()
	return end, true
}

// urlName reports whether b, the text before a '(', ends in an identifier
// token whose value is url (in any case, maybe spelt with escapes): a
// url( that opens a url token unless a string follows. A name merely
// ending in url is no url(, nor is one that is part of a hash, an
// at-keyword or a number ("#url(", "@url(", "2url(").
func urlName(b []byte) bool {
	start := len(b)
	for start > 0 && mayBeInName(b[start-1]) {
		start--
	}
	run, s := b[start:], 0 // the identifier is run[s:]
	if bytes.IndexByte(run, '\\') < 0 {
		for k, c := range run {
			if class[c]&cSpace != 0 {
				s = k + 1
			}
		}
		if !bytes.EqualFold(run[s:], []byte("url")) {
			return false
		}
	} else {
		var buf [4 * maxFuncName]byte
		for ; s < len(run); s++ { // the identifier begins where the first one that reaches the '(' does
			if _, n := identAt(buf[:0], run[s:]); n == len(run)-s && n > 0 {
				break
			}
		}
		if name, _ := identAt(buf[:0], run[s:]); string(name) != "url" {
			return false
		}
	}
	if s > 0 || start == 0 { // after white space, or where the text given begins
		return true
	}
	c := b[start-1] // what the identifier follows may take it in
	return c != '#' && c != '@' && !oddBackslashes(b, 0, start-1, false)
}
