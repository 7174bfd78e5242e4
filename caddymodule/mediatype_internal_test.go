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

func TestCharsetLabelAndByteOrder(t *testing.T) {
	tests := []struct {
		lines []string
		label string
		order byteOrder
	}{
		{[]string{"text/html; charset=UTF-16"}, "utf-16", utf16LE},
		{[]string{`text/html;charset="utf-16be"`}, "utf-16be", utf16BE},
		{[]string{"text/html; q=1; Charset = ucs-2 "}, "ucs-2", utf16LE},
		{[]string{"text/html; charset=utf-16, text/html; charset=utf-8"}, "utf-8", notUTF16}, // the last type counts
		{[]string{"text/html; charset=utf-8"}, "utf-8", notUTF16},
		{[]string{"text/html"}, "", notUTF16},
		{nil, "", notUTF16},
	}
	for _, tt := range tests {
		label := charsetLabel(tt.lines)
		if label != tt.label || labelOrder(label) != tt.order {
			t.Errorf("%q: label %q (order %d), want %q (order %d)", tt.lines, label, labelOrder(label), tt.label, tt.order)
		}
	}
}

func TestPageOrder(t *testing.T) {
	tests := []struct {
		head  string
		label byteOrder
		want  byteOrder
	}{
		{"\xff\xfe<\x00", notUTF16, utf16LE},
		{"\xfe\xff\x00<", utf16LE, utf16BE},  // the BOM beats the label
		{"\xef\xbb\xbf<", utf16LE, notUTF16}, // a UTF-8 BOM too
		{"<\x00!\x00", utf16LE, utf16LE},     // no BOM: the label
		{"<!DOCTYPE", notUTF16, notUTF16},
	}
	for _, tt := range tests {
		if got := pageOrder([]byte(tt.head), tt.label); got != tt.want {
			t.Errorf("%q with label %d: %d, want %d", tt.head, tt.label, got, tt.want)
		}
	}
}

// TestMayBeDocument: what a plain fetch() gets is a whole page (and gets
// the banner) when it begins as one, after a byte order mark, white space
// and comments; a beginning cut short may still become one until the page
// is complete.
func TestMayBeDocument(t *testing.T) {
	for _, c := range []struct {
		head     string
		complete bool
		want     bool
	}{
		{"<!DOCTYPE html><html>", true, true},
		{"\ufeff  \n<html lang=en>", true, true},
		{"<!-- shell -->\n<!-- build 42 -->\n<HEAD><title>x</title>", true, true},
		{"<body>", true, true},
		{"<tr><td>1</td></tr>", true, false},
		{`{"items":[1,2]}`, true, false},
		{"", true, false},
		{"   ", true, false},
		{"<!-- unclosed", true, false},
		{"<!do", false, true},
		{"<!-", false, true},
		{"", false, true},
		{"<!-- unclosed", false, true},
		{"<!do", true, false},
		{"<div>", false, false},
	} {
		if got := mayBeDocument([]byte(c.head), c.complete); got != c.want {
			t.Errorf("mayBeDocument(%q, complete=%v) = %v, want %v", c.head, c.complete, got, c.want)
		}
	}
}
