package caddymodule_test

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/consentgate/consentgate/consent/proof"
	"github.com/consentgate/consentgate/consent/store"
	"github.com/consentgate/consentgate/consent/store/bolt"
)

// statsAnswer is what GET /consent/stats answers.
type statsAnswer struct {
	Decisions int      `json:"decisions"`
	Erased    int      `json:"erased"`
	Purposes  []string `json:"purposes"`
	Days      []struct {
		Day       string                    `json:"day"`
		Decisions int                       `json:"decisions"`
		Purposes  map[string]map[string]int `json:"purposes"`
	} `json:"days"`
	Totals map[string]map[string]int `json:"totals"`
}

// TestStatsAcrossDays: a gateway whose chain began on two earlier days
// (records sealed with its keys and stored before it starts, as it would
// have written them then) and goes on today. Stats count each UTC day and
// purpose apart, the totals add them up, a day filter keeps one day, and
// the chain, continued by the gateway, verifies.
func TestStatsAcrossDays(t *testing.T) {
	macSecret, seed := make([]byte, 32), make([]byte, ed25519.SeedSize)
	for i := range macSecret {
		macSecret[i], seed[i] = byte(3*i+1), byte(250-i)
	}
	db := filepath.Join(t.TempDir(), "proofs.db")
	day1 := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	day2 := time.Date(2025, 3, 2, 23, 59, 59, 999e6, time.UTC) // the day's last millisecond
	seedChain(t, db, "stats-days", macSecret, seed, []proof.Record{
		decided(day1, proof.Given, "a", proof.ActionAcceptAll, true, true),
		decided(day1.Add(time.Hour), proof.Refused, "b", proof.ActionRejectAll, false, false),
		decided(day1.Add(2*time.Hour), proof.Given, "c", proof.ActionSaveSelection, true, false),
		decided(day2.Add(-time.Hour), proof.Withdrawn, "a", proof.ActionWithdraw, false, false),
		decided(day2.Add(-time.Minute), proof.GPCDefault, "c", proof.ActionSignal, true, false),            // decides marketing alone
		decided(day2.Add(-time.Second), proof.PlaceholderAccept, "d", proof.ActionLoadEmbed, false, false), // about a vendor, no purpose
		decided(day2, proof.Expired, "b", proof.ActionExpire, false, false),                                // nobody's decision: left out
	})
	site, admin, _ := auditGatewayAt(t, db, "stats-days",
		fmt.Sprintf("proof_key %x", macSecret), fmt.Sprintf("signing_key %x", seed))
	auditPost(t, newClient(t), site, `{"all":false}`)
	today := time.Now().UTC().Format(time.DateOnly)

	var stats statsAnswer
	adminJSON(t, "GET", admin+"/consent/stats", 200, &stats)
	days := make([]string, len(stats.Days))
	for i, d := range stats.Days {
		days[i] = d.Day
	}
	if stats.Decisions != 7 || !slices.Equal(days, []string{"2025-03-01", "2025-03-02", today}) {
		t.Fatalf("stats: %d decisions on %v, want 7 on 2025-03-01, 2025-03-02 and %s", stats.Decisions, days, today)
	}
	counts := func(decisions, accepted, rejected, custom, withdrawn, gpc, granted int) map[string]int {
		return map[string]int{"decisions": decisions, "accepted": accepted, "rejected": rejected, "custom": custom,
			"withdrawn": withdrawn, "gpc_defaulted": gpc, "granted": granted}
	}
	want := []struct {
		decisions            int
		analytics, marketing map[string]int
	}{
		{3, counts(3, 1, 1, 1, 0, 0, 2), counts(3, 1, 1, 1, 0, 0, 1)},
		{3, counts(1, 0, 0, 0, 1, 0, 0), counts(2, 0, 0, 0, 1, 1, 0)},
		{1, counts(1, 0, 1, 0, 0, 0, 0), counts(1, 0, 1, 0, 0, 0, 0)},
	}
	for i, w := range want {
		d := stats.Days[i]
		if d.Decisions != w.decisions || !maps.Equal(d.Purposes["analytics"], w.analytics) || !maps.Equal(d.Purposes["marketing"], w.marketing) {
			t.Errorf("%s: %d decisions, analytics %v, marketing %v; want %d, %v, %v",
				d.Day, d.Decisions, d.Purposes["analytics"], d.Purposes["marketing"], w.decisions, w.analytics, w.marketing)
		}
	}
	if a, m := stats.Totals["analytics"], stats.Totals["marketing"]; !maps.Equal(a, counts(5, 1, 2, 1, 1, 0, 2)) || !maps.Equal(m, counts(6, 1, 2, 1, 1, 1, 1)) {
		t.Errorf("totals: analytics %v, marketing %v", a, m)
	}

	adminJSON(t, "GET", admin+"/consent/stats?since=2025-03-02&until=2025-03-02", 200, &stats)
	if stats.Decisions != 3 || len(stats.Days) != 1 || stats.Days[0].Day != "2025-03-02" || !maps.Equal(stats.Totals["analytics"], want[1].analytics) {
		t.Errorf("stats of 2025-03-02 alone: %+v", stats)
	}
	// Nobody decides about the necessary purpose: asking for its stats is
	// an error that says why, not an empty table.
	var refusal struct {
		Error string `json:"error"`
	}
	adminJSON(t, "GET", admin+"/consent/stats?purpose=necessary", 400, &refusal)
	if !strings.Contains(refusal.Error, "cannot be refused") {
		t.Errorf("stats of the necessary purpose: %q, want it to say the purpose cannot be refused", refusal.Error)
	}
	var verified struct {
		OK bool `json:"ok"`
	}
	adminJSON(t, "GET", admin+"/consent/verify", 200, &verified)
	if !verified.OK {
		t.Error("the chain begun before the gateway started and continued by it does not verify")
	}
}

// decided is a decision about analytics and marketing as the gateway
// records it, at a chosen time.
func decided(at time.Time, typ proof.EventType, consentID, action string, analytics, marketing bool) proof.Record {
	layer := proof.LayerFirst
	if action == proof.ActionSignal || action == proof.ActionExpire {
		layer = proof.LayerAutomatic
	}
	return proof.Record{
		Type: typ, Time: at.UnixMilli(), ExpiresAt: at.Add(180 * 24 * time.Hour).UnixMilli(),
		ConsentID: consentID, Site: "127.0.0.1", Path: "/",
		How:      proof.How{Layer: layer, Action: action},
		Purposes: map[string]bool{"necessary": true, "analytics": analytics, "marketing": marketing},
		Signals:  proof.Signals{Effect: proof.EffectNone},
	}
}

// seedChain seals records (at their own times) on a chain with the given
// proof keys and stores them in the bolt file db.
func seedChain(t *testing.T, db, chainID string, macSecret, seed []byte, recs []proof.Record) {
	t.Helper()
	mac, err := proof.NewMACKey(macSecret)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := proof.NewSigningKey(ed25519.NewKeyFromSeed(seed))
	if err != nil {
		t.Fatal(err)
	}
	// A clock at the epoch: each record keeps the time it was given.
	chain, err := proof.NewChain(proof.ChainConfig{ID: chainID, MAC: mac, Signer: signer,
		Now: func() time.Time { return time.UnixMilli(0) }}, proof.Head{})
	if err != nil {
		t.Fatal(err)
	}
	sealed := make([]proof.Record, len(recs))
	for i, r := range recs {
		if sealed[i], err = chain.Seal(r); err != nil {
			t.Fatal(err)
		}
	}
	s, err := bolt.Open(db, bolt.Options{Options: store.Options{Retention: store.DefaultRetention}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Append(context.Background(), sealed); err != nil {
		t.Fatal(err)
	}
}
