package caddymodule

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/caddyserver/caddy/v2"

	"github.com/consentgate/consentgate/consent/cookie"
)

// loadKeys resolves configured keys (placeholders such as {env.NAME} are
// replaced here, so secrets never sit in the JSON config) or, when none are
// configured, loads the keys generated on first start from Caddy's data
// directory, so restarts keep visitors' consent.
func (h *Handler) loadKeys() ([]cookie.KeyPair, error) {
	if len(h.Keys) == 0 {
		return loadOrCreateKeys(filepath.Join(caddy.AppDataDir(), "consentgate", "cookie-keys.json"))
	}
	repl := caddy.NewReplacer()
	keys := make([]cookie.KeyPair, 0, len(h.Keys))
	for i, k := range h.Keys {
		hash, err := cookie.ParseKey(repl.ReplaceAll(k.Hash, ""))
		if err != nil {
			return nil, fmt.Errorf("key %d: hash key: %w", i+1, err)
		}
		block, err := cookie.ParseKey(repl.ReplaceAll(k.Block, ""))
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

// loadOrCreateKeys reads the key file, or creates it exclusively; when two
// instances start at once, the loser reads the winner's keys.
func loadOrCreateKeys(path string) ([]cookie.KeyPair, error) {
	if keys, err := readKeyFile(path); err == nil {
		return keys, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("creating key directory: %w", err)
	}
	kp := cookie.GenerateKeyPair()
	data, _ := json.MarshalIndent([]storedKey{{
		Hash:  base64.StdEncoding.EncodeToString(kp.Hash),
		Block: base64.StdEncoding.EncodeToString(kp.Block),
	}}, "", "  ")
	// Write a temporary file, then link it into place: the link fails if
	// another instance got there first, and nobody ever reads a half file.
	tmp, err := os.CreateTemp(filepath.Dir(path), ".cookie-keys-*")
	if err != nil {
		return nil, fmt.Errorf("creating key file: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("writing key file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("writing key file: %w", err)
	}
	if err := os.Link(tmp.Name(), path); errors.Is(err, fs.ErrExist) {
		return readKeyFile(path)
	} else if err != nil {
		return nil, fmt.Errorf("installing key file: %w", err)
	}
	return []cookie.KeyPair{kp}, nil
}

func readKeyFile(path string) ([]cookie.KeyPair, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var stored []storedKey
	if err := json.Unmarshal(data, &stored); err != nil || len(stored) == 0 {
		return nil, fmt.Errorf("key file %s is corrupt (delete it to make new keys; visitors will be asked again): %v", path, err)
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
