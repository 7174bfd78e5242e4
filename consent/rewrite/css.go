package rewrite

import (
	"bytes"
	"slices"

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
		if r.blocks(catalog.KindLink, u) {
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
			edits = append(edits, cssEdit{k + len("url("), cssArgRename})
		}
	})
	if len(edits) == 0 {
		r.unhold()
		return
	}
	slices.SortFunc(edits, func(a, b cssEdit) int { return a.at - b.at })
	r.flushBefore(p)
	prev := 0
	for _, e := range edits {
		r.blocked++
		r.emit(css[prev:e.at])
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
		if !hasPrefixFold(css[s.i:], "import") {
			continue
		}
		if u, ok := importURL(css[s.i+len("import"):]); ok {
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

// cssURLs calls f with the URL of every url() (any case) in css outside
// comments, and where its "url(" begins.
func cssURLs(css []byte, f func(at int, url []byte)) {
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
		if at := k + 1 - len("url("); at >= 0 && hasPrefixFold(css[at:], "url(") {
			if u, _ := urlArgument(css[i:]); len(u) > 0 {
				f(at, u)
			}
		}
	}
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
