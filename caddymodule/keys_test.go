package caddymodule_test

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/consentgate/consentgate/caddymodule/gatewaytest"
)

func randomKey(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// TestGeneratedKeysSurviveRestart: with no keys configured, a restart keeps
// visitors' consent (the keys live in Caddy's data directory).
func TestGeneratedKeysSurviveRestart(t *testing.T) {
	port := freePort(t)
	site := fmt.Sprintf(":%d {\n\tconsent\n\trespond \"ok\"\n}", port)
	base := baseURL(port)
	c := newClient(t)
	startCaddy(t, site)
	postChoice(t, c, base, `{"all":true}`)
	startCaddy(t, site) // a new config load: provisions the handler afresh
	if s := getState(t, c, base); !s.Decided || !s.Purposes["social"] {
		t.Errorf("consent lost across restart: %+v", s)
	}
}

// TestKeyRotation: keys from the environment; a new key first and the old
// one kept still reads old cookies; dropping the old key asks again.
func TestKeyRotation(t *testing.T) {
	oldHash, oldBlock, newHash, newBlock := randomKey(64), randomKey(32), randomKey(32), randomKey(32)
	t.Setenv("CG_OLD_HASH", oldHash)
	t.Setenv("CG_OLD_BLOCK", oldBlock)
	t.Setenv("CG_NEW_HASH", newHash)
	t.Setenv("CG_NEW_BLOCK", newBlock)
	port := freePort(t)
	base := baseURL(port)
	site := func(keys string) string {
		return fmt.Sprintf(":%d {\n\tconsent {\n%s\t}\n\trespond \"ok\"\n}", port, keys)
	}
	oldKey := "\t\tkey {env.CG_OLD_HASH} {env.CG_OLD_BLOCK}\n"
	newKey := "\t\tkey {env.CG_NEW_HASH} {env.CG_NEW_BLOCK}\n"

	c := newClient(t)
	startCaddy(t, site(oldKey))
	postChoice(t, c, base, `{"purposes":{"analytics":true}}`)

	startCaddy(t, site(newKey+oldKey))
	if s := getState(t, c, base); !s.Decided || !s.Purposes["analytics"] {
		t.Fatalf("old cookie not read after rotation: %+v", s)
	}
	fresh := newClient(t)
	postChoice(t, fresh, base, `{"purposes":{"social":true}}`) // signed with the new key

	startCaddy(t, site(newKey))
	if s := getState(t, c, base); s.Decided {
		t.Errorf("cookie signed with a dropped key still accepted: %+v", s)
	}
	if s := getState(t, fresh, base); !s.Decided || !s.Purposes["social"] {
		t.Errorf("cookie signed with the current key rejected: %+v", s)
	}
}

// TestProofKeyRotation: a reload that rotates the proof and signing keys
// (new first, old kept) goes on with the same chain; later records and
// checkpoints name the new key, and the whole chain, both generations of
// records and a checkpoint signed before the rotation, verifies — also
// after a restart that knows the old keys only from the configuration.
func TestProofKeyRotation(t *testing.T) {
	oldMAC, newMAC, oldSeed, newSeed := randomKey(32), randomKey(32), randomKey(32), randomKey(32)
	port, adminPort := freePort(t), freePort(t)
	db := filepath.Join(t.TempDir(), "proofs.db")
	config := func(keys string) string {
		return gatewaytest.Globals(adminPort) + fmt.Sprintf(":%d {\n\tconsent {\n\t\tstore bolt://%s\n\t\tchain rotate-test\n%s\t}\n\trespond \"ok\"\n}",
			port, db, keys)
	}
	base, admin := baseURL(port), fmt.Sprintf("http://localhost:%d", adminPort)
	verify := func(when string, checkpoints int) {
		t.Helper()
		var v struct {
			OK     bool `json:"ok"`
			Chains []struct {
				Records     int  `json:"records"`
				Checkpoints int  `json:"checkpoints"`
				MACChecked  bool `json:"mac_checked"`
			} `json:"chains"`
		}
		adminJSON(t, "GET", admin+"/consent/verify?chain=rotate-test", 200, &v)
		if !v.OK || len(v.Chains) != 1 || !v.Chains[0].MACChecked || v.Chains[0].Checkpoints != checkpoints {
			t.Errorf("%s: chain does not verify with %d signed checkpoints: %+v", when, checkpoints, v)
		}
	}
	// checkpoint signs the chain's head now and returns the signing key's id.
	checkpoint := func() string {
		t.Helper()
		var cp struct {
			Checkpoints []struct {
				KeyID string `json:"key_id"`
			} `json:"checkpoints"`
		}
		adminJSON(t, "POST", admin+"/consent/checkpoint", 200, &cp)
		if len(cp.Checkpoints) != 1 || cp.Checkpoints[0].KeyID == "" {
			t.Fatalf("no checkpoint written: %+v", cp)
		}
		return cp.Checkpoints[0].KeyID
	}

	gatewaytest.Start(t, config(fmt.Sprintf("\t\tproof_key %s\n\t\tsigning_key %s\n", oldMAC, oldSeed)))
	postChoice(t, newClient(t), base, `{"all":true}`)
	postChoice(t, newClient(t), base, `{"all":false}`)
	oldCheckpointKey := checkpoint() // signed with the key about to be rotated out of first place

	rotated := config(fmt.Sprintf("\t\tproof_key %s %s\n\t\tsigning_key %s %s\n", newMAC, oldMAC, newSeed, oldSeed))
	gatewaytest.Start(t, rotated)
	postChoice(t, newClient(t), base, `{"purposes":{"analytics":true}}`)
	if newCheckpointKey := checkpoint(); newCheckpointKey == oldCheckpointKey {
		t.Errorf("the checkpoint after rotation is signed with the old key %s", oldCheckpointKey)
	}
	verify("after a reload with rotated keys", 2)

	var keyIDs = map[string]int{}
	_, body := adminDo(t, "GET", admin+"/consent/export?format=jsonl&chain=rotate-test")
	for _, line := range strings.Split(strings.TrimSpace(body), "\n") {
		var r struct {
			KeyID string `json:"key_id"`
		}
		json.Unmarshal([]byte(line), &r)
		keyIDs[r.KeyID]++
	}
	if len(keyIDs) != 2 {
		t.Errorf("records after rotation should name the new key: key ids %v", keyIDs)
	}

	gatewaytest.Stop(t)
	gatewaytest.Start(t, rotated) // a fresh process state: old keys only from the Caddyfile
	verify("after a restart", 2)
}

// TestReplacedProofKeysArePointedOut: a restart with new proof and signing
// keys and without the old ones after them goes on writing, and verify
// would then report the chain's records and checkpoint as bad_hmac and
// bad_checkpoint, as for tampering. The gateway says why when it resumes
// the chain, naming the keys it lacks; with the old keys kept as previous
// generations it says nothing.
func TestReplacedProofKeysArePointedOut(t *testing.T) {
	const complaint = "this chain was sealed with keys this configuration does not hold"
	oldMAC, newMAC, oldSeed, newSeed := randomKey(32), randomKey(32), randomKey(32), randomKey(32)
	port, adminPort := freePort(t), freePort(t)
	db := filepath.Join(t.TempDir(), "proofs.db")
	base, admin := baseURL(port), fmt.Sprintf("http://localhost:%d", adminPort)
	start := func(keys string) (logFile string) {
		t.Helper()
		logFile = filepath.Join(t.TempDir(), "caddy.log")
		gatewaytest.Start(t, gatewaytest.GlobalsLogging(adminPort, logFile)+fmt.Sprintf(":%d {\n\tconsent {\n\t\tstore bolt://%s\n\t\tchain replaced-keys\n%s\t}\n\trespond \"ok\"\n}",
			port, db, keys))
		return logFile
	}
	keys := func(mac, seed string) string {
		return fmt.Sprintf("\t\tproof_key %s\n\t\tsigning_key %s\n", mac, seed)
	}

	start(keys(oldMAC, oldSeed))
	postChoice(t, newClient(t), base, `{"all":true}`)
	var cp struct {
		Checkpoints []struct {
			KeyID string `json:"key_id"`
		} `json:"checkpoints"`
	}
	adminJSON(t, "POST", admin+"/consent/checkpoint", 200, &cp)
	var sealed struct {
		KeyID string `json:"key_id"`
	}
	_, body := adminDo(t, "GET", admin+"/consent/export")
	if err := json.Unmarshal([]byte(body), &sealed); err != nil || sealed.KeyID == "" || len(cp.Checkpoints) != 1 {
		t.Fatalf("before the restart: %s, %+v, %v", body, cp, err)
	}
	gatewaytest.Stop(t)

	logFile := start(keys(newMAC, newSeed))
	postChoice(t, newClient(t), base, `{"all":false}`) // resumes the chain
	if line := lineWith(readFile(logFile), complaint); !strings.Contains(line, sealed.KeyID) || !strings.Contains(line, cp.Checkpoints[0].KeyID) {
		t.Errorf("the gateway does not name the keys it lacks (%s, %s):\n%s", sealed.KeyID, cp.Checkpoints[0].KeyID, readFile(logFile))
	}
	gatewaytest.Stop(t)

	logFile = start(fmt.Sprintf("\t\tproof_key %s %s\n\t\tsigning_key %s %s\n", newMAC, oldMAC, newSeed, oldSeed))
	postChoice(t, newClient(t), base, `{"all":true}`)
	var verified struct {
		OK bool `json:"ok"`
	}
	adminJSON(t, "GET", admin+"/consent/verify", 200, &verified)
	if !verified.OK {
		t.Errorf("with the old keys kept, the chain does not verify")
	}
	if line := lineWith(readFile(logFile), complaint); line != "" {
		t.Errorf("with the old keys kept as previous generations: %s", line)
	}
}

func readFile(path string) string {
	data, _ := os.ReadFile(path)
	return string(data)
}

// TestFirstStartSaysWhatToBackUp: a first start generates the cookie keys,
// the proof keys and the chain id in the data directory, and says so with
// each file, since the operator's backups must hold them; a restart finds
// them and says nothing.
func TestFirstStartSaysWhatToBackUp(t *testing.T) {
	t.Setenv("XDG_DATA_HOME", t.TempDir())
	port, adminPort := freePort(t), freePort(t)
	db := filepath.Join(t.TempDir(), "proofs.db")
	start := func() string {
		logFile := filepath.Join(t.TempDir(), "caddy.log")
		gatewaytest.Start(t, gatewaytest.GlobalsLogging(adminPort, logFile)+fmt.Sprintf(":%d {\n\tconsent {\n\t\tstore bolt://%s\n\t}\n\trespond \"ok\"\n}", port, db))
		postChoice(t, newClient(t), baseURL(port), `{"all":true}`)
		return readFile(logFile)
	}
	logs := start()
	for _, file := range []string{"cookie-keys.json", "proof-keys.json", "chain-id.json"} {
		said := false
		for line := range strings.Lines(logs) {
			said = said || strings.Contains(line, "(first start); keep it in the data directory's backups") && strings.Contains(line, file)
		}
		if !said {
			t.Errorf("nothing logged of generating %s:\n%s", file, logs)
		}
	}
	gatewaytest.Stop(t)
	if logs := start(); strings.Contains(logs, "first start") {
		t.Errorf("a restart says it generated something:\n%s", logs)
	}
}
