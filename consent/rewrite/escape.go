package rewrite

import (
	"strconv"
	"unicode/utf8"
)

// appendAttrEscaped appends s escaped for a quoted attribute value.
func appendAttrEscaped(dst []byte, s string) []byte { return appendEscaped(dst, s, "&") }

// appendEscaped appends s with &, ", ', < and > replaced by character
// references, and non-ASCII characters too, so the inserted bytes mean the
// same in any ASCII-compatible charset the page may use. Each reference
// begins with amp: "&amp;" escapes text twice, for HTML inside an attribute.
func appendEscaped(dst []byte, s, amp string) []byte {
	for _, c := range s {
		if c < utf8.RuneSelf && c != '&' && c != '"' && c != '\'' && c != '<' && c != '>' {
			dst = append(dst, byte(c)) // (most bytes: no call)
			continue
		}
		dst = appendEscapedRune(dst, c, amp, false)
	}
	return dst
}

// appendValueEscaped appends b (UTF-8) escaped as appendEscaped escapes it
// once, for an attribute value; in an unquoted one (unquoted), white space
// too, which would end it.
func appendValueEscaped(dst, b []byte, unquoted bool) []byte {
	for i := 0; i < len(b); {
		c, n := utf8.DecodeRune(b[i:])
		dst = appendEscapedRune(dst, c, "&", unquoted)
		i += n
	}
	return dst
}

// appendEscapedRune appends c, or the reference that escapes it (see
// appendEscaped), as white space is when space.
func appendEscapedRune(dst []byte, c rune, amp string, space bool) []byte {
	var ref string
	switch {
	case c >= utf8.RuneSelf || space && class[c]&cSpace != 0:
		dst = append(dst, amp...)
		dst = append(dst, "#x"...)
		dst = strconv.AppendUint(dst, uint64(c), 16)
		return append(dst, ';')
	case c == '&':
		ref = "amp;"
	case c == '"':
		ref = "quot;"
	case c == '\'':
		ref = "#39;"
	case c == '<':
		ref = "lt;"
	case c == '>':
		ref = "gt;"
	default:
		return append(dst, byte(c))
	}
	return append(append(dst, amp...), ref...)
}

// DefaultPlaceholder appends the srcdoc shown in place of a blocked iframe:
// a short English notice naming the vendor and purpose, HTML-escaped and
// then attribute-escaped.
func DefaultPlaceholder(dst []byte, v Verdict) []byte {
	const twice = "&amp;"
	vendor := v.VendorName
	if vendor == "" {
		vendor = v.Vendor
	}
	dst = append(dst, placeholderHead...)
	if vendor != "" {
		dst = append(dst, "Content from "...)
		dst = appendEscaped(dst, vendor, twice)
	} else {
		dst = append(dst, "This content"...)
	}
	dst = append(dst, " is blocked"...)
	if v.Purpose != "" {
		dst = append(dst, " until you allow &amp;quot;"...)
		dst = appendEscaped(dst, v.Purpose, twice)
		dst = append(dst, "&amp;quot; in the privacy settings"...)
	}
	return append(dst, ".&lt;/p&gt;"...)
}

// placeholderHead is the markup before the notice, attribute-escaped.
var placeholderHead = appendAttrEscaped(nil, `<!DOCTYPE html><meta charset="utf-8"><style>`+
	`html{height:100%;display:flex;align-items:center;justify-content:center;`+
	`background:#f2f2f2;color:#222;font:15px/1.4 system-ui,sans-serif;text-align:center}`+
	`p{margin:1em}</style><p>`)
