package caddymodule_test

import (
	"bufio"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/consentgate/consentgate/caddymodule"
)

// TestPeriodicCheckpointsAndRetention: with the 6-hour maintenance interval
// shortened, the gateway signs checkpoints of its chain by itself, again as
// records come, and enforces retention: records whose consent ended more
// than proof_retention ago are deleted up to a checkpoint, and what remains
// (nothing, then a new record) verifies. Nothing here asks for a checkpoint
// or an expiry.
func TestPeriodicCheckpointsAndRetention(t *testing.T) {
	caddymodule.SetCheckpointEvery(t, 100*time.Millisecond)
	site, admin, logFile := auditGateway(t, "maintain-test",
		"renew_after 1s", "refusal_renew_after 1s", "proof_retention 1s")
	c := newClient(t)

	auditPost(t, c, site, `{"all":true}`)
	waitUntil(t, "a checkpoint of the first record", func() bool { return lastCheckpoint(t, admin) == 1 })
	auditPost(t, c, site, `{"all":false}`)
	waitUntil(t, "a checkpoint of the second record", func() bool { return lastCheckpoint(t, admin) == 2 })

	// Each choice ends a second after it was made and is kept a second
	// more; a checkpoint at least that old anchors what follows.
	waitUntil(t, "retention to delete both records", func() bool { return len(exportJSONL(t, admin, "")) == 0 })
	// Nothing is left, and that verifies: the last checkpoint is older than
	// the retention, which explains why.
	var verified struct {
		OK     bool `json:"ok"`
		Chains []struct {
			Records int `json:"records"`
			Anchor  *struct {
				Seq int `json:"seq"`
			} `json:"anchor"`
		} `json:"chains"`
	}
	adminJSON(t, "GET", admin+"/consent/verify", 200, &verified)
	if !verified.OK || len(verified.Chains) != 1 || verified.Chains[0].Records != 0 ||
		verified.Chains[0].Anchor == nil || verified.Chains[0].Anchor.Seq != 2 {
		t.Errorf("verify after retention: %+v, want no records, anchored at seq 2", verified)
	}
	// The chain goes on after the checkpoint, and still verifies.
	auditPost(t, c, site, `{"all":true}`)
	adminJSON(t, "GET", admin+"/consent/verify", 200, &verified)
	if !verified.OK || len(verified.Chains) != 1 || verified.Chains[0].Records != 1 || verified.Chains[0].Anchor == nil {
		t.Errorf("verify after a new record: %+v, want it anchored at seq 2", verified)
	}
	logs, _ := os.ReadFile(logFile)
	if !strings.Contains(string(logs), `"msg":"expired proofs past their retention"`) {
		t.Errorf("no retention run logged in\n%s", logs)
	}
}

// lastCheckpoint is the seq of the chain's latest checkpoint (0 if none).
func lastCheckpoint(t *testing.T, admin string) int {
	t.Helper()
	resp, body := adminDo(t, "GET", admin+"/consent/checkpoints")
	if resp.StatusCode != 200 {
		t.Fatalf("checkpoints: %d %s", resp.StatusCode, body)
	}
	last := 0
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		var cp struct {
			Seq int `json:"seq"`
		}
		if err := json.Unmarshal(sc.Bytes(), &cp); err != nil {
			t.Fatalf("checkpoint line %q: %v", sc.Text(), err)
		}
		last = max(last, cp.Seq)
	}
	return last
}

// waitUntil polls cond for up to 10 seconds.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited 10s for %s", what)
		}
	}
}
