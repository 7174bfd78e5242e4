package caddymodule

import (
	"crypto/ed25519"
	"crypto/rand"
	"os"
	"path/filepath"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/consentgate/consentgate/consent/proof"
	"github.com/consentgate/consentgate/consent/store/spool"
)

// TestOldSpoolGoesToItsOwnStore: a spool an earlier version kept per chain
// (spool-<chain>) is moved to the spool of the store whose proofs it holds,
// and left alone, with an error in the log, when they may be another
// store's; its proofs are never lost.
func TestOldSpoolGoesToItsOwnStore(t *testing.T) {
	const mine, other = "redis://mine:6379/0", "redis://other:6379/0"
	tests := []struct {
		name    string
		chain   string
		pending int
		// heads are the stores with a head file for the chain; lastIsMine
		// makes this sink's head file name the spool's last record.
		heads      []string
		lastIsMine bool
		otherChain string // a chain whose id starts with this one's, with a head file
		adopted    bool
	}{
		{name: "only this store wrote the chain", chain: "old-a", pending: 2, heads: []string{mine}, adopted: true},
		{name: "no head file at all", chain: "old-b", pending: 2, adopted: true},
		{name: "nothing pending", chain: "old-c", heads: []string{mine, other}, adopted: true},
		{name: "two stores, this one's head names the last record", chain: "old-d", pending: 3, heads: []string{mine, other}, lastIsMine: true, adopted: true},
		{name: "two stores, this one's head does not", chain: "old-e", pending: 3, heads: []string{mine, other}, adopted: false},
		{name: "a longer chain id's head file", chain: "old-f", pending: 1, otherChain: "old-f-eu", adopted: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := os.MkdirAll(dataPath(""), 0o700); err != nil {
				t.Fatal(err)
			}
			old := dataPath("spool-" + tt.chain)
			sp, err := spool.Open(old)
			if err != nil {
				t.Fatal(err)
			}
			last := sealedRecords(t, tt.chain, tt.pending, sp)
			if err := sp.Close(); err != nil {
				t.Fatal(err)
			}
			for _, st := range tt.heads {
				head := proof.Head{Seq: 1, Hash: "not the last record"}
				if st == mine && tt.lastIsMine {
					head = proof.Head{Seq: last.Seq, Hash: last.Hash, Time: last.Time}
				}
				if err := writeJSONFile(dataPath("chain-"+fileStem(tt.chain, st)+".head.json"), head); err != nil {
					t.Fatal(err)
				}
			}
			if tt.otherChain != "" {
				if err := writeJSONFile(dataPath("chain-"+fileStem(tt.otherChain, other)+".head.json"), proof.Head{Seq: 9}); err != nil {
					t.Fatal(err)
				}
			}
			core, logs := observer.New(zap.InfoLevel)
			s := &proofSink{
				chainID:  tt.chain,
				headFile: dataPath("chain-" + fileStem(tt.chain, mine) + ".head.json"),
				spoolDir: dataPath("spool-" + fileStem(tt.chain, mine)),
				logger:   zap.New(core),
			}
			if err := s.adoptOldSpool(); err != nil {
				t.Fatal(err)
			}
			kept := old
			if tt.adopted {
				kept = s.spoolDir
				if _, err := os.Stat(old); err == nil {
					t.Errorf("the old spool is still at %s", old)
				}
			} else if errs := logs.FilterLevelExact(zap.ErrorLevel).Len(); errs != 1 {
				t.Errorf("%d errors logged for an old spool left alone, want 1", errs)
			}
			sp, err = spool.Open(kept)
			if err != nil {
				t.Fatal(err)
			}
			defer sp.Close()
			if got := sp.Pending(); got != tt.pending {
				t.Errorf("the spool at %s holds %d pending proofs, want %d", kept, got, tt.pending)
			}
		})
	}
}

// sealedRecords seals n records on a new chain, spools them, and returns
// the last.
func sealedRecords(t *testing.T, chainID string, n int, sp *spool.Spool) proof.Record {
	t.Helper()
	secret := make([]byte, 32)
	rand.Read(secret)
	mac, _ := proof.NewMACKey(secret)
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	signer, _ := proof.NewSigningKey(priv)
	c, err := proof.NewChain(proof.ChainConfig{ID: chainID, MAC: mac, Signer: signer}, proof.Head{})
	if err != nil {
		t.Fatal(err)
	}
	var last proof.Record
	for range n {
		if last, err = c.Seal(proof.Record{Type: proof.Given, ConsentID: "visitor"}); err != nil {
			t.Fatal(err)
		}
		if err := sp.Add([]proof.Record{last}); err != nil {
			t.Fatal(err)
		}
	}
	return last
}

// TestURLNamedFilesGoToTheStoresIdentity: a spool and head file named by
// the whole store URL (versions before 2026-12-07) are renamed to the
// names by the store's identity, their proofs intact; another spool of the
// chain with proofs waiting, which no sink replays, is logged.
func TestURLNamedFilesGoToTheStoresIdentity(t *testing.T) {
	const url = "redis://:secret@Cache.example:6379/2?prefix=urlnamed&timeout=2s"
	identity, err := storeIdentity(url)
	if err != nil {
		t.Fatal(err)
	}
	if other, _ := storeIdentity("redis://:rotated@cache.example:6379/2?prefix=urlnamed"); other != identity {
		t.Errorf("a rotated password and another timeout name another store: %s, %s", identity, other)
	}
	chain := "urlnamed"
	oldSpool := dataPath("spool-" + fileStem(chain, url))
	sp, err := spool.Open(oldSpool)
	if err != nil {
		t.Fatal(err)
	}
	last := sealedRecords(t, chain, 2, sp)
	sp.Close()
	if err := writeJSONFile(dataPath("chain-"+fileStem(chain, url)+".head.json"), proof.Head{Seq: last.Seq, Hash: last.Hash}); err != nil {
		t.Fatal(err)
	}
	// A spool of the chain in another store, with a proof waiting.
	stray, err := spool.Open(dataPath("spool-" + fileStem(chain, "redis://elsewhere:6379/0")))
	if err != nil {
		t.Fatal(err)
	}
	sealedRecords(t, chain, 1, stray)
	stray.Close()

	core, logs := observer.New(zap.InfoLevel)
	s := &proofSink{
		chainID:  chain,
		headFile: dataPath("chain-" + fileStem(chain, identity) + ".head.json"),
		spoolDir: dataPath("spool-" + fileStem(chain, identity)),
		urlStem:  fileStem(chain, url),
		logger:   zap.New(core),
	}
	if err := s.adoptURLNamedFiles(); err != nil {
		t.Fatal(err)
	}
	var head proof.Head
	if err := readJSON(s.headFile, &head); err != nil || head.Seq != last.Seq {
		t.Errorf("the head file was not renamed to %s: %v %+v", s.headFile, err, head)
	}
	sp, err = spool.Open(s.spoolDir)
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	if sp.Pending() != 2 {
		t.Errorf("the renamed spool holds %d pending proofs, want 2", sp.Pending())
	}
	s.noteOtherSpools()
	if n := logs.FilterMessageSnippet("another store's spool of this chain holds proofs").Len(); n != 1 {
		t.Errorf("the other spool with a proof waiting was logged %d times, want once", n)
	}
}

// TestResolvedPathBeforeTheFileExists: a store file named through a
// symbolic link resolves to the same path before the file or its folder
// exists as after, so a reload after the first start shares the open store.
func TestResolvedPathBeforeTheFileExists(t *testing.T) {
	real := t.TempDir()
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(link, "consentgate", "./proofs.db")
	before := resolvedPath(path)
	if err := os.MkdirAll(filepath.Join(real, "consentgate"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(real, "consentgate", "proofs.db"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	after := resolvedPath(path)
	realReal, _ := filepath.EvalSymlinks(real)
	if before != after || after != filepath.Join(realReal, "consentgate", "proofs.db") {
		t.Errorf("before the file existed %q, after %q; want both %q", before, after, filepath.Join(realReal, "consentgate", "proofs.db"))
	}
}
