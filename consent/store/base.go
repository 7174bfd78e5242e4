package store

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"

	"github.com/consentgate/consentgate/consent/proof"
)

// Options configure a Store built by New.
type Options struct {
	// Retention for Expire (zero value: DefaultRetention).
	Retention Retention
	// Batch is how many records a range reads at once (default 512).
	Batch int
}

// base is the Store every backend shares, on top of its Engine.
type base struct {
	e    Engine
	opts Options
}

// New builds a Store on an engine. Backends call it from their constructors.
func New(e Engine, opts Options) Store {
	if opts.Retention == (Retention{}) {
		opts.Retention = DefaultRetention
	}
	if opts.Batch <= 0 {
		opts.Batch = 512
	}
	return &base{e: e, opts: opts}
}

// Snapshot writes a copy of the store, if its engine can make one.
func (s *base) Snapshot(ctx context.Context, size func(int64) error, w io.Writer) (int64, error) {
	if sn, ok := s.e.(Snapshotter); ok {
		return sn.Snapshot(ctx, size, w)
	}
	return 0, ErrNoSnapshot
}

func (s *base) Append(ctx context.Context, recs []proof.Record) error {
	byChain := map[string][]Entry{}
	var order []string
	for i := range recs {
		en, err := entryOf(&recs[i])
		if err != nil {
			return err
		}
		c := recs[i].Chain
		if _, ok := byChain[c]; !ok {
			order = append(order, c)
		}
		byChain[c] = append(byChain[c], en)
	}
	for _, c := range order {
		if err := checkBatch(byChain[c]); err != nil {
			return err
		}
		if err := s.e.Append(ctx, c, byChain[c]); err != nil {
			return err
		}
	}
	return nil
}

// entryOf checks that r is sealed and encodes it.
func entryOf(r *proof.Record) (Entry, error) {
	switch {
	case !proof.ValidChainID(r.Chain):
		return Entry{}, fmt.Errorf("%w: chain id %q", ErrInvalid, r.Chain)
	case r.Seq == 0 || r.EventID == "" || len(r.Hash) != 64 || r.HMAC == "":
		return Entry{}, fmt.Errorf("%w: record %q is not sealed", ErrInvalid, r.EventID)
	}
	data, err := r.AppendJSON(nil)
	if err != nil {
		return Entry{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return Entry{Seq: r.Seq, EventID: r.EventID, ConsentID: indexKey(r), Time: r.Time, Hash: r.Hash, JSON: data}, nil
}

// checkBatch rejects two events at one seq within a batch, which engines
// could not tell from a conflict with stored data.
func checkBatch(entries []Entry) error {
	seen := make(map[uint64]string, len(entries))
	for _, en := range entries {
		if id, ok := seen[en.Seq]; ok && id != en.EventID {
			return fmt.Errorf("%w: seq %d twice in one batch", ErrConflict, en.Seq)
		}
		seen[en.Seq] = en.EventID
	}
	return nil
}

func (s *base) Head(ctx context.Context, chain string) (proof.Head, error) {
	return s.e.Head(ctx, chain)
}

func (s *base) Past(ctx context.Context, chain string, seq uint64) (proof.Head, error) {
	const window = 16
	var last proof.Head
	for {
		seqs := make([]uint64, window)
		for i := range seqs {
			seqs[i] = seq + 1 + uint64(i)
		}
		raws, err := s.e.Read(ctx, chain, seqs)
		if err != nil {
			return proof.Head{}, err
		}
		for i, raw := range raws {
			var r struct {
				Hash string `json:"hash"`
				Time int64  `json:"time"`
			}
			if raw == nil {
				return last, nil
			}
			// One that does not read still holds its seq.
			_ = json.Unmarshal(raw, &r)
			last = proof.Head{Seq: seqs[i], Hash: r.Hash, Time: r.Time}
		}
		seq += window
	}
}

func (s *base) Chains(ctx context.Context) ([]string, error) { return s.e.Chains(ctx) }

func (s *base) PutCheckpoint(ctx context.Context, cp proof.Checkpoint) error {
	if !proof.ValidChainID(cp.Chain) || cp.Sig == "" {
		return fmt.Errorf("%w: checkpoint of chain %q", ErrInvalid, cp.Chain)
	}
	return s.e.PutCheckpoint(ctx, cp)
}

func (s *base) Checkpoints(ctx context.Context, chain string) ([]proof.Checkpoint, error) {
	cps, err := s.e.Checkpoints(ctx, chain)
	slices.SortFunc(cps, func(a, b proof.Checkpoint) int { return cmp.Compare(a.Seq, b.Seq) })
	return cps, err
}

func (s *base) Close() error { return s.e.Close() }
