package caddymodule

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"go.uber.org/zap"

	"github.com/consentgate/consentgate/consent/store"
)

// errHeadOnly ends a backup after its headers: the answer to HEAD.
var errHeadOnly = errors.New("headers only")

// serveBackup sends the embedded store's file as one read transaction sees
// it, while the gateway goes on writing: the backup an operator can restore
// (a plain copy of the file in use can mix pages of different moments, and
// lose whole chains). A Redis store is backed up with Redis's own tools.
func (a *AdminAPI) serveBackup(w http.ResponseWriter, r *http.Request, stores []*auditStore) error {
	if len(stores) > 1 {
		return apiError(http.StatusBadRequest, "several stores: name the one to back up with store= (%s)", storeNames(stores))
	}
	as := stores[0]
	sn, ok := as.store.(store.Snapshotter)
	if !ok {
		return apiError(http.StatusBadRequest, "store %s: %v", as.name, store.ErrNoSnapshot)
	}
	start := time.Now()
	hdr := w.Header()
	started := false
	n, err := sn.Snapshot(r.Context(), func(size int64) error {
		started = true
		hdr.Set("Content-Type", "application/octet-stream")
		hdr.Set("Content-Length", strconv.FormatInt(size, 10))
		hdr.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="proofs-%s.db"`, start.UTC().Format("20060102T150405Z")))
		hdr.Set("Cache-Control", "no-store")
		hdr.Set("X-Content-Type-Options", "nosniff")
		if r.Method == http.MethodHead {
			return errHeadOnly
		}
		return nil
	}, w)
	switch {
	case errors.Is(err, errHeadOnly):
		return nil
	case errors.Is(err, store.ErrNoSnapshot):
		return apiError(http.StatusBadRequest, "store %s: %v", as.name, err)
	}
	fields := append(who(r), zap.String("store", as.name), zap.Int64("bytes", n), zap.Duration("duration", time.Since(start)))
	if err != nil {
		a.logger.Error("consent store backup failed", append(fields, zap.Error(err))...)
		if !started {
			return storeError(as, err)
		}
		// Part of the file is out: the client sees it cut short of its
		// Content-Length.
		panic(http.ErrAbortHandler)
	}
	a.logger.Info("consent store backup", fields...)
	return nil
}
