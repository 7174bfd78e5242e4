package caddymodule

import (
	"reflect"
	"testing"
)

func TestParseLinks(t *testing.T) {
	tests := []struct {
		line string
		want []linkValue
		ok   bool
	}{
		{`<https://a.example/x?f=1,2>; rel=preload; as=font; crossorigin, </b.css>;rel="preload";as=style`, []linkValue{
			{`<https://a.example/x?f=1,2>; rel=preload; as=font; crossorigin`, "https://a.example/x?f=1,2", "preload"},
			{`</b.css>;rel="preload";as=style`, "/b.css", "preload"},
		}, true},
		{`<//c.example>; title="a, b; c"; REL = "preconnect dns-prefetch" ,`, []linkValue{
			{`<//c.example>; title="a, b; c"; REL = "preconnect dns-prefetch"`, "//c.example", "preconnect dns-prefetch"},
		}, true},
		{` < https://d.example/ > ; rel=prefetch`, []linkValue{{`< https://d.example/ > ; rel=prefetch`, "https://d.example/", "prefetch"}}, true},
		{``, nil, true},
		{`https://e.example/; rel=preload`, nil, false},
		{`<https://f.example/; rel=preload`, nil, false},
	}
	for _, tt := range tests {
		got, ok := parseLinks(tt.line)
		if ok != tt.ok || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parseLinks(%q) = %+v, %v\nwant %+v, %v", tt.line, got, ok, tt.want, tt.ok)
		}
	}
}
