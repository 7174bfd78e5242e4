package caddymodule

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"
	"go.uber.org/zap/exp/zapslog"

	"github.com/consentgate/consentgate/consent/cookie"
	"github.com/consentgate/consentgate/consent/proof"
	"github.com/consentgate/consentgate/consent/store"
	"github.com/consentgate/consentgate/consent/store/bolt"
	"github.com/consentgate/consentgate/consent/store/redis"
	"github.com/consentgate/consentgate/consent/store/spool"
)

// sinks holds the proof machinery per store and chain. It outlives config
// reloads: a reload must neither reopen the bolt file (it is locked) nor
// lose the chain head or the spool.
var sinks = caddy.NewUsagePool()

// headSaveEvery is how often the local copy of a changed chain head is
// written.
const headSaveEvery = 50 * time.Millisecond

// checkpointEvery is how often each chain gets a signed checkpoint (and the
// store enforces retention); one is also written at shutdown. A sink reads
// it when it opens; it is a variable so that tests can shorten it
// (export_test.go).
var checkpointEvery = 6 * time.Hour

// proofSink writes one gateway instance's proofs to one store.
type proofSink struct {
	name      string // the store as configured, for the admin API
	retention time.Duration
	chainID   string
	keys      proofKeySet // guarded by mu
	headFile  string
	spoolDir  string
	urlStem   string // what headFile and spoolDir were named by up to 2067377 (spooldir.go)
	logger    *zap.Logger
	// spoolAfter is how long a proof waits for the store before it is
	// spooled instead (the write deadline).
	spoolAfter time.Duration

	// erasures lists what this instance erased, and receiptsSwept says
	// that tombstones from before erasure receipts were given theirs
	// (erasure.go).
	erasures      *erasureLog
	receiptsSwept string

	// The store and spool, set by open (once); read them only after it.
	opening sync.Once
	openErr error
	opened  atomic.Bool
	store   store.Store
	resil   *store.Resilient
	writer  *store.Batcher
	onRedis bool // a Redis store, whose settings maintenance checks again

	// claimer, when the store is shared, holds this gateway's claim on its
	// chain, under the name holder; set by open.
	claimer store.Claimer
	holder  string

	mu    sync.Mutex
	chain *proof.Chain // resumed on first use, so that Provision does no I/O to the store
	// lastCheckpoint is the last checkpoint this process made or found
	// stored at the head it checkpointed.
	lastCheckpoint proof.Checkpoint

	// spool holds proofs while the store is down; a resumed chain continues
	// after its last record. Set by open.
	spool *spool.Spool
	// durable is the head of the records known to be written (to the store
	// or the spool): sealed and queued in order, they are written as a
	// prefix, so everything up to it is safe. It is what the local head
	// file and checkpoints record, never a head still in flight.
	durableMu sync.Mutex
	durable   proof.Head
	// headDirty tells the goroutine that keeps the local copy of the
	// durable head that it changed, so sealing never waits for the disk.
	headDirty atomic.Bool
	// stampedAhead spaces the word that proofs are dated ahead of the
	// clock (clock.go).
	stampedAhead store.Spacer

	// erasureWork is set while erasure.go's maintenance runs beside the
	// maintenance loop; Destruct waits for it (background).
	erasureWork atomic.Bool
	background  sync.WaitGroup

	stop chan struct{}
	done chan struct{}
}

// proofKeys is the proof key file kept in Caddy's data directory.
type proofKeys struct {
	MAC     string `json:"mac"`
	Signing string `json:"signing_seed"`
}

// openSink opens (or shares) the sink for the handler's store and chain.
func (h *Handler) openSink() (*proofSink, error) {
	chainID, err := h.chainID()
	if err != nil {
		return nil, err
	}
	keys, err := h.proofKeys()
	if err != nil {
		return nil, err
	}
	// One sink per chain and place the store keeps records: two spellings
	// of one Redis (another timeout, a rotated password) share it, rather
	// than seal the same seqs twice and share one spool directory.
	name := h.storeName()
	identity, err := storeIdentity(name)
	if err != nil { // a wrong URL is a configuration error
		return nil, fmt.Errorf("store %s: %w", redactURL(name), err)
	}
	retention := durationOr(h.ProofRetention, store.DefaultProofRetention)
	spoolAfter := durationOr(h.SpoolAfter, store.DefaultWriteDeadline)
	key := identity + "#" + chainID
	v, loaded, err := sinks.LoadOrNew(key, func() (caddy.Destructor, error) {
		sink := h.newSink(name, chainID, identity, retention, keys)
		sink.spoolAfter = spoolAfter
		return sink, nil
	})
	if err != nil {
		return nil, err
	}
	h.sinkKey = key
	sink := v.(*proofSink)
	if !loaded {
		return sink, nil
	}
	if err := sink.useKeys(keys); err != nil {
		sinks.Delete(key)
		return nil, err
	}
	// The store was opened with the URL, the retention and the write
	// deadline it goes on with.
	if sink.name != name {
		h.logger.Warn("this store and chain are already written through another spelling of its URL, whose settings (credentials, timeouts, TLS) stay in force until the gateway restarts",
			zap.String("chain", chainID), zap.String("in_force", redactURL(sink.name)), zap.String("configured", redactURL(name)))
	}
	for _, d := range []struct {
		name                string
		inForce, configured time.Duration
	}{{"proof_retention", sink.retention, retention}, {"spool_after", sink.spoolAfter, spoolAfter}} {
		if d.inForce != d.configured {
			h.logger.Warn(d.name+" changed: it takes effect when the gateway restarts",
				zap.Duration("in_force", d.inForce), zap.Duration("configured", d.configured))
		}
	}
	return sink, nil
}

// storeName is the store URL with placeholders ({env.REDIS_PASSWORD})
// resolved, or the embedded store's file.
func (h *Handler) storeName() string {
	if h.Store != "" {
		return caddy.NewReplacer().ReplaceAll(h.Store, "")
	}
	return "bolt://" + dataPath("proofs.db")
}

func (h *Handler) chainID() (string, error) {
	if h.Chain != "" {
		id := caddy.NewReplacer().ReplaceAll(h.Chain, "")
		if !proof.ValidChainID(id) {
			return "", fmt.Errorf("chain %q: use 1 to 64 of A-Z a-z 0-9 . _ -", id)
		}
		return id, nil
	}
	// One chain per data directory, which is one per instance.
	id, err := loadOrGenerate(dataPath("chain-id.json"), "this instance's chain id", "a new chain starts, and its head file and spool no longer match it", func() string {
		b := make([]byte, 4)
		rand.Read(b)
		return strings.TrimPrefix(fmt.Sprintf("%.40s-%x", hostLabel(), b), "-")
	})
	return id, err
}

func (h *Handler) newSink(name, chainID, identity string, retention time.Duration, keys proofKeySet) *proofSink {
	return &proofSink{
		name:      name,
		chainID:   chainID,
		keys:      keys,
		headFile:  dataPath("chain-" + fileStem(chainID, identity) + ".head.json"),
		spoolDir:  dataPath("spool-" + fileStem(chainID, identity)),
		urlStem:   fileStem(chainID, name),
		logger:    h.logger.Named("proofs"),
		retention: retention,
		stop:      make(chan struct{}),
		done:      make(chan struct{}),

		erasures:      &erasureLog{path: dataPath("erasures-" + fileStem(chainID, identity) + ".jsonl")},
		receiptsSwept: dataPath("receipts-" + fileStem(chainID, identity) + ".json"),

		stampedAhead: store.Spacer{Every: stampedAheadEvery},
	}
}

// open opens the sink's store and spool and starts its background work
// (replaying the spool, checkpoints, retention), once: when the server
// starts (App.Start) or at the sink's first use, whichever comes first. A
// configuration that is only validated is never started, so validating
// beside a running gateway neither opens its store nor waits for the locks
// that gateway holds.
func (s *proofSink) open() error {
	s.opening.Do(func() {
		if s.openErr = s.openStores(); s.openErr == nil {
			s.opened.Store(true)
		}
	})
	return s.openErr
}

func (s *proofSink) openStores() error {
	opts := store.Options{Retention: store.Retention{Proof: s.retention}}
	var err error
	switch {
	case strings.HasPrefix(s.name, "bolt://"):
		path := strings.TrimPrefix(s.name, "bolt://")
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return err
		}
		began := time.Now()
		if s.store, err = bolt.Open(path, bolt.Options{Options: opts}); err == nil {
			// A large file from an earlier version is read whole once:
			// the time says why a start took long.
			var size int64
			if fi, err := os.Stat(path); err == nil {
				size = fi.Size()
			}
			s.logger.Info("proof store opened", zap.String("file", path), zap.Int64("bytes", size), zap.Duration("duration", time.Since(began)))
		}
	default:
		redisClientLog.Do(func() { // to the log of whichever configuration runs then
			trouble := &store.Spacer{Every: time.Minute}
			redis.LogClientTo(func(msg string) {
				log := caddy.Log().Named("http.handlers.consent.redis")
				if redisNews(msg) {
					log.Info(msg)
				} else if ok, skipped := trouble.Allow(msg); ok {
					log.Warn(msg, zap.Int("repeats_since_last", skipped))
				}
			})
		})
		if s.store, err = redis.Open(s.name, redis.Options{Options: opts, OnLost: s.storeLost}); err == nil {
			s.onRedis = true
			go s.checkPersistence()
		}
	}
	if err != nil {
		return fmt.Errorf("store %s: %w", redactURL(s.name), err)
	}
	if c, ok := s.store.(store.Claimer); ok {
		if err := s.claimChain(c); err != nil {
			s.store.Close()
			return err
		}
	}
	if err := s.adoptURLNamedFiles(); err != nil {
		s.store.Close()
		return err
	}
	if err := s.adoptOldSpool(); err != nil {
		s.store.Close()
		return err
	}
	s.noteOtherSpools()
	sp, err := spool.Open(s.spoolDir)
	if err != nil {
		s.store.Close()
		return fmt.Errorf("proof spool: %w", err)
	}
	s.spool = sp
	s.resil = store.NewResilient(s.store, sp, store.ResilientOptions{
		// The sink's logger name, chain and store, which a zap core alone
		// does not carry.
		Logger: slog.New(zapslog.NewHandler(s.logger.Core(), zapslog.WithName(s.logger.Name()))).
			With("chain", s.chainID, "store", redactURL(s.name)),
		WriteDeadline: s.spoolAfter,
		OnRejected:    s.restartChain,
	})
	s.writer = store.NewBatcher(s.resil, store.BatcherOptions{OnConflict: s.conflicted})
	go s.maintain(checkpointEvery)
	return nil
}

// openedStore is the sink's store, opened if it was not yet.
func (s *proofSink) openedStore() (store.Store, error) {
	if err := s.open(); err != nil {
		return nil, err
	}
	return s.store, nil
}

// checkPersistence says once in the log whether the Redis servers keep an
// append-only file. Without one, a server acknowledges a proof once it holds
// it in memory, and a restart loses what it took since its last snapshot:
// consentgate cannot set that for the operator, only point it out.
func (s *proofSink) checkPersistence() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	none, err := redis.Unpersisted(ctx, s.name, nil)
	switch {
	case err != nil:
		s.logger.Debug("could not ask Redis whether it keeps proofs on disk", zap.Error(err))
	case len(none) > 0:
		s.logger.Warn("Redis keeps no append-only file: a restart loses the proofs it acknowledged since its last snapshot; set appendonly yes",
			zap.Strings("servers", none), zap.String("store", redactURL(s.name)))
	default:
		s.logger.Info("Redis keeps proofs in its append-only file", zap.String("store", redactURL(s.name)))
	}
	s.warnIfEvicting(ctx)
}

// warnIfEvicting warns when a Redis server of the store may evict keys.
// It runs at open and with every maintenance pass: a policy changed on a
// running server (CONFIG SET, a failover to a replica configured apart)
// would otherwise go unnoticed until proofs went missing.
func (s *proofSink) warnIfEvicting(ctx context.Context) {
	evicting, err := redis.Evicting(ctx, s.name, nil)
	if err == nil && len(evicting) > 0 {
		s.logger.Warn("Redis may evict keys when its memory is full, proofs and the chain registry among them; set maxmemory-policy noeviction",
			zap.Strings("servers", evicting), zap.String("store", redactURL(s.name)))
	}
}

// redisNews tells go-redis's plain news from its trouble: Sentinel says
// which master it found on every new connection ("sentinel: selected
// addr=…", "sentinel: new master=…"), which is no cause for a warning.
func redisNews(msg string) bool {
	if !strings.HasPrefix(msg, "sentinel: ") {
		return false
	}
	lower := strings.ToLower(msg)
	return !strings.Contains(lower, "fail") && !strings.Contains(lower, "error") && !strings.Contains(lower, "unable")
}

// storeLost says that Redis no longer has proofs it acknowledged, found
// when an append met a stored head below the records before it.
func (s *proofSink) storeLost(chain string, storedHead, batchLowest uint64) {
	s.logger.Error("Redis has lost proofs it acknowledged (a failover to a replica that lacked them, an older backup restored, a restart without persistence, keys evicted under a maxmemory policy other than noeviction, or deleted: FLUSHDB, DEL); the chain goes on and verify names the missing seqs",
		zap.String("chain", chain), zap.Uint64("stored_head", storedHead), zap.Uint64("next_seq", batchLowest),
		zap.String("store", redactURL(s.name)))
}

// proofKeySet is what a sink seals and verifies with.
type proofKeySet struct {
	mac    proof.MACKey
	signer proof.SigningKey
	verify proof.Keys // every generation: configured, previous and generated
}

// proofKeys are the configured proof keys, or those generated on first
// start, and every generation that still verifies.
func (h *Handler) proofKeys() (proofKeySet, error) {
	k := proofKeys{MAC: h.ProofKey, Signing: h.SigningKey}
	macs, seeds := h.PreviousProofKeys, h.PreviousSigningKeys
	path := dataPath("proof-keys.json")
	var stored proofKeys
	var err error
	if k.MAC == "" || k.Signing == "" {
		stored, err = loadOrGenerate(path, "the proof keys", "the proofs sealed with them no longer verify", func() proofKeys {
			mac, seed := make([]byte, 32), make([]byte, ed25519.SeedSize)
			rand.Read(mac)
			rand.Read(seed)
			return proofKeys{MAC: base64.StdEncoding.EncodeToString(mac), Signing: base64.StdEncoding.EncodeToString(seed)}
		})
		if err != nil {
			return proofKeySet{}, err
		}
	} else if err = readJSON(path, &stored); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return proofKeySet{}, err
	}
	if stored.MAC != "" {
		// Generated keys verify what was sealed before keys were configured.
		macs, seeds = append(macs, stored.MAC), append(seeds, stored.Signing)
	}
	if k.MAC == "" {
		k.MAC = stored.MAC
	}
	if k.Signing == "" {
		k.Signing = stored.Signing
	}
	set := proofKeySet{verify: proof.Keys{MAC: map[string][]byte{}, PublicKeys: map[string]ed25519.PublicKey{}}}
	for i, s := range append([]string{k.MAC}, macs...) {
		mac, err := parseMACKey(s)
		if err != nil {
			return proofKeySet{}, fmt.Errorf("proof_key (generation %d): %w", i+1, err)
		}
		if i == 0 {
			set.mac = mac
		}
		set.verify.MAC[mac.ID] = mac.Secret
	}
	for i, s := range append([]string{k.Signing}, seeds...) {
		signer, err := parseSigningKey(s)
		if err != nil {
			return proofKeySet{}, fmt.Errorf("signing_key (generation %d): %w", i+1, err)
		}
		if i == 0 {
			set.signer = signer
		}
		set.verify.PublicKeys[signer.ID] = signer.Public()
	}
	return set, nil
}

func parseMACKey(s string) (proof.MACKey, error) {
	secret, err := parseKeyFrom(caddy.NewReplacer(), s)
	if amb, ok := errors.AsType[*cookie.AmbiguousKeyError](err); ok {
		// The records name the key that sealed them: its id tells which
		// reading a key that already ran had.
		return proof.MACKey{}, fmt.Errorf("%w; as hex its key id would be %s, as base64 %s (records name theirs in key_id)",
			err, macKeyID(amb.Hex), macKeyID(amb.Base64))
	}
	if err != nil {
		return proof.MACKey{}, err
	}
	return proof.NewMACKey(secret)
}

// macKeyID is the id of a MAC key, or why it has none.
func macKeyID(secret []byte) string {
	if secret == nil {
		return "none (not hex)"
	}
	k, err := proof.NewMACKey(secret)
	if err != nil {
		return "none (too short)"
	}
	return k.ID
}

func parseSigningKey(s string) (proof.SigningKey, error) {
	seed, err := parseKeyFrom(caddy.NewReplacer(), s)
	if _, ambiguous := errors.AsType[*cookie.AmbiguousKeyError](err); ambiguous || errors.Is(err, errEmptyPlaceholder) {
		return proof.SigningKey{}, err
	}
	if err != nil || len(seed) != ed25519.SeedSize {
		return proof.SigningKey{}, fmt.Errorf("want a %d-byte Ed25519 seed, base64 or hex", ed25519.SeedSize)
	}
	return proof.NewSigningKey(ed25519.NewKeyFromSeed(seed))
}

// useKeys switches a running sink to a configuration's keys (a reload that
// rotated them): the chain goes on, later records name the new keys, and
// every generation seen stays available for verification.
func (s *proofSink) useKeys(k proofKeySet) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	maps.Copy(k.verify.MAC, s.keys.verify.MAC)
	maps.Copy(k.verify.PublicKeys, s.keys.verify.PublicKeys)
	s.keys = k
	if s.chain != nil {
		return s.chain.Rotate(k.mac, k.signer)
	}
	return nil
}

// record seals a proof on this instance's chain and stores it. When the
// store is down the proof is spooled on disk and replayed later, so the
// visitor is never blocked and nothing is lost. It returns once the proof
// is durable (stored, or spooled and synced).
func (s *proofSink) record(ctx context.Context, r proof.Record) (proof.Record, error) {
	if err := s.open(); err != nil {
		return proof.Record{}, err
	}
	sealed, err := s.sealAndWrite(ctx, r)
	if errors.Is(err, store.ErrConflict) {
		// Another record holds the seq: the chain resumed after it (see
		// resumeHead) takes this proof.
		sealed, err = s.sealAndWrite(ctx, r)
	}
	return sealed, err
}

// sealAndWrite seals r on the chain and waits for it to be written.
func (s *proofSink) sealAndWrite(ctx context.Context, r proof.Record) (proof.Record, error) {
	s.mu.Lock()
	if err := s.ensureChainLocked(ctx); err != nil {
		s.mu.Unlock()
		return proof.Record{}, err
	}
	now := time.Now()
	chain := s.chain
	sealed, err := chain.Seal(r)
	if err != nil {
		s.mu.Unlock()
		return proof.Record{}, err
	}
	// Queued under the lock that sealed it: records are written in chain
	// order, so a crash can lose only a tail that was never acknowledged.
	written := s.writer.Enqueue(ctx, []proof.Record{sealed})
	s.mu.Unlock()
	s.checkStamp(sealed, now)
	// Wait even if the visitor has gone: the write goes ahead all the same,
	// and its outcome must be accounted for (and a failure reset the
	// chain). The write deadline (spool_after) and the spool bound the
	// wait.
	if err = <-written; err != nil {
		// The chain's head names a record that is not stored: resume from
		// what is, so later records do not link to it (unless that was done
		// already, and a resumed chain is sealing).
		s.mu.Lock()
		if s.chain == chain {
			s.chain = nil
		}
		s.mu.Unlock()
		return proof.Record{}, err
	}
	s.noteDurable(proof.Head{Seq: sealed.Seq, Hash: sealed.Hash, Time: sealed.Time})
	return sealed, nil
}

// conflicted is told by the batcher that the store refused an append for
// a conflict (another record at one of its seqs): what is queued behind it
// links to the refused records, so it fails too, and sealing resumes from
// the store (after any record past its head, skipPastHead). Under s.mu,
// nothing sealed on the old chain is queued after this.
func (s *proofSink) conflicted(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.chain = nil
	s.writer.FailQueued(err)
}

// restartChain is told by the replayer that the store refused spooled
// proofs for good: the chain's head, and the durable head, name records
// the store does not hold, so sealing resumes from what it holds.
func (s *proofSink) restartChain() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.chain = nil
	s.durableMu.Lock()
	s.durable = proof.Head{}
	s.durableMu.Unlock()
}

// noteDurable advances the durable head. Writers finish in chain order but
// may report in any order, so the highest sequence wins.
func (s *proofSink) noteDurable(h proof.Head) {
	s.durableMu.Lock()
	if h.Seq > s.durable.Seq {
		s.durable = h
		s.headDirty.Store(true)
	}
	s.durableMu.Unlock()
}

func (s *proofSink) durableHead() proof.Head {
	s.durableMu.Lock()
	defer s.durableMu.Unlock()
	return s.durable
}

// ensureChain resumes the chain from its head if nothing was sealed since
// the sink opened.
func (s *proofSink) ensureChain(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ensureChainLocked(ctx)
}

func (s *proofSink) ensureChainLocked(ctx context.Context) error {
	if s.chain != nil {
		return nil
	}
	c, err := proof.NewChain(proof.ChainConfig{ID: s.chainID, MAC: s.keys.mac, Signer: s.keys.signer, Retention: s.retention}, s.resumeHead(ctx))
	if err != nil {
		return err
	}
	s.chain = c
	return nil
}

// resumeHead is where the chain goes on after a restart: after the latest
// of the store's head, the last spooled record (ahead of the store while it
// was down) and the local copy of the durable head (for a store that is
// unreachable now). All three name only records that were written.
func (s *proofSink) resumeHead(ctx context.Context) proof.Head {
	head := s.durableHead()
	var local proof.Head
	if err := readJSON(s.headFile, &local); err == nil && local.Seq > head.Seq {
		head = local
	}
	if rec, ok, err := s.spool.LastRecord(); err != nil {
		s.logger.Error("reading the proof spool's last record", zap.Error(err))
	} else if ok && rec.Seq > head.Seq {
		head = proof.Head{Seq: rec.Seq, Hash: rec.Hash, Time: rec.Time}
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	remote, err := s.store.Head(ctx, s.chainID)
	switch {
	case err != nil:
		s.logger.Warn("store unreachable; continuing the chain from the local and spooled head", zap.Error(err), zap.Uint64("seq", head.Seq))
	case remote.Seq > head.Seq, remote.Seq == head.Seq && remote.Hash != head.Hash:
		// (At the same seq, the store's record is the one that counts: the
		// local head can name a proof the store refused.)
		head = remote
	case remote.Seq < local.Seq && s.spool.Pending() == 0:
		// Nothing spooled fills it: the store lost what it acknowledged.
		// The chain goes on after the local head, so that verification
		// names the gap instead of new proofs taking the lost ones' seqs.
		s.logger.Error("the store holds fewer proofs of this chain than this gateway wrote (an older copy of it restored, or a store that lost data): verification names the missing ones as a gap",
			zap.Uint64("store_last_seq", remote.Seq), zap.Uint64("written_last_seq", local.Seq), zap.String("head_file", s.headFile))
	}
	if err == nil {
		head = s.skipPastHead(ctx, head)
	}
	if err == nil && remote.Seq > 0 {
		s.checkChainKeys(ctx, remote)
	}
	if err == nil && head.Seq == 0 { // the store answered: nothing of this chain anywhere here
		s.noteChainElsewhere()
	}
	s.durableMu.Lock()
	if head.Seq > s.durable.Seq {
		s.durable = head
	}
	s.durableMu.Unlock()
	return head
}

// skipPastHead is where the chain goes on when the store holds records
// right after head that its head does not name (written around the
// gateway, by hand or by a bug): after them, or every proof sealed would
// take a seq already stored and be refused, and with it the visitor's
// choice. They are not vouched for: verify checks them as any record.
func (s *proofSink) skipPastHead(ctx context.Context, head proof.Head) proof.Head {
	past, err := s.store.Past(ctx, s.chainID, head.Seq)
	if err != nil || past.Seq == 0 {
		return head
	}
	s.logger.Error("the store holds records of this chain past its head, which this gateway did not write through it (written by hand, by another program, or by another gateway with this chain id): the chain goes on after them; run verify",
		zap.Uint64("head_seq", head.Seq), zap.Uint64("stored_up_to_seq", past.Seq))
	return past
}

// checkChainKeys says, when a chain resumes from its store (under s.mu),
// whether the keys that sealed its last record and signed its last
// checkpoint are among those configured (current or previous
// generations). Keys replaced without keeping the old ones start without a
// word, and verify then reports bad_hmac and bad_checkpoint, as for
// tampering: this says why.
func (s *proofSink) checkChainKeys(ctx context.Context, head proof.Head) {
	keys := s.keys.verify // resumeHead runs under s.mu
	var unknown []zap.Field
	var lastMAC string
	err := s.store.Range(ctx, store.Query{Chain: s.chainID, Since: time.UnixMilli(head.Time)}, func(r proof.Record) error {
		lastMAC = r.KeyID
		return nil
	})
	if _, ok := keys.MAC[lastMAC]; err == nil && lastMAC != "" && !ok {
		unknown = append(unknown, zap.String("proof_key_id", lastMAC))
	}
	cps, err := s.store.Checkpoints(ctx, s.chainID)
	if n := len(cps); err == nil && n > 0 {
		if id := cps[n-1].KeyID; keys.PublicKeys[id] == nil {
			unknown = append(unknown, zap.String("signing_key_id", id))
		}
	}
	if len(unknown) > 0 {
		s.logger.Error("this chain was sealed with keys this configuration does not hold: verify will report its records and checkpoints as bad_hmac and bad_checkpoint; give the old keys after the new ones (proof_key NEW OLD, signing_key NEW OLD)",
			append(unknown, zap.String("chain", s.chainID), zap.Uint64("seq", head.Seq))...)
	}
}

// acknowledgedHead is the head of what this gateway knows its store holds,
// with the chain resumed first (after a restart, from the local head file
// and the store): zero while spooled proofs wait, as those are not in the
// store yet.
func (s *proofSink) acknowledgedHead(ctx context.Context) proof.Head {
	if !s.opened.Load() {
		return proof.Head{}
	}
	if err := s.ensureChain(ctx); err != nil {
		s.logger.Error("resuming the chain to verify it", zap.Error(err))
		return proof.Head{}
	}
	// The head first: a proof spooled after it is read is not in it, and
	// one spooled before is still pending when the spool is asked.
	head := s.durableHead()
	if s.spool.Pending() > 0 {
		return proof.Head{}
	}
	return head
}

// rejected is how many of this sink's proofs the store refused for good,
// and the file that keeps them.
func (s *proofSink) rejected() (int, string) {
	if !s.opened.Load() {
		return 0, ""
	}
	return s.spool.Rejected(), s.spool.RejectedLog()
}

// spooled is how many of this sink's proofs wait in its spool.
func (s *proofSink) spooled() int {
	if !s.opened.Load() {
		return 0
	}
	return s.spool.Pending()
}

// checkpoint signs the durable head and stores it. The store keeps the
// first checkpoint at each seq, so at a seq already checkpointed it is
// that one, not a signature made now that nobody could find later; signed
// says whether it was made now.
func (s *proofSink) checkpoint(ctx context.Context) (cp proof.Checkpoint, signed bool, err error) {
	s.mu.Lock()
	c, last := s.chain, s.lastCheckpoint
	s.mu.Unlock()
	head := s.durableHead()
	if c == nil || head.Seq == 0 {
		return proof.Checkpoint{}, false, nil
	}
	if last.Seq == head.Seq {
		return last, false, nil
	}
	if last.Seq == 0 { // none made by this process yet: one may be stored
		if cps, err := s.resil.Checkpoints(ctx, s.chainID); err == nil {
			for _, cp := range cps {
				if cp.Seq == head.Seq && cp.Head == head.Hash {
					s.noteCheckpoint(cp)
					return cp, false, nil
				}
			}
		}
	}
	cp, err = c.CheckpointAt(head)
	if err != nil {
		return proof.Checkpoint{}, false, err
	}
	if err := s.resil.PutCheckpoint(ctx, cp); err != nil {
		return proof.Checkpoint{}, false, err
	}
	s.noteCheckpoint(cp)
	return cp, true, nil
}

// noteCheckpoint remembers cp as the chain's last checkpoint.
func (s *proofSink) noteCheckpoint(cp proof.Checkpoint) {
	s.mu.Lock()
	s.lastCheckpoint = cp
	s.mu.Unlock()
}

// maintain writes checkpoints and enforces retention every interval until
// the sink closes.
func (s *proofSink) maintain(every time.Duration) {
	defer close(s.done)
	defer func() {
		if p := recover(); p != nil {
			s.logger.Error("proof maintenance stopped", zap.Any("panic", p))
		}
	}()
	tick := time.NewTicker(every)
	defer tick.Stop()
	// A first pass soon after opening: a gateway restarted more often than
	// every interval would otherwise never expire anything.
	first := time.NewTimer(min(every, firstMaintenanceAfter))
	defer first.Stop()
	headTick := time.NewTicker(headSaveEvery)
	defer headTick.Stop()
	var renew <-chan time.Time // no claim to renew: never fires
	if s.claimer != nil {
		claimTick := time.NewTicker(claimTTL / 3)
		defer claimTick.Stop()
		renew = claimTick.C
	}
	for {
		select {
		case <-s.stop:
			s.saveHead()
			return
		case <-headTick.C:
			if s.headDirty.Swap(false) {
				s.saveHead()
			}
		case <-renew:
			s.renewClaim()
		case <-first.C:
			s.checkpointAndExpire()
		case <-tick.C:
			s.checkpointAndExpire()
		}
	}
}

// redisClientLog routes go-redis's messages into Caddy's log, once.
var redisClientLog sync.Once

// firstMaintenanceAfter is how long after opening a sink first writes a
// checkpoint and enforces retention.
const firstMaintenanceAfter = time.Minute

// checkpointAndExpire signs a checkpoint of the chain, deletes what is past
// its retention, erases again what the store holds of what this instance
// erased, gives old tombstones their receipts (once) and, on Redis, checks
// that it evicts nothing.
func (s *proofSink) checkpointAndExpire() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, _, err := s.checkpoint(ctx); err != nil {
		s.logger.Error("writing checkpoint", zap.Error(err))
	}
	if n, err := s.store.Expire(ctx, time.Now()); err != nil {
		s.logger.Error("enforcing retention", zap.Error(err))
	} else if n > 0 {
		s.logger.Info("expired proofs past their retention", zap.Int("records", n))
	}
	s.startErasureWork()
	if s.onRedis {
		s.warnIfEvicting(ctx)
	}
}

// saveHead keeps a local copy of the durable head, so that a restart while
// the store is down continues the chain instead of forking it. It runs
// behind sealing (one write covers every proof of the last headSaveEvery);
// what it misses is in the store or the spool, which resuming also reads.
func (s *proofSink) saveHead() {
	head := s.durableHead()
	if head.Seq == 0 {
		return
	}
	if err := writeJSONFile(s.headFile, head); err != nil {
		s.logger.Error("saving chain head", zap.Error(err))
	}
}

// verifyKeys are the keys this instance verifies its chain with: every
// generation it has sealed or signed with.
func (s *proofSink) verifyKeys() proof.Keys {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.keys.verify
}

var errSinkClosed = errors.New("the proof store was closed")

// Destruct checkpoints the chain and closes the store; the pool calls it
// when the last config using this sink is unloaded.
func (s *proofSink) Destruct() error {
	s.opening.Do(func() { s.openErr = errSinkClosed }) // never opened: nothing to close, and nothing opens it now
	if !s.opened.Load() {
		return nil
	}
	close(s.stop)
	<-s.done
	s.background.Wait() // (the stop ends it at its next record)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, _, err := s.checkpoint(ctx); err != nil {
		s.logger.Error("writing final checkpoint", zap.Error(err))
	}
	s.releaseClaim(ctx)
	return s.resil.Close() // closes the spool and the store
}

func writeJSONFile(path string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		os.Remove(tmp) // (a full disk leaves it empty)
		return err
	}
	return os.Rename(tmp, path)
}

// shortHash tells stores apart in file names without naming them (a store
// URL may hold a password).
func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:4])
}

// redactURL hides the secrets of a store URL (see redis.Redact; a bolt
// file's has none).
func redactURL(s string) string { return redis.Redact(s) }
