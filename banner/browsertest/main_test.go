package browsertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/consentgate/consentgate/caddymodule/gatewaytest"
)

// One Chromium and one tracker recorder serve every test of the binary; each
// test gets its own gateway and its own browser context (its own cookies,
// cache and storage, like a fresh incognito window).
var (
	browserCtx context.Context
	trackers   *recorder
	// setupErr is why the browser could not start; every test fails with it.
	setupErr error
	// repoRoot is the repository's root directory.
	repoRoot string
)

func TestMain(m *testing.M) {
	dataDir, err := gatewaytest.IsolateDataDirs()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := run(m)
	os.RemoveAll(dataDir)
	os.Exit(code)
}

func run(m *testing.M) int {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		setupErr = err
		return m.Run()
	}
	repoRoot = root
	trackers = startRecorder()
	defer trackers.Close()

	exe, err := chromiumPath()
	if err != nil {
		setupErr = err
		return m.Run()
	}
	var out strings.Builder
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.IgnoreCertErrors, // the recorder answers https with a self-signed certificate
		chromedp.WindowSize(1280, 800),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("host-resolver-rules", trackers.resolverRules()),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-domain-reliability", true),
		// Keep cross-site frames in the page's process, so the page's
		// network log also shows what the frames themselves request.
		chromedp.Flag("disable-site-isolation-trials", true),
		chromedp.Flag("disable-features", "Translate,BlinkGenPropertyTrees,IsolateOrigins,site-per-process,"+
			"NetworkTimeServiceQuerying,OptimizationHints,MediaRouter,DialMediaRouteProvider,HttpsUpgrades,"+
			"PrivacySandboxSettings4,InterestFeedContentSuggestions,AutofillServerCommunication"),
		chromedp.Flag("lang", "en-US"),
		chromedp.CombinedOutput(&limitedWriter{w: &out, n: 8192}),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(allocCtx)
	defer cancelBrowser()
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(bctx) }() // the first Do starts the browser, bound to bctx
	select {
	case err = <-started:
	case <-time.After(45 * time.Second):
		err = errors.New("timed out after 45s")
	}
	if err != nil {
		setupErr = fmt.Errorf("starting %s: %v\n%s", exe, err, out.String())
		return m.Run()
	}
	browserCtx = bctx
	return m.Run()
}

// chromiumPath finds the browser: $CONSENTGATE_CHROMIUM, else Debian's
// chromium (apt-get install chromium) or a Chrome on the PATH.
func chromiumPath() (string, error) {
	if p := os.Getenv("CONSENTGATE_CHROMIUM"); p != "" {
		return p, nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no Chromium found: install it (apt-get install chromium; .ci/run does) or set CONSENTGATE_CHROMIUM to its path")
}

type limitedWriter struct {
	w *strings.Builder
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if rest := l.n - l.w.Len(); rest > 0 {
		l.w.Write(p[:min(len(p), rest)])
	}
	return len(p), nil
}

var (
	adminLine = regexp.MustCompile(`(?m)^[ \t]*admin[ \t]+\S+[ \t]*$`)
	portLine  = regexp.MustCompile(`(?m)^(\s*http_port\s+)\d+`)
	siteLine  = regexp.MustCompile(`(?m)^:\d+ \{`)
	rootLine  = regexp.MustCompile(`(?m)^([ \t]*root \* )examples/[a-z]+/site[ \t]*$`)
	logFile   = regexp.MustCompile(`(?m)^([ \t]*output file )examples/\S+`)
	consentLn = regexp.MustCompile(`(?m)^([ \t]*)consent \{[ \t]*$`)
)

// shopSettings are the consent block's one-line settings the shop's
// Caddyfile makes; an extra line for one of them replaces the shop's.
var shopSettings = []string{"privacy_policy", "default_language", "services"}

// startShop runs the example web shop's own Caddyfile (examples/shop) on a
// free port, without the admin endpoint, with extra lines added at the top
// of its consent block (say "consent_mode basic") or replacing one of
// shopSettings (say "default_language de"), and returns its base URL.
func startShop(t *testing.T, extraConsent ...string) string {
	t.Helper()
	return startExample(t, "shop", extraConsent...)
}

// startExample is startShop for any example (its log file, if it has one,
// goes to a temporary directory).
func startExample(t *testing.T, name string, extraConsent ...string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, "examples", name, "Caddyfile"))
	if err != nil {
		t.Fatal(err)
	}
	cf := string(data)
	p := gatewaytest.FreePort(t)
	type edit struct {
		re   *regexp.Regexp
		with string
	}
	edits := []edit{
		{adminLine, "\tadmin off\n\tpersist_config off\n\tlog {\n\t\tlevel ERROR\n\t}"},
		{portLine, fmt.Sprintf("${1}%d", p)},
		{siteLine, fmt.Sprintf(":%d {", p)},
		{rootLine, "${1}" + filepath.Join(repoRoot, "examples", name, "site")},
	}
	if logFile.MatchString(cf) {
		edits = append(edits, edit{logFile, "${1}" + filepath.Join(t.TempDir(), "access.log")})
	}
	var added []string
	for _, l := range extraConsent {
		if id, ok := strings.CutPrefix(l, "vendor "); ok {
			// A vendor block replaces the example's bare declaration of it.
			bare := regexp.MustCompile(`(?m)^[ \t]*vendor ` + regexp.QuoteMeta(strings.TrimSuffix(id, " {")) + `[ \t]*\n`)
			if bare.MatchString(cf) {
				edits = append(edits, edit{bare, ""})
			}
		}
		if key, _, _ := strings.Cut(l, " "); slices.Contains(shopSettings, key) {
			edits = append(edits, edit{regexp.MustCompile(`(?m)^([ \t]*)` + key + `[ \t].*$`), "${1}" + l})
		} else {
			added = append(added, l)
		}
	}
	if len(added) > 0 {
		edits = append(edits, edit{consentLn, "${0}\n${1}\t" + strings.Join(added, "\n${1}\t")})
	}
	for _, r := range edits {
		if !r.re.MatchString(cf) {
			t.Fatalf("examples/%s/Caddyfile changed: nothing matches %s", name, r.re)
		}
		cf = r.re.ReplaceAllString(cf, r.with)
	}
	gatewaytest.Start(t, cf)
	gatewaytest.WaitListening(t, p)
	return gatewaytest.BaseURL(p)
}
