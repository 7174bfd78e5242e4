package caddymodule

import "testing"

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
