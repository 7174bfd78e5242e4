package caddymodule

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/caddyserver/caddy/v2"

	"github.com/consentgate/consentgate/consent/cookie"
)

// loadKeys resolves configured keys (placeholders such as {env.NAME} are
// replaced here, so secrets never sit in the JSON config) or, when none are
// configured, loads the keys generated on first start from Caddy's data
// directory, so restarts keep visitors' consent.
func (h *Handler) loadKeys() ([]cookie.KeyPair, error) {
	if len(h.Keys) == 0 {
		return loadOrCreateKeys(dataPath("cookie-keys.json"))
	}
	repl := caddy.NewReplacer()
	keys := make([]cookie.KeyPair, 0, len(h.Keys))
	for i, k := range h.Keys {
		hash, err := parseKeyFrom(repl, k.Hash)
		if err != nil {
			return nil, fmt.Errorf("key %d: hash key: %w", i+1, err)
		}
		block, err := parseKeyFrom(repl, k.Block)
		if err != nil {
			return nil, fmt.Errorf("key %d: block key: %w", i+1, err)
		}
		kp := cookie.KeyPair{Hash: hash, Block: block}
		if err := kp.Validate(); err != nil {
			return nil, fmt.Errorf("key %d: %w", i+1, err)
		}
		keys = append(keys, kp)
	}
	return keys, nil
}

type storedKey struct {
	Hash  string `json:"hash"`
	Block string `json:"block"`
}

// loadOrCreateKeys reads the cookie key file, or creates it on first start.
func loadOrCreateKeys(path string) ([]cookie.KeyPair, error) {
	stored, err := loadOrGenerate(path, "the cookie keys", "every visitor is asked again", func() []storedKey {
		kp := cookie.GenerateKeyPair()
		return []storedKey{{
			Hash:  base64.StdEncoding.EncodeToString(kp.Hash),
			Block: base64.StdEncoding.EncodeToString(kp.Block),
		}}
	})
	if err != nil {
		return nil, err
	}
	if len(stored) == 0 {
		return nil, fmt.Errorf("key file %s holds no keys (delete it to make new ones; visitors will be asked again)", path)
	}
	keys := make([]cookie.KeyPair, 0, len(stored))
	for i, s := range stored {
		hash, err1 := cookie.ParseKey(s.Hash)
		block, err2 := cookie.ParseKey(s.Block)
		kp := cookie.KeyPair{Hash: hash, Block: block}
		if err := errors.Join(err1, err2, kp.Validate()); err != nil {
			return nil, fmt.Errorf("key file %s, key %d: %w", path, i+1, err)
		}
		keys = append(keys, kp)
	}
	return keys, nil
}

// errEmptyPlaceholder is a key whose placeholders left nothing.
var errEmptyPlaceholder = errors.New("is empty (an unset environment variable, or an empty file)")

// parseKeyFrom parses a configured key, its placeholders replaced; one
// that leaves nothing (hex:{env.UNSET} included) names the placeholder,
// the likely mistake.
func parseKeyFrom(repl *caddy.Replacer, configured string) ([]byte, error) {
	key, err := cookie.ParseKey(repl.ReplaceAll(configured, ""))
	if errors.Is(err, cookie.ErrEmptyKey) && strings.Contains(configured, "{") {
		return nil, fmt.Errorf("%s %w", configured, errEmptyPlaceholder)
	}
	return key, err
}
