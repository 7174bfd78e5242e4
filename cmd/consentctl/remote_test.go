package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/consentgate/consentgate/caddymodule/gatewaytest"
)

// TestRemoteAdmin: from another machine, an auditor reaches the admin API
// only through Caddy's remote admin, over mutual TLS, with a client
// certificate the operator listed and allowed the routes docs/auditors.md
// lists. consentctl's --cert, --key and --cacert get them through; without
// a certificate nothing is answered; erasure is not among those routes;
// the gateway's log names the certificate of each export.
func TestRemoteAdmin(t *testing.T) {
	dir := t.TempDir()
	port, adminPort, remotePort := gatewaytest.FreePort(t), gatewaytest.FreePort(t), gatewaytest.FreePort(t)
	logFile := filepath.Join(dir, "caddy.log")
	cfg, err := gatewaytest.Adapt(gatewaytest.GlobalsLogging(adminPort, logFile) +
		siteBlock(port, filepath.Join(dir, "proofs.db"), "ctl-remote", okPage))
	if err != nil {
		t.Fatal(err)
	}
	cert, key, certDER := clientCertificate(t, dir, "auditor")
	// What the Caddyfile cannot say: the admin endpoint's identity (from
	// Caddy's internal CA, not installed in the system's trust store) and
	// the remote admin, as docs/auditors.md sketches it.
	var c map[string]any
	if err := json.Unmarshal(cfg, &c); err != nil {
		t.Fatal(err)
	}
	admin := c["admin"].(map[string]any)
	admin["identity"] = map[string]any{
		"identifiers": []string{"127.0.0.1"},
		"issuers":     []any{map[string]any{"module": "internal"}},
	}
	admin["remote"] = map[string]any{
		"listen": fmt.Sprintf("127.0.0.1:%d", remotePort),
		"access_control": []any{map[string]any{
			"public_keys": []string{base64.StdEncoding.EncodeToString(certDER)},
			"permissions": documentedPermissions(t),
		}},
	}
	c["apps"].(map[string]any)["pki"] = map[string]any{
		"certificate_authorities": map[string]any{"local": map[string]any{"install_trust": false}},
	}
	cfg, _ = json.Marshal(c)
	gatewaytest.StartJSON(t, cfg)
	gatewaytest.PostChoice(t, gatewaytest.NewClient(t), gatewaytest.BaseURL(port), `{"all":true}`)

	remote := fmt.Sprintf("https://127.0.0.1:%d", remotePort)
	root := filepath.Join(caddy.AppDataDir(), "pki", "authorities", "local", "root.crt")
	tlsFlags := []string{"--address", remote, "--cert", cert, "--key", key, "--cacert", root}
	// The identity certificate is issued in the background.
	var code int
	var stdout, stderr string
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		code, stdout, stderr = ctl(t, append([]string{"verify"}, tlsFlags...)...)
		if code != exitUnreachable && code != exitUsage || time.Now().After(deadline) {
			break
		}
	}
	if code != 0 || !strings.Contains(stdout, "1 chain verified: ok") {
		logs, _ := os.ReadFile(logFile)
		t.Fatalf("verify through the remote admin: exit %d %s\n%s\n%s", code, stderr, stdout, logs)
	}
	out := filepath.Join(dir, "records.jsonl")
	if code, _, stderr := ctl(t, append([]string{"export", "-o", out}, tlsFlags...)...); code != 0 {
		t.Fatalf("export through the remote admin: exit %d %s", code, stderr)
	}
	if data, _ := os.ReadFile(out); len(readJSONL(t, string(data))) != 1 {
		t.Errorf("exported through the remote admin: %s", data)
	}

	// The documented permissions read; they do not erase.
	if code, _, stderr := ctl(t, append([]string{"stats"}, tlsFlags...)...); code != 0 {
		t.Errorf("stats through the remote admin: exit %d %s", code, stderr)
	}
	id := readJSONL(t, mustRead(t, out))[0].ConsentID
	if code, stdout, stderr := ctl(t, append([]string{"show", id}, tlsFlags...)...); code != 0 || !strings.Contains(stdout, id) {
		t.Errorf("show through the remote admin: exit %d %s%s", code, stdout, stderr)
	}
	if code, _, stderr := ctl(t, append([]string{"erase", id}, tlsFlags...)...); code == 0 || !strings.Contains(stderr, "403") {
		t.Errorf("erase with the documented read-only permissions: exit %d %s; want a 403", code, stderr)
	}

	// No certificate, or one the operator did not list: no answer.
	otherCert, otherKey, _ := clientCertificate(t, dir, "stranger")
	for name, flags := range map[string][]string{
		"no certificate":       {"--address", remote, "--cacert", root},
		"an unlisted one":      {"--address", remote, "--cert", otherCert, "--key", otherKey, "--cacert", root},
		"no trust in the host": {"--address", remote, "--cert", cert, "--key", key},
	} {
		code, _, stderr := ctl(t, append([]string{"export"}, flags...)...)
		if code != exitUnreachable {
			t.Errorf("%s: exit %d %s, want %d", name, code, stderr, exitUnreachable)
		}
		// The hint points at the TLS flags, not at a Caddy that is not running.
		if !strings.Contains(stderr, "--cert and --key") || strings.Contains(stderr, "is Caddy running") {
			t.Errorf("%s: the hint does not name the TLS flags:\n%s", name, stderr)
		}
	}

	logs, _ := os.ReadFile(logFile)
	found := false
	for line := range strings.Lines(string(logs)) {
		if strings.Contains(line, `"msg":"consent export"`) && strings.Contains(line, `"client":"CN=auditor"`) {
			found = true
		}
	}
	if !found {
		t.Errorf("no export logged with the client certificate in\n%s", logs)
	}
}

// clientCertificate writes a self-signed client certificate and its key
// (PEM) into dir, and returns their paths and the certificate's DER.
func clientCertificate(t *testing.T, dir, name string) (certFile, keyFile string, der []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err = x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile, der
}

// documentedPermissions are the remote admin permissions docs/auditors.md
// gives an auditor's certificate, read from its JSON sketch.
func documentedPermissions(t *testing.T) any {
	t.Helper()
	doc := mustRead(t, filepath.Join("..", "..", "docs", "auditors.md"))
	_, after, _ := strings.Cut(doc, "```json\n")
	sketch, _, _ := strings.Cut(after, "```")
	var cfg struct {
		Admin struct {
			Remote struct {
				AccessControl []struct {
					Permissions any `json:"permissions"`
				} `json:"access_control"`
			} `json:"remote"`
		} `json:"admin"`
	}
	if err := json.Unmarshal([]byte("{"+sketch+"}"), &cfg); err != nil || len(cfg.Admin.Remote.AccessControl) == 0 {
		t.Fatalf("docs/auditors.md: the remote admin sketch does not read as JSON (%v):\n%s", err, sketch)
	}
	return cfg.Admin.Remote.AccessControl[0].Permissions
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
