package caddymodule_test

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/consentgate/consentgate/consent/cookie"
)

// TestExpiryIsRecordedOnce: a visitor whose choice ran out comes back. The
// first page view records that it expired (layer automatic, superseding the
// choice, every optional purpose off), the page views that follow record
// nothing more, the banner asks again, and the next choice continues the
// consent id and supersedes the expiry. Stats leave the expiry out (it is
// nobody's decision); the decisions metric counts it.
func TestExpiryIsRecordedOnce(t *testing.T) {
	site, admin, _ := auditGateway(t, "expiry-test", expiryKeys.directive(), "renew_after 90d")
	c := newClient(t)
	postChoice(t, c, site, `{"purposes":{"analytics":true}}`)

	// 100 days later the browser still sends the cookie: age the choice in it.
	chosen := expiryKeys.age(t, c, site, 100*24*time.Hour)

	for i := range 3 {
		resp, page := get(t, c, site+"/shop/item?id=3")
		if resp.StatusCode != 200 || !strings.Contains(page, `"decided":false`) {
			t.Fatalf("page view %d after expiry: %d, want the banner asking again:\n%.300s", i, resp.StatusCode, page)
		}
	}
	own := ownProofs(t, c, site)
	if len(own.Records) != 2 {
		t.Fatalf("want the choice and one expiry, got %+v", own.Records)
	}
	choice, expired := own.Records[0], own.Records[1]
	if expired.Type != "expired" || expired.Supersedes != choice.EventID || expired.ConsentID != choice.ConsentID ||
		expired.How.Layer != "automatic" || expired.How.Action != "expire" || expired.Path != "/shop/item" ||
		expired.Purposes["analytics"] || !expired.Purposes["necessary"] {
		t.Errorf("expiry record: %+v (choice %s)", expired, choice.EventID)
	}
	// expires_at says when the choice ran out: 90 days after it was made.
	if want := time.Unix(chosen, 0).Add(90 * 24 * time.Hour).UnixMilli(); expired.ExpiresAt != want || expired.ExpiresAt >= expired.Time {
		t.Errorf("expiry record: expires_at %d, want %d (before its time %d)", expired.ExpiresAt, want, expired.Time)
	}
	if s := getState(t, c, site); s.Decided || s.Purposes["analytics"] {
		t.Errorf("state after expiry: %+v", s)
	}

	// The next choice continues the consent id and supersedes the expiry.
	postChoice(t, c, site, `{"all":false}`)
	get(t, c, site+"/")
	own = ownProofs(t, c, site)
	if len(own.Records) != 3 {
		t.Fatalf("after a new choice: %+v", own.Records)
	}
	if next := own.Records[2]; next.Type != "updated" || next.Supersedes != expired.EventID || next.ConsentID != choice.ConsentID {
		t.Errorf("the choice after expiry: %+v (expiry %s)", next, expired.EventID)
	}

	// Stats count the two decisions, not the expiry.
	var stats struct {
		Decisions int                       `json:"decisions"`
		Totals    map[string]map[string]int `json:"totals"`
	}
	adminJSON(t, "GET", admin+"/consent/stats", 200, &stats)
	want := map[string]int{"decisions": 2, "accepted": 0, "rejected": 1, "custom": 1, "withdrawn": 0, "gpc_defaulted": 0, "granted": 1}
	if stats.Decisions != 2 || !maps.Equal(stats.Totals["analytics"], want) {
		t.Errorf("stats: %d decisions, analytics %v; want %v", stats.Decisions, stats.Totals["analytics"], want)
	}
	var verified struct {
		OK     bool `json:"ok"`
		Chains []struct {
			Records int `json:"records"`
		} `json:"chains"`
	}
	adminJSON(t, "GET", admin+"/consent/verify", 200, &verified)
	if !verified.OK || len(verified.Chains) != 1 || verified.Chains[0].Records != 3 {
		t.Errorf("verify: %+v", verified)
	}
	_, metrics := adminDo(t, "GET", admin+"/metrics")
	if n := metricValue(t, metrics, `caddy_consent_decisions_total{method="expire"}`); n != 1 {
		t.Errorf("the decisions metric counts %v expiries, want 1", n)
	}
}

// TestRacingPageViewsRecordExpiryOnce: a visitor whose choice ran out
// comes back with several tabs at once, all carrying the old cookie. One
// expired record is written, not one per page view, and every page view
// gets the cookie that names it.
func TestRacingPageViewsRecordExpiryOnce(t *testing.T) {
	site, _, _ := auditGateway(t, "expiry-race", expiryKeys.directive(), "renew_after 90d")
	c := newClient(t)
	postChoice(t, c, site, `{"purposes":{"analytics":true}}`)
	expiryKeys.age(t, c, site, 100*24*time.Hour)

	const tabs = 8
	codec := expiryKeys.codec(t)
	events := make(chan string, tabs)
	var wg sync.WaitGroup
	for i := range tabs {
		wg.Go(func() {
			// Not get(): it may stop the test, which only the test's own
			// goroutine may do.
			req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/shop/item?id=%d", site, i), nil)
			req.Header.Set("Accept", "text/html")
			resp, err := c.Do(req)
			if err != nil {
				t.Errorf("tab %d: %v", i, err)
				return
			}
			page, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != 200 || !strings.Contains(string(page), `"decided":false`) {
				t.Errorf("tab %d: %d %v, want the banner asking again", i, resp.StatusCode, err)
			}
			for _, ck := range resp.Cookies() {
				if ck.Name == "consentgate" {
					held, err := codec.Decode(ck.Value)
					if err != nil || !held.Expired {
						t.Errorf("tab %d: cookie %+v (%v), want one that records the expiry", i, held, err)
					}
					events <- held.Event
				}
			}
		})
	}
	wg.Wait()
	close(events)
	own := ownProofs(t, c, site)
	if len(own.Records) != 2 || own.Records[1].Type != "expired" {
		var types []string
		for _, r := range own.Records {
			types = append(types, r.Type)
		}
		t.Fatalf("want the choice and one expiry, got %v", types)
	}
	n := 0
	for ev := range events {
		n++
		if ev != own.Records[1].EventID {
			t.Errorf("a tab's cookie names event %s, the expiry is %s", ev, own.Records[1].EventID)
		}
	}
	if n != tabs {
		t.Errorf("%d of %d tabs got a consent cookie", n, tabs)
	}
}

// cookieKeys are consent-cookie keys a test gives the gateway, so that it
// can read and age the cookies the gateway sets.
type cookieKeys struct{ hash, block []byte }

var expiryKeys = func() cookieKeys {
	k := cookieKeys{make([]byte, 32), make([]byte, 32)}
	for i := range k.hash {
		k.hash[i], k.block[i] = byte(7*i), byte(200-i)
	}
	return k
}()

// directive is the Caddyfile line that gives the gateway these keys.
func (k cookieKeys) directive() string { return fmt.Sprintf("key %x %x", k.hash, k.block) }

func (k cookieKeys) codec(t *testing.T) *cookie.Codec { return k.codecNamed(t, "consentgate") }

// codecNamed is the codec of the consent cookie called name.
func (k cookieKeys) codecNamed(t *testing.T, name string) *cookie.Codec {
	t.Helper()
	codec, err := cookie.NewCodec(name, []cookie.KeyPair{{Hash: k.hash, Block: k.block}}, 365*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return codec
}

// age rewrites the client's consent cookie for site as if its choice had
// been made age ago, and returns that time (Unix seconds).
func (k cookieKeys) age(t *testing.T, c *http.Client, site string, age time.Duration) int64 {
	t.Helper()
	codec := k.codec(t)
	u, _ := url.Parse(site)
	var held cookie.Consent
	var err error
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == "consentgate" {
			held, err = codec.Decode(ck.Value)
		}
	}
	if err != nil || held.ID == "" {
		t.Fatalf("no consent cookie after the choice: %v", err)
	}
	held.Time = time.Now().Add(-age).Unix()
	aged, err := codec.Encode(held)
	if err != nil {
		t.Fatal(err)
	}
	c.Jar.SetCookies(u, []*http.Cookie{{Name: "consentgate", Value: aged, Path: "/"}})
	return held.Time
}

// ownProofs downloads the visitor's own records.
func ownProofs(t *testing.T, c *http.Client, site string) ownRecords {
	t.Helper()
	resp, body := get(t, c, site+"/.consent/proofs")
	var own ownRecords
	if err := json.Unmarshal([]byte(body), &own); err != nil || resp.StatusCode != 200 {
		t.Fatalf("own proofs: %d %v %s", resp.StatusCode, err, body)
	}
	return own
}

// grepLines keeps the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for line := range strings.Lines(s) {
		if strings.Contains(line, sub) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "")
}

// TestExpiryWithinCookieGrace: the consent cookie lives 30 days past the
// choice (Max-Age = lifetime + grace), so a browser that keeps it as told
// still sends it when the visitor comes back after the choice ran out: one
// expired record is written, the banner asks again and nothing optional
// is granted. The choice here lasts a second and really ages (nothing is
// re-encoded), so the gateway's codec must read a cookie older than the
// longest lifetime.
func TestExpiryWithinCookieGrace(t *testing.T) {
	site, admin, _ := auditGateway(t, "grace-test", "renew_after 1s", "refusal_renew_after 1s")
	const grace = 30 * 24 * 60 * 60 // seconds
	c := newClient(t)
	if got := consentMaxAge(t, auditPost(t, c, site, `{"purposes":{"analytics":true}}`)); got != 1+grace {
		t.Errorf("the choice's cookie: Max-Age %d, want the lifetime plus 30 days, %d", got, 1+grace)
	}
	// The choice runs out, and the cookie's signature gets older than the
	// lifetime (securecookie counts whole seconds).
	time.Sleep(2100 * time.Millisecond)

	resp, page := get(t, c, site+"/shop/item")
	if !strings.Contains(page, `"decided":false`) {
		t.Fatalf("page view after the choice ran out: %d, want the banner asking again:\n%.300s", resp.StatusCode, page)
	}
	// The cookie now records the expiry; it lasts as a refusal would.
	if got := consentMaxAge(t, resp); got != 1+grace {
		t.Errorf("the cookie after the expiry: Max-Age %d, want %d", got, 1+grace)
	}
	get(t, c, site+"/")
	if s := getState(t, c, site); s.Decided || s.Purposes["analytics"] {
		t.Errorf("state after expiry: %+v, want undecided with nothing optional granted", s)
	}
	recs := exportJSONL(t, admin, "")
	if len(recs) != 2 || recs[0].Type != "given" || recs[1].Type != "expired" ||
		recs[1].ConsentID != recs[0].ConsentID || recs[1].Purposes["analytics"] {
		t.Fatalf("want the choice and one expired record, got %+v", recs)
	}
}

// consentMaxAge is the Max-Age of the consent cookie an answer sets.
func consentMaxAge(t *testing.T, resp *http.Response) int {
	t.Helper()
	for _, ck := range resp.Cookies() {
		if ck.Name == "consentgate" {
			return ck.MaxAge
		}
	}
	t.Fatalf("%s: no consent cookie set", resp.Request.URL)
	return 0
}
