package caddymodule_test

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"testing"
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
