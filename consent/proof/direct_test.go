package proof

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// The direct encoder must give exactly the digest of the general path
// (json.Marshal, parse, RFC 8785) for every record it accepts: auditors'
// scripts re-verify with the latter.
func TestFastDigestMatchesGeneralPath(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	pieces := []string{"", "a", "shop.example.com", "/p?q=1", "<script>&", "\"quoted\"", "back\\slash",
		"tab\tnew\nline\r", "\x00\x1f", "ünïcödé", "😀", "\u2028\u2029", "\x7f", "  "}
	str := func() string {
		s := ""
		for range rng.IntN(3) {
			s += pieces[rng.IntN(len(pieces))]
		}
		return s
	}
	ints := []int64{0, 1, -1, 1795356408123, maxExactInt - 1, 42}
	boolMap := func() map[string]bool {
		if rng.IntN(3) == 0 {
			return nil
		}
		m := map[string]bool{}
		for _, k := range []string{"necessary", "analytics", "marketing", "z", "A", "_x", "functional"}[:rng.IntN(7)] {
			m[k] = rng.IntN(2) == 0
		}
		return m
	}
	checked := 0
	for i := range 20000 {
		r := Record{
			Schema: rng.IntN(3), EventID: str(), Type: []EventType{Given, Refused, Updated, Withdrawn, PlaceholderAccept}[rng.IntN(5)],
			Supersedes: str(), ConsentID: str(), Time: ints[rng.IntN(len(ints))], ExpiresAt: ints[rng.IntN(len(ints))],
			Site: str(), Path: str(), Software: str(), IP: str(), UA: str(), ErasedAt: ints[rng.IntN(len(ints))],
			Chain: str(), Seq: uint64(rng.IntN(1000)), Prev: str(), KeyID: str(),
			Purposes: boolMap(), Vendors: boolMap(),
		}
		if rng.IntN(2) == 0 {
			r.Policy = Policy{str(), str()}
		}
		if rng.IntN(2) == 0 {
			r.Texts = Texts{str(), str()}
		}
		if rng.IntN(2) == 0 {
			r.How = How{str(), str(), str()}
		}
		if rng.IntN(2) == 0 {
			r.Signals = Signals{rng.IntN(2) == 0, rng.IntN(2) == 0, str()}
		}
		for range rng.IntN(3) {
			r.Type = Erasure
			r.Erased = append(r.Erased, Ref{str(), uint64(rng.IntN(1000)), str()})
		}
		checkStoredJSON(t, r)
		fast, ok := r.fastDigest()
		if !ok {
			continue
		}
		slow, err := r.slowDigest()
		if err != nil {
			t.Fatal(err)
		}
		if fast != slow {
			t.Fatalf("record %d: direct digest %x, general path %x\n%+v", i, fast, slow, r)
		}
		checked++
	}
	if checked < 15000 {
		t.Errorf("only %d of 20000 records took the direct path", checked)
	}
}

// checkStoredJSON: the stored form is json.Marshal's, byte for byte, with
// and without the seal's fields, so stores and exports keep their format.
func checkStoredJSON(t testing.TB, r Record) {
	t.Helper()
	for _, seal := range []struct{ hash, hmac string }{{"", ""}, {"9f" + r.Site, "<&>" + r.Path}} {
		r.Hash, r.HMAC = seal.hash, seal.hmac
		want, err := json.Marshal(&r)
		if err != nil {
			t.Fatal(err)
		}
		got, err := r.AppendJSON([]byte("prefix"))
		if err != nil || string(got) != "prefix"+string(want) {
			t.Fatalf("AppendJSON:\n got %s (%v)\nwant prefix%s", got, err, want)
		}
	}
}

// Records the direct encoder does not cover take the general path.
func TestFastDigestDeclines(t *testing.T) {
	for name, r := range map[string]Record{
		"tombstone":         {Type: Erased, ErasedAt: 1},
		"invalid UTF-8":     {Type: Given, Site: "\xff"},
		"non-ASCII map key": {Type: Given, Purposes: map[string]bool{"ä": true}},
		"huge integer":      {Type: Given, Time: maxExactInt + 1},
		"huge erased seq":   {Type: Erasure, Erased: []Ref{{Chain: "c", Seq: maxExactInt, EventID: "e"}}},
	} {
		if _, ok := r.fastDigest(); ok {
			t.Errorf("%s took the direct path", name)
		}
		checkStoredJSON(t, r)
		if _, err := r.digest(); err != nil && !strings.HasPrefix(name, "huge") { // the format allows no such number
			t.Errorf("%s: %v", name, err)
		}
	}
}

func FuzzFastDigest(f *testing.F) {
	f.Add("shop.example.com", "/p", "analytics", int64(1795356408123), uint64(7))
	f.Add("\u2028<&>", "\x01", "z", int64(-5), uint64(0))
	f.Fuzz(func(t *testing.T, site, path, key string, tm int64, seq uint64) {
		r := Record{Type: Given, EventID: "e", Site: site, Path: path, Time: tm, Seq: seq, Chain: "c",
			Purposes: map[string]bool{key: true}, How: How{Layer: path}}
		checkStoredJSON(t, r)
		fast, ok := r.fastDigest()
		if !ok {
			return
		}
		if slow, err := r.slowDigest(); err != nil || fast != slow {
			t.Fatalf("direct %x, general %x (%v)", fast, slow, err)
		}
	})
}

func BenchmarkDigest(b *testing.B) {
	r := sampleRecord(1)
	r.Chain, r.Seq, r.Prev, r.KeyID, r.EventID, r.Time = "gw-1", 12345, "ab12", "m0123", "0190aa", 1795356408123
	b.Run("direct", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			r.fastDigest()
		}
	})
	b.Run("general", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			r.slowDigest()
		}
	})
}

// The member tables name every field of the structs, in declaration order,
// so that a field added to Record cannot be left out of its digest.
func TestFieldTablesMatchStructs(t *testing.T) {
	check := func(typ reflect.Type, names []string) {
		var want []string
		for f := range typ.Fields() {
			want = append(want, strings.Split(f.Tag.Get("json"), ",")[0])
		}
		if !slices.Equal(names, want) {
			t.Errorf("%s: the table lists %q, the struct declares %q", typ.Name(), names, want)
		}
	}
	check(reflect.TypeFor[Record](), fieldNames(recordFields))
	check(reflect.TypeFor[Policy](), fieldNames(policyFields))
	check(reflect.TypeFor[Texts](), fieldNames(textsFields))
	check(reflect.TypeFor[How](), fieldNames(howFields))
	check(reflect.TypeFor[Signals](), fieldNames(signalsFields))
	check(reflect.TypeFor[Ref](), fieldNames(refFields))
}

func fieldNames[T any](f fields[T]) []string {
	var names []string
	for _, m := range f.declared {
		names = append(names, m.name)
	}
	return names
}
