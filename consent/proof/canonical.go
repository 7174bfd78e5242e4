package proof

import (
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Canonicalize returns the RFC 8785 (JCS) canonical form of a JSON text:
// object members sorted by the UTF-16 code units of their keys, no
// whitespace, strings escaped as ECMAScript's JSON.stringify does, numbers in
// ECMAScript form. Only integer numbers up to 2^53 in magnitude are accepted
// (the only numbers records use), which keeps number formatting exact.
func Canonicalize(data []byte) ([]byte, error) {
	v, err := parseJSON(data)
	if err != nil {
		return nil, err
	}
	return appendCanonical(make([]byte, 0, len(data)), &v), nil
}

// appendCanonical writes v, whose object members the parser already sorted.
func appendCanonical(dst []byte, v *value) []byte {
	switch v.kind {
	case '{':
		dst = append(dst, '{')
		for i := range v.kids {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, v.kids[i].key)
			dst = append(dst, ':')
			dst = appendCanonical(dst, &v.kids[i].val)
		}
		return append(dst, '}')
	case '[':
		dst = append(dst, '[')
		for i := range v.kids {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendCanonical(dst, &v.kids[i].val)
		}
		return append(dst, ']')
	case '"':
		return appendString(dst, v.str)
	case '0':
		return append(dst, v.str...)
	case 't':
		return append(dst, "true"...)
	case 'f':
		return append(dst, "false"...)
	}
	return append(dst, "null"...)
}

const hexDigits = "0123456789abcdef"

// appendString writes s quoted: only '"', '\\' and control characters are
// escaped, with the short forms where JSON has them and lowercase \u00xx
// otherwise (RFC 8785 section 3.2.2.2).
func appendString(dst []byte, s string) []byte { return appendQuoted(dst, s, false) }

// appendMarshalString writes valid UTF-8 s quoted as json.Marshal quotes
// it: as appendString does, and '<', '>', '&', U+2028 and U+2029 escaped
// as well.
func appendMarshalString(dst []byte, s string) []byte { return appendQuoted(dst, s, true) }

// quoteStops flags, per form (0: RFC 8785, 1: json.Marshal), the bytes
// appendQuoted cannot copy as they are, so that it copies whole runs
// between them: every record string is quoted on each consent post, twice.
// 0xE2 is the first byte of U+2028 and U+2029, which json.Marshal escapes.
var quoteStops = func() (t [2][256]bool) {
	for c := range 256 {
		t[0][c] = c < 0x20 || c == '"' || c == '\\'
		t[1][c] = t[0][c] || c == '<' || c == '>' || c == '&' || c == 0xE2
	}
	return t
}()

func appendQuoted(dst []byte, s string, marshal bool) []byte {
	stops := &quoteStops[0]
	if marshal {
		stops = &quoteStops[1]
	}
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !stops[c] {
			continue
		}
		if c == 0xE2 {
			// In valid UTF-8 these three bytes are U+2028 or U+2029 wherever
			// they stand (0xE2 is never a continuation byte).
			if i+2 < len(s) && s[i+1] == 0x80 && (s[i+2] == 0xA8 || s[i+2] == 0xA9) {
				dst = append(dst, s[start:i]...)
				dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[s[i+2]&0xF])
				i += 2
				start = i + 1
			}
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\f':
			dst = append(dst, '\\', 'f')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
		}
		start = i + 1
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// compareUTF16 orders strings by their UTF-16 code units, as RFC 8785 sorts
// keys. It differs from byte (code point) order only when a character above
// U+FFFF meets one in U+E000..U+FFFF.
func compareUTF16(a, b string) int {
	if isASCII(a) && isASCII(b) {
		return strings.Compare(a, b)
	}
	for a != "" && b != "" {
		ra, na := utf8.DecodeRuneInString(a)
		rb, nb := utf8.DecodeRuneInString(b)
		a, b = a[na:], b[nb:]
		if ra == rb {
			continue
		}
		ha, la := utf16Units(ra)
		hb, lb := utf16Units(rb)
		if ha != hb {
			return int(ha) - int(hb)
		}
		return int(la) - int(lb)
	}
	return len(a) - len(b)
}

func utf16Units(r rune) (hi, lo rune) {
	if r < 0x10000 {
		return r, 0
	}
	return utf16.EncodeRune(r)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
