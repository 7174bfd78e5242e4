package rewrite

import (
	"bytes"

	"github.com/consentgate/consentgate/consent/catalog"
)

// importRename is inserted after the '@' of a blocked @import: browsers drop
// the unknown at-rule, and the banner can restore it.
var importRename = []byte("consentgate-")

// neutraliseImports judges the @import rules in css, the prefix to judge of
// the held text of a style element, which ends before p[i], and emits the
// text with the blocked rules renamed.
func (r *Rewriter) neutraliseImports(p []byte, i int, css []byte) {
	prev := 0 // css[:prev] is emitted; 0 until an import is blocked
	im := newImportScanner(css)
	for {
		at, u := im.next()
		if at < 0 {
			break
		}
		var v Verdict
		r.judgeURL(catalog.KindLink, u, &v)
		if !v.Block {
			continue
		}
		if prev == 0 {
			r.flushBefore(p)
		}
		r.blocked++
		r.emit(css[prev : at+1])
		r.emit(importRename)
		prev = at + 1
	}
	if prev == 0 {
		r.unhold()
		return
	}
	r.emitHeldFrom(p, i, prev)
	r.drop(i)
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
	i = skipSpace(b, i+len("url("))
	if i < len(b) && (b[i] == '"' || b[i] == '\'') {
		return quoted(b, i)
	}
	j := i
	for j < len(b) && b[j] != ')' && class[b[j]]&cSpace == 0 {
		j++
	}
	return b[i:j], j < len(b)
}

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
