package browsertest

import (
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// hit is one request a page made to a third party, as the recorder saw it.
type hit struct {
	Scheme  string
	Method  string
	Host    string // without port
	Path    string
	Query   string
	Dest    string   // Sec-Fetch-Dest, or a guess from the path on plain http
	Cookies []string // names of the cookies the browser sent along
	Referer string
	At      time.Time
}

func (h hit) String() string {
	s := h.Method + " " + h.Scheme + "://" + h.Host + h.Path
	if h.Query != "" {
		s += "?" + h.Query
	}
	s += " (" + h.Dest
	if len(h.Cookies) > 0 {
		s += ", cookies " + strings.Join(h.Cookies, " ")
	}
	return s + ")"
}

// recorder stands in for every third-party server on the internet. The
// browser resolves every host but 127.0.0.1 to it (--host-resolver-rules):
// port 443 to an HTTPS listener with a self-signed certificate (the browser
// ignores certificate errors), port 80 to a plain one. It records what each
// request asked for and answers it plausibly: a script that notes that it ran
// (window.__tracked) and, for Google Analytics, sets the _ga cookie; a 1x1 GIF
// for images; a small page for frames; an empty CORS-enabled answer for
// fetch, XHR and beacons.
type recorder struct {
	plain, tls *httptest.Server

	mu    sync.Mutex
	hits  []hit
	noise []hit                    // the browser's own requests (component updates and the like), ignored
	held  map[string]chan struct{} // query substring → closed once its answers may go (holdAnswers)
}

func startRecorder() *recorder {
	r := &recorder{}
	quiet := log.New(io.Discard, "", 0) // browsers drop connections they do not need
	r.plain = httptest.NewUnstartedServer(r)
	r.plain.Config.ErrorLog = quiet
	r.plain.Start()
	r.tls = httptest.NewUnstartedServer(r)
	r.tls.Config.ErrorLog = quiet
	r.tls.EnableHTTP2 = true
	r.tls.StartTLS()
	return r
}

func (r *recorder) Close() {
	r.plain.Close()
	r.tls.Close()
}

func port(s *httptest.Server) int {
	return s.Listener.Addr().(*net.TCPAddr).Port
}

// resolverRules is Chromium's --host-resolver-rules value that sends every
// host but the loopback gateway to the recorder. A MAP pattern with a port
// only matches that port, and the replacement's port is the one dialled.
// Hosts on other ports do not resolve at all (so the page cannot reach the
// real internet by accident); the page's network log still shows them.
func (r *recorder) resolverRules() string {
	return fmt.Sprintf("MAP *:443 127.0.0.1:%d, MAP *:80 127.0.0.1:%d, MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
		port(r.tls), port(r.plain))
}

// Reset forgets every request seen so far.
func (r *recorder) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.hits, r.noise = nil, nil
}

// Hits returns the requests pages made, in arrival order.
func (r *recorder) Hits() []hit {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.hits)
}

// Noise returns the browser's own background requests the recorder ignored.
func (r *recorder) Noise() []hit {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.noise)
}

// holdAnswers makes the recorder keep back its answer to every request
// whose query contains key (the request itself is recorded at once) until
// release is called, at the latest when the test ends: a test can then show
// that nothing waits for that answer.
func (r *recorder) holdAnswers(t *testing.T, key string) (release func()) {
	ch := make(chan struct{})
	var once sync.Once
	release = func() { once.Do(func() { close(ch) }) }
	r.mu.Lock()
	if r.held == nil {
		r.held = map[string]chan struct{}{}
	}
	r.held[key] = ch
	r.mu.Unlock()
	t.Cleanup(func() {
		release()
		r.mu.Lock()
		delete(r.held, key)
		r.mu.Unlock()
	})
	return release
}

// heldFor is the channel a request with this query must wait for, or nil.
func (r *recorder) heldFor(query string) chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	for key, ch := range r.held {
		if strings.Contains(query, key) {
			return ch
		}
	}
	return nil
}

// fromPage tells a request a web page made from one the browser makes on its
// own behalf (component updates, network time, account checks): those carry
// "Sec-Fetch-Site: none" over https, and neither a Referer nor an Origin.
func fromPage(req *http.Request) bool {
	if req.Header.Get("Sec-Fetch-Site") == "none" {
		return false
	}
	return req.Referer() != "" || req.Header.Get("Origin") != "" || req.Header.Get("Sec-Fetch-Site") != ""
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	h := hit{
		Scheme: "http",
		Method: req.Method,
		Host:   stripPort(req.Host),
		Path:   req.URL.Path,
		Query:  req.URL.RawQuery,
		Dest:   req.Header.Get("Sec-Fetch-Dest"),
		At:     time.Now(),
	}
	if req.TLS != nil {
		h.Scheme = "https"
	}
	if h.Dest == "" {
		h.Dest = guessDest(req.URL.Path)
	}
	for _, c := range req.Cookies() {
		h.Cookies = append(h.Cookies, c.Name)
	}
	h.Referer = req.Referer()
	r.mu.Lock()
	if fromPage(req) {
		r.hits = append(r.hits, h)
	} else {
		r.noise = append(r.noise, h)
	}
	r.mu.Unlock()
	if ch := r.heldFor(h.Query); ch != nil {
		select {
		case <-ch:
		case <-req.Context().Done():
			return
		}
	}

	if origin := req.Header.Get("Origin"); origin != "" {
		w.Header().Set("Access-Control-Allow-Origin", origin)
		w.Header().Set("Access-Control-Allow-Credentials", "true")
	}
	w.Header().Set("Cache-Control", "no-store")
	id := h.Host + h.Path
	switch h.Dest {
	case "script":
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		fmt.Fprintf(w, "window.__tracked = (window.__tracked || []).concat([%s]);\n", strconv.Quote(id))
		fmt.Fprint(w, vendorScript(h.Host, h.Path))
	case "image":
		w.Header().Set("Content-Type", "image/gif")
		w.Write(gif1x1)
	case "iframe", "frame", "document":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "<!DOCTYPE html><html lang=en><title>%s</title><p>Content from %s</p><script>window.__tracked=[%s]</script></html>", id, h.Host, strconv.Quote(id))
	case "style":
		w.Header().Set("Content-Type", "text/css")
		fmt.Fprintf(w, "/* %s */\n", id)
	default: // fetch, XHR, beacons
		w.WriteHeader(http.StatusNoContent)
	}
}

// vendorScript is what a vendor's script does beyond noting that it ran.
func vendorScript(host, path string) string {
	switch {
	case strings.HasSuffix(host, "googletagmanager.com") && strings.HasPrefix(path, "/gtag/js"),
		strings.HasSuffix(host, "google-analytics.com"):
		// The Google tag: it sees the dataLayer as it is when it runs, and
		// sets its first-party cookie.
		return `window.__gtagSaw = window.__gtagSaw || (window.dataLayer || []).slice();
document.cookie = '_ga=GA1.1.' + Math.floor(Math.random() * 1e9) + '.1700000000; Path=/; Max-Age=63072000; SameSite=Lax';
`
	case strings.HasSuffix(host, "gstatic.com") && strings.Contains(path, "/firebasejs/"):
		// Enough of Firebase for the shop's inline setup to run.
		return `window.firebase = window.firebase || {initializeApp: function () {}, messaging: function () {
  return {getToken: function () { return Promise.resolve(''); }};
}};
`
	}
	return ""
}

func guessDest(path string) string {
	p := strings.ToLower(path)
	switch {
	case strings.HasSuffix(p, ".js"):
		return "script"
	case strings.HasSuffix(p, ".css"):
		return "style"
	case strings.HasSuffix(p, ".gif"), strings.HasSuffix(p, ".png"), strings.HasSuffix(p, ".jpg"),
		strings.HasSuffix(p, ".svg"), strings.HasSuffix(p, ".webp"), p == "/tr", strings.HasPrefix(p, "/tr/"):
		return "image"
	}
	return "document"
}

func stripPort(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return hostport
}

// gif1x1 is a transparent 1x1 GIF.
var gif1x1 = []byte{
	0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
	0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00,
	0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b,
}
