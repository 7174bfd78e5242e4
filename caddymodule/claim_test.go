package caddymodule_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/consentgate/consentgate/caddymodule"
	"github.com/consentgate/consentgate/caddymodule/gatewaytest"
	"github.com/consentgate/consentgate/consent/store"
	"github.com/consentgate/consentgate/consent/store/redis"
)

// A running gateway keeps its claim on its chain in Redis past the claim's
// time to live, so another gateway configured with that chain stays
// refused; and when another gateway's claim is found there anyway (this
// one could not renew for a while and the other started meanwhile), the log
// says so, naming it. (cmd/consentctl's TestTwoInstancesShareRedis runs the
// refusal and the hand-over between real processes.)
func TestChainClaimIsKeptAndAnotherWriterIsPointedOut(t *testing.T) {
	const ttl = 600 * time.Millisecond
	caddymodule.SetClaimTTL(t, ttl)
	node := startNode(t)
	url := fmt.Sprintf("redis://%s/0?prefix=claims", node.Addr())
	port, adminPort := freePort(t), freePort(t)
	logFile := filepath.Join(t.TempDir(), "caddy.log")
	gatewaytest.Start(t, gatewaytest.GlobalsLogging(adminPort, logFile)+fmt.Sprintf(`:%d {
	consent {
		store %s
		chain shop-1
	}
	respond "ok"
}`, port, url))

	s, err := redis.Open(url, redis.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	claimer := s.(store.Claimer)
	ctx := context.Background()
	time.Sleep(3 * ttl) // three claims' worth: only renewing keeps it
	holder, err := claimer.Claim(ctx, "shop-1", "elsewhere:/data#0", time.Minute)
	if err != nil || holder == "" {
		t.Fatalf("a second gateway claiming shop-1 after %s: held by %q, %v; want the running gateway's claim", 3*ttl, holder, err)
	}

	// Another gateway's claim in its place.
	raw := goredis.NewClient(&goredis.Options{Addr: node.Addr()})
	defer raw.Close()
	const other = "web-2:/var/lib/caddy#4f3a9c1e"
	if err := raw.Set(ctx, "{claims:shop-1}:writer", other, time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	const said = `"msg":"another gateway writes this chain too`
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		logs, _ := os.ReadFile(logFile)
		line := lineWith(string(logs), said)
		if line != "" {
			if !strings.Contains(line, other) || !strings.Contains(line, `"chain":"shop-1"`) {
				t.Fatalf("the log line does not name the chain and the other gateway: %s", line)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no log line with %s 10s after another gateway claimed the chain", said)
		}
	}
}

// TestStoreFileSpelledAnotherWay: a reload that names the open bolt file
// by another path (with "./", through a symlink) goes on with the open
// store, rather than waiting for the file's lock and failing as if another
// process held it.
func TestStoreFileSpelledAnotherWay(t *testing.T) {
	dir := t.TempDir()
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(dir, link); err != nil {
		t.Fatal(err)
	}
	site, admin, _ := auditGatewayAt(t, filepath.Join(dir, "proofs.db"), "spelling-test")
	auditPost(t, newClient(t), site, `{"all":true}`)
	for _, other := range []string{dir + "/./proofs.db", filepath.Join(link, "proofs.db")} {
		site, admin, _ = auditGatewayAt(t, other, "spelling-test") // the reload fails the test if it fails
		auditPost(t, newClient(t), site, `{"all":true}`)
	}
	if recs := exportJSONL(t, admin, "chain=spelling-test"); len(recs) != 3 {
		t.Errorf("%d records in the chain, want the 3 posted through the three spellings", len(recs))
	}
}
