package catalog

import (
	"html"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// FuzzMatch checks that Match never panics and agrees with refMatch, a slow
// and plain restatement of the package documentation on top of net/url.
func FuzzMatch(f *testing.F) {
	vendors := Builtin()
	m, err := NewMatcher(vendors)
	if err != nil {
		f.Fatal(err)
	}
	ref := newRefMatcher(vendors)
	for _, s := range []string{
		"https://www.googletagmanager.com/gtag/js?id=AW-1",
		"//Connect.Facebook.net/xx_XX/fbevents.js",
		"https://u@www.facebook.com:443/tr?id=1&amp;ev=PageView",
		"/sub/dir/piwik.php?idsite=1",
		"matomo.js",
		"https://evil.example/?next=//www.google-analytics.com/analytics.js",
	} {
		f.Add(uint8(KindScript), s)
	}
	f.Fuzz(func(t *testing.T, kind uint8, raw string) {
		got := m.Match(Kind(kind), []byte(raw))
		if got, want := m.MatchInline([]byte(raw), nil), refInline(vendors, raw); !slices.Equal(got, want) {
			t.Errorf("MatchInline(%q) = %v, reference says %v", raw, got, want)
		}
		m.Host([]byte(raw))
		want, ok := ref.match(Kind(kind), raw)
		if ok && got != want {
			t.Errorf("Match(%v, %q) = %s, reference says %s", Kind(kind), raw, vendorID(vendors, got), vendorID(vendors, want))
		}
	})
}

// refMatcher holds each vendor's patterns per kind, as written.
type refMatcher struct {
	patterns [][numKinds][]string // by vendor, then kind
}

func newRefMatcher(vendors []Vendor) *refMatcher {
	r := &refMatcher{patterns: make([][numKinds][]string, len(vendors))}
	for i, v := range vendors {
		for k := Kind(0); k < numKinds; k++ {
			r.patterns[i][k] = append(r.patterns[i][k], v.Match.URLs...)
		}
		r.patterns[i][KindScript] = append(r.patterns[i][KindScript], v.Match.Script...)
		r.patterns[i][KindFrame] = append(r.patterns[i][KindFrame], v.Match.Frame...)
		r.patterns[i][KindImage] = append(r.patterns[i][KindImage], v.Match.Image...)
		r.patterns[i][KindLink] = append(r.patterns[i][KindLink], v.Match.Link...)
	}
	return r
}

// refURLChars are the bytes net/url keeps as written; the reference leaves
// inputs with other bytes (and percent-escapes) to the real matcher.
var refURLChars = regexp.MustCompile(`^[A-Za-z0-9._~:/?#\[\]@!$&'()*+,;=-]*$`)

// match returns the vendor index for raw, or ok false when raw is outside
// what the reference can judge the way a browser would.
func (r *refMatcher) match(kind Kind, raw string) (vendor int, ok bool) {
	if strings.Contains(raw, "\x00") {
		// The HTML tokenizer reads a NUL in an attribute as U+FFFD before
		// URL parsing could strip it as a control character.
		return 0, false
	}
	s := strings.TrimFunc(raw, func(c rune) bool { return c <= ' ' })
	if s == "" || kind >= numKinds {
		return -1, true
	}
	if !refURLChars.MatchString(s) || strings.HasPrefix(s, "///") {
		return 0, false
	}
	s = strings.ReplaceAll(s, "&amp;", "&")
	if html.UnescapeString(s) != s {
		return 0, false // other character references: browsers decode them, net/url does not
	}
	u, err := url.Parse(s)
	if err != nil {
		return 0, false
	}
	switch u.Scheme {
	case "http", "https":
		if u.Opaque != "" || u.Host == "" {
			return 0, false
		}
	case "":
	default:
		return -1, true
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if len(host) > maxHost {
		return 0, false
	}
	pathQuery := u.EscapedPath()
	if u.ForceQuery || u.RawQuery != "" {
		pathQuery += "?" + u.RawQuery
	}
	if u.Host != "" && !strings.HasPrefix(pathQuery, "/") {
		pathQuery = "/" + pathQuery
	}
	path := u.EscapedPath()
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	best, bestLen := -1, -1
	for i := range r.patterns {
		for _, p := range r.patterns[i][kind] {
			if len(p) > bestLen && refPatternMatches(p, host, path, pathQuery) {
				best, bestLen = i, len(p)
			}
		}
	}
	return best, true
}

func refPatternMatches(p, host, path, pathQuery string) bool {
	if suffix, ok := strings.CutPrefix(p, "*"); ok {
		return strings.HasSuffix(path, suffix)
	}
	pHost, pRest, _ := strings.Cut(p, "/")
	if host == "" || host != pHost && !strings.HasSuffix(host, "."+pHost) {
		return false
	}
	if pRest == "" {
		return true
	}
	pieces := strings.Split("/"+pRest, "*")
	for i := range pieces {
		pieces[i] = regexp.QuoteMeta(pieces[i])
	}
	return regexp.MustCompile("^" + strings.Join(pieces, "[^/?]+")).MatchString(pathQuery)
}

// The reference must judge real URLs, not skip them, for FuzzMatch to mean
// anything; and on them it must agree too.
func TestReferenceOnRealURLs(t *testing.T) {
	m, vendors, _ := builtinMatcher(t)
	ref := newRefMatcher(vendors)
	files, _ := filepath.Glob(filepath.Join(snippetDir, "*.html"))
	corpus, _ := filepath.Glob(filepath.Join(corpusDir, "*.html"))
	judged, total := 0, 0
	for _, f := range append(files, corpus...) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		refs, _ := pageRefs(parsePage(t, data))
		for _, r := range refs {
			if r.inline != "" {
				continue
			}
			total++
			want, ok := ref.match(r.kind, r.url)
			if !ok {
				continue
			}
			judged++
			if got := m.Match(r.kind, []byte(r.url)); got != want {
				t.Errorf("%s: Match(%v, %q) = %s, reference says %s", filepath.Base(f), r.kind, r.url, vendorID(vendors, got), vendorID(vendors, want))
			}
		}
	}
	if judged < total*9/10 {
		t.Errorf("the reference judged only %d of %d URLs", judged, total)
	}
	t.Logf("reference judged %d of %d URLs", judged, total)
}
