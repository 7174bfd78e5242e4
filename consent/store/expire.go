package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/consentgate/consentgate/consent/proof"
)

// Expire deletes, chain by chain, the longest prefix of records whose
// retention has ended that stops at a checkpoint itself older than the
// retention. Deleting only a prefix, up to a checkpoint, is what keeps the
// rest verifiable: that checkpoint anchors the chain's new first record
// (see proof.VerifyOptions.MinAnchorAge). A record whose time has come but
// that follows a younger one waits for it; it is kept at most as long as
// the longest-lived record before it.
func (s *base) Expire(ctx context.Context, now time.Time) (int, error) {
	keep := s.opts.Retention.Proof
	if keep <= 0 {
		return 0, nil
	}
	chains, err := s.e.Chains(ctx)
	if err != nil {
		return 0, err
	}
	total := 0
	for _, c := range chains {
		n, err := s.expireChain(ctx, c, now, keep)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

func (s *base) expireChain(ctx context.Context, chain string, now time.Time, keep time.Duration) (int, error) {
	first, err := s.e.First(ctx, chain)
	if err != nil {
		return 0, err
	}
	first = max(first, 1)
	cut, err := s.expiryCut(ctx, chain, first, now, keep)
	if err != nil || cut < first {
		return 0, err
	}
	deleted := 0
	for from := first; from <= cut; from += uint64(s.opts.Batch) {
		seqs := make([]uint64, 0, s.opts.Batch)
		for seq := from; seq <= cut && len(seqs) < s.opts.Batch; seq++ {
			seqs = append(seqs, seq)
		}
		raws, err := s.e.Read(ctx, chain, seqs)
		if err != nil {
			return deleted, err
		}
		entries := make([]Entry, 0, len(raws))
		for i, raw := range raws {
			var r proof.Record
			if raw != nil && json.Unmarshal(raw, &r) == nil {
				entries = append(entries, Entry{Seq: seqs[i], EventID: r.EventID, ConsentID: indexKey(&r)})
			}
		}
		if err := s.e.Delete(ctx, chain, entries, seqs[len(seqs)-1]+1); err != nil {
			return deleted, err
		}
		deleted += len(entries)
	}
	return deleted, nil
}

// expiryCut returns the seq through which the chain may be deleted: the
// last checkpoint, old enough, within the expired prefix (0 if none).
func (s *base) expiryCut(ctx context.Context, chain string, first uint64, now time.Time, keep time.Duration) (uint64, error) {
	limit := proof.Millis(now.Add(-keep))
	var cut uint64
	cps, err := s.Checkpoints(ctx, chain)
	if err != nil {
		return 0, err
	}
	for _, cp := range cps {
		if cp.Seq >= first && cp.Time <= limit {
			cut = cp.Seq
		}
	}
	if cut < first {
		return 0, nil
	}
	// Walk the prefix up to the candidate cut, stopping at the first record
	// still within retention (or missing: a gap is evidence, kept).
	expiredThrough := first - 1
	err = s.rangeChain(ctx, chain, Query{}, func(raw []byte) error {
		var r struct {
			Seq       uint64 `json:"seq"`
			Time      int64  `json:"time"`
			ExpiresAt int64  `json:"expires_at"`
		}
		if json.Unmarshal(raw, &r) != nil || r.Seq != expiredThrough+1 || r.Seq > cut {
			return errStop
		}
		end := proof.Record{Time: r.Time, ExpiresAt: r.ExpiresAt}
		if end.End() > limit {
			return errStop
		}
		expiredThrough = r.Seq
		return nil
	})
	if err != nil && err != errStop {
		return 0, err
	}
	for i := len(cps) - 1; i >= 0; i-- {
		if cps[i].Seq <= expiredThrough && cps[i].Seq >= first && cps[i].Time <= limit {
			return cps[i].Seq, nil
		}
	}
	return 0, nil
}

type stopError struct{}

func (stopError) Error() string { return "stop" }

var errStop error = stopError{}
