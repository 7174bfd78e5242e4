package store_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"

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
	b := store.NewBatcher(&panickyStore{}, 0)
	recs := []proof.Record{{Chain: "c", Seq: 1}}
	err := b.Append(context.Background(), recs)
	if err == nil || !strings.Contains(err.Error(), "panicked") {
		t.Fatalf("the append that panicked returned %v, want an error saying so", err)
	}
	if err := b.Append(context.Background(), recs); err != nil {
		t.Errorf("the next append after a panic: %v", err)
	}
}
