// Package redis is the shared proof store on Redis through go-redis v9's
// UniversalClient: standalone, Sentinel or Cluster, chosen by the URL (see
// ParseURL), so several gateway instances share one log. See keys.go for
// the key layout.
package redis

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/consentgate/consentgate/consent/proof"
	"github.com/consentgate/consentgate/consent/store"
	goredis "github.com/redis/go-redis/v9"
)

// Options configure the Redis store.
type Options struct {
	store.Options
	// Configure, if set, adjusts the client options parsed from the URL
	// (a private CA for rediss://, pool sizes) before the client is made.
	Configure func(*goredis.UniversalOptions)
	// OnLost, if set, is told when an append finds the chain's stored head
	// below the records before the batch: records it acknowledged earlier
	// are gone from Redis (see engine.Append).
	OnLost func(chain string, storedHead, batchLowest uint64)
}

// Open makes a store from a URL (see ParseURL). It does no network I/O:
// go-redis connects on first use, so a gateway starts while Redis is down.
func Open(rawURL string, opts Options) (store.Store, error) {
	cfg, c, err := newClient(rawURL, opts.Configure)
	if err != nil {
		return nil, err
	}
	e := newEngine(c, cfg.Prefix)
	e.onLost = opts.OnLost
	return claimingStore{Store: store.New(e, opts.Options), e: e}, nil
}

// newClient makes the client a store URL names, its options adjusted by
// configure (if set).
func newClient(rawURL string, configure func(*goredis.UniversalOptions)) (*Config, goredis.UniversalClient, error) {
	cfg, err := ParseURL(rawURL)
	if err != nil {
		return nil, nil, err
	}
	if configure != nil {
		configure(cfg.Client)
	}
	c := goredis.NewUniversalClient(cfg.Client)
	if cc, ok := c.(*goredis.ClusterClient); ok {
		cc.AddHook(reloadOnNetworkError{cc})
	}
	return cfg, c, nil
}

// reloadOnNetworkError asks a Cluster client to reload its slot map
// whenever a command fails on the network. On its own, go-redis reloads it
// on MOVED replies and once a minute, and a master that dies sends no
// MOVED: writes went on failing at its address for up to a minute after
// its replica had taken over. Reloads are cheap (one CLUSTER SLOTS) and
// go-redis runs at most one at a time.
type reloadOnNetworkError struct{ c *goredis.ClusterClient }

func (h reloadOnNetworkError) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (h reloadOnNetworkError) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		err := next(ctx, cmd)
		h.after(err)
		return err
	}
}

func (h reloadOnNetworkError) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		err := next(ctx, cmds)
		h.after(err)
		return err
	}
}

func (h reloadOnNetworkError) after(err error) {
	var reply goredis.Error
	if err == nil || errors.As(err, &reply) || errors.Is(err, context.Canceled) {
		return
	}
	h.c.ReloadState(context.Background())
}

// New makes a store on an existing client, which Close then closes. It is
// also a store.Claimer.
func New(c goredis.UniversalClient, prefix string, opts store.Options) store.Store {
	e := newEngine(c, prefix)
	return claimingStore{Store: store.New(e, opts), e: e}
}

type engine struct {
	c      goredis.UniversalClient
	k      keys
	known  sync.Map // chain ids registered in P:chains by this process
	onLost func(chain string, storedHead, batchLowest uint64)
}

func newEngine(c goredis.UniversalClient, prefix string) *engine {
	return &engine{c: c, k: keys{prefix}}
}

// register adds a chain to the chain set once per process.
func (e *engine) register(ctx context.Context, chain string) error {
	if _, ok := e.known.Load(chain); ok {
		return nil
	}
	if err := e.c.SAdd(ctx, e.k.chains(), chain).Err(); err != nil {
		return wrap(err)
	}
	e.known.Store(chain, true)
	return nil
}

func wrap(err error) error {
	if err == nil || err == goredis.Nil {
		return nil
	}
	if strings.HasPrefix(err.Error(), "CONFLICT") {
		return fmt.Errorf("%w: %v", store.ErrConflict, err)
	}
	if misconfigured(err) {
		return fmt.Errorf("redis store: %w: %w", store.ErrMisconfigured, err)
	}
	return fmt.Errorf("redis store: %w", err)
}

// misconfigured reports errors that say the client is set up wrong for the
// server, not that the server is away: a wrong password or user, an ACL
// that forbids a command or key, a database the server does not have, a
// certificate that does not verify.
func misconfigured(err error) bool {
	var (
		unknownCA x509.UnknownAuthorityError
		hostname  x509.HostnameError
		invalid   x509.CertificateInvalidError
		alert     tls.AlertError
	)
	if errors.As(err, &unknownCA) || errors.As(err, &hostname) || errors.As(err, &invalid) || errors.As(err, &alert) {
		return true
	}
	msg := err.Error()
	for _, says := range []string{"WRONGPASS", "NOPERM", "NOAUTH", "DB index is out of range", "invalid DB index", "x509: ", "tls: "} {
		if strings.Contains(msg, says) {
			return true
		}
	}
	return false
}

func (e *engine) Append(ctx context.Context, chain string, entries []store.Entry) error {
	if err := e.register(ctx, chain); err != nil {
		return err
	}
	if len(entries) == 0 {
		return nil
	}
	// The argument layout is appendScript's: counts, the seq range and the
	// top record's head, then the rec and ev pairs and the index seqs.
	n := len(entries)
	seqs := make([]any, n) // each seq goes two or three times into args: box it once
	keys := make([]string, 3, 3+n)
	keys[0], keys[1], keys[2] = e.k.rec(chain), e.k.ev(chain), e.k.meta(chain)
	lowest, top := 0, 0
	for i, en := range entries {
		seqs[i] = strconv.FormatUint(en.Seq, 10)
		if en.ConsentID != "" {
			keys = append(keys, e.k.cid(chain, en.ConsentID))
		}
		if en.Seq < entries[lowest].Seq {
			lowest = i
		}
		if en.Seq > entries[top].Seq {
			top = i
		}
	}
	m := len(keys) - 3
	args := make([]any, 6, 6+4*n+m)
	args[0], args[1], args[2] = n, m, seqs[lowest]
	args[3], args[4], args[5] = seqs[top], entries[top].Hash, strconv.FormatInt(entries[top].Time, 10)
	for i, en := range entries {
		args = append(args, seqs[i], en.JSON)
	}
	for i, en := range entries {
		args = append(args, en.EventID, seqs[i])
	}
	for i, en := range entries {
		if en.ConsentID != "" {
			args = append(args, seqs[i])
		}
	}
	res, err := appendScript.Run(ctx, e.c, keys, args...).Int64Slice()
	if err != nil {
		return wrap(err)
	}
	if low := entries[lowest].Seq; len(res) == 2 && uint64(res[1]) < low-1 {
		// Redis lost what it had acknowledged (a replica promoted before it
		// had every write, an older backup restored, a restart without
		// persistence), and with it, likely, the chain registry: register
		// again so audits find the chain, and say so. The batch is stored:
		// verification shows the gap, which is the truth.
		e.known.Delete(chain)
		if err := e.register(ctx, chain); err != nil {
			return err
		}
		if e.onLost != nil {
			e.onLost(chain, uint64(res[1]), low)
		}
	}
	return nil
}

func (e *engine) Head(ctx context.Context, chain string) (proof.Head, error) {
	v, err := e.c.HMGet(ctx, e.k.meta(chain), "seq", "hash", "time").Result()
	if err != nil {
		return proof.Head{}, wrap(err)
	}
	var head proof.Head
	// Absent fields are a chain not begun; unreadable ones must not read
	// as seq 0, which would begin the chain again (a fork).
	if s := str(v[0]); s != "" {
		if head.Seq, err = strconv.ParseUint(s, 10, 64); err != nil {
			return proof.Head{}, fmt.Errorf("redis store: chain %s: head seq %q: %w", chain, s, err)
		}
	}
	if s := str(v[2]); s != "" {
		if head.Time, err = strconv.ParseInt(s, 10, 64); err != nil {
			return proof.Head{}, fmt.Errorf("redis store: chain %s: head time %q: %w", chain, s, err)
		}
	}
	head.Hash = str(v[1])
	return head, nil
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func (e *engine) First(ctx context.Context, chain string) (uint64, error) {
	v, err := e.c.HGet(ctx, e.k.meta(chain), "first").Result()
	if err == goredis.Nil {
		return 1, nil
	}
	if err != nil {
		return 0, wrap(err)
	}
	n, _ := strconv.ParseUint(v, 10, 64)
	return max(n, 1), nil
}

func (e *engine) Read(ctx context.Context, chain string, seqs []uint64) ([][]byte, error) {
	fields := make([]string, len(seqs))
	for i, s := range seqs {
		fields[i] = strconv.FormatUint(s, 10)
	}
	vals, err := e.c.HMGet(ctx, e.k.rec(chain), fields...).Result()
	if err != nil {
		return nil, wrap(err)
	}
	out := make([][]byte, len(vals))
	for i, v := range vals {
		if s, ok := v.(string); ok {
			out[i] = []byte(s)
		}
	}
	return out, nil
}

func (e *engine) Locate(ctx context.Context, consentID string) (map[string][]uint64, error) {
	chains, err := e.Chains(ctx)
	if err != nil {
		return nil, err
	}
	sets := make([]*goredis.StringSliceCmd, len(chains))
	legacy := make([]*goredis.StringSliceCmd, len(chains))
	_, err = e.c.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for i, c := range chains {
			sets[i] = p.SMembers(ctx, e.k.cid(c, consentID))
			legacy[i] = p.ZRangeByLex(ctx, e.k.legacyCid(c), &goredis.ZRangeBy{
				Min: "[" + consentID + "\x00", Max: "(" + consentID + "\x01"})
		}
		return nil
	})
	if err != nil {
		return nil, wrap(err)
	}
	out := map[string][]uint64{}
	for i, c := range chains {
		for _, m := range sets[i].Val() {
			if seq, err := strconv.ParseUint(m, 10, 64); err == nil {
				out[c] = append(out[c], seq)
			}
		}
		for _, m := range legacy[i].Val() {
			if seq, err := strconv.ParseUint(m[len(consentID)+1:], 10, 64); err == nil {
				out[c] = append(out[c], seq)
			}
		}
		slices.Sort(out[c])
	}
	return out, nil
}

func (e *engine) Replace(ctx context.Context, chain, consentID string, entries []store.Entry) error {
	_, err := e.c.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		for _, en := range entries {
			seq := strconv.FormatUint(en.Seq, 10)
			p.HSet(ctx, e.k.rec(chain), seq, en.JSON)
			p.SRem(ctx, e.k.cid(chain, consentID), seq)
			p.ZRem(ctx, e.k.legacyCid(chain), legacyCidMember(consentID, seq))
		}
		return nil
	})
	return wrap(err)
}

func (e *engine) Delete(ctx context.Context, chain string, entries []store.Entry, first uint64) error {
	var seqs, events, legacy []string
	for _, en := range entries {
		seq := strconv.FormatUint(en.Seq, 10)
		seqs = append(seqs, seq)
		events = append(events, en.EventID)
		if en.ConsentID != "" {
			legacy = append(legacy, legacyCidMember(en.ConsentID, seq))
		}
	}
	_, err := e.c.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		if len(seqs) > 0 {
			p.HDel(ctx, e.k.rec(chain), seqs...)
			p.HDel(ctx, e.k.ev(chain), events...)
		}
		for i, en := range entries {
			if en.ConsentID != "" {
				p.SRem(ctx, e.k.cid(chain, en.ConsentID), seqs[i])
			}
		}
		if len(legacy) > 0 {
			p.ZRem(ctx, e.k.legacyCid(chain), toAny(legacy)...)
		}
		p.HSet(ctx, e.k.meta(chain), "first", strconv.FormatUint(first, 10))
		return nil
	})
	return wrap(err)
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func (e *engine) Chains(ctx context.Context) ([]string, error) {
	chains, err := e.c.SMembers(ctx, e.k.chains()).Result()
	slices.Sort(chains)
	return chains, wrap(err)
}

func (e *engine) PutCheckpoint(ctx context.Context, cp proof.Checkpoint) error {
	data, err := json.Marshal(cp)
	if err != nil {
		return err
	}
	if err := e.register(ctx, cp.Chain); err != nil {
		return err
	}
	return wrap(e.c.HSetNX(ctx, e.k.cp(cp.Chain), strconv.FormatUint(cp.Seq, 10), data).Err())
}

func (e *engine) Checkpoints(ctx context.Context, chain string) ([]proof.Checkpoint, error) {
	vals, err := e.c.HVals(ctx, e.k.cp(chain)).Result()
	if err != nil {
		return nil, wrap(err)
	}
	out := make([]proof.Checkpoint, 0, len(vals))
	for _, v := range vals {
		var cp proof.Checkpoint
		if err := json.Unmarshal([]byte(v), &cp); err != nil {
			return nil, fmt.Errorf("redis store: checkpoint: %w", err)
		}
		out = append(out, cp)
	}
	return out, nil
}

func (e *engine) Close() error { return e.c.Close() }

// LogClientTo sends go-redis's own messages (pool and connection trouble),
// which it otherwise prints to stderr in a format of its own, to log. It
// applies to the whole process.
func LogClientTo(log func(msg string)) { goredis.SetLogger(clientLog(log)) }

type clientLog func(msg string)

func (l clientLog) Printf(_ context.Context, format string, v ...any) {
	l(strings.TrimSpace(fmt.Sprintf(format, v...)))
}
