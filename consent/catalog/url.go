package catalog

import "bytes"

// urlParts is a URL as written in an HTML attribute, split without copying.
type urlParts struct {
	// host is the host as written (maybe mixed case), without userinfo, port
	// and trailing dot; empty for a relative URL.
	host []byte
	// rest is the path and query, without the fragment.
	rest []byte
	// abs is true for absolute and protocol-relative URLs.
	abs bool
}

// splitURL splits an http(s), protocol-relative or relative URL. It reports
// false for empty input and for any other scheme (data:, javascript:, ...).
func splitURL(s []byte) (u urlParts, ok bool) {
	s = trimControlAndSpace(s)
	if len(s) == 0 {
		return u, false
	}
	if n := schemeLen(s); n > 0 {
		scheme := s[:n]
		if !bytes.EqualFold(scheme, []byte("https")) && !bytes.EqualFold(scheme, []byte("http")) {
			return u, false
		}
		s = s[n+1:]
		if !bytes.HasPrefix(s, []byte("//")) {
			return u, false // "https:path" is relative to the page in browsers; too odd to attribute
		}
	} else if !bytes.HasPrefix(s, []byte("//")) {
		u.rest = cutFragment(s)
		return u, true
	}
	s = s[2:]
	end := bytes.IndexAny(s, `/?#\`)
	if end < 0 {
		end = len(s)
	}
	u.host, u.rest, u.abs = hostOf(s[:end]), cutFragment(s[end:]), true
	return u, true
}

// path is rest without the query.
func (u urlParts) path() []byte {
	if i := bytes.IndexByte(u.rest, '?'); i >= 0 {
		return u.rest[:i]
	}
	return u.rest
}

// schemeLen returns the length of s's scheme (RFC 3986: a letter, then
// letters, digits, '+', '-', '.', then ':'), or 0 if s has none.
func schemeLen(s []byte) int {
	for i, c := range s {
		switch {
		case 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		case i > 0 && c == ':':
			return i
		default:
			return 0
		}
	}
	return 0
}

// hostOf strips userinfo, port, IPv6 brackets and one trailing dot from an
// authority.
func hostOf(auth []byte) []byte {
	if i := bytes.LastIndexByte(auth, '@'); i >= 0 {
		auth = auth[i+1:]
	}
	if len(auth) > 0 && auth[0] == '[' {
		if i := bytes.IndexByte(auth, ']'); i >= 0 {
			return auth[1:i]
		}
		return nil
	}
	if i := bytes.LastIndexByte(auth, ':'); i >= 0 {
		auth = auth[:i]
	}
	return bytes.TrimSuffix(auth, []byte("."))
}

func cutFragment(s []byte) []byte {
	if i := bytes.IndexByte(s, '#'); i >= 0 {
		return s[:i]
	}
	return s
}

// trimControlAndSpace trims what browsers strip from URL attributes: C0
// controls and spaces at either end.
func trimControlAndSpace(s []byte) []byte {
	for len(s) > 0 && s[0] <= ' ' {
		s = s[1:]
	}
	for len(s) > 0 && s[len(s)-1] <= ' ' {
		s = s[:len(s)-1]
	}
	return s
}

// lowerInto writes src lower-cased (ASCII) into dst, which is as long.
func lowerInto(dst, src []byte) {
	for i, c := range src {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst[i] = c
	}
}

// hasUpper reports whether b has an ASCII upper-case letter.
func hasUpper(b []byte) bool {
	for _, c := range b {
		if 'A' <= c && c <= 'Z' {
			return true
		}
	}
	return false
}
