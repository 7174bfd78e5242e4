package caddymodule

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"go.uber.org/zap"

	"github.com/consentgate/consentgate/consent/proof"
	"github.com/consentgate/consentgate/consent/store/redis"
	"github.com/consentgate/consentgate/consent/store/spool"
)

// A sink's files in the data directory are named by its chain and its
// store's identity (fileStem): one gateway may write one chain id to several stores,
// as two sites without a chain line do (both take the data directory's).
// Versions before 2026-12-07 named the spool by the chain alone, so two
// such sinks shared it, and after a restart one of them replayed the
// other's proofs into its own store. adoptOldSpool moves such a spool to
// the sink it belongs to.

// fileStem is what a sink's head file and spool are named by: the chain
// and where its store keeps records (storeIdentity).
func fileStem(chainID, identity string) string {
	return chainID + "-" + shortHash(identity)
}

// storeIdentity names where a store keeps its records: for Redis without
// credentials or client settings, so that a rotated password or a changed
// timeout keeps the sink's spool and head file (versions up to 2067377
// named them by the whole URL: adoptURLNamedFiles).
func storeIdentity(storeName string) (string, error) {
	if path, ok := strings.CutPrefix(storeName, "bolt://"); ok {
		// One file however it is spelled: a reload naming the open file
		// by another path must not be refused as a second process.
		return "bolt://" + resolvedPath(path), nil
	}
	return redis.Identity(storeName)
}

// resolvedPath is path cleaned and with symbolic links resolved as far as
// it exists, so that it names the file the same before and after the file
// (or its folder) is created.
func resolvedPath(path string) string {
	path = filepath.Clean(path)
	for dir := path; ; dir = filepath.Dir(dir) {
		if real, err := filepath.EvalSymlinks(dir); err == nil {
			rest, _ := filepath.Rel(dir, path)
			return filepath.Join(real, rest)
		}
		if dir == filepath.Dir(dir) {
			return path
		}
	}
}

// adoptURLNamedFiles renames the sink's spool and head file from the
// names an earlier version gave them (a hash of the whole store URL) to
// the ones by the store's identity, unless those exist already.
func (s *proofSink) adoptURLNamedFiles() error {
	for _, f := range [][2]string{
		{dataPath("spool-" + s.urlStem), s.spoolDir},
		{dataPath("chain-" + s.urlStem + ".head.json"), s.headFile},
	} {
		if f[0] == f[1] {
			continue
		}
		if _, err := os.Stat(f[1]); err == nil {
			continue
		}
		if err := os.Rename(f[0], f[1]); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("renaming %s to %s: %w", f[0], f[1], err)
		}
	}
	return nil
}

// noteOtherSpools logs every other spool of this chain in the data
// directory that still holds proofs: one left behind when the store's URL
// came to name another place (a host spelled otherwise, another database
// or prefix), whose proofs no sink replays.
func (s *proofSink) noteOtherSpools() {
	dirs, _ := filepath.Glob(dataPath("spool-" + s.chainID + "-*"))
	for _, dir := range dirs {
		if dir == s.spoolDir || !isStemOf(strings.TrimPrefix(filepath.Base(dir), "spool-"), s.chainID) {
			continue
		}
		if waiting, err := spool.Waiting(dir); err == nil && waiting {
			s.logger.Error("another store's spool of this chain holds proofs that wait to be replayed; if the store's URL changed, "+
				"stop the gateway and move them to this store's spool (when it is empty) or replay them into the store they belong to",
				zap.String("chain", s.chainID), zap.String("spool", dir), zap.String("own_spool", s.spoolDir))
		}
	}
}

// oldSpoolMu keeps two sinks from adopting one old spool at once.
var oldSpoolMu sync.Mutex

// adoptOldSpool renames the chain's spool of an earlier version to this
// sink's spool directory when its proofs are this sink's: when nothing in
// it waits, when this sink's head file names its last record, or when no
// other store's head file names this chain (no other sink of this data
// directory has written it). Otherwise it is left where it is, and the log
// says so: its proofs are kept, for the operator to hand to the right store.
func (s *proofSink) adoptOldSpool() error {
	oldSpoolMu.Lock()
	defer oldSpoolMu.Unlock()
	old := dataPath("spool-" + s.chainID)
	if _, err := os.Stat(old); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	mine, pending, err := s.ownsOldSpool(old)
	if err != nil {
		return fmt.Errorf("proof spool of an earlier version: %w", err)
	}
	_, err = os.Stat(s.spoolDir)
	ownExists := err == nil
	switch {
	case !mine:
		s.logger.Error("a proof spool of an earlier version holds proofs of this chain that another store's sink may have written; "+
			"they are left there: stop the gateway and rename the directory to the spool of their store (spool-<chain>-<store hash>, as the head file chain-<chain>-<store hash>.head.json names it)",
			zap.String("chain", s.chainID), zap.String("spool", old), zap.Int("pending", pending))
		return nil
	case ownExists && pending > 0:
		s.logger.Error("a proof spool of an earlier version holds proofs of this chain beside this store's own spool; "+
			"they are left there: stop the gateway and replay them (move this store's spool aside and rename the old one in its place)",
			zap.String("chain", s.chainID), zap.String("spool", old), zap.String("own_spool", s.spoolDir), zap.Int("pending", pending))
		return nil
	case ownExists:
		return nil // nothing waits in it
	}
	if err := os.Rename(old, s.spoolDir); err != nil {
		return fmt.Errorf("moving the proof spool of an earlier version: %w", err)
	}
	if pending > 0 {
		s.logger.Info("took over the proof spool of an earlier version", zap.String("chain", s.chainID),
			zap.String("spool", s.spoolDir), zap.Int("pending", pending))
	}
	return nil
}

// ownsOldSpool tells whether the old spool's pending proofs are this
// sink's, and how many there are.
func (s *proofSink) ownsOldSpool(dir string) (mine bool, pending int, err error) {
	sp, err := spool.Open(dir)
	if err != nil {
		return false, 0, err
	}
	last, ok, err := sp.LastRecord()
	pending = sp.Pending()
	if cerr := sp.Close(); err == nil {
		err = cerr
	}
	if err != nil || !ok {
		return !ok && err == nil, pending, err
	}
	if last.Chain != s.chainID {
		return false, pending, nil
	}
	var head proof.Head
	if readJSON(s.headFile, &head) == nil && head.Seq == last.Seq && head.Hash == last.Hash {
		return true, pending, nil
	}
	others, err := s.otherHeadFiles()
	return len(others) == 0 && err == nil, pending, err
}

// otherHeadFiles lists the head files of this sink's chain in other stores
// than its own.
func (s *proofSink) otherHeadFiles() ([]string, error) {
	heads, err := filepath.Glob(dataPath("chain-" + s.chainID + "-*.head.json"))
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(heads, func(h string) bool {
		return h == s.headFile || !isHeadFileOf(filepath.Base(h), s.chainID)
	}), nil
}

// noteChainElsewhere says, when a chain starts at seq 1 in this sink's
// store, that this gateway wrote the same chain to another store (the
// store URL changed): its earlier proofs stay there, and verify of this
// store alone shows a chain that seems to begin today.
func (s *proofSink) noteChainElsewhere() {
	others, _ := s.otherHeadFiles()
	for _, h := range others {
		var other proof.Head
		if readJSON(h, &other) != nil || other.Seq == 0 {
			continue
		}
		s.logger.Warn("this chain starts anew in this store, but this gateway wrote it to another store before (the store URL changed): its earlier proofs stay there; verify and export that store too, or give this store a chain id of its own",
			zap.String("chain", s.chainID), zap.Uint64("other_store_last_seq", other.Seq), zap.String("other_head_file", h))
		return
	}
}

// isHeadFileOf tells whether name is a head file of chain, not of a chain
// whose id merely starts with it.
func isHeadFileOf(name, chainID string) bool {
	stem, ok := strings.CutPrefix(name, "chain-")
	stem, ok2 := strings.CutSuffix(stem, ".head.json")
	return ok && ok2 && isStemOf(stem, chainID)
}

// isStemOf tells whether stem is a fileStem of chain, not of a chain whose
// id merely starts with it.
func isStemOf(stem, chainID string) bool {
	hash, ok := strings.CutPrefix(stem, chainID+"-")
	_, err := hex.DecodeString(hash)
	return ok && len(hash) == 8 && err == nil
}
