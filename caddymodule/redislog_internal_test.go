package caddymodule

import (
	"fmt"
	"testing"
	"time"
)

// TestRedisNewsIsNotAWarning: what go-redis's Sentinel client says on
// every new connection goes to the log as information; trouble stays a
// warning. The lines are go-redis v9's formats, as this project's Sentinel
// tests print them.
func TestRedisNewsIsNotAWarning(t *testing.T) {
	for _, tc := range []struct {
		msg  string
		news bool
	}{
		{`sentinel: selected addr=127.0.0.1:36625 masterAddr=127.0.0.1:32947`, true},
		{`sentinel: new master="cgmaster" addr="127.0.0.1:32947"`, true},
		{`sentinel: discovered new sentinel="127.0.0.1:26380" for master="cgmaster"`, true},
		{`sentinel: GetMasterAddrByName addr=127.0.0.1:26379, master="cgmaster" failed: dial tcp 127.0.0.1:26379: connect: connection refused`, false},
		{`sentinel: Replicas name="cgmaster" failed: ERR No such master with that name`, false},
		{`redis: connection pool: failed to dial after 1 attempts: dial tcp 127.0.0.1:6379: connect: connection refused`, false},
		{`redis: re-authentication failed: WRONGPASS invalid username-password pair`, false},
	} {
		if got := redisNews(tc.msg); got != tc.news {
			t.Errorf("%q: news %v, want %v", tc.msg, got, tc.news)
		}
	}
}

// TestRedisTroubleIsSpaced: go-redis's warnings while a store is down, one
// per retry, reach the log at most once per interval, the next one counting
// the repeats held back; another message (another store's address) is
// spaced on its own.
func TestRedisTroubleIsSpaced(t *testing.T) {
	const down, other = "redis: connection pool: failed to dial after 1 attempts: dial tcp 127.0.0.1:1: connect: connection refused",
		"redis: connection pool: failed to dial after 1 attempts: dial tcp 127.0.0.1:2: connect: connection refused"
	l := &spacedLog{every: 200 * time.Millisecond}
	if ok, skipped := l.allow(down); !ok || skipped != 0 {
		t.Fatalf("the first message: %v %d, want it logged", ok, skipped)
	}
	for range 50 {
		if ok, _ := l.allow(down); ok {
			t.Fatal("a repeat within the interval was logged")
		}
	}
	if ok, _ := l.allow(other); !ok {
		t.Error("another store's trouble was held back as a repeat")
	}
	time.Sleep(250 * time.Millisecond)
	if ok, skipped := l.allow(down); !ok || skipped != 50 {
		t.Errorf("after the interval: %v, %d held back, want logged with 50", ok, skipped)
	}
	for i := range 2 * maxSpaced { // messages that never repeat are not all kept
		l.allow(fmt.Sprint("message ", i))
	}
	if n := len(l.seen); n > maxSpaced {
		t.Errorf("%d messages remembered, want at most %d", n, maxSpaced)
	}
}
