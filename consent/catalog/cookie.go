package catalog

import (
	"cmp"
	"slices"
	"strings"
)

// cookieIndex maps names of cookies set on the site's own domain to vendors.
// Cookies on a vendor's domain are left out: a site never sends them.
type cookieIndex struct {
	exact    map[string]int
	prefixes []cookiePrefix // longest first, then earlier vendor
}

type cookiePrefix struct {
	prefix string
	vendor int
}

func (c *cookieIndex) add(vendor int, cookies []Cookie) {
	for _, k := range cookies {
		switch {
		case k.Domain != "":
		case k.Prefix:
			c.prefixes = append(c.prefixes, cookiePrefix{k.Name, vendor})
		default:
			if c.exact == nil {
				c.exact = make(map[string]int)
			}
			if _, taken := c.exact[k.Name]; !taken { // the earlier vendor keeps it
				c.exact[k.Name] = vendor
			}
		}
	}
}

func (c *cookieIndex) sort() {
	slices.SortStableFunc(c.prefixes, func(a, b cookiePrefix) int {
		return cmp.Or(cmp.Compare(len(b.prefix), len(a.prefix)), cmp.Compare(a.vendor, b.vendor))
	})
}

// MatchCookie returns the vendor of a cookie the site sets (a Set-Cookie
// name): an exact name first, else the longest matching prefix; -1 if none.
func (m *Matcher) MatchCookie(name string) int {
	if v, ok := m.cookies.exact[name]; ok {
		return v
	}
	for _, p := range m.cookies.prefixes {
		if strings.HasPrefix(name, p.prefix) {
			return p.vendor
		}
	}
	return -1
}
