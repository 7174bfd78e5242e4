package caddymodule_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	goredis "github.com/redis/go-redis/v9"

	"github.com/consentgate/consentgate/caddymodule/gatewaytest"
	"github.com/consentgate/consentgate/consent/proof"
	"github.com/consentgate/consentgate/consent/store"
	"github.com/consentgate/consentgate/consent/store/redis"
)

// TestStoreOutageLosesNothing: while consent posts keep coming, the Redis
// server is shut down, the configuration reloaded, and Redis started again.
// Every visitor still gets an answer, and afterwards every proof is in the
// store exactly once and the chain verifies. The metrics on Caddy's admin
// endpoint count what was written, spooled and replayed, the store errors
// and the decisions; the log says when proofs were spooled and replayed.
func TestStoreOutageLosesNothing(t *testing.T) {
	node := startNode(t)
	macSecret, seed := make([]byte, 32), make([]byte, ed25519.SeedSize)
	rand.Read(macSecret)
	rand.Read(seed)
	url := "redis://" + node.Addr() + "/0?prefix=outage"
	t.Setenv("CG_OUTAGE_REDIS", node.Addr()) // placeholders work in the store URL
	port, adminPort := freePort(t), freePort(t)
	logFile := filepath.Join(t.TempDir(), "caddy.log")
	config := func(answer string) string {
		return gatewaytest.GlobalsLogging(adminPort, logFile) + fmt.Sprintf(`:%d {
	consent {
		store %s
		chain outage-test
		proof_key %s
		signing_key %s
	}
	respond %q
}`, port, "redis://{env.CG_OUTAGE_REDIS}/0?prefix=outage", base64.StdEncoding.EncodeToString(macSecret), base64.StdEncoding.EncodeToString(seed), answer)
	}
	gatewaytest.Start(t, config("ok"))
	base := baseURL(port)

	var posted, failed atomic.Int64
	var firstFailure atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: 10 * time.Second}
			for {
				select {
				case <-stop:
					return
				default:
				}
				post := func() (*http.Response, error) {
					req, _ := http.NewRequest("POST", base+"/.consent/choice", strings.NewReader(`{"purposes":{"analytics":true}}`))
					req.Header.Set("Content-Type", "application/json")
					return client.Do(req)
				}
				resp, err := post()
				if err != nil {
					// A reload closes idle keep-alive connections; a request
					// sent on one as it closes was never read, and browsers
					// send it again on a new connection. So does this test.
					resp, err = post()
				}
				if err != nil || resp.StatusCode != 200 {
					if failed.Add(1) == 1 {
						firstFailure.Store(fmt.Sprint(err, resp))
					}
				} else {
					posted.Add(1)
				}
				if resp != nil {
					resp.Body.Close()
				}
			}
		}()
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}
	waitFor("posts before the outage", func() bool { return posted.Load() >= 50 })
	node.Stop()
	during := posted.Load()
	waitFor("posts during the outage", func() bool { return posted.Load() >= during+50 })
	// A configuration reload while proofs wait in the spool: they stay
	// there, and posts go on.
	gatewaytest.Start(t, config("reloaded"))
	reloaded := posted.Load()
	waitFor("posts after a reload during the outage", func() bool { return posted.Load() >= reloaded+50 })
	if err := node.Start(); err != nil {
		t.Fatal(err)
	}
	after := posted.Load()
	waitFor("posts after the outage", func() bool { return posted.Load() >= after+50 })
	close(stop)
	wg.Wait()
	if failed.Load() > 0 {
		t.Errorf("%d of %d consent posts failed during the store outage; the first: %v", failed.Load(), posted.Load()+failed.Load(), firstFailure.Load())
	}

	s, err := redis.Open(url, redis.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	count := func() int64 {
		var n int64
		if err := s.RangeRaw(context.Background(), store.Query{Chain: "outage-test"}, func([]byte) error { n++; return nil }); err != nil {
			return -1
		}
		return n
	}
	waitFor("the spool to drain into the store", func() bool { return count() == posted.Load() })
	mac, _ := proof.NewMACKey(macSecret)
	signer, _ := proof.NewSigningKey(ed25519.NewKeyFromSeed(seed))
	report, err := store.Verify(context.Background(), s, "outage-test", proof.VerifyOptions{Keys: proof.Keys{
		MAC:        map[string][]byte{mac.ID: macSecret},
		PublicKeys: map[string]ed25519.PublicKey{signer.ID: signer.Public()},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if !report.OK() || int64(report.Records) != posted.Load() {
		t.Errorf("after the outage: %d posted, report %+v", posted.Load(), report)
	}
	t.Logf("%d posts (%d during the outage), all stored once, chain verifies", posted.Load(), after-during)

	_, body := adminDo(t, "GET", fmt.Sprintf("http://localhost:%d/metrics", adminPort))
	m := func(name string) float64 { return metricValue(t, body, name) }
	spooled, written := m("caddy_consent_proofs_spooled_total"), m("caddy_consent_proofs_written_total")
	// Counters of the config running now (registered anew by the reload)
	// and of the spool and store, which outlive reloads.
	if spooled < 50 || m("caddy_consent_proofs_replayed_total") != spooled || m("caddy_consent_proofs_pending") != 0 ||
		m("caddy_consent_store_errors_total") < 1 || m("caddy_consent_proof_errors_total") != 0 ||
		written < 100 || written > float64(posted.Load()) || m(`caddy_consent_decisions_total{method="save_selection"}`) != written {
		t.Errorf("metrics after the outage (%d posts):\n%s", posted.Load(), grepLines(body, "caddy_consent_"))
	}
	logs, _ := os.ReadFile(logFile)
	for _, msg := range []string{`"msg":"proof store unavailable, spooling"`, `"msg":"replayed spooled proofs"`} {
		if !strings.Contains(string(logs), msg) {
			t.Errorf("the log has no %s", msg)
		}
	}
}

// metricValue reads one sample, by name and labels as exposed, from a
// Prometheus text page; a missing sample fails the test.
func metricValue(t *testing.T, page, sample string) float64 {
	t.Helper()
	for line := range strings.Lines(page) {
		if v, ok := strings.CutPrefix(line, sample+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				t.Fatalf("metric %s: %v", sample, err)
			}
			return f
		}
	}
	t.Fatalf("no metric %s in\n%s", sample, grepLines(page, "caddy_consent_"))
	return 0
}

// TestSitesOnTwoStoresKeepTheirSpoolsApart: two sites of one gateway write
// the same chain id to different stores (both left without a chain line
// take the data directory's; here it is set to keep the test apart), one of
// them a Redis that is down. Its proofs wait in a spool of their own: after
// a restart they are neither replayed into the other site's bolt file nor
// continued from there, and they reach Redis once it is back. Both chains
// verify, each with its own records.
func TestSitesOnTwoStoresKeepTheirSpoolsApart(t *testing.T) {
	node := startNode(t)
	node.Stop()
	boltURL := "bolt://" + filepath.Join(t.TempDir(), "proofs.db")
	redisURL := "redis://" + node.Addr() + "/0?prefix=twostores"
	boltPort, redisPort, adminPort := freePort(t), freePort(t), freePort(t)
	config := gatewaytest.Globals(adminPort) + fmt.Sprintf(`:%d {
	consent {
		store %s
		chain two-stores
	}
	respond "bolt"
}
:%d {
	consent {
		store %s
		chain two-stores
	}
	respond "redis"
}`, boltPort, boltURL, redisPort, redisURL)
	admin := fmt.Sprintf("http://localhost:%d", adminPort)
	gatewaytest.Start(t, config)
	c := gatewaytest.NewClient(t)
	choice := `{"purposes":{"analytics":true}}`
	for range 3 {
		gatewaytest.PostChoice(t, c, baseURL(redisPort), choice) // spooled: Redis is down
	}
	for range 2 {
		gatewaytest.PostChoice(t, c, baseURL(boltPort), choice)
	}
	gatewaytest.Stop(t)
	gatewaytest.Start(t, config)
	gatewaytest.PostChoice(t, c, baseURL(boltPort), choice)

	// verified is the chain's verification in one store, or what the
	// admin API answered instead.
	verified := func(storeURL string) (verifyAnswer, string) {
		var v verifyAnswer
		resp, body := adminDo(t, "GET", admin+"/consent/verify?chain=two-stores&store="+url.QueryEscape(storeURL))
		if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &v) != nil {
			return v, body
		}
		return v, ""
	}
	if v, other := verified(boltURL); !v.OK || len(v.Chains) != 1 || v.Chains[0].Records != 3 {
		t.Errorf("the bolt site's chain after a restart with proofs of the Redis site spooled: %+v %s (want its own 3 records, verified)", v, other)
	}
	if err := node.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		v, other := verified(redisURL)
		if v.OK && len(v.Chains) == 1 && v.Chains[0].Records == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the Redis site's 3 spooled proofs never arrived in Redis intact: %+v %s", v, other)
		}
	}
}

// TestVisitorWhoLeavesDuringTheWriteIsAccountedFor: visitors whose
// browsers give up while the store hangs (a frozen Redis) leave proofs that
// are still written once it answers again. Nothing says they failed: no
// "recording failed" in the log, and every one of them is in the chain,
// which verifies.
func TestVisitorWhoLeavesDuringTheWriteIsAccountedFor(t *testing.T) {
	g := startRedisGateway(t, "leaving")
	node, admin, base, logFile := g.node, g.admin, g.site, g.logFile
	gatewaytest.PostChoice(t, newClient(t), base, `{"all":true}`)

	if err := node.Pause(); err != nil {
		t.Fatal(err)
	}
	impatient := newClient(t)
	impatient.Timeout = 200 * time.Millisecond
	const leaving = 3
	for range leaving {
		req, _ := http.NewRequest(http.MethodPost, base+"/.consent/choice", strings.NewReader(`{"all":false}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", base)
		if resp, err := impatient.Do(req); err == nil {
			resp.Body.Close()
			t.Fatalf("a choice was answered (%d) while Redis was frozen; the test needs the visitor to give up first", resp.StatusCode)
		}
	}
	if err := node.Resume(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		var v verifyAnswer
		resp, body := adminDo(t, "GET", admin+"/consent/verify?chain=leaving")
		if resp.StatusCode == http.StatusOK && json.Unmarshal([]byte(body), &v) == nil && v.OK && len(v.Chains) == 1 && v.Chains[0].Records == 1+leaving {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the proofs of visitors who left during the write never all arrived: %s", body)
		}
	}
	gatewaytest.Stop(t) // flushes the log
	logs, _ := os.ReadFile(logFile)
	if failed := grepLines(string(logs), "recording a consent proof failed"); failed != "" {
		t.Errorf("the log says proofs failed that were written:\n%s", failed)
	}
}

// TestSpoolOutlivesAChangedStoreURL: proofs spooled while Redis is down
// still reach it after the store's URL changed in a way that names the
// same place (a client setting added by a reload): the spool is named by
// where the store keeps records, not by the URL's spelling.
func TestSpoolOutlivesAChangedStoreURL(t *testing.T) {
	node := startNode(t)
	node.Stop()
	port, adminPort := freePort(t), freePort(t)
	config := func(query string) string {
		return gatewaytest.Globals(adminPort) + fmt.Sprintf(`:%d {
	consent {
		store "redis://%s/0?prefix=renamed%s"
		chain renamed
	}
	respond "ok"
}`, port, node.Addr(), query)
	}
	gatewaytest.Start(t, config(""))
	for range 2 {
		gatewaytest.PostChoice(t, newClient(t), baseURL(port), `{"all":true}`) // spooled: Redis is down
	}
	gatewaytest.Stop(t)
	gatewaytest.Start(t, config("&timeout=3s&dial_timeout=1s"))
	if err := node.Start(); err != nil {
		t.Fatal(err)
	}
	admin := fmt.Sprintf("http://localhost:%d", adminPort)
	waitUntil(t, "the proofs spooled under the first URL to reach Redis", func() bool {
		var v verifyAnswer
		resp, body := adminDo(t, "GET", admin+"/consent/verify?chain=renamed")
		return resp.StatusCode == http.StatusOK && json.Unmarshal([]byte(body), &v) == nil &&
			v.OK && len(v.Chains) == 1 && v.Chains[0].Records == 2
	})
}

// TestStoreThatRefusesTheGatewayStopsTheStart: a Redis that answers but
// refuses the gateway as configured (a wrong password, a database it does
// not have) is a configuration error, reported when the configuration
// loads, without the password; not an outage to spool through for ever.
func TestStoreThatRefusesTheGatewayStopsTheStart(t *testing.T) {
	node := startNode(t, "--requirepass", "right-password")
	for _, tc := range []struct{ name, url, says string }{
		{"wrong password", "redis://:wrong-password@" + node.Addr() + "/0", "WRONGPASS"},
		{"no such database", "redis://:right-password@" + node.Addr() + "/99999", "DB index"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := adapt(t, gatewaytest.Globals(0)+fmt.Sprintf(`:%d {
	consent {
		store %s
		chain refused
	}
	respond "ok"
}`, freePort(t), tc.url))
			err := caddy.Load(cfg, true)
			if err == nil {
				_ = caddy.Stop()
				t.Fatal("the gateway started on a store that refuses it")
			}
			if msg := err.Error(); !strings.Contains(msg, "refuses this gateway") || !strings.Contains(msg, tc.says) || strings.Contains(msg, "password@") {
				t.Errorf("the error %q must say the store refuses the gateway, why (%s), and hide the password", msg, tc.says)
			}
		})
	}
}

// TestRedisClientMessagesInCaddysLog: what the Redis client itself says
// (here: it cannot dial a Redis that is down) goes to Caddy's log as JSON,
// not to standard error in a format of its own.
func TestRedisClientMessagesInCaddysLog(t *testing.T) {
	g := startRedisGateway(t, "clientlog")
	g.node.Stop()
	gatewaytest.PostChoice(t, newClient(t), g.site, `{"all":true}`) // spooled
	gatewaytest.Stop(t)
	logs, _ := os.ReadFile(g.logFile)
	if line := lineWith(string(logs), `"logger":"http.handlers.consent.redis"`); !strings.Contains(line, "dial") {
		t.Errorf("no JSON log line from the Redis client about the failed dial; the log:\n%s", logs)
	}
}

// TestVerifyNamesAChainTheStoreLost: Redis restarted empty (no
// persistence) has lost the chain and its listing; verify does not answer
// "nothing recorded" but names the chain this gateway wrote, broken.
func TestVerifyNamesAChainTheStoreLost(t *testing.T) {
	g := startRedisGateway(t, "emptied")
	for range 2 {
		gatewaytest.PostChoice(t, newClient(t), g.site, `{"all":true}`)
	}
	c := goredis.NewClient(&goredis.Options{Addr: g.node.Addr()})
	defer c.Close()
	if err := c.FlushAll(t.Context()).Err(); err != nil {
		t.Fatal(err)
	}
	var v verifyAnswer
	resp, body := adminDo(t, "GET", g.admin+"/consent/verify")
	if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &v) != nil {
		t.Fatalf("verify: %d %s", resp.StatusCode, body)
	}
	if v.OK || len(v.Chains) != 1 || v.Chains[0].Chain != "emptied" || v.Chains[0].OK || !strings.Contains(body, "seq 1..2 missing") {
		t.Errorf("verify after Redis lost everything: %s; want the chain emptied reported broken, seq 1..2 missing", body)
	}
}

// TestTwoSpellingsOfOneStoreShareTheChain: two sites of one gateway write
// one chain to one Redis under two spellings of its URL (one with a client
// setting): they share one writer, so their proofs form one chain that
// verifies, instead of sealing the same seqs twice and failing choices.
func TestTwoSpellingsOfOneStoreShareTheChain(t *testing.T) {
	node := startNode(t)
	ports := [2]int{freePort(t), freePort(t)}
	adminPort := freePort(t)
	gatewaytest.Start(t, gatewaytest.Globals(adminPort)+fmt.Sprintf(`:%d {
	consent {
		store redis://%s/0?prefix=spellings
		chain spellings
	}
	respond "a"
}
:%d {
	consent {
		store "redis://%s/0?prefix=spellings&timeout=2s"
		chain spellings
	}
	respond "b"
}`, ports[0], node.Addr(), ports[1], node.Addr()))
	for i := range 6 {
		gatewaytest.PostChoice(t, newClient(t), baseURL(ports[i%2]), `{"all":true}`)
	}
	var v verifyAnswer
	resp, body := adminDo(t, "GET", fmt.Sprintf("http://localhost:%d/consent/verify", adminPort))
	if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &v) != nil || !v.OK || len(v.Chains) != 1 || v.Chains[0].Records != 6 {
		t.Errorf("two spellings of one store: %s; want one chain of 6 records, verified", body)
	}
}

// TestStoreLatencyIsMeasured: a Redis that is slow but answers (here it
// sleeps 400 ms, as a loaded or swapping server would stall) is no outage:
// nothing is spooled, and the time it took shows in the metrics operators
// watch, caddy_consent_store_write_seconds_total over
// caddy_consent_store_writes_total.
func TestStoreLatencyIsMeasured(t *testing.T) {
	g := startRedisGateway(t, "latency", "--enable-debug-command", "yes")
	metrics := func() (writes, seconds float64) {
		_, body := adminDo(t, "GET", g.admin+"/metrics")
		return metricValue(t, body, "caddy_consent_store_writes_total"), metricValue(t, body, "caddy_consent_store_write_seconds_total")
	}
	postChoice(t, newClient(t), g.site, `{"all":true}`)
	writes, seconds := metrics()
	if writes < 1 {
		t.Fatalf("%v store writes after a choice", writes)
	}
	c := goredis.NewClient(&goredis.Options{Addr: g.node.Addr(), ReadTimeout: 5 * time.Second})
	defer c.Close()
	asleep := make(chan error, 1)
	go func() { asleep <- c.Do(context.Background(), "DEBUG", "SLEEP", "0.4").Err() }()
	time.Sleep(50 * time.Millisecond) // Redis is asleep now
	postChoice(t, newClient(t), g.site, `{"all":false}`)
	if err := <-asleep; err != nil {
		t.Fatal(err)
	}
	writes2, seconds2 := metrics()
	if writes2 < writes+1 || seconds2-seconds < 0.2 {
		t.Errorf("a write while Redis slept 400 ms: writes %v → %v, seconds %v → %v; want the wait counted", writes, writes2, seconds, seconds2)
	}
	_, body := adminDo(t, "GET", g.admin+"/metrics")
	if spooled := metricValue(t, body, "caddy_consent_proofs_spooled_total"); spooled != 0 {
		t.Errorf("a slow store is taken for a down one: %v proofs spooled", spooled)
	}
}

// TestSlowStoreDoesNotStallChoices: a Redis that is slow but answers (here
// it sleeps 5 s, with a client timeout longer than that) no longer holds
// visitors' choices for as long as it takes. Past spool_after the proof
// waiting for it goes to the spool, the ones after it follow, and every
// choice made while Redis sleeps is answered before it wakes. The write the
// gateway stopped waiting for lands when Redis wakes, and the replay of its
// spooled copy skips it: every proof is in the store once, and the chain
// verifies. The metrics count the slow write and the spooled proofs but no
// store error, and the log says the store was slow, not down.
func TestSlowStoreDoesNotStallChoices(t *testing.T) {
	node := startNode(t, "--enable-debug-command", "yes")
	port, adminPort := freePort(t), freePort(t)
	logFile := filepath.Join(t.TempDir(), "caddy.log")
	gatewaytest.Start(t, gatewaytest.GlobalsLogging(adminPort, logFile)+fmt.Sprintf(`:%d {
	consent {
		store "redis://%s/0?prefix=slow&timeout=1m"
		chain slow
		spool_after 500ms
	}
	respond "ok"
}`, port, node.Addr()))
	site, admin := baseURL(port), fmt.Sprintf("http://localhost:%d", adminPort)
	postChoice(t, newClient(t), site, `{"all":true}`)

	woke, err := node.Sleep(5 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	const choices = 12
	for range choices {
		postChoice(t, newClient(t), site, `{"all":false}`)
	}
	select {
	case <-woke:
		t.Fatal("the choices were answered only once Redis woke")
	default:
	}
	_, body := adminDo(t, "GET", admin+"/metrics")
	if metricValue(t, body, "caddy_consent_proofs_spooled_total") != choices || metricValue(t, body, "caddy_consent_store_slow_writes_total") < 1 {
		t.Errorf("while Redis slept: want the %d proofs spooled and a slow write counted:\n%s", choices, grepLines(body, "caddy_consent_"))
	}

	if err := <-woke; err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "every proof in Redis, the chain verified", func() bool {
		var v verifyAnswer
		resp, body := adminDo(t, "GET", admin+"/consent/verify?chain=slow")
		return resp.StatusCode == http.StatusOK && json.Unmarshal([]byte(body), &v) == nil &&
			v.OK && len(v.Chains) == 1 && v.Chains[0].Records == 1+choices && v.Chains[0].LastSeq == 1+choices
	})
	_, body = adminDo(t, "GET", admin+"/metrics")
	if m := func(name string) float64 { return metricValue(t, body, name) }; m("caddy_consent_proofs_replayed_total") != choices ||
		m("caddy_consent_proofs_pending") != 0 || m("caddy_consent_store_errors_total") != 0 {
		t.Errorf("after Redis woke: want the %d spooled proofs replayed, none pending, no store error:\n%s", choices, grepLines(body, "caddy_consent_"))
	}
	gatewaytest.Stop(t) // flushes the log
	logs, _ := os.ReadFile(logFile)
	if line := lineWith(string(logs), `"msg":"proof store slow, spooling"`); !strings.Contains(line, `"reason":"slow"`) {
		t.Errorf("no warning that the store was slow, with reason slow; the log:\n%s", logs)
	}
	if line := lineWith(string(logs), `"msg":"proof store unavailable, spooling"`); line != "" {
		t.Errorf("a slow store is taken for one that is down: %s", line)
	}
}
