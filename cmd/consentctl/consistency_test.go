package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/consentgate/consentgate/caddymodule/gatewaytest"
)

// TestNothingSelectedIsSaidAlike: a --purpose no record is about is a note
// on standard error, from export as from stats, and neither is a failure
// (exit 0: an empty selection is an answer); a chain that does not exist is
// "no chain", exit 1, from every command that takes --chain.
func TestNothingSelectedIsSaidAlike(t *testing.T) {
	site, admin, _ := startGateway(t)
	gatewaytest.PostChoice(t, gatewaytest.NewClient(t), site, `{"all":true}`)
	out := filepath.Join(t.TempDir(), "none.jsonl")
	code, _, stderr := ctl(t, "export", "--address", admin, "--purpose", "nosuch", "-o", out)
	data, err := os.ReadFile(out)
	if code != exitOK || err != nil || len(data) != 0 || !strings.Contains(stderr, `no record in this selection is about the purpose "nosuch"`) {
		t.Errorf("export --purpose nosuch: exit %d, file %q (%v), stderr %q; want exit 0, an empty file and a note", code, data, err, stderr)
	}
	if code, _, stderr := ctl(t, "stats", "--address", admin, "--purpose", "nosuch"); code != exitOK || !strings.Contains(stderr, `no decision in these records is about the purpose "nosuch"`) {
		t.Errorf("stats --purpose nosuch: exit %d, stderr %q", code, stderr)
	}
	if code, _, stderr := ctl(t, "export", "--address", admin, "--purpose", "analytics"); code != exitOK || stderr != "" {
		t.Errorf("export --purpose analytics: exit %d, stderr %q; want no note", code, stderr)
	}
	for _, cmd := range []string{"export", "stats", "verify", "checkpoints"} {
		if code, stdout, stderr := ctl(t, cmd, "--address", admin, "--chain", "nosuch"); code != exitFailed || !strings.Contains(stderr, `no chain "nosuch"`) || stdout != "" {
			t.Errorf("%s --chain nosuch: exit %d, stdout %q, stderr %q; want exit 1 and no chain", cmd, code, stdout, stderr)
		}
	}
}

// TestJSONEndsItsLine: what --json prints is the API's JSON and a newline,
// so that a shell prompt or the next command's output starts on a line of
// its own.
func TestJSONEndsItsLine(t *testing.T) {
	site, admin, _ := startGateway(t)
	gatewaytest.PostChoice(t, gatewaytest.NewClient(t), site, `{"all":true}`)
	for _, cmd := range []string{"verify", "stats", "keys"} {
		code, stdout, stderr := ctl(t, cmd, "--address", admin, "--json")
		if code != exitOK || !strings.HasSuffix(stdout, "}\n") || !json.Valid([]byte(stdout)) {
			t.Errorf("%s --json: exit %d %s, want JSON ending in a newline: %q", cmd, code, stderr, stdout)
		}
	}
}

// TestCheckpointAgainSaysItIsTheExistingOne: asked again with no record
// since, checkpoint signs nothing new, and says so, naming the checkpoint
// that stands (its seq and time), instead of printing it as just signed.
func TestCheckpointAgainSaysItIsTheExistingOne(t *testing.T) {
	site, admin, _ := startGateway(t)
	gatewaytest.PostChoice(t, gatewaytest.NewClient(t), site, `{"all":true}`)
	signedNow := regexp.MustCompile(`^chain ctl-commands  \(bolt://[^)]+\): checkpoint at seq 1, (\S+)\n$`)
	code, stdout, stderr := ctl(t, "checkpoint", "--address", admin)
	m := signedNow.FindStringSubmatch(stdout)
	if code != exitOK || m == nil {
		t.Fatalf("checkpoint: exit %d %s\n%q", code, stderr, stdout)
	}
	code, stdout, stderr = ctl(t, "checkpoint", "--address", admin)
	if code != exitOK || signedNow.MatchString(stdout) || !strings.Contains(stdout, "no new checkpoint: no record since the checkpoint at seq 1, signed "+m[1]+"\n") {
		t.Errorf("checkpoint again, no record since: exit %d %s\n%q", code, stderr, stdout)
	}
	gatewaytest.PostChoice(t, gatewaytest.NewClient(t), site, `{"all":false}`)
	if code, stdout, _ := ctl(t, "checkpoint", "--address", admin); code != exitOK || !strings.Contains(stdout, "): checkpoint at seq 2, ") {
		t.Errorf("checkpoint after a new record: exit %d %q", code, stdout)
	}
}

// TestTimesBetweenMillisecondsSelectExactly: records carry whole
// milliseconds; a --since or --until between two selects as the instant
// it names (since at or after, until before), not as the millisecond
// before it.
func TestTimesBetweenMillisecondsSelectExactly(t *testing.T) {
	site, admin, _ := startGateway(t)
	gatewaytest.PostChoice(t, gatewaytest.NewClient(t), site, `{"all":true}`)
	_, stdout, _ := ctl(t, "export", "--address", admin)
	recs := readJSONL(t, stdout)
	if len(recs) != 1 {
		t.Fatalf("want 1 record, got %d", len(recs))
	}
	at := time.UnixMilli(recs[0].Time).UTC()
	stamp := func(t time.Time) string { return t.Format(time.RFC3339Nano) }
	after := at.Add(100 * time.Microsecond) // …39.6001Z for a record at …39.600Z
	for _, tc := range []struct {
		flag, at string
		want     int
	}{
		{"--since", stamp(at), 1},
		{"--since", stamp(after), 0},
		{"--until", stamp(at), 0},
		{"--until", stamp(after), 1},
	} {
		code, stdout, stderr := ctl(t, "export", "--address", admin, tc.flag, tc.at)
		if got := len(readJSONL(t, stdout)); code != exitOK || got != tc.want {
			t.Errorf("export %s %s (the record is at %s): exit %d %s, %d records, want %d", tc.flag, tc.at, stamp(at), code, stderr, got, tc.want)
		}
		code, stdout, stderr = ctl(t, "stats", "--address", admin, tc.flag, tc.at)
		if want := plural(tc.want, "decision") + "\n"; code != exitOK || !strings.HasSuffix(stdout, want) {
			t.Errorf("stats %s %s (the record is at %s): exit %d %s, want %q:\n%s", tc.flag, tc.at, stamp(at), code, stderr, want, stdout)
		}
	}
}
