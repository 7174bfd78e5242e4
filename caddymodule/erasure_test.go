package caddymodule_test

import (
	"encoding/csv"
	"net/http"
	"slices"
	"strings"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/consentgate/consentgate/consent/proof/prooftest"
)

// erasedRef is a record an erasure receipt names.
type erasedRef struct {
	Chain   string `json:"chain"`
	Seq     uint64 `json:"seq"`
	EventID string `json:"event_id"`
}

// receiptsIn picks the erasure receipts out of an export.
func receiptsIn(recs []exportedRecord) []exportedRecord {
	return slices.DeleteFunc(slices.Clone(recs), func(r exportedRecord) bool { return r.Type != "erasure" })
}

// TestErasureLeavesAReceipt: an auditor's erasure and a visitor's each
// append to the chain a receipt naming the erased records by chain, seq
// and event id, and nothing of the person; the chain verifies with it.
// Receipts are no decisions: stats, the dashboard and the visitor's own
// download leave them out, while the export (JSON Lines and CSV) has them.
func TestErasureLeavesAReceipt(t *testing.T) {
	site, admin, _ := auditGateway(t, "receipt-test")
	alice, bob, carol := newClient(t), newClient(t), newClient(t)
	auditPost(t, alice, site, `{"all":true}`)
	auditPost(t, bob, site, `{"all":false}`)
	auditPost(t, alice, site, `{"withdraw":true}`)
	auditPost(t, carol, site, `{"all":true}`)
	recs := exportJSONL(t, admin, "")

	var erased struct {
		Erased int `json:"erased"`
	}
	postID(t, admin, "erase", recs[0].ConsentID, 200, &erased)
	req, _ := http.NewRequest("DELETE", site+"/.consent/proofs", nil)
	if resp, body := do(t, bob, req); erased.Erased != 2 || resp.StatusCode != 200 || !strings.Contains(body, `"erased": 1`) {
		t.Fatalf("erasures: auditor's %d, visitor's %d %s", erased.Erased, resp.StatusCode, body)
	}

	after := exportJSONL(t, admin, "")
	receipts := receiptsIn(after)
	wantAlice := []erasedRef{{"receipt-test", 1, recs[0].EventID}, {"receipt-test", 3, recs[2].EventID}}
	wantBob := []erasedRef{{"receipt-test", 2, recs[1].EventID}}
	if len(after) != 6 || len(receipts) != 2 || !slices.Equal(receipts[0].Erased, wantAlice) || !slices.Equal(receipts[1].Erased, wantBob) {
		t.Fatalf("export after two erasures: %+v", after)
	}
	for _, r := range receipts {
		if r.ConsentID != "" || r.Site != "" || r.Seq < 5 || r.Chain != "receipt-test" {
			t.Errorf("receipt %+v: want it at the chain's end, naming no consent and no site", r)
		}
	}
	var verified verifyAnswer
	adminJSON(t, "GET", admin+"/consent/verify", 200, &verified)
	if c := verified.Chains[0]; !verified.OK || c.Records != 6 || c.Tombstones != 3 || c.Receipts != 2 {
		t.Errorf("verify: %+v", verified)
	}

	var stats statsAnswer
	adminJSON(t, "GET", admin+"/consent/stats", 200, &stats)
	if stats.Decisions != 1 || stats.Erased != 3 || stats.Days[0].Decisions != 1 {
		t.Errorf("stats: %+v, want carol's one decision and three erased", stats)
	}
	if _, body := adminDo(t, "GET", admin+"/consent/dashboard"); !strings.Contains(body, "1 decisions and 3 erased") {
		t.Errorf("the dashboard counts otherwise:\n%s", body)
	}
	if own := ownProofs(t, carol, site); len(own.Records) != 1 || own.Records[0].Type != "given" {
		t.Errorf("carol's own records: %+v", own)
	}

	resp, body := adminDo(t, "GET", admin+"/consent/export?format=csv")
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if resp.StatusCode != 200 || err != nil || len(rows) != 7 {
		t.Fatalf("csv export: %d %v\n%s", resp.StatusCode, err, body)
	}
	col := func(row []string, name string) string { return row[slices.Index(rows[0], name)] }
	receipt := rows[5]
	if col(receipt, "type") != "erasure" || col(receipt, "erased") != "receipt-test:1;receipt-test:3" ||
		col(receipt, "consent_id") != "" || col(receipt, "gpc") != "" || col(receipt, "ip") != "" || col(receipt, "seq") != "5" {
		t.Errorf("csv row of the receipt: %q", receipt)
	}
	if col(rows[4], "erased") != "" {
		t.Errorf("a decision's erased cell: %q", col(rows[4], "erased"))
	}
}

// TestForgedTombstoneInRedis: a tombstone written straight into Redis (a
// withdrawal made to vanish) is reported by verify as unreceipted, besides
// its HMAC; a genuine erasure's tombstones are not.
func TestForgedTombstoneInRedis(t *testing.T) {
	g := startRedisGateway(t, "forged")
	alice, bob := newClient(t), newClient(t)
	auditPost(t, alice, g.site, `{"all":true}`)
	auditPost(t, alice, g.site, `{"withdraw":true}`)
	auditPost(t, bob, g.site, `{"all":true}`)
	req, _ := http.NewRequest("DELETE", g.site+"/.consent/proofs", nil)
	if resp, body := do(t, bob, req); resp.StatusCode != 200 {
		t.Fatalf("bob's erasure: %d %s", resp.StatusCode, body)
	}
	c := goredis.NewClient(&goredis.Options{Addr: g.node.Addr()})
	defer c.Close()
	const key = "{forged:forged}:rec"
	withdrawal, err := c.HGet(t.Context(), key, "2").Bytes()
	if err != nil {
		t.Fatal(err)
	}
	forged, err := prooftest.ForgeTombstone(withdrawal)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.HSet(t.Context(), key, "2", forged).Err(); err != nil {
		t.Fatal(err)
	}
	var v verifyAnswer
	adminJSON(t, "GET", g.admin+"/consent/verify?chain=forged", 200, &v)
	ch := v.Chains[0]
	if v.OK || ch.Tombstones != 2 || ch.Receipts != 1 || ch.Counts["unreceipted_tombstone"] != 1 ||
		!slices.ContainsFunc(ch.Problems, func(p verifyProblem) bool { return p.Kind == "unreceipted_tombstone" && p.Seq == 2 }) {
		t.Fatalf("verify: %+v, want seq 2 unreceipted (and bob's seq 3 not)", v)
	}
}
