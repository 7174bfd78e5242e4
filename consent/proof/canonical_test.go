package proof

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestCanonicalize(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`{ "b" : 2, "a" : [ 1 , true, false, null ] }`, `{"a":[1,true,false,null],"b":2}`},
		// RFC 8785 section 3.2.3: keys sort by UTF-16 code units, so the
		// emoji (U+D83D...) comes before U+FB33.
		{`{"\u20ac":"Euro","\r":"CR","\ufb33":"Hebrew","1":"One","\ud83d\ude00":"Emoji","\u0080":"Control","\u00f6":"Latin"}`,
			"{\"\\r\":\"CR\",\"1\":\"One\",\"\u0080\":\"Control\",\"ö\":\"Latin\",\"€\":\"Euro\",\"😀\":\"Emoji\",\"\ufb33\":\"Hebrew\"}"},
		{`"\u0000\u001f\b\f\n\r\t\"\\\/\u007f\u2028é"`, "\"\\u0000\\u001f\\b\\f\\n\\r\\t\\\"\\\\/\u007f\u2028é\""},
		{`[-0, 0, 1.0, 1e3, -12, 9007199254740991, 100E-2]`, `[0,0,1,1000,-12,9007199254740991,1]`},
		{`{}`, `{}`},
		{` [ ] `, `[]`},
		{`{"a":{"z":1,"y":{}}}`, `{"a":{"y":{},"z":1}}`},
	} {
		got, err := Canonicalize([]byte(c.in))
		if err != nil {
			t.Errorf("%s: %v", c.in, err)
			continue
		}
		if string(got) != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.in, got, c.want)
		}
	}
}

func TestCanonicalizeRejects(t *testing.T) {
	for _, in := range []string{
		`{"a":1,"a":2}`,            // duplicate key (I-JSON)
		`"\ud800"`,                 // lone surrogate
		`"\udc00\ud800"`,           // reversed pair
		"\"\xff\"",                 // invalid UTF-8
		`1.5`,                      // not an integer
		`9007199254740993`,         // beyond 2^53
		`1e400`,                    // overflow
		`01`,                       // leading zero
		`{"a":1,}`,                 // trailing comma
		`[1] 2`,                    // trailing data
		"\"a\tb\"",                 // raw control character
		`tru`,                      // bad literal
		strings.Repeat("[", 100),   // too deep
		`{"a" 1}`, `{1:2}`, `"\x"`, // malformed
	} {
		if out, err := Canonicalize([]byte(in)); err == nil {
			t.Errorf("%q: accepted as %s", in, out)
		}
	}
}

func TestCompareUTF16(t *testing.T) {
	// U+FFFD is one unit 0xFFFD; U+10000 starts with 0xD800, so sorts first
	// in UTF-16 although it is the larger code point.
	if compareUTF16("\U00010000", "\uFFFD") >= 0 {
		t.Error("supplementary character must sort before U+FFFD")
	}
	if compareUTF16("ab", "abc") >= 0 || compareUTF16("b", "a") <= 0 || compareUTF16("x", "x") != 0 {
		t.Error("plain ordering")
	}
}

// FuzzCanonical checks that canonical output is stable (canonicalising it
// again changes nothing), valid JSON, and means what the input meant.
func FuzzCanonical(f *testing.F) {
	f.Add([]byte(`{"b":[1,{"d":null,"c":"x"}],"a":"\u00e9\n"}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		out, err := Canonicalize(in)
		if err != nil {
			return
		}
		again, err := Canonicalize(out)
		if err != nil || string(again) != string(out) {
			t.Fatalf("not stable: %s -> %s (%v)", out, again, err)
		}
		var a, b any
		if err := json.Unmarshal(in, &a); err != nil {
			t.Fatalf("accepted invalid JSON %q", in)
		}
		if err := json.Unmarshal(out, &b); err != nil {
			t.Fatalf("produced invalid JSON %q", out)
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("meaning changed: %q -> %q", in, out)
		}
	})
}
