package caddymodule

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/consentgate/consentgate/consent/proof"
)

// TestErasureLogKeepsWhatMayStillBeStored: the list of erasures hands back
// each erasure in order, drops those whose records' retention has ended
// and a line a crash cut short, and is left as it was when the walk stops
// early.
func TestErasureLogKeepsWhatMayStillBeStored(t *testing.T) {
	l := &erasureLog{path: filepath.Join(t.TempDir(), "erasures.jsonl")}
	for i, end := range []int64{100, 300, 200} {
		receipt := proof.Receipt([]proof.Record{{Chain: "gw-1", Seq: uint64(i + 1), EventID: "e", Time: end}})
		if err := l.add(receipt); err != nil {
			t.Fatal(err)
		}
	}
	f, _ := os.OpenFile(l.path, os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString(`{"erased":[{"chain":"gw-1","se`) // a write cut short
	f.Close()
	before, _ := os.ReadFile(l.path)

	stop := errors.New("stop")
	if err := l.each(150, func(erasureEntry) error { return stop }); !errors.Is(err, stop) {
		t.Fatalf("walk stopped by fn: %v", err)
	}
	if after, _ := os.ReadFile(l.path); string(after) != string(before) {
		t.Fatalf("a walk stopped early changed the file:\n%s", after)
	}
	seqs := func() (out []uint64) {
		if err := l.each(150, func(e erasureEntry) error {
			out = append(out, e.Erased[0].Seq)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	if got := seqs(); !slices.Equal(got, []uint64{2, 3}) {
		t.Fatalf("kept %v, want the erasures of seq 2 and 3, in order", got)
	}
	if got := seqs(); !slices.Equal(got, []uint64{2, 3}) {
		t.Fatalf("the second time, %v", got)
	}
	if data, _ := os.ReadFile(l.path); len(data) >= len(before) {
		t.Fatalf("nothing dropped from the file:\n%s", data)
	}
}
