package caddymodule_test

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/csv"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	goredis "github.com/redis/go-redis/v9"
	bbolt "go.etcd.io/bbolt"

	"github.com/consentgate/consentgate/caddymodule"
	"github.com/consentgate/consentgate/caddymodule/gatewaytest"
	"github.com/consentgate/consentgate/consent/proof"
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
	site, admin, logFile := auditGateway(t, "receipt-test")
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

	// The local list of erasures names records, never a consent id, and
	// the log says how many were erased, not whose.
	lists, _ := filepath.Glob(filepath.Join(caddy.AppDataDir(), "consentgate", "erasures-receipt-test-*.jsonl"))
	if len(lists) != 1 {
		t.Fatalf("erasure lists %v", lists)
	}
	list, _ := os.ReadFile(lists[0])
	logs, _ := os.ReadFile(logFile)
	for _, r := range recs[:2] {
		if strings.Contains(string(list), r.ConsentID) || strings.Contains(string(logs), r.ConsentID) {
			t.Errorf("a consent id is in the erasure list or the log:\n%s", list)
		}
	}
	var entry struct {
		Erased []erasedRef `json:"erased"`
	}
	if first, _, _ := strings.Cut(string(list), "\n"); json.Unmarshal([]byte(first), &entry) != nil || !slices.Equal(entry.Erased, wantAlice) {
		t.Errorf("erasure list:\n%s", list)
	}
}

// seqKey is a record's key in the bolt file.
func seqKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

// TestOldTombstonesGetReceipts: a store erased by a version before erasure
// receipts holds tombstones that no receipt names. At its first
// maintenance pass the gateway, which holds the MAC key, gives a receipt to
// each whose HMAC verifies, once; one forged without the key gets none,
// the log says so, and verify goes on naming it.
func TestOldTombstonesGetReceipts(t *testing.T) {
	secret := []byte("old tombstones test: a MAC key..")
	mac, err := proof.NewMACKey(secret)
	if err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(t.TempDir(), "proofs.db")
	g := newAuditGateway(t, db, "old-tombs", "proof_key "+base64.StdEncoding.EncodeToString(secret))
	caddymodule.SetCheckpointEvery(t, time.Hour) // no pass before the stop
	gatewaytest.Start(t, g.caddyfile)
	for range 4 {
		auditPost(t, newClient(t), g.site, `{"all":true}`)
	}
	recs := exportJSONL(t, g.admin, "")
	gatewaytest.Stop(t)

	// Seq 2 erased as earlier versions did: a tombstone, no receipt. Seq 3
	// turned into a tombstone by someone without the key.
	gatewaytest.UpdateRecords(t, db, "old-tombs", func(rec *bbolt.Bucket) error {
		var r proof.Record
		if err := json.Unmarshal(rec.Get(seqKey(2)), &r); err != nil {
			return err
		}
		tomb, err := proof.Eraser{Key: mac}.Tombstone(r)
		if err != nil {
			return err
		}
		old, _ := json.Marshal(tomb)
		forged, err := prooftest.ForgeTombstone(slices.Clone(rec.Get(seqKey(3))))
		if err != nil {
			return err
		}
		return errors.Join(rec.Put(seqKey(2), old), rec.Put(seqKey(3), forged))
	})

	caddymodule.SetCheckpointEvery(t, 100*time.Millisecond)
	gatewaytest.Start(t, g.caddyfile)
	const swept = `"msg":"tombstones no erasure made`
	waitUntil(t, "old tombstones given receipts", func() bool {
		logs, _ := os.ReadFile(g.logFile)
		return strings.Contains(string(logs), swept)
	})
	checkReceipted := func(when string) {
		t.Helper()
		receipts := receiptsIn(exportJSONL(t, g.admin, ""))
		if len(receipts) != 1 || !slices.Equal(receipts[0].Erased, []erasedRef{{"old-tombs", 2, recs[1].EventID}}) {
			t.Fatalf("%s: receipts %+v, want one naming seq 2", when, receipts)
		}
		var v verifyAnswer
		adminJSON(t, "GET", g.admin+"/consent/verify", 200, &v)
		c := v.Chains[0]
		if v.OK || c.Tombstones != 2 || c.Counts["unreceipted_tombstone"] != 1 || c.Counts["bad_hmac"] != 1 ||
			!slices.ContainsFunc(c.Problems, func(p verifyProblem) bool { return p.Kind == "unreceipted_tombstone" && p.Seq == 3 }) {
			t.Fatalf("%s: verify %+v, want only seq 3 reported", when, v)
		}
	}
	checkReceipted("after the first pass")
	logs, _ := os.ReadFile(g.logFile)
	if line := lineWith(string(logs), swept); !strings.Contains(line, `"receipted":1`) || !strings.Contains(line, `"not_authentic":1`) ||
		!strings.Contains(line, `"first_forged_seq":3`) {
		t.Errorf("log: %s", line)
	}

	// Once: after a restart, passes give no second receipt.
	gatewaytest.Stop(t)
	gatewaytest.Start(t, g.caddyfile)
	for range 2 { // a pass began after the first record, and ended before the second's checkpoint
		auditPost(t, newClient(t), g.site, `{"all":true}`)
		head := exportJSONL(t, g.admin, "")
		waitUntil(t, "a maintenance pass", func() bool { return lastCheckpoint(t, g.admin) == int(head[len(head)-1].Seq) })
	}
	checkReceipted("after a restart")
	logs, _ = os.ReadFile(g.logFile)
	if n := strings.Count(string(logs), swept); n != 1 {
		t.Errorf("old tombstones looked at %d times, want once", n)
	}
}

// TestRestoredStoreIsErasedAgain: an older copy of the store brings back
// the records erased since it was made, and takes their receipts with it.
// The gateway's own list of what it erased makes it erase them again at
// its next maintenance pass, with a new receipt, and say so.
func TestRestoredStoreIsErasedAgain(t *testing.T) {
	db := filepath.Join(t.TempDir(), "proofs.db")
	g := newAuditGateway(t, db, "restored")
	caddymodule.SetCheckpointEvery(t, time.Hour)
	gatewaytest.Start(t, g.caddyfile)
	alice, bob := newClient(t), newClient(t)
	auditPost(t, alice, g.site, `{"all":true}`)
	auditPost(t, bob, g.site, `{"all":false}`)
	auditPost(t, alice, g.site, `{"withdraw":true}`)
	recs := exportJSONL(t, g.admin, "")
	gatewaytest.Stop(t)
	backup := filepath.Join(t.TempDir(), "backup.db")
	copyFile(t, db, backup)

	gatewaytest.Start(t, g.caddyfile)
	var erased struct {
		Erased int `json:"erased"`
	}
	postID(t, g.admin, "erase", recs[0].ConsentID, 200, &erased)
	gatewaytest.Stop(t)
	copyFile(t, backup, db) // the older copy restored

	caddymodule.SetCheckpointEvery(t, 100*time.Millisecond)
	gatewaytest.Start(t, g.caddyfile)
	waitUntil(t, "the restored records erased again", func() bool {
		logs, _ := os.ReadFile(g.logFile)
		return strings.Contains(string(logs), `"msg":"erased again records this gateway had erased`)
	})
	var apiErr struct {
		Error string `json:"error"`
	}
	postID(t, g.admin, "show", recs[0].ConsentID, 404, &apiErr)
	after := exportJSONL(t, g.admin, "")
	want := []erasedRef{{"restored", 1, recs[0].EventID}, {"restored", 3, recs[2].EventID}}
	if receipts := receiptsIn(after); len(receipts) != 1 || !slices.Equal(receipts[0].Erased, want) || after[0].Type != "erased" || after[2].Type != "erased" {
		t.Fatalf("after the restore: %+v", after)
	}
	// What the restore lost (the first receipt) is a gap; nothing else.
	var v verifyAnswer
	adminJSON(t, "GET", g.admin+"/consent/verify", 200, &v)
	for _, p := range v.Chains[0].Problems {
		if p.Kind != "gap" || p.Seq != 4 {
			t.Errorf("verify after the restore: %+v, want only the lost receipt's seq 4 as a gap", v.Chains[0].Problems)
		}
	}
}

// copyFile copies a stopped gateway's store file.
func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err == nil {
		err = os.WriteFile(to, data, 0o600)
	}
	if err != nil {
		t.Fatal(err)
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
