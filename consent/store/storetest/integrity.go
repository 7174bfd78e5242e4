package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/consentgate/consentgate/consent/proof"
	"github.com/consentgate/consentgate/consent/proof/prooftest"
	"github.com/consentgate/consentgate/consent/store"
)

func testErase(t *testing.T, b Backend) {
	ctx := ctxFor(t)
	s, _ := open(t, b)
	k := newKeys(t)
	ca, cb := k.chain(t, "gw-a", proof.Head{}, nil), k.chain(t, "gw-b", proof.Head{}, nil)
	appendBatches(t, ctx, s, seal(t, ca, 0, 20, "x.example"), 20)
	appendBatches(t, ctx, s, seal(t, cb, 0, 20, "x.example"), 20)
	checkpoint(t, ctx, s, ca)
	checkpoint(t, ctx, s, cb)

	const subject = "c02-x.example" // i = 2, 9, 16 in both chains
	n, err := s.Erase(ctx, subject, Erasure(s, ca))
	if err != nil || n != 6 {
		t.Fatalf("erased %d, %v", n, err)
	}
	if recs := ofConsent(t, ctx, s, subject); len(recs) != 0 {
		t.Fatalf("after erasure: %d records", len(recs))
	}
	if n, _ := s.Erase(ctx, subject, Erasure(s, ca)); n != 0 {
		t.Fatalf("erased again: %d", n)
	}
	// gw-a erased: its chain holds a receipt for each chain's tombstones,
	// and gw-b's tombstones verify by the receipt in gw-a.
	for c, want := range map[string][2]int{"gw-a": {22, 2}, "gw-b": {20, 0}} {
		rep := mustVerify(t, ctx, s, c, k.verifyOptions())
		if rep.Tombstones != 3 || rep.Records != want[0] || rep.Receipts != want[1] {
			t.Fatalf("%s: %+v", c, rep)
		}
	}
	receipts, err := s.Receipts(ctx)
	if err != nil || receipts.Len() != 6 {
		t.Fatalf("receipts name %d records, want 6 (%v)", receipts.Len(), err)
	}
	for _, r := range collect(t, ctx, s, store.Query{Chain: "gw-a", Since: time.UnixMilli(0)}) {
		if r.IsReceipt() && (r.ConsentID != "" || r.Site != "" || r.IP != "" || len(r.Erased) != 3) {
			t.Fatalf("receipt %+v: want three records named and nothing of the person", r)
		}
	}
	tombs := 0
	for _, r := range collect(t, ctx, s, store.Query{Chain: "gw-b"}) {
		if r.IsTombstone() {
			tombs++
			if r.ConsentID != "" || r.IP != "" || r.UA != "" || r.Purposes != nil || r.Path != "" || r.Seq%7 != 3 {
				t.Fatalf("tombstone keeps personal data or is misplaced: %+v", r)
			}
		} else if r.ConsentID == subject {
			t.Fatalf("record of the erased subject left: %+v", r)
		}
	}
	if tombs != 3 {
		t.Fatalf("%d tombstones", tombs)
	}
}

func testTamper(t *testing.T, b Backend) {
	ctx := ctxFor(t)
	s, raw := open(t, b)
	k := newKeys(t)
	c := k.chain(t, "gw-1", proof.Head{}, nil)
	recs := seal(t, c, 0, 20, "a.example")
	appendBatches(t, ctx, s, recs, 20)
	checkpoint(t, ctx, s, c)

	// Grant marketing after the fact in seq 5, and make seq 12 vanish.
	altered := recs[4]
	altered.Purposes = map[string]bool{"necessary": true, "analytics": true, "marketing": true}
	data, _ := json.Marshal(altered)
	if err := raw.Overwrite("gw-1", 5, data); err != nil {
		t.Fatal(err)
	}
	if err := raw.Remove("gw-1", 12); err != nil {
		t.Fatal(err)
	}
	rep, err := store.Verify(ctx, s, "gw-1", k.verifyOptions())
	if err != nil {
		t.Fatal(err)
	}
	want := []proof.Problem{
		{Kind: proof.Gap, Seq: 12},
		{Kind: proof.Altered, Seq: 5, EventID: recs[4].EventID},
	}
	if len(rep.Problems) != len(want) {
		t.Fatalf("problems %v, want gap at 12 and altered at 5", rep.Problems)
	}
	for i, p := range rep.Problems {
		if p.Kind != want[i].Kind || p.Seq != want[i].Seq || p.EventID != want[i].EventID {
			t.Fatalf("problem %d is %v, want %s at seq %d", i, p, want[i].Kind, want[i].Seq)
		}
	}
	// Removing the tail behind the checkpoint is truncation.
	if err := raw.Remove("gw-1", 20); err != nil {
		t.Fatal(err)
	}
	rep, _ = store.Verify(ctx, s, "gw-1", k.verifyOptions())
	if rep.Counts[proof.Truncated] != 1 {
		t.Fatalf("truncation not reported: %v", rep.Problems)
	}
}

// testPastTheHead: records written straight into the store after a chain's
// head (not through Append, so its head does not name them) are found by
// Past, up to the first seq missing.
func testPastTheHead(t *testing.T, b Backend) {
	ctx := ctxFor(t)
	s, raw := open(t, b)
	k := newKeys(t)
	c := k.chain(t, "gw-1", proof.Head{}, nil)
	recs := seal(t, c, 0, 9, "a.example")
	appendBatches(t, ctx, s, recs[:5], 5)
	if past, err := s.Past(ctx, "gw-1", 5); err != nil || past != (proof.Head{}) {
		t.Fatalf("nothing past the head: Past is %+v, %v", past, err)
	}
	// Seqs 6 and 7, then 9 after a hole.
	for _, i := range []int{5, 6, 8} {
		data, _ := json.Marshal(recs[i])
		if err := raw.Overwrite("gw-1", recs[i].Seq, data); err != nil {
			t.Fatal(err)
		}
	}
	if head, err := s.Head(ctx, "gw-1"); err != nil || head.Seq != 5 {
		t.Fatalf("the head moved: %+v %v", head, err)
	}
	want := proof.Head{Seq: 7, Hash: recs[6].Hash, Time: recs[6].Time}
	if past, err := s.Past(ctx, "gw-1", 5); err != nil || past != want {
		t.Errorf("Past(5) is %+v, %v; want %+v", past, err, want)
	}
	// Verify names them, though its walk ends at the head.
	rep, err := store.Verify(ctx, s, "gw-1", k.verifyOptions())
	if err != nil || rep.Counts[proof.Altered] != 1 || !strings.Contains(rep.Problems[0].Detail, "seq 6..7") {
		t.Errorf("verify of records past the head: %+v, %v", rep, err)
	}
	if past, err := s.Past(ctx, "gw-1", 7); err != nil || past != (proof.Head{}) {
		t.Errorf("Past(7) is %+v, %v; want none (seq 8 is missing)", past, err)
	}
}

func testExpiry(t *testing.T, b Backend) {
	ctx := ctxFor(t)
	s, _ := open(t, b)
	k := newKeys(t)
	clk := newClock(t0)
	c := k.chain(t, "gw-1", proof.Head{}, clk.now)
	day := 24 * time.Hour
	// Three days of ten decisions, each choice valid for the default
	// validity, and a checkpoint closing each day (seq 10, 20, 30).
	for range 3 {
		appendBatches(t, ctx, s, sealValid(t, c, clk, 10), 10)
		clk.advance(day)
		checkpoint(t, ctx, s, c)
	}
	if n, err := s.Expire(ctx, clk.now().Add(365*day)); err != nil || n != 0 {
		t.Fatalf("expired %d early, %v", n, err)
	}
	// The proof retention after the first two days' choices ended: those
	// two days go, up to the checkpoint closing them.
	now := t0.Add(store.DefaultChoiceValidity + store.DefaultProofRetention + day + time.Hour)
	n, err := s.Expire(ctx, now)
	if err != nil || n != 20 {
		t.Fatalf("expired %d, want 20 (%v)", n, err)
	}
	opts := k.verifyOptions()
	opts.MinAnchorAge, opts.Now = store.DefaultProofRetention, now
	rep := mustVerify(t, ctx, s, "gw-1", opts)
	if rep.Anchor == nil || rep.Anchor.Seq != 20 || rep.FirstSeq != 21 || rep.Records != 10 {
		t.Fatalf("after expiry: %+v", rep)
	}
	if got := collect(t, ctx, s, store.Query{}); len(got) != 10 || got[0].Seq != 21 {
		t.Fatalf("left %v", seqs(got))
	}
	if cps, _ := s.Checkpoints(ctx, "gw-1"); len(cps) != 3 {
		t.Fatalf("checkpoints must stay: %d", len(cps))
	}
	if n, err := s.Expire(ctx, now); err != nil || n != 0 {
		t.Fatalf("expired again: %d, %v", n, err)
	}
	// The operator lengthens the retention afterwards: the checkpoints name
	// the one those two days expired under, so the chain still verifies.
	lengthened := opts
	lengthened.MinAnchorAge = 2 * store.DefaultProofRetention
	if rep := mustVerify(t, ctx, s, "gw-1", lengthened); rep.Anchor == nil || rep.Anchor.Seq != 20 {
		t.Fatalf("after the retention was lengthened: %+v", rep)
	}
	// An auditor for whom the anchor is too young to be expiry sees a gap.
	opts.Now = t0.Add(100 * day)
	rep, _ = store.Verify(ctx, s, "gw-1", opts)
	if !slices.Equal(kindsOf(rep), []proof.ProblemKind{proof.Gap}) {
		t.Fatalf("early audit: %v", rep.Problems)
	}
}

// sealValid seals n decisions valid for 180 days from the clock.
func sealValid(t *testing.T, c *proof.Chain, clk *clock, n int) []proof.Record {
	out := make([]proof.Record, n)
	for i := range out {
		d := decision(i, "a.example")
		d.ExpiresAt = clk.now().Add(store.DefaultChoiceValidity).UnixMilli()
		r, err := c.Seal(d)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = r
	}
	return out
}

func kindsOf(r proof.Report) []proof.ProblemKind {
	var out []proof.ProblemKind
	for _, p := range r.Problems {
		out = append(out, p.Kind)
	}
	return out
}

// testForgedTombstone: a tombstone written straight into the store, as
// someone without the MAC key can (a withdrawal made to vanish), keeps the
// chain's links and checkpoints, but verification without the key names
// it: no erasure receipt accounts for it.
func testForgedTombstone(t *testing.T, b Backend) {
	ctx := ctxFor(t)
	s, raw := open(t, b)
	k := newKeys(t)
	c := k.chain(t, "gw-1", proof.Head{}, nil)
	recs := seal(t, c, 0, 8, "a.example")
	appendBatches(t, ctx, s, recs, 8)
	checkpoint(t, ctx, s, c)
	// A genuine erasure elsewhere in the chain, so receipts exist.
	if n, err := s.Erase(ctx, recs[1].ConsentID, Erasure(s, c)); err != nil || n != 1 {
		t.Fatalf("erased %d, %v", n, err)
	}

	withdrawal := recs[3] // seq 4
	if withdrawal.Type != proof.Withdrawn {
		t.Fatalf("seq 4 is %s", withdrawal.Type)
	}
	data, _ := json.Marshal(withdrawal)
	forged, err := prooftest.ForgeTombstone(data)
	if err != nil {
		t.Fatal(err)
	}
	if err := raw.Overwrite("gw-1", withdrawal.Seq, forged); err != nil {
		t.Fatal(err)
	}
	noMAC := k.verifyOptions()
	noMAC.Keys.MAC = nil
	rep, err := store.Verify(ctx, s, "gw-1", noMAC)
	if err != nil {
		t.Fatal(err)
	}
	if got := kindsOf(rep); !slices.Equal(got, []proof.ProblemKind{proof.UnreceiptedTombstone}) ||
		rep.Problems[0].Seq != 4 || rep.Problems[0].EventID != withdrawal.EventID || rep.Tombstones != 2 {
		t.Fatalf("forged tombstone: %+v", rep)
	}
}

// testUnfinishedErasure: an erasure that stops after its receipt is
// durable and before its tombstones (the gateway killed in between) is
// named by verification, and EraseRecords finishes it from the receipt.
func testUnfinishedErasure(t *testing.T, b Backend) {
	ctx := ctxFor(t)
	s, _ := open(t, b)
	k := newKeys(t)
	c := k.chain(t, "gw-1", proof.Head{}, nil)
	recs := seal(t, c, 0, 10, "a.example")
	appendBatches(t, ctx, s, recs, 10)
	const subject = "c01-a.example" // seq 2 and 9

	// The receipt is stored, then the erasure stops, as if the process
	// died there: the error stands for the crash.
	cut := Erasure(s, c)
	var receipt proof.Record
	crash := errors.New("killed")
	write := cut.Receipt
	cut.Receipt = func(ctx context.Context, r proof.Record) error {
		receipt = r
		if err := write(ctx, r); err != nil {
			return err
		}
		return crash
	}
	if n, err := s.Erase(ctx, subject, cut); n != 0 || !errors.Is(err, crash) {
		t.Fatalf("erasure cut short: erased %d, %v", n, err)
	}
	rep, err := store.Verify(ctx, s, "gw-1", k.verifyOptions())
	if err != nil {
		t.Fatal(err)
	}
	if got := kindsOf(rep); !slices.Equal(got, []proof.ProblemKind{proof.UnfinishedErasure}) ||
		rep.Counts[proof.UnfinishedErasure] != 2 || rep.Problems[0].Seq != 2 {
		t.Fatalf("unfinished erasure: %+v", rep)
	}

	// Finished from what the receipt names; a second time changes nothing.
	if n, err := s.EraseRecords(ctx, receipt.Erased, Erasure(s, c)); err != nil || n != 2 {
		t.Fatalf("finishing: erased %d, %v", n, err)
	}
	if n, err := s.EraseRecords(ctx, receipt.Erased, Erasure(s, c)); err != nil || n != 0 {
		t.Fatalf("finishing again: erased %d, %v", n, err)
	}
	if left := ofConsent(t, ctx, s, subject); len(left) != 0 {
		t.Fatalf("%d records left", len(left))
	}
	if rep := mustVerify(t, ctx, s, "gw-1", k.verifyOptions()); rep.Tombstones != 2 || rep.Receipts != 2 {
		t.Fatalf("finished: %+v", rep)
	}
}
