package store

import (
	"context"
	"fmt"
	"sync"

	"github.com/consentgate/consentgate/consent/proof"
)

// Batcher coalesces concurrent Append calls into one store append (group
// commit): while one append is in flight, new calls queue, and the next
// append carries them all. A lone caller is written at once, with no added
// delay; under load, one fsync or one Redis round trip serves many
// visitors. Other methods go straight to the wrapped store.
type Batcher struct {
	Store
	max int

	mu       sync.Mutex
	queue    []*waiter
	flushing bool
}

type waiter struct {
	recs []proof.Record
	done chan error
}

// NewBatcher wraps s; max bounds the records per append (default 500).
func NewBatcher(s Store, max int) *Batcher {
	if max <= 0 {
		max = 500
	}
	return &Batcher{Store: s, max: max}
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
	if !b.flushing {
		b.flushing = true
		go b.flush(context.WithoutCancel(ctx))
	}
	b.mu.Unlock()
	return w.done
}

// flush writes queued calls until the queue is empty.
func (b *Batcher) flush(ctx context.Context) {
	for {
		b.mu.Lock()
		n, taken := 0, 0
		for taken < len(b.queue) && (taken == 0 || n+len(b.queue[taken].recs) <= b.max) {
			n += len(b.queue[taken].recs)
			taken++
		}
		group := b.queue[:taken:taken]
		b.queue = b.queue[taken:]
		if len(group) == 0 {
			b.flushing = false
			b.mu.Unlock()
			return
		}
		b.mu.Unlock()
		b.write(ctx, group, n)
	}
}

// write appends a group; if the store rejects it, each call is retried
// alone so that one bad record fails only its own caller.
func (b *Batcher) write(ctx context.Context, group []*waiter, n int) {
	all := make([]proof.Record, 0, n)
	for _, w := range group {
		all = append(all, w.recs...)
	}
	err := b.append(ctx, all)
	if err != nil && len(group) > 1 && permanent(err) {
		for _, w := range group {
			w.done <- b.append(ctx, w.recs)
		}
		return
	}
	for _, w := range group {
		w.done <- err
	}
}

// append is the store's Append, with a panic in it turned into the
// callers' error: the flush goroutine is the batcher's own, and a panic
// there would end the whole server.
func (b *Batcher) append(ctx context.Context, recs []proof.Record) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("store: append panicked: %v", p)
		}
	}()
	return b.Store.Append(ctx, recs)
}
