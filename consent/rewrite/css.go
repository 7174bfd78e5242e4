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
// (KindImage) in css, the text to judge of a style element (or a style's
// prefix), which ends before p[i], and emits the held text with the blocked
// ones renamed (cssRename, cssArgRename).
func (r *Rewriter) neutraliseCSS(p []byte, i int, css []byte) {
	var buf [16]cssEdit
	r.emitEdited(p, i, css, r.cssEdits(buf[:0], css))
}

// cssEdits appends to edits those that neutralise what css loads from a
// blocked vendor.
func (r *Rewriter) cssEdits(edits []cssEdit, css []byte) []cssEdit {
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
	return edits
}

// emitEdited emits the held token, which ends before p[i] and begins with
// text, with each edit inserted into text (each one a blocked URL); with no
// edits, unchanged.
func (r *Rewriter) emitEdited(p []byte, i int, text []byte, edits []cssEdit) {
	if len(edits) == 0 {
		r.unhold()
		return
	}
	r.emitHeldFrom(p, i, r.emitEdits(p, text, edits))
	r.drop(i)
}

// emitEditedTo emits the held token's first n bytes, text[:n], with each
// edit (all before n) inserted, and goes on holding the rest.
func (r *Rewriter) emitEditedTo(p []byte, text []byte, edits []cssEdit, n int) {
	r.emit(text[r.emitEdits(p, text, edits):n])
	r.forgetHeld(n)
}

// emitEdits emits what waits before the held token, then the token's text
// up to its last edit with the edits inserted, and returns where in text
// the bytes still to emit begin.
func (r *Rewriter) emitEdits(p []byte, text []byte, edits []cssEdit) int {
	slices.SortFunc(edits, func(a, b cssEdit) int { return a.at - b.at })
	r.flushBefore(p)
	prev := 0
	for _, e := range edits {
		r.blocked++
		r.emit(text[prev:e.at])
		r.emit(e.ins)
		prev = e.at
	}
	return prev
}

// blocks judges one URL of a style element's text.
func (r *Rewriter) blocks(kind catalog.Kind, u []byte) bool {
	var v Verdict
	r.judgeURL(kind, u, &v)
	return v.Block
}

// importScanner finds @import rules: an "@import" that CSS reads as one,
// outside comments, strings and url tokens. The text is read up to each
// "@import" found, and only then.
type importScanner struct {
	css  []byte
	i    int
	lx   cssLexer // read up to lxAt
	lxAt int
}

func newImportScanner(css []byte) importScanner { return importScanner{css: css} }

// next returns the index of the next @import's '@' and its URL, or -1.
func (s *importScanner) next() (int, []byte) {
	css := s.css
	for s.i < len(css) {
		k := bytes.IndexByte(css[s.i:], '@')
		if k < 0 {
			return -1, nil
		}
		at := s.i + k
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
		if !s.atKeyword(at) {
			continue
		}
		if u, _ := importURL(css[s.i+n:]); u != nil { // (one cut off where css ends too)
			return at, u
		}
	}
	return -1, nil
}

// atKeyword reports whether the '@' at css[at] is read in data and not
// escaped, so that it begins an at-keyword.
func (s *importScanner) atKeyword(at int) bool {
	for s.lxAt < at {
		s.lxAt, _ = s.lx.nextIn(s.css[:at], s.lxAt, 0)
	}
	return s.lx.st == lxData && !s.lx.bsOdd
}

// importURL reads the URL of an @import rule from what follows "@import"
// (after white space and comments): url(X), url("X") or "X"; nil if none
// follows, and false with what b holds of one it cuts off.
func importURL(b []byte) ([]byte, bool) {
	i := skipGap(b, 0)
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

// skipGap skips the white space and comments from b[i].
func skipGap(b []byte, i int) int {
	for {
		i = skipSpace(b, i)
		if !bytes.HasPrefix(b[i:], []byte("/*")) {
			return i
		}
		if i = index(b, i+2, "*/"); i < 0 {
			return len(b)
		}
		i += 2
	}
}

// urlArgument reads the URL of a url() from what follows "url(".
func urlArgument(b []byte) ([]byte, bool) {
	i := skipSpace(b, 0)
	if i < len(b) && (b[i] == '"' || b[i] == '\'') {
		return quoted(b, i)
	}
	j := i
	for {
		for j < len(b) && !urlStops[b[j]] {
			j++
		}
		if j == len(b) || b[j] != '\\' {
			return b[i:j], j < len(b)
		}
		_, n := cssEscape(b[j:])
		j += max(n, 1) // an escaped ')' or space, or the space that ends a hex escape, is the URL's
	}
}

// urlStops are the bytes where an unquoted URL ends, or has an escape.
var urlStops = func() (t [256]bool) {
	for _, c := range []byte(") \t\n\f\r\\") {
		t[c] = true
	}
	return t
}()

// cssURLs calls f with every URL that css, outside comments, loads: the
// argument of each url() and each string in an image-set() (or
// -webkit-image-set()), read as CSS reads them (function names in any case
// or spelt with escapes, "u\72l(", and escapes in the URL decoded). ins is
// where in css the URL's text begins (after any opening quote), where
// cssArgRename goes to block it: there it changes no token's extent.
func cssURLs(css []byte, f func(ins int, url []byte)) {
	comments := newCSSComments(css)
	for i := 0; ; {
		k := bytes.IndexByte(css[i:], '(')
		if k < 0 {
			return
		}
		k += i
		if end, ok := comments.skip(k); ok {
			if end < 0 {
				return
			}
			i = end
			continue
		}
		i = k + 1
		switch funcBefore(css[max(0, k-maxFuncName):k]) {
		case cssURL:
			if u, _ := urlArgument(css[i:]); len(u) > 0 {
				f(endIn(css, u)-len(u), cssText(u))
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

// isNameByte reports whether c may be in a CSS identifier as it stands (a
// NUL reads as U+FFFD).
func isNameByte(c byte) bool {
	return isAlpha(c) || '0' <= c && c <= '9' || c == '-' || c == '_' || c >= 0x80 || c == 0
}

// mayBeInName reports whether c may be in an identifier spelt with escapes:
// a name byte, a backslash, or the space that ends a hex escape.
func mayBeInName(c byte) bool { return isNameByte(c) || c == '\\' || class[c]&cSpace != 0 }

// identEndingAt appends to dst the longest CSS identifier that b ends
// with, its escapes decoded and lower-cased; nothing if b ends in no
// identifier. (If b ends in a backslash, the '(' after b is escaped and
// opens nothing: the name ends in U+FFFD, which names no function.)
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
// backslash before a newline). A backslash that ends b stands for U+FFFD,
// as at the end of the text (outside a string: see cssString).
func cssEscape(b []byte) (rune, int) {
	if len(b) < 2 {
		return unicode.ReplacementChar, 1
	}
	if b[1] == '\n' || b[1] == '\r' || b[1] == '\f' {
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
		k++ // one whitespace ends a hex escape ("\r\n" is one)
		if b[k-1] == '\r' && k < len(b) && b[k] == '\n' {
			k++
		}
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
		if k == 0 { // an escaped newline is dropped with its backslash
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

// setArgs calls f with each string in the arguments of an image-set()
// whose text follows in b, up to the ')' that closes it: where its text
// begins in b, and the text (one cut off where b ends, too). (Nested url()s
// are found as any other.)
func setArgs(b []byte, f func(at int, s []byte)) {
	var lx cssLexer
	depth := 0
	for i := 0; i < len(b); {
		k, ev := lx.nextIn(b, i, evClose|evString|evURLEnd)
		i = k
		switch ev {
		case evParen:
			depth++
		case evClose, evURLEnd:
			if depth == 0 {
				return
			}
			depth--
		case evString:
			text, end := cssString(b, k, b[k-1])
			if f(k, text); end < 0 {
				return
			}
			lx.st, i = lxData, end
			if b[end] == b[k-1] {
				i++ // the closing quote (a newline ending the string is read as any)
			}
		}
	}
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

// presentationURLs calls fn with each URL an SVG presentation attribute's
// value loads: its url()s but references into the document itself
// (fill="url(#gradient)", the common case).
func presentationURLs(v []byte, fn func(url []byte)) {
	cssURLs(v, func(_ int, u []byte) {
		if len(u) > 0 && u[0] != '#' {
			fn(u)
		}
	})
}

// presentationMayLoad reports whether a presentation attribute's value, as
// written, may load anything (a character reference may spell a url()).
func presentationMayLoad(v []byte) bool {
	found := bytes.IndexByte(v, '&') >= 0
	if !found {
		presentationURLs(v, func([]byte) { found = true })
	}
	return found
}

// backgroundMayLoad reports whether a background attribute's value (quoted
// or not) names anything to load.
func backgroundMayLoad(v []byte) bool { return len(bytes.Trim(v, "\"' \t\n\f\r")) > 0 }

// quoted returns the text of the string quoted at b[i] (up to the newline
// that ends it if it is not closed), and false if b ends first (then the
// text up to there, all of it when b ends the style text too).
func quoted(b []byte, i int) ([]byte, bool) {
	text, end := cssString(b, i+1, b[i])
	return text, end >= 0
}

func index(b []byte, i int, sep string) int {
	j := bytes.Index(b[i:], []byte(sep))
	if j < 0 {
		return -1
	}
	return i + j
}
