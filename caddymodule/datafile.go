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

// loadOrGenerate is loadOrCreateJSON for what a first start generates and
// the operator's backups must hold (keys, the chain id): when this start
// made the file, the log says so, with what is lost without it.
func loadOrGenerate[T any](path, what, without string, create func() T) (T, error) {
	v, created, err := loadOrCreate(path, create)
	if created {
		caddy.Log().Named("http.handlers.consent").Info("generated "+what+" (first start); keep it in the data directory's backups: without it "+without,
			zap.String("file", path))
	}
	return v, err
}

// loadOrCreateJSON reads the JSON file at path into v, or, when there is
// none, fills v with create() and writes it exclusively (mode 0600). Two
// instances starting at once agree: the loser reads the winner's file, and
// nobody ever reads a half-written one (it is linked into place whole).
func loadOrCreateJSON[T any](path string, create func() T) (T, error) {
	v, _, err := loadOrCreate(path, create)
	return v, err
}

// loadOrCreate is loadOrCreateJSON, telling whether it created the file.
func loadOrCreate[T any](path string, create func() T) (v T, created bool, err error) {
	data, err := os.ReadFile(path)
	if err == nil {
		if err := json.Unmarshal(data, &v); err != nil {
			return v, false, fmt.Errorf("%s is corrupt: %v", path, err)
		}
		return v, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return v, false, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return v, false, fmt.Errorf("creating %s: %w", filepath.Dir(path), err)
	}
	v = create()
	data, err = json.MarshalIndent(v, "", "  ")
	if err != nil {
		return v, false, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return v, false, fmt.Errorf("creating %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return v, false, fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return v, false, fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Link(tmp.Name(), path); errors.Is(err, fs.ErrExist) {
		var winner T
		return winner, false, readJSON(path, &winner)
	} else if err != nil {
		return v, false, fmt.Errorf("installing %s: %w", path, err)
	}
	return v, true, nil
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
