package rewrite

import (
	"bytes"
	"fmt"
	"testing"
)

// A caller that keeps a page's rewritten form and puts other markup in the
// injected pieces' places (the gateway's page cache) relies on InjectedAt:
// each piece is where it says, and the rest of the output does not depend
// on the pieces.
func TestInjectedAt(t *testing.T) {
	inputs := map[string]string{
		"head and body": `<html><head><title>t</title><script src="https://tracker.example/t.js"></script></head><body><p>x</p></body></html>`,
		"body only":     `<body><iframe src="https://tracker.example/f"></iframe><p>x`,
		"no tags":       `just text`,
		"other base":    `<head><base href="https://elsewhere.example/"></head><body>x</body>`,
		"empty":         ``,
	}
	for _, pg := range corpus(t) {
		inputs[pg.name] = string(pg.src)
	}
	markup := [][numInjections]string{
		{"<e1>", "<hook1>", "<form1>", "<form1 absolute>"},
		{"<early-two-is-longer>", "<h2 nonce=\"abcdef\">", "<f2 action=\"/return?x\">", "<f2 action=\"https://shop.example/return?x\">"},
		{"", "<h3>", "", ""},
	}
	for name, in := range inputs {
		var strippedFirst []byte
		for mi, m := range markup {
			for _, step := range []int{len(in) + 1, 7, 1} {
				out, at := rewriteInSteps(t, []byte(in), step, Options{Judge: newTestJudge(), Early: []byte(m[0]), Hook: []byte(m[1]), Body: []byte(m[2]), BodyAfterBase: []byte(m[3])})
				stripped, err := stripInjected(out, at, m)
				if err != nil {
					t.Fatalf("%s, markup %d, writes of %d: %v", name, mi, step, err)
				}
				if strippedFirst == nil {
					strippedFirst = stripped
				} else if !bytes.Equal(stripped, strippedFirst) {
					t.Fatalf("%s, markup %d, writes of %d: output without the injected pieces differs from the first's", name, mi, step)
				}
			}
		}
	}
}

func rewriteInSteps(t *testing.T, in []byte, step int, opt Options) ([]byte, [numInjections]int64) {
	t.Helper()
	var out bytes.Buffer
	r := New(&out, opt)
	for off := 0; off < len(in); off += step {
		if _, err := r.Write(in[off:min(off+step, len(in))]); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if r.emitted != int64(out.Len()) {
		t.Fatalf("the rewriter counted %d bytes of output, wrote %d", r.emitted, out.Len())
	}
	var at [numInjections]int64
	for i := range at {
		at[i] = r.InjectedAt(Injection(i))
	}
	return out.Bytes(), at
}

// stripInjected checks that each non-empty piece is where at says, in order,
// and returns the output without them.
func stripInjected(out []byte, at [numInjections]int64, pieces [numInjections]string) ([]byte, error) {
	var stripped []byte
	prev := int64(0)
	for i, p := range pieces {
		if p == "" {
			if at[i] != -1 {
				return nil, fmt.Errorf("empty piece %d reported at %d", i, at[i])
			}
			continue
		}
		if at[i] < 0 {
			if i == int(InjectedBody) || i == int(InjectedBodyAfterBase) {
				continue // one of the two goes in (checked below)
			}
			return nil, fmt.Errorf("piece %d not injected", i)
		}
		if at[i] < prev || !bytes.HasPrefix(out[at[i]:], []byte(p)) {
			return nil, fmt.Errorf("piece %d (%q) not at %d", i, p, at[i])
		}
		stripped = append(stripped, out[prev:at[i]]...)
		prev = at[i] + int64(len(p))
	}
	if pieces[InjectedBody] != "" && (at[InjectedBody] < 0) == (at[InjectedBodyAfterBase] < 0) {
		return nil, fmt.Errorf("Body at %d and BodyAfterBase at %d: exactly one goes in", at[InjectedBody], at[InjectedBodyAfterBase])
	}
	return append(stripped, out[prev:]...), nil
}
