// Package store keeps consent proofs. Store is what the gateway uses; the
// backends (bolt: an embedded file, the default; redis: standalone,
// Sentinel or Cluster) implement the small Engine interface and get the
// rest of Store (range queries, erasure, retention) from New, so every
// backend behaves the same. Resilient puts a local spool in front of a
// store that may be unreachable.
package store

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/consentgate/consentgate/consent/proof"
)

// Store keeps sealed proof records and checkpoints. Implementations are
// safe for concurrent use.
type Store interface {
	// Append stores sealed records. It is idempotent: a record whose event
	// id is already stored is skipped, so retries never duplicate. A batch
	// for one chain is stored atomically. A different record at a stored
	// (chain, seq) fails with ErrConflict; a malformed record with ErrInvalid.
	Append(ctx context.Context, recs []proof.Record) error
	// Head returns the end of a chain (the zero Head for an unknown chain),
	// from which a restarted gateway resumes: proof.NewChain(cfg, head).
	Head(ctx context.Context, chain string) (proof.Head, error)
	// Past returns the last of the records stored right after seq (seq+1,
	// seq+2, … up to the first one missing), which the chain's head does
	// not name: written around the store's appends, by hand or by a bug.
	// The zero Head when there is none.
	Past(ctx context.Context, chain string, seq uint64) (proof.Head, error)
	// Range calls fn for every record matching q, chain by chain (chains in
	// id order) and within a chain in seq order, which is time order. It
	// reads in batches, so memory stays constant however many records
	// match. An error from fn stops the walk and is returned.
	Range(ctx context.Context, q Query, fn func(proof.Record) error) error
	// RangeRaw is Range yielding each record's stored JSON, which is the
	// JSON Lines export form and what verification hashes, without decoding
	// cost. raw is only valid during the call.
	RangeRaw(ctx context.Context, q Query, fn func(raw []byte) error) error
	// EachOfConsent calls fn for each of a consent id's records (not
	// tombstones; never an erasure receipt, which names no consent id),
	// chain by chain and within a chain in seq order. It reads in batches,
	// so memory stays constant however many records one consent id has
	// gathered. An error from fn stops the walk and is returned.
	EachOfConsent(ctx context.Context, consentID string, fn func(proof.Record) error) error
	// Erase replaces every record of a consent id with its tombstone (see
	// proof.Eraser), a batch at a time, each batch after its receipt (see
	// Erasure), and returns how many it replaced.
	Erase(ctx context.Context, consentID string, e Erasure) (int, error)
	// EraseRecords erases, as Erase does, those of the named records that
	// are still there as named (same event id, not yet a tombstone): it
	// finishes an erasure cut short, or makes one again after an older
	// copy of the store was restored. It returns how many it replaced.
	EraseRecords(ctx context.Context, refs []proof.Ref, e Erasure) (int, error)
	// Receipts returns what the erasure receipts of every chain name, for
	// verification (proof.VerifyOptions.Receipts).
	Receipts(ctx context.Context) (*proof.Receipts, error)
	// Chains lists the chain ids the store holds, sorted.
	Chains(ctx context.Context) ([]string, error)
	// PutCheckpoint stores a checkpoint; checkpoints are kept forever. A
	// second checkpoint at the same (chain, seq) is ignored.
	PutCheckpoint(ctx context.Context, cp proof.Checkpoint) error
	// Checkpoints returns a chain's checkpoints by seq.
	Checkpoints(ctx context.Context, chain string) ([]proof.Checkpoint, error)
	// Expire deletes records whose retention has ended (see Retention) and
	// returns how many it deleted.
	Expire(ctx context.Context, now time.Time) (int, error)
	// Close releases the store.
	Close() error
}

// ErrNoSnapshot is what Snapshot returns for a store that has no copy of
// its own to give (Redis: use Redis's own backups).
var ErrNoSnapshot = errors.New("this store cannot write a copy of itself; back it up with its server's own tools")

// Snapshotter is a store that writes a consistent copy of itself while in
// use (bolt: its file as one read transaction sees it; a plain copy of a
// file being written can mix pages of different moments). size is called
// with the copy's length before it is written; an error from it ends the
// snapshot there (an answer to HEAD).
type Snapshotter interface {
	Snapshot(ctx context.Context, size func(int64) error, w io.Writer) (int64, error)
}

// Claimer is a store that several gateways share (Redis). It records which
// gateway writes each chain, so that a second gateway configured with the
// same chain is refused when it starts, instead of sealing records at the
// seqs the first one uses and failing visitors' choices with ErrConflict.
// A store only one process can open (bolt) needs no claims.
type Claimer interface {
	// Claim records holder as the writer of chain for ttl, unless another
	// holder's claim is live: then it claims nothing and returns that
	// holder. Claiming again renews the claim.
	Claim(ctx context.Context, chain, holder string, ttl time.Duration) (other string, err error)
	// Release ends holder's claim on chain, if it is holder's.
	Release(ctx context.Context, chain, holder string) error
}

// Query selects records. Zero fields select everything.
type Query struct {
	Chain string    // one chain
	Since time.Time // records at or after
	Until time.Time // records before
	Site  string    // records of this site (host)
	// Purpose selects records that state a choice for this purpose, either
	// way (tombstones state none).
	Purpose string
}

// Errors.
var (
	// ErrConflict: a different record is stored at the same chain and seq
	// (two writers on one chain, or a chain not resumed from its head).
	ErrConflict = errors.New("store: conflicting record at the same chain and seq")
	// ErrInvalid: a record that is not sealed or otherwise malformed.
	ErrInvalid = errors.New("store: invalid record")
	// ErrClosed: the store was closed.
	ErrClosed = errors.New("store: closed")
	// ErrMisconfigured: the store answers, but refuses this client as it is
	// set up (credentials, permissions, database, TLS): waiting will not
	// help, the configuration must change.
	ErrMisconfigured = errors.New("store: refused by its configuration")
)

// Retention says how long records are kept. Checkpoints are kept forever.
type Retention struct {
	// Proof is how long a record is kept after the consent it documents
	// ended (proof.Record.End). Zero keeps records forever.
	Proof time.Duration
}

// Default retention and choice validity.
const (
	// DefaultChoiceValidity is how long a choice is valid before the banner
	// asks again; the gateway sets expires_at = time + validity.
	DefaultChoiceValidity = 6 * 30 * 24 * time.Hour
	// DefaultProofRetention keeps a proof 3 years after its consent ended.
	DefaultProofRetention = 3 * 365 * 24 * time.Hour
)

// DefaultRetention is what stores use unless configured otherwise.
var DefaultRetention = Retention{Proof: DefaultProofRetention}
