package cookie

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestRoundTripAndRotation(t *testing.T) {
	old := GenerateKeyPair()
	c1, err := NewCodec("cg", []KeyPair{old}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	in := Consent{ID: NewID(), Version: "v1", Purposes: []string{"analytics"}, Time: time.Now().Unix()}
	val, err := c1.Encode(in)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c1.Decode(val)
	if err != nil || got.ID != in.ID || got.Purposes[0] != "analytics" {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	// A rotated codec (new key first, old key kept) still reads the old cookie
	// and writes with the new key, which the old codec cannot read.
	c2, err := NewCodec("cg", []KeyPair{GenerateKeyPair(), old}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c2.Decode(val); err != nil {
		t.Fatalf("rotated codec rejects old cookie: %v", err)
	}
	val2, _ := c2.Encode(in)
	if _, err := c1.Decode(val2); err == nil {
		t.Fatal("old codec decoded a cookie made with the new key")
	}
	// After the old key is dropped, the old cookie no longer decodes.
	c3, _ := NewCodec("cg", []KeyPair{GenerateKeyPair()}, time.Hour)
	if _, err := c3.Decode(val); err == nil {
		t.Fatal("codec without the old key decoded the old cookie")
	}
}

func TestRejectsTamperingAndGarbage(t *testing.T) {
	c, _ := NewCodec("cg", []KeyPair{GenerateKeyPair()}, time.Hour)
	val, _ := c.Encode(Consent{ID: "x", Version: "v", Time: 1})
	flipped := []byte(val)
	flipped[len(flipped)/2] ^= 1
	for _, bad := range []string{"", "garbage", string(flipped), val[:len(val)-3], strings.Repeat("A", 5000), "%%%", "a|b|c"} {
		if _, err := c.Decode(bad); err == nil {
			t.Errorf("decoded %q", bad)
		}
	}
	// A cookie signed for another name does not decode under this one.
	other, _ := NewCodec("other", []KeyPair{GenerateKeyPair()}, time.Hour)
	ov, _ := other.Encode(Consent{ID: "x", Version: "v", Time: 1})
	if _, err := c.Decode(ov); err == nil {
		t.Error("decoded a foreign cookie")
	}
}

func TestBadKeys(t *testing.T) {
	if _, err := NewCodec("cg", nil, time.Hour); err == nil {
		t.Error("no keys accepted")
	}
	if _, err := NewCodec("cg", []KeyPair{{Hash: make([]byte, 10), Block: make([]byte, 32)}}, time.Hour); err == nil || !strings.Contains(err.Error(), "hash key") {
		t.Errorf("short hash key: %v", err)
	}
	if _, err := NewCodec("cg", []KeyPair{{Hash: make([]byte, 32), Block: make([]byte, 7)}}, time.Hour); err == nil || !strings.Contains(err.Error(), "block key") {
		t.Errorf("short block key: %v", err)
	}
	for _, s := range []string{"", "!!!not-a-key"} {
		if _, err := ParseKey(s); err == nil {
			t.Errorf("ParseKey(%q) succeeded", s)
		}
	}
	k := GenerateKeyPair()
	for _, enc := range []string{
		strings.TrimRight(b64(k.Block), "="), b64(k.Block), hexs(k.Block),
	} {
		b, err := ParseKey(enc)
		if err != nil || string(b) != string(k.Block) {
			t.Errorf("ParseKey(%q) = %x, %v", enc, b, err)
		}
	}
}

// TestKeyOfHexDigitsIsNeverGuessed: a key of hex digits only is valid
// base64 too. Read as hex only when that gives 32 or 64 bytes (as it
// always was); otherwise refused, naming both readings, until a "hex:" or
// "base64:" prefix says which. Prefixed keys read as they say.
func TestKeyOfHexDigitsIsNeverGuessed(t *testing.T) {
	key48 := randomBytes(48)
	h96 := hexs(key48) // openssl rand -hex 48
	asBase64, _ := base64.RawStdEncoding.DecodeString(h96)
	_, err := ParseKey(h96)
	var amb *AmbiguousKeyError
	if !errors.As(err, &amb) || !bytes.Equal(amb.Hex, key48) || !bytes.Equal(amb.Base64, asBase64) ||
		!strings.Contains(err.Error(), "as hex, 48 bytes; as base64, 72 bytes") || !strings.Contains(err.Error(), `write "hex:" or "base64:"`) {
		t.Errorf("ParseKey(96 hex digits): %v, want both readings named and a prefix asked for", err)
	}
	if _, err := ParseKey(h96[1:]); !errors.As(err, &amb) || amb.Hex != nil || !strings.Contains(err.Error(), "odd number") {
		t.Errorf("ParseKey(95 hex digits): %v, want refused as a hex key with a digit missing", err)
	}
	for _, tc := range []struct {
		in   string
		want []byte
	}{
		{"hex:" + h96, key48},
		{"HEX: " + strings.ToUpper(h96) + "\n", key48},
		{"base64:" + h96, asBase64},
		{"base64:" + b64(key48), key48},
		{"base64:" + base64.RawURLEncoding.EncodeToString(key48), key48},
		{hexs(key48[:32]), key48[:32]}, // as before: hex of 32 or 64 bytes
		{b64(key48), key48},            // and base64 that is not all hex digits
	} {
		if got, err := ParseKey(tc.in); err != nil || !bytes.Equal(got, tc.want) {
			t.Errorf("ParseKey(%q) = %x, %v; want %x", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{"hex:" + b64(key48), "hex:", "base64:!!!!", "base64:"} {
		if _, err := ParseKey(in); err == nil {
			t.Errorf("ParseKey(%q) succeeded", in)
		}
	}
}

// Ids go on auditors' command lines: none may look like a flag.
func TestNewIDNeverLooksLikeAFlag(t *testing.T) {
	seen := map[string]bool{}
	for range 5000 {
		id := NewID()
		if id[0] == '-' || id[0] == '_' || len(id) != 22 || seen[id] {
			t.Fatalf("id %q (repeated: %v)", id, seen[id])
		}
		seen[id] = true
	}
}

// A cookie that recorded an expiry holds no choice: marked Expired, or,
// when written before that field existed, without a policy version.
func TestHoldsChoice(t *testing.T) {
	c, _ := NewCodec("cg", []KeyPair{GenerateKeyPair()}, time.Hour)
	for _, tc := range []struct {
		in   Consent
		want bool
	}{
		{Consent{ID: "a", Version: "v1", Time: 1}, true},
		{Consent{ID: "a", Time: 1, Event: "e", Expired: true}, false},
		{Consent{ID: "a", Time: 1, Event: "e"}, false}, // an older marker
	} {
		val, err := c.Encode(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.Decode(val)
		if err != nil || got.Expired != tc.in.Expired || got.HoldsChoice() != tc.want {
			t.Errorf("%+v decoded to %+v (%v), holds a choice: %v, want %v", tc.in, got, err, got.HoldsChoice(), tc.want)
		}
	}
}
