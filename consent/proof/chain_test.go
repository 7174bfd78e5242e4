package proof

import (
	"cmp"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestSealFillsIntegrity(t *testing.T) {
	k := newTestKeys(t)
	c := k.chain(t, "gw-1", Head{})
	a, err := c.Seal(sampleRecord(0))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := c.Seal(sampleRecord(1))
	if a.Seq != 1 || b.Seq != 2 || a.Prev != "" || b.Prev != a.Hash || a.Chain != "gw-1" || a.KeyID != k.mac.ID {
		t.Fatalf("integrity fields: %+v / %+v", a, b)
	}
	if a.Schema != SchemaVersion || len(a.EventID) != 36 || a.EventID[14] != '7' || a.Path != "/products/shoes" {
		t.Fatalf("filled fields: %+v", a)
	}
	if b.Time < a.Time || c.Head() != (Head{Seq: 2, Hash: b.Hash, Time: b.Time}) {
		t.Fatalf("head %+v", c.Head())
	}
	if _, err := c.Seal(Record{Type: Erased, ConsentID: "x"}); err == nil {
		t.Error("sealed a tombstone")
	}
	if _, err := c.Seal(Record{Type: "liked", ConsentID: "x"}); err == nil {
		t.Error("sealed an unknown type")
	}
	if _, err := NewChain(ChainConfig{ID: "bad{id}", MAC: k.mac, Signer: k.signer}, Head{}); err == nil {
		t.Error("accepted a chain id with braces")
	}
}

func TestSealKeepsTimeMonotonic(t *testing.T) {
	k := newTestKeys(t)
	now := time.UnixMilli(1_700_000_000_000)
	c, _ := NewChain(ChainConfig{ID: "gw", MAC: k.mac, Signer: k.signer, Now: func() time.Time { return now }}, Head{})
	a, _ := c.Seal(sampleRecord(0))
	now = now.Add(-time.Hour) // the clock steps back
	b, _ := c.Seal(sampleRecord(1))
	if b.Time != a.Time {
		t.Fatalf("time went back: %d after %d", b.Time, a.Time)
	}
}

func TestConcurrentSealVerifies(t *testing.T) {
	k := newTestKeys(t)
	c := k.chain(t, "gw-1", Head{})
	var mu sync.Mutex
	var recs []Record
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Go(func() {
			for i := 0; i < 50; i++ {
				r, err := c.Seal(sampleRecord(i))
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				recs = append(recs, r)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	slices.SortFunc(recs, func(a, b Record) int { return cmp.Compare(a.Seq, b.Seq) })
	cp, _ := c.Checkpoint()
	v := NewChainVerifier("gw-1", []Checkpoint{cp}, VerifyOptions{Keys: k.verifyKeys()})
	for _, r := range recs {
		v.Add(r)
	}
	if rep := v.Finish(); !rep.OK() || rep.Records != 400 || rep.LastSeq != 400 || rep.Checkpoints != 1 {
		t.Fatalf("report %+v", rep)
	}
}

func TestResumeFromHead(t *testing.T) {
	k := newTestKeys(t)
	c := k.chain(t, "gw-1", Head{})
	raws := sealN(t, c, 3)
	resumed := k.chain(t, "gw-1", c.Head())
	raws = append(raws, sealN(t, resumed, 2)...)
	if rep := verifyRaw("gw-1", nil, raws, VerifyOptions{Keys: k.verifyKeys()}); !rep.OK() || rep.LastSeq != 5 {
		t.Fatalf("report %+v", rep)
	}
}

func TestVerifyNamesEachProblem(t *testing.T) {
	k := newTestKeys(t)
	edit := func(raw []byte, f func(m map[string]any)) []byte {
		var m map[string]any
		_ = json.Unmarshal(raw, &m)
		f(m)
		out, _ := json.Marshal(m)
		return out
	}
	cases := []struct {
		name   string
		tamper func(raws [][]byte, cps []Checkpoint) ([][]byte, []Checkpoint)
		want   []ProblemKind
		seq    uint64
	}{
		{"field altered", func(r [][]byte, c []Checkpoint) ([][]byte, []Checkpoint) {
			r[3] = edit(r[3], func(m map[string]any) { m["site"] = "evil.example" })
			return r, c
		}, []ProblemKind{Altered}, 4},
		{"record deleted", func(r [][]byte, c []Checkpoint) ([][]byte, []Checkpoint) {
			r[5] = nil
			return r, c
		}, []ProblemKind{Gap}, 6},
		{"hash recomputed without the key", func(r [][]byte, c []Checkpoint) ([][]byte, []Checkpoint) {
			var rec Record
			_ = json.Unmarshal(r[2], &rec)
			rec.Purposes["marketing"] = true
			d, _ := rec.digest()
			rec.Hash = hex.EncodeToString(d[:])
			r[2], _ = json.Marshal(rec)
			return r, c
		}, []ProblemKind{BrokenLink, BadHMAC}, 4},
		{"hmac replaced", func(r [][]byte, c []Checkpoint) ([][]byte, []Checkpoint) {
			r[7] = edit(r[7], func(m map[string]any) { m["hmac"] = strings.Repeat("0", 64) })
			return r, c
		}, []ProblemKind{BadHMAC}, 8},
		{"tail truncated", func(r [][]byte, c []Checkpoint) ([][]byte, []Checkpoint) {
			return r[:8], c
		}, []ProblemKind{Truncated}, 9},
		{"checkpoint forged", func(r [][]byte, c []Checkpoint) ([][]byte, []Checkpoint) {
			c[0].Seq = 7
			return r, c
		}, []ProblemKind{BadCheckpoint}, 7},
		{"unreadable record", func(r [][]byte, c []Checkpoint) ([][]byte, []Checkpoint) {
			r[4] = []byte(`{"garbage`)
			return r, c
		}, []ProblemKind{Altered}, 5},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := k.chain(t, "gw-1", Head{})
			raws := sealN(t, c, 10)
			cp, _ := c.Checkpoint()
			raws, cps := tc.tamper(raws, []Checkpoint{cp})
			rep := verifyRaw("gw-1", cps, raws, VerifyOptions{Keys: k.verifyKeys()})
			if got := kinds(rep); !slices.Equal(got, tc.want) {
				t.Fatalf("problems %v, want %v", rep.Problems, tc.want)
			}
			if rep.Problems[0].Seq != tc.seq {
				t.Fatalf("problem names seq %d, want %d: %v", rep.Problems[0].Seq, tc.seq, rep.Problems[0])
			}
		})
	}
}

func TestVerifyWithoutMACKeys(t *testing.T) {
	k := newTestKeys(t)
	c := k.chain(t, "gw-1", Head{})
	raws := sealN(t, c, 3)
	keys := k.verifyKeys()
	keys.MAC = nil
	rep := verifyRaw("gw-1", nil, raws, VerifyOptions{Keys: keys})
	if !rep.OK() || rep.MACChecked {
		t.Fatalf("report %+v", rep)
	}
}

// TestRotatedKeysKeepOldProofsVerifiable: after a key rotation, records and
// checkpoints made with either generation verify when the verifier holds
// both; without the old MAC key the old records are reported, not hidden.
func TestRotatedKeysKeepOldProofsVerifiable(t *testing.T) {
	oldKeys := newTestKeys(t)
	c := oldKeys.chain(t, "gw-1", Head{})
	raws := sealN(t, c, 3)
	cpOld, err := c.Checkpoint()
	if err != nil {
		t.Fatal(err)
	}
	newMAC, err := NewMACKey([]byte("fedcba9876543210fedcba9876543210"))
	if err != nil {
		t.Fatal(err)
	}
	newKeys := newTestKeys(t)
	newKeys.mac = newMAC
	if err := c.Rotate(newKeys.mac, newKeys.signer); err != nil {
		t.Fatal(err)
	}
	raws = append(raws, sealN(t, c, 3)...)
	cpNew, err := c.Checkpoint()
	if err != nil {
		t.Fatal(err)
	}
	if cpOld.KeyID == cpNew.KeyID {
		t.Fatalf("checkpoint after rotation signed with the old key %s", cpNew.KeyID)
	}
	both := oldKeys.verifyKeys()
	both.MAC[newKeys.mac.ID] = newKeys.mac.Secret
	both.PublicKeys[newKeys.signer.ID] = newKeys.signer.Public()
	cps := []Checkpoint{cpOld, cpNew}
	if rep := verifyRaw("gw-1", cps, raws, VerifyOptions{Keys: both}); !rep.OK() || rep.Records != 6 {
		t.Errorf("both generations: %+v", rep)
	}
	if rep := verifyRaw("gw-1", cps, raws, VerifyOptions{Keys: newKeys.verifyKeys()}); rep.OK() || rep.Counts[BadHMAC] != 3 || rep.Counts[BadCheckpoint] != 1 {
		t.Errorf("only the new keys should flag the 3 old records and the old checkpoint: %+v", rep)
	}
	if err := c.Rotate(MACKey{}, newKeys.signer); err == nil {
		t.Errorf("rotating to an empty key was accepted")
	}
}
