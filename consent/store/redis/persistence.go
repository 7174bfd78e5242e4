package redis

import (
	"context"
	"fmt"
	"strings"
	"sync"

	goredis "github.com/redis/go-redis/v9"
)

// Unpersisted names the servers behind a store URL that keep no append-only
// file (INFO persistence: aof_enabled:0). Such a server acknowledges a proof
// once it holds it in memory, so a restart loses every proof written since
// its last snapshot, if it takes any. Every Cluster master is asked; for
// Sentinel, the master it names. configure is as for Options.Configure.
func Unpersisted(ctx context.Context, rawURL string, configure func(*goredis.UniversalOptions)) ([]string, error) {
	return serversWhere(ctx, rawURL, configure, "persistence", func(info string) bool {
		return !strings.Contains(info, "aof_enabled:1")
	})
}

// Evicting names the servers behind a store URL that may evict keys when
// full (INFO memory: a maxmemory_policy other than noeviction): proofs, the
// chain registry and the chain's claim could vanish. Asked as Unpersisted.
func Evicting(ctx context.Context, rawURL string, configure func(*goredis.UniversalOptions)) ([]string, error) {
	return serversWhere(ctx, rawURL, configure, "memory", func(info string) bool {
		return !strings.Contains(info, "maxmemory_policy:noeviction")
	})
}

// serversWhere names the servers c writes to whose INFO section matches.
func serversWhere(ctx context.Context, rawURL string, configure func(*goredis.UniversalOptions), section string, match func(info string) bool) ([]string, error) {
	cfg, c, err := newClient(rawURL, configure)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	var (
		mu    sync.Mutex
		named []string
	)
	err = eachMaster(ctx, c, func(ctx context.Context, server *goredis.Client) error {
		info, err := server.Info(ctx, section).Result()
		if err != nil {
			return wrap(err)
		}
		if !match(info) {
			return nil
		}
		name := server.Options().Addr
		if cfg.Client.MasterName != "" {
			name = "the Sentinel master " + cfg.Client.MasterName
		}
		mu.Lock()
		named = append(named, name)
		mu.Unlock()
		return nil
	})
	return named, err
}

// eachMaster calls fn with each server c writes to: every Cluster master
// (concurrently), or c itself.
func eachMaster(ctx context.Context, c goredis.UniversalClient, fn func(context.Context, *goredis.Client) error) error {
	switch c := c.(type) {
	case *goredis.ClusterClient:
		return c.ForEachMaster(ctx, fn)
	case *goredis.Client:
		return fn(ctx, c)
	}
	return fmt.Errorf("redis store: no masters known for a %T", c)
}
