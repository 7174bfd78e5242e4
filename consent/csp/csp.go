// Package csp adapts a page's Content-Security-Policy to the markup the
// gateway injects, loosening it no more than that markup needs, and builds
// the optional policy the gateway adds as a second line of defence.
package csp

import (
	"strings"
)

// Needs describes the injected markup: scripts and a stylesheet loaded from
// Origin+Prefix carrying Nonce, a small inline script (Consent Mode) with
// the same nonce, fetches to Origin+Prefix, and the blocked-frame
// placeholder's inline style, allowed by StyleHash.
type Needs struct {
	Nonce     string // the page's nonce, or one made for this response
	Origin    string // "https://shop.example"
	Prefix    string // "/.consent/"
	StyleHash string // "'sha256-…'"
}

// PageNonce returns the nonce the header's policies give scripts, if any:
// the gateway's markup then carries the page's own nonce.
func PageNonce(header string) string {
	for _, pol := range strings.Split(header, ",") {
		for _, d := range parse(pol) {
			if d.name != "script-src" && d.name != "script-src-elem" && d.name != "default-src" {
				continue
			}
			for _, s := range d.sources {
				if v, ok := strings.CutPrefix(s, "'nonce-"); ok && strings.HasSuffix(v, "'") {
					return v[:len(v)-1]
				}
			}
		}
	}
	return ""
}

type directive struct {
	name    string // lower case
	sources []string
}

func parse(policy string) []directive {
	var out []directive
	for _, part := range strings.Split(policy, ";") {
		f := strings.Fields(part)
		if len(f) == 0 {
			continue
		}
		out = append(out, directive{name: strings.ToLower(f[0]), sources: f[1:]})
	}
	return out
}

func format(ds []directive) string {
	var b strings.Builder
	for i, d := range ds {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(d.name)
		for _, s := range d.sources {
			b.WriteByte(' ')
			b.WriteString(s)
		}
	}
	return b.String()
}

// Adapt returns the header (one or more comma-separated policies) changed
// so that the injected markup is allowed. A policy is left as it is where
// it already allows the markup; otherwise it gains only the nonce (scripts,
// the stylesheet), the placeholder's style hash, or the consent prefix as a
// path source (for fetches, and for scripts where adding a nonce would
// switch off the page's own 'unsafe-inline').
func Adapt(header string, n Needs) string {
	pols := strings.Split(header, ",")
	for i, pol := range pols {
		pols[i] = adaptOne(pol, n)
	}
	return strings.Join(pols, ", ")
}

func adaptOne(policy string, n Needs) string {
	ds := parse(policy)
	if len(ds) == 0 {
		return strings.TrimSpace(policy)
	}
	ds = allowMarkup(ds, []string{"script-src-elem", "script-src", "default-src"}, "script-src", n, "")
	ds = allowMarkup(ds, []string{"style-src-elem", "style-src", "default-src"}, "style-src", n, n.StyleHash)
	ds = allowFetch(ds, n)
	return format(ds)
}

// effective finds the directive that governs a fetch, in fallback order.
func effective(ds []directive, order []string) int {
	for _, name := range order {
		for i, d := range ds {
			if d.name == name {
				return i
			}
		}
	}
	return -1
}

// own returns the index of a directive named name, copying the governing
// default-src into a new one when the fetch falls back to it, so a change
// for scripts never reaches images or frames.
func own(ds []directive, i int, name string) ([]directive, int) {
	if ds[i].name != "default-src" {
		return ds, i
	}
	ds = append(ds, directive{name: name, sources: append([]string(nil), ds[i].sources...)})
	return ds, len(ds) - 1
}

func has(sources []string, want string) bool {
	for _, s := range sources {
		if strings.EqualFold(s, want) {
			return true
		}
	}
	return false
}

func hasPrefix(sources []string, prefix string) bool {
	for _, s := range sources {
		if strings.HasPrefix(strings.ToLower(s), prefix) {
			return true
		}
	}
	return false
}

// allowsURL reports whether host sources admit a same-origin URL under the
// prefix (ignoring 'strict-dynamic', which the caller handles).
func allowsURL(sources []string, n Needs) bool {
	return has(sources, "*") || has(sources, "'self'") || has(sources, n.Origin) || has(sources, n.Origin+"/") || has(sources, n.Origin+n.Prefix)
}

// allowMarkup lets the injected elements of one type (scripts or styles)
// through the directive that governs them.
func allowMarkup(ds []directive, order []string, name string, n Needs, hash string) []directive {
	i := effective(ds, order)
	if i < 0 {
		return ds // nothing restricted
	}
	src := ds[i].sources
	keyed := hasPrefix(src, "'nonce-") || hasPrefix(src, "'sha")
	if has(src, "'unsafe-inline'") && !keyed && !has(src, "'strict-dynamic'") {
		// Inline markup is allowed; a nonce here would switch that off for
		// the page, so only make sure our files may load.
		if !allowsURL(src, n) {
			ds, i = own(ds, i, name)
			ds[i].sources = append(ds[i].sources, n.Origin+n.Prefix)
		}
		return ds
	}
	want := []string{"'nonce-" + n.Nonce + "'"}
	if hash != "" {
		want = append(want, hash)
	}
	ds, i = own(ds, i, name)
	for _, w := range want {
		if !has(ds[i].sources, w) {
			ds[i].sources = append(ds[i].sources, w)
		}
	}
	ds[i].sources = withoutNone(ds[i].sources)
	return ds
}

// withoutNone drops 'none', which is invalid beside another source.
func withoutNone(sources []string) []string {
	kept := sources[:0]
	for _, s := range sources {
		if !strings.EqualFold(s, "'none'") {
			kept = append(kept, s)
		}
	}
	return kept
}

// allowFetch lets the banner reach the consent endpoints.
func allowFetch(ds []directive, n Needs) []directive {
	i := effective(ds, []string{"connect-src", "default-src"})
	if i < 0 || allowsURL(ds[i].sources, n) {
		return ds
	}
	ds, i = own(ds, i, "connect-src")
	ds[i].sources = append(withoutNone(ds[i].sources), n.Origin+n.Prefix)
	return ds
}
