package storetest

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/consentgate/consentgate/consent/proof"
	"github.com/consentgate/consentgate/consent/store"
	"github.com/consentgate/consentgate/consent/store/spool"
)

func testSpoolReplay(t *testing.T, b Backend) {
	ctx := ctxFor(t)
	s, _ := open(t, b)
	k := newKeys(t)
	c := k.chain(t, "gw-1", proof.Head{}, nil)
	dir := t.TempDir()
	sp, err := spool.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	recs := seal(t, c, 0, 25, "a.example")
	cp, _ := c.Checkpoint()
	recs = append(recs, seal(t, c, 25, 35, "a.example")...)
	if err := sp.Add(recs[:25]); err != nil {
		t.Fatal(err)
	}
	if err := sp.AddCheckpoint(cp); err != nil {
		t.Fatal(err)
	}
	if err := sp.Add(recs[25:]); err != nil {
		t.Fatal(err)
	}
	// The gateway dies mid-write, and restarts.
	sp.Close()
	f, _ := os.OpenFile(filepath.Join(dir, "spool.log"), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`r {"schema":1,"event_id":"torn`)
	f.Close()
	if sp, err = spool.Open(dir); err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	if n := sp.Pending(); n != 61 {
		t.Fatalf("pending after restart: %d, want 61", n)
	}
	// An earlier replay delivered some records but died before noting it.
	appendBatches(t, ctx, s, recs[:10], 10)
	n, err := sp.Replay(ctx, s)
	if err != nil || n != 60 || sp.Pending() != 0 {
		t.Fatalf("replayed %d (pending %d): %v", n, sp.Pending(), err)
	}
	if n, err := sp.Replay(ctx, s); err != nil || n != 0 {
		t.Fatalf("second replay: %d, %v", n, err)
	}
	rep := mustVerify(t, ctx, s, "gw-1", k.verifyOptions())
	if rep.Records != 60 || rep.Checkpoints != 1 {
		t.Fatalf("after replay: %+v", rep)
	}
	if info, _ := os.Stat(filepath.Join(dir, "spool.log")); info.Size() != 0 {
		t.Fatalf("replayed spool not emptied: %d bytes", info.Size())
	}
}

func testOutage(t *testing.T, b Backend) {
	if b.Outage == nil {
		t.Skip("this backend has no server to stop; the spool itself is tested by SpoolReplay")
	}
	ctx := ctxFor(t)
	s, stop, start := b.Outage(t)
	sp, err := spool.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	r := store.NewResilient(s, sp, store.ResilientOptions{RetryEvery: 50 * time.Millisecond})
	defer r.Close()
	k := newKeys(t)
	c := k.chain(t, "gw-1", proof.Head{}, nil)

	appendBatches(t, ctx, r, seal(t, c, 0, 20, "a.example"), 5)
	stop()
	// The store is down: appends still succeed, into the spool.
	appendBatches(t, ctx, r, seal(t, c, 20, 30, "a.example"), 5)
	if err := r.PutCheckpoint(ctx, mustCheckpoint(t, c)); err != nil {
		t.Fatal(err)
	}
	if st := r.Stats(); st.Pending != 31 || st.Spooled != 30 || st.StoreErrors == 0 {
		t.Fatalf("during the outage: %+v", st)
	}
	start()
	deadline := time.Now().Add(30 * time.Second)
	for r.Stats().Pending > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("spool not replayed: %+v", r.Stats())
		}
		time.Sleep(20 * time.Millisecond)
	}
	appendBatches(t, ctx, r, seal(t, c, 50, 10, "a.example"), 5)
	if st := r.Stats(); st.Replayed != 30 {
		t.Fatalf("after the outage: %+v", st)
	}
	seen := map[string]bool{}
	for _, rec := range collect(t, ctx, r, store.Query{}) {
		if seen[rec.EventID] {
			t.Fatalf("record %d stored twice", rec.Seq)
		}
		seen[rec.EventID] = true
	}
	rep := mustVerify(t, ctx, r, "gw-1", k.verifyOptions())
	if len(seen) != 60 || rep.Records != 60 || rep.Checkpoints != 1 {
		t.Fatalf("after the outage: %d records, %+v", len(seen), rep)
	}
}

func mustCheckpoint(t *testing.T, c *proof.Chain) proof.Checkpoint {
	cp, err := c.Checkpoint()
	if err != nil {
		t.Fatal(err)
	}
	return cp
}
