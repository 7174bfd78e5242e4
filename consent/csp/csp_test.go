package csp

import "testing"

var needs = Needs{Nonce: "gAtE", Origin: "https://shop.example", Prefix: "/.consent/", StyleHash: "'sha256-STYLE'"}

func TestAdapt(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"the page's nonce is reused, nothing else changes",
			"script-src 'nonce-gAtE' 'strict-dynamic'; object-src 'none'; base-uri 'none'",
			"script-src 'nonce-gAtE' 'strict-dynamic'; object-src 'none'; base-uri 'none'"},
		{"unsafe-inline stays in force: no nonce, files allowed by 'self'",
			"script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'",
			"script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'"},
		{"unsafe-inline without 'self': only the consent prefix is added",
			"script-src https://cdn.example 'unsafe-inline'",
			"script-src https://cdn.example 'unsafe-inline' https://shop.example/.consent/"},
		{"hashes only: our nonce, and the placeholder's style hash",
			"script-src 'sha256-abc'; style-src 'self'",
			"script-src 'sha256-abc' 'nonce-gAtE'; style-src 'self' 'nonce-gAtE' 'sha256-STYLE'"},
		{"default-src is copied, not widened: images and frames keep it",
			"default-src 'self'",
			"default-src 'self'; script-src 'self' 'nonce-gAtE'; style-src 'self' 'nonce-gAtE' 'sha256-STYLE'"},
		{"'none' gives way to exactly what the banner needs",
			"default-src 'none'; img-src 'self'",
			"default-src 'none'; img-src 'self'; script-src 'nonce-gAtE'; style-src 'nonce-gAtE' 'sha256-STYLE'; connect-src https://shop.example/.consent/"},
		{"connect-src without our origin gains the prefix only",
			"connect-src https://api.example",
			"connect-src https://api.example https://shop.example/.consent/"},
		{"no fetch directive: untouched",
			"frame-ancestors 'none'; upgrade-insecure-requests",
			"frame-ancestors 'none'; upgrade-insecure-requests"},
		{"each of several policies is adapted on its own",
			"script-src 'self', img-src 'self'",
			"script-src 'self' 'nonce-gAtE', img-src 'self'"},
		{"script-src-elem governs elements",
			"script-src 'self' 'unsafe-inline'; script-src-elem 'self'",
			"script-src 'self' 'unsafe-inline'; script-src-elem 'self' 'nonce-gAtE'"},
	}
	for _, tt := range tests {
		if got := Adapt(tt.in, needs); got != tt.want {
			t.Errorf("%s:\n in   %s\n got  %s\n want %s", tt.name, tt.in, got, tt.want)
		}
	}
}

func TestPageNonce(t *testing.T) {
	for in, want := range map[string]string{
		"script-src 'nonce-r4nd0m+/=' 'strict-dynamic'": "r4nd0m+/=",
		"default-src 'self' 'nonce-abc'":                "abc",
		"style-src 'nonce-css'; script-src 'self'":      "",
		"img-src *, script-src 'nonce-second'":          "second",
		"script-src 'self'":                             "",
		"":                                              "",
		"script-src 'nonce-unterminated":                "",
	} {
		if got := PageNonce(in); got != want {
			t.Errorf("PageNonce(%q) = %q, want %q", in, got, want)
		}
	}
}
