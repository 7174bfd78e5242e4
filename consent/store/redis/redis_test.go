package redis

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/consentgate/consentgate/consent/store"
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

// openTest opens a store under a fresh prefix, deleted when the test ends,
// and a second client to tamper with its keys.
func openTest(t testing.TB, url string) (store.Store, rawRedis) {
	prefix := testPrefix()
	s, err := Open(url+"?prefix="+prefix, Options{})
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
