package rewrite

import "bytes"

// htmlSpace is HTML's white space: ' ', \t, \n, \f, \r.
const htmlSpace = " \t\n\f\r"

// Byte classes of the tag grammar, in one table so the hot loops do a single
// load per byte.
const (
	cSpace = 1 << iota // htmlSpace
	cSlash             // '/'
	cGT                // '>'
	cEq                // '='
	cAlpha             // A-Z, a-z

	nameStop = cSpace | cSlash | cGT       // ends a tag name
	keyStop  = cSpace | cSlash | cGT | cEq // ends an attribute name
	valStop  = cSpace | cGT                // ends an unquoted value
)

var class = func() (t [256]uint8) {
	for _, c := range []byte(htmlSpace) {
		t[c] = cSpace
	}
	t['/'], t['>'], t['='] = cSlash, cGT, cEq
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = cAlpha, cAlpha
	}
	return t
}()

func isAlpha(c byte) bool { return class[c]&cAlpha != 0 }

// lower folds ASCII upper case only, as the HTML tokenizer does.
func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// tagState is a position in the grammar of a tag after its "<" (x/net/html's
// readTag, readTagName, readTagAttrKey and readTagAttrVal, as a resumable
// machine).
type tagState uint8

const (
	tsName       tagState = iota // in the tag name
	tsBeforeAttr                 // between attributes (white space and '/' skipped)
	tsKey                        // in an attribute name
	tsAfterKey                   // white space after a name, '=' may follow
	tsBeforeVal                  // after '='
	tsQuoted                     // in a quoted value
	tsUnquoted                   // in an unquoted value
)

// attr locates one attribute inside the slice given to lex. A valueless
// attribute has valStart == valEnd.
type attr struct {
	keyStart, keyEnd, valStart, valEnd int
}

type lexEvent uint8

const (
	lexMore lexEvent = iota // input exhausted inside the tag
	lexEnd                  // the tag ended; the index is just past its '>'
	lexAttr                 // an attribute completed (only when asked for)
)

// tagLexer finds the end of a tag, respecting quotes exactly as x/net/html
// does. It is resumable across writes; when asked it also stops after each
// attribute, which is how a complete start tag is parsed (the spans in a are
// then offsets into that tag).
type tagLexer struct {
	st    tagState
	q     byte // the quote of tsQuoted
	slash bool // the byte before a '>' in tsBeforeAttr was '/': the tag closes itself (<script/>, in XML)
	a     attr
}

// lex advances over p from i.
func (t *tagLexer) lex(p []byte, i int, attrs bool) (int, lexEvent) {
	for i < len(p) {
		switch t.st {
		case tsName:
			i = skipClass(p, i, nameStop)
			if i == len(p) {
				return i, lexMore
			}
			t.st = tsBeforeAttr // the delimiter is reconsumed there
		case tsBeforeAttr:
			c := p[i]
			switch {
			case c == '>':
				return i + 1, lexEnd
			case class[c]&(cSpace|cSlash) != 0:
				t.slash = c == '/'
				i++
			default: // any other byte, '=' included, starts a name
				t.slash = false
				t.a = attr{keyStart: i}
				t.st = tsKey
				i++
			}
		case tsKey:
			i = skipClass(p, i, keyStop)
			if i == len(p) {
				return i, lexMore
			}
			t.a.keyEnd = i
			switch c := p[i]; {
			case c == '=':
				t.st = tsBeforeVal
				i++
			case class[c]&cSpace != 0:
				t.st = tsAfterKey
				i++
			default: // '/' or '>' is reconsumed between attributes
				t.st = tsBeforeAttr
				if attrs {
					return t.noValue(i)
				}
			}
		case tsAfterKey:
			switch c := p[i]; {
			case class[c]&cSpace != 0:
				i++
			case c == '=':
				t.st = tsBeforeVal
				i++
			default:
				t.st = tsBeforeAttr
				if attrs {
					return t.noValue(i)
				}
			}
		case tsBeforeVal:
			switch c := p[i]; {
			case class[c]&cSpace != 0:
				i++
			case c == '>': // "a=>" is an empty value, and the tag's end
				t.st = tsBeforeAttr
				if attrs {
					return t.noValue(i)
				}
			case c == '"' || c == '\'':
				t.q = c
				t.st = tsQuoted
				i++
				t.a.valStart = i
			default:
				t.st = tsUnquoted
				t.a.valStart = i
				i++
			}
		case tsQuoted:
			j := bytes.IndexByte(p[i:], t.q)
			if j < 0 {
				return len(p), lexMore
			}
			i += j
			t.a.valEnd = i
			i++
			t.st = tsBeforeAttr
			if attrs {
				return i, lexAttr
			}
		case tsUnquoted:
			i = skipClass(p, i, valStop)
			if i == len(p) {
				return i, lexMore
			}
			t.a.valEnd = i
			t.st = tsBeforeAttr
			if attrs {
				return i, lexAttr
			}
		}
	}
	return i, lexMore
}

// skipAttrs finds the end of a tag from p[i], just after its name, by the
// same grammar as lex (without its resumable state): it returns the index
// just past the tag's '>', or false if p ends first; and whether an
// attribute may load: a style that may (see mayLoad), or a background or
// ping with a value.
func skipAttrs(p []byte, i int) (end int, ok, loads bool) {
	for i < len(p) {
		c := p[i]
		switch {
		case c == '>':
			return i + 1, true, loads
		case class[c]&(cSpace|cSlash) != 0:
			i++
			continue
		}
		// An attribute name: any byte starts one, '=' included.
		name := i
		i = skipClass(p, i+1, keyStop)
		style := i-name == len("style") && hasPrefixFold(p[name:], "style")
		presents := !style && isPresentation(p[name:i])
		background := i-name == len("background") && hasPrefixFold(p[name:], "background") ||
			i-name == len("ping") && hasPrefixFold(p[name:], "ping")
		if i < len(p) && class[p[i]]&cSpace != 0 {
			i = skipSpace(p, i+1)
		}
		if i >= len(p) {
			return i, false, loads
		}
		if p[i] != '=' {
			continue // '/', '>' or the next name is read between attributes
		}
		i = skipSpace(p, i+1)
		if i >= len(p) {
			return i, false, loads
		}
		v := i
		switch c := p[i]; {
		case c == '>': // "a=>": an empty value, and the tag's end
			return i + 1, true, loads
		case c == '"' || c == '\'':
			j := bytes.IndexByte(p[i+1:], c)
			if j < 0 {
				return len(p), false, loads
			}
			i += j + 2
		default:
			i = skipClass(p, i+1, valStop)
		}
		switch {
		case loads:
		case style:
			loads = mayLoad(p[v:i])
		case presents:
			loads = presentationMayLoad(p[v:i])
		case background:
			loads = backgroundMayLoad(p[v:i])
		}
	}
	return i, false, loads
}

func (t *tagLexer) noValue(i int) (int, lexEvent) {
	t.a.valStart, t.a.valEnd = i, i
	return i, lexAttr
}

// skipClass returns the index of the first byte at or after i in one of the
// classes of stop, or len(p).
func skipClass(p []byte, i int, stop uint8) int {
	for i < len(p) && class[p[i]]&stop == 0 {
		i++
	}
	return i
}

func skipSpace(p []byte, i int) int {
	for i < len(p) && class[p[i]]&cSpace != 0 {
		i++
	}
	return i
}

// attrIter walks the attributes of one complete tag.
type attrIter struct {
	t       []byte
	i       int
	nameEnd int // where the tag name ends: insertions go here
	lx      tagLexer
}

func newAttrIter(tag []byte) attrIter {
	n := skipClass(tag, 1, nameStop)
	return attrIter{t: tag, i: n, nameEnd: n, lx: tagLexer{st: tsBeforeAttr}}
}

func (it *attrIter) next() (attr, bool) {
	j, ev := it.lx.lex(it.t, it.i, true)
	it.i = j
	return it.lx.a, ev == lexAttr
}

// selfClosing reports whether a whole tag, its name ending at tag[nameEnd],
// closes itself: "/>" as the tokenizer reads it, not the end of an
// unquoted value.
func selfClosing(tag []byte, nameEnd int) bool {
	if len(tag) < 2 || tag[len(tag)-2] != '/' {
		return false
	}
	lx := tagLexer{st: tsBeforeAttr}
	_, ev := lx.lex(tag, nameEnd, false)
	return ev == lexEnd && lx.slash
}

// isPresentation reports whether an attribute name is one of the SVG
// presentation attributes that take a url() (see presentation).
func isPresentation(name []byte) bool {
	switch len(name) { // most names are ruled out by length and first letter
	case 4, 6, 9, 10, 12:
		switch lower(name[0]) {
		case 'f', 's', 'm', 'c':
			return presentation.has(attrOf(name))
		}
	}
	return false
}
