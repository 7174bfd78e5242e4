// Package redistest runs real redis-server processes for tests: on free
// loopback ports (27000-27999), each with its own data directory, so a
// test can stop one and start it again with its data (an outage), or build
// a cluster or a Sentinel setup.
package redistest

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Node is a redis-server process tests run on a free loopback port,
// with its data in a directory of its own, so it can stop and start again
// with its data.
type Node struct {
	Port int
	dir  string
	args []string
	// password is the server's --requirepass, and tls the client side of
	// a TLS-only server, for its own pings and shutdown.
	password string
	tls      *tls.Config
	cmd      *exec.Cmd
}

// NewNode starts a redis-server on a free loopback port with its data in a
// directory of its own under dir; extra are more server arguments
// (--requirepass too).
func NewNode(dir string, extra ...string) (*Node, error) {
	return newNode(dir, nil, extra, nil)
}

// NewTLSNode starts a redis-server that speaks only TLS, on a free
// loopback port, with a server certificate ca issues. Like any Redis with
// TLS it asks clients for a certificate ca signed; the node's own client
// presents one.
func NewTLSNode(dir string, ca *CA, extra ...string) (*Node, error) {
	cert, key, err := ca.Issue("redis-server", true)
	if err != nil {
		return nil, err
	}
	clientCert, clientKey, err := ca.Issue("redistest-client", false)
	if err != nil {
		return nil, err
	}
	client, err := ca.ClientConfig(clientCert, clientKey)
	if err != nil {
		return nil, err
	}
	files := []string{"--tls-cert-file", cert, "--tls-key-file", key, "--tls-ca-cert-file", ca.CertFile}
	return newNode(dir, nil, append(files, extra...), client)
}

// NewSentinel starts a Sentinel (redis-server --sentinel) on a free
// loopback port, monitoring the master at addr under name with a quorum of
// one; conf are more lines of its configuration ("sentinel auth-pass NAME
// PASSWORD" for a master that wants one).
func NewSentinel(dir, name, addr string, conf ...string) (*Node, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	// Sentinel rewrites its configuration file, so it gets one of its own.
	f, err := os.CreateTemp(dir, "sentinel-*.conf")
	if err != nil {
		return nil, err
	}
	lines := append([]string{fmt.Sprintf("sentinel monitor %s %s %s 1", name, host, port)}, conf...)
	for _, l := range lines {
		fmt.Fprintln(f, l)
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	return newNode(dir, []string{f.Name(), "--sentinel"}, nil, nil)
}

// newNode starts redis-server with lead (a configuration file and mode)
// first, the node's port, address and data directory next, extra last.
// With client set the port is a TLS one (plain TCP is off) and the node's
// own client uses it.
func newNode(dir string, lead, extra []string, client *tls.Config) (*Node, error) {
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	n := &Node{Port: port, dir: filepath.Join(dir, strconv.Itoa(port)), tls: client}
	ports := []string{"--port", strconv.Itoa(port)}
	if client != nil {
		ports = []string{"--port", "0", "--tls-port", strconv.Itoa(port)}
	}
	if err := os.MkdirAll(n.dir, 0o700); err != nil {
		return nil, err
	}
	for i := 0; i+1 < len(extra); i++ {
		switch extra[i] {
		case "--requirepass":
			n.password = extra[i+1]
		case "--cluster-enabled":
			// The cluster bus listens on port+10000 unless told: inside the
			// kernel's range for outgoing connections, where one can hold it.
			bus, err := FreePort()
			if err != nil {
				return nil, err
			}
			ports = append(ports, "--cluster-port", strconv.Itoa(bus))
		}
	}
	n.args = append(append(append(lead, ports...), "--bind", "127.0.0.1", "--dir", n.dir,
		"--save", "", "--appendonly", "no", "--protected-mode", "no", "--logfile", "redis.log"), extra...)
	return n, n.Start()
}

// FreePort finds a loopback port nobody listens on, at random in
// 27000-27999: below the kernel's range for outgoing connections, which
// could take the port of a server stopped for an outage test before it
// starts again. It never gives a port twice in one process.
func FreePort() (int, error) {
	portsMu.Lock()
	defer portsMu.Unlock()
	for range 1000 {
		port := 27000 + rand.IntN(1000)
		if portsGiven[port] {
			continue
		}
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			continue // in use
		}
		l.Close()
		portsGiven[port] = true
		return port, nil
	}
	return 0, errors.New("redistest: no free loopback port in 27000-27999")
}

var (
	portsMu    sync.Mutex
	portsGiven = map[int]bool{}
)

// Addr is the server's host:port.
func (n *Node) Addr() string { return "127.0.0.1:" + strconv.Itoa(n.Port) }

// Start starts the server (again) and waits until it answers.
func (n *Node) Start() error {
	n.cmd = exec.Command("redis-server", n.args...)
	if err := n.cmd.Start(); err != nil {
		return fmt.Errorf("starting redis-server (is it installed?): %w", err)
	}
	c := n.client()
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for c.Ping(context.Background()).Err() != nil {
		if time.Now().After(deadline) {
			n.Kill()
			log, _ := os.ReadFile(filepath.Join(n.dir, "redis.log"))
			return fmt.Errorf("redis-server on %s did not answer:\n%s", n.Addr(), log)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

// Stop shuts the server down, saving its data for the next start.
func (n *Node) Stop() {
	c := n.client()
	_ = c.ShutdownSave(context.Background()).Err() // the connection drops: no reply
	c.Close()
	_ = n.cmd.Wait()
	n.cmd = nil
}

func (n *Node) client() *goredis.Client { return goredis.NewClient(n.options()) }

func (n *Node) options() *goredis.Options {
	return &goredis.Options{Addr: n.Addr(), Password: n.password, TLSConfig: n.tls, MaxRetries: -1}
}

// Sleep makes the server sleep for d (DEBUG SLEEP, which needs it started
// with --enable-debug-command yes), answering nothing, as a loaded or
// swapping server stalls; connections stay open. It returns once the
// server is seen asleep (a PING goes unanswered); woke gets DEBUG SLEEP's
// own answer when it wakes.
func (n *Node) Sleep(d time.Duration) (woke <-chan error, err error) {
	o := n.options()
	o.ReadTimeout = d + time.Minute
	sleeper := goredis.NewClient(o)
	answer := make(chan error, 1)
	go func() {
		defer sleeper.Close()
		answer <- sleeper.Do(context.Background(), "DEBUG", "SLEEP", d.Seconds()).Err()
	}()
	o = n.options()
	o.ReadTimeout = 100 * time.Millisecond
	probe := goredis.NewClient(o)
	defer probe.Close()
	for probe.Ping(context.Background()).Err() == nil {
		select {
		case err := <-answer:
			return nil, fmt.Errorf("redis-server on %s answered DEBUG SLEEP before it was seen asleep: %v", n.Addr(), err)
		case <-time.After(10 * time.Millisecond):
		}
	}
	return answer, nil
}

// Pause freezes the server (SIGSTOP): connections stay open and nothing
// answers, as on a host that hangs.
func (n *Node) Pause() error { return n.cmd.Process.Signal(syscall.SIGSTOP) }

// Resume lets a paused server go on (SIGCONT).
func (n *Node) Resume() error { return n.cmd.Process.Signal(syscall.SIGCONT) }

// Kill kills the server without letting it save.
func (n *Node) Kill() {
	if n.cmd != nil && n.cmd.Process != nil {
		_ = n.cmd.Process.Kill()
		_ = n.cmd.Wait()
		n.cmd = nil
	}
}
