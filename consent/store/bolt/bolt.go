// Package bolt is the embedded proof store: one bbolt file, the gateway's
// default, so a fresh machine needs no server.
//
// Layout: a top-level bucket "chains" holds one bucket per chain id, with
//
//	rec   seq (8 bytes, big endian) -> record JSON
//	ev    event id -> seq           (idempotent appends)
//	cp    seq -> checkpoint JSON    (kept forever)
//	meta  "seq", "hash", "time"     (the head), "first" (after expiry)
//
// and a top-level bucket "cid" indexes consent ids: key
// consent id, 0x00, chain id, 0x00, seq (8 bytes) -> empty. Within a chain
// seq order is time order, so the rec keys double as the time index.
package bolt

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/consentgate/consentgate/consent/proof"
	"github.com/consentgate/consentgate/consent/store"
	bbolt "go.etcd.io/bbolt"
)

var (
	bucketChains = []byte("chains")
	bucketCID    = []byte("cid")
	bucketRec    = []byte("rec")
	bucketEv     = []byte("ev")
	bucketCp     = []byte("cp")
	bucketMeta   = []byte("meta")
)

// Options configure the bolt store.
type Options struct {
	store.Options
	// NoSync skips fsync per write: faster, loses the last writes on power
	// failure. For tests and benchmarks.
	NoSync bool
	// LockWait is how long Open waits for another holder of the file to
	// let go (default 5 s: a restart whose old process is still finishing).
	LockWait time.Duration
	// noFreelistSync leaves the free list out of each commit, as earlier
	// versions did: for BenchmarkOpenBolt's comparison.
	noFreelistSync bool
}

// ErrInUse is returned by Open when another process keeps the file open.
var ErrInUse = errors.New("in use by another process")

// Open opens (creating if needed) the store file at path. Only one process
// may have it open; Open waits up to LockWait for another to let go.
func Open(path string, opts Options) (store.Store, error) {
	e, err := openEngine(path, opts)
	if err != nil {
		return nil, err
	}
	return store.New(e, opts.Options), nil
}

type engine struct{ db *bbolt.DB }

func openEngine(path string, opts Options) (*engine, error) {
	if opts.LockWait <= 0 {
		opts.LockWait = 5 * time.Second
	}
	db, err := openFile(path, &bbolt.Options{
		Timeout:        opts.LockWait,
		NoSync:         opts.NoSync,
		NoFreelistSync: opts.noFreelistSync,
		// The free list is written with each commit, so that opening the
		// file reads it instead of walking every page: 3.6 s against 3 ms
		// for a cold 250 MB store, with the same appends per second
		// (BENCHMARKS.md). A file from a version that did not write it is
		// walked once, and has it from its first commit on.
		FreelistType: bbolt.FreelistMapType,
	})
	if errors.Is(err, bbolt.ErrTimeout) {
		return nil, fmt.Errorf("bolt store %s: %w (another gateway with the same data directory? give each its own, with XDG_DATA_HOME, or its own store file)", path, ErrInUse)
	}
	if err != nil {
		return nil, fmt.Errorf("bolt store %s: %w", path, err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		for _, b := range [][]byte{bucketChains, bucketCID} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, err
	}
	return &engine{db: db}, nil
}

// openFile opens the bbolt file. bbolt panics on some damaged files, such
// as a copy taken while a gateway wrote the file: that is an error naming
// the file and the likely cause, not a crash (and a restart loop).
func openFile(path string, o *bbolt.Options) (db *bbolt.DB, err error) {
	defer func() {
		if p := recover(); p != nil {
			// bbolt keeps the file open and locked after such a panic:
			// only a new process can open it again.
			err = fmt.Errorf("bolt store %s is damaged (%v); a copy taken while a gateway was writing it? restore one made with consentctl backup, or copied with the gateway stopped, then restart the gateway (a reload cannot open it again)", path, p)
		}
	}()
	return bbolt.Open(path, 0o600, o)
}

func seqKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

// cidKey is the consent index key; the prefix up to the chain finds all.
func cidKey(consentID, chain string, seq uint64) []byte {
	k := append([]byte(consentID), 0)
	k = append(append(k, chain...), 0)
	return binary.BigEndian.AppendUint64(k, seq)
}

// chainBuckets is one chain's buckets within a transaction.
type chainBuckets struct{ rec, ev, cp, meta *bbolt.Bucket }

// buckets returns a chain's buckets, creating them when create is set; nil
// when the chain does not exist.
func buckets(tx *bbolt.Tx, chain string, create bool) (*chainBuckets, error) {
	root := tx.Bucket(bucketChains)
	b := root.Bucket([]byte(chain))
	if b == nil {
		if !create {
			return nil, nil
		}
		var err error
		if b, err = root.CreateBucket([]byte(chain)); err != nil {
			return nil, err
		}
		for _, name := range [][]byte{bucketRec, bucketEv, bucketCp, bucketMeta} {
			if _, err := b.CreateBucket(name); err != nil {
				return nil, err
			}
		}
	}
	return &chainBuckets{b.Bucket(bucketRec), b.Bucket(bucketEv), b.Bucket(bucketCp), b.Bucket(bucketMeta)}, nil
}

func metaUint(meta *bbolt.Bucket, key string) uint64 {
	n, _ := strconv.ParseUint(string(meta.Get([]byte(key))), 10, 64)
	return n
}

// Append commits one transaction (one fsync) per call: callers batch.
func (e *engine) Append(_ context.Context, chain string, entries []store.Entry) error {
	return e.db.Update(func(tx *bbolt.Tx) error {
		b, err := buckets(tx, chain, true)
		if err != nil {
			return err
		}
		cids := tx.Bucket(bucketCID)
		// Records and event ids come in key order (seqs; UUIDv7s are
		// time-ordered), so a split page is never filled again: split
		// them full rather than in halves. The file takes about half the
		// bytes per record (BENCHMARKS.md).
		b.rec.FillPercent, b.ev.FillPercent = 0.95, 0.95
		head := metaUint(b.meta, "seq")
		for _, en := range entries {
			if b.ev.Get([]byte(en.EventID)) != nil {
				continue // a retry
			}
			key := seqKey(en.Seq)
			if b.rec.Get(key) != nil {
				return fmt.Errorf("%w: chain %s seq %d", store.ErrConflict, chain, en.Seq)
			}
			if err := b.rec.Put(key, en.JSON); err != nil {
				return err
			}
			if err := b.ev.Put([]byte(en.EventID), key); err != nil {
				return err
			}
			if en.ConsentID != "" {
				if err := cids.Put(cidKey(en.ConsentID, chain, en.Seq), nil); err != nil {
					return err
				}
			}
			if en.Seq > head {
				head = en.Seq
				err := putMeta(b.meta, "seq", strconv.FormatUint(en.Seq, 10), "hash", en.Hash, "time", strconv.FormatInt(en.Time, 10))
				if err != nil {
					return err
				}
			}
		}
		return nil
	})
}

func putMeta(meta *bbolt.Bucket, kv ...string) error {
	for i := 0; i < len(kv); i += 2 {
		if err := meta.Put([]byte(kv[i]), []byte(kv[i+1])); err != nil {
			return err
		}
	}
	return nil
}

func (e *engine) Head(_ context.Context, chain string) (proof.Head, error) {
	var h proof.Head
	err := e.db.View(func(tx *bbolt.Tx) error {
		b, err := buckets(tx, chain, false)
		if b == nil || err != nil {
			return err
		}
		t, _ := strconv.ParseInt(string(b.meta.Get([]byte("time"))), 10, 64)
		h = proof.Head{Seq: metaUint(b.meta, "seq"), Hash: string(b.meta.Get([]byte("hash"))), Time: t}
		return nil
	})
	return h, err
}

func (e *engine) First(_ context.Context, chain string) (uint64, error) {
	first := uint64(1)
	err := e.db.View(func(tx *bbolt.Tx) error {
		b, err := buckets(tx, chain, false)
		if b != nil {
			first = max(first, metaUint(b.meta, "first"))
		}
		return err
	})
	return first, err
}

func (e *engine) Read(_ context.Context, chain string, seqs []uint64) ([][]byte, error) {
	out := make([][]byte, len(seqs))
	err := e.db.View(func(tx *bbolt.Tx) error {
		b, err := buckets(tx, chain, false)
		if b == nil || err != nil {
			return err
		}
		for i, seq := range seqs {
			if v := b.rec.Get(seqKey(seq)); v != nil {
				out[i] = slices.Clone(v) // bolt's memory is valid only in the transaction
			}
		}
		return nil
	})
	return out, err
}

func (e *engine) Locate(_ context.Context, consentID string) (map[string][]uint64, error) {
	out := map[string][]uint64{}
	prefix := append([]byte(consentID), 0)
	err := e.db.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketCID).Cursor()
		for k, _ := c.Seek(prefix); k != nil && len(k) > len(prefix)+9 && string(k[:len(prefix)]) == string(prefix); k, _ = c.Next() {
			rest := k[len(prefix):]
			chain := string(rest[:len(rest)-9])
			out[chain] = append(out[chain], binary.BigEndian.Uint64(rest[len(rest)-8:]))
		}
		return nil
	})
	return out, err
}

func (e *engine) Replace(_ context.Context, chain, consentID string, entries []store.Entry) error {
	return e.db.Update(func(tx *bbolt.Tx) error {
		b, err := buckets(tx, chain, false)
		if b == nil || err != nil {
			return err
		}
		cids := tx.Bucket(bucketCID)
		for _, en := range entries {
			if err := b.rec.Put(seqKey(en.Seq), en.JSON); err != nil {
				return err
			}
			if err := cids.Delete(cidKey(consentID, chain, en.Seq)); err != nil {
				return err
			}
		}
		return nil
	})
}

func (e *engine) Delete(_ context.Context, chain string, entries []store.Entry, first uint64) error {
	return e.db.Update(func(tx *bbolt.Tx) error {
		b, err := buckets(tx, chain, false)
		if b == nil || err != nil {
			return err
		}
		cids := tx.Bucket(bucketCID)
		for _, en := range entries {
			if err := b.rec.Delete(seqKey(en.Seq)); err != nil {
				return err
			}
			if err := b.ev.Delete([]byte(en.EventID)); err != nil {
				return err
			}
			if en.ConsentID != "" {
				if err := cids.Delete(cidKey(en.ConsentID, chain, en.Seq)); err != nil {
					return err
				}
			}
		}
		return putMeta(b.meta, "first", strconv.FormatUint(first, 10))
	})
}

func (e *engine) Chains(_ context.Context) ([]string, error) {
	var out []string
	err := e.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketChains).ForEachBucket(func(k []byte) error {
			out = append(out, string(k))
			return nil
		})
	})
	return out, err // bolt keeps keys sorted
}

func (e *engine) PutCheckpoint(_ context.Context, cp proof.Checkpoint) error {
	data, err := json.Marshal(cp)
	if err != nil {
		return err
	}
	return e.db.Update(func(tx *bbolt.Tx) error {
		b, err := buckets(tx, cp.Chain, true)
		if err != nil || b.cp.Get(seqKey(cp.Seq)) != nil {
			return err
		}
		return b.cp.Put(seqKey(cp.Seq), data)
	})
}

func (e *engine) Checkpoints(_ context.Context, chain string) ([]proof.Checkpoint, error) {
	var out []proof.Checkpoint
	err := e.db.View(func(tx *bbolt.Tx) error {
		b, err := buckets(tx, chain, false)
		if b == nil || err != nil {
			return err
		}
		return b.cp.ForEach(func(_, v []byte) error {
			var cp proof.Checkpoint
			if err := json.Unmarshal(v, &cp); err != nil {
				return fmt.Errorf("bolt store: checkpoint: %w", err)
			}
			out = append(out, cp)
			return nil
		})
	})
	return out, err
}

// Snapshot writes the file as one read transaction sees it, while appends
// go on beside it (store.Snapshotter). The copy goes to a file of its own
// beside the store first, so that the transaction ends at disk speed: held
// open while a slow client reads, it would keep the file from growing,
// and every append with it.
func (e *engine) Snapshot(_ context.Context, size func(int64) error, w io.Writer) (int64, error) {
	tmp, err := os.CreateTemp(filepath.Dir(e.db.Path()), ".proofs-backup-*.db")
	if err != nil {
		return 0, fmt.Errorf("bolt store backup: %w", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	err = e.db.View(func(tx *bbolt.Tx) error {
		if err := size(tx.Size()); err != nil {
			return err
		}
		_, err := tx.WriteTo(tmp)
		return err
	})
	if err != nil {
		return 0, err
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return 0, err
	}
	return io.Copy(w, tmp)
}

func (e *engine) Close() error { return e.db.Close() }
