package main

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/consentgate/consentgate/caddymodule/gatewaytest"
	"github.com/consentgate/consentgate/consent/proof"
	"github.com/consentgate/consentgate/consent/proof/prooftest"
	"github.com/consentgate/consentgate/consent/store"
	"github.com/consentgate/consentgate/consent/store/bolt"
)

// okPage is the page gateways in these tests serve unless told otherwise.
const okPage = "<html><head></head><body>ok</body></html>"

// gatewayCaddyfile is a gateway with its admin endpoint on adminPort and
// its proofs in the bolt file db, on a chain of its own (the chain head is
// also kept in the shared data directory), serving page.
func gatewayCaddyfile(adminPort, port int, db, chain, page string) string {
	return gatewaytest.Globals(adminPort) + siteBlock(port, db, chain, page)
}

// siteBlock is the site of gatewayCaddyfile.
func siteBlock(port int, db, chain, page string) string {
	return fmt.Sprintf(`:%d {
	consent {
		store bolt://%s
		chain %s
	}
	respond %q
	header Content-Type text/html
}`, port, db, chain, page)
}

// startGateway runs a gateway in the test process; it returns the site's
// base URL, the admin address and the bolt file.
func startGateway(t *testing.T) (site, admin, db string) {
	g := startChainGateway(t, "ctl-commands")
	return g.site, g.admin, g.db
}

// testGateway is a gateway run in the test process on a bolt file of its
// own: its site's base URL, admin address, bolt file and Caddyfile (to
// start it again after changing the file).
type testGateway struct{ site, admin, db, caddyfile string }

// startChainGateway starts a testGateway sealing the chain.
func startChainGateway(t *testing.T, chain string) testGateway {
	t.Helper()
	port, adminPort := gatewaytest.FreePort(t), gatewaytest.FreePort(t)
	g := testGateway{site: gatewaytest.BaseURL(port), admin: fmt.Sprintf("localhost:%d", adminPort), db: filepath.Join(t.TempDir(), "proofs.db")}
	g.caddyfile = gatewayCaddyfile(adminPort, port, g.db, chain, okPage)
	gatewaytest.Start(t, g.caddyfile)
	return g
}

// buildConsentgate builds the gateway's binary for tests that run it as a
// process of its own.
func buildConsentgate(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "consentgate")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/consentgate/consentgate/cmd/consentgate").CombinedOutput(); err != nil {
		t.Fatalf("building consentgate: %v\n%s", err, out)
	}
	return bin
}

// TestValidateBesideARunningGateway: `consentgate validate` on the
// configuration a gateway is running, with the same data directory and
// embedded store, says it is valid: validating does not open the store,
// whose lock the running gateway holds (it used to wait for it and fail).
// A mistake in the same file is still reported.
func TestValidateBesideARunningGateway(t *testing.T) {
	bin := buildConsentgate(t)
	g := startChainGateway(t, "ctl-validate")
	caddyfile := g.caddyfile
	gatewaytest.PostChoice(t, gatewaytest.NewClient(t), g.site, `{"all":true}`) // the store is open and in use

	validate := func(caddyfile string) (string, error) {
		cfg := filepath.Join(t.TempDir(), "Caddyfile")
		if err := os.WriteFile(cfg, []byte(caddyfile), 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(bin, "validate", "--config", cfg, "--adapter", "caddyfile").CombinedOutput()
		return string(out), err
	}
	if out, err := validate(caddyfile); err != nil || !strings.Contains(out, "Valid configuration") {
		t.Errorf("validating the running configuration beside it: %v\n%s", err, out)
	}
	bad := strings.Replace(caddyfile, "chain ctl-validate", "chain ctl-validate\n\t\tcookie_name consent(1)", 1)
	if out, err := validate(bad); err == nil || !strings.Contains(out, "is not a valid cookie name") {
		t.Errorf("validating a configuration with a bad cookie_name: %v, want it refused\n%s", err, out)
	}
}

// TestShowKeepsConsentIDOutOfLog: consentctl show sends the consent id in
// the request body, so neither Caddy's admin request log (which logs the
// URI with its query) nor the look-up's audit entry holds it.
func TestShowKeepsConsentIDOutOfLog(t *testing.T) {
	port, adminPort := gatewaytest.FreePort(t), gatewaytest.FreePort(t)
	dir := t.TempDir()
	logFile := filepath.Join(dir, "caddy.log")
	gatewaytest.Start(t, gatewaytest.GlobalsLogging(adminPort, logFile)+
		siteBlock(port, filepath.Join(dir, "proofs.db"), "ctl-show-log", okPage))
	admin := fmt.Sprintf("localhost:%d", adminPort)
	gatewaytest.PostChoice(t, gatewaytest.NewClient(t), gatewaytest.BaseURL(port), `{"all":true}`)
	code, stdout, stderr := ctl(t, "export", "--address", admin)
	if code != 0 {
		t.Fatalf("export: exit %d %s", code, stderr)
	}
	rec := readJSONL(t, stdout)[0]
	if code, stdout, stderr := ctl(t, "show", "--address", admin, rec.ConsentID); code != 0 || !strings.Contains(stdout, rec.EventID) {
		t.Fatalf("show: exit %d %s %s", code, stdout, stderr)
	}
	logs, _ := os.ReadFile(logFile)
	if !strings.Contains(string(logs), `"uri":"/consent/show`) || !strings.Contains(string(logs), `"msg":"consent records shown"`) {
		t.Fatalf("the show is not in the log (request and audit entry):\n%s", logs)
	}
	for line := range strings.Lines(string(logs)) {
		if strings.Contains(line, rec.ConsentID) {
			t.Errorf("the consent id is in the log: %s", line)
		}
	}
}

// TestExportCSVWithBOM: --bom puts a UTF-8 byte order mark before the CSV
// (Excel then reads a page path like /café as UTF-8); the rest is the CSV
// exported without it.
func TestExportCSVWithBOM(t *testing.T) {
	site, admin, _ := startGateway(t)
	gatewaytest.PostChoice(t, gatewaytest.NewClient(t), site, `{"all":true,"page":"/café"}`)
	code, plain, stderr := ctl(t, "export", "--address", admin, "--format", "csv")
	if code != 0 || !strings.HasPrefix(plain, "event_id,") || !strings.Contains(plain, ",/café,") {
		t.Fatalf("csv export: exit %d %s\n%s", code, stderr, plain)
	}
	out := filepath.Join(t.TempDir(), "consent.csv")
	if code, _, stderr := ctl(t, "export", "--address", admin, "--format", "csv", "--bom", "-o", out); code != 0 {
		t.Fatalf("csv export with --bom: exit %d %s", code, stderr)
	}
	data, _ := os.ReadFile(out)
	if rest, ok := bytes.CutPrefix(data, []byte("\xEF\xBB\xBF")); !ok || string(rest) != plain {
		t.Errorf("with --bom: %q, want a byte order mark then\n%q", data, plain)
	}
}

type record struct {
	EventID   string `json:"event_id"`
	Type      string `json:"type"`
	ConsentID string `json:"consent_id"`
	Chain     string `json:"chain"`
	Seq       int    `json:"seq"`
	Time      int64  `json:"time"`
}

func readJSONL(t *testing.T, data string) []record {
	t.Helper()
	var recs []record
	for line := range strings.Lines(data) {
		var r record
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("export line %q: %v", line, err)
		}
		recs = append(recs, r)
	}
	return recs
}

// TestCommands runs every command against a real gateway.
func TestCommands(t *testing.T) {
	site, admin, _ := startGateway(t)
	gatewaytest.PostChoice(t, gatewaytest.NewClient(t), site, `{"all":true}`)
	gatewaytest.PostChoice(t, gatewaytest.NewClient(t), site, `{"all":false}`)
	gatewaytest.PostChoice(t, gatewaytest.NewClient(t), site, `{"purposes":{"analytics":true}}`)

	out := filepath.Join(t.TempDir(), "log.jsonl")
	if code, _, stderr := ctl(t, "export", "--address", admin, "--output", out); code != 0 {
		t.Fatalf("export: exit %d: %s", code, stderr)
	}
	data, _ := os.ReadFile(out)
	recs := readJSONL(t, string(data))
	if len(recs) != 3 || recs[0].Type != "given" || recs[1].Type != "refused" || recs[2].Seq != 3 {
		t.Fatalf("exported %+v", recs)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(out), ".*partial")); len(leftovers) != 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}

	code, stdout, stderr := ctl(t, "export", "--address", admin, "--format", "csv", "--since", "2020-01-01")
	rows, err := csv.NewReader(strings.NewReader(stdout)).ReadAll()
	if code != 0 || err != nil || len(rows) != 4 || rows[0][0] != "event_id" || rows[1][0] != recs[0].EventID {
		t.Fatalf("csv export: exit %d %v %s %q", code, err, stderr, rows)
	}

	code, stdout, _ = ctl(t, "stats", "--address", admin)
	if code != 0 || !strings.Contains(stdout, "analytics") || !strings.Contains(stdout, "total") || !strings.Contains(stdout, "3 decisions") {
		t.Errorf("stats: exit %d\n%s", code, stdout)
	}
	code, _, stderr = ctl(t, "stats", "--address", admin, "--purpose", "analytcs")
	if code != 0 || !strings.Contains(stderr, `no decision in these records is about the purpose "analytcs"`) {
		t.Errorf("stats of a mistyped purpose: exit %d, stderr %q; want a note that no decision is about it", code, stderr)
	}
	code, stdout, _ = ctl(t, "stats", "--address", admin, "--csv")
	rows, err = csv.NewReader(strings.NewReader(stdout)).ReadAll()
	var analyticsTotal []string
	for _, r := range rows {
		if len(r) == 9 && r[0] == "total" && r[1] == "analytics" {
			analyticsTotal = r
		}
	}
	if code != 0 || err != nil || len(rows) < 3 || strings.Join(rows[0], ",") != "day,purpose,decisions,accepted,rejected,custom,withdrawn,gpc_defaulted,granted" ||
		analyticsTotal == nil || analyticsTotal[2] != "3" {
		t.Errorf("stats --csv: exit %d %v\n%s", code, err, stdout)
	}
	code, stdout, _ = ctl(t, "show", recs[0].ConsentID, "--address", admin)
	if code != 0 || !strings.Contains(stdout, recs[0].EventID) {
		t.Errorf("show: exit %d %s", code, stdout)
	}
	code, stdout, _ = ctl(t, "erase", "--address", admin, recs[0].ConsentID)
	if code != 0 || !strings.Contains(stdout, "erased 1 record ") {
		t.Errorf("erase: exit %d %s", code, stdout)
	}
	if code, _, stderr := ctl(t, "show", "--address", admin, recs[0].ConsentID); code != exitFailed || !strings.Contains(stderr, "404") {
		t.Errorf("show after erasure: exit %d %s", code, stderr)
	}
	// The erasure's receipt is the chain's fourth record.
	code, stdout, _ = ctl(t, "checkpoint", "--address", admin)
	if code != 0 || !strings.Contains(stdout, "chain ctl-commands") || !strings.Contains(stdout, "checkpoint at seq 4") {
		t.Errorf("checkpoint: exit %d %s", code, stdout)
	}
	code, stdout, _ = ctl(t, "verify", "--address", admin)
	if code != 0 || !strings.Contains(stdout, "4 records, 1 tombstone of erased records, 1 erasure receipt, seq 1..4") || !strings.Contains(stdout, "1 chain verified: ok") {
		t.Errorf("verify: exit %d\n%s", code, stdout)
	}
	html := filepath.Join(t.TempDir(), "dashboard.html")
	if code, _, stderr := ctl(t, "dashboard", "--address", admin, "--output", html); code != 0 {
		t.Errorf("dashboard: exit %d %s", code, stderr)
	}
	if page, _ := os.ReadFile(html); !bytes.Contains(page, []byte("<svg")) {
		t.Errorf("dashboard file without a chart")
	}
	// What the API refuses maps to exit codes.
	if code, _, stderr := ctl(t, "export", "--address", admin, "--since", "last week"); code != exitUsage || !strings.Contains(stderr, "RFC 3339") {
		t.Errorf("bad --since: exit %d %s", code, stderr)
	}
	if code, _, stderr := ctl(t, "verify", "--address", admin, "--store", "redis://elsewhere"); code != exitFailed || !strings.Contains(stderr, "unknown store") {
		t.Errorf("unknown store: exit %d %s", code, stderr)
	}
	for _, cmd := range []string{"export", "stats"} {
		if code, _, stderr := ctl(t, cmd, "--address", admin, "--chain", "nope"); code != exitFailed || !strings.Contains(stderr, `no chain "nope"`) {
			t.Errorf("%s of an unknown chain: exit %d %s", cmd, code, stderr)
		}
	}
}

// TestVerifyNamesTampering: one record altered and another deleted
// directly in the bolt file; consentctl verify fails and names both.
func TestVerifyNamesTampering(t *testing.T) {
	g := startChainGateway(t, "ctl-tamper")
	site, admin, db, caddyfile := g.site, g.admin, g.db, g.caddyfile
	for range 6 {
		gatewaytest.PostChoice(t, gatewaytest.NewClient(t), site, `{"all":true}`)
	}
	_, stdout, _ := ctl(t, "export", "--address", admin)
	recs := readJSONL(t, stdout)
	if len(recs) != 6 {
		t.Fatalf("want 6 records, got %d", len(recs))
	}
	if code, stdout, _ := ctl(t, "verify", "--address", admin); code != 0 {
		t.Fatalf("before tampering: exit %d\n%s", code, stdout)
	}

	gatewaytest.Stop(t) // closes the bolt file
	tamper(t, db, "ctl-tamper", 2, 4)
	gatewaytest.Start(t, caddyfile)

	code, stdout, stderr := ctl(t, "verify", "--address", admin)
	checkTamperReport(t, code, stdout+stderr, recs[1].EventID)

	// The same through the real binary.
	bin := filepath.Join(t.TempDir(), "consentctl")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("building consentctl: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "verify", "--address", admin).CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		t.Fatalf("consentctl verify: %v\n%s", err, out)
	}
	checkTamperReport(t, exit.ExitCode(), string(out), recs[1].EventID)
	t.Logf("%s", out)
	out, err = exec.Command(bin, "verify", "--address", admin, "--json").Output()
	if !errors.As(err, &exit) || exit.ExitCode() != 1 || !bytes.Contains(out, []byte(`"ok": false`)) {
		t.Errorf("verify --json: %v\n%s", err, out)
	}
}

// tamper changes one field of the record at seq alter and deletes the
// record at seq del, as someone with access to the file could.
func tamper(t *testing.T, path, chain string, alter, del uint64) {
	t.Helper()
	gatewaytest.UpdateRecords(t, path, chain, func(rec *bbolt.Bucket) error {
		key := binary.BigEndian.AppendUint64(nil, alter)
		old := rec.Get(key)
		changed := bytes.Replace(old, []byte(`"marketing":true`), []byte(`"marketing":false`), 1)
		if bytes.Equal(old, changed) {
			return fmt.Errorf("seq %d has no granted marketing purpose: %s", alter, old)
		}
		if err := rec.Put(key, changed); err != nil {
			return err
		}
		return rec.Delete(binary.BigEndian.AppendUint64(nil, del))
	})
}

// TestExportOfARecordStoredAcrossLines: a record rewritten in the file as
// indented JSON, the same content (so it still verifies), is exported as
// one JSON line like every other, and the export is complete.
func TestExportOfARecordStoredAcrossLines(t *testing.T) {
	g := startChainGateway(t, "ctl-lines")
	for range 3 {
		gatewaytest.PostChoice(t, gatewaytest.NewClient(t), g.site, `{"all":true}`)
	}
	gatewaytest.Stop(t)
	gatewaytest.UpdateRecords(t, g.db, "ctl-lines", func(rec *bbolt.Bucket) error {
		key := binary.BigEndian.AppendUint64(nil, 2)
		var indented bytes.Buffer
		if err := json.Indent(&indented, rec.Get(key), "", "  "); err != nil {
			return err
		}
		return rec.Put(key, indented.Bytes())
	})
	gatewaytest.Start(t, g.caddyfile)
	code, stdout, stderr := ctl(t, "export", "--address", g.admin)
	if code != 0 {
		t.Fatalf("export: exit %d\n%s", code, stderr)
	}
	if recs := readJSONL(t, stdout); len(recs) != 3 || recs[1].Seq != 2 {
		t.Errorf("export: %d records, want 3, one per line", len(recs))
	}
	if code, stdout, _ := ctl(t, "verify", "--address", g.admin); code != 0 {
		t.Errorf("verify of the same content stored across lines: exit %d\n%s", code, stdout)
	}
}

func checkTamperReport(t *testing.T, code int, out, alteredEvent string) {
	t.Helper()
	if code != exitFailed {
		t.Errorf("verify of a tampered log: exit %d, want 1\n%s", code, out)
	}
	for _, want := range []string{
		"chain ctl-tamper",
		"BROKEN",
		"altered at seq 2 (event " + alteredEvent + "): content does not match its hash",
		"gap at seq 4: seq 4 missing",
		"verification FAILED: 1 of 1 chain broken",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("verify output lacks %q:\n%s", want, out)
		}
	}
}

// TestIndependentVerification: everything an auditor needs comes through
// consentctl — the records, the signed checkpoints (one taken on request,
// one written as the gateway shut down) and the public key — and FORMAT.md's
// own script re-verifies them without consentgate code; it also notices
// records cut off at the end, which only checkpoints show.
func TestIndependentVerification(t *testing.T) {
	g := startChainGateway(t, "ctl-independent")
	site, admin, caddyfile := g.site, g.admin, g.caddyfile
	dir := t.TempDir() // the exports
	for _, choice := range []string{`{"all":true}`, `{"all":false}`, `{"purposes":{"analytics":true}}`} {
		gatewaytest.PostChoice(t, gatewaytest.NewClient(t), site, choice)
	}
	if code, stdout, _ := ctl(t, "checkpoint", "--address", admin); code != 0 || !strings.Contains(stdout, "checkpoint at seq 3") {
		t.Fatalf("checkpoint: exit %d %s", code, stdout)
	}
	gatewaytest.PostChoice(t, gatewaytest.NewClient(t), site, `{"all":true}`)
	gatewaytest.Stop(t) // writes a checkpoint at seq 4
	gatewaytest.Start(t, caddyfile)

	file := func(name string) string { return filepath.Join(dir, name) }
	if code, _, stderr := ctl(t, "export", "--address", admin, "-o", file("records.jsonl")); code != 0 {
		t.Fatalf("export: exit %d %s", code, stderr)
	}
	if code, _, stderr := ctl(t, "checkpoints", "--address", admin, "--chain", "ctl-independent", "-o", file("checkpoints.jsonl")); code != 0 {
		t.Fatalf("checkpoints: exit %d %s", code, stderr)
	}
	// Each checkpoint names the proof retention in force (the default
	// here), by which records that expired under it are judged later.
	cpData, _ := os.ReadFile(file("checkpoints.jsonl"))
	for _, line := range strings.Split(strings.TrimSpace(string(cpData)), "\n") {
		var cp proof.Checkpoint
		if err := json.Unmarshal([]byte(line), &cp); err != nil || cp.Retention != store.DefaultProofRetention.Milliseconds() {
			t.Errorf("checkpoint %s: want the retention %d ms named (%v)", line, store.DefaultProofRetention.Milliseconds(), err)
		}
	}
	code, keys, stderr := ctl(t, "keys", "--address", admin)
	keyLines := strings.Split(strings.TrimSpace(keys), "\n")
	fields := strings.Fields(keyLines[0])
	if len(keyLines) != 2 || !regexp.MustCompile(`^m[0-9a-f]{16} \(MAC key\)$`).MatchString(keyLines[1]) {
		t.Errorf("keys: want the public key, then the MAC key's id: %q", keys)
	}
	if code != 0 || len(fields) != 2 || !strings.HasPrefix(fields[0], "s") || len(fields[1]) != 64 {
		t.Fatalf("keys: exit %d %q %s", code, keys, stderr)
	}

	python, script := prooftest.Script(t, dir)
	verify := func(records string) (string, int) {
		cmd := exec.Command(python, script, records, "--checkpoints", file("checkpoints.jsonl"), "--public-key", fields[1])
		out, _ := cmd.CombinedOutput()
		return string(out), cmd.ProcessState.ExitCode()
	}
	if out, code := verify(file("records.jsonl")); code != 0 || !strings.Contains(out, "ctl-independent: OK (4 records, 0 tombstones, 0 receipts, 2 checkpoints, HMACs not checked)") {
		t.Fatalf("FORMAT.md's script on the export: exit %d\n%s", code, out)
	}
	data, _ := os.ReadFile(file("records.jsonl"))
	lines := strings.SplitAfter(strings.TrimSuffix(string(data), "\n"), "\n")
	if err := os.WriteFile(file("cut.jsonl"), []byte(strings.Join(lines[:3], "")), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, code := verify(file("cut.jsonl")); code != 1 || !strings.Contains(out, "ctl-independent: truncated at seq 4") {
		t.Errorf("FORMAT.md's script on an export cut at the end: exit %d\n%s", code, out)
	}

	if code, _, stderr := ctl(t, "checkpoints", "--address", admin, "--chain", "no such chain!"); code != exitUsage {
		t.Errorf("checkpoints of a malformed chain id: exit %d %s", code, stderr)
	}
}

// TestForgedTombstoneIsCaughtWithoutTheKey: a withdrawal turned into a
// tombstone straight in the bolt file, keeping its hash so that links and
// checkpoints hold, is reported as unreceipted by consentctl verify and by
// FORMAT.md's script given no MAC key; a visitor's genuine erasure, whose
// receipt is in the chain, is not.
func TestForgedTombstoneIsCaughtWithoutTheKey(t *testing.T) {
	g := startChainGateway(t, "ctl-forged")
	alice, bob := gatewaytest.NewClient(t), gatewaytest.NewClient(t)
	gatewaytest.PostChoice(t, alice, g.site, `{"all":true}`)
	gatewaytest.PostChoice(t, alice, g.site, `{"withdraw":true}`)
	gatewaytest.PostChoice(t, bob, g.site, `{"all":true}`)
	_, stdout, _ := ctl(t, "export", "--address", g.admin)
	recs := readJSONL(t, stdout)
	if code, out, stderr := ctl(t, "erase", "--address", g.admin, recs[2].ConsentID); code != 0 || !strings.Contains(out, "erased 1 record") {
		t.Fatalf("erase: exit %d %s %s", code, out, stderr)
	}
	dir := t.TempDir()
	file := func(name string) string { return filepath.Join(dir, name) }
	_, keys, _ := ctl(t, "keys", "--address", g.admin)
	publicKey := strings.Fields(keys)[1]
	python, script := prooftest.Script(t, dir)
	audit := func() (string, int) {
		for _, args := range [][]string{{"checkpoints", "-o", file("checkpoints.jsonl")}, {"export", "-o", file("records.jsonl")}} {
			if code, _, stderr := ctl(t, append(args, "--address", g.admin)...); code != 0 {
				t.Fatalf("%s: exit %d %s", args[0], code, stderr)
			}
		}
		cmd := exec.Command(python, script, file("records.jsonl"), "--checkpoints", file("checkpoints.jsonl"), "--public-key", publicKey)
		out, _ := cmd.CombinedOutput()
		return string(out), cmd.ProcessState.ExitCode()
	}
	if out, code := audit(); code != 0 || !strings.Contains(out, "ctl-forged: OK (4 records, 1 tombstones, 1 receipts, 0 checkpoints, HMACs not checked)") {
		t.Fatalf("a genuine erasure: exit %d\n%s", code, out)
	}

	gatewaytest.Stop(t) // writes a checkpoint of seq 4, and closes the file
	gatewaytest.UpdateRecords(t, g.db, "ctl-forged", func(rec *bbolt.Bucket) error {
		key := binary.BigEndian.AppendUint64(nil, 2)
		forged, err := prooftest.ForgeTombstone(bytes.Clone(rec.Get(key)))
		if err != nil {
			return err
		}
		return rec.Put(key, forged)
	})
	gatewaytest.Start(t, g.caddyfile)

	code, out, _ := ctl(t, "verify", "--address", g.admin)
	if code != exitFailed || !strings.Contains(out, "unreceipted_tombstone at seq 2 (event "+recs[1].EventID+")") ||
		strings.Contains(out, "unreceipted_tombstone at seq 3") {
		t.Errorf("consentctl verify: exit %d\n%s", code, out)
	}
	if out, code := audit(); code != 1 || !strings.Contains(out, "ctl-forged: unreceipted_tombstone at seq 2") ||
		strings.Contains(out, "at seq 3") {
		t.Errorf("FORMAT.md's script without the MAC key: exit %d\n%s", code, out)
	}
}

// TestBackupWhileWriting: consentctl backup, taken while visitors' choices
// are being recorded, writes a file that opens as a store whose chain
// verifies and holds every proof acknowledged before the backup began (a
// plain copy of the file in use can lose whole chains).
func TestBackupWhileWriting(t *testing.T) {
	const chain = "ctl-backup"
	g := startChainGateway(t, chain)
	var acked atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				req, _ := http.NewRequest(http.MethodPost, g.site+"/.consent/choice", strings.NewReader(`{"all":true}`))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Origin", g.site)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					acked.Add(1)
				}
			}
		}()
	}
	defer func() { close(stop); wg.Wait() }()
	dir := t.TempDir()
	for i := range 3 {
		for acked.Load() < int64(50*(i+1)) { // some proofs between backups
			time.Sleep(10 * time.Millisecond)
		}
		before := acked.Load()
		file := filepath.Join(dir, fmt.Sprintf("backup%d.db", i))
		code, _, stderr := ctl(t, "backup", "--address", g.admin, "--output", file)
		if code != 0 || !strings.Contains(stderr, "backup written to "+file) {
			t.Fatalf("backup %d: exit %d: %s", i, code, stderr)
		}
		st, err := bolt.Open(file, bolt.Options{})
		if err != nil {
			t.Fatalf("backup %d does not open: %v", i, err)
		}
		rep, err := store.Verify(t.Context(), st, chain, proof.VerifyOptions{})
		st.Close()
		if err != nil || !rep.OK() || int64(rep.Records) < before {
			t.Errorf("backup %d (%d proofs acknowledged before it): verify %v, %d records, problems %+v", i, before, err, rep.Records, rep.Problems)
		}
	}
	if code, _, stderr := ctl(t, "backup", "--address", g.admin); code != exitUsage || !strings.Contains(stderr, "--output") {
		t.Errorf("backup without --output: exit %d %s", code, stderr)
	}
}

// TestVerifyAfterTheStoreWentBack: the bolt file replaced by an older
// backup, or lost, while the gateway was stopped. Right after the restart,
// before any new proof, verify already fails and names the proofs the
// gateway stored that the store no longer holds (its chain head file says
// how far it wrote), instead of passing on what is left.
func TestVerifyAfterTheStoreWentBack(t *testing.T) {
	g := startChainGateway(t, "ctl-restore")
	for range 3 {
		gatewaytest.PostChoice(t, gatewaytest.NewClient(t), g.site, `{"all":true}`)
	}
	backup := filepath.Join(t.TempDir(), "backup.db")
	if code, _, stderr := ctl(t, "backup", "--address", g.admin, "--output", backup); code != 0 {
		t.Fatalf("backup: exit %d %s", code, stderr)
	}
	for range 2 {
		gatewaytest.PostChoice(t, gatewaytest.NewClient(t), g.site, `{"all":false}`)
	}
	for _, c := range []struct {
		name, want string
		restore    func() error
	}{
		{"an older backup restored", "seq 4..5 missing", func() error {
			data, err := os.ReadFile(backup)
			if err != nil {
				return err
			}
			return os.WriteFile(g.db, data, 0o600)
		}},
		{"the store file lost", "seq 1..5 missing", func() error { return os.Remove(g.db) }},
	} {
		gatewaytest.Stop(t) // closes the bolt file and saves the chain head
		if err := c.restore(); err != nil {
			t.Fatal(err)
		}
		gatewaytest.Start(t, g.caddyfile)
		code, stdout, stderr := ctl(t, "verify", "--address", g.admin)
		if code != exitFailed || !strings.Contains(stdout, c.want) {
			t.Errorf("%s: verify exit %d, want 1 naming %q:\n%s%s", c.name, code, c.want, stdout, stderr)
		}
		// The gateway holds the key; a chain it finds no record of has no
		// HMAC to check.
		if strings.Contains(stdout, "HMAC not checked") {
			t.Errorf("%s: verify says the HMAC was not checked for want of a key:\n%s", c.name, stdout)
		}
	}
	// An export of what the lost store holds now is written, and says it
	// is not the whole record.
	out := filepath.Join(t.TempDir(), "export.jsonl")
	code, _, stderr := ctl(t, "export", "--address", g.admin, "--output", out)
	if _, err := os.Stat(out); code != exitAPI || err != nil || !strings.Contains(stderr, "export incomplete") || !strings.Contains(stderr, "ctl-restore") || !strings.Contains(stderr, "seq 1..5 missing") {
		t.Errorf("export from a store that lost the chain: exit %d (want 4), file %v, %s", code, err, stderr)
	}
}

// TestOutputThroughLinksAndPipes: --output names where the export goes,
// not a file to put in its place: /dev/stdout is standard output. A named pipe (as /dev/stdout or
// >(gzip) are) is written through and stays a pipe; a symbolic link
// stays a link, and the file it names gets the export.
func TestOutputThroughLinksAndPipes(t *testing.T) {
	site, admin, _ := startGateway(t)
	gatewaytest.PostChoice(t, gatewaytest.NewClient(t), site, `{"all":true}`)
	code, want, stderr := ctl(t, "export", "--address", admin)
	if code != 0 || len(readJSONL(t, want)) != 1 {
		t.Fatalf("export: exit %d %s\n%s", code, stderr, want)
	}
	dir := t.TempDir()

	// /dev/stdout is this process's standard output, whatever the shell
	// made of it (a file it appends to, say): written to as such.
	if code, got, stderr := ctl(t, "export", "--address", admin, "-o", "/dev/stdout"); code != 0 || got != want {
		t.Errorf("export -o /dev/stdout: exit %d %s, wrote %q to standard output, want the export", code, stderr, got)
	}

	pipe := filepath.Join(dir, "pipe")
	if err := syscall.Mkfifo(pipe, 0o600); err != nil {
		t.Fatal(err)
	}
	read := make(chan string, 1)
	go func() {
		data, _ := os.ReadFile(pipe) // blocks until the writer opens it, reads until it closes
		read <- string(data)
	}()
	if code, _, stderr := ctl(t, "export", "--address", admin, "-o", pipe); code != 0 {
		t.Errorf("export into a named pipe: exit %d %s", code, stderr)
	}
	select {
	case got := <-read:
		if got != want {
			t.Errorf("through the pipe: %q, want %q", got, want)
		}
	case <-time.After(10 * time.Second):
		os.WriteFile(pipe, nil, 0) // let the reader go
		t.Error("nothing came through the pipe")
	}
	if fi, err := os.Lstat(pipe); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("the named pipe was replaced: %v %v", fi.Mode(), err)
	}

	target := filepath.Join(t.TempDir(), "records.jsonl")
	link := filepath.Join(dir, "latest.jsonl")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := ctl(t, "export", "--address", admin, "-o", link); code != 0 {
		t.Fatalf("export through a link: exit %d %s", code, stderr)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link was replaced by a file: %v %v", fi.Mode(), err)
	}
	if got, _ := os.ReadFile(target); string(got) != want {
		t.Errorf("the linked file holds %q, want the export", got)
	}
}

// TestAdminEndpointsThatCheckOrigins: consentctl on the gateway's machine
// works with the admin endpoint set up as containers set it up (`admin
// 0.0.0.0:port`, where Caddy allows only that address as an Origin, so an
// Origin of localhost was refused), and with one that requires an Origin
// (enforce_origin).
func TestAdminEndpointsThatCheckOrigins(t *testing.T) {
	for _, tc := range []struct{ name, admin string }{
		{"all addresses", "admin 0.0.0.0:%d"},
		{"origin enforced", "admin localhost:%[1]d {\n\t\torigins localhost:%[1]d\n\t\tenforce_origin\n\t}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			port, adminPort := gatewaytest.FreePort(t), gatewaytest.FreePort(t)
			globals := strings.Replace(gatewaytest.Globals(adminPort), fmt.Sprintf("admin localhost:%d", adminPort), fmt.Sprintf(tc.admin, adminPort), 1)
			gatewaytest.Start(t, globals+siteBlock(port, filepath.Join(t.TempDir(), "proofs.db"), "ctl-origins", okPage))
			site := gatewaytest.BaseURL(port)
			gatewaytest.PostChoice(t, gatewaytest.NewClient(t), site, `{"all":true}`)
			address := fmt.Sprintf("localhost:%d", adminPort)
			if code, stdout, stderr := ctl(t, "verify", "--address", address); code != 0 || !strings.Contains(stdout, "1 chain verified: ok") {
				t.Errorf("verify --address %s: exit %d\n%s%s", address, code, stdout, stderr)
			}
			if code, stdout, stderr := ctl(t, "export", "--address", address); code != 0 || len(readJSONL(t, stdout)) != 1 {
				t.Errorf("export --address %s: exit %d\n%s%s", address, code, stdout, stderr)
			}
		})
	}
}

// TestRecordPastTheHeadDoesNotBlockChoices: a record put into the store
// right after the chain's head, around the gateway (sealed with keys of
// its own, as someone with access to the file could), took the seq the
// gateway's next proof needs, and every choice after it was refused. The
// gateway now goes on after it and says so in its log, the visitor's
// choice is recorded, and verify names the record it did not write.
func TestRecordPastTheHeadDoesNotBlockChoices(t *testing.T) {
	g := startChainGateway(t, "past-head")
	gatewaytest.PostChoice(t, gatewaytest.NewClient(t), g.site, `{"all":true}`)
	gatewaytest.PostChoice(t, gatewaytest.NewClient(t), g.site, `{"all":false}`)
	gatewaytest.Stop(t)

	var stray proof.Record
	gatewaytest.UpdateRecords(t, g.db, "past-head", func(rec *bbolt.Bucket) error {
		var last proof.Record
		if err := json.Unmarshal(rec.Get(binary.BigEndian.AppendUint64(nil, 2)), &last); err != nil {
			return err
		}
		mac, _ := proof.NewMACKey([]byte("a key that is not the gateway's, 32+ bytes"))
		_, priv, _ := ed25519.GenerateKey(nil)
		signer, _ := proof.NewSigningKey(priv)
		c, err := proof.NewChain(proof.ChainConfig{ID: "past-head", MAC: mac, Signer: signer}, proof.Head{Seq: last.Seq, Hash: last.Hash, Time: last.Time})
		if err != nil {
			return err
		}
		if stray, err = c.Seal(proof.Record{Type: proof.Given, ConsentID: "planted", Site: "127.0.0.1", Path: "/",
			How: proof.How{Layer: proof.LayerAPI, Action: proof.ActionAcceptAll}, Purposes: map[string]bool{"necessary": true, "marketing": true},
			Signals: proof.Signals{Effect: proof.EffectNone}}); err != nil {
			return err
		}
		data, err := stray.AppendJSON(nil)
		if err != nil {
			return err
		}
		return rec.Put(binary.BigEndian.AppendUint64(nil, stray.Seq), data)
	})

	logFile := filepath.Join(t.TempDir(), "caddy.log")
	gatewaytest.Start(t, strings.Replace(g.caddyfile, "level ERROR", fmt.Sprintf("output file %s\n\t\tformat json\n\t\tlevel ERROR", logFile), 1))
	gatewaytest.PostChoice(t, gatewaytest.NewClient(t), g.site, `{"all":true}`)
	if log := mustRead(t, logFile); !strings.Contains(log, "the store holds records of this chain past its head") || !strings.Contains(log, `"stored_up_to_seq":3`) {
		t.Errorf("the gateway does not say it went on after seq 3:\n%s", log)
	}
	code, stdout, _ := ctl(t, "verify", "--address", g.admin)
	if code != exitFailed || !strings.Contains(stdout, "4 records, seq 1..4") || !strings.Contains(stdout, "bad_hmac at seq 3 (event "+stray.EventID) ||
		strings.Contains(stdout, "broken_link") {
		t.Errorf("verify: exit %d, want %d naming the planted record's HMAC at seq 3 and nothing else:\n%s", code, exitFailed, stdout)
	}
}
