package caddymodule

import (
	"context"
	"errors"

	"github.com/consentgate/consentgate/consent/proof"
	"github.com/consentgate/consentgate/consent/store"
)

// errReceiptSpooled: an erasure's receipt waits in the spool, so the
// tombstones, written now, could reach the store before it.
var errReceiptSpooled = errors.New("the proof store is not taking writes now; try the erasure again")

// erasure erases through this sink: tombstones authenticated with the
// current MAC key, each batch's receipt sealed into this instance's chain
// and stored, and only then the tombstones (see store.Erasure).
func (s *proofSink) erasure() store.Erasure {
	s.mu.Lock()
	defer s.mu.Unlock()
	return store.Erasure{
		Tombstones: proof.Eraser{Key: s.keys.mac},
		Receipt: func(ctx context.Context, receipt proof.Record) error {
			if _, err := s.record(ctx, receipt); err != nil {
				return err
			}
			// Spooled, it reaches the store after tombstones written now:
			// stop (the visitor or auditor tries again).
			if s.spooled() > 0 {
				return errReceiptSpooled
			}
			return nil
		},
	}
}
