package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/consentgate/consentgate/consent/proof"
)

func (s *base) Range(ctx context.Context, q Query, fn func(proof.Record) error) error {
	return s.RangeRaw(ctx, q, func(raw []byte) error {
		var r proof.Record
		if err := json.Unmarshal(raw, &r); err != nil {
			return fmt.Errorf("store: undecodable record: %w", err)
		}
		return fn(r)
	})
}

func (s *base) RangeRaw(ctx context.Context, q Query, fn func(raw []byte) error) error {
	chains := []string{q.Chain}
	if q.Chain == "" {
		var err error
		if chains, err = s.e.Chains(ctx); err != nil {
			return err
		}
	}
	for _, c := range chains {
		if err := s.rangeChain(ctx, c, q, fn); err != nil {
			return err
		}
	}
	return nil
}

// rangeChain walks one chain's seqs from first to head in batches.
func (s *base) rangeChain(ctx context.Context, chain string, q Query, fn func([]byte) error) error {
	lo, hi, err := s.seqBounds(ctx, chain, q)
	if err != nil || lo > hi {
		return err
	}
	seqs := make([]uint64, 0, s.opts.Batch)
	for from := lo; from <= hi; from += uint64(s.opts.Batch) {
		seqs = seqs[:0]
		for seq := from; seq <= hi && len(seqs) < s.opts.Batch; seq++ {
			seqs = append(seqs, seq)
		}
		raws, err := s.e.Read(ctx, chain, seqs)
		if err != nil {
			return err
		}
		for _, raw := range raws {
			if raw == nil || !matches(raw, q) {
				continue
			}
			if err := fn(raw); err != nil {
				return err
			}
		}
	}
	return nil
}

// seqBounds turns the query's time range into a seq range of the chain.
func (s *base) seqBounds(ctx context.Context, chain string, q Query) (lo, hi uint64, err error) {
	head, err := s.e.Head(ctx, chain)
	if err != nil {
		return 0, 0, err
	}
	first, err := s.e.First(ctx, chain)
	if err != nil {
		return 0, 0, err
	}
	lo, hi = max(first, 1), head.Seq
	if !q.Since.IsZero() && lo <= hi {
		if lo, err = s.firstAtOrAfter(ctx, chain, lo, hi, ceilMillis(q.Since)); err != nil {
			return 0, 0, err
		}
	}
	if !q.Until.IsZero() && lo <= hi {
		end, err := s.firstAtOrAfter(ctx, chain, lo, hi, ceilMillis(q.Until))
		if err != nil {
			return 0, 0, err
		}
		hi = end - 1
	}
	return lo, hi, nil
}

// ceilMillis is t in Unix milliseconds, rounded up. Records carry whole
// milliseconds, so one at m is at or after t exactly when m >=
// ceilMillis(t), and before t exactly when m < ceilMillis(t): a since or
// until between two milliseconds selects as the instant it names.
func ceilMillis(t time.Time) int64 {
	ms := t.UnixMilli() // rounded down, also before 1970
	if t.Nanosecond()%int(time.Millisecond) != 0 {
		ms++
	}
	return ms
}

// firstAtOrAfter binary-searches [lo, hi] for the first record at or after
// t (hi+1 if none); time is monotonic in seq within a chain.
func (s *base) firstAtOrAfter(ctx context.Context, chain string, lo, hi uint64, t int64) (uint64, error) {
	for lo <= hi {
		mid := lo + (hi-lo)/2
		seq, at, ok, err := s.timeFrom(ctx, chain, mid, hi)
		if err != nil {
			return 0, err
		}
		if !ok || at >= t {
			// Nothing in [mid, seq) exists, so mid stands for seq.
			if mid == lo {
				return lo, nil
			}
			hi = mid - 1
		} else {
			lo = seq + 1
		}
	}
	return lo, nil
}

// timeFrom returns the first stored record in [from, to] and its time,
// reading a few seqs at a time past any that are missing.
func (s *base) timeFrom(ctx context.Context, chain string, from, to uint64) (uint64, int64, bool, error) {
	const window = 16
	for ; from <= to; from += window {
		seqs := make([]uint64, 0, window)
		for seq := from; seq <= to && len(seqs) < window; seq++ {
			seqs = append(seqs, seq)
		}
		raws, err := s.e.Read(ctx, chain, seqs)
		if err != nil {
			return 0, 0, false, err
		}
		for i, raw := range raws {
			var r struct {
				Time int64 `json:"time"`
			}
			if raw != nil && json.Unmarshal(raw, &r) == nil {
				return seqs[i], r.Time, true, nil
			}
		}
	}
	return 0, 0, false, nil
}

// matches applies the filters a seq range cannot: site and purpose.
func matches(raw []byte, q Query) bool {
	if q.Site == "" && q.Purpose == "" {
		return true
	}
	var r struct {
		Site     string          `json:"site"`
		Purposes map[string]bool `json:"purposes"`
	}
	if json.Unmarshal(raw, &r) != nil {
		return false
	}
	if q.Site != "" && r.Site != q.Site {
		return false
	}
	if q.Purpose != "" {
		if _, ok := r.Purposes[q.Purpose]; !ok {
			return false
		}
	}
	return true
}
