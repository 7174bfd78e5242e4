package rewrite

import (
	"bytes"
	"strings"
	"unsafe"

	"github.com/consentgate/consentgate/consent/catalog"
)

// Import maps. A page's <script type="importmap"> lets a module import a
// vendor's code by a name the module's text does not spell as a URL:
// `import "pixel"` with "pixel" mapped to the vendor's script. The map
// itself loads nothing and stays as it is. Its URLs are judged as script
// URLs when it is read (so the third-party scan sees them, and only what
// this visitor's choice blocks is kept), and a later inline module that
// imports a blocked name takes its verdict (see judgeImports). A key
// ending in '/' maps every name it begins: those are kept as written and
// judged with the rest of the name when a module uses them. Mappings under
// any scope count, not only those the page's own URL falls in: a scope
// only narrows where a mapping applies, and a vendor's URL is no less a
// vendor's there.

// maxKept and maxKeptBytes bound what a page's import maps leave held:
// blocked names and prefix mappings, and their bytes. A map with more is a
// bundler's, not a place a vendor's snippet goes.
const (
	maxKept      = 64
	maxKeptBytes = 4 << 10
)

// importMap is what the import maps a page has had so far leave to judge
// its modules by.
type importMap struct {
	blocked  []blockedName // names mapped to a URL this visitor's choice blocks
	prefixes []mapping     // keys ending in '/', with the URL prefix they map to
	size     int           // bytes held in both
}

// held is about the bytes m holds.
func (m *importMap) held() int {
	return m.size + cap(m.blocked)*int(unsafe.Sizeof(blockedName{})) + cap(m.prefixes)*int(unsafe.Sizeof(mapping{}))
}

type blockedName struct {
	name    []byte
	verdict Verdict
}

type mapping struct{ from, to []byte }

// readImportMap judges and keeps the mappings of an import map's text (a
// map longer than HoldLimit is read on its held prefix: the mappings that
// are whole in it), up to maxKept and maxKeptBytes for the page. Text that
// is not JSON ends the reading where it stops being JSON, though a browser
// ignores such a map entirely: keeping what came before errs on the side
// of judging more.
func (r *Rewriter) readImportMap(text []byte) {
	if r.imap == nil {
		r.imap = new(importMap)
	}
	m := r.imap
	eachMapping(text, func(from, to string) bool {
		if len(from) > maxSpecifier || len(to) > maxSpecifier {
			return true
		}
		var v Verdict
		r.judgeURL(catalog.KindScript, []byte(to), &v) // the scan sees it either way
		prefix := strings.HasSuffix(from, "/")
		if !prefix && !v.Block {
			return true // a module importing the name loads what this visitor allows
		}
		size := len(from)
		if prefix {
			size += len(to)
		}
		if len(m.blocked)+len(m.prefixes) == maxKept || m.size+size > maxKeptBytes {
			return false
		}
		m.size += size
		if prefix {
			m.prefixes = append(m.prefixes, mapping{[]byte(from), []byte(to)})
		} else {
			m.blocked = append(m.blocked, blockedName{[]byte(from), v})
		}
		return true
	})
}

// eachMapping calls fn with each specifier key and the URL it maps to in
// an import map's "imports" and in each of its "scopes", until fn returns
// false or the text stops being JSON.
func eachMapping(text []byte, fn func(from, to string) bool) {
	eachJSONString(text, func(in []jsonLevel, s string) bool {
		return !inMapping(in) || fn(in[len(in)-1].key, s)
	})
}

// inMapping reports whether a string value inside these levels is a
// mapping's URL: {"imports": {key: url}} or {"scopes": {scope: {key: url}}}.
func inMapping(stack []jsonLevel) bool {
	for _, l := range stack {
		if !l.object {
			return false
		}
	}
	switch len(stack) {
	case 2:
		return stack[0].key == "imports"
	case 3:
		return stack[0].key == "scopes"
	}
	return false
}

// judgeName judges what the page's import maps map spec to, into v: a
// blocked name gives its verdict; a prefix spec begins with is judged with
// the rest of spec, through judge, until that blocks.
func (m *importMap) judgeName(spec []byte, v *Verdict, judge func(url []byte) bool) {
	for _, b := range m.blocked {
		if bytes.Equal(b.name, spec) {
			*v = b.verdict
			return
		}
	}
	var url []byte
	for _, p := range m.prefixes {
		if bytes.HasPrefix(spec, p.from) {
			url = append(append(url[:0], p.to...), spec[len(p.from):]...)
			if !judge(url) {
				return
			}
		}
	}
}
