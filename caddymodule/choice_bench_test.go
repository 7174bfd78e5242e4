package caddymodule_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/consentgate/consentgate/caddymodule"
)

// BenchmarkChoice posts the banner's JSON choice to the handler in process
// (no network, no HTTP server), as many visitors at once, so that what it
// reports is the gateway's own work per consent post: decode, decide, seal,
// store (batched), cookie, answer. The Redis variant needs a server on
// 127.0.0.1:6379.
//
//	go test -run='^$' -bench=Choice -benchmem ./caddymodule/
func BenchmarkChoice(b *testing.B) {
	for _, tc := range []struct{ name, store string }{
		{"bolt", ""},
		{"redis", "redis://127.0.0.1:6379/0?prefix=benchchoice"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			if tc.name == "redis" {
				dropRedisPrefix(b, "benchchoice") // after the handler closes: cleanups run last first
			}
			h := provisioned(b, &caddymodule.Handler{Store: tc.store, Chain: "bench-choice-" + tc.name})
			const body = `{"purposes":{"analytics":true,"marketing":false},"layer":"second","control":"save"}`
			b.ReportAllocs()
			b.SetParallelism(16)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req := httptest.NewRequest("POST", "http://shop.test/.consent/choice", strings.NewReader(body))
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("Sec-Fetch-Site", "same-origin")
					w := &discard{h: http.Header{}}
					if err := h.ServeHTTP(w, req, nil); err != nil {
						b.Error(err)
					}
				}
			})
		})
	}
}

// dropRedisPrefix deletes, when the benchmark ends, what was stored under a
// key prefix on 127.0.0.1:6379, so repeated runs neither fill the server
// nor measure an ever larger index.
func dropRedisPrefix(b *testing.B, prefix string) {
	b.Cleanup(func() {
		ctx := context.Background()
		c := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:6379"})
		defer c.Close()
		keys := []string{prefix + ":chains"}
		iter := c.Scan(ctx, 0, "{"+prefix+":*", 1000).Iterator()
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		if err := c.Unlink(ctx, keys...).Err(); err != nil {
			b.Logf("cleaning up Redis prefix %s: %v", prefix, err)
		}
	})
}
