package redis

import (
	"context"
	neturl "net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/consentgate/consentgate/consent/store"
	"github.com/consentgate/consentgate/consent/store/redis/redistest"
	"github.com/consentgate/consentgate/consent/store/storetest"
	goredis "github.com/redis/go-redis/v9"
)

func TestStore(t *testing.T) {
	storetest.Run(t, storetest.Backend{
		Open: func(t *testing.T) (store.Store, storetest.Raw) {
			return openTest(t, "redis://"+standaloneAddr(t)+"/0")
		},
		Outage: func(t *testing.T) (store.Store, func(), func()) {
			servers.Lock()
			n := ownNode(t)
			servers.Unlock()
			s, _ := openTest(t, "redis://"+n.Addr()+"/0")
			return s, n.Stop, func() {
				if err := n.Start(); err != nil {
					t.Error(err)
				}
			}
		},
	})
}

func TestStoreCluster(t *testing.T) {
	storetest.Run(t, storetest.Backend{
		Open: func(t *testing.T) (store.Store, storetest.Raw) {
			return openTest(t, "redis+cluster://"+strings.Join(clusterAddrs(t), ","))
		},
		Outage: func(t *testing.T) (store.Store, func(), func()) {
			s, _ := openTest(t, "redis+cluster://"+strings.Join(clusterAddrs(t), ","))
			stop := func() {
				for _, n := range servers.cluster {
					n.Stop()
				}
			}
			start := func() {
				for _, n := range servers.cluster {
					if err := n.Start(); err != nil {
						t.Error(err)
					}
				}
				waitClusterOK(t, servers.cluster)
			}
			return s, stop, start
		},
	})
}

// TestStoreSentinel runs the suite through a real Sentinel that names a
// password-protected master: the URL gives the Sentinel, the master's name
// and its password. The outage stops the master.
func TestStoreSentinel(t *testing.T) {
	url := func(t *testing.T, password string) string {
		_, sentinel := sentinelAddrs(t)
		return "redis+sentinel://:" + password + "@" + sentinel + "/" + sentinelMaster + "/0"
	}
	// The password in the URL is what lets the store in.
	s, err := Open(url(t, "wrong"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Head(t.Context(), "gw-1")
	s.Close()
	if err == nil || !strings.Contains(err.Error(), "WRONGPASS") {
		t.Fatalf("a wrong password in the URL: %v, want WRONGPASS", err)
	}
	storetest.Run(t, storetest.Backend{
		Open: func(t *testing.T) (store.Store, storetest.Raw) {
			return openTest(t, url(t, sentinelPassword))
		},
		Outage: func(t *testing.T) (store.Store, func(), func()) {
			s, _ := openTest(t, url(t, sentinelPassword))
			start := func() {
				if err := servers.master.Start(); err != nil {
					t.Error(err)
				}
			}
			return s, servers.master.Stop, start
		},
	})
}

// TestStoreTLS runs the suite through rediss:// to a Redis that speaks only
// TLS, with certificates of a private CA made for the test: tls_ca trusts
// it, tls_cert and tls_key are the client certificate Redis asks for. A
// CA that did not sign the server's certificate, the system's roots, or no
// client certificate are refused.
func TestStoreTLS(t *testing.T) {
	n, ca := tlsServer(t)
	cert, key, err := ca.Issue("gateway", false)
	if err != nil {
		t.Fatal(err)
	}
	other, err := redistest.NewCA(t.TempDir(), "other-ca")
	if err != nil {
		t.Fatal(err)
	}
	url := func(params ...string) string {
		q := neturl.Values{}
		for i := 0; i+1 < len(params); i += 2 {
			q.Set(params[i], params[i+1])
		}
		return "rediss://" + n.Addr() + "/0?" + q.Encode()
	}
	for _, bad := range []struct {
		name, url string
		want      []string // any of them
	}{
		{"another CA", url("tls_ca", other.CertFile, "tls_cert", cert, "tls_key", key), []string{"certificate signed by unknown authority"}},
		{"the system's roots", url("tls_cert", cert, "tls_key", key), []string{"certificate signed by unknown authority"}},
		// In TLS 1.3 the server checks the client's certificate after the
		// client has finished its handshake: the client reads the server's
		// alert, or, if the server has closed before the client's first
		// write reaches it, a reset that discards the alert.
		{"no client certificate", url("tls_ca", ca.CertFile), []string{"certificate required", "connection reset by peer"}},
	} {
		s, err := Open(bad.url, Options{})
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.Head(t.Context(), "gw-1")
		s.Close()
		if err == nil || !slices.ContainsFunc(bad.want, func(w string) bool { return strings.Contains(err.Error(), w) }) {
			t.Errorf("%s: %v, want one of %q", bad.name, err, bad.want)
		}
	}
	good := url("tls_ca", ca.CertFile, "tls_cert", cert, "tls_key", key)
	storetest.Run(t, storetest.Backend{
		Open: func(t *testing.T) (store.Store, storetest.Raw) {
			return openTest(t, good)
		},
		Outage: func(t *testing.T) (store.Store, func(), func()) {
			s, _ := openTest(t, good)
			return s, n.Stop, func() {
				if err := n.Start(); err != nil {
					t.Error(err)
				}
			}
		},
	})
}

// openTest opens a store under a fresh prefix, deleted when the test ends,
// and a second client to tamper with its keys.
func openTest(t testing.TB, url string) (store.Store, rawRedis) {
	prefix := testPrefix()
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	s, err := Open(url+sep+"prefix="+prefix, Options{})
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := ParseURL(url)
	raw := goredis.NewUniversalClient(cfg.Client)
	t.Cleanup(func() {
		if err := cleanup(raw, prefix); err != nil {
			t.Logf("cleaning up %s: %v", prefix, err)
		}
		raw.Close()
	})
	return s, rawRedis{raw, keys{prefix}}
}

// rawRedis edits keys behind the store's back.
type rawRedis struct {
	c goredis.UniversalClient
	k keys
}

func (r rawRedis) Overwrite(chain string, seq uint64, raw []byte) error {
	return r.c.HSet(context.Background(), r.k.rec(chain), strconv.FormatUint(seq, 10), raw).Err()
}

func (r rawRedis) Remove(chain string, seq uint64) error {
	return r.c.HDel(context.Background(), r.k.rec(chain), strconv.FormatUint(seq, 10)).Err()
}
