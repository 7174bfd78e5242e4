package caddymodule

import (
	"context"
	"errors"
	"time"

	"go.uber.org/zap"

	"github.com/consentgate/consentgate/consent/proof"
	"github.com/consentgate/consentgate/consent/store"
)

// errReceiptSpooled: an erasure's receipt waits in the spool, so the
// tombstones, written now, could reach the store before it.
var errReceiptSpooled = errors.New("the proof store is not taking writes now; the erasure is recorded and will be finished")

// erasure erases through this sink: tombstones authenticated with the
// current MAC key, each batch's records first added to the erasure log,
// then their receipt sealed into this instance's chain and stored, and
// only then the tombstones (see store.Erasure).
func (s *proofSink) erasure() store.Erasure {
	return s.erasureLogged(true)
}

// erasureLogged is erasure, with logged false for records the erasure log
// already names.
func (s *proofSink) erasureLogged(logged bool) store.Erasure {
	s.mu.Lock()
	defer s.mu.Unlock()
	return store.Erasure{
		Tombstones: proof.Eraser{Key: s.keys.mac},
		Receipt: func(ctx context.Context, receipt proof.Record) error {
			if logged {
				if err := s.erasures.add(receipt); err != nil {
					return err
				}
			}
			if _, err := s.record(ctx, receipt); err != nil {
				return err
			}
			// Spooled, it reaches the store after tombstones written now:
			// stop, and let maintenance (or the visitor's retry) finish.
			if s.spooled() > 0 {
				return errReceiptSpooled
			}
			return nil
		},
	}
}

// startErasureWork erases again what the erasure log names, beside the
// maintenance loop: the log may be long, and the loop must go on renewing
// the chain's claim meanwhile. One runs at a time; the sink's stop ends it.
func (s *proofSink) startErasureWork() {
	if !s.erasureWork.CompareAndSwap(false, true) {
		return
	}
	s.background.Add(1)
	go func() {
		defer s.background.Done()
		defer s.erasureWork.Store(false)
		defer func() {
			if p := recover(); p != nil {
				s.logger.Error("erasure maintenance stopped", zap.Any("panic", p))
			}
		}()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() {
			select {
			case <-s.stop:
				cancel()
			case <-ctx.Done():
			}
		}()
		s.eraseAgain(ctx)
	}()
}

// eraseAgain erases what the erasure log names that the store holds as it
// was: records an older copy of the store brought back, and erasures cut
// short after their receipt. It says in the log when it found any.
func (s *proofSink) eraseAgain(ctx context.Context) {
	keepFrom := time.Now().Add(-s.retention).UnixMilli()
	e := s.erasureLogged(false)
	total := 0
	err := s.erasures.each(keepFrom, func(entry erasureEntry) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := s.store.EraseRecords(ctx, entry.Erased, e)
		total += n
		return err
	})
	if total > 0 {
		s.logger.Warn("erased again records this gateway had erased, which the store held again (an older copy of it restored, or an erasure cut short)",
			zap.Int("records", total), zap.String("erasure_log", s.erasures.path))
	}
	if err != nil {
		s.logger.Error("erasing again what the erasure log names", zap.Error(err), zap.String("erasure_log", s.erasures.path))
	}
}
