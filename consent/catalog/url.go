package catalog

import (
	"bytes"
	"net/url"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/idna"
)

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
//
// It reads the URL as a browser does, so that no spelling a browser loads
// gets past the catalogue: character references decoded, tabs and newlines
// dropped, backslashes taken for slashes, any number of slashes after
// "https:" (or none), a percent-encoded or non-ASCII host decoded and mapped
// as IDNA maps it. A URL that needs any of this is copied; a plainly written
// one is split in place.
func splitURL(s []byte) (u urlParts, ok bool) {
	if needsBrowserReading(s) {
		s = browserReading(s)
	}
	s = trimControlAndSpace(s)
	if len(s) == 0 {
		return u, false
	}
	if n := schemeLen(s); n > 0 {
		scheme := s[:n]
		if !bytes.EqualFold(scheme, []byte("https")) && !bytes.EqualFold(scheme, []byte("http")) {
			return u, false
		}
		// Browsers read an authority after "https:" however many slashes
		// follow, even none when the page is not itself on https.
		s = s[n+1:]
	} else if !bytes.HasPrefix(s, []byte("//")) {
		u.rest = cutFragment(s)
		return u, true
	}
	for len(s) > 0 && s[0] == '/' {
		s = s[1:]
	}
	end := bytes.IndexAny(s, "/?#")
	if end < 0 {
		end = len(s)
	}
	u.host, u.rest, u.abs = hostOf(s[:end]), cutFragment(s[end:]), true
	if needsHostDecoding(u.host) {
		u.host = decodeHost(u.host)
	}
	return u, true
}

// needsBrowserReading reports whether s holds anything a browser undoes
// before it parses the URL: a character reference other than "&amp;"
// (which matching reads as "&"), a NUL, a tab or newline, a backslash. It
// runs on every URL, so it leaves the looking to IndexByte.
func needsBrowserReading(s []byte) bool {
	for _, c := range []byte{'\\', '\t', '\n', '\r', 0} {
		if bytes.IndexByte(s, c) >= 0 {
			return true
		}
	}
	for i := bytes.IndexByte(s, '&'); i >= 0; i = bytes.IndexByte(s, '&') {
		if !bytes.HasPrefix(s[i:], []byte("&amp;")) {
			return true
		}
		s = s[i+len("&amp;"):]
	}
	return false
}

// browserReading is s as the HTML tokenizer leaves an attribute value (see
// AttrValue), then as URL parsing reads it for http(s): tabs and newlines
// dropped, backslashes before the query or fragment turned into slashes.
func browserReading(s []byte) []byte {
	out := make([]byte, 0, len(s))
	inPath := true
	for _, c := range AttrValue(s) {
		switch {
		case c == '\t' || c == '\n' || c == '\r':
			continue
		case c == '?' || c == '#':
			inPath = false
		case c == '\\' && inPath:
			c = '/'
		}
		out = append(out, c)
	}
	return out
}

// AttrValue is an attribute's value, as written in the page, the way the
// HTML tokenizer reads it: character references decoded as in an attribute
// (a legacy one without ';' before a letter, digit or '=' stays as written,
// "&lt00"), a NUL read as U+FFFD. x/net/html's tokenizer itself reads it; a
// value without '&' or NUL is returned as it is.
func AttrValue(raw []byte) []byte {
	if bytes.IndexByte(raw, '&') < 0 && bytes.IndexByte(raw, 0) < 0 {
		return raw
	}
	if !legacyRefAmbiguous(raw) { // decoded the same in text and attribute
		return unescapedAsText(raw)
	}
	// The value goes back in a tag as it could have been written: quoted
	// with a quote it lacks, or else unquoted (it then has no space or '>').
	var q []byte
	switch {
	case bytes.IndexByte(raw, '"') < 0:
		q = []byte{'"'}
	case bytes.IndexByte(raw, '\'') < 0:
		q = []byte{'\''}
	case bytes.ContainsAny(raw, " \t\n\f\r>"): // not from a real attribute
		return unescapedAsText(raw)
	}
	tag := append(append(append(append([]byte("<a v="), q...), raw...), q...), ' ', '>')
	z := html.NewTokenizer(bytes.NewReader(tag))
	if z.Next() != html.StartTagToken {
		return raw // not reached: the tag is well formed
	}
	_, v, _ := z.TagAttr()
	return v
}

// unescapedAsText is raw with its references decoded as in text, and a
// NUL read as U+FFFD.
func unescapedAsText(raw []byte) []byte {
	return []byte(html.UnescapeString(strings.ReplaceAll(string(raw), "\x00", "\uFFFD")))
}

// legacyRefAmbiguous reports whether s has what may be a legacy named
// reference without ';' ("&lt0", "&notify", "&notit;", whose name is no
// reference's): only there does an attribute value decode otherwise than
// text. ("&utm_source=" is not one, nor "&notin;".)
func legacyRefAmbiguous(s []byte) bool {
	for i := bytes.IndexByte(s, '&'); i >= 0; {
		j := i + 1
		for j < len(s) && ('a' <= s[j] && s[j] <= 'z' || 'A' <= s[j] && s[j] <= 'Z' || '0' <= s[j] && s[j] <= '9') {
			j++
		}
		if j > i+1 && hasLegacyName(s[i+1:j]) && (j == len(s) || s[j] != ';' || !isReferenceName(s[i+1:j])) {
			return true
		}
		k := bytes.IndexByte(s[j:], '&')
		if k < 0 {
			return false
		}
		i = j + k
	}
	return false
}

// isReferenceName reports whether "&name;" is a whole named reference:
// decoded, nothing of the name is left. (No reference decodes to a text
// ending in ';' but "&semi;", which is then taken for none: harmless, the
// tokenizer decides.)
func isReferenceName(name []byte) bool {
	return !strings.HasSuffix(html.UnescapeString("&"+string(name)+";"), ";")
}

// hasLegacyName reports whether run begins with the name of a reference
// HTML decodes even without ';' (the legacy ones, as x/net/html lists them).
func hasLegacyName(run []byte) bool {
	for _, name := range legacyNames {
		if bytes.HasPrefix(run, []byte(name)) {
			return true
		}
	}
	return false
}

var legacyNames = strings.Fields(`AElig AMP Aacute Acirc Agrave Aring Atilde Auml COPY Ccedil ETH Eacute
Ecirc Egrave Euml GT Iacute Icirc Igrave Iuml LT Ntilde Oacute Ocirc Ograve Oslash Otilde Ouml
QUOT REG THORN Uacute Ucirc Ugrave Uuml Yacute aacute acirc acute aelig agrave amp aring atilde
auml brvbar ccedil cedil cent copy curren deg divide eacute ecirc egrave eth euml frac12 frac14
frac34 gt iacute icirc iexcl igrave iquest iuml laquo lt macr micro middot nbsp not ntilde oacute
ocirc ograve ordf ordm oslash otilde ouml para plusmn pound quot raquo reg sect shy sup1 sup2 sup3
szlig thorn times uacute ucirc ugrave uml uuml yacute yen yuml`)

// needsHostDecoding reports whether a host is percent-encoded or not ASCII.
func needsHostDecoding(host []byte) bool {
	var all byte
	for _, c := range host {
		all |= c
	}
	return all >= 0x80 || bytes.IndexByte(host, '%') >= 0
}

// decodeHost percent-decodes a host and maps it to ASCII as browsers do
// (UTS #46: full-width letters, ideographic full stops, upper case). A host
// that does not survive this is returned as written: it matches nothing,
// and browsers do not load it.
func decodeHost(host []byte) []byte {
	decoded, err := url.PathUnescape(string(host))
	if err != nil {
		return host
	}
	ascii, err := idna.Lookup.ToASCII(decoded)
	if err != nil {
		return host
	}
	return []byte(ascii)
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

// Base is the base URL a page's <base href> sets when it names a host:
// relative URLs after it load from there.
type Base struct{ u urlParts }

// ParseBase reads a <base href> value as a browser does. It reports false
// when the value names no host the URL parser would take (a host with a
// control character, a forbidden one, or one that does not map to ASCII):
// relative URLs then stay the page's own. The Base keeps its own copy.
func ParseBase(href []byte) (*Base, bool) {
	p, ok := splitURL(href)
	if !ok || !p.abs || len(p.host) == 0 || !parsableHost(p.host) {
		return nil, false
	}
	return &Base{urlParts{host: bytes.Clone(p.host), rest: bytes.Clone(p.rest), abs: true}}, true
}

// parsableHost reports whether a host, as splitURL leaves it, is ASCII without
// the URL standard's forbidden domain code points (an IPv6 address keeps
// its colons, its brackets gone).
func parsableHost(h []byte) bool {
	for _, c := range h {
		if c <= ' ' || c >= 0x7F || bytes.IndexByte([]byte("#%/<>?@[\\]^|"), c) >= 0 {
			return false
		}
	}
	return true
}

// Resolve returns ref as a browser resolves it against b when ref is a
// relative URL: "//host/path?query", which is all matching reads.
// Otherwise it returns ref as it is: absolute already, or not http(s).
// (Dot segments are left as written.)
func (b *Base) Resolve(ref []byte) []byte {
	r, ok := splitURL(ref)
	if !ok || r.abs {
		return ref
	}
	host, rest := b.u.host, b.u.rest
	out := make([]byte, 0, len("//[]/")+len(host)+len(rest)+len(r.rest))
	out = append(out, "//"...)
	if bytes.IndexByte(host, ':') >= 0 {
		out = append(append(append(out, '['), host...), ']') // IPv6
	} else {
		out = append(out, host...)
	}
	if len(r.rest) == 0 || r.rest[0] != '/' {
		dir := b.u.path()
		switch {
		case len(r.rest) == 0: // only a fragment: the base itself
			dir = rest
		case r.rest[0] != '?':
			dir = dir[:bytes.LastIndexByte(dir, '/')+1] // a path goes after the base's last '/'
		}
		if len(dir) == 0 || dir[0] != '/' {
			out = append(out, '/')
		}
		out = append(out, dir...)
	}
	return append(out, r.rest...)
}
