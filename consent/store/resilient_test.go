package store_test

import (
	"bytes"
	"crypto/ed25519"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/consentgate/consentgate/consent/proof"
	"github.com/consentgate/consentgate/consent/store"
	"github.com/consentgate/consentgate/consent/store/bolt"
	"github.com/consentgate/consentgate/consent/store/redis"
	"github.com/consentgate/consentgate/consent/store/redis/redistest"
	"github.com/consentgate/consentgate/consent/store/spool"
)

// A spooled batch the store rejects (here: a second writer's records at
// seqs already taken) goes to rejected.log instead of blocking every later
// proof; the spool drains and new proofs are stored.
func TestResilientSetsAsideRejectedBatches(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	s, newChain, sealN := testChains(t, dir)
	good := newChain()
	if err := s.Append(ctx, sealN(good, 3)); err != nil {
		t.Fatal(err)
	}
	sp, err := spool.Open(filepath.Join(dir, "spool"))
	if err != nil {
		t.Fatal(err)
	}
	if err := sp.Add(sealN(newChain(), 2)); err != nil { // conflicts with seq 1, 2
		t.Fatal(err)
	}
	r := store.NewResilient(s, sp, store.ResilientOptions{RetryEvery: 10 * time.Millisecond})
	defer r.Close()
	deadline := time.Now().Add(5 * time.Second)
	for r.Stats().Pending > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if st := r.Stats(); st.Pending != 0 || st.Replayed != 0 {
		t.Fatalf("stats %+v", st)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "spool", "rejected.log")); len(data) == 0 {
		t.Fatal("rejected batch not set aside")
	}
	if err := r.Append(ctx, sealN(good, 2)); err != nil {
		t.Fatal(err)
	}
	if h, _ := r.Head(ctx, "gw-1"); h.Seq != 5 {
		t.Fatalf("head %+v", h)
	}
}

// One record the store refuses must not take the good records of its
// replay batch with it; the spool knows its last record, which a chain
// resumed after a crash must continue from.
func TestReplayRejectsOnlyTheBadRecord(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	s, newChain, seal := testChains(t, dir)
	good := newChain()
	stored := seal(good, 2)
	if err := s.Append(ctx, stored[:1]); err != nil {
		t.Fatal(err)
	}
	rogue := newChain()
	sp, err := spool.Open(filepath.Join(dir, "spool"))
	if err != nil {
		t.Fatal(err)
	}
	// One batch: a conflicting record at seq 1, then the good chain's 2..4.
	batch := append(seal(rogue, 1), stored[1])
	batch = append(batch, seal(good, 2)...)
	if err := sp.Add(batch); err != nil {
		t.Fatal(err)
	}
	last, ok, err := sp.LastRecord()
	if err != nil || !ok || last.Seq != 4 || last.Hash != batch[3].Hash {
		t.Fatalf("last spooled record: %+v %v %v", last.Seq, ok, err)
	}
	r := store.NewResilient(s, sp, store.ResilientOptions{RetryEvery: 10 * time.Millisecond})
	defer r.Close()
	// The replayer counts what it replayed after the spool has let go of
	// it: wait for the counts, not only for the spool to drain.
	deadline := time.Now().Add(5 * time.Second)
	for st := r.Stats(); (st.Pending > 0 || st.Replayed+uint64(st.Rejected) < 4) && time.Now().Before(deadline); st = r.Stats() {
		time.Sleep(10 * time.Millisecond)
	}
	if st := r.Stats(); st.Pending != 0 || st.Replayed != 3 || st.Rejected != 1 {
		t.Fatalf("want 3 replayed and 1 rejected, stats %+v", st)
	}
	if h, _ := r.Head(ctx, "gw-1"); h.Seq != 4 || h.Hash != batch[3].Hash {
		t.Fatalf("head after replay %+v", h)
	}
	if _, ok, _ := sp.LastRecord(); ok {
		t.Errorf("a drained spool still names a last record")
	}
}

// testChains opens a bolt store in dir and returns it with a factory for
// chains "gw-1" (all sharing one key pair) and a function sealing n records.
func testChains(t *testing.T, dir string) (store.Store, func() *proof.Chain, func(*proof.Chain, int) []proof.Record) {
	t.Helper()
	s, err := bolt.Open(filepath.Join(dir, "proofs.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	mac, _ := proof.NewMACKey(make([]byte, 32))
	_, priv, _ := ed25519.GenerateKey(nil)
	signer, _ := proof.NewSigningKey(priv)
	newChain := func() *proof.Chain {
		c, _ := proof.NewChain(proof.ChainConfig{ID: "gw-1", MAC: mac, Signer: signer}, proof.Head{})
		return c
	}
	seal := func(c *proof.Chain, n int) []proof.Record {
		var out []proof.Record
		for range n {
			r, err := c.Seal(proof.Record{Type: proof.Given, ConsentID: "c1", Site: "a.example"})
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, r)
		}
		return out
	}
	return s, newChain, seal
}

// redisAndSpool starts a redis-server of the test's own (extra: its
// arguments), killed when the test ends, and opens a store on it (query:
// its URL's, "?…") and an empty spool.
func redisAndSpool(t *testing.T, query string, extra ...string) (*redistest.Node, store.Store, *spool.Spool) {
	t.Helper()
	node, err := redistest.NewNode(t.TempDir(), extra...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(node.Kill)
	s, err := redis.Open("redis://"+node.Addr()+"/0"+query, redis.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sp, err := spool.Open(filepath.Join(t.TempDir(), "spool"))
	if err != nil {
		t.Fatal(err)
	}
	return node, s, sp
}

// A store that stays down is retried every RetryEvery, but said once and
// then at most every WarnEvery, with the failures in between counted: a
// Redis gone for a minute used to put sixty identical warnings in the log.
// Once it is back, the spooled proof is stored.
func TestReplayFailuresAreSpacedInTheLog(t *testing.T) {
	ctx := t.Context()
	node, s, sp := redisAndSpool(t, "")
	var logged bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewJSONHandler(lockedWriter{&mu, &logged}, nil))
	r := store.NewResilient(s, sp, store.ResilientOptions{RetryEvery: 10 * time.Millisecond, WarnEvery: 300 * time.Millisecond, Logger: logger})
	defer r.Close()
	_, newChain, seal := testChains(t, t.TempDir())

	node.Stop()
	if err := r.Append(ctx, seal(newChain(), 1)); err != nil {
		t.Fatal(err)
	}
	for r.Stats().StoreErrors < 60 { // sixty failed replays, and the failed append
		time.Sleep(10 * time.Millisecond)
	}
	mu.Lock() // the replayer goes on writing the log
	log := logged.String()
	mu.Unlock()
	lines := strings.Count(log, `"msg":"proof replay failed, will retry"`)
	failures := r.Stats().StoreErrors - 1
	if lines < 1 || uint64(lines) > failures/10 {
		t.Errorf("%d failed replays gave %d warnings, want the first at once and the rest spaced out:\n%s", failures, lines, log)
	}
	if !strings.Contains(log, `"failures":`) {
		t.Errorf("the warnings do not count the failures they stand for:\n%s", log)
	}

	if err := node.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); r.Stats().Pending > 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the spooled proof was not replayed once Redis was back")
		}
	}
	if h, err := r.Head(ctx, "gw-1"); err != nil || h.Seq != 1 {
		t.Errorf("after the outage: head %+v, %v", h, err)
	}
}

// lockedWriter lets the test read a log the replayer writes.
type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
