package caddymodule_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
)

// TestCaddyfileAdapt: every testdata/adapt/*.caddyfiletest holds a Caddyfile,
// a line of ten dashes, and the JSON it must adapt to.
func TestCaddyfileAdapt(t *testing.T) {
	files, err := filepath.Glob("testdata/adapt/*.caddyfiletest")
	if err != nil || len(files) == 0 {
		t.Fatalf("no adapt tests found: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			caddyfile, want, ok := strings.Cut(string(data), "----------")
			if !ok {
				t.Fatal("missing ---------- separator")
			}
			got := adapt(t, strings.TrimSpace(caddyfile)+"\n")
			var gotBuf, wantBuf bytes.Buffer
			if err := json.Indent(&gotBuf, got, "", "\t"); err != nil {
				t.Fatal(err)
			}
			if err := json.Indent(&wantBuf, []byte(strings.TrimSpace(want)), "", "\t"); err != nil {
				t.Fatalf("expected JSON is invalid: %v", err)
			}
			if gotBuf.String() != wantBuf.String() {
				t.Errorf("adapted JSON differs.\n--- got\n%s\n--- want\n%s", gotBuf.String(), wantBuf.String())
			}
		})
	}
}

// TestBadCaddyfiles: mistakes are refused with an error naming the line and
// the problem, whether caught while adapting or while provisioning.
func TestBadCaddyfiles(t *testing.T) {
	cases := []struct {
		name, body, want, line string
	}{
		{"unknown subdirective", "consent {\n\tbanana yes\n}", `unknown subdirective "banana"`, "Caddyfile:3"},
		{"bad duration", "consent {\n\trenew_after six-months\n}", `bad duration "six-months"`, "Caddyfile:3"},
		{"negative duration", "consent {\n\trenew_after -5d\n}", `duration "-5d" must be positive`, "Caddyfile:3"},
		{"malformed key", "consent {\n\tkey !!!! alsobad\n}", `malformed hash key`, "Caddyfile:3"},
		{"short key", "consent {\n\tkey AAAA AAAA\n}", `malformed key: hash key must be 32 or 64 bytes`, "Caddyfile:3"},
		{"unknown purpose", "consent {\n\tvendor acme {\n\t\tname Acme\n\t\tpurpose spying\n\t\tmatch script acme.example\n\t}\n}", `vendor "acme": unknown purpose "spying"`, "Caddyfile:5"},
		{"incomplete new vendor", "consent {\n\tvendor acme {\n\t\tname Acme\n\t}\n}", `vendor "acme": not in the built-in catalogue, so it needs at least name and purpose`, "Caddyfile:3"},
		{"vendor without rules", "consent {\n\tvendor acme {\n\t\tname Acme\n\t\tpurpose analytics\n\t}\n}", `needs at least one match or inline rule`, "Caddyfile:3"},
		{"bad match kind", "consent {\n\tvendor acme {\n\t\tname Acme\n\t\tpurpose analytics\n\t\tmatch form acme.example\n\t}\n}", `match kind "form" cannot be blocked`, "Caddyfile:6"},
		{"duplicate", "consent {\n\tcookie_name a\n\tcookie_name b\n}", `cookie_name is given twice`, "Caddyfile:4"},
		{"argument on directive", "consent now", `wrong argument count`, "Caddyfile:2"},
		{"duplicate purpose", "consent {\n\tpurpose x\n\tpurpose x\n}", `purpose "x" is declared twice`, "Caddyfile:4"},
		{"bad purpose id", "consent {\n\tpurpose \"Not Valid\"\n}", `purpose id "Not Valid"`, "Caddyfile:3"},
		{"bad store", "consent {\n\tstore mysql://db\n}", `store "mysql://db": want a redis://`, "Caddyfile:3"},
		{"bad ip_truncate", "consent {\n\tip_truncate 32 48\n}", `ip_truncate: IPv4 bits 0-24`, "Caddyfile:3"},
		{"bad prefix", "consent {\n\tprefix consent\n}", `prefix must start with '/'`, "Caddyfile:3"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tryAdapt(":8080\n" + tc.body + "\n")
			if err == nil {
				t.Fatalf("accepted:\n%s", tc.body)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q\n does not contain %q", err, tc.want)
			}
			if tc.line != "" && !strings.HasSuffix(err.Error(), "at "+tc.line) {
				t.Errorf("error %q does not name line %s", err, tc.line)
			}
		})
	}
}

// TestBadJSONConfig: the same checks hold for JSON config, at provision time.
func TestBadJSONConfig(t *testing.T) {
	cases := []struct{ name, handler, want string }{
		{"unknown vendor purpose", `{"handler":"consent","vendors":[{"id":"acme","name":"Acme","purpose":"spying","match":{"script":["acme.example"]}}]}`, `unknown purpose "spying"`},
		{"bad key", `{"handler":"consent","keys":[{"hash":"short","block":"short"}]}`, `key 1`},
		{"env key missing", `{"handler":"consent","keys":[{"hash":"{env.CG_TEST_UNSET_KEY}","block":"{env.CG_TEST_UNSET_KEY}"}]}`, `key 1: hash key: empty key`},
		{"unknown language", `{"handler":"consent","default_language":"tlh"}`, `default language "tlh" has no texts`},
		{"unknown text key", `{"handler":"consent","texts":{"en":{"no_such_text":"x"}}}`, `unknown text "no_such_text"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := `{"admin":{"disabled":true},"apps":{"http":{"servers":{"s":{"listen":["127.0.0.1:0"],"routes":[{"handle":[` + tc.handler + `]}]}}}}}`
			err := caddy.Load([]byte(cfg), true)
			if err == nil {
				_ = caddy.Stop()
				t.Fatal("config accepted")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q\n does not contain %q", err, tc.want)
			}
		})
	}
}
