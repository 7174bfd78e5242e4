package caddymodule

import "testing"

func TestMimeEssence(t *testing.T) {
	tests := []struct {
		lines []string
		want  string
	}{
		{[]string{"text/html; charset=utf-8"}, "text/html"},
		{[]string{" Text/HTML \t;charset=UTF-8"}, "text/html"},
		{[]string{"text/html;"}, "text/html"},
		{[]string{"text/html; charset"}, "text/html"},        // mime.ParseMediaType fails here
		{[]string{`text/html; charset="utf-8`}, "text/html"}, // and here
		{[]string{"text/plain, text/html"}, "text/html"},     // the last valid one counts
		{[]string{"text/html, */*"}, "text/html"},            // */* does not count
		{[]string{"text/html, nonsense"}, "text/html"},       // nor does what does not parse
		{[]string{"text/plain", "application/xhtml+xml"}, "application/xhtml+xml"},
		{[]string{`text/plain; a="x,text/html"`}, "text/plain"}, // no split within quotes
		{[]string{`text/plain; a="x\",text/html"`}, "text/plain"},
		{[]string{"text /html"}, ""},
		{[]string{"text/ html"}, ""},
		{[]string{"/html"}, ""},
		{[]string{"text/"}, ""},
		{[]string{"html"}, ""},
		{[]string{""}, ""},
		{nil, ""},
	}
	for _, tt := range tests {
		if got := mimeEssence(tt.lines); got != tt.want {
			t.Errorf("mimeEssence(%q) = %q, want %q", tt.lines, got, tt.want)
		}
	}
}
