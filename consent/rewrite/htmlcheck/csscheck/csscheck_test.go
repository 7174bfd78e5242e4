package csscheck

import (
	"fmt"
	"slices"
	"testing"
)

func TestLoads(t *testing.T) {
	tests := []struct {
		css  string
		want []string // "@" in front of an import's URL
	}{
		{`a{background:url(x.png)}b{background:URL( "y.png" )}`, []string{"x.png", "y.png"}},
		{`a{background:url()}b{background:url("")}`, nil},
		// A "/*" in a string or a url token opens no comment.
		{`a{content:"/*"}b{background:url(t)}`, []string{"t"}},
		{`a{content:'/*'}b{background:url(t)} /* */`, []string{"t"}},
		{`a{background:url(//h/a/*b.png)}b{background:url(t)} /* */`, []string{"//h/a/*b.png", "t"}},
		{`a{content:"a\"/*"}b{background:url(t)}`, []string{"t"}},
		{`a{content:"/*` + "\n" + `}b{background:url(t)}`, []string{"t"}},
		{`a{content:"\41` + "\n" + `/*"}b{background:url(t)}`, []string{"t"}},   // the newline ends the escape, not the string
		{`a{content:"\41` + "\r\n" + `/*"}b{background:url(t)}`, []string{"t"}}, // "\r\n" is one newline
		{`a{content:"x\` + "\n" + `/*"}b{background:url(t)}`, []string{"t"}},    // an escaped newline continues the string
		{`a\"b{content:"/*"}c{background:url(t)}`, []string{"t"}},               // an escaped quote opens no string
		// A quote or a url( in a comment opens nothing.
		{`/* don't */ a{background:url(t)}`, []string{"t"}},
		{`/* url(t) */ a{color:red}`, nil},
		{`a{b:url(x y)}c{b:url(x"y)}d{b:url(x(y)}`, nil}, // bad url tokens load nothing
		{`a{b:url(x"/*)}c{b:url(t)} /* */`, []string{"t"}},
		{`a{b:url(\)x)}`, []string{")x"}},
		{`a{b:url("x` + "\n" + `")}`, nil},
		{`a{b:u\72l(x)}c{b:\75 RL(y)}`, []string{"x", "y"}},
		{`a{b:xurl(x)}c{b:#url(x)}d{b:2url(x)}e{b:.url(y)}`, []string{"y"}},
		{`a{b:xurl(x"/*")}c{b:url(t)} /* */`, []string{"t"}}, // no url token: the quote opens a string
		{`a{b:image-set("x" 1x, url(y) 2x, "z" type("image/png"))}`, []string{"x", "y", "z"}},
		{`a{b:-webkit-image-set('x' 1x)}`, []string{"x"}},
		{`a{b:image-set(-x "x")}c{b:image-set(1x "y")}`, nil}, // a string that begins no option is no image
		// @import, however it is written; a url() in another at-rule's prelude loads nothing.
		{`@import "a";@import url(b);@import url( "c" ) screen;@IMPORT 'd';@\69mport "e";@import/**/"f";`, []string{"@a", "@b", "@c", "@d", "@e", "@f"}},
		{`@consentgate-import url(a);@media url(b) {a{background:url(c)}}@namespace url(d);`, []string{"c"}},
		{`@import "a` + "\n" + `;b{background:url(t)}`, []string{"t"}},
		{`/* @import "a"; */ @importx "b";`, nil},
	}
	for _, tt := range tests {
		var got []string
		for _, l := range Loads(tt.css) {
			got = append(got, map[bool]string{true: "@"}[l.Import]+l.URL)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("Loads(%q) = %q, want %q", tt.css, got, tt.want)
		}
	}
}

func TestLoadOffsets(t *testing.T) {
	css := `@import "a"; b{background:url(c)}`
	got := fmt.Sprint(Loads(css))
	if want := `[{true a 8} {false c 26}]`; got != want {
		t.Errorf("Loads(%q) = %s, want %s", css, got, want)
	}
}
