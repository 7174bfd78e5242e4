package catalog

import (
	"errors"
	"fmt"
	"strings"
)

// pattern is a parsed URL pattern (see the package documentation).
type pattern struct {
	// host is the lower-case host, "" for a "*/suffix" pattern.
	host string
	// rest starts with '/': the path prefix of a host pattern ("" for a bare
	// host), or the required path suffix of a "*/suffix" pattern.
	rest string
}

func parsePattern(s string) (pattern, error) {
	switch {
	case s == "":
		return pattern{}, errors.New("empty pattern")
	case strings.Contains(s, "://"):
		return pattern{}, errors.New("must not include a scheme")
	case strings.Contains(s, "&amp;"):
		return pattern{}, errors.New(`write "&", not "&amp;"`)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || strings.IndexByte(`"#<>\`, c) >= 0 {
			return pattern{}, fmt.Errorf("byte %q is not allowed", c)
		}
	}
	if suffix, ok := strings.CutPrefix(s, "*/"); ok {
		if suffix == "" || strings.ContainsAny(suffix, "*?&") || strings.Contains(s, "//") || strings.HasSuffix(suffix, "/") {
			return pattern{}, errors.New(`"*/" must be followed by a path without '*', '?', '&', "//" or a trailing '/'`)
		}
		return pattern{rest: s[1:]}, nil
	}
	host, rest := s, ""
	if i := strings.IndexByte(s, '/'); i >= 0 {
		host, rest = s[:i], s[i:]
	}
	if !validHost(host) || !strings.Contains(host, ".") {
		return pattern{}, fmt.Errorf("host %q is not a lower-case domain name of two or more labels", host)
	}
	if err := checkWildcards(rest); err != nil {
		return pattern{}, err
	}
	return pattern{host: host, rest: rest}, nil
}

// checkWildcards allows '*' only as a whole path segment.
func checkWildcards(rest string) error {
	query := strings.IndexByte(rest, '?')
	for i := 0; i < len(rest); i++ {
		if rest[i] != '*' {
			continue
		}
		whole := rest[i-1] == '/' && (i+1 == len(rest) || rest[i+1] == '/' || rest[i+1] == '?')
		if !whole || (query >= 0 && i > query) {
			return errors.New("'*' may only stand for a whole path segment")
		}
	}
	return nil
}

// validHost reports whether h is a lower-case host name: dot-separated,
// non-empty labels of letters, digits, '-' and '_'.
func validHost(h string) bool {
	if h == "" {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// matchPrefix reports whether rest, a URL's path and query as written in
// HTML, starts with the pattern prefix p. A '*' in p stands for one non-empty
// path segment; "&amp;" in rest reads as '&'.
func matchPrefix(rest []byte, p string) bool {
	if p == "" {
		return true
	}
	// "https://host" and "https://host?q" have the path "/".
	if len(rest) == 0 || rest[0] != '/' {
		p = p[1:] // p starts with '/'
	}
	i := 0
	for j := 0; j < len(p); j++ {
		switch c := p[j]; {
		case c == '*':
			k := i
			for k < len(rest) && rest[k] != '/' && rest[k] != '?' {
				k++
			}
			if k == i {
				return false
			}
			i = k
		case i == len(rest) || rest[i] != c:
			return false
		case c == '&' && hasAmpEntity(rest[i:]):
			i += len("&amp;")
		default:
			i++
		}
	}
	return true
}

func hasAmpEntity(b []byte) bool { return len(b) >= 5 && string(b[:5]) == "&amp;" }

// matchSuffix reports whether path ends with suffix (which starts with '/'),
// or is suffix without its slash, as the relative URL "matomo.js" is.
func matchSuffix(path []byte, suffix string) bool {
	n := len(path) - len(suffix)
	return n >= 0 && string(path[n:]) == suffix || string(path) == suffix[1:]
}
