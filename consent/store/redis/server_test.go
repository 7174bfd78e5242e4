package redis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/consentgate/consentgate/consent/store/redis/redistest"
)

// node is a redis-server the tests run (see redistest).
type node = redistest.Node

func newNode(dir string, extra ...string) (*node, error) { return redistest.NewNode(dir, extra...) }

// servers are started at most once per test binary and stopped by TestMain.
var servers struct {
	sync.Mutex
	dir        string
	standalone string // address of a usable standalone server
	own        []*node
	cluster    []*node
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "cg-redis-test-")
	if err != nil {
		panic(err)
	}
	servers.dir = dir
	code := m.Run()
	for _, n := range append(servers.own, servers.cluster...) {
		n.Kill()
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

// standaloneAddr returns the Redis at 127.0.0.1:6379 if one answers, or a
// server of the tests' own.
func standaloneAddr(t testing.TB) string {
	servers.Lock()
	defer servers.Unlock()
	if servers.standalone != "" {
		return servers.standalone
	}
	c := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:6379", DialTimeout: 300 * time.Millisecond, MaxRetries: -1})
	defer c.Close()
	if c.Ping(context.Background()).Err() == nil {
		servers.standalone = "127.0.0.1:6379"
		t.Log("using the Redis at 127.0.0.1:6379")
		return servers.standalone
	}
	n := ownNode(t)
	t.Logf("no Redis at 127.0.0.1:6379: started redis-server on %s", n.Addr())
	servers.standalone = n.Addr()
	return servers.standalone
}

// ownNode starts a standalone server for the tests (callers hold the lock).
func ownNode(t testing.TB) *node {
	n, err := newNode(servers.dir)
	if err != nil {
		t.Fatal(err)
	}
	servers.own = append(servers.own, n)
	return n
}

// clusterAddrs starts a Redis Cluster of three masters on loopback ports
// and waits until it serves every slot.
func clusterAddrs(t testing.TB) []string {
	servers.Lock()
	defer servers.Unlock()
	if servers.cluster == nil {
		began := time.Now()
		var addrs []string
		for range 3 {
			n, err := newNode(servers.dir, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
				"--cluster-node-timeout", "2000")
			if err != nil {
				t.Fatal(err)
			}
			servers.cluster = append(servers.cluster, n)
			addrs = append(addrs, n.Addr())
		}
		out, err := exec.Command("redis-cli", append(append([]string{"--cluster", "create"}, addrs...),
			"--cluster-replicas", "0", "--cluster-yes")...).CombinedOutput()
		if err != nil {
			t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
		}
		waitClusterOK(t, servers.cluster)
		t.Logf("started a Redis Cluster of three masters on %v in %v", addrs, time.Since(began).Round(time.Millisecond))
	}
	var addrs []string
	for _, n := range servers.cluster {
		addrs = append(addrs, n.Addr())
	}
	return addrs
}

func waitClusterOK(t testing.TB, nodes []*node) {
	deadline := time.Now().Add(30 * time.Second)
	for _, n := range nodes {
		c := goredis.NewClient(&goredis.Options{Addr: n.Addr(), MaxRetries: -1})
		for {
			info, _ := c.ClusterInfo(context.Background()).Result()
			if strings.Contains(info, "cluster_state:ok") {
				break
			}
			if time.Now().After(deadline) {
				c.Close()
				t.Fatalf("cluster node %s not ok:\n%s", n.Addr(), info)
			}
			time.Sleep(50 * time.Millisecond)
		}
		c.Close()
	}
}

// testPrefix is a fresh key prefix, so tests never see each other's keys
// (or anyone else's on a shared server).
func testPrefix() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "cgtest-" + hex.EncodeToString(b)
}

// cleanup deletes every key under a prefix.
func cleanup(c goredis.UniversalClient, prefix string) error {
	ctx := context.Background()
	k := keys{prefix}
	chains, err := c.SMembers(ctx, k.chains()).Result()
	if err != nil {
		return err
	}
	for _, chain := range chains {
		if err := c.Del(ctx, k.all(chain)...).Err(); err != nil {
			return err
		}
	}
	return c.Del(ctx, k.chains()).Err()
}
