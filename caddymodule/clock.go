package caddymodule

import (
	"time"

	"go.uber.org/zap"

	"github.com/consentgate/consentgate/consent/proof"
)

// A chain's times never go back (FORMAT.md), so a proof sealed while the
// clock is behind the chain's last one carries that last time instead of
// the clock's: after the clock was set back, or corrected after it ran
// ahead (while the gateway ran or while it was down). Each such proof is
// dated later than the decision it records, until the clock catches up;
// nothing else would tell the operator, or explain it to an auditor.

// clockSlack is how far ahead of the clock a proof may be dated before it
// is worth a word: the chain's time is read a moment after the clock, and
// proofs sealed in the same millisecond share it.
const clockSlack = 2 * time.Second

// stampedAheadEvery spaces the warning: it holds for every proof until the
// clock catches up.
const stampedAheadEvery = 10 * time.Minute

// checkStamp warns when sealed is dated more than clockSlack after now, the
// clock read before it was sealed.
func (s *proofSink) checkStamp(sealed proof.Record, now time.Time) {
	stamped := time.UnixMilli(sealed.Time)
	ahead := stamped.Sub(now)
	if ahead <= clockSlack {
		return
	}
	const msg = "proofs are dated ahead of the clock: the clock is behind this chain's last proof (it was set back, or it ran ahead and was corrected), and a chain's times never go back, so new proofs carry the chain's last time until the clock catches up; check the system clock"
	if ok, skipped := s.stampedAhead.Allow(msg); ok {
		s.logger.Warn(msg,
			zap.String("chain", sealed.Chain),
			zap.Uint64("seq", sealed.Seq),
			zap.String("dated", stamped.UTC().Format(time.RFC3339Nano)),
			zap.String("clock", now.UTC().Format(time.RFC3339Nano)),
			zap.String("ahead", ahead.Round(time.Second).String()),
			zap.Int("repeats_since_last", skipped))
	}
}
