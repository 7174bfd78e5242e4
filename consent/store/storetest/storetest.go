// Package storetest is the one test suite every store backend runs: the
// same behaviour on bolt, Redis and Redis Cluster, against real files and
// servers. A backend's test calls Run with a way to open an empty store and
// to tamper with it behind its back.
package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/consentgate/consentgate/consent/store"
)

// Backend describes a store under test.
type Backend struct {
	// Open returns an empty store and direct access to its data. The suite
	// closes the store.
	Open func(t *testing.T) (store.Store, Raw)
	// Outage, when set, returns an empty store whose server can be stopped
	// and started again (keeping its data), for the spool test.
	Outage func(t *testing.T) (s store.Store, stop, start func())
	// BigN is how many records the constant-memory range test stores
	// (default 200,000).
	BigN int
}

// Raw changes stored data directly, bypassing the store, as an attacker
// with access to the database would.
type Raw interface {
	// Overwrite replaces the stored JSON of a record.
	Overwrite(chain string, seq uint64, raw []byte) error
	// Remove deletes a record.
	Remove(chain string, seq uint64) error
}

// Run runs the suite.
func Run(t *testing.T, b Backend) {
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, Backend)
	}{
		{"AppendRangeOrder", testAppendRange},
		{"RangeFilters", testRangeFilters},
		{"IdempotentRetry", testIdempotent},
		{"Conflict", testConflict},
		{"ConcurrentChains", testConcurrentChains},
		{"BatcherGroupsConcurrentAppends", testBatcher},
		{"EraseLeavesTombstones", testErase},
		{"ForgedTombstoneIsUnreceipted", testForgedTombstone},
		{"UnfinishedErasureIsFinished", testUnfinishedErasure},
		{"ManyRecordsOfOneConsent", testManyOfOneConsent},
		{"TamperIsNamed", testTamper},
		{"RecordsPastTheHead", testPastTheHead},
		{"ExpiryKeepsRestVerifiable", testExpiry},
		{"SpoolReplay", testSpoolReplay},
		{"Outage", testOutage},
		{"BigRangeConstantMemory", testBigRange},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, b) })
	}
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func open(t *testing.T, b Backend) (store.Store, Raw) {
	s, raw := b.Open(t)
	t.Cleanup(func() { s.Close() })
	return s, raw
}
