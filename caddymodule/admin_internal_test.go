package caddymodule

import (
	"testing"
	"time"

	"github.com/consentgate/consentgate/consent/store"
)

// TestAuditRetention: verification takes a store's deletions as retention
// only as far as its sinks' proof_retention reaches, also when that is
// longer than the default (a deletion after 5 years must not pass as
// expiry under a 10-year retention).
func TestAuditRetention(t *testing.T) {
	year := 365 * 24 * time.Hour
	for _, tc := range []struct {
		sinks []time.Duration
		want  time.Duration
	}{
		{nil, store.DefaultProofRetention},
		{[]time.Duration{10 * year}, 10 * year},
		{[]time.Duration{10 * year, 5 * year}, 5 * year},
		{[]time.Duration{time.Hour}, time.Hour},
	} {
		as := &auditStore{}
		for _, r := range tc.sinks {
			as.sinks = append(as.sinks, &proofSink{retention: r})
		}
		if got := as.retention(); got != tc.want {
			t.Errorf("sinks with retention %v: verification anchors at %v, want %v", tc.sinks, got, tc.want)
		}
	}
}
