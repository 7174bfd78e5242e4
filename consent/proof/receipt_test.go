package proof

import (
	"encoding/json"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/consentgate/consentgate/consent/proof/prooftest"
)

// forgeTombstone is prooftest.ForgeTombstone, failing the test on error.
func forgeTombstone(t *testing.T, raw []byte) []byte {
	t.Helper()
	forged, err := prooftest.ForgeTombstone(raw)
	if err != nil {
		t.Fatal(err)
	}
	return forged
}

// TestForgedTombstoneIsUnreceipted: a tombstone written into the store
// without an erasure (a withdrawal made to vanish) keeps its chain's links
// and checkpoints intact, but no receipt names it, which a verifier
// without the MAC key sees. A tombstone of a genuine erasure by another
// instance, whose receipt is in that instance's chain, verifies.
func TestForgedTombstoneIsUnreceipted(t *testing.T) {
	k := newTestKeys(t)
	a, b := k.chain(t, "gw-a", Head{}), k.chain(t, "gw-b", Head{})
	rawsA, rawsB := sealN(t, a, 6), sealN(t, b, 2)
	cp, _ := a.Checkpoint()
	withdrawal := recordOf(t, rawsA[4])
	rawsA[4] = forgeTombstone(t, rawsA[4])

	noMAC := VerifyOptions{Keys: Keys{PublicKeys: k.verifyKeys().PublicKeys}, Receipts: receiptsIn(rawsA, rawsB)}
	rep := verifyRaw("gw-a", []Checkpoint{cp}, rawsA, noMAC)
	if got := kinds(rep); !slices.Equal(got, []ProblemKind{UnreceiptedTombstone}) ||
		rep.Problems[0].Seq != 5 || rep.Problems[0].EventID != withdrawal.EventID || rep.Tombstones != 1 {
		t.Fatalf("forged tombstone, no MAC key: %+v", rep)
	}
	withMAC := noMAC
	withMAC.Keys = k.verifyKeys()
	if got := kinds(verifyRaw("gw-a", []Checkpoint{cp}, rawsA, withMAC)); !slices.Equal(got, []ProblemKind{BadHMAC, UnreceiptedTombstone}) {
		t.Fatalf("forged tombstone, with the MAC key: %v", got)
	}

	// The same record erased for real by gw-b: its tombstone, and a
	// receipt in gw-b's chain.
	tomb, err := b.Eraser().Tombstone(withdrawal)
	if err != nil {
		t.Fatal(err)
	}
	rawsA[4], _ = json.Marshal(tomb)
	rawsB = append(rawsB, sealReceipt(t, b, []Record{withdrawal}))
	withMAC.Receipts = receiptsIn(rawsA, rawsB)
	if rep := verifyRaw("gw-a", []Checkpoint{cp}, rawsA, withMAC); !rep.OK() || rep.Tombstones != 1 {
		t.Fatalf("erased by another instance: %+v", rep)
	}
	if rep := verifyRaw("gw-b", nil, rawsB, withMAC); !rep.OK() || rep.Receipts != 1 || rep.Records != 3 {
		t.Fatalf("the erasing instance's chain: %+v", rep)
	}
}

// TestReceiptOfAnUnfinishedErasure: a receipt whose records are still
// there (the gateway stopped between the receipt and the tombstones, or an
// older copy of the store came back) is reported at each such record.
func TestReceiptOfAnUnfinishedErasure(t *testing.T) {
	k := newTestKeys(t)
	c := k.chain(t, "gw-1", Head{})
	raws := sealN(t, c, 4)
	r3 := recordOf(t, raws[3])
	r1 := erase(t, c.Eraser(), raws, 1)
	raws = append(raws, sealReceipt(t, c, []Record{r1, r3}))

	rep := verifyRaw("gw-1", nil, raws, VerifyOptions{Keys: k.verifyKeys(), Receipts: receiptsIn(raws)})
	if got := kinds(rep); !slices.Equal(got, []ProblemKind{UnfinishedErasure}) || rep.Problems[0].Seq != 4 ||
		rep.Problems[0].EventID != r3.EventID || rep.Counts[UnfinishedErasure] != 1 {
		t.Fatalf("problems %+v", rep)
	}
}

// TestTombstonePastItsRetentionNeedsNoReceipt: the receipt of an erasure
// may expire before a tombstone it names (another chain, whose older
// records expire sooner): once the tombstone's own retention has ended, no
// receipt is asked of it. Before, it is.
func TestTombstonePastItsRetentionNeedsNoReceipt(t *testing.T) {
	k := newTestKeys(t)
	c := k.chain(t, "gw-1", Head{})
	raws := sealN(t, c, 3)
	r := erase(t, c.Eraser(), raws, 1)
	end := time.UnixMilli(r.End())
	for _, tc := range []struct {
		now  time.Time
		want []ProblemKind
	}{
		{end.Add(2 * time.Hour), nil},
		{end.Add(30 * time.Minute), []ProblemKind{UnreceiptedTombstone}},
	} {
		opts := VerifyOptions{Keys: k.verifyKeys(), MinAnchorAge: time.Hour, Now: tc.now}
		if got := kinds(verifyRaw("gw-1", nil, raws, opts)); !slices.Equal(got, tc.want) {
			t.Errorf("at %v after its end: %v, want %v", tc.now.Sub(end), got, tc.want)
		}
	}
}

// TestForgedTombstoneDatedBackIsCaught: a tombstone keeps the erased
// record's time under its HMAC alone. One forged in the middle of a chain
// and dated four years back would pass as past its retention, which
// excuses a missing receipt; a chain's times never go back, so without the
// MAC key it is caught all the same.
func TestForgedTombstoneDatedBackIsCaught(t *testing.T) {
	k := newTestKeys(t)
	c := k.chain(t, "gw-1", Head{})
	raws := sealN(t, c, 4)
	raws[2] = forgeTombstone(t, mustJSON(t, backdated(t, raws[2])))
	opts := VerifyOptions{Keys: Keys{PublicKeys: k.verifyKeys().PublicKeys}, MinAnchorAge: 3 * 365 * 24 * time.Hour, Now: time.Now()}
	rep := verifyRaw("gw-1", nil, raws, opts)
	if got := kinds(rep); !slices.Equal(got, []ProblemKind{Altered}) || rep.Problems[0].Seq != 3 {
		t.Fatalf("a forged tombstone dated back, no MAC key: %+v", rep)
	}
}

// TestReceiptNamesRecordsOnly: a receipt holds the erased records' places
// and event ids, when it was made and how long it is kept (as long as the
// longest-lived of them), and nothing about a person; sealing refuses a
// receipt with a consent id and a decision that names erased records.
func TestReceiptNamesRecordsOnly(t *testing.T) {
	k := newTestKeys(t)
	c := k.chain(t, "gw-1", Head{})
	var recs []Record
	for _, raw := range sealN(t, c, 3) {
		var r Record
		_ = json.Unmarshal(raw, &r)
		recs = append(recs, r)
	}
	recs[1].ExpiresAt += 1000
	var stored map[string]any
	_ = json.Unmarshal(sealReceipt(t, c, recs), &stored)
	want := []string{"chain", "erased", "event_id", "expires_at", "hash", "hmac", "key_id", "prev", "schema", "seq", "time", "type"}
	if got := slices.Sorted(maps.Keys(stored)); !slices.Equal(got, want) {
		t.Fatalf("receipt members %v, want %v", got, want)
	}
	erased := stored["erased"].([]any)
	first := erased[0].(map[string]any)
	if stored["type"] != "erasure" || len(erased) != 3 || first["chain"] != "gw-1" || first["seq"] != 1.0 ||
		first["event_id"] != recs[0].EventID || int64(stored["expires_at"].(float64)) != recs[1].ExpiresAt {
		t.Fatalf("receipt %v", stored)
	}

	personal := Receipt(recs)
	personal.ConsentID = "someone"
	if _, err := c.Seal(personal); err == nil {
		t.Error("a receipt with a consent id was sealed")
	}
	if _, err := c.Seal(Receipt(nil)); err == nil {
		t.Error("a receipt naming nothing was sealed")
	}
	decision := sampleRecord(0)
	decision.Erased = []Ref{recs[0].Ref()}
	if _, err := c.Seal(decision); err == nil {
		t.Error("a decision naming erased records was sealed")
	}
}

// TestAuthentic: a record's HMAC tells who made it, without receipts: a
// tombstone an erasure made, and a sealed record, are authentic; a forged
// tombstone and an edited record are not.
func TestAuthentic(t *testing.T) {
	k := newTestKeys(t)
	c := k.chain(t, "gw-1", Head{})
	raws := sealN(t, c, 2)
	tombs := slices.Clone(raws)
	erase(t, c.Eraser(), tombs, 0)
	genuine := tombs[0]
	var edited map[string]any
	_ = json.Unmarshal(raws[1], &edited)
	edited["site"] = "elsewhere.example"
	editedRaw, _ := json.Marshal(edited)
	keys := k.verifyKeys()
	for name, tc := range map[string]struct {
		raw  []byte
		want bool
	}{
		"sealed record":     {raws[1], true},
		"genuine tombstone": {genuine, true},
		"forged tombstone":  {forgeTombstone(t, raws[0]), false},
		"edited record":     {editedRaw, false},
		"not a record":      {[]byte(`{"type":"erased"}`), false},
	} {
		if got := keys.Authentic(tc.raw); got != tc.want {
			t.Errorf("%s: authentic %v, want %v", name, got, tc.want)
		}
	}
}

// TestReceiptReadAfterTheWalk: an erasure that runs while a chain is
// walked stores its receipt before its tombstone, so receipts read before
// the walk may lack the tombstone's, and a second read after it holds it:
// only tombstones that neither names are reported.
func TestReceiptReadAfterTheWalk(t *testing.T) {
	k := newTestKeys(t)
	c := k.chain(t, "gw-1", Head{})
	raws := sealN(t, c, 4)
	before := receiptsIn(raws)
	erased := erase(t, c.Eraser(), raws, 1)
	raws[2] = forgeTombstone(t, raws[2])
	after := receiptsIn([][]byte{sealReceipt(t, c, []Record{erased})})

	v := NewChainVerifier("gw-1", nil, VerifyOptions{Keys: k.verifyKeys(), Receipts: before})
	for _, raw := range raws {
		v.AddRaw(raw)
	}
	if v.Unnamed() != 2 {
		t.Fatalf("%d tombstones unnamed after the walk, want 2", v.Unnamed())
	}
	v.Receipted(after)
	rep := v.Finish()
	if got := kinds(rep); !slices.Equal(got, []ProblemKind{BadHMAC, UnreceiptedTombstone}) || rep.Counts[UnreceiptedTombstone] != 1 ||
		rep.Problems[1].Seq != 3 {
		t.Fatalf("problems %+v", rep.Problems)
	}
}
