package cookie

import (
	"crypto/sha512"
	"reflect"
	"strings"
	"testing"
	"time"
)

// fuzzKey derives a fixed test key, so that the cookie values in the seed
// corpus (made with these keys) stay valid.
func fuzzKey(label string, n int) []byte {
	sum := sha512.Sum512([]byte("consentgate cookie fuzz key\n" + label))
	return sum[:n]
}

var (
	fuzzOldKey = KeyPair{Hash: fuzzKey("hash 0", 64), Block: fuzzKey("block 0", 32)}
	fuzzNewKey = KeyPair{Hash: fuzzKey("hash 1", 32), Block: fuzzKey("block 1", 32)}
	// fuzzMaxAge keeps the corpus's cookies from expiring.
	fuzzMaxAge = 100 * 365 * 24 * time.Hour
)

// fuzzCookies are values the codec produced (with the keys above, for the
// cookie name "cg"), and what they hold. They are the only values that may
// decode: every other input, and every mutation of these that changes
// their bytes' meaning, must fail.
var fuzzCookies = []struct {
	value   string
	consent Consent
}{
	{ // new key, everything set
		"MTc5NTM1NTQ0NXxudlo0VFJKQVp6Ml8zb2l5Wmt2OGp0SERQaXg2STF4SEtjSU84cU1PQ2E3b0NnZ1FucXU1RlhIZElMTUttSG1FbHBZLUs3QUhsdXptUmlla0l5TGNXT2FHMVpCU0Z2OERZNm41ZHZRSzFwUEx2V3p4RUo2QWpIOEFqaFJjdXptVThha2xYRVlsemhidVJYZ2dBQVRPZE9RaFJjQy1UZVgwOXB1Yzk0RWIySWRPNkF6Ni15UnBWVngtb1k4bUhYMVBuMWdicWZSSmhrSTFzV2dITGtYSXYwMW90WjNvVEJUamNJckczOTQ9fFawbxLd6c0dskRNHO9a7Vwy8FR7AC72k4fD7YMXxe9g",
		Consent{ID: "b9cZr5p0mfl1aH0Q_M0UeQ", Version: "3f2a9c", Purposes: []string{"analytics", "marketing"},
			Vendors: []string{"youtube"}, Time: 1767225600, UnderSignal: true, Event: "019b7a2c-8c00-7000-8000-000000000001"},
	},
	{ // new key, a refusal
		"MTc5NTM1NTQ0NXxYZkw2SFB3bnN1QS1Cd3pKWThnUmNlLWZBYVRxTlF6UFk0WHNEZUxjYzRpa3VLTEVQVzl2U1E9PXyciBzTbsh06xl7MR5XPS8nszoNUjrfXuIa9tvkluc6cg==",
		Consent{ID: "x", Version: "v", Time: 1},
	},
	{ // old key (rotation): still decodes
		"MTc5NTM1NTQ0NXxkd0xzV2d1eFpjaGlWeDZCdk01OFhsdFBzZVlrMDdkTGpQN0hBNDBOSFZvVGFobmJmYllWUXNSU1hkSEpzUlYtdkM4QVhGZ2E5RUVYQTl3U01MZTNLa2owdTV3VkxLUmV6R3d5cXVVUVQ1SzlLcE09fIFYhOVEm33To1SO6o6qcbsOApQ2-BeGFUsfzZfSQkFa",
		Consent{ID: "old-key-consent", Version: "v0", Purposes: []string{"functional"}, Time: 1700000000},
	},
	{ // texts that need escaping survive
		"MTc5NTM1NTQ0NXxSaDJPVFJnbEFaWFRnSEM1RkpIM0RBRVFEaVBUTGtTNHNBZlZkWk96S095UnBaM3FDcmRNMWZ6ZkVGSlVlalRWLWhjSTFJYkZGMEd1OXdGS1dfUkh4UGJaWXhwcmkyVXkxdjZkWnRkOGV6VkY5b2xsUmEzLW9pTmQtYmVJZEJXcXhhS1B1R2kwRHgxREM0TUxEOVFBajVwZmM5WT187_wRmq48Q4hyWea5A_aUkVOG-HbrT0JDcGdS_Je6YWM=",
		Consent{ID: "</script>\u2028\"'", Version: "ä|v", Purposes: []string{"a|b", ""}, Vendors: []string{"-->"}, Time: -5, Event: "\x00"},
	},
}

// fuzzForeign is a value made with the current key for another cookie
// name (which the MAC covers); it must never decode.
const fuzzForeign = "MTc5NTM1NTQ0NXxYMDE0NHJDRkg0RW9wTVNPUTBNZmFZUkliMjJQZGh2UkxLWk13bTFieHJ2bGN0SllDenBIb0E9PXyOXOHlfuIgsCmGdlM01BnZG0Q65b6ELtdJ6TlaQi5RhQ=="

func fuzzCodec(tb testing.TB, keys ...KeyPair) *Codec {
	tb.Helper()
	c, err := NewCodec("cg", keys, fuzzMaxAge)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// FuzzDecode checks the consent cookie against forgery and corruption:
//
//   - any value decodes only to a consent the codec produced (raw);
//   - a produced value with one byte flipped, inserted or deleted, or cut
//     short (chosen by pick, pos and b), fails to decode or decodes to the
//     identical consent (base64 tolerates line breaks and padding bits);
//   - a consent built from the fuzzed fields round-trips through Encode and
//     Decode unchanged, and only the current key encodes.
func FuzzDecode(f *testing.F) {
	codec := fuzzCodec(f, fuzzNewKey, fuzzOldKey)
	oldOnly := fuzzCodec(f, fuzzOldKey)
	for i, fc := range fuzzCookies {
		got, err := codec.Decode(fc.value)
		if err != nil || !reflect.DeepEqual(got, fc.consent) {
			f.Fatalf("seed cookie %d: decodes to %+v, %v; want %+v", i, got, err, fc.consent)
		}
	}
	if _, err := codec.Decode(fuzzForeign); err == nil {
		f.Fatal("the foreign cookie decodes")
	}
	f.Add("", uint8(0), uint16(0), byte(0), "id", "v1", "analytics;youtube", "", int64(1767225600), false)
	f.Add(fuzzCookies[0].value, uint8(0x10), uint16(40), byte('\n'), "", "", "", "", int64(0), false)
	f.Add(fuzzForeign, uint8(0x01), uint16(200), byte(1), "ÿ\xff", "v", "a,b;", "e", int64(-1), true)
	f.Add("a|b|c", uint8(0x32), uint16(9), byte(0), strings.Repeat("x", 3000), "v", "", "", int64(7), false)

	f.Fuzz(func(t *testing.T, raw string, pick uint8, pos uint16, b byte,
		id, version, lists, event string, unix int64, signal bool) {
		// Arbitrary input.
		if got, err := codec.Decode(raw); err == nil && !isProduced(got) {
			t.Fatalf("%q decoded to %+v, which the codec never produced", raw, got)
		}

		// A mutation of a produced value.
		fc := fuzzCookies[int(pick&0x0f)%len(fuzzCookies)]
		mutated, how := mutate(fc.value, pick>>4, int(pos), b)
		if got, err := codec.Decode(mutated); err == nil && !reflect.DeepEqual(got, fc.consent) {
			t.Fatalf("%s %q decoded to %+v, want an error or %+v", how, mutated, got, fc.consent)
		}

		// Round trip of fuzzed fields. Values that are not UTF-8 are out
		// of scope: JSON replaces their bytes, and the gateway only puts
		// UTF-8 in (generated ids, policy versions and ids, UUIDs).
		c := Consent{
			ID:          utf8Only(id),
			Version:     utf8Only(version),
			Time:        unix,
			UnderSignal: signal,
			Event:       utf8Only(event),
		}
		purposes, vendors, _ := strings.Cut(utf8Only(lists), ";")
		c.Purposes, c.Vendors = splitList(purposes), splitList(vendors)
		value, err := codec.Encode(c)
		if err != nil {
			if !strings.Contains(err.Error(), "too long") {
				t.Fatalf("Encode(%+v): %v", c, err)
			}
			return // securecookie's 4096-byte limit
		}
		got, err := codec.Decode(value)
		if c.ID == "" || c.Time == 0 {
			if err == nil {
				t.Fatalf("a consent without id or time decoded: %+v", got)
			}
			return
		}
		if err != nil || !reflect.DeepEqual(got, c) {
			t.Fatalf("round trip of %+v gave %+v, %v", c, got, err)
		}
		if _, err := oldOnly.Decode(value); err == nil {
			t.Fatal("a codec holding only the old key decoded a cookie the new key made")
		}
	})
}

func isProduced(c Consent) bool {
	for _, fc := range fuzzCookies {
		if reflect.DeepEqual(c, fc.consent) {
			return true
		}
	}
	return false
}

// mutate changes value at pos: op 0 xors a byte with b, 1 inserts b, 2
// deletes a byte, 3 cuts the value short.
func mutate(value string, op uint8, pos int, b byte) (string, string) {
	v := []byte(value)
	i := pos % (len(v) + 1)
	switch op % 4 {
	case 0:
		if i < len(v) {
			v[i] ^= b
		}
		return string(v), "flipping a byte of"
	case 1:
		return string(v[:i]) + string([]byte{b}) + string(v[i:]), "inserting a byte into"
	case 2:
		if i < len(v) {
			v = append(v[:i], v[i+1:]...)
		}
		return string(v), "deleting a byte of"
	}
	return string(v[:i]), "truncating"
}

func utf8Only(s string) string { return strings.ToValidUTF8(s, "") }

// splitList splits a comma-separated list; an empty string is no list
// (omitempty drops an empty one).
func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}
