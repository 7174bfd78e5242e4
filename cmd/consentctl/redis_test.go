package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/consentgate/consentgate/caddymodule/gatewaytest"
	"github.com/consentgate/consentgate/consent/proof"
	"github.com/consentgate/consentgate/consent/store/redis/redistest"
)

// redisAddr is the Redis at 127.0.0.1:6379, or one the test starts.
func redisAddr(t *testing.T) string {
	t.Helper()
	c := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:6379", DialTimeout: 300 * time.Millisecond, MaxRetries: -1})
	defer c.Close()
	if c.Ping(context.Background()).Err() == nil {
		return "127.0.0.1:6379"
	}
	n, err := redistest.NewNode(t.TempDir())
	if err != nil {
		t.Fatalf("no Redis at 127.0.0.1:6379 and none could be started: %v", err)
	}
	t.Cleanup(n.Kill)
	return n.Addr()
}

// gatewayProcess is a real consentgate process.
type gatewayProcess struct {
	site  string // base URL
	admin string // host:port of the admin endpoint
	cmd   *exec.Cmd
	log   string
	// exited is closed once the process has exited.
	exited chan struct{}
}

// stop interrupts the process, as an operator stopping it would, and waits
// for it to exit (killing it after 5 s).
func (p *gatewayProcess) stop() {
	p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.exited:
	case <-time.After(5 * time.Second):
		p.cmd.Process.Kill()
		<-p.exited
	}
}

// startProcess runs bin with a Caddyfile of its own, its own data
// directory, and env added to the environment. It is killed when the test
// ends.
func startProcess(t *testing.T, bin, name, store, chain string, env []string) *gatewayProcess {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	port, adminPort := gatewaytest.FreePort(t), gatewaytest.FreePort(t)
	caddyfile := gatewaytest.Globals(adminPort) + fmt.Sprintf(`:%d {
	consent {
		store %s
		chain %s
		proof_key {env.CONSENTGATE_PROOF_KEY}
		signing_key {env.CONSENTGATE_SIGNING_KEY}
	}
	respond "<html><head></head><body>%s</body></html>"
	header Content-Type text/html
}
`, port, store, chain, name)
	cfg := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(cfg, []byte(caddyfile), 0o600); err != nil {
		t.Fatal(err)
	}
	p := &gatewayProcess{
		site:  gatewaytest.BaseURL(port),
		admin: fmt.Sprintf("localhost:%d", adminPort),
		log:   filepath.Join(dir, "output.log"),
	}
	logFile, err := os.Create(p.log)
	if err != nil {
		t.Fatal(err)
	}
	p.cmd = exec.Command(bin, "run", "--config", cfg, "--adapter", "caddyfile")
	p.cmd.Dir = dir
	p.cmd.Env = append(os.Environ(),
		"XDG_DATA_HOME="+filepath.Join(dir, "data"),
		"XDG_CONFIG_HOME="+filepath.Join(dir, "config"),
		"HOME="+dir)
	p.cmd.Env = append(p.cmd.Env, env...)
	p.cmd.Stdout, p.cmd.Stderr = logFile, logFile
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p.exited = make(chan struct{})
	go func() {
		p.cmd.Wait()
		logFile.Close()
		close(p.exited)
	}()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			out, _ := os.ReadFile(p.log)
			t.Logf("%s output:\n%s", name, out)
		}
	})
	gatewaytest.WaitListening(t, adminPort)
	gatewaytest.WaitListening(t, port)
	return p
}

// TestTwoInstancesShareRedis: two gateway processes write their own
// chains into one Redis; an auditor exports through the second what
// visitors decided through the first, and every chain verifies there. A
// third process on the first's data directory and chain is refused.
func TestTwoInstancesShareRedis(t *testing.T) {
	addr := redisAddr(t)
	suffix := make([]byte, 6)
	rand.Read(suffix)
	prefix := "cgctl-" + hex.EncodeToString(suffix)
	rdb := goredis.NewClient(&goredis.Options{Addr: addr})
	t.Cleanup(func() {
		ctx := context.Background()
		for _, pattern := range []string{prefix + ":*", "{" + prefix + ":*"} {
			keys, _ := rdb.Keys(ctx, pattern).Result()
			if len(keys) > 0 {
				rdb.Del(ctx, keys...)
			}
		}
		rdb.Close()
	})

	bin := buildConsentgate(t)
	key := func() string {
		b := make([]byte, 32)
		rand.Read(b)
		return base64.StdEncoding.EncodeToString(b)
	}
	// Shared proof keys: each instance verifies the other's chain.
	env := []string{"CONSENTGATE_PROOF_KEY=" + key(), "CONSENTGATE_SIGNING_KEY=" + key()}
	store := fmt.Sprintf("redis://%s/0?prefix=%s", addr, prefix)
	a := startProcess(t, bin, "gw-a", store, "gw-a", env)
	b := startProcess(t, bin, "gw-b", store, "gw-b", env)

	gatewaytest.PostChoice(t, gatewaytest.NewClient(t), a.site, `{"all":true}`)
	gatewaytest.PostChoice(t, gatewaytest.NewClient(t), a.site, `{"purposes":{"analytics":true}}`)
	gatewaytest.PostChoice(t, gatewaytest.NewClient(t), a.site, `{"all":false}`)
	gatewaytest.PostChoice(t, gatewaytest.NewClient(t), b.site, `{"all":true}`)

	out := filepath.Join(t.TempDir(), "export.jsonl")
	if code, _, stderr := ctl(t, "export", "--address", b.admin, "--output", out); code != 0 {
		t.Fatalf("export through B: exit %d: %s", code, stderr)
	}
	data, _ := os.ReadFile(out)
	perChain := map[string]int{}
	for _, r := range readJSONL(t, string(data)) {
		perChain[r.Chain]++
	}
	if perChain["gw-a"] != 3 || perChain["gw-b"] != 1 || len(perChain) != 2 {
		t.Errorf("exported through B, per chain: %v; want 3 of gw-a and 1 of gw-b", perChain)
	}
	code, stdout, stderr := ctl(t, "export", "--address", b.admin, "--format", "csv", "--chain", "gw-a")
	if code != 0 || strings.Count(stdout, "\r\n") != 4 {
		t.Errorf("CSV of gw-a through B: exit %d %s\n%s", code, stderr, stdout)
	}

	// Redis keeps its own backups: the gateway's backup says so.
	if code, _, stderr := ctl(t, "backup", "--address", b.admin, "--output", filepath.Join(t.TempDir(), "b.db")); code != exitUsage || !strings.Contains(stderr, "server's own tools") {
		t.Errorf("backup of a Redis store: exit %d %s; want a usage error pointing to Redis's own backups", code, stderr)
	}

	// Checkpoint A's chain through A, then verify everything through B.
	if code, stdout, _ := ctl(t, "checkpoint", "--address", a.admin); code != 0 || !strings.Contains(stdout, "chain gw-a") {
		t.Errorf("checkpoint through A: exit %d %s", code, stdout)
	}
	code, stdout, stderr = ctl(t, "verify", "--address", b.admin)
	if code != 0 || !strings.Contains(stdout, "chain gw-a") || !strings.Contains(stdout, "chain gw-b") ||
		!strings.Contains(stdout, "2 chains verified: ok") || strings.Contains(stdout, "HMAC not checked") ||
		!strings.Contains(stdout, "3 records, seq 1..3, 1 signed checkpoint: ok") {
		t.Errorf("verify through B: exit %d %s\n%s", code, stderr, stdout)
	}

	// A second process given A's data directory and chain (a copy of A
	// started by mistake) is refused at start, naming the cause, rather
	// than sealing A's chain beside it and sharing its spool.
	// (Its own ports: only the data directory and chain are A's.)
	cfg, err := os.ReadFile(a.cmd.Args[3])
	if err != nil {
		t.Fatal(err)
	}
	copyCfg := filepath.Join(t.TempDir(), "Caddyfile")
	cfg = []byte(strings.NewReplacer(
		strings.TrimPrefix(a.admin, "localhost"), fmt.Sprintf(":%d", gatewaytest.FreePort(t)),
		strings.TrimPrefix(a.site, "http://127.0.0.1"), fmt.Sprintf(":%d", gatewaytest.FreePort(t)),
	).Replace(string(cfg)))
	if err := os.WriteFile(copyCfg, cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	if said, ok := refusedAtStart(bin, copyCfg, a.cmd.Dir, a.cmd.Env); !ok || !strings.Contains(said, "in use by another process") {
		t.Errorf("a second process on A's data directory and chain: want it refused as the spool is in use\n%s", said)
	}
	gatewaytest.PostChoice(t, gatewaytest.NewClient(t), a.site, `{"all":true}`) // A goes on

	// A gateway with a data directory of its own but A's chain (A's
	// Caddyfile copied to a second host unchanged) is refused as well,
	// naming A: the two would seal records at the same seqs, and one
	// visitor's choice in two would fail with a conflict.
	elsewhere := t.TempDir()
	env2 := append(slices.Clone(a.cmd.Env), "XDG_DATA_HOME="+filepath.Join(elsewhere, "data"), "HOME="+elsewhere)
	said, ok := refusedAtStart(bin, copyCfg, elsewhere, env2)
	aData := filepath.Join(a.cmd.Dir, "data", "caddy")
	if !ok || !strings.Contains(said, `chain \"gw-a\" is written by another gateway`) || !strings.Contains(said, aData) {
		t.Errorf("a gateway on another data directory with A's chain: want it refused, naming A's data directory %s\n%s", aData, said)
	}
	gatewaytest.PostChoice(t, gatewaytest.NewClient(t), a.site, `{"all":false}`) // A goes on

	// Once A stops, which releases its claim, a gateway on another data
	// directory takes the chain over where A left it.
	a.stop()
	a2 := startProcess(t, bin, "gw-a2", store, "gw-a", env)
	gatewaytest.PostChoice(t, gatewaytest.NewClient(t), a2.site, `{"all":true}`)
	code, stdout, stderr = ctl(t, "verify", "--address", b.admin)
	if code != 0 || !strings.Contains(stdout, "6 records, seq 1..6") || !strings.Contains(stdout, "2 chains verified: ok") {
		t.Errorf("verify through B after the chain moved: exit %d %s\n%s", code, stderr, stdout)
	}
}

// refusedAtStart runs bin on a Caddyfile in dir with env and reports what
// it said and whether it exited with an error within 30 s, as a gateway
// refused at start does (one that starts is killed then).
func refusedAtStart(bin, caddyfile, dir string, env []string) (string, bool) {
	cmd := exec.Command(bin, "run", "--config", caddyfile, "--adapter", "caddyfile")
	cmd.Dir, cmd.Env = dir, env
	done := make(chan struct{})
	started := time.AfterFunc(30*time.Second, func() {
		select {
		case <-done:
		default:
			cmd.Process.Kill()
		}
	})
	said, err := cmd.CombinedOutput()
	close(done)
	return string(said), err != nil && started.Stop()
}

// TestVerifyNamesSpooledProofs: a Redis that takes reads but refuses the
// gateway's writes (its ACL changed, as after a failover to a read-only
// replica) sends new proofs to the spool. Verify then checks what the store
// holds and says, in numbers, what it could not check yet; a chain whose
// every proof waits in the spool is named too, not passed over. Once the
// writes go through, everything verifies and nothing waits.
func TestVerifyNamesSpooledProofs(t *testing.T) {
	const waiting = "waiting in the gateway's spool"
	g := startACLGateway(t)
	site, site2, adminAddr, acl := g.site, g.site2, g.admin, g.acl
	for range 3 {
		gatewaytest.PostChoice(t, gatewaytest.NewClient(t), site, `{"all":true}`)
	}
	if code, stdout, stderr := ctl(t, "verify", "--address", adminAddr); code != 0 || strings.Contains(stdout, waiting) {
		t.Fatalf("before: exit %d\n%s%s", code, stdout, stderr)
	}

	acl("-@write")
	for range 2 {
		gatewaytest.PostChoice(t, gatewaytest.NewClient(t), site, `{"all":false}`)
	}
	gatewaytest.PostChoice(t, gatewaytest.NewClient(t), site2, `{"all":true}`)
	code, stdout, stderr := ctl(t, "verify", "--address", adminAddr)
	stored, spooledOnly := chainLines(stdout, "stored-first"), chainLines(stdout, "spooled-only")
	if code != 0 || !strings.Contains(stored, "3 records, seq 1..3") || !strings.Contains(stored, "2 waiting in the gateway's spool") ||
		!strings.Contains(spooledOnly, "1 waiting in the gateway's spool") || strings.Contains(spooledOnly, "HMAC") {
		t.Errorf("while writes are refused: exit %d, want 0 naming the 3 stored and 2 spooled proofs of one chain, 1 spooled of the other:\n%s%s", code, stdout, stderr)
	}

	acl("+@write")
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, stdout, stderr = ctl(t, "verify", "--address", adminAddr)
		if !strings.Contains(stdout, waiting) || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if code != 0 || !strings.Contains(chainLines(stdout, "stored-first"), "5 records, seq 1..5") ||
		!strings.Contains(chainLines(stdout, "spooled-only"), "1 record, seq 1..1") || strings.Contains(stdout, waiting) {
		t.Errorf("after the writes went through: exit %d, want 5 records and nothing waiting:\n%s%s", code, stdout, stderr)
	}
}

// TestVerifyNamesRejectedProofs: a proof spooled while the store refused
// writes, whose seq another record (valid, sealed with the same keys, as a
// second gateway given this chain's id would write it) took meanwhile, is
// refused for good when replayed and set aside in the spool's rejected.log.
// The store's chain is intact, but a decision that took effect has no
// proof in it: verify fails and says where the proof is, also after a
// restart.
func TestVerifyNamesRejectedProofs(t *testing.T) {
	mac, seed := make([]byte, 32), make([]byte, ed25519.SeedSize)
	for i := range mac {
		mac[i], seed[i] = byte(7*i+3), byte(99+i)
	}
	g := startACLGateway(t, fmt.Sprintf("proof_key %x", mac), fmt.Sprintf("signing_key %x", seed))
	gatewaytest.PostChoice(t, gatewaytest.NewClient(t), g.site, `{"all":true}`)
	g.acl("-@write")
	gatewaytest.PostChoice(t, gatewaytest.NewClient(t), g.site, `{"all":false}`) // spooled as seq 2

	// Seq 2 in the store, another decision's, sealed after seq 1.
	ctx := context.Background()
	head, err := g.redis.HGetAll(ctx, "{spooled:stored-first}:meta").Result()
	if err != nil || head["seq"] != "1" {
		t.Fatalf("head of the chain: %v %v", head, err)
	}
	headTime, _ := strconv.ParseInt(head["time"], 10, 64)
	macKey, _ := proof.NewMACKey(mac)
	signer, _ := proof.NewSigningKey(ed25519.NewKeyFromSeed(seed))
	chain, err := proof.NewChain(proof.ChainConfig{ID: "stored-first", MAC: macKey, Signer: signer}, proof.Head{Seq: 1, Hash: head["hash"], Time: headTime})
	if err != nil {
		t.Fatal(err)
	}
	other, err := chain.Seal(proof.Record{Type: proof.Given, ConsentID: "another-visitor", Site: "127.0.0.1", Path: "/",
		How: proof.How{Layer: proof.LayerAPI, Action: proof.ActionAcceptAll}, Purposes: map[string]bool{"necessary": true},
		Signals: proof.Signals{Effect: proof.EffectNone}})
	if err != nil {
		t.Fatal(err)
	}
	data, err := other.AppendJSON(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.redis.HSet(ctx, "{spooled:stored-first}:rec", "2", data).Err(); err != nil {
		t.Fatal(err)
	}
	g.redis.HSet(ctx, "{spooled:stored-first}:ev", other.EventID, "2")
	g.redis.HSet(ctx, "{spooled:stored-first}:meta", "seq", "2", "hash", other.Hash, "time", other.Time)
	g.acl("+@write")

	const refused = "1 proof the store refused for good"
	check := func(when string, records int) {
		t.Helper()
		var code int
		var stdout, stderr string
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
			code, stdout, stderr = ctl(t, "verify", "--address", g.admin, "--chain", "stored-first")
			if strings.Contains(stdout, refused) || time.Now().After(deadline) {
				break
			}
		}
		line := chainLines(stdout, "stored-first")
		if code != exitFailed || !strings.Contains(line, fmt.Sprintf("%d records, seq 1..%[1]d", records)) || !strings.Contains(line, refused) ||
			!strings.Contains(line, "rejected.log") || !strings.Contains(stdout, "verification FAILED") ||
			strings.Contains(line, "broken_link") || strings.Contains(line, "bad_checkpoint") {
			t.Errorf("%s: exit %d, want %d naming the chain's %d records, the refused proof in rejected.log and no other problem:\n%s%s", when, code, exitFailed, records, stdout, stderr)
		}
	}
	check("after the replay", 2)
	// The chain goes on from the store's seq 2, not from the refused proof.
	gatewaytest.PostChoice(t, gatewaytest.NewClient(t), g.site, `{"all":true}`)
	gatewaytest.Stop(t)
	gatewaytest.Start(t, g.caddyfile)
	check("after a restart", 3)

	// The operator gives the file to the auditors and moves it away: verify
	// counts it no more, without a restart.
	_, stdout, _ := ctl(t, "verify", "--address", g.admin, "--chain", "stored-first", "--json")
	var rep struct {
		Chains []struct {
			RejectedLog string `json:"rejected_log"`
		} `json:"chains"`
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil || len(rep.Chains) != 1 || rep.Chains[0].RejectedLog == "" {
		t.Fatalf("verify --json names no rejected_log: %v\n%s", err, stdout)
	}
	if err := os.Rename(rep.Chains[0].RejectedLog, filepath.Join(t.TempDir(), "rejected.log")); err != nil {
		t.Fatal(err)
	}
	if code, stdout, _ := ctl(t, "verify", "--address", g.admin, "--chain", "stored-first"); code != 0 || strings.Contains(stdout, "refused") {
		t.Errorf("after rejected.log was moved away: exit %d, want 0 and nothing refused:\n%s", code, stdout)
	}
}

// TestRecordPastTheHeadWhileRunning: a record appended to the chain in Redis
// behind the running gateway's back takes the seq its next proof needs.
// The append refused for it, and those queued behind it, are sealed again
// after it: every one of many concurrent choices is recorded, and verify
// names the planted record and nothing of the gateway's.
func TestRecordPastTheHeadWhileRunning(t *testing.T) {
	g := startACLGateway(t)
	gatewaytest.PostChoice(t, gatewaytest.NewClient(t), g.site, `{"all":true}`)
	gatewaytest.PostChoice(t, gatewaytest.NewClient(t), g.site, `{"all":false}`)
	ctx := context.Background()
	head, err := g.redis.HGetAll(ctx, "{spooled:stored-first}:meta").Result()
	if err != nil || head["seq"] != "2" {
		t.Fatalf("head of the chain: %v %v", head, err)
	}
	headTime, _ := strconv.ParseInt(head["time"], 10, 64)
	mac, _ := proof.NewMACKey([]byte("a key that is not the gateway's, 32+ bytes"))
	_, priv, _ := ed25519.GenerateKey(nil)
	signer, _ := proof.NewSigningKey(priv)
	chain, err := proof.NewChain(proof.ChainConfig{ID: "stored-first", MAC: mac, Signer: signer}, proof.Head{Seq: 2, Hash: head["hash"], Time: headTime})
	if err != nil {
		t.Fatal(err)
	}
	planted, err := chain.Seal(proof.Record{Type: proof.Given, ConsentID: "planted", Site: "127.0.0.1", Path: "/",
		How: proof.How{Layer: proof.LayerAPI, Action: proof.ActionAcceptAll}, Purposes: map[string]bool{"necessary": true, "marketing": true},
		Signals: proof.Signals{Effect: proof.EffectNone}})
	if err != nil {
		t.Fatal(err)
	}
	// Written as another writer of the chain would (a second gateway given
	// its id): the record, its event and the head.
	data, _ := planted.AppendJSON(nil)
	if err := g.redis.HSet(ctx, "{spooled:stored-first}:rec", "3", data).Err(); err != nil {
		t.Fatal(err)
	}
	g.redis.HSet(ctx, "{spooled:stored-first}:ev", planted.EventID, "3")
	g.redis.HSet(ctx, "{spooled:stored-first}:meta", "seq", "3", "hash", planted.Hash, "time", planted.Time)

	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() { gatewaytest.PostChoice(t, gatewaytest.NewClient(t), g.site, `{"all":true}`) })
	}
	wg.Wait()
	code, stdout, _ := ctl(t, "verify", "--address", g.admin, "--chain", "stored-first")
	if code != exitFailed || !strings.Contains(stdout, "19 records, seq 1..19") || !strings.Contains(stdout, "bad_hmac at seq 3 (event "+planted.EventID) ||
		strings.Contains(stdout, "broken_link") || strings.Contains(stdout, "gap") {
		t.Errorf("verify: exit %d, want %d with 19 records, the planted one's HMAC at seq 3 and nothing else:\n%s", code, exitFailed, stdout)
	}
}

// aclGateway is a gateway with two sites (chains stored-first and
// spooled-only) on a Redis of its own, which it reaches as the user
// "gateway", whose rules acl changes; redis is the server's admin client.
type aclGateway struct {
	site, site2, admin string
	acl                func(rules ...any)
	redis              *goredis.Client
	caddyfile          string // to start it again
}

func startACLGateway(t *testing.T, consentLines ...string) aclGateway {
	t.Helper()
	extra := ""
	for _, l := range consentLines {
		extra += "\t\t" + l + "\n"
	}
	node, err := redistest.NewNode(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(node.Kill)
	admin := goredis.NewClient(&goredis.Options{Addr: node.Addr()})
	t.Cleanup(func() { admin.Close() })
	acl := func(rules ...any) {
		t.Helper()
		if err := admin.Do(context.Background(), append([]any{"ACL", "SETUSER", "gateway"}, rules...)...).Err(); err != nil {
			t.Fatal(err)
		}
	}
	acl("reset", "on", ">gateway-secret", "~*", "&*", "+@all")
	port, port2, adminPort := gatewaytest.FreePort(t), gatewaytest.FreePort(t), gatewaytest.FreePort(t)
	store := fmt.Sprintf("redis://gateway:gateway-secret@%s/0?prefix=spooled", node.Addr())
	caddyfile := gatewaytest.Globals(adminPort) + fmt.Sprintf(`:%d {
	consent {
		store %s
		chain stored-first
%s	}
	respond "ok"
}
:%d {
	consent {
		store %s
		chain spooled-only
%[3]s	}
	respond "ok"
}`, port, store, extra, port2, store)
	gatewaytest.Start(t, caddyfile)
	return aclGateway{site: gatewaytest.BaseURL(port), site2: gatewaytest.BaseURL(port2), admin: fmt.Sprintf("localhost:%d", adminPort), acl: acl, redis: admin, caddyfile: caddyfile}
}

// TestVerifyNamesALostChainBehindTheSpool: a Redis that lost its data
// (FLUSHALL here; a restart without persistence in life) while it refuses
// the gateway's writes: the proofs it took are gone and later ones wait in
// the spool. Verify does not take the chain for one that is all in the
// spool, but names it broken.
func TestVerifyNamesALostChainBehindTheSpool(t *testing.T) {
	g := startACLGateway(t)
	for range 3 {
		gatewaytest.PostChoice(t, gatewaytest.NewClient(t), g.site, `{"all":true}`)
	}
	g.acl("-@write")
	for range 2 {
		gatewaytest.PostChoice(t, gatewaytest.NewClient(t), g.site, `{"all":false}`)
	}
	if err := g.redis.FlushAll(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := ctl(t, "verify", "--address", g.admin)
	if lost := chainLines(stdout, "stored-first"); code != exitFailed || !strings.Contains(lost, "seq 1..5") || !strings.Contains(lost, "BROKEN") {
		t.Errorf("verify after the store lost a chain whose later proofs are spooled: exit %d, want 1 naming seq 1..5:\n%s%s", code, stdout, stderr)
	}
}

// chainLines is what verify printed about one chain: its heading and the
// lines under it.
func chainLines(out, chain string) string {
	_, rest, ok := strings.Cut(out, "chain "+chain+" ")
	if !ok {
		return ""
	}
	if i := strings.Index(rest, "\nchain "); i >= 0 {
		rest = rest[:i]
	}
	return rest
}
