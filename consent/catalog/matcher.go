package catalog

import (
	"bytes"
	"slices"
)

// Matcher recognises vendors by URL, inline script and cookie name. It is
// immutable and safe for concurrent use; MatchInline does not allocate
// (beyond growing dst), nor does Match for a URL written plainly (one that
// must be decoded as a browser would is copied first).
type Matcher struct {
	// hosts maps a pattern host to its rules, best first.
	hosts map[string][]urlRule
	// suffixes are the "*/suffix" rules, best first.
	suffixes []urlRule
	inline   *inlineIndex
	cookies  cookieIndex
}

// urlRule is one URL pattern of one vendor.
type urlRule struct {
	match  string // path prefix, or path suffix for "*/" rules
	kinds  kindSet
	spec   int32 // the pattern's length: longer is more specific
	vendor int32
}

// beats orders rules: more specific first, then the earlier vendor.
func (r urlRule) beats(o urlRule) bool {
	return r.spec > o.spec || r.spec == o.spec && r.vendor < o.vendor
}

var noRule = urlRule{spec: -1, vendor: -1}

// maxHost bounds a host name we look up (DNS allows 253 bytes).
const maxHost = 255

// NewMatcher compiles the rules of vendors. Indexes in results refer to
// vendors[i].
func NewMatcher(vendors []Vendor) (*Matcher, error) {
	if err := checkVendors(vendors); err != nil {
		return nil, err
	}
	m := &Matcher{hosts: make(map[string][]urlRule)}
	var sigs []signature
	for i, v := range vendors {
		for _, l := range v.Match.lists() {
			for _, s := range l.patterns {
				p, _ := parsePattern(s) // checked by Validate
				r := urlRule{match: p.rest, kinds: l.kinds, spec: int32(len(s)), vendor: int32(i)}
				if p.host == "" {
					m.suffixes = append(m.suffixes, r)
				} else {
					m.hosts[p.host] = append(m.hosts[p.host], r)
				}
			}
		}
		for _, s := range v.Match.Inline {
			sigs = append(sigs, signature{text: s, vendor: int32(i)})
		}
		m.cookies.add(i, v.Cookies)
	}
	byRank := func(a, b urlRule) int {
		if a.beats(b) {
			return -1
		}
		if b.beats(a) {
			return 1
		}
		return 0
	}
	for _, rules := range m.hosts {
		slices.SortStableFunc(rules, byRank)
	}
	slices.SortStableFunc(m.suffixes, byRank)
	m.cookies.sort()
	var err error
	if m.inline, err = newInlineIndex(sigs); err != nil {
		return nil, err
	}
	return m, nil
}

// Match returns the index of the vendor that url belongs to when loaded as
// kind, or -1. url is taken as written in the HTML attribute.
func (m *Matcher) Match(kind Kind, url []byte) int {
	if kind >= numKinds {
		return -1
	}
	u, ok := splitURL(url)
	if !ok {
		return -1
	}
	k := kindBit(kind)
	best := noRule
	if n := len(u.host); n > 0 && n <= maxHost {
		var buf [maxHost]byte
		h := buf[:n]
		lowerInto(h, u.host)
		// Look up the host and each parent domain of two or more labels.
		for dot := bytes.IndexByte(h, '.'); dot >= 0; dot = bytes.IndexByte(h, '.') {
			for _, r := range m.hosts[string(h)] {
				if !r.beats(best) {
					break
				}
				if r.kinds&k != 0 && matchPrefix(u.rest, r.match) {
					best = r
					break
				}
			}
			h = h[dot+1:]
		}
	}
	path := u.path()
	for _, r := range m.suffixes {
		if !r.beats(best) {
			break
		}
		if r.kinds&k != 0 && matchSuffix(path, r.match) {
			best = r
			break
		}
	}
	return int(best.vendor)
}

// MatchInline appends to dst, in vendor order and each once, the vendors with
// an inline signature in text.
func (m *Matcher) MatchInline(text []byte, dst []int) []int {
	return m.inline.scan(text, dst)
}

// Host returns the lower-cased host of an absolute or protocol-relative URL,
// without port, userinfo and trailing dot; false for relative URLs and other
// schemes. The result aliases url unless it had to be lower-cased. It does not
// depend on the catalogue.
func (m *Matcher) Host(url []byte) (host []byte, ok bool) {
	u, ok := splitURL(url)
	if !ok || !u.abs || len(u.host) == 0 {
		return nil, false
	}
	if !hasUpper(u.host) {
		return u.host, true
	}
	host = make([]byte, len(u.host))
	lowerInto(host, u.host)
	return host, true
}
