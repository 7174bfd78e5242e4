package bolt

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/consentgate/consentgate/consent/store"
	"github.com/consentgate/consentgate/consent/store/storetest"
	bbolt "go.etcd.io/bbolt"
)

func TestStore(t *testing.T) {
	storetest.Run(t, storetest.Backend{
		Open: func(t *testing.T) (store.Store, storetest.Raw) {
			e, err := openEngine(filepath.Join(t.TempDir(), "proofs.db"), Options{})
			if err != nil {
				t.Fatal(err)
			}
			return store.New(e, store.Options{}), rawBolt{e.db}
		},
	})
}

// rawBolt edits the file behind the store's back.
type rawBolt struct{ db *bbolt.DB }

func (r rawBolt) Overwrite(chain string, seq uint64, raw []byte) error {
	return r.db.Update(func(tx *bbolt.Tx) error {
		b, err := buckets(tx, chain, false)
		if err != nil {
			return err
		}
		return b.rec.Put(seqKey(seq), raw)
	})
}

func (r rawBolt) Remove(chain string, seq uint64) error {
	return r.db.Update(func(tx *bbolt.Tx) error {
		b, err := buckets(tx, chain, false)
		if err != nil {
			return err
		}
		return b.rec.Delete(seqKey(seq))
	})
}

func TestReopenKeepsEverything(t *testing.T) {
	path := filepath.Join(t.TempDir(), "proofs.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	chains, _ := s.Chains(t.Context())
	s.Close()
	if s, err = Open(path, Options{}); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if again, _ := s.Chains(t.Context()); len(again) != len(chains) {
		t.Fatal("chains changed across reopen")
	}
}

// TestOpenedTwice: a file another holder keeps open is refused after the
// wait, with an error that says so and what to do, and the holder goes on.
func TestOpenedTwice(t *testing.T) {
	path := filepath.Join(t.TempDir(), "proofs.db")
	first, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	_, err = Open(path, Options{LockWait: 100 * time.Millisecond})
	if !errors.Is(err, ErrInUse) || !strings.Contains(err.Error(), "same data directory") {
		t.Fatalf("opening a file in use: %v", err)
	}
	if _, err := first.Chains(context.Background()); err != nil {
		t.Errorf("the first holder after the refused open: %v", err)
	}
}
