package caddymodule

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"
)

// dataPath is where consentgate keeps its own files in Caddy's data
// directory (cookie and proof keys, the chain id, the embedded store, the
// spool).
func dataPath(name string) string {
	return filepath.Join(caddy.AppDataDir(), "consentgate", name)
}

// noteGenerated says what a first start generated and where: the
// operator's backups of the data directory must hold it, and without it
// the consequence follows.
func noteGenerated(what, path, without string) {
	caddy.Log().Named("http.handlers.consent").Info("generated "+what+" (first start); keep it in the data directory's backups: without it "+without,
		zap.String("file", path))
}

// loadOrCreateJSON reads the JSON file at path into v, or, when there is
// none, fills v with create() and writes it exclusively (mode 0600). Two
// instances starting at once agree: the loser reads the winner's file, and
// nobody ever reads a half-written one (it is linked into place whole).
func loadOrCreateJSON[T any](path string, create func() T) (T, error) {
	var v T
	data, err := os.ReadFile(path)
	if err == nil {
		if err := json.Unmarshal(data, &v); err != nil {
			return v, fmt.Errorf("%s is corrupt: %v", path, err)
		}
		return v, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return v, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return v, fmt.Errorf("creating %s: %w", filepath.Dir(path), err)
	}
	v = create()
	data, err = json.MarshalIndent(v, "", "  ")
	if err != nil {
		return v, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return v, fmt.Errorf("creating %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return v, fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return v, fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Link(tmp.Name(), path); errors.Is(err, fs.ErrExist) {
		var winner T
		return winner, readJSON(path, &winner)
	} else if err != nil {
		return v, fmt.Errorf("installing %s: %w", path, err)
	}
	return v, nil
}

func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s is corrupt: %v", path, err)
	}
	return nil
}
