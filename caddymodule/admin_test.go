package caddymodule_test

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/consentgate/consentgate/caddymodule"
	"github.com/consentgate/consentgate/caddymodule/gatewaytest"
)

// auditGateway runs a gateway with its admin endpoint on a free loopback
// port and a bolt store of its own, and more lines for its consent block;
// it returns the site's and the admin endpoint's base URLs and the log
// file.
func auditGateway(t *testing.T, chain string, consentLines ...string) (site, admin, logFile string) {
	t.Helper()
	return auditGatewayAt(t, filepath.Join(t.TempDir(), "proofs.db"), chain, consentLines...)
}

// auditGatewayAt is auditGateway with its bolt store in the file db.
func auditGatewayAt(t *testing.T, db, chain string, consentLines ...string) (site, admin, logFile string) {
	t.Helper()
	g := newAuditGateway(t, db, chain, consentLines...)
	gatewaytest.Start(t, g.caddyfile)
	return g.site, g.admin, g.logFile
}

// auditGatewayConfig is the configuration of an auditGateway, for tests
// that stop it and start it again.
type auditGatewayConfig struct{ site, admin, logFile, caddyfile string }

func newAuditGateway(t *testing.T, db, chain string, consentLines ...string) auditGatewayConfig {
	t.Helper()
	port, adminPort := freePort(t), freePort(t)
	logFile := filepath.Join(t.TempDir(), "caddy.log")
	return auditGatewayConfig{
		site: baseURL(port), admin: fmt.Sprintf("http://localhost:%d", adminPort), logFile: logFile,
		caddyfile: gatewaytest.GlobalsLogging(adminPort, logFile) + fmt.Sprintf(`:%d {
	consent {
		store bolt://%s
		chain %s
%s	}
	respond "<html><head></head><body>ok</body></html>"
	header Content-Type text/html
}`, port, db, chain, indentLines(consentLines)),
	}
}

// indentLines puts lines into a consent block.
func indentLines(lines []string) string {
	var sb strings.Builder
	for _, l := range lines {
		sb.WriteString("\t\t" + l + "\n")
	}
	return sb.String()
}

// adminDo calls the admin API and returns the answer, its body and trailers.
func adminDo(t *testing.T, method, url string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading %s: %v", url, err)
	}
	return resp, string(body)
}

func adminJSON(t *testing.T, method, url string, want int, v any) {
	t.Helper()
	resp, body := adminDo(t, method, url)
	if resp.StatusCode != want || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("%s %s: %d %s, want %d JSON", method, url, resp.StatusCode, body, want)
	}
	if err := json.Unmarshal([]byte(body), v); err != nil {
		t.Fatalf("%s %s: %v in %s", method, url, err, body)
	}
}

type exportedRecord struct {
	EventID   string          `json:"event_id"`
	Type      string          `json:"type"`
	ConsentID string          `json:"consent_id"`
	Site      string          `json:"site"`
	Purposes  map[string]bool `json:"purposes"`
	How       struct {
		Action string `json:"action"`
	} `json:"how"`
	Chain  string      `json:"chain"`
	Seq    uint64      `json:"seq"`
	Time   int64       `json:"time"`
	Erased []erasedRef `json:"erased"`
}

func exportJSONL(t *testing.T, admin, query string) []exportedRecord {
	t.Helper()
	resp, body := adminDo(t, "GET", admin+"/consent/export?"+query)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/jsonl") {
		t.Fatalf("export %s: %d %s", query, resp.StatusCode, body)
	}
	var recs []exportedRecord
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		var r exportedRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil || r.EventID == "" {
			t.Fatalf("export line %q: %v", sc.Text(), err)
		}
		recs = append(recs, r)
	}
	if got := resp.Trailer.Get("X-Consent-Records"); got != fmt.Sprint(len(recs)) || resp.Trailer.Get("X-Consent-Error") != "" {
		t.Errorf("export %s: trailer says %q records (error %q), body has %d", query, got, resp.Trailer.Get("X-Consent-Error"), len(recs))
	}
	return recs
}

// verifyAnswer is the admin API's answer to /consent/verify.
type verifyAnswer struct {
	OK     bool `json:"ok"`
	Chains []struct {
		Store      string          `json:"store"`
		Chain      string          `json:"chain"`
		OK         bool            `json:"ok"`
		Records    int             `json:"records"`
		Tombstones int             `json:"tombstones"`
		Receipts   int             `json:"receipts"`
		LastSeq    int             `json:"last_seq"`
		MACChecked bool            `json:"mac_checked"`
		Counts     map[string]int  `json:"counts"`
		Problems   []verifyProblem `json:"problems"`
	} `json:"chains"`
}

type verifyProblem struct {
	Kind    string `json:"kind"`
	Seq     int    `json:"seq"`
	EventID string `json:"event_id"`
}

// auditPost posts a choice, which must be taken, and returns the answer.
func auditPost(t *testing.T, c *http.Client, base, body string, headers ...string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/.consent/choice", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", base)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, out := do(t, c, req)
	if resp.StatusCode != 200 {
		t.Fatalf("choice %s: %d %s", body, resp.StatusCode, out)
	}
	return resp
}

// TestAdminAPI: choices posted through a real gateway are exported as JSON
// Lines and CSV, counted by stats, shown, erased, verified and charted
// through the admin endpoint.
func TestAdminAPI(t *testing.T) {
	site, admin, logFile := auditGateway(t, "audit-test")
	alice, bob, carol, dave := newClient(t), newClient(t), newClient(t), newClient(t)
	auditPost(t, alice, site, `{"all":true}`)
	auditPost(t, bob, site, `{"all":false}`, "Sec-GPC", "1")
	auditPost(t, carol, site, `{"purposes":{"analytics":true,"marketing":false}}`)
	auditPost(t, alice, site, `{"withdraw":true}`)
	other := strings.Replace(site, "127.0.0.1", "localhost", 1)
	auditPost(t, dave, other, `{"all":false}`)

	// JSON Lines: one record per line, in chain order.
	recs := exportJSONL(t, admin, "")
	if len(recs) != 5 {
		t.Fatalf("exported %d records, want 5", len(recs))
	}
	for i, r := range recs {
		if r.Chain != "audit-test" || r.Seq != uint64(i+1) {
			t.Errorf("record %d: chain %q seq %d", i, r.Chain, r.Seq)
		}
	}
	if recs[0].Type != "given" || recs[0].How.Action != "accept_all" || recs[3].Type != "withdrawn" || recs[3].ConsentID != recs[0].ConsentID {
		t.Errorf("records: %+v", recs)
	}

	// Filters.
	today := time.Now().UTC().Format(time.DateOnly)
	tomorrow := time.Now().UTC().AddDate(0, 0, 1).Format(time.DateOnly)
	for query, want := range map[string]int{
		"site=localhost":    1,
		"site=127.0.0.1":    4,
		"since=" + today:    5,
		"until=" + today:    5, // a date as until includes that day
		"since=" + tomorrow: 0,
		"until=" + time.Now().UTC().Add(-time.Hour).Format(time.RFC3339): 0,
		"purpose=analytics": 5,
		"purpose=nothing":   0,
		"chain=audit-test":  5,
	} {
		if got := len(exportJSONL(t, admin, query)); got != want {
			t.Errorf("export?%s: %d records, want %d", query, got, want)
		}
	}
	// An export of whole chains says up front how many records it sends
	// at most (for consentctl's progress bar); a filtered one cannot.
	for query, want := range map[string]string{"": "5", "chain=audit-test": "5", "site=127.0.0.1": ""} {
		if resp, _ := adminDo(t, "GET", admin+"/consent/export?"+query); resp.Header.Get("X-Consent-Records-At-Most") != want {
			t.Errorf("export?%s: X-Consent-Records-At-Most %q, want %q", query, resp.Header.Get("X-Consent-Records-At-Most"), want)
		}
	}

	// CSV: a header row, then one row per record.
	resp, body := adminDo(t, "GET", admin+"/consent/export?format=csv")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("csv export: %d %s", resp.StatusCode, body)
	}
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatalf("csv: %v\n%s", err, body)
	}
	wantHeader := []string{"event_id", "type", "time", "consent_id", "supersedes", "expires_at", "site", "path",
		"policy_version", "lang", "layer", "action", "control", "purposes", "vendors",
		"gpc", "dnt", "signal_effect", "ip", "ua", "chain", "seq", "hash", "erased"}
	if !slices.Equal(rows[0], wantHeader) || !slices.Equal(caddymodule.CSVColumns, wantHeader) {
		t.Fatalf("csv header %q", rows[0])
	}
	if len(rows) != 6 {
		t.Fatalf("csv has %d rows, want header + 5", len(rows))
	}
	col := func(row []string, name string) string { return row[slices.Index(wantHeader, name)] }
	first, second := rows[1], rows[2]
	if col(first, "event_id") != recs[0].EventID || col(first, "type") != "given" || col(first, "action") != "accept_all" ||
		col(first, "purposes") != "analytics=1;functional=1;marketing=1;necessary=1;social=1" || col(first, "seq") != "1" ||
		col(first, "chain") != "audit-test" || col(first, "ip") != "127.0.0.0/16" || col(first, "gpc") != "0" {
		t.Errorf("first csv row: %q", first)
	}
	if col(second, "gpc") != "1" || col(second, "action") != "reject_all" || !strings.Contains(col(second, "purposes"), "marketing=0") {
		t.Errorf("second csv row: %q", second)
	}
	if _, err := time.Parse(time.RFC3339, col(first, "time")); err != nil {
		t.Errorf("time %q is not ISO 8601: %v", col(first, "time"), err)
	}
	if got := resp.Trailer.Get("X-Consent-Records"); got != "5" {
		t.Errorf("csv trailer: %q records", got)
	}

	// Stats: per day and purpose, as posted.
	var stats statsAnswer
	adminJSON(t, "GET", admin+"/consent/stats", 200, &stats)
	if stats.Decisions != 5 || len(stats.Days) != 1 || stats.Days[0].Day != today || stats.Days[0].Decisions != 5 ||
		!slices.Equal(stats.Purposes, []string{"analytics", "functional", "marketing", "social"}) {
		t.Fatalf("stats: %+v", stats)
	}
	wantAnalytics := map[string]int{"decisions": 5, "accepted": 1, "rejected": 2, "custom": 1, "withdrawn": 1, "gpc_defaulted": 0, "granted": 2}
	wantMarketing := map[string]int{"decisions": 5, "accepted": 1, "rejected": 2, "custom": 1, "withdrawn": 1, "gpc_defaulted": 0, "granted": 1}
	if !maps.Equal(stats.Totals["analytics"], wantAnalytics) || !maps.Equal(stats.Days[0].Purposes["analytics"], wantAnalytics) ||
		!maps.Equal(stats.Totals["marketing"], wantMarketing) {
		t.Errorf("stats totals: analytics %v, marketing %v", stats.Totals["analytics"], stats.Totals["marketing"])
	}
	adminJSON(t, "GET", admin+"/consent/stats?site=localhost", 200, &stats)
	if stats.Decisions != 1 || stats.Totals["social"]["rejected"] != 1 {
		t.Errorf("stats for one site: %+v", stats)
	}

	// Show and erase one consent id.
	var shown struct {
		ConsentID string           `json:"consent_id"`
		Records   []exportedRecord `json:"records"`
	}
	postID(t, admin, "show", recs[0].ConsentID, 200, &shown)
	if len(shown.Records) != 2 || shown.Records[0].EventID != recs[0].EventID || shown.Records[1].Type != "withdrawn" {
		t.Errorf("show: %+v", shown)
	}
	var verified verifyAnswer
	adminJSON(t, "GET", admin+"/consent/verify", 200, &verified)
	if !verified.OK || len(verified.Chains) != 1 || !verified.Chains[0].OK || verified.Chains[0].Records != 5 ||
		!verified.Chains[0].MACChecked || !strings.HasPrefix(verified.Chains[0].Store, "bolt://") {
		t.Errorf("verify: %+v", verified)
	}
	type checkpoints struct {
		Checkpoints []struct {
			Chain string `json:"chain"`
			Seq   int    `json:"seq"`
			Head  string `json:"head"`
			Time  string `json:"time"`
			// Existing: no record since, so none was signed now.
			Existing bool `json:"existing"`
		} `json:"checkpoints"`
	}
	var cps, again checkpoints
	adminJSON(t, "POST", admin+"/consent/checkpoint", 200, &cps)
	if len(cps.Checkpoints) != 1 || cps.Checkpoints[0].Seq != 5 || cps.Checkpoints[0].Head == "" {
		t.Errorf("checkpoint: %+v", cps)
	}
	// The chain has not grown: asked again, the answer is the checkpoint
	// the store keeps at that seq, the one an auditor will find later,
	// and says it is that one.
	time.Sleep(5 * time.Millisecond)
	adminJSON(t, "POST", admin+"/consent/checkpoint", 200, &again)
	if cps.Checkpoints[0].Existing || len(again.Checkpoints) != 1 || !again.Checkpoints[0].Existing {
		t.Fatalf("existing: %+v, then %+v; want false for the one signed, true for the one answered again", cps, again)
	}
	again.Checkpoints[0].Existing = false
	if !reflect.DeepEqual(again, cps) {
		t.Errorf("a second checkpoint at the same seq answered %+v, want the stored %+v", again, cps)
	}
	// The checkpoints and the key that signed them, for independent
	// verification.
	var keys struct {
		PublicKeys []struct {
			KeyID     string `json:"key_id"`
			PublicKey string `json:"public_key"`
		} `json:"public_keys"`
		MACKeyIDs []string `json:"mac_key_ids"`
	}
	var fields map[string]json.RawMessage
	adminJSON(t, "GET", admin+"/consent/keys", 200, &fields)
	adminJSON(t, "GET", admin+"/consent/keys", 200, &keys)
	if len(fields) != 2 || len(keys.PublicKeys) != 1 || len(keys.PublicKeys[0].PublicKey) != 64 || len(keys.MACKeyIDs) != 1 {
		t.Fatalf("keys (public keys and MAC key ids, nothing else): %+v %v", keys, slices.Collect(maps.Keys(fields)))
	}
	resp, body = adminDo(t, "GET", admin+"/consent/checkpoints?chain=audit-test")
	var cp struct {
		Chain string `json:"chain"`
		Seq   int    `json:"seq"`
		Head  string `json:"head"`
		KeyID string `json:"key_id"`
		Sig   string `json:"sig"`
		Time  int64  `json:"time"`
	}
	if err := json.Unmarshal([]byte(body), &cp); resp.StatusCode != 200 || err != nil || strings.Count(body, "\n") != 1 ||
		cp.Chain != "audit-test" || cp.Seq != 5 || cp.Head != cps.Checkpoints[0].Head || cp.KeyID != keys.PublicKeys[0].KeyID || cp.Sig == "" ||
		time.UnixMilli(cp.Time).UTC().Format(time.RFC3339Nano) != cps.Checkpoints[0].Time {
		t.Errorf("checkpoints export: %d %v %s", resp.StatusCode, err, body)
	}
	// A chain no store has is not taken for one without checkpoints.
	if resp, body := adminDo(t, "GET", admin+"/consent/checkpoints?chain=other"); resp.StatusCode != http.StatusNotFound || !strings.Contains(body, `no chain \"other\"`) {
		t.Errorf("checkpoints of a chain no store has: %d %q", resp.StatusCode, body)
	}
	var erased struct {
		Erased int `json:"erased"`
	}
	postID(t, admin, "erase", recs[0].ConsentID, 200, &erased)
	if erased.Erased != 2 {
		t.Errorf("erased %d records, want 2", erased.Erased)
	}
	var apiErr struct {
		Error string `json:"error"`
	}
	postID(t, admin, "show", recs[0].ConsentID, 404, &apiErr)
	postID(t, admin, "erase", recs[0].ConsentID, 404, &apiErr)
	// The chain now ends in the erasure's receipt.
	adminJSON(t, "GET", admin+"/consent/verify?chain=audit-test", 200, &verified)
	if !verified.OK || verified.Chains[0].Tombstones != 2 || verified.Chains[0].Receipts != 1 || verified.Chains[0].Records != 6 {
		t.Errorf("verify after erasure: %+v", verified)
	}
	if after := exportJSONL(t, admin, ""); len(after) != 6 || after[0].Type != "erased" || after[0].ConsentID != "" || after[5].Type != "erasure" {
		t.Errorf("after erasure the export still names the consent: %+v", after[0])
	}

	// The dashboard: server-drawn SVG, nothing external, escaped.
	resp, body = adminDo(t, "GET", admin+"/consent/dashboard")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
		resp.Header.Get("Content-Security-Policy") != "default-src 'none'; style-src 'unsafe-inline'; img-src data:" {
		t.Fatalf("dashboard: %d %v", resp.StatusCode, resp.Header)
	}
	for _, want := range []string{"<svg", "<rect", "analytics", "marketing", "accepted"} {
		if !strings.Contains(body, want) {
			t.Errorf("dashboard lacks %q", want)
		}
	}
	for _, bad := range []string{"http://", "https://", "<script", "src=", "url("} {
		if strings.Contains(body, bad) {
			t.Errorf("dashboard contains %q", bad)
		}
	}
	_, body = adminDo(t, "GET", admin+"/consent/dashboard?site=%3Cscript%3Ex")
	if strings.Contains(body, "<script>x") || !strings.Contains(body, "&lt;script&gt;x") {
		t.Errorf("dashboard does not escape the site filter")
	}

	// Every export was logged with what it selected and handed out: the
	// records, the checkpoints, one consent id's records. The consent id is
	// nowhere in the log, Caddy's own admin request log included.
	logs, _ := os.ReadFile(logFile)
	logged := map[string]bool{}
	for line := range strings.SplitSeq(string(logs), "\n") {
		if strings.Contains(line, recs[0].ConsentID) {
			t.Errorf("a consent id is in the log: %s", line)
		}
		if strings.Contains(line, `"msg":"received request"`) && strings.Contains(line, `"uri":"/consent/show`) {
			logged["show request"] = true
		}
		if !strings.Contains(line, `"remote":"127.0.0.1:`) {
			continue
		}
		switch {
		case strings.Contains(line, `"msg":"consent export"`) && strings.Contains(line, `"format":"csv"`) && strings.Contains(line, `"records":5`):
			logged["csv export"] = true
		case strings.Contains(line, `"msg":"consent export"`) && strings.Contains(line, `"format":"jsonl"`) && strings.Contains(line, `"site":"localhost"`):
			logged["filtered jsonl export"] = true
		case strings.Contains(line, `"msg":"consent checkpoints exported"`) && strings.Contains(line, `"checkpoints":1`):
			logged["checkpoints export"] = true
		case strings.Contains(line, `"msg":"consent records shown"`) && strings.Contains(line, `"records":2`):
			logged["show"] = true
		}
	}
	for _, what := range []string{"csv export", "filtered jsonl export", "checkpoints export", "show", "show request"} {
		if !logged[what] {
			t.Errorf("no log entry for the %s in\n%s", what, logs)
		}
	}
}

// TestAdminAPIBadRequests: clear JSON errors for what cannot be answered.
func TestAdminAPIBadRequests(t *testing.T) {
	_, admin, _ := auditGateway(t, "audit-bad-requests")
	for _, tc := range []struct {
		method, path string
		status       int
		want         string
	}{
		{"GET", "/consent/nothing", 404, "no such consent endpoint"},
		{"POST", "/consent/export", 405, "use GET"},
		{"GET", "/consent/erase?id=x", 405, "use POST"},
		{"GET", "/consent/export?format=xml", 400, "use jsonl or csv"},
		{"GET", "/consent/export?since=yesterday", 400, "RFC 3339"},
		{"GET", "/consent/export?since=2025-02-01&until=2025-01-01", 400, "since 2025-02-01 must be before until 2025-01-01"},
		{"GET", "/consent/export?chain=nope", 404, `no chain \"nope\"`},
		{"GET", "/consent/stats?chain=nope", 404, `no chain \"nope\"`},
		{"GET", "/consent/export?sinse=2025-01-01", 400, `unknown parameter \"sinse\"`},
		{"GET", "/consent/export?store=redis://nowhere", 404, "unknown store"},
		{"POST", "/consent/show", 400, "in a JSON body"},
		{"GET", "/consent/show?id=x", 405, "use POST"},
		{"GET", "/consent/verify?chain=nope", 404, `no chain \"nope\"`},
	} {
		resp, body := adminDo(t, tc.method, admin+tc.path)
		if resp.StatusCode != tc.status || !strings.Contains(body, tc.want) {
			t.Errorf("%s %s: %d %s, want %d with %q", tc.method, tc.path, resp.StatusCode, body, tc.status, tc.want)
		}
	}
	// curl -d '{"id":…}' labels its JSON body a form: it is read all the same.
	resp, err := http.Post(admin+"/consent/show", "application/x-www-form-urlencoded", strings.NewReader(`{"id":"AAAAAAAAAAAAAAAAAAAAAA"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode == http.StatusBadRequest {
		t.Errorf("show with a JSON body sent as a form: %d %s, want the id read", resp.StatusCode, body)
	}
}

// TestAdminAPIWithoutConsent: with no consent handler there is nothing to
// audit, and the API says so.
func TestAdminAPIWithoutConsent(t *testing.T) {
	port, adminPort := freePort(t), freePort(t)
	gatewaytest.Start(t, gatewaytest.Globals(adminPort)+fmt.Sprintf(":%d {\n\trespond ok\n}\n", port))
	for _, path := range []string{"/consent/export", "/consent/verify", "/consent/dashboard"} {
		resp, body := adminDo(t, "GET", fmt.Sprintf("http://localhost:%d%s", adminPort, path))
		if resp.StatusCode != 404 || resp.Header.Get("Content-Type") != "application/json" || !strings.Contains(body, "no consent handler is configured") {
			t.Errorf("%s: %d %s", path, resp.StatusCode, body)
		}
	}
}

// postID asks the admin route (show, erase) about a consent id given in
// the body, as consentctl does, which keeps it out of Caddy's request log.
func postID(t *testing.T, admin, route, id string, want int, v any) {
	t.Helper()
	resp, err := http.Post(admin+"/consent/"+route, "application/json", strings.NewReader(`{"id":"`+id+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s: %d %s, want %d", route, resp.StatusCode, body, want)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("%s: %v in %s", route, err, body)
	}
}

// TestCSVDefusesFormulas: what a visitor controls (the Host header, the
// control id) reaches the CSV export as text a spreadsheet shows, never
// as a formula it runs.
func TestCSVDefusesFormulas(t *testing.T) {
	site, admin, _ := auditGateway(t, "csv-formulas")
	req, _ := http.NewRequest("POST", site+"/.consent/choice", strings.NewReader(`{"all":true,"control":"-1-2"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Host = "=1+2"
	if resp, body := do(t, newClient(t), req); resp.StatusCode != 200 {
		t.Fatalf("choice: %d %s", resp.StatusCode, body)
	}
	_, body := adminDo(t, "GET", admin+"/consent/export?format=csv")
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil || len(rows) != 2 {
		t.Fatalf("csv: %v\n%s", err, body)
	}
	col := func(name string) string { return rows[1][slices.Index(caddymodule.CSVColumns, name)] }
	if col("site") != "'=1+2" || col("control") != "'-1-2" {
		t.Errorf("site %q, control %q: want them prefixed with an apostrophe", col("site"), col("control"))
	}
}

// TestAuditDataStaysOnTheMachine: an operator who makes Caddy's plain admin
// endpoint listen on every interface (admin 0.0.0.0:PORT, as container
// set-ups do) opens it without authentication; the audit routes then
// answer this machine only. Another machine, played here by a request from
// this machine's own network address, gets a 403 that says why, and the
// refusal is logged.
func TestAuditDataStaysOnTheMachine(t *testing.T) {
	network := nonLoopbackAddr(t)
	port, adminPort := freePort(t), freePort(t)
	logFile := filepath.Join(t.TempDir(), "caddy.log")
	gatewaytest.Start(t, fmt.Sprintf(`{
	admin 0.0.0.0:%d
	auto_https off
	persist_config off
	log {
		output file %s
		format json
		level INFO
	}
}
:%d {
	consent {
		store bolt://%s
	}
	respond "<html><head></head><body>ok</body></html>"
	header Content-Type text/html
}`, adminPort, logFile, port, filepath.Join(t.TempDir(), "proofs.db")))
	postChoice(t, newClient(t), baseURL(port), `{"all":true}`)

	if recs := exportJSONL(t, fmt.Sprintf("http://127.0.0.1:%d", adminPort), ""); len(recs) != 1 {
		t.Fatalf("exported %d records through loopback, want 1", len(recs))
	}
	for _, path := range []string{"/consent/export", "/consent/verify", "/consent/dashboard", "/consent/keys"} {
		resp, body := adminDo(t, "GET", fmt.Sprintf("http://%s%s", net.JoinHostPort(network.String(), fmt.Sprint(adminPort)), path))
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "served only to this machine") || strings.Contains(body, "given") {
			t.Errorf("%s from %s: %d %s, want 403", path, network, resp.StatusCode, body)
		}
	}
	logs, _ := os.ReadFile(logFile)
	if !strings.Contains(string(logs), "audit request from another machine refused") || !strings.Contains(string(logs), network.String()) {
		t.Errorf("the refusals are not logged with the peer's address:\n%s", logs)
	}

	// On a Unix socket the file's permissions decide who asks: it answers.
	socket := filepath.Join(t.TempDir(), "admin.sock")
	gatewaytest.Start(t, fmt.Sprintf("{\n\tadmin unix/%s\n\tauto_https off\n\tpersist_config off\n}\n:%d {\n\tconsent {\n\t\tstore bolt://%s\n\t}\n\trespond ok\n}\n",
		socket, port, filepath.Join(t.TempDir(), "proofs.db")))
	overSocket := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", socket)
	}}}
	resp, err := overSocket.Get("http://localhost/consent/verify")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("verify over the admin socket: %d %s", resp.StatusCode, body)
	}
}

// nonLoopbackAddr is an address of this machine that is not loopback, so a
// request from it to a wildcard listener comes from "another machine".
func nonLoopbackAddr(t *testing.T) netip.Addr {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if p, err := netip.ParsePrefix(a.String()); err == nil && p.Addr().Is4() && p.Addr().IsGlobalUnicast() {
			return p.Addr()
		}
	}
	t.Fatalf("this machine has no IPv4 address beside loopback (%v): the test needs one to play another machine", addrs)
	return netip.Addr{}
}

// TestLookUpOfNothingIsNoError: a look-up or erasure of a consent id with
// no records (a visitor who asks by email after their records expired) is
// a 404 that says so, as consentctl reads it, and no error in the log.
func TestLookUpOfNothingIsNoError(t *testing.T) {
	_, admin, logFile := auditGateway(t, "nothing-found")
	for _, route := range []string{"show", "erase"} {
		var ans struct{ Error string }
		postID(t, admin, route, "AAAAAAAAAAAAAAAAAAAAAA", http.StatusNotFound, &ans)
		if !strings.Contains(ans.Error, "no records of this consent id") {
			t.Errorf("%s of an unknown id: %q", route, ans.Error)
		}
	}
	logs, _ := os.ReadFile(logFile)
	for line := range strings.Lines(string(logs)) {
		if strings.Contains(line, `"level":"error"`) {
			t.Errorf("a look-up that found nothing is logged as an error: %s", line)
		}
	}
}
