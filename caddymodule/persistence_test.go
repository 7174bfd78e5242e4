package caddymodule_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
