package rewrite

import (
	"bytes"
	"slices"
	"unicode"
	"unicode/utf8"

	"github.com/consentgate/consentgate/consent/catalog"
)

// cssRename is inserted after the '@' of a blocked @import: browsers drop
// the unknown at-rule.
var cssRename = []byte("consentgate-")

// cssEdit is an insertion into the text of a style element.
type cssEdit struct {
	at  int
	ins []byte
}

// neutraliseCSS judges the @import rules (KindLink) and the other url()s
// (KindImage) in css, the prefix to judge of the held text of a style
// element, which ends before p[i], and emits the text with the blocked ones
// renamed (cssRename, cssArgRename).
func (r *Rewriter) neutraliseCSS(p []byte, i int, css []byte) {
	var buf [16]cssEdit
	edits := buf[:0]
	var spans [8][2]int // the first imports' extent: their url() is theirs
	imports := spans[:0]
	im := newImportScanner(css)
	for k, u := im.next(); k >= 0; k, u = im.next() {
		imports = append(imports, [2]int{k, endIn(css, u)})
		if r.blocks(catalog.KindLink, cssText(u)) {
			edits = append(edits, cssEdit{k + 1, cssRename})
		}
	}
	cssURLs(css, func(k int, u []byte) {
		for _, s := range imports {
			if s[0] <= k && k < s[1] {
				return
			}
		}
		if r.blocks(catalog.KindImage, u) {
			edits = append(edits, cssEdit{k, cssArgRename})
		}
	})
	r.emitEdited(p, i, css, edits)
}

// emitEdited emits the held token, which ends before p[i] and begins with
// text, with each edit inserted into text (each one a blocked URL); with no
// edits, unchanged.
func (r *Rewriter) emitEdited(p []byte, i int, text []byte, edits []cssEdit) {
	if len(edits) == 0 {
		r.unhold()
		return
	}
	slices.SortFunc(edits, func(a, b cssEdit) int { return a.at - b.at })
	r.flushBefore(p)
	prev := 0
	for _, e := range edits {
		r.blocked++
		r.emit(text[prev:e.at])
		r.emit(e.ins)
		prev = e.at
	}
	r.emitHeldFrom(p, i, prev)
	r.drop(i)
}

// blocks judges one URL of a style element's text.
func (r *Rewriter) blocks(kind catalog.Kind, u []byte) bool {
	var v Verdict
	r.judgeURL(kind, u, &v)
	return v.Block
}

// importScanner finds @import rules outside comments. (Strings are not
// tracked: "@import" inside one is too rare to matter.)
type importScanner struct {
	css     []byte
	i       int
	comment int // index of the first "/*" at or after i, or -1
}

func newImportScanner(css []byte) importScanner {
	return importScanner{css: css, comment: index(css, 0, "/*")}
}

// next returns the index of the next @import's '@' and its URL, or -1.
func (s *importScanner) next() (int, []byte) {
	css := s.css
	for s.i < len(css) {
		k := bytes.IndexByte(css[s.i:], '@')
		if k < 0 {
			return -1, nil
		}
		at := s.i + k
		if s.comment >= 0 && s.comment < s.i {
			s.comment = index(css, s.i, "/*")
		}
		if s.comment >= 0 && s.comment < at {
			end := index(css, s.comment+2, "*/")
			if end < 0 {
				return -1, nil
			}
			s.i = end + 2
			continue
		}
		s.i = at + 1
		n := len("import")
		if !hasPrefixFold(css[s.i:], "import") {
			if bytes.IndexByte(css[s.i:min(len(css), s.i+maxFuncName)], '\\') < 0 {
				continue
			}
			var buf [len("import") + 4]byte // "@\69mport" is an @import too
			var name []byte
			if name, n = identAt(buf[:0], css[s.i:min(len(css), s.i+maxFuncName)]); string(name) != "import" {
				continue
			}
		}
		if u, ok := importURL(css[s.i+n:]); ok {
			return at, u
		}
	}
	return -1, nil
}

// importURL reads the URL of an @import rule from what follows "@import":
// url(X), url("X") or "X".
func importURL(b []byte) ([]byte, bool) {
	i := skipSpace(b, 0)
	if i == len(b) {
		return nil, false
	}
	if b[i] == '"' || b[i] == '\'' {
		return quoted(b, i)
	}
	if i == 0 || !hasPrefixFold(b[i:], "url(") {
		return nil, false // "@imports", or no URL
	}
	return urlArgument(b[i+len("url("):])
}

// urlArgument reads the URL of a url() from what follows "url(".
func urlArgument(b []byte) ([]byte, bool) {
	i := skipSpace(b, 0)
	if i < len(b) && (b[i] == '"' || b[i] == '\'') {
		return quoted(b, i)
	}
	j := i
	for j < len(b) && b[j] != ')' && class[b[j]]&cSpace == 0 {
		j++
	}
	return b[i:j], j < len(b)
}

// cssURLs calls f with every URL that css, outside comments, loads: the
// argument of each url() and each string in an image-set() (or
// -webkit-image-set()), read as CSS reads them (function names in any case
// or spelt with escapes, "u\72l(", and escapes in the URL decoded). ins is
// where in css the URL begins: right after the url()'s '(' or the string's
// opening quote, where cssArgRename goes to block it.
func cssURLs(css []byte, f func(ins int, url []byte)) {
	comment := index(css, 0, "/*")
	for i := 0; ; {
		k := bytes.IndexByte(css[i:], '(')
		if k < 0 {
			return
		}
		k += i
		if comment >= 0 && comment < k {
			end := index(css, comment+2, "*/")
			if end < 0 {
				return
			}
			i = end + 2
			comment = index(css, i, "/*")
			continue
		}
		i = k + 1
		switch funcBefore(css[max(0, k-maxFuncName):k]) {
		case cssURL:
			if u, _ := urlArgument(css[i:]); len(u) > 0 {
				f(i, cssText(u))
			}
		case cssImageSet:
			setArgs(css[i:], func(at int, s []byte) { f(i+at, cssText(s)) })
		}
	}
}

// cssFunc is a CSS function whose arguments load.
type cssFunc uint8

const (
	cssOther    cssFunc = iota
	cssURL              // url(X)
	cssImageSet         // image-set("X" 1x, …) and -webkit-image-set(…): each string
)

// maxFuncName bounds how far back from a '(' its function's name is read:
// "-webkit-image-set" with every letter escaped.
const maxFuncName = 48

// funcBefore tells which function a '(' right after b opens. Its name may
// be spelt with escapes; without any, a name merely ending in "url" or
// "image-set" counts too, which errs towards judging.
func funcBefore(b []byte) cssFunc {
	// The name is in the run of identifier bytes, backslashes and spaces
	// (which end a hex escape) right before the '('.
	start := len(b)
	for start > 0 && mayBeInName(b[start-1]) {
		start--
	}
	name := b[start:]
	if bytes.IndexByte(name, '\\') >= 0 {
		var buf [4 * maxFuncName]byte // decoded, it is no longer than 4 bytes a byte
		name = identEndingAt(buf[:0], name)
	}
	switch {
	case hasSuffixFold(name, "url"):
		return cssURL
	case hasSuffixFold(name, "image-set"):
		return cssImageSet
	}
	return cssOther
}

// isNameByte reports whether c may be in a CSS identifier as it stands.
func isNameByte(c byte) bool {
	return isAlpha(c) || '0' <= c && c <= '9' || c == '-' || c == '_' || c >= 0x80
}

// mayBeInName reports whether c may be in an identifier spelt with escapes:
// a name byte, a backslash, or the space that ends a hex escape.
func mayBeInName(c byte) bool { return isNameByte(c) || c == '\\' || class[c]&cSpace != 0 }

// identEndingAt appends to dst the longest CSS identifier that b ends
// with, its escapes decoded and lower-cased; nothing if b ends in no
// identifier, or in an escape (then the '(' after b is escaped too, and
// opens nothing).
func identEndingAt(dst, b []byte) []byte {
	for start := range b {
		if name, n := identAt(dst, b[start:]); n == len(b)-start && n > 0 {
			return name
		}
	}
	return dst
}

// identAt reads the CSS identifier characters and escapes at the start of
// b: it appends the name they spell, lower-cased, to name, and says how
// many bytes they take.
func identAt(name, b []byte) ([]byte, int) {
	n := 0
	for n < len(b) {
		switch c := b[n]; {
		case c == '\\':
			r, k := cssEscape(b[n:])
			if k == 0 {
				return name, n
			}
			name = utf8.AppendRune(name, unicode.ToLower(r))
			n += k
		case isNameByte(c):
			name = append(name, lower(c))
			n++
		default:
			return name, n
		}
	}
	return name, n
}

// cssEscape reads the escape at the start of b ("\72 " or "\(") as CSS
// does: the character it stands for and its length, or 0 if it is none (a
// backslash before a newline, or at the end).
func cssEscape(b []byte) (rune, int) {
	if len(b) < 2 || b[1] == '\n' || b[1] == '\r' || b[1] == '\f' {
		return 0, 0
	}
	k := 1
	for k < len(b) && k < 7 && isHex(b[k]) {
		k++
	}
	if k == 1 { // any other character stands for itself
		r, size := utf8.DecodeRune(b[1:])
		return r, 1 + size
	}
	var r rune
	for _, c := range b[1:k] {
		r = r<<4 | rune(unhex(c))
	}
	if k < len(b) && class[b[k]]&cSpace != 0 {
		k++ // one whitespace ends a hex escape
	}
	if r == 0 || r > unicode.MaxRune || 0xD800 <= r && r <= 0xDFFF {
		r = unicode.ReplacementChar
	}
	return r, k
}

// cssText is a URL as CSS reads it: its escapes decoded (a copy only when
// it has any).
func cssText(u []byte) []byte {
	if bytes.IndexByte(u, '\\') < 0 {
		return u
	}
	out := make([]byte, 0, len(u))
	for i := 0; i < len(u); {
		if u[i] != '\\' {
			out = append(out, u[i])
			i++
			continue
		}
		r, k := cssEscape(u[i:])
		if k == 0 { // an escaped newline is dropped with its backslash; a lone one too
			i++
			if i < len(u) && (u[i] == '\r' || u[i] == '\n' || u[i] == '\f') {
				i++
				if u[i-1] == '\r' && i < len(u) && u[i] == '\n' {
					i++
				}
			}
			continue
		}
		out = utf8.AppendRune(out, r)
		i += k
	}
	return out
}

// setArgs walks the arguments of an image-set() whose text follows in b
// and returns the index of the ')' that closes it, or -1 if b ends first.
// It calls f, if not nil, with each string in them: where its text begins
// in b, and the text (one cut off where b ends, too). (Nested url()s are
// found as any other.)
func setArgs(b []byte, f func(at int, s []byte)) int {
	depth := 0
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '(':
			depth++
		case ')':
			if depth == 0 {
				return i
			}
			depth--
		case '"', '\'':
			end, text := stringEnd(b, i), b[i+1:]
			if end >= 0 {
				text = b[i+1 : end]
			}
			if f != nil {
				f(i+1, text)
			}
			if end < 0 {
				return -1
			}
			i = end
		}
	}
	return -1
}

// stringEnd is the index of the quote that closes the CSS string opening
// at b[i], skipping escaped characters, or -1 if b ends first.
func stringEnd(b []byte, i int) int {
	q := b[i]
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case q:
			return i
		}
	}
	return -1
}

func hasSuffixFold(b []byte, suffix string) bool {
	return len(b) >= len(suffix) && hasPrefixFold(b[len(b)-len(suffix):], suffix)
}

// mayLoad reports whether a style attribute's value may load an image:
// it has a url() in it, or a character reference, which may spell one.
func mayLoad(style []byte) bool {
	found := bytes.IndexByte(style, '&') >= 0
	if !found {
		cssURLs(style, func(int, []byte) { found = true })
	}
	return found
}

// backgroundMayLoad reports whether a background attribute's value (quoted
// or not) names anything to load.
func backgroundMayLoad(v []byte) bool { return len(bytes.Trim(v, "\"' \t\n\f\r")) > 0 }

// quoted returns the string quoted at b[i].
func quoted(b []byte, i int) ([]byte, bool) {
	j := bytes.IndexByte(b[i+1:], b[i])
	if j < 0 {
		return nil, false
	}
	return b[i+1 : i+1+j], true
}

func index(b []byte, i int, sep string) int {
	j := bytes.Index(b[i:], []byte(sep))
	if j < 0 {
		return -1
	}
	return i + j
}
