package store

import (
	"context"

	"github.com/consentgate/consentgate/consent/proof"
)

// Engine is what a backend implements: keyed storage per chain, with an
// index by event id (idempotency) and by consent id. New builds a Store on
// it. Sequence numbers are the key; within a chain they are also time
// order, so the seq key doubles as the time index.
type Engine interface {
	// Append stores one chain's entries atomically, skipping entries whose
	// event id is stored; an entry whose seq holds another event is
	// ErrConflict and stores nothing. It advances the head.
	Append(ctx context.Context, chain string, entries []Entry) error
	// Head returns the chain's head (zero when unknown).
	Head(ctx context.Context, chain string) (proof.Head, error)
	// First returns the lowest seq that may be stored: 1, or the seq after
	// the last expiry cut.
	First(ctx context.Context, chain string) (uint64, error)
	// Read returns the stored JSON of the given seqs, nil where none is.
	Read(ctx context.Context, chain string, seqs []uint64) ([][]byte, error)
	// Locate returns the seqs of a consent id's indexed records, by chain
	// (Entry.ConsentID is the index entry: for an erasure receipt, the
	// reserved receiptIndex).
	Locate(ctx context.Context, consentID string) (map[string][]uint64, error)
	// Replace overwrites stored records in place and removes their consent
	// id from the index (erasure).
	Replace(ctx context.Context, chain, consentID string, entries []Entry) error
	// Delete removes records and their index entries (expiry) and sets the
	// chain's first seq to first.
	Delete(ctx context.Context, chain string, entries []Entry, first uint64) error
	// Chains lists chain ids, sorted.
	Chains(ctx context.Context) ([]string, error)
	PutCheckpoint(ctx context.Context, cp proof.Checkpoint) error
	// Checkpoints returns a chain's checkpoints in any order.
	Checkpoints(ctx context.Context, chain string) ([]proof.Checkpoint, error)
	Close() error
}

// Entry is a record as engines store it: its JSON and the keys it is
// indexed by.
type Entry struct {
	Seq       uint64
	EventID   string
	ConsentID string
	Time      int64
	Hash      string
	JSON      []byte
}
