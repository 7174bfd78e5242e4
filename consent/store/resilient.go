package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/consentgate/consentgate/consent/proof"
	"github.com/consentgate/consentgate/consent/store/spool"
)

// ResilientOptions configure a Resilient store.
type ResilientOptions struct {
	// RetryEvery is how often pending proofs are replayed (default 1 s).
	RetryEvery time.Duration
	// Logger receives store errors, spooling and replays (nil: discarded).
	Logger *slog.Logger
	// WarnEvery spaces the warnings of a replay that keeps failing, and
	// those of a store too slow to wait for: the first is logged at once,
	// the next ones at most this often, with their count (default 1
	// minute).
	WarnEvery time.Duration
	// WriteDeadline is how long Append waits for the store before it
	// spools the records instead (default DefaultWriteDeadline): a store
	// that is slow but answers (a loaded or swapping Redis, a stalled
	// disk) would otherwise hold every visitor's choice for as long as it
	// takes.
	WriteDeadline time.Duration
	// OnRejected, if set, is called after a replay set records aside in
	// rejected.log: the chain they were sealed on goes on from records the
	// store does not hold.
	OnRejected func()
}

// DefaultWriteDeadline is ResilientOptions.WriteDeadline's default. A
// store at its usual pace answers in milliseconds; a visitor waits no
// longer than this for one that is slow. (A Redis that refuses
// connections fails a write sooner; one whose packets are dropped takes
// its client's dial timeout and retry, longer than this, and is logged as
// slow.)
const DefaultWriteDeadline = 2 * time.Second

// Resilient writes through to a store and, when the store fails or is too
// slow to wait for, to a local spool, so that Append succeeds whenever the
// disk does. A background replayer moves spooled proofs to the store, in
// order, once it is back; while anything is pending, new proofs queue
// behind it in the spool to keep each chain in order. Reads go straight to
// the store.
type Resilient struct {
	Store
	spool *spool.Spool
	opts  ResilientOptions

	spooled, replayed, storeErrors atomic.Uint64
	// Writes the store answered (either way) and the time they took, in
	// nanoseconds: a store that slows down before it fails shows here.
	writes, writeNanos atomic.Uint64
	// Writes Append stopped waiting for (their records were spooled), and
	// the last of them: until it ends, appends spool.
	slowWrites atomic.Uint64
	late       atomic.Pointer[storeWrite]

	ctx    context.Context
	cancel context.CancelFunc
	done   sync.WaitGroup
	once   sync.Once

	// warnings spaces the warnings of a replay that keeps failing and of
	// a store too slow to wait for.
	warnings Spacer
}

// storeWrite is one append to the store, which may outlast the wait for it.
type storeWrite struct {
	err  error
	done chan struct{} // closed when the store has answered
}

// ResilientStats are counters for metrics.
type ResilientStats struct {
	Spooled     uint64 // records written to the spool
	Replayed    uint64 // records replayed from it
	StoreErrors uint64 // failed writes to the store
	Pending     int    // entries waiting in the spool
	Rejected    int    // spooled records the store refused for good (in rejected.log)
	// Writes to the store (appends of a batch, not replays) and the time
	// they took altogether: their ratio is the store's latency as the
	// gateway sees it.
	Writes    uint64
	WriteTime time.Duration
	// SlowWrites are the appends spooled because the store was slow: not
	// answered within the write deadline, or not waited for (nor begun)
	// once a full Batcher queue ended their wait.
	SlowWrites uint64
}

// NewResilient wraps s with the spool sp and starts the replayer; whatever
// an earlier run left in the spool is replayed first. Close stops it and
// closes both.
func NewResilient(s Store, sp *spool.Spool, opts ResilientOptions) *Resilient {
	if opts.RetryEvery <= 0 {
		opts.RetryEvery = time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.WarnEvery <= 0 {
		opts.WarnEvery = time.Minute
	}
	if opts.WriteDeadline <= 0 {
		opts.WriteDeadline = DefaultWriteDeadline
	}
	r := &Resilient{Store: s, spool: sp, opts: opts, warnings: Spacer{Every: opts.WarnEvery}}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	r.done.Add(1)
	go r.run()
	return r
}

// Append stores recs, or spools them when the store fails, when it has
// not answered within WriteDeadline or before ctx ended (it is slow), or
// when earlier proofs are still spooled. It fails only for invalid
// records, conflicts, or when the spool cannot write.
//
// A write Append stopped waiting for goes on, and until it ends appends
// spool: what the store holds stays a prefix of what was appended. (The
// replayer does not wait for it: its first batch starts with the same
// records, and whichever lands second skips them.) Should that write land after all,
// the replay of its spooled copy skips what it stored (appends are
// idempotent), so every record is stored once.
func (r *Resilient) Append(ctx context.Context, recs []proof.Record) error {
	if r.spool.Pending() == 0 && !r.lateWriteUnderway() {
		answered, err := r.write(ctx, recs)
		switch {
		case !answered:
			const slow = "proof store slow, spooling"
			if ok, skipped := r.warnings.Allow(slow); ok {
				r.opts.Logger.Warn(slow, "reason", "slow", "records", len(recs), "deadline", r.opts.WriteDeadline,
					"slow_writes", skipped+1)
			}
		case err == nil || permanent(err):
			return err
		case errors.Is(err, ErrMisconfigured):
			r.opts.Logger.Error("the proof store refuses this gateway as configured (credentials, permissions, database or TLS), spooling until that is fixed",
				"records", len(recs), "error", err)
		default:
			r.opts.Logger.Warn("proof store unavailable, spooling", "reason", "down", "records", len(recs), "error", err)
		}
	}
	if err := r.spool.Add(recs); err != nil {
		return fmt.Errorf("store: spooling %d proofs: %w", len(recs), err)
	}
	r.spooled.Add(uint64(len(recs)))
	return nil
}

// write appends recs to the store and waits for its answer until the
// deadline passes or ctx ends. The write itself does not end with ctx: cut
// short, it might still land (a script Redis has received, a bolt commit
// under way) unseen; left to end, it is counted and waited for. A ctx that
// has ended already (a full Batcher queue) starts no write.
func (r *Resilient) write(ctx context.Context, recs []proof.Record) (answered bool, err error) {
	if ctx.Err() != nil {
		r.slowWrites.Add(1)
		return false, nil
	}
	w := &storeWrite{done: make(chan struct{})}
	began := time.Now()
	go func() {
		w.err = appendRecovering(context.WithoutCancel(ctx), r.Store, recs)
		r.writes.Add(1)
		r.writeNanos.Add(uint64(time.Since(began)))
		if w.err != nil && !permanent(w.err) {
			r.storeErrors.Add(1)
		}
		close(w.done)
	}()
	deadline := time.NewTimer(r.opts.WriteDeadline)
	defer deadline.Stop()
	select {
	case <-w.done:
		return true, w.err
	case <-deadline.C:
	case <-ctx.Done():
	}
	r.late.Store(w)
	r.slowWrites.Add(1)
	return false, nil
}

// lateWriteUnderway reports whether a write Append stopped waiting for
// is still under way.
func (r *Resilient) lateWriteUnderway() bool {
	w := r.late.Load()
	if w == nil {
		return false
	}
	select {
	case <-w.done:
		return false
	default:
		return true
	}
}

// PutCheckpoint stores a checkpoint, or spools it behind pending records.
func (r *Resilient) PutCheckpoint(ctx context.Context, cp proof.Checkpoint) error {
	if r.spool.Pending() == 0 {
		err := r.Store.PutCheckpoint(ctx, cp)
		if err == nil || permanent(err) {
			return err
		}
		r.storeErrors.Add(1)
	}
	return r.spool.AddCheckpoint(cp)
}

// permanent reports errors that retrying cannot fix.
func permanent(err error) bool {
	return errors.Is(err, ErrInvalid) || errors.Is(err, ErrConflict)
}

// Replay replays pending proofs now.
func (r *Resilient) Replay(ctx context.Context) error {
	rejected := r.spool.Rejected()
	n, err := r.spool.Replay(ctx, replayTarget{r.Store})
	r.replayed.Add(uint64(n))
	if n > 0 {
		r.opts.Logger.Info("replayed spooled proofs", "records", n, "pending", r.spool.Pending())
	}
	if more := r.spool.Rejected() - rejected; more > 0 {
		r.opts.Logger.Error("the store refused spooled proofs for good; they are kept in the spool's rejected.log",
			"records", more)
		if r.opts.OnRejected != nil {
			r.opts.OnRejected()
		}
	}
	return err
}

// replayTarget marks permanent store errors for the spool.
type replayTarget struct{ s Store }

func (t replayTarget) Append(ctx context.Context, recs []proof.Record) error {
	return mark(t.s.Append(ctx, recs))
}

func (t replayTarget) PutCheckpoint(ctx context.Context, cp proof.Checkpoint) error {
	return mark(t.s.PutCheckpoint(ctx, cp))
}

func mark(err error) error {
	if err != nil && permanent(err) {
		return fmt.Errorf("%w: %w", spool.ErrRejected, err)
	}
	return err
}

func (r *Resilient) run() {
	defer r.done.Done()
	tick := time.NewTicker(r.opts.RetryEvery)
	defer tick.Stop()
	for {
		if r.spool.Pending() > 0 {
			r.replayOnce()
		}
		select {
		case <-r.ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// replayOnce replays, and survives a panic so the replayer keeps running.
func (r *Resilient) replayOnce() {
	defer func() {
		if p := recover(); p != nil {
			r.opts.Logger.Error("proof replay panicked", "panic", p)
		}
	}()
	const failed = "proof replay failed, will retry"
	err := r.Replay(r.ctx)
	switch {
	case err != nil && r.ctx.Err() == nil:
		r.storeErrors.Add(1)
		if ok, skipped := r.warnings.Allow(failed); ok {
			r.opts.Logger.Warn(failed, "pending", r.spool.Pending(), "failures", skipped+1, "error", err)
		}
	case err == nil:
		r.warnings.Reset(failed) // the next failure is news again
	}
}

// Stats returns the counters.
func (r *Resilient) Stats() ResilientStats {
	return ResilientStats{
		Spooled: r.spooled.Load(), Replayed: r.replayed.Load(),
		StoreErrors: r.storeErrors.Load(), Pending: r.spool.Pending(), Rejected: r.spool.Rejected(),
		Writes: r.writes.Load(), WriteTime: time.Duration(r.writeNanos.Load()), SlowWrites: r.slowWrites.Load(),
	}
}

// Close stops the replayer and closes the spool and the store. Pending
// proofs stay in the spool for the next start.
func (r *Resilient) Close() error {
	var err error
	r.once.Do(func() {
		r.cancel()
		r.done.Wait()
		err = errors.Join(r.spool.Close(), r.Store.Close())
	})
	return err
}
