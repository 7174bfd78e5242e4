package xmlcheck

import "testing"

func TestWellFormed(t *testing.T) {
	for _, tt := range []struct {
		doc string
		ok  bool
	}{
		{`<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"><image xlink:href="a"/></svg>`, true},
		{`<html xml:lang="en"><p a="1" b="2"/></html>`, true},
		{`<svg><image data-consent-xlink:href="a"/></svg>`, false},
		{`<p a="1" a="2"/>`, false},
		{`<p a="1" b="2" a="3"/>`, false},
		{`<script defer src="a"></script>`, false},
		{`<link rel="stylesheet" href="a">`, false},
		{`<x:p/>`, false},
		{`<p>&nbsp;</p>`, false},
	} {
		if err := WellFormed(tt.doc); (err == nil) != tt.ok {
			t.Errorf("%s: error %v, want well-formed %v", tt.doc, err, tt.ok)
		}
	}
}
