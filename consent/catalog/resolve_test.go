package catalog

import (
	"net/url"
	"testing"
)

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
		if got := string(Resolve([]byte(c.base), []byte(c.ref))); got != c.want {
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
			if got := string(Resolve([]byte(b), []byte(r))); got != want.String() {
				t.Errorf("Resolve(%q, %q) = %q, net/url says %q", b, r, got, want.String())
			}
		}
	}
}
