package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"

	"github.com/consentgate/consentgate/caddymodule/gatewaytest"
	"github.com/consentgate/consentgate/consent/cookie"
	"github.com/consentgate/consentgate/consent/proof"
	"github.com/consentgate/consentgate/consent/proof/prooftest"
)

// TestHexProofKeyReachesTheAuditorAsHex: an operator who generated the
// proof key as hex (openssl rand -hex 48) hands the auditor that hex. The
// gateway no longer reads it as base64 (a different key, so FORMAT.md's
// script found every HMAC bad): without a prefix it refuses to start,
// naming both readings and their key ids; with "hex:" it seals with the
// key the auditor holds, and the script checks every HMAC; with "base64:"
// it keeps the reading a running gateway had.
func TestHexProofKeyReachesTheAuditorAsHex(t *testing.T) {
	secret := make([]byte, 48)
	rand.Read(secret)
	hex96 := hex.EncodeToString(secret)
	asBase64, _ := base64.RawStdEncoding.DecodeString(hex96)
	hexID, base64ID := macKeyID(t, secret), macKeyID(t, asBase64)

	port, adminPort := gatewaytest.FreePort(t), gatewaytest.FreePort(t)
	site, admin := gatewaytest.BaseURL(port), fmt.Sprintf("localhost:%d", adminPort)
	dir := t.TempDir()
	caddyfile := func(proofKey string) string {
		return gatewaytest.Globals(adminPort) + fmt.Sprintf(`:%d {
	consent {
		store bolt://%s
		chain ctl-hex-key
		proof_key %s
	}
	respond %q
	header Content-Type text/html
}`, port, filepath.Join(dir, "proofs.db"), proofKey, okPage)
	}

	cfg, err := gatewaytest.Adapt(caddyfile(hex96))
	if err != nil {
		t.Fatal(err)
	}
	if err := caddy.Load(cfg, true); err == nil {
		_ = caddy.Stop()
		t.Errorf("a proof_key of 96 hex digits was taken without saying whether it is hex or base64")
	} else {
		for _, want := range []string{"proof_key (generation 1)", "as hex, 48 bytes; as base64, 72 bytes", `write "hex:" or "base64:"`, hexID, base64ID} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("refusing the ambiguous key: %q lacks %q", err, want)
			}
		}
	}

	gatewaytest.Start(t, caddyfile("hex:"+hex96))
	for _, choice := range []string{`{"all":true}`, `{"all":false}`} {
		gatewaytest.PostChoice(t, gatewaytest.NewClient(t), site, choice)
	}
	if code, keys, stderr := ctl(t, "keys", "--address", admin); code != 0 || !strings.Contains(keys, hexID+" (MAC key)") || strings.Contains(keys, base64ID) {
		t.Errorf("keys with proof_key hex:…: exit %d %s, want the hex key's id %s\n%s", code, stderr, hexID, keys)
	}
	records := filepath.Join(dir, "records.jsonl")
	if code, _, stderr := ctl(t, "export", "--address", admin, "-o", records); code != 0 {
		t.Fatalf("export: exit %d %s", code, stderr)
	}
	python, script := prooftest.Script(t, dir)
	out, err := exec.Command(python, script, records, "--mac-key", hex96).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "ctl-hex-key: OK (2 records, 0 tombstones, 0 receipts, 0 checkpoints)") {
		t.Errorf("FORMAT.md's script with the operator's hex as --mac-key: %v\n%s", err, out)
	}

	// The reading a running gateway had, kept: auditors.md's key_hex.py
	// turns the key, as the gateway has it, into what the script takes.
	gatewaytest.Start(t, caddyfile("base64:"+hex96))
	if code, keys, stderr := ctl(t, "keys", "--address", admin); code != 0 || !strings.Contains(keys, base64ID+" (MAC key)") {
		t.Errorf("keys with proof_key base64:…: exit %d %s, want the base64 reading's id %s\n%s", code, stderr, base64ID, keys)
	}
	gatewaytest.PostChoice(t, gatewaytest.NewClient(t), site, `{"all":true}`)
	if code, _, stderr := ctl(t, "export", "--address", admin, "-o", records); code != 0 {
		t.Fatalf("export: exit %d %s", code, stderr)
	}
	converted, id, err := keyHex(t, python, dir, "base64:"+hex96)
	if err != nil || id != base64ID {
		t.Fatalf("key_hex.py base64:…: key id %q, want %s (%v)", id, base64ID, err)
	}
	out, err = exec.Command(python, script, records, "--mac-key", hex96, "--mac-key", converted).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "ctl-hex-key: OK (3 records, 0 tombstones, 0 receipts, 0 checkpoints)") {
		t.Errorf("FORMAT.md's script with both generations: %v\n%s", err, out)
	}
}

// TestKeyHexReadsKeysAsTheGatewayDoes: auditors.md's key_hex.py, which
// turns a key as the operator wrote it into the hex FORMAT.md's script
// takes, reads every form as the gateway does, prints the key id the
// gateway names it by, and refuses what the gateway refuses.
func TestKeyHexReadsKeysAsTheGatewayDoes(t *testing.T) {
	python, dir := prooftest.Python(t), t.TempDir()
	secret := make([]byte, 48)
	rand.Read(secret)
	hex96 := hex.EncodeToString(secret)
	for _, written := range []string{
		"hex:" + hex96, "base64:" + hex96, " HEX:" + strings.ToUpper(hex96) + "\n",
		hex96[:64], hex96[:64] + hex96[:64], // hex of 32 and 64 bytes, as the gateway always read them
		base64.StdEncoding.EncodeToString(secret), base64.RawURLEncoding.EncodeToString(secret[1:]),
		"base64:" + base64.URLEncoding.EncodeToString(secret[2:]),
	} {
		want, err := cookie.ParseKey(written)
		if err != nil {
			t.Fatalf("the gateway refuses %q: %v", written, err)
		}
		got, id, err := keyHex(t, python, dir, written)
		if err != nil || got != hex.EncodeToString(want) || id != macKeyID(t, want) {
			t.Errorf("key_hex.py %q: %s, key id %s (%v); the gateway reads %x, key id %s", written, got, id, err, want, macKeyID(t, want))
		}
	}
	for _, written := range []string{hex96, hex96[1:]} {
		if _, err := cookie.ParseKey(written); err == nil {
			t.Fatalf("the gateway takes %q", written)
		}
		if got, _, err := keyHex(t, python, dir, written); err == nil {
			t.Errorf("key_hex.py %q: %s, want it refused as the gateway refuses it", written, got)
		}
	}
	seed := secret[:32]
	pub, id, err := keyHex(t, python, dir, "--public", "base64:"+base64.StdEncoding.EncodeToString(seed))
	wantPub := ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)
	if err != nil || pub != hex.EncodeToString(wantPub) || id != proof.PublicKeyID(wantPub) {
		t.Errorf("key_hex.py --public: %s, key id %s (%v); want %x, %s", pub, id, err, wantPub, proof.PublicKeyID(wantPub))
	}
}

// keyHex runs auditors.md's key_hex.py: the key in hex, and the key id it
// names on standard error.
func keyHex(t *testing.T, python, dir string, args ...string) (key, id string, err error) {
	t.Helper()
	doc, rerr := os.ReadFile(filepath.Join("..", "..", "docs", "auditors.md"))
	if rerr != nil {
		t.Fatal(rerr)
	}
	named := strings.Index(string(doc), `"""key_hex.py:`)
	start := strings.LastIndex(string(doc[:max(named, 0)]), "```python\n")
	if named < 0 || start < 0 {
		t.Fatal("auditors.md has no key_hex.py")
	}
	block, _, _ := strings.Cut(string(doc[start+len("```python\n"):]), "```")
	var code strings.Builder
	for line := range strings.Lines(block) {
		code.WriteString(strings.TrimPrefix(line, "   ")) // the list item's indent
	}
	script := filepath.Join(dir, "key_hex.py")
	if err := os.WriteFile(script, []byte(code.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(python, append([]string{script}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", "", fmt.Errorf("%v: %s", err, stderr.String())
	}
	return strings.TrimSpace(string(out)), strings.TrimPrefix(strings.TrimSpace(stderr.String()), "key id "), nil
}

func macKeyID(t *testing.T, secret []byte) string {
	t.Helper()
	k, err := proof.NewMACKey(secret)
	if err != nil {
		t.Fatal(err)
	}
	return k.ID
}
