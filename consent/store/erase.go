package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/consentgate/consentgate/consent/proof"
)

func (s *base) EachOfConsent(ctx context.Context, consentID string, fn func(proof.Record) error) error {
	return s.eachOfConsent(ctx, consentID, func(_ string, recs []proof.Record) error {
		for _, r := range recs {
			if r.ConsentID != consentID || r.IsTombstone() {
				continue
			}
			if err := fn(r); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *base) Erase(ctx context.Context, consentID string, e proof.Eraser) (int, error) {
	n := 0
	err := s.eachOfConsent(ctx, consentID, func(chain string, recs []proof.Record) error {
		entries := make([]Entry, 0, len(recs))
		for _, r := range recs {
			t, err := e.Tombstone(r)
			if err != nil {
				return err
			}
			data, err := json.Marshal(t)
			if err != nil {
				return err
			}
			entries = append(entries, Entry{Seq: t.Seq, EventID: t.EventID, Time: t.Time, Hash: t.Hash, JSON: data})
		}
		n += len(entries)
		return s.e.Replace(ctx, chain, consentID, entries)
	})
	return n, err
}

// eachOfConsent reads a consent id's records chain by chain, in seq order,
// handing fn at most a batch at a time: one id may have gathered thousands
// (a script posting choices with one cookie), and a download or an erasure
// must not hold them all.
func (s *base) eachOfConsent(ctx context.Context, consentID string, fn func(chain string, recs []proof.Record) error) error {
	if consentID == "" {
		return fmt.Errorf("%w: empty consent id", ErrInvalid)
	}
	locs, err := s.e.Locate(ctx, consentID)
	if err != nil {
		return err
	}
	chains := make([]string, 0, len(locs))
	for c := range locs {
		chains = append(chains, c)
	}
	slices.Sort(chains)
	recs := make([]proof.Record, 0, min(s.opts.Batch, maxLocated(locs)))
	for _, c := range chains {
		seqs := slices.Clone(locs[c])
		slices.Sort(seqs)
		for batch := range slices.Chunk(seqs, s.opts.Batch) {
			raws, err := s.e.Read(ctx, c, batch)
			if err != nil {
				return err
			}
			recs = recs[:0]
			for _, raw := range raws {
				var r proof.Record
				if raw != nil && json.Unmarshal(raw, &r) == nil {
					recs = append(recs, r)
				}
			}
			if err := fn(c, recs); err != nil {
				return err
			}
		}
	}
	return nil
}

// maxLocated is the most seqs one chain holds of a consent id.
func maxLocated(locs map[string][]uint64) int {
	n := 0
	for _, seqs := range locs {
		n = max(n, len(seqs))
	}
	return n
}
