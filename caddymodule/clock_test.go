package caddymodule_test

import (
	"crypto/ed25519"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/consentgate/consentgate/consent/proof"
)

// TestProofsDatedAheadOfTheClockArePointedOut: a chain whose last proof is
// dated three hours ahead of the clock (sealed while the clock ran ahead,
// which was then corrected; sealed here at that time rather than by
// moving this machine's clock). A chain's times never go back, so the
// gateway's new proofs carry that time, and its log says why, once for
// both posts; the chain verifies.
func TestProofsDatedAheadOfTheClockArePointedOut(t *testing.T) {
	const warning = "proofs are dated ahead of the clock"
	macSecret, seed := make([]byte, 32), make([]byte, ed25519.SeedSize)
	for i := range macSecret {
		macSecret[i], seed[i] = byte(5*i+2), byte(200-i)
	}
	db := filepath.Join(t.TempDir(), "proofs.db")
	ahead := time.Now().Add(3 * time.Hour).Truncate(time.Millisecond)
	seedChain(t, db, "clock-ahead", macSecret, seed, []proof.Record{
		decided(ahead, proof.Given, "a", proof.ActionAcceptAll, true, true),
	})
	site, admin, logFile := auditGatewayAt(t, db, "clock-ahead",
		fmt.Sprintf("proof_key %x", macSecret), fmt.Sprintf("signing_key %x", seed))
	c := newClient(t)
	auditPost(t, c, site, `{"all":false}`)
	auditPost(t, c, site, `{"all":true}`)

	recs := exportJSONL(t, admin, "")
	if len(recs) != 3 {
		t.Fatalf("want 3 records, got %d", len(recs))
	}
	for _, r := range recs[1:] {
		if r.Time != ahead.UnixMilli() {
			t.Errorf("seq %d is dated %v, want the chain's last time %v", r.Seq, time.UnixMilli(r.Time).UTC(), ahead.UTC())
		}
	}
	log := readFile(logFile)
	if n := strings.Count(log, warning); n != 1 {
		t.Fatalf("want one warning that proofs are dated ahead of the clock, got %d:\n%s", n, log)
	}
	line := lineWith(log, warning)
	for _, want := range []string{`"ahead":"3h0m0s"`, `"dated":"` + ahead.UTC().Format("2006-01-02T15:04:05"), `"chain":"clock-ahead"`} {
		if !strings.Contains(line, want) {
			t.Errorf("the warning does not say %s: %s", want, line)
		}
	}
	var verified verifyAnswer
	adminJSON(t, "GET", admin+"/consent/verify", 200, &verified)
	if !verified.OK {
		t.Errorf("the chain does not verify: %+v", verified)
	}
}
