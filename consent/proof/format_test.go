package proof

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/consentgate/consentgate/consent/proof/prooftest"
)

// TestFormatScript runs the auditor's script from FORMAT.md on records and
// checkpoints written by this package: a sound export passes, a tampered
// one fails naming what was done.
func TestFormatScript(t *testing.T) {
	dir := t.TempDir()
	python, scriptPath := prooftest.Script(t, dir)
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}

	k := newTestKeys(t)
	var lines [][]byte
	var cps []Checkpoint
	for _, id := range []string{"gw-a", "gw-b"} {
		c := k.chain(t, id, Head{})
		var erased []Record
		for i := range 12 {
			r := sampleRecord(i)
			// Keys whose UTF-16 order differs from code point order, and
			// strings that need escaping.
			r.Purposes["\U0001F600fun"] = true
			r.Purposes["\uFB33x"] = false
			r.Path = "/a\"b\\c\u2028\u00e9<&>"
			sealed, err := c.Seal(r)
			if err != nil {
				t.Fatal(err)
			}
			if i == 4 {
				erased = append(erased, sealed)
				if sealed, err = c.Eraser().Tombstone(sealed); err != nil {
					t.Fatal(err)
				}
			}
			data, _ := json.Marshal(sealed)
			lines = append(lines, data)
		}
		lines = append(lines, sealReceipt(t, c, erased))
		cp, _ := c.Checkpoint()
		cps = append(cps, cp)
	}
	var cpLines [][]byte
	for _, cp := range cps {
		data, _ := json.Marshal(cp)
		cpLines = append(cpLines, data)
	}
	cpPath := write("checkpoints.jsonl", append(bytes.Join(cpLines, []byte("\n")), '\n'))
	run := func(records [][]byte) (string, int) {
		p := write("records.jsonl", append(bytes.Join(records, []byte("\n")), '\n'))
		cmd := exec.Command(python, scriptPath, p, "--checkpoints", cpPath,
			"--public-key", hex.EncodeToString(k.signer.Public()), "--mac-key", hex.EncodeToString(k.mac.Secret))
		out, _ := cmd.CombinedOutput()
		return string(out), cmd.ProcessState.ExitCode()
	}

	out, code := run(lines)
	if code != 0 || strings.Count(out, ": OK (13 records, 1 tombstones, 1 receipts, 1 checkpoints)") != 2 {
		t.Fatalf("sound export: exit %d\n%s", code, out)
	}

	// Alter a choice in gw-a seq 3 and delete gw-b seq 7.
	var m map[string]any
	_ = json.Unmarshal(lines[2], &m)
	m["purposes"].(map[string]any)["marketing"] = true
	lines[2], _ = json.Marshal(m)
	// And put an injected "type" in front of gw-a seq 6's own: a JSON
	// parser that keeps the last of two equal keys would see the record
	// as it was sealed.
	lines[5] = append([]byte(`{"type":"withdrawn",`), lines[5][1:]...)
	tampered := append(append([][]byte{}, lines[:19]...), lines[20:]...)
	out, code = run(tampered)
	if code != 1 || !strings.Contains(out, "gw-a: altered at seq 3") || !strings.Contains(out, "gw-b: gap at seq 7") ||
		!strings.Contains(out, "gw-a: altered at seq 6: duplicate key 'type'") {
		t.Fatalf("tampered export: exit %d\n%s", code, out)
	}
}

// TestFormatScriptRetention: the script accepts a chain whose oldest
// records are gone, or all of whose records are gone, only when the
// checkpoint standing for them has outlived the retention (the one now, or
// the one the checkpoints name for their time), as the gateway's verifier
// does.
func TestFormatScriptRetention(t *testing.T) {
	dir := t.TempDir()
	python, scriptPath := prooftest.Script(t, dir)
	k := newTestKeys(t)
	year := 365 * 24 * time.Hour
	fourYearsAgo, twoYearsAgo := time.Now().Add(-4*year), time.Now().Add(-2*year)

	var records, checkpoints []string
	// Each chain: three records, a checkpoint, three more, a checkpoint;
	// the export keeps the last three ("prefix") or none ("gone").
	// The "-shorter" chains' checkpoints name a retention of one year, in
	// force when they were signed two years ago: the operator has since
	// lengthened it to the default three.
	for _, tc := range []struct {
		id        string
		at        time.Time
		keep      bool
		retention time.Duration
	}{
		{"prefix-old", fourYearsAgo, true, 0},
		{"prefix-young", time.Now(), true, 0},
		{"gone-old", fourYearsAgo, false, 0},
		{"gone-young", time.Now(), false, 0},
		{"prefix-shorter", twoYearsAgo, true, year},
		{"gone-shorter", twoYearsAgo, false, year},
		{"prefix-same", twoYearsAgo, true, 3 * year},
	} {
		c, err := NewChain(ChainConfig{ID: tc.id, MAC: k.mac, Signer: k.signer, Retention: tc.retention, Now: func() time.Time { return tc.at }}, Head{})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 6 {
			r := sampleRecord(i)
			r.Time = tc.at.UnixMilli()
			sealed, err := c.Seal(r)
			if err != nil {
				t.Fatal(err)
			}
			if data, _ := json.Marshal(sealed); tc.keep && i >= 3 {
				records = append(records, string(data))
			}
			if i == 2 || i == 5 {
				cp, _ := c.Checkpoint()
				data, _ := json.Marshal(cp)
				checkpoints = append(checkpoints, string(data))
			}
		}
	}
	write := func(name string, lines []string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cmd := exec.Command(python, scriptPath, write("records.jsonl", records), "--checkpoints", write("checkpoints.jsonl", checkpoints),
		"--public-key", hex.EncodeToString(k.signer.Public()), "--mac-key", hex.EncodeToString(k.mac.Secret))
	data, _ := cmd.CombinedOutput()
	out := string(data)
	if code := cmd.ProcessState.ExitCode(); code != 1 {
		t.Errorf("exit %d, want 1 (two chains lack records still in retention)", code)
	}
	for _, want := range []string{
		"prefix-old: anchored at checkpoint seq 3 of " + fourYearsAgo.UTC().Format("2006-01-02"),
		"prefix-old: OK (3 records, 0 tombstones, 0 receipts, 2 checkpoints)",
		"prefix-young: gap at seq 1: seq 1..3 missing before their retention ended",
		"gone-old: every record expired (last checkpoint seq 6 of " + fourYearsAgo.UTC().Format("2006-01-02"),
		"gone-young: truncated at seq 1",
		"prefix-shorter: anchored at checkpoint seq 3 of " + twoYearsAgo.UTC().Format("2006-01-02"),
		"prefix-shorter: OK (3 records, 0 tombstones, 0 receipts, 2 checkpoints)",
		"gone-shorter: every record expired (last checkpoint seq 6 of " + twoYearsAgo.UTC().Format("2006-01-02"),
		"prefix-same: gap at seq 1: seq 1..3 missing before their retention ended",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// With a retention longer than four years, the old chains are short too.
	cmd = exec.Command(python, scriptPath, filepath.Join(dir, "records.jsonl"), "--checkpoints", filepath.Join(dir, "checkpoints.jsonl"),
		"--public-key", hex.EncodeToString(k.signer.Public()), "--retention-days", "2000")
	data, _ = cmd.CombinedOutput()
	if out := string(data); !strings.Contains(out, "prefix-old: gap at seq 1") || !strings.Contains(out, "gone-old: truncated at seq 1") ||
		!strings.Contains(out, "prefix-shorter: OK") || !strings.Contains(out, "gone-shorter: every record expired") {
		t.Errorf("with --retention-days 2000:\n%s", out)
	}
}

// TestFormatScriptErasureReceipts: without the MAC key, the script tells a
// tombstone an erasure made (a receipt names it, here in the chain of the
// instance that erased) from one written into the store (none does), and
// names a record a receipt says was erased that is still there; a
// tombstone past its own retention needs no receipt (it may have expired
// first), as the gateway's verifier judges.
func TestFormatScriptErasureReceipts(t *testing.T) {
	dir := t.TempDir()
	python, scriptPath := prooftest.Script(t, dir)
	k := newTestKeys(t)
	a, b := k.chain(t, "gw-a", Head{}), k.chain(t, "gw-b", Head{})
	old, err := NewChain(ChainConfig{ID: "gw-old", MAC: k.mac, Signer: k.signer,
		Now: func() time.Time { return time.Now().AddDate(-4, 0, 0) }}, Head{})
	if err != nil {
		t.Fatal(err)
	}
	rawsA, rawsB, rawsOld := sealN(t, a, 6), sealN(t, b, 2), sealN(t, old, 2)
	var erased, live Record
	_ = json.Unmarshal(rawsA[1], &erased)
	_ = json.Unmarshal(rawsA[2], &live)
	tomb, _ := b.Eraser().Tombstone(erased)
	rawsA[1], _ = json.Marshal(tomb)
	rawsB = append(rawsB, sealReceipt(t, b, []Record{erased}))
	var oldRec Record
	_ = json.Unmarshal(rawsOld[0], &oldRec)
	oldRec.ExpiresAt = oldRec.Time // ended four years ago: past the default three years
	rawsOld[0] = forgeTombstone(t, mustJSON(t, oldRec))

	var cps []string
	for _, c := range []*Chain{a, b, old} {
		cp, _ := c.Checkpoint()
		cps = append(cps, string(mustJSON(t, cp)))
	}
	cpPath := filepath.Join(dir, "checkpoints.jsonl")
	if err := os.WriteFile(cpPath, []byte(strings.Join(cps, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(chains ...[][]byte) (string, int) {
		p := filepath.Join(dir, "records.jsonl")
		if err := os.WriteFile(p, append(bytes.Join(slices.Concat(chains...), []byte("\n")), '\n'), 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(python, scriptPath, p, "--checkpoints", cpPath, "--public-key", hex.EncodeToString(k.signer.Public()))
		out, _ := cmd.CombinedOutput()
		return string(out), cmd.ProcessState.ExitCode()
	}

	out, code := run(rawsA, rawsB, rawsOld)
	for _, want := range []string{
		"gw-a: OK (6 records, 1 tombstones, 0 receipts, 1 checkpoints, HMACs not checked)",
		"gw-b: OK (3 records, 0 tombstones, 1 receipts, 1 checkpoints, HMACs not checked)",
		"gw-old: OK (2 records, 1 tombstones, 0 receipts, 1 checkpoints, HMACs not checked)",
	} {
		if code != 0 || !strings.Contains(out, want) {
			t.Fatalf("erased by another instance: exit %d, want %q in\n%s", code, want, out)
		}
	}

	// A withdrawal made to vanish, and a receipt naming a record still
	// there.
	rawsA[4] = forgeTombstone(t, rawsA[4])
	rawsB = append(rawsB, sealReceipt(t, b, []Record{live}))
	out, code = run(rawsA, rawsB, rawsOld)
	if code != 1 || !strings.Contains(out, "gw-a: unreceipted_tombstone at seq 5") ||
		!strings.Contains(out, "gw-a: unfinished_erasure at seq 3") || strings.Contains(out, "gw-a: unreceipted_tombstone at seq 2") {
		t.Fatalf("forged tombstone and unfinished erasure: exit %d\n%s", code, out)
	}
	// Without the receipts' chain, the genuine tombstone is unaccounted
	// for too: an export must hold every chain.
	if out, _ := run(rawsA, rawsOld); !strings.Contains(out, "gw-a: unreceipted_tombstone at seq 2") {
		t.Fatalf("export without the erasing instance's chain:\n%s", out)
	}
	// A forged tombstone dated four years back, to pass as past its
	// retention: its time goes back in the chain.
	rawsA[3] = forgeTombstone(t, mustJSON(t, backdated(t, rawsA[3])))
	if out, code := run(rawsA, rawsB, rawsOld); code != 1 || !strings.Contains(out, "gw-a: altered at seq 4: dated before the record before it") {
		t.Fatalf("a forged tombstone dated back: exit %d\n%s", code, out)
	}
}

// backdated is a stored record dated four years back, its choice ended
// then.
func backdated(t *testing.T, raw []byte) Record {
	t.Helper()
	var r Record
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatal(err)
	}
	r.Time = time.Now().AddDate(-4, 0, 0).UnixMilli()
	r.ExpiresAt = r.Time
	return r
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
