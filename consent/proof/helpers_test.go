package proof

import (
	"crypto/ed25519"
	"encoding/json"
	"testing"
	"time"
)

type testKeys struct {
	mac    MACKey
	signer SigningKey
}

func newTestKeys(t testing.TB) testKeys {
	t.Helper()
	mac, err := NewMACKey([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	_, priv, _ := ed25519.GenerateKey(nil)
	signer, err := NewSigningKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return testKeys{mac, signer}
}

func (k testKeys) verifyKeys() Keys {
	return Keys{
		MAC:        map[string][]byte{k.mac.ID: k.mac.Secret},
		PublicKeys: map[string]ed25519.PublicKey{k.signer.ID: k.signer.Public()},
	}
}

func (k testKeys) chain(t testing.TB, id string, head Head) *Chain {
	t.Helper()
	c, err := NewChain(ChainConfig{ID: id, MAC: k.mac, Signer: k.signer}, head)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func sampleRecord(i int) Record {
	return Record{
		Type: Given, ConsentID: "consent-" + string(rune('a'+i%26)), ExpiresAt: time.Now().Add(180 * 24 * time.Hour).UnixMilli(),
		Site: "shop.example.com", Path: "/products/shoes?ref=mail#top",
		Policy: Policy{"2025-01", "3f2a9c0d"}, Texts: Texts{"9a8b7c6d", "en"},
		How:      How{LayerFirst, ActionSaveSelection, "cg-save"},
		Purposes: map[string]bool{"necessary": true, "analytics": i%2 == 0, "marketing": false},
		Vendors:  map[string]bool{"youtube": i%3 == 0},
		Signals:  Signals{GPC: i%5 == 0, Effect: EffectNone},
		Software: "consentgate/test", IP: "203.0.0.0/16", UA: "Firefox 133",
	}
}

// sealN seals n sample records and returns them as stored JSON.
func sealN(t testing.TB, c *Chain, n int) [][]byte {
	t.Helper()
	out := make([][]byte, n)
	for i := range out {
		r, err := c.Seal(sampleRecord(i))
		if err != nil {
			t.Fatal(err)
		}
		if out[i], err = json.Marshal(r); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// recordOf decodes a stored record.
func recordOf(t testing.TB, raw []byte) Record {
	t.Helper()
	var r Record
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// erase replaces raws[i] by its tombstone, made by e, and returns the
// record it was.
func erase(t testing.TB, e Eraser, raws [][]byte, i int) Record {
	t.Helper()
	r := recordOf(t, raws[i])
	tomb, err := e.Tombstone(r)
	if err != nil {
		t.Fatal(err)
	}
	raws[i], _ = json.Marshal(tomb)
	return r
}

// sealReceipt seals the receipt of an erasure of erased into c and
// returns it as stored JSON.
func sealReceipt(t testing.TB, c *Chain, erased []Record) []byte {
	t.Helper()
	r, err := c.Seal(Receipt(erased))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// receiptsIn gathers what the receipts among raws name.
func receiptsIn(raws ...[][]byte) *Receipts {
	rs := new(Receipts)
	for _, chain := range raws {
		for _, raw := range chain {
			rs.AddRaw(raw)
		}
	}
	return rs
}

func verifyRaw(chain string, cps []Checkpoint, raws [][]byte, opts VerifyOptions) Report {
	v := NewChainVerifier(chain, cps, opts)
	for _, raw := range raws {
		if raw != nil {
			v.AddRaw(raw)
		}
	}
	return v.Finish()
}

// only returns the report's problem kinds.
func kinds(r Report) []ProblemKind {
	var out []ProblemKind
	for _, p := range r.Problems {
		out = append(out, p.Kind)
	}
	return out
}
