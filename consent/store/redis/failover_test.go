package redis

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/consentgate/consentgate/consent/proof"
	"github.com/consentgate/consentgate/consent/store"
	"github.com/consentgate/consentgate/consent/store/storetest"
)

// TestClusterFailoverResumesWrites: the Cluster master that holds a chain
// dies and its replica takes over. The store writes to the new master soon
// after, instead of going on at the dead address until go-redis reloads
// the slot map on its own (once a minute), which left proofs spooling for
// up to that long after the Cluster was whole again.
func TestClusterFailoverResumesWrites(t *testing.T) {
	// A Cluster of its own: three masters with a replica each. A failover
	// changes who serves which slots, which the suite's shared Cluster
	// must not see.
	var nodes []*node
	var addrs []string
	for range 6 {
		n, err := newNode(t.TempDir(), "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
			"--cluster-node-timeout", "1000")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(n.Kill)
		nodes = append(nodes, n)
		addrs = append(addrs, n.Addr())
	}
	out, err := exec.Command("redis-cli", append(append([]string{"--cluster", "create"}, addrs...),
		"--cluster-replicas", "1", "--cluster-yes")...).CombinedOutput()
	if err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	waitClusterOK(t, nodes)

	s, raw := openTest(t, "redis+cluster://"+strings.Join(addrs, ","))
	defer s.Close()
	ctx := context.Background()
	chain := storetest.NewChain(t, "failover", nil)
	next := func() []proof.Record {
		r, err := chain.Seal(proof.Record{Type: proof.Given, ConsentID: "visitor", Site: "shop.test",
			How: proof.How{Layer: proof.LayerFirst, Action: proof.ActionAcceptAll}, Purposes: map[string]bool{"necessary": true}})
		if err != nil {
			t.Fatal(err)
		}
		return []proof.Record{r}
	}
	if err := s.Append(ctx, next()); err != nil {
		t.Fatal(err)
	}

	// The chain's master, and the replica that will take its place.
	master, replica := chainServers(t, nodes, raw.k.rec("failover"))
	master.Kill()
	t.Logf("killed %s, the master of the chain's slot", master.Addr())
	promoted := waitPromoted(t, replica)
	t.Logf("%s took over %v after the kill", replica.Addr(), promoted)

	// Appends fail until the client finds the new master; the same
	// records go again each time (an append is idempotent).
	recs := next()
	var tries int
	deadline := time.Now().Add(15 * time.Second)
	for {
		tries++
		err := s.Append(ctx, recs)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("15 s after the replica took over, appends still fail (%d tries): %v", tries, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("the store wrote again after %d tries", tries)
	rep, err := store.Verify(ctx, s, "failover", proof.VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || rep.Records != 2 {
		t.Errorf("after the failover: %+v, want both records and a chain that verifies", rep)
	}
}

// chainServers finds the master that serves key's slot and its replica.
func chainServers(t *testing.T, nodes []*node, key string) (master, replica *node) {
	t.Helper()
	c := goredis.NewClient(&goredis.Options{Addr: nodes[0].Addr()})
	defer c.Close()
	ctx := context.Background()
	slot, err := c.ClusterKeySlot(ctx, key).Result()
	if err != nil {
		t.Fatal(err)
	}
	// Replicas show in the slot map once they have joined their masters.
	var slots []goredis.ClusterSlot
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if slots, err = c.ClusterSlots(ctx).Result(); err != nil {
			t.Fatal(err)
		}
		if everySlotReplicated(slots) || time.Now().After(deadline) {
			break
		}
	}
	byAddr := map[string]*node{}
	for _, n := range nodes {
		byAddr[n.Addr()] = n
	}
	for _, r := range slots {
		if int64(r.Start) <= slot && slot <= int64(r.End) && len(r.Nodes) == 2 {
			return byAddr[r.Nodes[0].Addr], byAddr[r.Nodes[1].Addr]
		}
	}
	t.Fatalf("no master with a replica serves slot %d: %v", slot, slots)
	return nil, nil
}

func everySlotReplicated(slots []goredis.ClusterSlot) bool {
	for _, r := range slots {
		if len(r.Nodes) < 2 {
			return false
		}
	}
	return len(slots) > 0
}

// waitPromoted waits until n says it is a master and returns how long that
// took.
func waitPromoted(t *testing.T, n *node) time.Duration {
	t.Helper()
	c := goredis.NewClient(&goredis.Options{Addr: n.Addr()})
	defer c.Close()
	began := time.Now()
	for {
		role, err := c.Do(context.Background(), "ROLE").Slice()
		if err == nil && len(role) > 0 && fmt.Sprint(role[0]) == "master" {
			return time.Since(began)
		}
		if time.Since(began) > 30*time.Second {
			t.Fatalf("%s did not take over within 30 s: %v %v", n.Addr(), role, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
