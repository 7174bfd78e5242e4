package rewrite

import "testing"

// TestFuncBefore: a '(' opens url() or image-set() however the name is
// spelt, and nothing when the '(' itself is escaped.
func TestFuncBefore(t *testing.T) {
	tests := []struct {
		before string
		want   cssFunc
	}{
		{"background:url", cssURL},
		{"background:URL", cssURL},
		{`background:u\72l`, cssURL},
		{`background:\75 RL`, cssURL},
		{`x:\000075\000072\00006c`, cssURL},
		{`x:\u\r\l`, cssURL},
		{"b:image-set", cssImageSet},
		{"b:-webkit-image-set", cssImageSet},
		{`b:image\2d set`, cssImageSet},
		{`content:url\`, cssOther}, // then the '(' is escaped
		{`x:u\72 l`, cssURL},       // the space ends the escape
		{`x:u\72  l`, cssOther},    // the second one ends the name
		{"calc", cssOther},
		{"rgba", cssOther},
		{"", cssOther},
	}
	for _, tt := range tests {
		if got := funcBefore([]byte(tt.before)); got != tt.want {
			t.Errorf("funcBefore(%q) = %d, want %d", tt.before, got, tt.want)
		}
	}
}

func TestCSSText(t *testing.T) {
	tests := map[string]string{
		`https://a.example/x.png`:      `https://a.example/x.png`,
		`https:\2f\2f a.example/x.png`: `https://a.example/x.png`,
		`https\:\/\/a.example/x.png`:   `https://a.example/x.png`,
		"a\\\nb":                       "ab", // an escaped newline is dropped
		"a\\\r\nb":                     "ab",
		`\0 x`:                         "\uFFFDx",
		`\110000`:                      "\uFFFD",
		`\1F600`:                       "\U0001F600",
	}
	for in, want := range tests {
		if got := string(cssText([]byte(in))); got != want {
			t.Errorf("cssText(%q) = %q, want %q", in, got, want)
		}
	}
}
