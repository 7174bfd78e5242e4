package rewrite

import (
	"bytes"

	"github.com/consentgate/consentgate/consent/catalog"
)

// Module imports. An inline module can load a vendor's code with no element
// the page could see: `import … from "https://…"`, `import "https://…"`,
// `export … from "https://…"`, `import("https://…")`, or by a name the
// page's import map maps to the vendor's URL (importmap.go). Each URL a
// module's text imports from, as written (resolved against the page's
// base, which may name the vendor's host) and as mapped, is judged as a
// script's src, and a blocked one blocks the module, as a blocked
// signature does. Only modules are read: static imports are legal nowhere
// else, and reading every classic script for import() would slow the scan
// of all of them for what no vendor's snippet does. A long module is read
// on its held prefix (HoldLimit).

// maxSpecifier bounds a specifier we read: longer ones are no URL a vendor
// serves its code from.
const maxSpecifier = 2048

// judgeImports judges the URLs a module's text imports from as script
// URLs, as judgeURL judges a src (against the page's base, seen by OnURL),
// until one blocks: its verdict goes into v. A bare name no import map
// maps loads nothing.
func (r *Rewriter) judgeImports(text []byte, v *Verdict) {
	judge := func(url []byte) bool {
		r.judgeURL(catalog.KindScript, url, v)
		return !v.Block
	}
	eachImport(text, func(spec []byte) bool {
		if isURLSpecifier(spec) && !judge(spec) {
			return false
		}
		if r.imap != nil {
			r.imap.judgeName(spec, v, judge)
		}
		return !v.Block
	})
}

// isModule reports whether a script's type makes it a module script.
func isModule(ti *tagInfo) bool { return bytes.EqualFold(scriptType(ti), []byte("module")) }

// scriptType is a script's type attribute as the browser compares it with
// "module", "importmap" and "speculationrules": references decoded, white
// space trimmed; nil without one.
func scriptType(ti *tagInfo) []byte {
	if !ti.has.has(atType) {
		return nil
	}
	return bytes.Trim(attrText(ti.val[atType]), htmlSpace)
}

// eachImport calls fn with every specifier that text imports from, until
// fn returns false: a string right after the keyword `from` or `import`,
// or inside `import(`, with only white space between. The keyword must
// stand alone: not part of a longer name, nor a property
// (`Array.from("…")`).
func eachImport(text []byte, fn func(spec []byte) bool) {
	for _, word := range [...]string{"import", "from"} {
		for i := 0; ; {
			j := bytes.Index(text[i:], []byte(word))
			if j < 0 {
				break
			}
			start, end := i+j, i+j+len(word)
			i = end
			if start > 0 && (isJSNameByte(text[start-1]) || text[start-1] == '.') {
				continue
			}
			k, dynamic := skipSpace(text, end), false
			if word == "import" && k < len(text) && text[k] == '(' {
				k, dynamic = skipSpace(text, k+1), true
			} else if k == end && k < len(text) && isJSNameByte(text[k]) {
				continue // a longer name: importScripts, fromage
			}
			if spec, ok := jsString(text, k, dynamic); ok && len(spec) > 0 && !fn(spec) {
				return
			}
		}
	}
}

// jsString returns the string literal at text[k], if it is one without
// escapes or line breaks; a template literal without substitutions counts
// where one may stand (a dynamic import).
func jsString(text []byte, k int, template bool) ([]byte, bool) {
	if k >= len(text) {
		return nil, false
	}
	q := text[k]
	if q != '"' && q != '\'' && (q != '`' || !template) {
		return nil, false
	}
	rest := text[k+1 : min(len(text), k+1+maxSpecifier)]
	n := bytes.IndexByte(rest, q)
	if n < 0 || bytes.ContainsAny(rest[:n], "\\\n\r") || q == '`' && bytes.Contains(rest[:n], []byte("${")) {
		return nil, false
	}
	return rest[:n], true
}

// isURLSpecifier reports whether a specifier is a URL rather than a bare
// name: absolute, protocol-relative, or starting with /, ./ or ../ (as
// the HTML standard's module resolution tells them apart).
func isURLSpecifier(s []byte) bool {
	return s[0] == '/' || bytes.HasPrefix(s, []byte("./")) || bytes.HasPrefix(s, []byte("../")) || hasScheme(s)
}

// hasScheme reports whether s starts with a URL scheme and its colon.
func hasScheme(s []byte) bool {
	for i, c := range s {
		switch {
		case c == ':':
			return i > 0
		case c|0x20 >= 'a' && c|0x20 <= 'z', i > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return false
}

// isJSNameByte reports whether c may be in a JavaScript identifier.
func isJSNameByte(c byte) bool {
	return c == '_' || c == '$' || c >= '0' && c <= '9' || c|0x20 >= 'a' && c|0x20 <= 'z' || c >= 0x80
}
