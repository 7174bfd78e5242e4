package redis

import (
	"context"
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
	cfg, err := ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	if configure != nil {
		configure(cfg.Client)
	}
	c := goredis.NewUniversalClient(cfg.Client)
	defer c.Close()
	var (
		mu   sync.Mutex
		none []string
	)
	ask := func(ctx context.Context, server *goredis.Client, name string) error {
		info, err := server.Info(ctx, "persistence").Result()
		if err != nil {
			return wrap(err)
		}
		if !strings.Contains(info, "aof_enabled:1") {
			mu.Lock()
			none = append(none, name)
			mu.Unlock()
		}
		return nil
	}
	switch c := c.(type) {
	case *goredis.ClusterClient:
		err = c.ForEachMaster(ctx, func(ctx context.Context, m *goredis.Client) error {
			return ask(ctx, m, m.Options().Addr)
		})
	case *goredis.Client:
		name := c.Options().Addr
		if cfg.Client.MasterName != "" {
			name = "the Sentinel master " + cfg.Client.MasterName
		}
		err = ask(ctx, c, name)
	}
	return none, err
}
