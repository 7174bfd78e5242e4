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
