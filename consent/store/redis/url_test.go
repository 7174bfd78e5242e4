package redis

import (
	"context"
	"github.com/consentgate/consentgate/consent/store/redis/redistest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

func TestParseURL(t *testing.T) {
	for _, c := range []struct {
		url     string
		addrs   []string
		db      int
		master  string
		cluster bool
		tls     bool
		user    string
		pass    string
		prefix  string
	}{
		{url: "redis://127.0.0.1:6379/0", addrs: []string{"127.0.0.1:6379"}, prefix: "cg"},
		{url: "redis://cache.internal", addrs: []string{"cache.internal:6379"}, prefix: "cg"},
		{url: "rediss://gw:s%40cret@redis.example:6380/3?prefix=consent", addrs: []string{"redis.example:6380"},
			db: 3, tls: true, user: "gw", pass: "s@cret", prefix: "consent"},
		{url: "redis://:pw@[::1]:7000/1", addrs: []string{"[::1]:7000"}, db: 1, pass: "pw", prefix: "cg"},
		{url: "redis+sentinel://host:26379,host2/mymaster/2", addrs: []string{"host:26379", "host2:26379"},
			master: "mymaster", db: 2, prefix: "cg"},
		{url: "rediss+sentinel://s1/prod", addrs: []string{"s1:26379"}, master: "prod", tls: true, prefix: "cg"},
		{url: "redis+cluster://host:7000,host:7001", addrs: []string{"host:7000", "host:7001"}, cluster: true, prefix: "cg"},
		{url: "redis+cluster://one:7000?timeout=250ms", addrs: []string{"one:7000"}, cluster: true, prefix: "cg"},
	} {
		cfg, err := ParseURL(c.url)
		if err != nil {
			t.Errorf("%s: %v", c.url, err)
			continue
		}
		o := cfg.Client
		if !slices.Equal(o.Addrs, c.addrs) || o.DB != c.db || o.MasterName != c.master || o.IsClusterMode != c.cluster ||
			(o.TLSConfig != nil) != c.tls || o.Username != c.user || o.Password != c.pass || cfg.Prefix != c.prefix {
			t.Errorf("%s: parsed %+v prefix %q", c.url, o, cfg.Prefix)
		}
		if !o.ContextTimeoutEnabled || o.ReadTimeout <= 0 || o.ReadTimeout > time.Second {
			t.Errorf("%s: timeouts %v / %v", c.url, o.ContextTimeoutEnabled, o.ReadTimeout)
		}
	}
	for _, bad := range []string{
		"127.0.0.1:6379", "http://h", "redis+foo://h", "redis://a,b", "redis://h/x", "redis://h:0",
		"redis+sentinel://h", "redis+cluster://h/0", "redis://h?prefix={x}", "redis://h?timeout=soon", "redis://h?color=blue",
		// TLS files: only with rediss, a key with every certificate, files that exist and hold PEM.
		"redis://h?tls_ca=url_test.go", "rediss://h?tls_cert=url_test.go", "rediss://h?tls_ca=/nonexistent/ca.pem",
		"rediss://h?tls_ca=url_test.go",
	} {
		if _, err := ParseURL(bad); err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
}

func TestOpenDoesNoNetworkIO(t *testing.T) {
	port, err := redistest.FreePort() // nothing listens there
	if err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	s, err := Open("redis://127.0.0.1:"+strconv.Itoa(port)+"/0?dial_timeout=200ms", Options{})
	if err != nil || time.Since(began) > 100*time.Millisecond {
		t.Fatalf("open took %v: %v", time.Since(began), err)
	}
	defer s.Close()
	if _, err := s.Head(context.Background(), "gw-1"); err == nil {
		t.Fatal("a store on a closed port answered")
	}
}

func TestChainKeysShareASlot(t *testing.T) {
	c := goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: clusterAddrs(t)})
	defer c.Close()
	k := keys{"cg"}
	slots := map[int64]bool{}
	for i := range 16 {
		chain := "gw-" + strconv.Itoa(i)
		slot := int64(-1)
		for _, key := range append(k.fixed(chain), k.cid(chain, "AbCd"), k.writer(chain)) {
			s, err := c.ClusterKeySlot(context.Background(), key).Result()
			if err != nil {
				t.Fatal(err)
			}
			if slot >= 0 && s != slot {
				t.Fatalf("chain %s spans slots %d and %d", chain, slot, s)
			}
			slot = s
		}
		slots[slot] = true
	}
	if len(slots) < 8 {
		t.Fatalf("16 chains share only %d slots", len(slots))
	}
}

// TestRedactHidesEverySecret: user information and password parameters
// (Sentinel's own) are hidden wherever a store URL is shown.
func TestRedactHidesEverySecret(t *testing.T) {
	for raw, want := range map[string]string{
		"redis://127.0.0.1:6379/0":                                                        "redis://127.0.0.1:6379/0",
		"rediss://user:hunter2@cache.example:6380/1?prefix=cg":                            "rediss://…@cache.example:6380/1?prefix=cg",
		"redis+sentinel://s1:26379,s2:26379/mymaster?sentinel_password=hunter2&prefix=cg": "redis+sentinel://s1:26379,s2:26379/mymaster?sentinel_password=…&prefix=cg",
		"redis+sentinel://:pw@s1/m?prefix=cg&Sentinel_Password=hunter2":                   "redis+sentinel://…@s1/m?prefix=cg&Sentinel_Password=…",
	} {
		if got := Redact(raw); got != want || strings.Contains(got, "hunter2") {
			t.Errorf("Redact(%q) = %q, want %q", raw, got, want)
		}
	}
}
