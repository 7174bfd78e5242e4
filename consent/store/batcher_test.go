package store_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/consentgate/consentgate/consent/proof"
	"github.com/consentgate/consentgate/consent/store"
)

// panickyStore panics in its first Append and stores nothing after. A test
// double: a store that panics cannot be made to do so for real; the
// batcher's flush goroutine must survive it all the same.
type panickyStore struct {
	store.Store
	calls atomic.Int32
}

func (p *panickyStore) Append(ctx context.Context, recs []proof.Record) error {
	if p.calls.Add(1) == 1 {
		panic("index out of range in the backend")
	}
	return nil
}

// TestBatcherSurvivesAPanickingStore: a panic in a store's Append reaches
// its caller as an error, and the batcher goes on writing.
func TestBatcherSurvivesAPanickingStore(t *testing.T) {
	b := store.NewBatcher(&panickyStore{}, store.BatcherOptions{})
	recs := []proof.Record{{Chain: "c", Seq: 1}}
	err := b.Append(context.Background(), recs)
	if err == nil || !strings.Contains(err.Error(), "panicked") {
		t.Fatalf("the append that panicked returned %v, want an error saying so", err)
	}
	if err := b.Append(context.Background(), recs); err != nil {
		t.Errorf("the next append after a panic: %v", err)
	}
}

// TestFullQueueGoesToTheSpool: while Redis sleeps (DEBUG SLEEP, as a
// loaded or swapping server stalls) with an append in flight, choices
// queue behind it. Past the queue's bound they are not held in memory
// until Redis wakes: the batcher stops waiting, and the append in flight
// and everything queued go to the spool, in order, and are answered while
// Redis still sleeps. (The write deadline is an hour here, so only the
// bound can end the wait.) Once Redis is awake, the spool is replayed:
// every proof is stored once and the chain verifies.
func TestFullQueueGoesToTheSpool(t *testing.T) {
	ctx := t.Context()
	// A client timeout longer than the sleep: Redis is slow, not gone.
	node, s, sp := redisAndSpool(t, "?timeout=1m", "--enable-debug-command", "yes")
	r := store.NewResilient(s, sp, store.ResilientOptions{RetryEvery: 10 * time.Millisecond, WriteDeadline: time.Hour})
	defer r.Close()
	// One record per append, so that the others queue behind it.
	b := store.NewBatcher(r, store.BatcherOptions{Max: 1, MaxQueued: 10})
	_, newChain, seal := testChains(t, t.TempDir())
	c := newChain()
	if err := b.Append(ctx, seal(c, 1)); err != nil {
		t.Fatal(err)
	}

	woke, err := node.Sleep(5 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	const queued = 40
	var answers []<-chan error
	for range queued {
		answers = append(answers, b.Enqueue(ctx, seal(c, 1)))
	}
	for i, answer := range answers {
		if err := <-answer; err != nil {
			t.Fatalf("choice %d: %v", i+2, err)
		}
	}
	select {
	case <-woke:
		t.Fatal("the queued proofs were answered only once Redis woke")
	default:
	}
	if st := r.Stats(); st.Spooled != queued || st.SlowWrites == 0 {
		t.Errorf("with the queue full while Redis slept: %+v; want all %d proofs spooled, a slow write counted", st, queued)
	}

	if err := <-woke; err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(15 * time.Second); r.Stats().Pending > 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the spool did not drain once Redis woke: %+v", r.Stats())
		}
	}
	mac, _ := proof.NewMACKey(make([]byte, 32)) // testChains's
	assertStoredOnce(t, s, "gw-1", 1+queued, proof.Keys{MAC: map[string][]byte{mac.ID: mac.Secret}})
}

// assertStoredOnce checks that chain holds want records, each event once,
// and verifies.
func assertStoredOnce(t *testing.T, s store.Store, chain string, want int, keys proof.Keys) {
	t.Helper()
	seen := map[string]bool{}
	err := s.Range(t.Context(), store.Query{Chain: chain}, func(rec proof.Record) error {
		if seen[rec.EventID] {
			t.Errorf("seq %d: event %s stored twice", rec.Seq, rec.EventID)
		}
		seen[rec.EventID] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := store.Verify(t.Context(), s, chain, proof.VerifyOptions{Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != want || !rep.OK() || rep.Records != want {
		t.Errorf("stored: %d records, verify %+v; want %d, each once, verified", len(seen), rep, want)
	}
}
