package proof

import (
	"encoding/json"
	"slices"
	"testing"
	"time"
)

func TestTombstoneKeepsChainVerifiable(t *testing.T) {
	k := newTestKeys(t)
	c := k.chain(t, "gw-1", Head{})
	raws := sealN(t, c, 6)
	cp, _ := c.Checkpoint()
	var erased []Record
	for _, i := range []int{2, 5} { // the last record too: checkpoint head is kept
		var r Record
		_ = json.Unmarshal(raws[i], &r)
		tomb, err := c.Eraser().Tombstone(r)
		if err != nil {
			t.Fatal(err)
		}
		if tomb.ConsentID != "" || tomb.IP != "" || tomb.UA != "" || tomb.Path != "" || tomb.Purposes != nil ||
			tomb.Type != Erased || tomb.Hash != r.Hash || tomb.Prev != r.Prev || tomb.Seq != r.Seq || tomb.ErasedAt == 0 {
			t.Fatalf("tombstone %+v", tomb)
		}
		raws[i], _ = json.Marshal(tomb)
		erased = append(erased, r)
	}
	raws = append(raws, sealReceipt(t, c, erased))
	opts := VerifyOptions{Keys: k.verifyKeys(), Receipts: receiptsIn(raws)}
	rep := verifyRaw("gw-1", []Checkpoint{cp}, raws, opts)
	if !rep.OK() || rep.Tombstones != 2 || rep.Receipts != 1 || rep.Records != 7 {
		t.Fatalf("report %+v", rep)
	}

	// A tombstone forged without the key (here: its erasure time moved) fails.
	var tomb map[string]any
	_ = json.Unmarshal(raws[2], &tomb)
	tomb["erased_at"] = 1
	raws[2], _ = json.Marshal(tomb)
	rep = verifyRaw("gw-1", []Checkpoint{cp}, raws, opts)
	if got := kinds(rep); !slices.Equal(got, []ProblemKind{BadHMAC}) || rep.Problems[0].Seq != 3 {
		t.Fatalf("problems %v", rep.Problems)
	}
}

func TestAnchorAfterExpiry(t *testing.T) {
	k := newTestKeys(t)
	c := k.chain(t, "gw-1", Head{})
	raws := sealN(t, c, 4)
	anchor, _ := c.Checkpoint() // at seq 4
	raws = append(raws, sealN(t, c, 4)...)
	kept := raws[4:]

	rep := verifyRaw("gw-1", []Checkpoint{anchor}, kept, VerifyOptions{Keys: k.verifyKeys()})
	if !rep.OK() || rep.Anchor == nil || rep.Anchor.Seq != 4 || rep.FirstSeq != 5 {
		t.Fatalf("anchored report %+v", rep)
	}
	// Without the anchor, or with one too young to have expired, it is a gap.
	for _, opts := range []struct {
		cps []Checkpoint
		age time.Duration
	}{{nil, 0}, {[]Checkpoint{anchor}, time.Hour}} {
		rep := verifyRaw("gw-1", opts.cps, kept, VerifyOptions{Keys: k.verifyKeys(), MinAnchorAge: opts.age})
		if got := kinds(rep); !slices.Equal(got, []ProblemKind{Gap}) || rep.Problems[0].Seq != 1 {
			t.Fatalf("problems %v", rep.Problems)
		}
	}

	// Every record expired: the last checkpoint anchors an empty chain if
	// it is at least the retention old; else the records were cut off.
	last, _ := c.Checkpoint() // at seq 8
	now := time.UnixMilli(last.Time)
	for _, tc := range []struct {
		age  time.Duration
		want []ProblemKind
	}{{time.Hour, nil}, {2 * time.Hour, []ProblemKind{Truncated}}, {0, []ProblemKind{Truncated}}} {
		rep := verifyRaw("gw-1", []Checkpoint{anchor, last}, nil,
			VerifyOptions{Keys: k.verifyKeys(), MinAnchorAge: tc.age, Now: now.Add(time.Hour)})
		if got := kinds(rep); !slices.Equal(got, tc.want) || tc.want == nil && (rep.Anchor == nil || rep.Anchor.Seq != 8) {
			t.Errorf("no records left, retention %v: problems %v anchor %+v, want %v", tc.age, rep.Problems, rep.Anchor, tc.want)
		}
	}
}

// TestAnchorUnderAnEarlierRetention: records that expired under the proof
// retention of their time still anchor the chain after the operator
// lengthened it, because the checkpoints signed then name that retention;
// a retention shortened only for a while covers deletions only while it
// was in force; checkpoints that name none are judged by the retention now.
func TestAnchorUnderAnEarlierRetention(t *testing.T) {
	k := newTestKeys(t)
	t0 := time.Now().Truncate(time.Millisecond)
	// signed builds one chain's records 1..8 and checkpoints: seq 4 at t0
	// under the first retention, then one per later (offset, retention),
	// the last at seq 8. The export keeps seq 5..8 (or none).
	type signing struct {
		after     time.Duration
		retention time.Duration
	}
	signed := func(first time.Duration, later ...signing) (raws [][]byte, cps []Checkpoint) {
		at := t0
		clock := func() time.Time { return at }
		chain := func(retention time.Duration, head Head) *Chain {
			c, err := NewChain(ChainConfig{ID: "gw-1", MAC: k.mac, Signer: k.signer, Now: clock, Retention: retention}, head)
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		c := chain(first, Head{})
		sealN(t, c, 4)
		cp, _ := c.Checkpoint()
		cps = append(cps, cp)
		for i, s := range later {
			at = t0.Add(s.after)
			c = chain(s.retention, c.Head())
			if i == len(later)-1 {
				raws = sealN(t, c, 4)
			}
			cp, _ := c.Checkpoint()
			cps = append(cps, cp)
		}
		return raws, cps
	}
	const lengthened = 10 * time.Hour
	opts := VerifyOptions{Keys: k.verifyKeys(), MinAnchorAge: lengthened, Now: t0.Add(3 * time.Hour)}
	for _, tc := range []struct {
		name   string
		first  time.Duration
		later  []signing
		anchor bool // seq 1..4 gone: anchored by the checkpoint at seq 4
		gone   bool // every record gone: the last checkpoint stands for them
	}{
		{"expired under 1h, named by a checkpoint 2h later", time.Hour, []signing{{2 * time.Hour, time.Hour}}, true, true},
		{"the retention named in force up to now", time.Hour, []signing{{30 * time.Minute, time.Hour}}, true, true},
		{"always the retention now", lengthened, []signing{{2 * time.Hour, lengthened}}, false, false},
		{"checkpoints that name no retention", 0, []signing{{2 * time.Hour, 0}}, false, false},
		{"shortened for a while", lengthened, []signing{{time.Hour, 30 * time.Minute}, {70 * time.Minute, lengthened}}, true, false},
		{"shortened too briefly", lengthened, []signing{{10 * time.Minute, 30 * time.Minute}, {20 * time.Minute, lengthened}}, false, false},
	} {
		raws, cps := signed(tc.first, tc.later...)
		rep := verifyRaw("gw-1", cps, raws, opts)
		if ok := rep.OK() && rep.Anchor != nil && rep.Anchor.Seq == 4; ok != tc.anchor {
			t.Errorf("%s: anchored %v, want %v: %+v", tc.name, ok, tc.anchor, rep.Problems)
		}
		if !tc.anchor && !slices.Equal(kinds(rep), []ProblemKind{Gap}) {
			t.Errorf("%s: problems %v, want a gap", tc.name, rep.Problems)
		}
		if rep = verifyRaw("gw-1", cps, nil, opts); rep.OK() != tc.gone {
			t.Errorf("%s, every record gone: ok %v, want %v: %+v", tc.name, rep.OK(), tc.gone, rep.Problems)
		}
	}
}
