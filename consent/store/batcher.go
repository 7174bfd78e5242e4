package store

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/consentgate/consentgate/consent/proof"
)

// Batcher coalesces concurrent Append calls into one store append (group
// commit): while one append is in flight, new calls queue, and the next
// append carries them all. A lone caller is written at once, with no added
// delay; under load, one fsync or one Redis round trip serves many
// visitors. The queue is bounded (BatcherOptions.MaxQueued). Other methods
// go straight to the wrapped store.
type Batcher struct {
	Store
	opts BatcherOptions

	mu       sync.Mutex
	queue    []*waiter
	queued   int // records in queue
	flushing bool
	// hurry ends the context of the append in flight (see MaxQueued);
	// nil before the first.
	hurry context.CancelFunc
}

// BatcherOptions configure a Batcher.
type BatcherOptions struct {
	// Max bounds the records per append (default 500).
	Max int
	// MaxQueued bounds the records that wait while an append is in flight
	// (default DefaultMaxQueued). Past it, the batcher ends that append's
	// context (and that of the next, if the queue is still past it when
	// that begins): a Resilient store then spools the append's records at
	// once instead of waiting for a slow store, and the queue follows them
	// into the spool, in order, at the pace of the local disk: a slow
	// store no longer makes the queue grow, and nothing is lost (Enqueue
	// never refuses: past the bound, the queue is bounded by the calls in
	// flight). A store without a spool fails the append.
	MaxQueued int
	// OnConflict, if set, is called when an append fails with ErrConflict
	// (another record holds a seq): records queued behind it link to the
	// refused ones, so the caller stops sealing on that chain and, still
	// holding what orders its sealing, calls FailQueued. Every waiter of
	// the refused append and every one queued behind it gets the error.
	OnConflict func(err error)
}

// DefaultMaxQueued is BatcherOptions.MaxQueued's default: some 10-20 MB
// of sealed proofs (1-2 KB each in memory), about a second of posts at the
// most a store takes (docs/operators.md: 8,000 a second on bolt, 15,000 to
// 20,000 on Redis).
const DefaultMaxQueued = 10_000

type waiter struct {
	recs []proof.Record
	done chan error
}

// NewBatcher wraps s.
func NewBatcher(s Store, opts BatcherOptions) *Batcher {
	if opts.Max <= 0 {
		opts.Max = 500
	}
	if opts.MaxQueued <= 0 {
		opts.MaxQueued = DefaultMaxQueued
	}
	return &Batcher{Store: s, opts: opts}
}

// Append queues recs and waits until they are written (or ctx ends, in
// which case they may still be written).
func (b *Batcher) Append(ctx context.Context, recs []proof.Record) error {
	done := b.Enqueue(ctx, recs)
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Enqueue queues recs without waiting and returns where the write's result
// will arrive. Records are written in the order they were queued, so a
// caller that queues while holding its own lock gets its records written in
// its order: what is written at any moment is a prefix of what was queued.
func (b *Batcher) Enqueue(ctx context.Context, recs []proof.Record) <-chan error {
	w := &waiter{recs: recs, done: make(chan error, 1)}
	b.mu.Lock()
	b.queue = append(b.queue, w)
	b.queued += len(recs)
	if !b.flushing {
		b.flushing = true
		go b.flush(context.WithoutCancel(ctx))
	} else if b.queued > b.opts.MaxQueued && b.hurry != nil {
		b.hurry()
	}
	b.mu.Unlock()
	return w.done
}

// flush writes queued calls until the queue is empty.
func (b *Batcher) flush(ctx context.Context) {
	for {
		b.mu.Lock()
		n, taken := 0, 0
		for taken < len(b.queue) && (taken == 0 || n+len(b.queue[taken].recs) <= b.opts.Max) {
			n += len(b.queue[taken].recs)
			taken++
		}
		group := b.queue[:taken:taken]
		b.queue = b.queue[taken:]
		b.queued -= n
		if len(group) == 0 {
			b.flushing, b.hurry = false, nil
			b.mu.Unlock()
			return
		}
		wctx, hurry := context.WithCancel(ctx)
		b.hurry = hurry
		if b.queued > b.opts.MaxQueued { // (calls queued before it began)
			hurry()
		}
		b.mu.Unlock()
		b.write(wctx, group, n)
		hurry()
	}
}

// write appends a group; if the store rejects it, each call is retried
// alone so that one bad record fails only its own caller.
func (b *Batcher) write(ctx context.Context, group []*waiter, n int) {
	all := make([]proof.Record, 0, n)
	for _, w := range group {
		all = append(all, w.recs...)
	}
	err := appendRecovering(ctx, b.Store, all)
	if err != nil && len(group) > 1 && errors.Is(err, ErrInvalid) {
		// One malformed call fails alone.
		for _, w := range group {
			w.done <- appendRecovering(ctx, b.Store, w.recs)
		}
		return
	}
	if errors.Is(err, ErrConflict) && b.opts.OnConflict != nil {
		b.opts.OnConflict(err)
	}
	for _, w := range group {
		w.done <- err
	}
}

// FailQueued fails every call queued and not yet being written with err
// (see BatcherOptions.OnConflict).
func (b *Batcher) FailQueued(err error) {
	b.mu.Lock()
	queued := b.queue
	b.queue, b.queued = nil, 0
	b.mu.Unlock()
	for _, w := range queued {
		w.done <- err
	}
}

// appendRecovering is s.Append, with a panic in it turned into the
// caller's error: the batcher's flush and Resilient's writes run in
// goroutines of their own, and a panic there would end the whole server.
func appendRecovering(ctx context.Context, s Store, recs []proof.Record) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("store: append panicked: %v", p)
		}
	}()
	return s.Append(ctx, recs)
}
