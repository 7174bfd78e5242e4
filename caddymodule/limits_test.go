package caddymodule_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/consentgate/consentgate/caddymodule/gatewaytest"
)

// TestChoiceBodyLimit: a choice is a few hundred bytes; anything over 16 KiB
// is refused with 413 and a JSON error, in either encoding, and sets no
// cookie.
func TestChoiceBodyLimit(t *testing.T) {
	base := startSite(t)
	const limit = 16 << 10
	pad := func(body string, n int) string { return body + strings.Repeat(" ", n-len(body)) }
	form := func(n int) string {
		return "action=accept_all&return=/" + strings.Repeat("a", n-len("action=accept_all&return=/"))
	}
	cases := []struct {
		name, ctype, body string
		status            int
	}{
		{"json at the limit", "application/json", pad(`{"all":true}`, limit), http.StatusOK},
		{"json over the limit", "application/json", `{"all":true,"control":"` + strings.Repeat("x", limit) + `"}`, http.StatusRequestEntityTooLarge},
		{"json value then padding over the limit", "application/json", pad(`{"all":true}`, limit+1), http.StatusRequestEntityTooLarge},
		{"json of 1 MiB", "application/json", `{"purposes":{` + strings.Repeat(`"analytics":true,`, 1<<16) + `"social":true}}`, http.StatusRequestEntityTooLarge},
		{"form at the limit", "application/x-www-form-urlencoded", form(limit), http.StatusSeeOther},
		{"form over the limit", "application/x-www-form-urlencoded", form(limit + 1), http.StatusRequestEntityTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, base+"/.consent/choice", strings.NewReader(tc.body))
			req.Header.Set("Content-Type", tc.ctype)
			req.Header.Set("Origin", base)
			resp, body := do(t, newClient(t), req)
			if resp.StatusCode != tc.status {
				t.Fatalf("%d bytes: status %d %.200s, want %d", len(tc.body), resp.StatusCode, body, tc.status)
			}
			if tc.status != http.StatusRequestEntityTooLarge {
				return
			}
			var e struct{ Error string }
			if resp.Header.Get("Content-Type") != "application/json" || json.Unmarshal([]byte(body), &e) != nil || e.Error == "" {
				t.Errorf("413 without a JSON error: %s %q", resp.Header.Get("Content-Type"), body)
			}
			if len(resp.Cookies()) != 0 {
				t.Error("an oversized choice set a cookie")
			}
		})
	}
}

// TestHugeRequestHeaders: a 100 KB Cookie header is refused by the HTTP
// server (431, Caddy's 16 KiB MaxHeaderBytes) before the gateway sees it;
// the gateway keeps serving. Cookies just under the limit, and many of
// them, reach it and are simply not a consent.
func TestHugeRequestHeaders(t *testing.T) {
	base := startSite(t)
	for _, tc := range []struct {
		name, cookie string
		status       int
	}{
		{"100 KB consent cookie", "consentgate=" + strings.Repeat("A", 100<<10), http.StatusRequestHeaderFieldsTooLarge},
		{"100 KB of other cookies", strings.Repeat("x=1; ", 20<<10), http.StatusRequestHeaderFieldsTooLarge},
		{"12 KB consent cookie", "consentgate=" + strings.Repeat("A", 12<<10), http.StatusOK},
		{"a thousand cookies", strings.Repeat("consentgate=x; ", 1000), http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, base+"/", nil)
			req.Header.Set("Accept", "text/html")
			req.Header.Set("Cookie", tc.cookie)
			resp, body := do(t, newClient(t), req)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if tc.status == http.StatusOK && !strings.Contains(body, `"decided":false`) {
				t.Errorf("not served as undecided: %.300s", body)
			}
			// The next request is served normally.
			resp, body = get(t, newClient(t), base+"/")
			if resp.StatusCode != http.StatusOK || !hookPattern.MatchString(body) {
				t.Fatalf("after the huge header: %d %.200s", resp.StatusCode, body)
			}
		})
	}
}

// TestMalformedCookieServesUndecided: a cookie that does not decode (from
// another gateway's keys, tampered, cut, wrongly encoded) is no consent:
// the page is served with the banner undecided, never an error.
func TestMalformedCookieServesUndecided(t *testing.T) {
	base := startSite(t)
	c := newClient(t)
	postChoice(t, c, base, `{"all":true}`)
	u, _ := url.Parse(base)
	var valid string
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == "consentgate" {
			valid = ck.Value
		}
	}
	if valid == "" {
		t.Fatal("no consent cookie after a choice")
	}
	flipped := []byte(valid)
	flipped[len(flipped)/2] ^= 1
	for name, value := range map[string]string{
		"tampered":            string(flipped),
		"cut":                 valid[:len(valid)/2],
		"not base64":          "!!!!" + valid[4:],
		"base64 of pipes":     "YXxifGM=",
		"doubly quoted":       `""` + valid + `""`,
		"nul and high bytes":  "%00%ff",
		"other gateway's key": "MTc5NTM1NTQ0NXxYZkw2SFB3bnN1QS1Cd3pKWThnUmNlLWZBYVRxTlF6UFk0WHNEZUxjYzRpa3VLTEVQVzl2U1E9PXyciBzTbsh06xl7MR5XPS8nszoNUjrfXuIa9tvkluc6cg==",
	} {
		req, _ := http.NewRequest(http.MethodGet, base+"/", nil)
		req.Header.Set("Accept", "text/html")
		req.Header.Set("Cookie", "consentgate="+value)
		resp, body := do(t, newClient(t), req)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"decided":false`) || !hookPattern.MatchString(body) {
			t.Errorf("%s cookie: %d %.300s", name, resp.StatusCode, body)
		}
	}
	// The untouched cookie still counts.
	req, _ := http.NewRequest(http.MethodGet, base+"/", nil)
	req.Header.Set("Accept", "text/html")
	req.Header.Set("Cookie", "consentgate="+valid)
	if _, body := do(t, newClient(t), req); !strings.Contains(body, `"decided":true`) {
		t.Errorf("the valid cookie is not a decision: %.300s", body)
	}
}

// TestFormReturnStaysOnSite: the no-JavaScript form's return= target never
// becomes a redirect off the site, whatever its encoding.
func TestFormReturnStaysOnSite(t *testing.T) {
	base := startSite(t)
	for _, ret := range []string{
		"/%2Fevil.example/ x", // path "//evil.example/ x": must not come back as "//evil.example/%20x"
		"/%2F%2Fevil.example/%22",
		"/%2F/evil.example/ x",
		"/.//evil.example",
		"/%5Cevil.example/ x",
	} {
		form := url.Values{"action": {"reject_all"}, "return": {ret}}
		req, _ := http.NewRequest(http.MethodPost, base+"/.consent/choice", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", base)
		resp, body := do(t, newClient(t), req)
		if resp.StatusCode == http.StatusBadRequest {
			continue // refused: fine
		}
		loc := resp.Header.Get("Location")
		target, err := url.Parse(loc)
		if resp.StatusCode != http.StatusSeeOther || err != nil {
			t.Errorf("return %q: %d %q %s", ret, resp.StatusCode, loc, body)
			continue
		}
		page, _ := url.Parse(base + "/shop/item")
		if got := page.ResolveReference(target); got.Host != page.Host {
			t.Errorf("return %q redirects off the site: Location %q goes to %s", ret, loc, got)
		}
	}
}

// TestOversizedTagFailsClosed: judged start tags longer than the
// rewriter's TagLimit (here with 1 MB attributes) stream through the real
// gateway without being held, and fail closed: a Facebook pixel padded
// with a 1 MB attribute is neutralised, as is the tracker after it; an
// image whose src is a 1 MB data: URL is left as it is; the page streams
// on to its end and the hook is injected.
func TestOversizedTagFailsClosed(t *testing.T) {
	padded := `<img data-blob="` + strings.Repeat("x", 1<<20) + `" src="https://www.facebook.com/tr?id=1&ev=PageView">`
	image := `<img alt="chart" src="data:image/png;base64,` + strings.Repeat("iVBORw0K", 1<<17) + `">`
	page := "<!DOCTYPE html><html><head><title>t</title></head><body>\n" + padded + "\n" + image +
		"\n<script src=\"https://www.google-analytics.com/analytics.js\"></script>\n<p>end</p></body></html>\n"
	up := serveUpstream(t, map[string]http.HandlerFunc{"/big-tag.html": func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, page)
	}})
	port := freePort(t)
	startCaddy(t, fmt.Sprintf(":%d {\n\tconsent\n\treverse_proxy 127.0.0.1:%d\n}", port, up))
	resp, body := get(t, newClient(t), baseURL(port)+"/big-tag.html")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if live := liveTrackers([]byte(body)); len(live) > 0 {
		t.Errorf("trackers live in a page with oversized tags: %q", live)
	}
	if !strings.Contains(body, `" data-consent-purpose="marketing" data-consent-vendor="facebook-pixel" data-consent-src="https://www.facebook.com/tr?id=1&ev=PageView">`) {
		t.Error("the padded pixel is not neutralised in place")
	}
	if !strings.Contains(body, image) {
		t.Error("the data: image was changed")
	}
	if !strings.HasSuffix(body, "<p>end</p></body></html>\n") {
		t.Error("the page is cut short")
	}
	withoutHook(t, body)
}

// serveUpstream runs an in-process upstream with the given handlers and
// returns its port.
func serveUpstream(t *testing.T, handlers map[string]http.HandlerFunc) int {
	t.Helper()
	mux := http.NewServeMux()
	for path, h := range handlers {
		mux.HandleFunc(path, h)
	}
	return serveMux(t, mux)
}

// consentProxy starts a Caddy with a bare consent in front of mux and
// returns its base URL.
func consentProxy(t *testing.T, mux http.Handler) string {
	up := serveMux(t, mux)
	port := freePort(t)
	startCaddy(t, fmt.Sprintf(":%d {\n\tconsent\n\treverse_proxy 127.0.0.1:%d\n}", port, up))
	return baseURL(port)
}

// serveMux runs an in-process upstream and returns its port.
func serveMux(t *testing.T, mux http.Handler) int {
	t.Helper()
	port := freePort(t)
	srv := &http.Server{Addr: fmt.Sprintf("127.0.0.1:%d", port), Handler: mux}
	go srv.ListenAndServe()
	t.Cleanup(func() { srv.Close() })
	waitListening(t, port)
	return port
}

// streamBlock is 64 KiB of page: a tracker the gateway must neutralise, then
// text, whose first KiB (noise) differs from block to block, so that a
// compressed stream stays well under the gateway's decompression-ratio
// limit.
var streamBlock = func() []byte {
	b := []byte("<script src=\"https://www.google-analytics.com/analytics.js\"></script>\n<p>")
	for len(b) < 64<<10-len("</p>\n") {
		b = append(b, "Fine goods, fairly priced. "...)
	}
	b = b[:64<<10-len("</p>\n")]
	return append(b, "</p>\n"...)
}()

const (
	streamHead  = "<!DOCTYPE html><html><head><title>big</title></head><body>\n"
	noiseOffset = 80 // inside the <p>, after the tracker
	noiseLen    = 1 << 10
)

// pageStream writes the streamed page: a fresh copy of the block with new
// noise for every write.
type pageStream struct {
	w     io.Writer
	block []byte
	rng   *rand.ChaCha8
}

func newPageStream(w io.Writer) *pageStream {
	return &pageStream{w: w, block: slices.Clone(streamBlock), rng: rand.NewChaCha8([32]byte{})}
}

func (s *pageStream) writeBlock() error {
	noise := s.block[noiseOffset : noiseOffset+noiseLen]
	s.rng.Read(noise)
	for i, c := range noise {
		noise[i] = 'a' + c%26
	}
	_, err := s.w.Write(s.block)
	return err
}

// streamingUpstream serves /huge.<enc> (streamHead, then n blocks, then the
// end of the page) and /endless.<enc> (blocks until the client goes away),
// where enc is html (identity) or zst (zstd, which the gateway decodes
// itself). Each endless request reports on done when its handler returns,
// with the request context's error.
func streamingUpstream(t *testing.T, blocks int, done chan<- error) int {
	page := func(endless bool) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if endless {
				defer func() { done <- r.Context().Err() }()
			}
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			var out io.Writer = w
			if strings.HasSuffix(r.URL.Path, ".zst") {
				w.Header().Set("Content-Encoding", "zstd")
				zw, err := zstd.NewWriter(w, zstd.WithEncoderConcurrency(1), zstd.WithEncoderLevel(zstd.SpeedFastest))
				if err != nil {
					panic(err)
				}
				defer zw.Close()
				out = zw
			}
			io.WriteString(out, streamHead)
			s := newPageStream(out)
			for i := 0; endless || i < blocks; i++ {
				if err := s.writeBlock(); err != nil {
					return
				}
			}
			io.WriteString(out, "</body></html>\n")
		}
	}
	return serveUpstream(t, map[string]http.HandlerFunc{
		"/huge.html": page(false), "/huge.zst": page(false),
		"/endless.html": page(true), "/endless.zst": page(true),
	})
}

// oneShotClient uses a connection per request, so nothing stays behind.
func oneShotClient() *http.Client {
	return &http.Client{Transport: &http.Transport{DisableKeepAlives: true, DisableCompression: true}}
}

func streamRequest(t *testing.T, url string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Accept", "text/html")
	resp, err := oneShotClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: status %d", url, resp.StatusCode)
	}
	return resp
}

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

func totalAlloc() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.TotalAlloc
}

// TestHugePageInBoundedMemory: a 100 MiB page streams through Caddy's
// reverse_proxy and the gateway, rewritten as it goes (each 64 KiB block's
// tracker neutralised), plain and zstd-compressed (decoded by the
// gateway), without the process's live heap growing by more than 16 MiB
// at any point.
func TestHugePageInBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 100 MiB")
	}
	const blocks = 1600 // 100 MiB
	up := streamingUpstream(t, blocks, nil)
	port := freePort(t)
	startCaddy(t, fmt.Sprintf(":%d {\n\tconsent\n\treverse_proxy 127.0.0.1:%d\n}", port, up))
	for _, path := range []string{"/huge.html", "/huge.zst"} {
		t.Run(path, func(t *testing.T) {
			// Two baselines: before the request, and once it streams (after
			// its fixed costs: buffers, and for zstd the gateway's decoder
			// window and the test upstream's encoder, which share this
			// process's heap).
			before, alloc0 := heapInUse(), totalAlloc()
			resp := streamRequest(t, baseURL(port)+path)
			defer resp.Body.Close()
			base := heapInUse()
			var peak, n uint64
			blocked := 0
			marker := []byte(`data-consent-src="https://www.google-analytics.com/analytics.js"`)
			// The scan keeps the end of the last read in front of the
			// next, so a marker split between reads is counted; nothing is
			// allocated per read.
			keep := len(marker) - 1
			scan := make([]byte, keep+64<<10)
			carried := 0
			for next := uint64(0); ; {
				k, err := resp.Body.Read(scan[carried:])
				n += uint64(k)
				chunk := scan[:carried+k]
				blocked += bytes.Count(chunk, marker)
				carried = copy(scan, chunk[max(0, len(chunk)-keep):])
				if n >= next {
					peak = max(peak, heapInUse())
					next += 8 << 20
				}
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("after %d bytes: %v", n, err)
				}
			}
			allocated := totalAlloc() - alloc0
			growth := int64(peak) - int64(base)
			t.Logf("streamed %d MiB: live heap %d MiB before the request, %+d KiB once streaming, peak growth while streaming %+d KiB; allocated %d KiB in all (%.1f KiB per MiB)",
				n>>20, before>>20, (int64(base)-int64(before))>>10, growth>>10, allocated>>10, float64(allocated>>10)/float64(n>>20))
			if want := uint64(blocks) * 64 << 10; n < want {
				t.Fatalf("got %d bytes, want at least %d", n, want)
			}
			if blocked != blocks {
				t.Errorf("%d trackers neutralised, want %d", blocked, blocks)
			}
			if growth > 16<<20 {
				t.Errorf("live heap grew by %d MiB while streaming", growth>>20)
			}
			if whole := int64(peak) - int64(before); path == "/huge.html" && whole > 16<<20 {
				t.Errorf("live heap grew by %d MiB for the request", whole>>20)
			}
			// Generous: the gateway may allocate per write, but not per byte.
			if allocated > n/4 {
				t.Errorf("allocated %d MiB to stream %d MiB", allocated>>20, n>>20)
			}
		})
	}
}

// TestEndlessPageStopsWithTheClient: a page that never ends streams until
// the client goes away; then the upstream's request is cancelled, its
// handler returns, and every goroutine of the request ends (the zstd
// variant has the gateway's decoding goroutine too).
func TestEndlessPageStopsWithTheClient(t *testing.T) {
	done := make(chan error, 4)
	up := streamingUpstream(t, 1, done)
	port := freePort(t)
	startCaddy(t, fmt.Sprintf(":%d {\n\tconsent\n\treverse_proxy 127.0.0.1:%d\n}", port, up))
	for _, enc := range []string{"html", "zst"} {
		t.Run(enc, func(t *testing.T) {
			// Warm up (pools, lazily started goroutines), then take the
			// baseline.
			warm := streamRequest(t, baseURL(port)+"/huge."+enc)
			io.Copy(io.Discard, warm.Body)
			warm.Body.Close()
			baseline := settledGoroutines()

			resp := streamRequest(t, baseURL(port)+"/endless."+enc)
			n, err := io.CopyN(io.Discard, resp.Body, 50<<20)
			if err != nil {
				t.Fatalf("read %d bytes: %v", n, err)
			}
			resp.Body.Close()

			select {
			case err := <-done:
				if err == nil {
					t.Error("the upstream handler returned, but its request was not cancelled")
				}
			case <-time.After(10 * time.Second):
				t.Fatal("the upstream still writes 10 s after the client left")
			}
			waitGoroutines(t, baseline)
		})
	}
}

// TestSlowClientIsCutOff: a client that reads one byte a second does not
// hold the request (and the upstream) forever: Caddy's write_idle timeout
// (default 1m, 64 KiB write chunks, here 2s) fails the gateway's write
// once the socket buffers are full, the proxy cancels the upstream and
// everything ends. A client that reads steadily (4 MiB/s; the kernel wakes
// a blocked write only once half the send buffer has drained, so a few
// KB/s are not enough) beats the idle timeout and is served on;
// write_idle's minimum rate (here 32 MiB/s) cuts it off. Set
// CONSENTGATE_SLOW_TESTS=1 to check Caddy's default as well (takes over a
// minute).
func TestSlowClientIsCutOff(t *testing.T) {
	type reader struct {
		chunk  int
		every  time.Duration
		buffer int // the socket's receive buffer (0: the system's)
	}
	// A small buffer fills at once; a steady reader keeps the system's,
	// as a tiny receive window stalls loopback TCP.
	byteASecond, steady := reader{1, time.Second, 4 << 10}, reader{64 << 10, 15 * time.Millisecond, 0}
	cases := []struct {
		name, timeouts string
		read           reader
		cut            bool // else the client must still be served after holdFor
	}{
		{"write_idle 2s, a byte a second", "write_idle 2s", byteASecond, true},
		{"write_idle 3s, 4 MiB/s", "write_idle 3s", steady, false},
		{"write_idle 3s at least 32 MiB/s, 4 MiB/s", "write_idle 3s 33554432", steady, true},
	}
	if os.Getenv("CONSENTGATE_SLOW_TESTS") != "" {
		cases = append(cases, struct {
			name, timeouts string
			read           reader
			cut            bool
		}{"caddy defaults", "", byteASecond, true})
	}
	const holdFor = 6 * time.Second
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			done := make(chan error, 4)
			up := streamingUpstream(t, 1, done)
			port := freePort(t)
			timeouts := ""
			if tc.timeouts != "" {
				timeouts = "\t\ttimeouts {\n\t\t\t" + tc.timeouts + "\n\t\t}\n"
			}
			gatewaytest.Start(t, fmt.Sprintf("{\n\tadmin off\n\tauto_https off\n\tpersist_config off\n\tlog {\n\t\tlevel ERROR\n\t}\n\tservers {\n%s\t}\n}\n"+
				":%d {\n\tconsent\n\treverse_proxy 127.0.0.1:%d\n}\n", timeouts, port, up))
			baseline := settledGoroutines()

			conn := slowReader(t, port, "/endless.html", tc.read.buffer)
			var read atomic.Int64
			stop := make(chan struct{})
			go func() {
				b := make([]byte, tc.read.chunk)
				for {
					select {
					case <-stop:
						return
					case <-time.After(tc.read.every):
					}
					n, err := io.ReadFull(conn, b)
					read.Add(int64(n))
					if err != nil {
						return
					}
				}
			}()
			limit := 30 * time.Second
			switch {
			case tc.timeouts == "":
				limit = 2 * time.Minute
			case !tc.cut:
				limit = holdFor
			}
			start := time.Now()
			select {
			case <-done:
				if !tc.cut {
					t.Fatalf("a client reading %d bytes every %s was cut off after %s (read %d bytes)", tc.read.chunk, tc.read.every, time.Since(start).Round(time.Second), read.Load())
				}
				t.Logf("upstream released after %s (client read %d bytes)", time.Since(start).Round(time.Second), read.Load())
			case <-time.After(limit):
				if tc.cut {
					t.Fatalf("a client reading %d bytes every %s still holds the upstream after %s", tc.read.chunk, tc.read.every, limit)
				}
				t.Logf("still served after %s (client read %d bytes)", limit, read.Load())
			}
			close(stop)
			conn.Close()
			if !tc.cut {
				<-done // the client left: the upstream is cancelled
			}
			waitGoroutines(t, baseline)
		})
	}
}

// TestSlowUploadIsCutOff: a client that trickles a choice or a CSP report
// body, a byte a second (each byte restarts Caddy's read idle timeout, 1
// minute by default), is answered 408 once the gateway's 10 s for a body
// have passed, and the connection is let go. A post to a consent path that
// takes no body is answered at once and the connection closed: net/http
// would otherwise read the rest of the body before answering, for as long
// as the client takes to send it.
func TestSlowUploadIsCutOff(t *testing.T) {
	base, _ := startCSPSite(t, "", "", "csp report_only")
	host := strings.TrimPrefix(base, "http://")
	postChoice(t, newClient(t), base, `{"all":false}`) // warm up before the baseline
	baseline := settledGoroutines()
	type answer struct {
		path, status, body string
		after              time.Duration
		err                error
	}
	answers := make(chan answer)
	paths := map[string]string{"/.consent/choice": "application/json", "/.consent/csp-report": "application/csp-report",
		"/.consent/nothing": "application/json", "/.consent/state": "application/json", "/.consent/proofs": "application/json"}
	answeredAtOnce := map[string]string{"/.consent/nothing": "404", "/.consent/state": "405", "/.consent/proofs": "405"}
	for path, ctype := range paths {
		go func() {
			a := answer{path: path}
			defer func() { answers <- a }()
			conn, err := net.Dial("tcp", host)
			if a.err = err; err != nil {
				return
			}
			defer conn.Close()
			fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nOrigin: %s\r\nContent-Type: %s\r\nContent-Length: 4096\r\n\r\n{", path, host, base, ctype)
			start := time.Now()
			stop := make(chan struct{})
			defer close(stop)
			go func() {
				for {
					select {
					case <-stop:
						return
					case <-time.After(time.Second):
					}
					if _, err := conn.Write([]byte(" ")); err != nil {
						return
					}
				}
			}()
			conn.SetReadDeadline(start.Add(40 * time.Second))
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			a.after = time.Since(start)
			if a.err = err; err != nil {
				return
			}
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			a.status, a.body = resp.Proto+" "+resp.Status, string(body)
		}()
	}
	for range paths {
		a := <-answers
		if want, ok := answeredAtOnce[a.path]; ok {
			if a.err != nil || !strings.HasPrefix(a.status, "HTTP/1.1 "+want+" ") || a.after > 5*time.Second {
				t.Errorf("%s: %q %v after %s, want %s at once", a.path, a.status, a.err, a.after.Round(time.Second), want)
			}
			continue
		}
		switch {
		case a.err != nil:
			t.Errorf("%s: no answer to a trickled body after %s: %v", a.path, a.after.Round(time.Second), a.err)
		case !strings.HasPrefix(a.status, "HTTP/1.1 408 "):
			t.Errorf("%s: answered %q to a trickled body, want 408", a.path, strings.TrimSpace(a.status))
		case !strings.Contains(a.body, "did not arrive in time") || strings.Contains(a.body, "127.0.0.1"):
			t.Errorf("%s: the 408 must say what happened without naming the sockets: %s", a.path, a.body)
		case a.after < 9*time.Second || a.after > 20*time.Second:
			t.Errorf("%s: answered after %s, want about 10 s", a.path, a.after.Round(time.Second))
		default:
			t.Logf("%s: %s after %s", a.path, strings.TrimSpace(a.status), a.after.Round(100*time.Millisecond))
		}
	}
	waitGoroutines(t, baseline)
	postChoice(t, newClient(t), base, `{"all":true}`) // still serving
}

// slowReader sends a page request on a connection with the given receive
// buffer (0: the system's) and returns without reading the response.
func slowReader(t *testing.T, port int, path string, buffer int) *net.TCPConn {
	t.Helper()
	c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	conn := c.(*net.TCPConn)
	if buffer > 0 {
		conn.SetReadBuffer(buffer)
	}
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAccept: text/html\r\n\r\n", path, port)
	return conn
}

// settledGoroutines waits for the goroutine count to stop changing and
// returns it.
func settledGoroutines() int {
	n := runtime.NumGoroutine()
	for i := 0; i < 50; i++ {
		time.Sleep(100 * time.Millisecond)
		m := runtime.NumGoroutine()
		if m == n && i >= 5 {
			break
		}
		n = m
	}
	return n
}

// waitGoroutines waits (up to 10 s) for the goroutine count to come back
// to the baseline, and dumps the goroutines if it does not.
func waitGoroutines(t *testing.T, baseline int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > baseline {
		if time.Now().After(deadline) {
			var b bytes.Buffer
			pprof.Lookup("goroutine").WriteTo(&b, 1)
			t.Fatalf("%d goroutines 10 s after the request ended, %d before:\n%s", runtime.NumGoroutine(), baseline, b.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestRepeatedVendorInFormChoice: a form naming one vendor a thousand times
// (well under the body limit) is one choice, or a refusal: never a cookie
// too long to encode, answered with 500 after its proof was recorded.
func TestRepeatedVendorInFormChoice(t *testing.T) {
	base := startSite(t)
	body := "action=save&return=/" + strings.Repeat("&vendor=youtube", 1000)
	req, _ := http.NewRequest(http.MethodPost, base+"/.consent/choice", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	resp, out := do(t, newClient(t), req)
	if resp.StatusCode != http.StatusSeeOther && resp.StatusCode != http.StatusBadRequest {
		t.Errorf("status %d %q, want 303 (one choice) or 400", resp.StatusCode, out)
	}
}

// TestCompressedPageWindowBounded: a zstd page whose frame declares a 64 MiB
// window (the decoder's default limit is 512 MiB) must not make the
// gateway hold that window: HTTP's zstd content coding caps it at 8 MiB
// (RFC 9659), as browsers do. The page may be cut off; the gateway's heap
// must not grow by more than 16 MiB.
func TestCompressedPageWindowBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("decodes 100 MiB")
	}
	var body bytes.Buffer
	zw, err := zstd.NewWriter(&body, zstd.WithWindowSize(64<<20), zstd.WithEncoderConcurrency(1), zstd.WithEncoderLevel(zstd.SpeedFastest))
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(zw, streamHead)
	s := newPageStream(zw)
	for i := 0; i < 1600; i++ {
		s.writeBlock()
	}
	zw.Close()
	compressed := body.Bytes()
	up := serveUpstream(t, map[string]http.HandlerFunc{"/wide.zst": func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("Content-Encoding", "zstd")
		w.Write(compressed)
	}})
	port := freePort(t)
	startCaddy(t, fmt.Sprintf(":%d {\n\tconsent\n\treverse_proxy 127.0.0.1:%d\n}", port, up))

	before := heapInUse()
	resp := streamRequest(t, baseURL(port)+"/wide.zst")
	defer resp.Body.Close()
	var peak uint64
	buf := make([]byte, 64<<10)
	n := 0
	for next := 0; ; {
		k, err := resp.Body.Read(buf)
		n += k
		if n >= next {
			peak = max(peak, heapInUse())
			next += 4 << 20
		}
		if err != nil {
			break
		}
	}
	t.Logf("read %d MiB of the page; live heap %d MiB before, peak %+d MiB", n>>20, before>>20, (int64(peak)-int64(before))>>20)
	if growth := int64(peak) - int64(before); growth > 16<<20 {
		t.Errorf("the gateway's heap grew by %d MiB for one zstd page with a 64 MiB window", growth>>20)
	}
}

// TestReloadKeepsInFlightPages: a page still streaming when the
// configuration is reloaded is served to its end, rewritten as it started.
func TestReloadKeepsInFlightPages(t *testing.T) {
	release := make(chan struct{})
	up := serveUpstream(t, map[string]http.HandlerFunc{"/slow.html": func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, "<html><head><title>slow</title></head><body>"+strings.Repeat("<p>first part</p>", 4000))
		w.(http.Flusher).Flush()
		<-release
		io.WriteString(w, `<script src="https://connect.facebook.net/en_US/fbevents.js"></script><p>the end</p></body></html>`)
	}})
	port := freePort(t)
	config := func(header string) string {
		return fmt.Sprintf(":%d {\n\theader X-Config %s\n\tconsent\n\treverse_proxy 127.0.0.1:%d\n}", port, header, up)
	}
	startCaddy(t, config("one"))
	resp, err := http.Get(baseURL(port) + "/slow.html")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	first := make([]byte, 1024)
	if _, err := io.ReadFull(resp.Body, first); err != nil {
		t.Fatalf("first part: %v", err)
	}
	startCaddy(t, config("two")) // a graceful reload while the page is in flight
	close(release)
	rest, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("the page was cut by the reload: %v", err)
	}
	body := string(first) + string(rest)
	if !strings.HasSuffix(body, "<p>the end</p></body></html>") || !strings.Contains(body, `data-consent-vendor="facebook-pixel"`) {
		t.Errorf("the in-flight page did not end rewritten: ...%s", body[max(0, len(body)-300):])
	}
	if r2, _ := get(t, newClient(t), baseURL(port)+"/slow.html"); r2.Header.Get("X-Config") != "two" {
		t.Errorf("the reload did not take effect for new requests")
	}
}

// TestPrivacySignalsReachUpstream: the gateway honours Sec-GPC and DNT and
// passes them upstream untouched, so the site can honour them too.
func TestPrivacySignalsReachUpstream(t *testing.T) {
	seen := make(chan [2]string, 1)
	up := serveUpstream(t, map[string]http.HandlerFunc{"/": func(w http.ResponseWriter, r *http.Request) {
		seen <- [2]string{r.Header.Get("Sec-GPC"), r.Header.Get("DNT")}
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, "<html><head></head><body>ok</body></html>")
	}})
	port := freePort(t)
	startCaddy(t, fmt.Sprintf(":%d {\n\tconsent\n\treverse_proxy 127.0.0.1:%d\n}", port, up))
	if resp, _ := get(t, newClient(t), baseURL(port)+"/", "Sec-GPC", "1", "DNT", "1"); resp.StatusCode != 200 {
		t.Fatalf("page: %d", resp.StatusCode)
	}
	if got := <-seen; got != [2]string{"1", "1"} {
		t.Errorf("upstream saw Sec-GPC %q and DNT %q, want both 1", got[0], got[1])
	}
}
