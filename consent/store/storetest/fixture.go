package storetest

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/consentgate/consentgate/consent/proof"
	"github.com/consentgate/consentgate/consent/store"
)

// keys are the suite's proof keys, the same for every chain, as a fleet of
// gateways sharing one configuration has.
type keys struct {
	mac    proof.MACKey
	signer proof.SigningKey
}

func newKeys(t testing.TB) keys {
	mac, err := proof.NewMACKey([]byte("storetest mac key 0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	_, priv, _ := ed25519.GenerateKey(nil)
	signer, err := proof.NewSigningKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return keys{mac, signer}
}

func (k keys) verifyOptions() proof.VerifyOptions {
	return proof.VerifyOptions{Keys: proof.Keys{
		MAC:        map[string][]byte{k.mac.ID: k.mac.Secret},
		PublicKeys: map[string]ed25519.PublicKey{k.signer.ID: k.signer.Public()},
	}}
}

// clock is a settable test clock.
type clock struct{ ms atomic.Int64 }

func newClock(t time.Time) *clock {
	c := &clock{}
	c.ms.Store(t.UnixMilli())
	return c
}

func (c *clock) now() time.Time          { return time.UnixMilli(c.ms.Load()) }
func (c *clock) advance(d time.Duration) { c.ms.Add(d.Milliseconds()) }

// chain starts a chain whose checkpoints name the default proof
// retention, as the gateway's do.
func (k keys) chain(t testing.TB, id string, head proof.Head, now func() time.Time) *proof.Chain {
	c, err := proof.NewChain(proof.ChainConfig{ID: id, MAC: k.mac, Signer: k.signer, Now: now, Retention: store.DefaultProofRetention}, head)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// NewChain starts a chain under fresh suite keys, for a backend's own
// tests; now is its clock (nil: the wall clock).
func NewChain(t testing.TB, id string, now func() time.Time) *proof.Chain {
	return newKeys(t).chain(t, id, proof.Head{}, now)
}

// decision makes the i-th test decision; consent ids repeat every 7.
func decision(i int, site string) proof.Record {
	types := []proof.EventType{proof.Given, proof.Refused, proof.Updated, proof.Withdrawn}
	return proof.Record{
		Type: types[i%len(types)], ConsentID: fmt.Sprintf("c%02d-%s", i%7, site),
		Site: site, Path: "/page/" + fmt.Sprint(i%13),
		Policy: proof.Policy{Version: "v1", Hash: "7d9c0ffee0123456"}, Texts: proof.Texts{Hash: "a1b2c3d4e5f60718", Lang: "en"},
		How:      proof.How{Layer: proof.LayerFirst, Action: proof.ActionSaveSelection, Control: "cg-save"},
		Purposes: map[string]bool{"necessary": true, "analytics": i%2 == 0, "marketing": i%3 == 0},
		Vendors:  map[string]bool{"youtube": i%4 == 0},
		Signals:  proof.Signals{GPC: i%5 == 0, Effect: proof.EffectNone},
		Software: "consentgate/storetest", IP: "198.51.0.0/16", UA: "Firefox 133",
	}
}

// seal seals n decisions starting at index from.
func seal(t testing.TB, c *proof.Chain, from, n int, site string) []proof.Record {
	t.Helper()
	out := make([]proof.Record, n)
	for i := range out {
		r, err := c.Seal(decision(from+i, site))
		if err != nil {
			t.Fatal(err)
		}
		out[i] = r
	}
	return out
}

// appendBatches appends records in batches of size n, as the gateway does.
func appendBatches(t testing.TB, ctx context.Context, s store.Store, recs []proof.Record, n int) {
	t.Helper()
	for len(recs) > 0 {
		b := recs[:min(n, len(recs))]
		recs = recs[len(b):]
		if err := s.Append(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
}

func checkpoint(t testing.TB, ctx context.Context, s store.Store, c *proof.Chain) proof.Checkpoint {
	t.Helper()
	cp, err := c.Checkpoint()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PutCheckpoint(ctx, cp); err != nil {
		t.Fatal(err)
	}
	return cp
}

// collect returns every record a query yields.
func collect(t testing.TB, ctx context.Context, s store.Store, q store.Query) []proof.Record {
	t.Helper()
	var out []proof.Record
	if err := s.Range(ctx, q, func(r proof.Record) error {
		out = append(out, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// ofConsent returns every record of a consent id.
func ofConsent(t testing.TB, ctx context.Context, s store.Store, consentID string) []proof.Record {
	t.Helper()
	out, err := OfConsent(ctx, s, consentID)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// OfConsent gathers a consent id's records, for tests that look at a few.
func OfConsent(ctx context.Context, s store.Store, consentID string) ([]proof.Record, error) {
	var out []proof.Record
	err := s.EachOfConsent(ctx, consentID, func(r proof.Record) error {
		out = append(out, r)
		return nil
	})
	return out, err
}

// Erasure erases with c's key and seals each receipt into c, stored in s
// before the tombstones, as the gateway does.
func Erasure(s store.Store, c *proof.Chain) store.Erasure {
	return store.Erasure{Tombstones: c.Eraser(), Receipt: func(ctx context.Context, r proof.Record) error {
		sealed, err := c.Seal(r)
		if err != nil {
			return err
		}
		return s.Append(ctx, []proof.Record{sealed})
	}}
}

// mustVerify verifies a chain and fails unless it is sound.
func mustVerify(t testing.TB, ctx context.Context, s store.Store, chain string, opts proof.VerifyOptions) proof.Report {
	t.Helper()
	rep, err := store.Verify(ctx, s, chain, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Fatalf("chain %s does not verify: %v", chain, rep.Problems)
	}
	return rep
}
