package catalog

import (
	"net/url"
	"testing"
)

// resolve is ref resolved against a <base href> of base, or ref itself
// when base names no host.
func resolve(base, ref string) string {
	if b, ok := ParseBase([]byte(base)); ok {
		return string(b.Resolve([]byte(ref)))
	}
	return ref
}

func TestResolve(t *testing.T) {
	tests := []struct{ base, ref, want string }{
		{"https://tracker.example/dir/page.html", "x.js", "//tracker.example/dir/x.js"},
		{"https://tracker.example/dir/page.html", "/x.js?a=1", "//tracker.example/x.js?a=1"},
		{"https://tracker.example/dir/page.html", "?q=1", "//tracker.example/dir/page.html?q=1"},
		{"https://tracker.example", "x.js", "//tracker.example/x.js"},
		{"https://tracker.example?a", "x.js", "//tracker.example/x.js"},
		{"//TRACKER.example:8443/a/", "b/c.png#frag", "//TRACKER.example/a/b/c.png"},
		{"https://[2001:db8::1]/a/", "b", "//[2001:db8::1]/a/b"},
		// Read as browsers read them: references, backslashes.
		{"https:&#47;&#47;tracker.example\\dir\\", "x.js", "//tracker.example/dir/x.js"},
		{"https://tracker.example/dir/", "sub\\x.js", "//tracker.example/dir/sub/x.js"},
		// Left as they are: absolute refs, other schemes, a relative base.
		{"https://tracker.example/", "https://cdn.example/x.js", "https://cdn.example/x.js"},
		{"https://tracker.example/", "//cdn.example/x.js", "//cdn.example/x.js"},
		{"https://tracker.example/", "data:image/gif;base64,R0lGOD", "data:image/gif;base64,R0lGOD"},
		{"/local/", "x.js", "x.js"},
		{"javascript:void(0)", "x.js", "x.js"},
		{"", "x.js", "x.js"},
	}
	for _, c := range tests {
		if got := resolve(c.base, c.ref); got != c.want {
			t.Errorf("Resolve(%q, %q) = %q, want %q", c.base, c.ref, got, c.want)
		}
	}
}

// TestResolveAgreesWithNetURL: for plainly written URLs without dot
// segments, the host, path and query are those net/url resolves to.
func TestResolveAgreesWithNetURL(t *testing.T) {
	bases := []string{"https://t.example", "https://t.example/", "https://t.example/a", "https://t.example/a/b/", "https://t.example/a/b.html?x=1#f"}
	refs := []string{"c", "c/d.js", "/c", "/c/d?e=f", "?g=h", "c?i#j", "c/", "#k"}
	for _, b := range bases {
		base, _ := url.Parse(b)
		for _, r := range refs {
			ref, _ := url.Parse(r)
			want := base.ResolveReference(ref)
			want.Scheme, want.Fragment = "", ""
			if want.Path == "" {
				want.Path = "/"
			}
			if got := resolve(b, r); got != want.String() {
				t.Errorf("Resolve(%q, %q) = %q, net/url says %q", b, r, got, want.String())
			}
		}
	}
}

func TestParseBase(t *testing.T) {
	tests := map[string]bool{
		"https://cdn.example/":        true,
		"//cdn.example":               true,
		"https:&#47;&#47;cdn.example": true,
		"https://[2001:db8::1]/":      true,
		"/local/":                     false,
		"https://":                    false,
		"http:\x00":                   false,
		"http:\x000":                  false, // a NUL is U+FFFD to the tokenizer: no host
		"http:\uFFFD0":                false,
		"https://a b/":                false,
		"https://a^b/":                false,
		"mailto:x@cdn.example":        false,
	}
	for u, want := range tests {
		if _, got := ParseBase([]byte(u)); got != want {
			t.Errorf("ParseBase(%q) names a host: %v, want %v", u, got, want)
		}
	}
}

// TestAttrValue: references decode as in an attribute value, as browsers
// (and x/net/html's tokenizer) decode them there.
func TestAttrValue(t *testing.T) {
	tests := map[string]string{
		"https://a.example/x":         "https://a.example/x",
		"https:&#47;&#47;a.example/x": "https://a.example/x",
		"/x?a=1&amp;b=2":              "/x?a=1&b=2",
		"/x?a=1&utm_source=y":         "/x?a=1&utm_source=y",
		"/x?a=1&notify=1":             "/x?a=1&notify=1", // legacy "&not" before a letter stays
		"/x?a=1&copy=2":               "/x?a=1&copy=2",   // ... and before '='
		"&lt00":                       "&lt00",
		"&lt-":                        "<-",
		"&#1y":                        "\x01y",
		"a\x00b":                      "a\uFFFDb",
		`say "&notit"`:                `say "&notit"`,
		"/x?&notit;":                  "/x?&notit;", // no reference is named "notit": the legacy "&not" before 'i' stays
		"/x?&notin;":                  "/x?\u2209",  // a whole reference whose name begins with a legacy one
		"/x?&not;":                    "/x?\u00ac",
		`it's"&lt0"'x'`:               `it's"&lt0"'x'`, // unquoted
	}
	for in, want := range tests {
		if got := string(AttrValue([]byte(in))); got != want {
			t.Errorf("AttrValue(%q) = %q, want %q", in, got, want)
		}
	}
}
