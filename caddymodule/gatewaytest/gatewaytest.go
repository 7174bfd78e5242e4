// Package gatewaytest runs a real Caddy with the consent module in the test
// process, from a Caddyfile, and talks to it like a browser. It is for tests
// only; one Caddy runs per process, so tests using it must not run in
// parallel.
package gatewaytest

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	_ "github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile" // the Caddyfile adapter
	_ "github.com/caddyserver/caddy/v2/modules/standard"          // reverse_proxy, file_server, ...

	_ "github.com/consentgate/consentgate/caddymodule" // the consent directive
)

// IsolateDataDirs points Caddy's data and config directories (generated
// cookie keys, certificates, autosaved config) at a fresh temporary
// directory; call it from TestMain and remove the directory afterwards.
func IsolateDataDirs() (dir string, err error) {
	dir, err = os.MkdirTemp("", "consentgate-test-")
	if err != nil {
		return "", err
	}
	os.Setenv("XDG_DATA_HOME", dir)
	os.Setenv("XDG_CONFIG_HOME", dir)
	// Caddy set its default storage (certificates, its internal CA) from
	// the environment as it started: follow the new data directory.
	caddy.DefaultStorage.Path = caddy.AppDataDir()
	return dir, nil
}

// RunIsolated runs a test binary's tests with Caddy's data and config in a
// throw-away directory (see IsolateDataDirs); call it from TestMain as
// os.Exit(gatewaytest.RunIsolated(m)).
func RunIsolated(m *testing.M) int {
	dir, err := IsolateDataDirs()
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	return m.Run()
}

// Adapt turns a Caddyfile into JSON config.
func Adapt(caddyfile string) ([]byte, error) {
	cfg, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(caddyfile), map[string]any{"filename": "Caddyfile"})
	return cfg, err
}

// Start runs Caddy with a whole Caddyfile and stops it when the test ends.
func Start(t testing.TB, caddyfile string) {
	t.Helper()
	cfg, err := Adapt(caddyfile)
	if err != nil {
		t.Fatalf("adapting Caddyfile: %v\n%s", err, caddyfile)
	}
	StartJSON(t, cfg)
}

// StartJSON runs Caddy with a JSON config (for what the Caddyfile cannot
// say) and stops it when the test ends.
func StartJSON(t testing.TB, cfg []byte) {
	t.Helper()
	if err := caddy.Load(cfg, true); err != nil {
		t.Fatalf("loading config: %v", err)
	}
	t.Cleanup(func() { _ = caddy.Stop() })
}

// StartSites runs Caddy with the given site blocks, behind global options
// that turn off the admin endpoint, automatic HTTPS and config autosave.
func StartSites(t testing.TB, siteBlocks string) {
	t.Helper()
	Start(t, Globals(0)+siteBlocks)
}

// Globals is the global options block of a test gateway: no automatic
// HTTPS, no config autosave, errors only in the log, and the admin endpoint
// on localhost:adminPort, or off for 0.
func Globals(adminPort int) string {
	return globals(adminPort, "\t\tlevel ERROR\n")
}

// GlobalsLogging is Globals with the log at INFO, as JSON lines, in
// logFile: for tests that check what the gateway logs.
func GlobalsLogging(adminPort int, logFile string) string {
	return globals(adminPort, fmt.Sprintf("\t\toutput file %s\n\t\tformat json\n\t\tlevel INFO\n", logFile))
}

func globals(adminPort int, log string) string {
	admin := "off"
	if adminPort != 0 {
		admin = fmt.Sprintf("localhost:%d", adminPort)
	}
	return "{\n\tadmin " + admin + "\n\tauto_https off\n\tpersist_config off\n\tlog {\n" + log + "\t}\n}\n"
}

// FreePort finds a loopback port nobody listens on, and that this process
// has not handed out before. Each probe's socket is closed before the next
// probe, so two calls in a row (a site's port and its admin port) could
// get the same port; and Caddy binds with SO_REUSEPORT (for graceful
// reloads), so both servers would bind it and the kernel would share its
// connections between them (a choice POST answered "404 page not found"
// by the admin endpoint).
func FreePort(t testing.TB) int {
	t.Helper()
	portsMu.Lock()
	defer portsMu.Unlock()
	for {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if !portsGiven[port] {
			portsGiven[port] = true
			return port
		}
	}
}

var (
	portsMu    sync.Mutex
	portsGiven = map[int]bool{}
)

// WaitListening waits until a server accepts connections on the port.
func WaitListening(t testing.TB, port int) {
	t.Helper()
	for i := 0; i < 250; i++ {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("nothing listens on port %d", port)
}

// BaseURL is the http URL of a loopback port.
func BaseURL(port int) string { return fmt.Sprintf("http://127.0.0.1:%d", port) }

// NewClient is a browser-like client: a cookie jar, no redirects followed,
// no transparent decompression.
func NewClient(t testing.TB) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{
		Jar:       jar,
		Timeout:   20 * time.Second,
		Transport: &http.Transport{DisableCompression: true},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// Get fetches a URL as a browser navigation does; headers are name, value
// pairs.
func Get(t testing.TB, c *http.Client, url string, headers ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return Do(t, c, req)
}

// Do sends a request and reads the whole answer. A request whose
// connection is closed unanswered is sent once more, as browsers do for a
// GET: right after a test loads a new config, the old config's server may
// still accept a connection and then close it unread as Caddy shuts that
// server down (a race Caddy's own reload leaves open), which says nothing
// about the gateway. Nothing was read, so nothing was recorded: a POST is
// sent again too, its body read again from GetBody (NewRequest sets it for
// a strings.Reader or bytes.Reader).
func Do(t testing.TB, c *http.Client, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := c.Do(req)
	if unanswered(err) && (req.Body == nil || req.GetBody != nil) {
		if req.GetBody != nil {
			req.Body, _ = req.GetBody()
		}
		resp, err = c.Do(req)
	}
	return readAll(t, req, resp, err)
}

// unanswered reports whether a request's connection was closed before any
// answer came. net/http says "server closed idle connection" (an error it
// does not export) when the server closed a kept-alive connection just as
// the request went out on it; it resends only a GET itself.
func unanswered(err error) bool {
	return err != nil && (errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) ||
		strings.Contains(err.Error(), "http: server closed idle connection"))
}

func readAll(t testing.TB, req *http.Request, resp *http.Response, err error) (*http.Response, string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading %s: %v", req.URL, err)
	}
	return resp, string(body)
}

// PostChoice posts a JSON choice as the banner does and fails the test
// unless it is accepted.
func PostChoice(t testing.TB, c *http.Client, base, body string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/.consent/choice", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", base)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, out := Do(t, c, req)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("choice %s: %d %s", body, resp.StatusCode, out)
	}
}

// HookPattern matches the banner hook the gateway injects before </head>.
var HookPattern = regexp.MustCompile(`<link rel="stylesheet" href="/\.consent/banner\.[0-9a-f]+\.css"(?: nonce="[^"]*")? /><script type="application/json" id="consentgate-config">[^<]*</script><script defer="" src="/\.consent/banner\.[0-9a-f]+\.js"(?: nonce="[^"]*")?></script>`)

// EarlyPattern matches what the gateway injects first into the head: the
// Consent Mode default (when on) and the shim.
var EarlyPattern = regexp.MustCompile(`(?:<script(?: nonce="[^"]*")?>window\.dataLayer[^<]*</script>)?<script src="/\.consent/shim\.[0-9a-f]+\.js"(?: nonce="[^"]*")? data-cg-granted="[^"]*" data-cg-vendors="[^"]*"></script>`)

// NoscriptPattern matches the banner form for visitors without JavaScript,
// injected after <body> until they decide.
var NoscriptPattern = regexp.MustCompile(`<noscript><form class="cg-noscript"[^>]*>.*?</form></noscript>`)

// WithoutHook removes everything the gateway injects (early scripts, hook,
// no-JavaScript form), failing the test unless there is exactly one early
// block and one hook, and at most one form.
func WithoutHook(t testing.TB, body string) string {
	t.Helper()
	if n := len(HookPattern.FindAllStringIndex(body, -1)); n != 1 {
		t.Fatalf("want exactly one banner hook, found %d", n)
	}
	if n := len(EarlyPattern.FindAllStringIndex(body, -1)); n != 1 {
		t.Fatalf("want exactly one early shim, found %d", n)
	}
	if n := len(NoscriptPattern.FindAllStringIndex(body, -1)); n > 1 {
		t.Fatalf("want at most one no-JavaScript form, found %d", n)
	}
	body = HookPattern.ReplaceAllString(body, "")
	body = EarlyPattern.ReplaceAllString(body, "")
	return NoscriptPattern.ReplaceAllString(body, "")
}

// Stop stops the running Caddy now (to flush its logs, say).
func Stop(t testing.TB) {
	t.Helper()
	if err := caddy.Stop(); err != nil {
		t.Fatalf("stopping Caddy: %v", err)
	}
}
