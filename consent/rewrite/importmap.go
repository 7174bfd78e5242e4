package rewrite

import "bytes"

// Import maps. A page's <script type="importmap"> lets a module import a
// vendor's code by a name the module's text does not spell as a URL:
// `import "pixel"` with "pixel" mapped to the vendor's script. The map
// itself loads nothing and stays as it is; its mappings are kept, and a
// later inline module's specifiers are judged through them as well as for
// what they say themselves (see judgeImports). Mappings under any scope
// count, not only those the page's own URL falls in: a scope only narrows
// where a mapping applies, and a vendor's URL is no less a vendor's there.

// maxMappings and maxMapBytes bound the mappings kept for a page, and the
// bytes they take: a map with more is a bundler's, not a place a vendor's
// snippet goes.
const (
	maxMappings = 512
	maxMapBytes = 4 * HoldLimit
)

// importMap is the mappings of the import maps a page has had so far.
type importMap struct {
	from, to [][]byte // specifier key and the URL it maps to (as written)
	size     int      // bytes in from and to
}

// readImportMap keeps the mappings of an import map's text (a map longer
// than HoldLimit is read on its held prefix: the mappings that are whole in
// it), up to maxMappings and maxMapBytes for the page. Text that is not
// JSON ends the reading where it stops being JSON, though a browser ignores
// such a map entirely: keeping what came before errs on the side of
// judging more.
func (r *Rewriter) readImportMap(text []byte) {
	if r.imap == nil {
		r.imap = new(importMap)
	}
	m := r.imap
	eachMapping(text, func(from, to string) bool {
		if len(from) > maxSpecifier || len(to) > maxSpecifier {
			return true
		}
		if len(m.from) == maxMappings || m.size+len(from)+len(to) > maxMapBytes {
			return false
		}
		m.size += len(from) + len(to)
		m.from = append(m.from, []byte(from))
		m.to = append(m.to, []byte(to))
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

// mapped calls fn with every URL the page's import maps map spec to, until
// fn returns false: the value of a key equal to spec, and that of a key
// ending in '/' that spec begins with, followed by the rest of spec. Keys
// are compared as written, not as URLs resolved against the base
// (judgeImports judges a URL-like specifier for itself as well).
func (m *importMap) mapped(spec []byte, fn func(url []byte) bool) {
	var url []byte
	for i, from := range m.from {
		switch {
		case bytes.Equal(from, spec):
			url = append(url[:0], m.to[i]...)
		case len(from) > 0 && from[len(from)-1] == '/' && bytes.HasPrefix(spec, from):
			url = append(append(url[:0], m.to[i]...), spec[len(from):]...)
		default:
			continue
		}
		if !fn(url) {
			return
		}
	}
}
