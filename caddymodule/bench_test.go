package caddymodule_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/consentgate/consentgate/caddymodule"
)

// discard is a ResponseWriter that keeps nothing, so a benchmark measures
// the gateway's own memory, not the recorder's.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(p []byte) (int, error) { return len(p), nil }
func (d *discard) WriteHeader(int)             {}

// trackerHeavyPage repeats a real tracker-heavy page's body to the size.
func trackerHeavyPage(b *testing.B, size int) []byte {
	src, err := os.ReadFile(filepath.Join("..", "..", "shared", "corpus", "readability__breitbart.html"))
	if err != nil {
		src, err = os.ReadFile(filepath.Join(runtime.GOROOT(), "doc", "go_spec.html"))
		if err != nil {
			b.Fatal(err)
		}
	}
	var page bytes.Buffer
	for page.Len() < size {
		page.Write(src)
	}
	return page.Bytes()[:size]
}

// BenchmarkInFlightMemory streams a page through the gateway in 32 KiB
// writes, as reverse_proxy does; B/op is what one response allocates, which
// bounds what it holds in flight.
//
//	go test -run='^$' -bench=InFlightMemory -benchmem ./caddymodule/
func BenchmarkInFlightMemory(b *testing.B) {
	h := provisioned(b, &caddymodule.Handler{})
	for _, tc := range []struct {
		name string
		size int
	}{{"1MB", 1 << 20}, {"50MB", 50 << 20}} {
		page := trackerHeavyPage(b, tc.size)
		next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			for off := 0; off < len(page); off += 32 << 10 {
				if _, err := w.Write(page[off:min(off+32<<10, len(page))]); err != nil {
					return err
				}
			}
			return nil
		})
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(tc.size))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				req := httptest.NewRequest("GET", "http://shop.test/", nil)
				if err := h.ServeHTTP(&discard{h: http.Header{}}, req, next); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkInFlightPeak holds 32 responses in flight at once, each stopped
// halfway through its page, and reports the heap they hold between them,
// per response (B/inflight): the gateway's memory per in-flight response.
//
//	go test -run='^$' -bench=InFlightPeak ./caddymodule/
func BenchmarkInFlightPeak(b *testing.B) {
	const inFlight = 32
	h := provisioned(b, &caddymodule.Handler{})
	for _, tc := range []struct {
		name string
		size int
	}{{"1MB", 1 << 20}, {"50MB", 50 << 20}} {
		page := trackerHeavyPage(b, tc.size)
		b.Run(tc.name, func(b *testing.B) {
			var worst float64
			for i := 0; i < b.N; i++ {
				reached, release := make(chan struct{}), make(chan struct{})
				next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
					w.Header().Set("Content-Type", "text/html")
					half := len(page) / 2
					w.Write(page[:half])
					reached <- struct{}{}
					<-release
					w.Write(page[half:])
					return nil
				})
				runtime.GC()
				var before, during runtime.MemStats
				runtime.ReadMemStats(&before)
				done := make(chan struct{})
				for range inFlight {
					go func() {
						req := httptest.NewRequest("GET", "http://shop.test/", nil)
						h.ServeHTTP(&discard{h: http.Header{}}, req, next)
						done <- struct{}{}
					}()
				}
				for range inFlight {
					<-reached
				}
				runtime.GC()
				runtime.ReadMemStats(&during)
				close(release)
				for range inFlight {
					<-done
				}
				if per := float64(int64(during.HeapAlloc)-int64(before.HeapAlloc)) / inFlight; per > worst {
					worst = per
				}
			}
			b.ReportMetric(worst, "B/inflight")
		})
	}
}
