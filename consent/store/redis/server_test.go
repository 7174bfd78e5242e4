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
	// master and sentinel: a password-protected server and the Sentinel
	// that names it.
	master, sentinel *node
	// tls speaks only TLS, with certificates of ca.
	tls *node
	ca  *redistest.CA
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
	for _, n := range []*node{servers.sentinel, servers.master, servers.tls} {
		if n != nil {
			n.Kill()
		}
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

// Sentinel setup: the master's name and password.
const (
	sentinelMaster   = "cgmaster"
	sentinelPassword = "s3ntinel-test"
)

// sentinelAddrs starts a password-protected master and a Sentinel that
// monitors it, and waits until the Sentinel names it; it returns both
// addresses.
func sentinelAddrs(t testing.TB) (master, sentinel string) {
	servers.Lock()
	defer servers.Unlock()
	if servers.sentinel == nil {
		m, err := newNode(servers.dir, "--requirepass", sentinelPassword)
		if err != nil {
			t.Fatal(err)
		}
		servers.master = m
		s, err := redistest.NewSentinel(servers.dir, sentinelMaster, m.Addr(),
			"sentinel auth-pass "+sentinelMaster+" "+sentinelPassword)
		if err != nil {
			t.Fatal(err)
		}
		servers.sentinel = s
		c := goredis.NewSentinelClient(&goredis.Options{Addr: s.Addr(), MaxRetries: -1})
		defer c.Close()
		deadline := time.Now().Add(10 * time.Second)
		for {
			addr, err := c.GetMasterAddrByName(context.Background(), sentinelMaster).Result()
			if err == nil && len(addr) == 2 && addr[0]+":"+addr[1] == m.Addr() {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("sentinel on %s does not name the master %s: %v %v", s.Addr(), m.Addr(), addr, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Logf("started a master on %s and a Sentinel on %s", m.Addr(), s.Addr())
	}
	return servers.master.Addr(), servers.sentinel.Addr()
}

// tlsServer starts a Redis that speaks only TLS, with certificates of a CA
// made for the tests (files in the tests' directory), and returns it and
// the CA.
func tlsServer(t testing.TB) (*node, *redistest.CA) {
	servers.Lock()
	defer servers.Unlock()
	if servers.tls == nil {
		ca, err := redistest.NewCA(servers.dir, "test-ca")
		if err != nil {
			t.Fatal(err)
		}
		n, err := redistest.NewTLSNode(servers.dir, ca)
		if err != nil {
			t.Fatal(err)
		}
		servers.tls, servers.ca = n, ca
		t.Logf("started a TLS-only redis-server on %s", n.Addr())
	}
	return servers.tls, servers.ca
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

// cleanup deletes every key under a prefix: each chain's fixed keys and
// its consent index keys, found by SCAN on every master.
func cleanup(c goredis.UniversalClient, prefix string) error {
	ctx := context.Background()
	k := keys{prefix}
	chains, err := c.SMembers(ctx, k.chains()).Result()
	if err != nil {
		return err
	}
	for _, chain := range chains {
		if err := c.Del(ctx, k.fixed(chain)...).Err(); err != nil {
			return err
		}
		if err := eachMaster(ctx, c, func(ctx context.Context, m *goredis.Client) error {
			return deleteMatching(ctx, m, k.cid(chain, "*"))
		}); err != nil {
			return err
		}
	}
	return c.Del(ctx, k.chains()).Err()
}

func deleteMatching(ctx context.Context, c *goredis.Client, pattern string) error {
	iter := c.Scan(ctx, 0, pattern, 1000).Iterator()
	for iter.Next(ctx) {
		if err := c.Del(ctx, iter.Val()).Err(); err != nil {
			return err
		}
	}
	return iter.Err()
}
