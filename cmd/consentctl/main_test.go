package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/consentgate/consentgate/caddymodule/gatewaytest"
)

// TestMain keeps the in-process Caddy's data in a throw-away directory.
func TestMain(m *testing.M) { os.Exit(gatewaytest.RunIsolated(m)) }

// ctl runs consentctl in the test process.
func ctl(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "usage: consentctl <command>"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"export", "--format", "xml"}, `--format "xml": use jsonl or csv`},
		{[]string{"export", "--bom"}, "--bom is for --format csv"},
		{[]string{"export", "--no-such-flag"}, "flag provided but not defined"},
		{[]string{"verify", "extra"}, `unexpected argument "extra"`},
		{[]string{"show"}, "want 1 argument(s), got 0"},
		{[]string{"erase", "a", "b"}, "want 1 argument(s), got 2"},
		{[]string{"stats", "--address", "no-port"}, `--address "no-port"`},
		{[]string{"verify", "--address", "ftp://x"}, `--address "ftp://x"`},
		{[]string{"verify", "--cert", "c.pem", "--key", "k.pem"}, "for an https:// --address"},
		{[]string{"stats", "--json", "--csv"}, "--json or --csv, not both"},
	} {
		code, _, stderr := ctl(t, tc.args...)
		if code != exitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("consentctl %q: exit %d, stderr %q; want exit 2 with %q", tc.args, code, stderr, tc.want)
		}
	}
	if code, stdout, _ := ctl(t, "help"); code != 0 || !strings.Contains(stdout, "exit codes") {
		t.Errorf("help: exit %d %q", code, stdout)
	}
	if code, _, stderr := ctl(t, "export", "-h"); code != 0 || !strings.Contains(stderr, "-since") {
		t.Errorf("export -h: exit %d %q", code, stderr)
	}
	// The usage line names every flag the command takes.
	if code, _, stderr := ctl(t, "stats", "-h"); code != 0 || !strings.Contains(stderr, "usage: consentctl stats [--since T] [--until T] [--site HOST] [--purpose ID] [--chain ID] [--json | --csv]\n") {
		t.Errorf("stats -h: exit %d %q", code, stderr)
	}
}

func TestUnreachable(t *testing.T) {
	// A port that was free a moment ago and no test here has used: nothing
	// listens there.
	addr := fmt.Sprintf("127.0.0.1:%d", gatewaytest.FreePort(t))
	for _, args := range [][]string{
		{"verify", "--address", addr},
		{"--address", addr, "verify"}, // flags before the command, as other tools take them
		{"export", "--address", addr, "--format", "csv"},
		{"erase", "--address", "unix/" + t.TempDir() + "/admin.sock", "someone"},
	} {
		code, _, stderr := ctl(t, args...)
		if code != exitUnreachable || !strings.Contains(stderr, "cannot reach the admin API") {
			t.Errorf("consentctl %q: exit %d, stderr %q; want exit 3", args, code, stderr)
		}
	}
}

// TestNotAGateway: an address where something else answers (a 404 that
// is not the consent API's) is an error of the call, exit 4 with a hint,
// not a verdict on the records (exit 1).
func TestNotAGateway(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	for _, args := range [][]string{
		{"verify", "--address", strings.TrimPrefix(srv.URL, "http://")},
		{"stats", "--address", strings.TrimPrefix(srv.URL, "http://")},
	} {
		code, _, stderr := ctl(t, args...)
		if code != exitAPI || !strings.Contains(stderr, "consentgate module") {
			t.Errorf("consentctl %q against a server that is not a gateway: exit %d, stderr %q; want exit 4 with a hint", args, code, stderr)
		}
	}
	// A web server's error page is named, not poured into the terminal.
	page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, "<!DOCTYPE html><html><head><title>Not Found</title><style>%s</style></head><body><h1>Not Found</h1></body></html>", strings.Repeat("body{margin:0}", 400))
	}))
	defer page.Close()
	code, _, stderr := ctl(t, "verify", "--address", strings.TrimPrefix(page.URL, "http://"))
	if code != exitAPI || strings.Contains(stderr, "<") || len(stderr) > 400 || !strings.Contains(stderr, "an HTML page") {
		t.Errorf("against a web server's error page: exit %d, %d bytes on stderr: %q", code, len(stderr), stderr)
	}
}

func TestFlagsAfterArguments(t *testing.T) {
	e := &env{stderr: new(bytes.Buffer)}
	for _, args := range [][]string{{"id1", "--store", "s"}, {"--store", "s", "id1"}, {"--store", "s", "--", "id1"}} {
		e.fs = flag.NewFlagSet("consentctl show", flag.ContinueOnError)
		e.fs.SetOutput(io.Discard)
		store := e.fs.String("store", "", "")
		pos, _, ok := e.parse(args, 1)
		if !ok || len(pos) != 1 || pos[0] != "id1" || *store != "s" {
			t.Errorf("%q: %v %q store %q", args, ok, pos, *store)
		}
	}
}

// Consent ids written before ids stopped starting with '-' can still be
// named, after "--"; without it the error says so.
func TestDashedConsentID(t *testing.T) {
	e := &env{stderr: new(bytes.Buffer)}
	e.fs = flag.NewFlagSet("consentctl show", flag.ContinueOnError)
	e.fs.SetOutput(io.Discard)
	e.fs.String("store", "", "")
	if pos, _, ok := e.parse([]string{"--store", "s", "--", "-W4rZziVt"}, 1); !ok || len(pos) != 1 || pos[0] != "-W4rZziVt" {
		t.Errorf("after --: %v %q", ok, pos)
	}
	code, _, stderr := ctl(t, "show", "-W4rZziVt", "--address", "127.0.0.1:1")
	if code != exitUsage || !strings.Contains(stderr, `consentctl show -- -W4rZziVt`) {
		t.Errorf("show -W4rZziVt: exit %d %q; want a hint to put the id after --", code, stderr)
	}
}

func TestProgressFormatting(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567"} {
		if got := group(n); got != want {
			t.Errorf("group(%d) = %q", n, got)
		}
	}
	var buf bytes.Buffer
	p := &progress{enabled: true, w: &buf, header: 1}
	p.update(1001, 4096)
	p.finish()
	if !strings.Contains(buf.String(), "1,000 records") || !strings.HasSuffix(buf.String(), "\n") {
		t.Errorf("progress line %q", buf.String())
	}
	if p := newProgress(new(bytes.Buffer), false, 0); p.enabled {
		t.Error("progress enabled on a writer that is not a terminal")
	}
	buf.Reset()
	p = &progress{enabled: true, w: &buf, atMost: 4000}
	p.update(1000, 4096)
	p.finish()
	if !strings.Contains(buf.String(), "[#####---------------]  25%  1,000 records") {
		t.Errorf("progress line with a known total %q", buf.String())
	}
}

// TestExportIncomplete: an export the server could not finish, or did not
// confirm, fails with exit 4 and leaves no output file.
func TestExportIncomplete(t *testing.T) {
	for _, tc := range []struct {
		name    string
		handler http.HandlerFunc
		want    string
	}{
		{"error trailer", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Trailer", "X-Consent-Records, X-Consent-Error")
			io.WriteString(w, "{\"seq\":1}\n{\"seq\":2}\n")
			w.Header().Set("X-Consent-Error", "store redis://x: connection reset")
			w.Header().Set("X-Consent-Records", "2")
		}, "export failed on the server: store redis://x: connection reset"},
		{"no count", func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "{\"seq\":1}\n")
		}, "did not confirm the record count"},
		{"count differs", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Trailer", "X-Consent-Records")
			io.WriteString(w, "{\"seq\":1}\n")
			w.Header().Set("X-Consent-Records", "2")
		}, "received 1 records, the server sent 2"},
		{"server error", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, `{"error":"store redis://x: connection refused"}`)
		}, "503 Service Unavailable: store redis://x: connection refused"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.handler)
			defer srv.Close()
			dir := t.TempDir()
			out := filepath.Join(dir, "export.jsonl")
			code, _, stderr := ctl(t, "export", "--address", strings.TrimPrefix(srv.URL, "http://"), "-o", out)
			if code != exitAPI || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d %q, want 4 with %q", code, stderr, tc.want)
			}
			if left, _ := os.ReadDir(dir); len(left) != 0 {
				t.Errorf("left behind: %v", left)
			}
		})
	}
}
