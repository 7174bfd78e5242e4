package caddymodule_test

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync/atomic"
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
// The "etag" pages have a strong ETag, so that after a first request the
// 1 MB one is answered from the page cache (whose memory is its own,
// bounded by page_cache); the 50 MB one is too large to be kept.
//
//	go test -run='^$' -bench=InFlightPeak ./caddymodule/
func BenchmarkInFlightPeak(b *testing.B) {
	const inFlight = 32
	h := provisioned(b, &caddymodule.Handler{})
	for _, tc := range []struct {
		name string
		size int
		etag bool
	}{{"1MB", 1 << 20, false}, {"50MB", 50 << 20, false}, {"1MB-etag", 1 << 20, true}, {"50MB-etag", 50 << 20, true}} {
		page := trackerHeavyPage(b, tc.size)
		b.Run(tc.name, func(b *testing.B) {
			if tc.etag { // the second request records the page, if it can be kept
				whole := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
					w.Header().Set("Content-Type", "text/html")
					w.Header().Set("ETag", `"`+tc.name+`"`)
					_, err := w.Write(page)
					return err
				})
				for range 2 {
					if err := h.ServeHTTP(&discard{h: http.Header{}}, httptest.NewRequest("GET", "http://shop.test/", nil), whole); err != nil {
						b.Fatal(err)
					}
				}
			}
			var worst float64
			for i := 0; i < b.N; i++ {
				reached, release := make(chan struct{}), make(chan struct{})
				next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
					w.Header().Set("Content-Type", "text/html")
					if tc.etag {
						w.Header().Set("ETag", `"`+tc.name+`"`)
					}
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

// countingListener counts the writes (one syscall each) made on its
// connections.
type countingListener struct {
	net.Listener
	writes atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: c, l: l}, nil
}

type countingConn struct {
	net.Conn
	l *countingListener
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.l.writes.Add(1)
	return c.Conn.Write(p)
}

// BenchmarkServe serves a page over a real HTTP/1.1 connection on loopback,
// as reverse_proxy delivers it from file_server (32 KiB writes,
// Content-Length and a strong ETag set), through the gateway and, for
// comparison, straight (as plain reverse_proxy does). writes/op counts the
// server's write syscalls per response: after the first response the
// gateway knows the page's rewritten length (lengths.go) and sends it
// unchunked.
//
//	go test -run='^$' -bench=Serve ./caddymodule/
func BenchmarkServe(b *testing.B) {
	h := provisioned(b, &caddymodule.Handler{})
	spec, err := os.ReadFile(filepath.Join(runtime.GOROOT(), "doc", "go_spec.html"))
	if err != nil {
		b.Skip(err)
	}
	tracker := []byte(corpusPage(b, "readability__breitbart.html"))
	for _, page := range []struct {
		name    string
		body    []byte
		flushed bool // of unknown length, in 2 KiB reads each flushed, as reverse_proxy passes a chunked upstream's
	}{{"go_spec", spec, false}, {"tracker_heavy", tracker, false}, {"small_flushed", spec[:8<<10], true}} {
		next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("ETag", `"bench-1"`)
			if page.flushed {
				for off := 0; off < len(page.body); off += 2 << 10 {
					if _, err := w.Write(page.body[off:min(off+2<<10, len(page.body))]); err != nil {
						return err
					}
					if err := http.NewResponseController(w).Flush(); err != nil {
						return err
					}
				}
				return nil
			}
			w.Header().Set("Content-Length", strconv.Itoa(len(page.body)))
			for off := 0; off < len(page.body); off += 32 << 10 {
				if _, err := w.Write(page.body[off:min(off+32<<10, len(page.body))]); err != nil {
					return err
				}
			}
			return nil
		})
		for _, mode := range []string{"proxy", "consent"} {
			b.Run(page.name+"/"+mode, func(b *testing.B) {
				handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if mode == "proxy" {
						next.ServeHTTP(w, r)
					} else if err := h.ServeHTTP(w, r, next); err != nil {
						b.Error(err)
					}
				})
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					b.Fatal(err)
				}
				cl := &countingListener{Listener: ln}
				srv := &http.Server{Handler: handler}
				go srv.Serve(cl)
				defer srv.Close()
				conn, err := net.Dial("tcp", ln.Addr().String())
				if err != nil {
					b.Fatal(err)
				}
				defer conn.Close()
				br := bufio.NewReaderSize(conn, 64<<10)
				req := []byte("GET /page.html HTTP/1.1\r\nHost: shop.test\r\nAccept: text/html\r\n\r\n")
				var n int64
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					if _, err := conn.Write(req); err != nil {
						b.Fatal(err)
					}
					resp, err := http.ReadResponse(br, nil)
					if err != nil {
						b.Fatal(err)
					}
					m, err := io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if err != nil {
						b.Fatal(err)
					}
					n += m
				}
				b.ReportMetric(float64(cl.writes.Load())/float64(b.N), "writes/op")
				b.SetBytes(n / int64(b.N))
			})
		}
	}
}
