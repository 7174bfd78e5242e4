// Package csscheck tells, independently of the rewriter, what CSS text
// would make a browser load. It tokenizes the text as CSS Syntax Level 3
// says, code point by code point (https://www.w3.org/TR/css-syntax-3/#tokenization),
// then reads the tokens for url()s, image-set() strings and @import rules.
// It is written for clarity, not speed: tests use it as a reference.
package csscheck

import (
	"slices"
	"strings"
	"unicode/utf8"
)

// Load is one URL the text loads.
type Load struct {
	Import bool   // an @import's style sheet (else an image, a font, ...)
	URL    string // as CSS reads it: escapes decoded
	At     int    // byte offset in the text of the token that names it
}

// Loads lists what CSS text (a style sheet, or a style attribute's
// declarations) loads: the URL of every url() and of every string an
// image-set() lists, and of every @import, wherever it stands (a browser
// ignores one after other rules, or inside a block). A url() in another
// at-rule's prelude (@namespace, @media, or one the rewriter renamed)
// loads nothing.
func Loads(css string) []Load {
	toks := tokenize(css)
	var loads []Load
	add := func(imp bool, t token) {
		// (a URL is read without the spaces and controls around it: one
		// of nothing but them names the page itself)
		if strings.TrimFunc(t.value, func(r rune) bool { return r <= ' ' }) != "" {
			loads = append(loads, Load{imp, t.value, t.at})
		}
	}
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		switch {
		case t.typ == tURL:
			add(false, t)
		case t.typ == tFunction && t.value == "url":
			if s := nextNonSpace(toks, i+1); s < len(toks) && toks[s].typ == tString {
				add(false, toks[s])
			}
		case t.typ == tFunction && (t.value == "image-set" || t.value == "-webkit-image-set"):
			// Each option begins with its image: a string (or a url()) right
			// after the '(' or a comma.
			depth, first := 1, true
			for j := i + 1; j < len(toks) && depth > 0; j++ {
				switch toks[j].typ {
				case tWhitespace:
					continue
				case tFunction, tOpenParen:
					depth++
				case tCloseParen:
					depth--
				case tString:
					if depth == 1 && first {
						add(false, toks[j])
					}
				}
				first = depth == 1 && toks[j].typ == tComma
			}
		case t.typ == tAtKeyword:
			end := preludeEnd(toks, i+1)
			if t.value == "import" {
				switch s := nextNonSpace(toks, i+1); {
				case s >= end:
				case toks[s].typ == tString || toks[s].typ == tURL:
					add(true, toks[s])
				case toks[s].typ == tFunction && toks[s].value == "url":
					if u := nextNonSpace(toks, s+1); u < end && toks[u].typ == tString {
						add(true, toks[u])
					}
				}
			}
			i = end - 1 // nothing in a prelude loads but an @import's URL
		}
	}
	slices.SortStableFunc(loads, func(a, b Load) int { return a.At - b.At })
	return loads
}

func nextNonSpace(toks []token, i int) int {
	for i < len(toks) && toks[i].typ == tWhitespace {
		i++
	}
	return i
}

// preludeEnd is the index of the ';' or '{' that ends the prelude of an
// at-rule whose tokens begin at toks[i] (or of the '}' closing the block it
// is in, or len(toks)).
func preludeEnd(toks []token, i int) int {
	depth := 0
	for ; i < len(toks); i++ {
		switch toks[i].typ {
		case tFunction, tOpenParen, tOpenSquare:
			depth++
		case tCloseParen, tCloseSquare:
			depth = max(0, depth-1)
		case tSemicolon, tOpenCurly:
			if depth == 0 {
				return i
			}
		case tCloseCurly:
			return i
		}
	}
	return i
}

type tokenType uint8

const (
	tWhitespace tokenType = iota
	tString
	tBadString
	tURL
	tBadURL
	tFunction
	tIdent
	tAtKeyword
	tHash
	tNumeric // number, percentage, dimension
	tDelim
	tOpenParen
	tCloseParen
	tOpenSquare
	tCloseSquare
	tOpenCurly
	tCloseCurly
	tSemicolon
	tComma
	tOther // : CDO CDC
)

type token struct {
	typ   tokenType
	value string // a string's or url's value, a name (lower-cased for functions and at-keywords)
	at    int
}

const eof = -1

// tokenizer reads the text as the input stream: "\r\n", '\r' and '\f' are
// one '\n', a NUL is U+FFFD (§3.3, preprocessing).
type tokenizer struct {
	s   string
	pos int
}

// peek returns the n-th code point ahead (0: the next) without consuming.
func (z *tokenizer) peek(n int) rune {
	p := z.pos
	for ; n > 0; n-- {
		_, size := z.decode(p)
		if size == 0 {
			return eof
		}
		p += size
	}
	r, size := z.decode(p)
	if size == 0 {
		return eof
	}
	return r
}

func (z *tokenizer) decode(p int) (rune, int) {
	if p >= len(z.s) {
		return eof, 0
	}
	switch c := z.s[p]; c {
	case '\r':
		if p+1 < len(z.s) && z.s[p+1] == '\n' {
			return '\n', 2
		}
		return '\n', 1
	case '\f':
		return '\n', 1
	case 0:
		return utf8.RuneError, 1
	}
	return utf8.DecodeRuneInString(z.s[p:])
}

func (z *tokenizer) consume() rune {
	r, size := z.decode(z.pos)
	if size == 0 {
		return eof
	}
	z.pos += size
	return r
}

func tokenize(css string) []token {
	z := &tokenizer{s: css}
	var toks []token
	for {
		z.consumeComments()
		at := z.pos
		t, ok := z.token()
		if !ok {
			return toks
		}
		t.at = at
		toks = append(toks, t)
	}
}

// consumeComments is §4.3.2.
func (z *tokenizer) consumeComments() {
	for z.peek(0) == '/' && z.peek(1) == '*' {
		end := strings.Index(z.s[z.pos+2:], "*/")
		if end < 0 {
			z.pos = len(z.s)
			return
		}
		z.pos += 2 + end + 2
	}
}

// token consumes a token (§4.3.1); false at the end of the input.
func (z *tokenizer) token() (token, bool) {
	start := z.pos
	reconsume := func() { z.pos = start }
	c := z.consume()
	switch {
	case c == eof:
		return token{}, false
	case isWhitespace(c):
		for isWhitespace(z.peek(0)) {
			z.consume()
		}
		return token{typ: tWhitespace}, true
	case c == '"' || c == '\'':
		return z.stringToken(c), true
	case c == '#':
		if isIdentCP(z.peek(0)) || validEscape(z.peek(0), z.peek(1)) {
			return token{typ: tHash, value: z.identSequence()}, true
		}
	case c == '(':
		return token{typ: tOpenParen}, true
	case c == ')':
		return token{typ: tCloseParen}, true
	case c == '+' || c == '.':
		if startsNumber(c, z.peek(0), z.peek(1)) {
			reconsume()
			return z.numeric(), true
		}
	case c == '-':
		switch {
		case startsNumber(c, z.peek(0), z.peek(1)):
			reconsume()
			return z.numeric(), true
		case z.peek(0) == '-' && z.peek(1) == '>':
			z.consume()
			z.consume()
			return token{typ: tOther}, true
		case startsIdent(c, z.peek(0), z.peek(1)):
			reconsume()
			return z.identLike(), true
		}
	case c == ',':
		return token{typ: tComma}, true
	case c == ':':
		return token{typ: tOther}, true
	case c == ';':
		return token{typ: tSemicolon}, true
	case c == '<':
		if z.peek(0) == '!' && z.peek(1) == '-' && z.peek(2) == '-' {
			z.consume()
			z.consume()
			z.consume()
			return token{typ: tOther}, true
		}
	case c == '@':
		if startsIdent(z.peek(0), z.peek(1), z.peek(2)) {
			return token{typ: tAtKeyword, value: strings.ToLower(z.identSequence())}, true
		}
	case c == '[':
		return token{typ: tOpenSquare}, true
	case c == ']':
		return token{typ: tCloseSquare}, true
	case c == '{':
		return token{typ: tOpenCurly}, true
	case c == '}':
		return token{typ: tCloseCurly}, true
	case c == '\\':
		if validEscape(c, z.peek(0)) {
			reconsume()
			return z.identLike(), true
		}
	case isDigit(c):
		reconsume()
		return z.numeric(), true
	case isIdentStart(c):
		reconsume()
		return z.identLike(), true
	}
	return token{typ: tDelim}, true
}

// stringToken is §4.3.5, the opening quote consumed.
func (z *tokenizer) stringToken(quote rune) token {
	var b strings.Builder
	for {
		switch c := z.peek(0); c {
		case eof:
			return token{typ: tString, value: b.String()}
		case quote:
			z.consume()
			return token{typ: tString, value: b.String()}
		case '\n':
			return token{typ: tBadString}
		case '\\':
			z.consume()
			switch z.peek(0) {
			case eof:
			case '\n':
				z.consume()
			default:
				b.WriteRune(z.escaped())
			}
		default:
			b.WriteRune(z.consume())
		}
	}
}

// identLike is §4.3.4.
func (z *tokenizer) identLike() token {
	name := z.identSequence()
	if strings.EqualFold(name, "url") && z.peek(0) == '(' {
		z.consume()
		for isWhitespace(z.peek(0)) && isWhitespace(z.peek(1)) {
			z.consume()
		}
		if q := z.peek(0); q == '"' || q == '\'' || isWhitespace(q) && (z.peek(1) == '"' || z.peek(1) == '\'') {
			return token{typ: tFunction, value: "url"}
		}
		return z.urlToken()
	}
	if z.peek(0) == '(' {
		z.consume()
		return token{typ: tFunction, value: strings.ToLower(name)}
	}
	return token{typ: tIdent, value: name}
}

// urlToken is §4.3.6.
func (z *tokenizer) urlToken() token {
	var b strings.Builder
	for isWhitespace(z.peek(0)) {
		z.consume()
	}
	for {
		c := z.consume()
		switch {
		case c == ')' || c == eof:
			return token{typ: tURL, value: b.String()}
		case isWhitespace(c):
			for isWhitespace(z.peek(0)) {
				z.consume()
			}
			if n := z.peek(0); n == ')' || n == eof {
				z.consume()
				return token{typ: tURL, value: b.String()}
			}
			z.badURLRemnants()
			return token{typ: tBadURL}
		case c == '"' || c == '\'' || c == '(' || isNonPrintable(c):
			z.badURLRemnants()
			return token{typ: tBadURL}
		case c == '\\':
			if validEscape(c, z.peek(0)) {
				b.WriteRune(z.escaped())
				continue
			}
			z.badURLRemnants()
			return token{typ: tBadURL}
		default:
			b.WriteRune(c)
		}
	}
}

// badURLRemnants is §4.3.14.
func (z *tokenizer) badURLRemnants() {
	for {
		c := z.consume()
		switch {
		case c == ')' || c == eof:
			return
		case c == '\\' && validEscape(c, z.peek(0)):
			z.escaped()
		}
	}
}

// numeric is §4.3.3: a number, then a unit or '%'.
func (z *tokenizer) numeric() token {
	if c := z.peek(0); c == '+' || c == '-' {
		z.consume()
	}
	digits := func() {
		for isDigit(z.peek(0)) {
			z.consume()
		}
	}
	digits()
	if z.peek(0) == '.' && isDigit(z.peek(1)) {
		z.consume()
		digits()
	}
	if e := z.peek(0); e == 'e' || e == 'E' {
		if isDigit(z.peek(1)) || (z.peek(1) == '+' || z.peek(1) == '-') && isDigit(z.peek(2)) {
			z.consume()
			z.consume()
			digits()
		}
	}
	switch {
	case startsIdent(z.peek(0), z.peek(1), z.peek(2)):
		z.identSequence()
	case z.peek(0) == '%':
		z.consume()
	}
	return token{typ: tNumeric}
}

// identSequence is §4.3.12.
func (z *tokenizer) identSequence() string {
	var b strings.Builder
	for {
		c := z.peek(0)
		switch {
		case isIdentCP(c):
			b.WriteRune(z.consume())
		case validEscape(c, z.peek(1)):
			z.consume()
			b.WriteRune(z.escaped())
		default:
			return b.String()
		}
	}
}

// escaped is §4.3.7, the backslash consumed.
func (z *tokenizer) escaped() rune {
	c := z.consume()
	switch {
	case c == eof:
		return utf8.RuneError
	case isHexDigit(c):
		v, n := hexValue(c), 1
		for ; n < 6 && isHexDigit(z.peek(0)); n++ {
			v = v<<4 | hexValue(z.consume())
		}
		if isWhitespace(z.peek(0)) {
			z.consume()
		}
		if v == 0 || v > utf8.MaxRune || 0xD800 <= v && v <= 0xDFFF {
			return utf8.RuneError
		}
		return v
	}
	return c
}

// §4.3.8 to §4.3.10.
func validEscape(a, b rune) bool { return a == '\\' && b != '\n' }

func startsIdent(a, b, c rune) bool {
	switch {
	case a == '-':
		return isIdentStart(b) || b == '-' || validEscape(b, c)
	case isIdentStart(a):
		return true
	}
	return validEscape(a, b)
}

func startsNumber(a, b, c rune) bool {
	switch {
	case a == '+' || a == '-':
		return isDigit(b) || b == '.' && isDigit(c)
	case a == '.':
		return isDigit(b)
	}
	return isDigit(a)
}

// Code point classes (§4.2).
func isDigit(c rune) bool      { return '0' <= c && c <= '9' }
func isHexDigit(c rune) bool   { return isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }
func isWhitespace(c rune) bool { return c == '\n' || c == '\t' || c == ' ' }
func isIdentStart(c rune) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c >= 0x80 || c == '_'
}
func isIdentCP(c rune) bool { return isIdentStart(c) || isDigit(c) || c == '-' }
func isNonPrintable(c rune) bool {
	return 0 <= c && c <= 8 || c == 0xB || 0xE <= c && c <= 0x1F || c == 0x7F
}

func hexValue(c rune) rune {
	switch {
	case isDigit(c):
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}
