package store

import (
	"context"
	"fmt"

	"github.com/consentgate/consentgate/consent/proof"
)

// Verify walks one chain of s in seq order and reports what it found.
// Pass the store's retention as opts.MinAnchorAge so that records deleted
// before their time show as a gap rather than as expiry. Without
// opts.Receipts, it reads what the store's receipts name first (a caller
// verifying several chains reads them once: s.Receipts).
func Verify(ctx context.Context, s Store, chain string, opts proof.VerifyOptions) (proof.Report, error) {
	if opts.Receipts == nil {
		var err error
		if opts.Receipts, err = s.Receipts(ctx); err != nil {
			return proof.Report{}, err
		}
	}
	cps, err := s.Checkpoints(ctx, chain)
	if err != nil {
		return proof.Report{}, err
	}
	v := proof.NewChainVerifier(chain, cps, opts)
	err = s.RangeRaw(ctx, Query{Chain: chain}, func(raw []byte) error {
		v.AddRaw(raw)
		return nil
	})
	if err == nil && v.Unnamed() > 0 {
		// Erased while the walk went on, or not by an erasure: the
		// receipts as they are now tell.
		var later *proof.Receipts
		if later, err = s.Receipts(ctx); err == nil {
			v.Receipted(later)
		}
	}
	if err == nil {
		err = notePastHead(ctx, s, chain, v)
	}
	return v.Finish(), err
}

// notePastHead reports records stored right after the chain's head, which
// no walk reaches: written around the store's appends (by hand, or by a
// program other than a gateway). The head is read again after them, so
// that records a gateway appended meanwhile are not taken for them.
func notePastHead(ctx context.Context, s Store, chain string, v *proof.ChainVerifier) error {
	head, err := s.Head(ctx, chain)
	if err != nil {
		return err
	}
	past, err := s.Past(ctx, chain, head.Seq)
	if err != nil || past.Seq == 0 {
		return err
	}
	if now, err := s.Head(ctx, chain); err != nil || now.Seq >= past.Seq {
		return err
	}
	v.Note(proof.Altered, head.Seq+1, fmt.Sprintf("records stored past the chain's head (seq %d): seq %d..%d, written around the store's appends", head.Seq, head.Seq+1, past.Seq))
	return nil
}
