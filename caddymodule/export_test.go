package caddymodule

import (
	"testing"
	"time"
)

// SetCheckpointEvery makes the sinks opened during the test write a
// checkpoint and enforce retention every d instead of every 6 hours. Call
// it before starting the gateway, so that the gateway stops first.
func SetCheckpointEvery(t testing.TB, d time.Duration) {
	old := checkpointEvery
	checkpointEvery = d
	t.Cleanup(func() { checkpointEvery = old })
}

// SetClaimTTL shortens the chain claims of sinks opened during the test
// from 30 s to d (renewed every d/3). Call it before starting the gateway.
func SetClaimTTL(t testing.TB, d time.Duration) {
	old := claimTTL
	claimTTL = d
	t.Cleanup(func() { claimTTL = old })
}
