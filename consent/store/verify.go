package store

import (
	"context"

	"github.com/consentgate/consentgate/consent/proof"
)

// Verify walks one chain of s in seq order and reports what it found.
// Pass the store's retention as opts.MinAnchorAge so that records deleted
// before their time show as a gap rather than as expiry.
func Verify(ctx context.Context, s Store, chain string, opts proof.VerifyOptions) (proof.Report, error) {
	cps, err := s.Checkpoints(ctx, chain)
	if err != nil {
		return proof.Report{}, err
	}
	v := proof.NewChainVerifier(chain, cps, opts)
	err = s.RangeRaw(ctx, Query{Chain: chain}, func(raw []byte) error {
		v.AddRaw(raw)
		return nil
	})
	return v.Finish(), err
}
