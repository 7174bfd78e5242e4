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
	}
	rep := verifyRaw("gw-1", []Checkpoint{cp}, raws, VerifyOptions{Keys: k.verifyKeys()})
	if !rep.OK() || rep.Tombstones != 2 || rep.Records != 6 {
		t.Fatalf("report %+v", rep)
	}

	// A tombstone forged without the key (here: its erasure time moved) fails.
	var tomb map[string]any
	_ = json.Unmarshal(raws[2], &tomb)
	tomb["erased_at"] = 1
	raws[2], _ = json.Marshal(tomb)
	rep = verifyRaw("gw-1", []Checkpoint{cp}, raws, VerifyOptions{Keys: k.verifyKeys()})
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
