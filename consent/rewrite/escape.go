package rewrite

import (
	"strconv"
	"unicode/utf8"
)

// appendAttrEscaped appends s escaped for a quoted attribute value or text.
// Non-ASCII characters become character references, so the inserted bytes
// mean the same in any ASCII-compatible charset the page may use.
func appendAttrEscaped(dst []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRuneInString(s[i:])
			dst = append(dst, "&#x"...)
			dst = strconv.AppendUint(dst, uint64(r), 16)
			dst = append(dst, ';')
			i += n
			continue
		}
		switch c {
		case '&':
			dst = append(dst, "&amp;"...)
		case '"':
			dst = append(dst, "&quot;"...)
		case '\'':
			dst = append(dst, "&#39;"...)
		case '<':
			dst = append(dst, "&lt;"...)
		case '>':
			dst = append(dst, "&gt;"...)
		default:
			dst = append(dst, c)
		}
		i++
	}
	return dst
}

// DefaultPlaceholder appends the srcdoc shown in place of a blocked iframe:
// a short English notice naming the vendor and purpose, HTML-escaped and
// then attribute-escaped.
func DefaultPlaceholder(dst []byte, v Verdict) []byte {
	vendor := v.VendorName
	if vendor == "" {
		vendor = v.Vendor
	}
	var doc []byte
	var scratch [512]byte
	doc = append(scratch[:0], placeholderHead...)
	if vendor != "" {
		doc = append(doc, "Content from "...)
		doc = appendAttrEscaped(doc, vendor)
	} else {
		doc = append(doc, "This content"...)
	}
	doc = append(doc, " is blocked"...)
	if v.Purpose != "" {
		doc = append(doc, " until you allow &quot;"...)
		doc = appendAttrEscaped(doc, v.Purpose)
		doc = append(doc, "&quot; in the privacy settings"...)
	}
	doc = append(doc, ".</p>"...)
	return appendAttrEscaped(dst, string(doc))
}

const placeholderHead = `<!DOCTYPE html><meta charset="utf-8"><style>html{height:100%;display:flex;` +
	`align-items:center;justify-content:center;background:#f2f2f2;color:#222;` +
	`font:15px/1.4 system-ui,sans-serif;text-align:center}p{margin:1em}</style><p>`
