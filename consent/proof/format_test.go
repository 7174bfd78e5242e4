package proof

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

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
				if sealed, err = c.Eraser().Tombstone(sealed); err != nil {
					t.Fatal(err)
				}
			}
			data, _ := json.Marshal(sealed)
			lines = append(lines, data)
		}
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
	if code != 0 || strings.Count(out, ": OK (12 records, 1 tombstones, 1 checkpoints)") != 2 {
		t.Fatalf("sound export: exit %d\n%s", code, out)
	}

	// Alter a choice in gw-a seq 3 and delete gw-b seq 7.
	var m map[string]any
	_ = json.Unmarshal(lines[2], &m)
	m["purposes"].(map[string]any)["marketing"] = true
	lines[2], _ = json.Marshal(m)
	tampered := append(append([][]byte{}, lines[:18]...), lines[19:]...)
	out, code = run(tampered)
	if code != 1 || !strings.Contains(out, "gw-a: altered at seq 3") || !strings.Contains(out, "gw-b: gap at seq 7") {
		t.Fatalf("tampered export: exit %d\n%s", code, out)
	}
}
