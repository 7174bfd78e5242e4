package store

import (
	"fmt"
	"testing"
	"time"
)

// TestSpacerSpacesRepeats: go-redis's warnings while a store is down, one
// per retry, reach the log at most once per interval, the next one counting
// the repeats held back; another message (another store's address) is
// spaced on its own.
func TestSpacerSpacesRepeats(t *testing.T) {
	const down, other = "redis: connection pool: failed to dial after 1 attempts: dial tcp 127.0.0.1:1: connect: connection refused",
		"redis: connection pool: failed to dial after 1 attempts: dial tcp 127.0.0.1:2: connect: connection refused"
	l := &Spacer{Every: 200 * time.Millisecond}
	if ok, skipped := l.Allow(down); !ok || skipped != 0 {
		t.Fatalf("the first message: %v %d, want it logged", ok, skipped)
	}
	for range 50 {
		if ok, _ := l.Allow(down); ok {
			t.Fatal("a repeat within the interval was logged")
		}
	}
	if ok, _ := l.Allow(other); !ok {
		t.Error("another store's trouble was held back as a repeat")
	}
	time.Sleep(250 * time.Millisecond)
	if ok, skipped := l.Allow(down); !ok || skipped != 50 {
		t.Errorf("after the interval: %v, %d held back, want logged with 50", ok, skipped)
	}
	for i := range 2 * maxSpaced { // messages that never repeat are not all kept
		l.Allow(fmt.Sprint("message ", i))
	}
	if n := len(l.seen); n > maxSpaced {
		t.Errorf("%d messages remembered, want at most %d", n, maxSpaced)
	}
}
