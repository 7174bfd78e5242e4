package caddymodule_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/consentgate/consentgate/caddymodule/gatewaytest"
)

// servicesPage has a catalogued service the site declares (YouTube) and two
// it does not (Google Analytics, Vimeo), and sets a Google Analytics cookie.
const servicesPage = `<html><head>` +
	`<script async src="https://www.googletagmanager.com/gtag/js?id=G-X1"></script>` +
	`</head><body>` +
	`<iframe src="https://www.youtube.com/embed/abc"></iframe>` +
	`<iframe src="https://player.vimeo.com/video/42"></iframe>` +
	`</body></html>`

// startServicesSite serves servicesPage behind "services declared" and
// more consent lines; it returns the site's and the admin endpoint's URLs.
func startServicesSite(t *testing.T, consentLines string) (site, admin string) {
	t.Helper()
	port, adminPort := freePort(t), freePort(t)
	gatewaytest.Start(t, servicesSite(port, adminPort, consentLines))
	return baseURL(port), fmt.Sprintf("http://localhost:%d", adminPort)
}

// servicesSite is the Caddyfile of startServicesSite, on given ports.
func servicesSite(port, adminPort int, consentLines string) string {
	return gatewaytest.Globals(adminPort) + fmt.Sprintf(`:%d {
	consent {
		services declared
%s	}
	header Content-Type text/html
	header Set-Cookie "_ga=GA1.1.1; Path=/"
	respond %q
}`, port, consentLines, servicesPage)
}

// TestDeclaredServicesOnly: with "services declared", the banner asks only
// about the services the Caddyfile declares and their purposes. The
// catalogue's other services are still recognised on the page, and stay
// blocked even after "Accept all", with a placeholder that says why, and
// their cookies never reach the browser.
func TestDeclaredServicesOnly(t *testing.T) {
	base, admin := startServicesSite(t, "\t\tvendor youtube\n")
	c := newClient(t)
	s := getState(t, c, base)
	if got := slices.Sorted(mapKeys(s.Purposes)); !slices.Equal(got, []string{"necessary", "social"}) {
		t.Errorf("purposes asked about: %v, want necessary and social (YouTube's)", got)
	}
	_, page := get(t, c, base+"/")
	var cfg struct {
		Details  string `json:"details"`
		Purposes []struct {
			ID string `json:"id"`
		} `json:"purposes"`
	}
	readConfig(t, page, &cfg)
	if len(cfg.Purposes) != 2 {
		t.Errorf("the banner shows %d purposes, want 2: %+v", len(cfg.Purposes), cfg.Purposes)
	}
	_, body := get(t, c, base+cfg.Details)
	var details struct {
		Purposes []struct {
			ID      string `json:"id"`
			Vendors []struct{ ID string }
		} `json:"purposes"`
	}
	if err := json.Unmarshal([]byte(body), &details); err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, p := range details.Purposes {
		for _, v := range p.Vendors {
			listed = append(listed, p.ID+"/"+v.ID)
		}
	}
	if !slices.Equal(listed, []string{"social/youtube"}) {
		t.Errorf("the second layer lists %v, want only social/youtube", listed)
	}

	postChoice(t, c, base, `{"all":true}`)
	resp, page := get(t, c, base+"/")
	if !regexp.MustCompile(`<iframe src="https://www\.youtube\.com/embed/abc">`).MatchString(page) {
		t.Errorf("after Accept all the declared YouTube frame is not live:\n%s", page)
	}
	ga := regexp.MustCompile(`<script [^>]*src="https://www\.googletagmanager\.com/gtag/js[^>]*>`).FindString(page)
	if !strings.Contains(ga, `type="text/plain"`) || !strings.Contains(ga, `data-consent-purpose="-unlisted"`) {
		t.Errorf("after Accept all the undeclared Google Analytics script is not held: %q", ga)
	}
	vimeo := regexp.MustCompile(`<iframe[^>]*data-consent-purpose="-unlisted"[^>]*>`).FindString(page)
	if vimeo == "" || regexp.MustCompile(`data-consent-vendor="[^"]`).MatchString(vimeo) || // nothing offers to allow it
		!strings.Contains(vimeo, "not among the services this site asks consent for") {
		t.Errorf("after Accept all the undeclared Vimeo frame is not a placeholder saying why: %q", vimeo)
	}
	if set := resp.Header.Values("Set-Cookie"); slices.ContainsFunc(set, func(c string) bool { return strings.HasPrefix(c, "_ga=") }) {
		t.Errorf("the undeclared Google Analytics cookie reached the browser: %q", set)
	}
	// The third-party scan shows the operator what to declare.
	var scan struct {
		Entries []struct{ Path, Origin string }
	}
	adminJSON(t, "GET", admin+"/consent/scan?site=127.0.0.1", 200, &scan)
	var origins []string
	for _, e := range scan.Entries {
		origins = append(origins, e.Origin)
	}
	for _, want := range []string{"www.googletagmanager.com", "player.vimeo.com"} {
		if !slices.Contains(origins, want) {
			t.Errorf("the third-party scan lacks the undeclared %s: %v", want, origins)
		}
	}
	if slices.Contains(origins, "www.youtube.com") {
		t.Errorf("the third-party scan lists the declared YouTube: %v", origins)
	}
}

// TestNothingToAsk: a site that declares no service (and no purpose) asks
// about nothing but the strictly necessary: no form for visitors without
// JavaScript is injected, and the banner knows there is nothing to decide.
func TestNothingToAsk(t *testing.T) {
	base, _ := startServicesSite(t, "")
	c := newClient(t)
	if s := getState(t, c, base); len(s.Purposes) != 1 || !s.Purposes["necessary"] {
		t.Errorf("purposes asked about: %v, want only necessary", s.Purposes)
	}
	_, page := get(t, c, base+"/")
	if strings.Contains(page, "<noscript>") {
		t.Errorf("a site that asks nothing got the no-JavaScript consent form:\n%s", page)
	}
	if !strings.Contains(page, `data-consent-purpose="-unlisted"`) {
		t.Errorf("the catalogue's services are not held on a site that declares none:\n%s", page)
	}
}

// TestNothingToAskRecordsNoChoice: a site that asks about nothing takes no
// choice, whether posted as JSON or as the no-JavaScript form would; only
// a visitor who chose while the site still asked may withdraw that.
func TestNothingToAskRecordsNoChoice(t *testing.T) {
	port, adminPort := freePort(t), freePort(t)
	base, admin := baseURL(port), fmt.Sprintf("http://localhost:%d", adminPort)
	gatewaytest.Start(t, servicesSite(port, adminPort, ""))
	// This process's earlier tests share the store: only what is recorded
	// from now on counts.
	since := "since=" + url.QueryEscape(time.Now().UTC().Truncate(time.Millisecond).Format(time.RFC3339Nano))
	for _, post := range []struct{ ctype, body string }{
		{"application/json", `{"all":true}`},
		{"application/json", `{"purposes":{"necessary":true}}`},
		{"application/json", `{"withdraw":true}`},
		{"application/x-www-form-urlencoded", "action=accept_all&return=/"},
		{"application/x-www-form-urlencoded", "action=withdraw&return=/"},
	} {
		resp, body := postAs(t, newClient(t), base, post.ctype, post.body)
		if resp.StatusCode != http.StatusConflict || !strings.Contains(body, "asks for no consent") {
			t.Errorf("%s on a site that asks nothing: %d %s, want 409 saying it asks for no consent", post.body, resp.StatusCode, body)
		}
		if slices.ContainsFunc(resp.Cookies(), func(c *http.Cookie) bool { return c.Name == "consentgate" }) {
			t.Errorf("%s on a site that asks nothing set the consent cookie: %v", post.body, resp.Header["Set-Cookie"])
		}
	}
	if recs := exportJSONL(t, admin, since); len(recs) != 0 {
		t.Errorf("choices on a site that asks nothing wrote %d proofs: %+v", len(recs), recs)
	}

	// The site asked about YouTube before; a visitor allowed it, then the
	// operator declared nothing. That visitor can still withdraw.
	gatewaytest.Start(t, servicesSite(port, adminPort, "\t\tvendor youtube\n"))
	c := newClient(t)
	postChoice(t, c, base, `{"all":true}`)
	gatewaytest.Start(t, servicesSite(port, adminPort, ""))
	if resp, body := postAs(t, c, base, "application/json", `{"all":true}`); resp.StatusCode != http.StatusConflict {
		t.Errorf("Accept all after the site stopped asking: %d %s, want 409", resp.StatusCode, body)
	}
	if resp, body := postAs(t, c, base, "application/json", `{"withdraw":true}`); resp.StatusCode != http.StatusOK {
		t.Errorf("withdrawing a choice made while the site still asked: %d %s, want 200", resp.StatusCode, body)
	}
	var types []string
	for _, r := range exportJSONL(t, admin, since) {
		types = append(types, r.Type)
	}
	if !slices.Equal(types, []string{"given", "withdrawn"}) {
		t.Errorf("records: %v, want the choice made while the site asked and its withdrawal", types)
	}
}

// postAs posts a choice body of the given type from the site's own origin.
func postAs(t *testing.T, c *http.Client, base, ctype, body string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/.consent/choice", strings.NewReader(body))
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("Origin", base)
	return do(t, c, req)
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// TestMarkupWithAnUnknownPurposeIsLogged: an element the page ties to a
// purpose the site does not ask about (a typo) stays blocked even after
// "Accept all"; the log says so once, naming the purpose and the page.
func TestMarkupWithAnUnknownPurposeIsLogged(t *testing.T) {
	port, adminPort := freePort(t), freePort(t)
	logFile := filepath.Join(t.TempDir(), "caddy.log")
	gatewaytest.Start(t, gatewaytest.GlobalsLogging(adminPort, logFile)+fmt.Sprintf(`:%d {
	consent
	header Content-Type text/html
	respond %q
}`, port, `<html><head><script data-consent="marketng" src="/ads.js"></script></head><body></body></html>`))
	base := baseURL(port)
	c := newClient(t)
	postChoice(t, c, base, `{"all":true}`)
	for range 3 {
		if _, page := get(t, c, base+"/shop/item"); !strings.Contains(page, `type="text/plain"`) {
			t.Fatalf("after Accept all, an element of the unknown purpose \"marketng\" is live:\n%s", page)
		}
	}
	gatewaytest.Stop(t) // flushes the log
	logs, _ := os.ReadFile(logFile)
	warned := regexp.MustCompile(`"msg":"page markup names a purpose this site does not ask about[^"]*","purpose":"marketng","path":"/shop/item"`)
	if n := len(warned.FindAll(logs, -1)); n != 1 {
		t.Errorf("the log warns %d times about the unknown purpose, want once:\n%s", n, logs)
	}
}

// TestConsentGivenTwice: a site block with the consent directive twice
// still serves pages with one shim, one banner and one no-JavaScript form:
// the inner handler steps aside, and the log says so once.
func TestConsentGivenTwice(t *testing.T) {
	port, adminPort := freePort(t), freePort(t)
	logFile := filepath.Join(t.TempDir(), "caddy.log")
	page := `<html><head><title>t</title></head><body><script src="https://www.google-analytics.com/analytics.js"></script></body></html>`
	gatewaytest.Start(t, gatewaytest.GlobalsLogging(adminPort, logFile)+fmt.Sprintf(`:%d {
	consent
	consent {
		default_language de
	}
	header Content-Type text/html
	respond %q
}`, port, page))
	for range 2 {
		_, body := get(t, newClient(t), baseURL(port)+"/")
		if got := gatewaytest.WithoutHook(t, body); !strings.Contains(got, `type="text/plain"`) {
			t.Errorf("the tracker is not held once: %s", got)
		}
		if n := len(gatewaytest.NoscriptPattern.FindAllString(body, -1)); n != 1 {
			t.Errorf("%d no-JavaScript forms, want 1", n)
		}
	}
	gatewaytest.Stop(t)
	logs, _ := os.ReadFile(logFile)
	if n := strings.Count(string(logs), "passes two consent handlers"); n != 1 {
		t.Errorf("the second handler was logged %d times, want once:\n%s", n, logs)
	}
}
