package redis

import (
	"slices"
	"strings"
	"testing"
)

// Unpersisted names every server that would lose acknowledged proofs on a
// restart, in each of the URL forms, and none that keeps an append-only
// file.
func TestUnpersistedNamesServersWithoutAOF(t *testing.T) {
	servers.Lock()
	bare := ownNode(t)
	aof, err := newNode(servers.dir, "--appendonly", "yes")
	if err != nil {
		servers.Unlock()
		t.Fatal(err)
	}
	servers.own = append(servers.own, aof)
	servers.Unlock()
	_, sentinel := sentinelAddrs(t)
	cluster := clusterAddrs(t)

	for _, tc := range []struct {
		name, url string
		want      []string
	}{
		{"standalone without AOF", "redis://" + bare.Addr() + "/0", []string{bare.Addr()}},
		{"standalone with AOF", "redis://" + aof.Addr() + "/0", nil},
		{"Cluster without AOF", "redis+cluster://" + strings.Join(cluster, ","), cluster},
		{"Sentinel's master without AOF", "redis+sentinel://:" + sentinelPassword + "@" + sentinel + "/" + sentinelMaster + "/0",
			[]string{"the Sentinel master " + sentinelMaster}},
	} {
		got, err := Unpersisted(t.Context(), tc.url, nil)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		slices.Sort(got)
		want := slices.Sorted(slices.Values(tc.want))
		if !slices.Equal(got, want) {
			t.Errorf("%s: Unpersisted = %q, want %q", tc.name, got, want)
		}
	}
	if _, err := Unpersisted(t.Context(), "redis://127.0.0.1:1/0?dial_timeout=200ms", nil); err == nil {
		t.Error("a server nobody listens on was reported as persisted")
	}
}

// Evicting names a server that may evict keys when full, and not one that
// refuses writes instead (noeviction, which Redis itself defaults to).
func TestEvictingNamesServersThatMayDropKeys(t *testing.T) {
	servers.Lock()
	lru, err := newNode(servers.dir, "--maxmemory", "64mb", "--maxmemory-policy", "allkeys-lru")
	if err != nil {
		servers.Unlock()
		t.Fatal(err)
	}
	servers.own = append(servers.own, lru)
	safe, err := newNode(servers.dir, "--maxmemory", "64mb", "--maxmemory-policy", "noeviction")
	if err != nil {
		servers.Unlock()
		t.Fatal(err)
	}
	servers.own = append(servers.own, safe)
	servers.Unlock()
	for _, tc := range []struct {
		name, url string
		want      []string
	}{
		{"allkeys-lru", "redis://" + lru.Addr() + "/0", []string{lru.Addr()}},
		{"noeviction", "redis://" + safe.Addr() + "/0", nil},
	} {
		got, err := Evicting(t.Context(), tc.url, nil)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: Evicting = %q, want %q", tc.name, got, tc.want)
		}
	}
}
