package caddymodule

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
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

// startErasureWork erases again what the erasure log names and gives old
// tombstones their receipts, beside the maintenance loop: both may walk
// much (the log; the whole store, once), and the loop must go on renewing
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
		s.receiptOldTombstones(ctx)
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

// receiptOldTombstones gives receipts, once per data directory and store,
// to the tombstones that versions before erasure receipts left: those no
// receipt names whose HMAC verifies with the keys this gateway holds
// (every generation), so an erasure made them. Tombstones whose HMAC does
// not verify get none, and verify keeps reporting them as
// unreceipted_tombstone. It walks the whole store once, and says what it
// did in the log and in the file receiptsSwept, which stops it next time.
func (s *proofSink) receiptOldTombstones(ctx context.Context) {
	if _, err := os.Stat(s.receiptsSwept); err == nil {
		return
	}
	named, err := s.store.Receipts(ctx)
	if err != nil {
		s.logger.Error("reading erasure receipts", zap.Error(err))
		return
	}
	keys := s.verifyKeys()
	var (
		batch    []proof.Record
		receipts int
		genuine  int
		forged   []zap.Field
		nForged  int
	)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if _, err := s.record(ctx, proof.Receipt(batch)); err != nil {
			return err
		}
		receipts++
		genuine += len(batch)
		batch = batch[:0]
		return nil
	}
	err = s.store.RangeRaw(ctx, store.Query{}, func(raw []byte) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if !bytes.Contains(raw, []byte(proof.Erased)) {
			return nil // most records: not worth decoding
		}
		var r proof.Record
		if json.Unmarshal(raw, &r) != nil || !r.IsTombstone() || named.Names(r.Chain, r.Seq, r.EventID) {
			return nil
		}
		if !keys.Authentic(raw) {
			if nForged++; nForged == 1 {
				forged = []zap.Field{zap.String("first_forged_chain", r.Chain), zap.Uint64("first_forged_seq", r.Seq)}
			}
			return nil
		}
		if batch = append(batch, r); len(batch) == receiptBatch {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	fields := append([]zap.Field{zap.Int("receipted", genuine), zap.Int("receipts", receipts), zap.Int("not_authentic", nForged)}, forged...)
	if err != nil {
		s.logger.Error("giving tombstones from before erasure receipts their receipts; maintenance tries again", append(fields, zap.Error(err))...)
		return
	}
	switch {
	case nForged > 0:
		s.logger.Error("tombstones no erasure made (their HMAC does not verify with any proof key held) are in the store: verify reports them as unreceipted_tombstone",
			fields...)
	case genuine > 0:
		s.logger.Info("tombstones from before erasure receipts were given receipts", fields...)
	}
	if err := writeJSONFile(s.receiptsSwept, map[string]any{"time": time.Now().UTC().Format(time.RFC3339), "receipted": genuine, "not_authentic": nForged}); err != nil {
		s.logger.Error("noting that old tombstones have their receipts", zap.Error(err))
	}
}

// receiptBatch is how many old tombstones one receipt names at most.
const receiptBatch = 512
