package rewrite

import (
	"fmt"
	"slices"
	"testing"
)

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
		`a\`:                           "a\uFFFD", // a backslash at the end (of a url token)
	}
	for in, want := range tests {
		if got := string(cssText([]byte(in))); got != want {
			t.Errorf("cssText(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestURLName: a '(' makes a url( only after an identifier token whose
// value is url, however spelt; a name merely ending in url, or one that is
// part of a hash, an at-keyword, a number or a longer identifier, does not.
func TestURLName(t *testing.T) {
	tests := map[string]bool{
		"url": true, "b:URL": true, "a url": true, ".url": true, "%url": true,
		`\75 rl`: true, `b:u\72l`: true, `\u\r\l`: true, `\41  url`: true, "\\\nurl": true,
		"xurl": false, "-url": false, "#url": false, "@url": false, "2url": false,
		`\41 url`: false, `\.url`: false, `\\url`: false, `\ url`: false, "\x00url": false,
		"ur": false, "": false,
	}
	for before, want := range tests {
		if got := urlName([]byte(before)); got != want {
			t.Errorf("urlName(%q) = %v, want %v", before, got, want)
		}
	}
}

func TestCSSString(t *testing.T) {
	tests := map[string]int{ // the string opens at 0; -1: it does not end
		`"abc"x`:           4,
		`'a"b'`:            4,
		`"a\"b"`:           5,
		`"a\\"b"`:          4,
		"\"a\nb\"":         2, // a newline ends it (a bad string)
		"\"a\\\nb\"":       5, // an escaped newline continues it
		"\"a\\\r\nb\"":     6,
		"\"\\41\nb\"":      6, // one white space ends a hex escape, even a newline
		"\"\\41\r\nb\"":    7,
		"\"\\41 \nb\"":     5,
		`"abc`:             -1,
		`"ab\`:             -1,
		`"\"`:              -1,
		"\"\\0000041\nb\"": 9, // six hex digits at most: the seventh is text
	}
	// Cut off, a string's text leaves out a backslash at the very end.
	if text, _ := cssString([]byte(`"a\\\`), 1, '"'); string(text) != `a\\` {
		t.Errorf("cssString(%q) = %q, want %q", `"a\\\`, text, `a\\`)
	}
	for s, want := range tests {
		if _, got := cssString([]byte(s), 1, s[0]); got != want {
			t.Errorf("cssString(%q) ends at %d, want %d", s, got, want)
		}
	}
}

// TestCSSLexerInPieces: the lexer reads text cut anywhere (a write at a
// time, in a long style's tail) as it reads it whole.
func TestCSSLexerInPieces(t *testing.T) {
	texts := []string{
		`a{b:"x\"y/*"}/* c "d" */e{f:url(g/*h)}`,
		"\"\\41\r\n/*\"/**/x",
		"\"a\\\r\nb\"/**/'c\\\n'/*x*/",
		`\"/* comment */"s"\\"str/*"`,
		`u\72l(/*x)/**/url( "a)" )/**/url(a\)b/*)/**/`,
		`'it''s'/*x**/image-set("a" 1x,url(b"c)/**/)`,
		"x/\\*y*/z/\\/*c*/",
	}
	const all = evClose | evString | evStringEnd | evURLEnd | evComment
	// events lexes text in pieces of the given sizes (0: whole) and lists
	// where each event is.
	events := func(text string, size int) []string {
		var lx cssLexer
		var evs []string
		for from := 0; from < len(text); from += size {
			if size == 0 {
				size = len(text)
			}
			piece := []byte(text[:min(from+size, len(text))])
			lx.newPiece()
			for i := from; i < len(piece); {
				k, ev := lx.nextIn(piece, i, all)
				if ev != evEnd {
					evs = append(evs, fmt.Sprintf("%d:%d", k, ev))
				}
				i = k
			}
		}
		return evs
	}
	for _, text := range texts {
		whole := events(text, 0)
		for size := 1; size < len(text); size++ {
			if got := events(text, size); !slices.Equal(got, whole) {
				t.Errorf("%q in pieces of %d: events %v, whole %v", text, size, got, whole)
				break
			}
		}
	}
}
