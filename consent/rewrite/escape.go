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
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRuneInString(s[i:])
			dst = append(dst, amp...)
			dst = append(dst, "#x"...)
			dst = strconv.AppendUint(dst, uint64(r), 16)
			dst = append(dst, ';')
			i += n
			continue
		}
		var ref string
		switch c {
		case '&':
			ref = "amp;"
		case '"':
			ref = "quot;"
		case '\'':
			ref = "#39;"
		case '<':
			ref = "lt;"
		case '>':
			ref = "gt;"
		default:
			dst = append(dst, c)
			i++
			continue
		}
		dst = append(dst, amp...)
		dst = append(dst, ref...)
		i++
	}
	return dst
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
