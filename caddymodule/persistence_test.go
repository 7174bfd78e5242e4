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
	"github.com/consentgate/consentgate/consent/store/redis/redistest"
)

// A gateway on a Redis that keeps no append-only file says so in its log,
// naming the server, since a restart of that Redis loses proofs the gateway
// has acknowledged; on one that keeps it, the log says that instead.
func TestRedisWithoutAppendOnlyFileIsPointedOut(t *testing.T) {
	const (
		warning = `"msg":"Redis keeps no append-only file`
		fine    = `"msg":"Redis keeps proofs in its append-only file"`
	)
	for _, tc := range []struct {
		name  string
		extra []string
		want  string
	}{
		{"without", nil, warning},
		{"with", []string{"--appendonly", "yes"}, fine},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := startRedisGateway(t, "persistence-"+tc.name, tc.extra...)
			node, logFile := g.node, g.logFile
			for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
				logs, _ := os.ReadFile(logFile)
				line := lineWith(string(logs), warning)
				if line == "" {
					line = lineWith(string(logs), fine)
				}
				if line == "" && time.Now().Before(deadline) {
					continue
				}
				if !strings.Contains(line, tc.want) {
					t.Fatalf("the log says %q, want a line with %s", line, tc.want)
				}
				if tc.want == warning && !strings.Contains(line, node.Addr()) {
					t.Fatalf("the warning does not name the server %s: %s", node.Addr(), line)
				}
				return
			}
		})
	}
}

// redisGateway is a gateway on a Redis server of its own, logging to a file.
type redisGateway struct {
	node        *redistest.Node
	site, admin string
	logFile     string
}

// startNode starts a redis-server of the test's own (extra: its
// arguments), killed when the test ends.
func startNode(t *testing.T, extra ...string) *redistest.Node {
	t.Helper()
	node, err := redistest.NewNode(t.TempDir(), extra...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(node.Kill)
	return node
}

// startRedisGateway starts a redis-server (extra: its arguments) and a
// gateway whose site writes the chain to it.
func startRedisGateway(t *testing.T, chain string, extra ...string) redisGateway {
	t.Helper()
	node := startNode(t, extra...)
	port, adminPort := freePort(t), freePort(t)
	logFile := filepath.Join(t.TempDir(), "caddy.log")
	gatewaytest.Start(t, gatewaytest.GlobalsLogging(adminPort, logFile)+fmt.Sprintf(`:%d {
	consent {
		store redis://%s/0?prefix=%s
		chain %s
	}
	respond "ok"
}`, port, node.Addr(), chain, chain))
	return redisGateway{node: node, site: baseURL(port), admin: fmt.Sprintf("http://localhost:%d", adminPort), logFile: logFile}
}

// lineWith is the first line of text that contains s, or "".
func lineWith(text, s string) string {
	for line := range strings.Lines(text) {
		if strings.Contains(line, s) {
			return line
		}
	}
	return ""
}

// TestEvictionPolicyChangedLaterIsPointedOut: a Redis whose maxmemory
// policy is changed to one that evicts while the gateway runs (CONFIG SET,
// or a failover to a replica configured apart) is pointed out by the next
// maintenance pass, not only at start.
func TestEvictionPolicyChangedLaterIsPointedOut(t *testing.T) {
	const warning = `"msg":"Redis may evict keys when its memory is full`
	caddymodule.SetCheckpointEvery(t, 100*time.Millisecond)
	g := startRedisGateway(t, "eviction-later", "--maxmemory", "64mb", "--maxmemory-policy", "noeviction")
	postChoice(t, newClient(t), g.site, `{"all":true}`)
	waitUntil(t, "the start's persistence check", func() bool {
		logs, _ := os.ReadFile(g.logFile)
		return strings.Contains(string(logs), `Redis keeps no append-only file`)
	})
	if logs, _ := os.ReadFile(g.logFile); strings.Contains(string(logs), warning) {
		t.Fatalf("a warning about eviction under noeviction:\n%s", logs)
	}
	c := goredis.NewClient(&goredis.Options{Addr: g.node.Addr()})
	defer c.Close()
	if err := c.ConfigSet(context.Background(), "maxmemory-policy", "allkeys-lru").Err(); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the eviction warning", func() bool {
		logs, _ := os.ReadFile(g.logFile)
		line := lineWith(string(logs), warning)
		return line != "" && strings.Contains(line, g.node.Addr())
	})
}

// TestChainMovedToAnotherStoreIsPointedOut: a reload that points the
// store at another place (another bolt file here; another Redis database
// in the operator's case) starts the chain at seq 1 there. That is right
// (the store holds nothing of it), but verify of the new store alone shows
// a chain that seems to begin today: the log says where its earlier proofs
// are.
func TestChainMovedToAnotherStoreIsPointedOut(t *testing.T) {
	const note = "this chain starts anew in this store, but this gateway wrote it to another store before"
	port, adminPort := freePort(t), freePort(t)
	logFile := filepath.Join(t.TempDir(), "caddy.log")
	config := func(db string) string {
		return gatewaytest.GlobalsLogging(adminPort, logFile) + fmt.Sprintf(":%d {\n\tconsent {\n\t\tstore bolt://%s\n\t\tchain moved-chain\n\t}\n\trespond \"ok\"\n}", port, db)
	}
	first := filepath.Join(t.TempDir(), "first.db")
	gatewaytest.Start(t, config(first))
	for range 3 {
		postChoice(t, newClient(t), baseURL(port), `{"all":true}`)
	}
	if logs, _ := os.ReadFile(logFile); strings.Contains(string(logs), note) {
		t.Fatalf("the chain's first store is taken for a move:\n%s", logs)
	}
	gatewaytest.Start(t, config(filepath.Join(t.TempDir(), "second.db")))
	postChoice(t, newClient(t), baseURL(port), `{"all":true}`)
	waitUntil(t, "the note naming the other store's head", func() bool {
		logs, _ := os.ReadFile(logFile)
		line := lineWith(string(logs), note)
		return strings.Contains(line, `"other_store_last_seq":3`)
	})
}
