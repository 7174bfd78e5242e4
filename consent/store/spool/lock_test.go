package spool

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// holdEnv names a spool directory for this test binary, started again as
// another process, to open and report on (see TestMain).
const holdEnv = "CONSENTGATE_SPOOL_HOLD"

// TestMain lets the tests start this binary as a second gateway process
// would be: with holdEnv set it opens that spool, says "held" (or the
// error), and keeps it open until its standard input closes.
func TestMain(m *testing.M) {
	if dir := os.Getenv(holdEnv); dir != "" {
		s, err := Open(dir)
		if err != nil {
			fmt.Println(err)
			os.Exit(0)
		}
		fmt.Println("held")
		io.Copy(io.Discard, os.Stdin)
		s.Close()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// other is the spool opened by another process.
type other struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	said  string // "held", or why it could not open the spool
}

func openElsewhere(t *testing.T, dir string) *other {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), holdEnv+"="+dir)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	o := &other{cmd: cmd, stdin: stdin}
	t.Cleanup(o.close)
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("the other process said nothing: %v", err)
	}
	o.said = strings.TrimSpace(line)
	return o
}

func (o *other) close() {
	o.stdin.Close()
	o.cmd.Wait()
}

// A spool directory is used by one process at a time: a second gateway
// process with the same data directory and chain cannot open it (and so
// cannot cut what the first is writing), and can once the first has let
// go. Within one process it opens again, as a config reload does, and
// stays held until the last user closes it.
func TestOneProcessPerSpool(t *testing.T) {
	lockWait = 200 * time.Millisecond // (the other process waits the full time)
	dir := t.TempDir()
	first := openElsewhere(t, dir)
	if first.said != "held" {
		t.Fatalf("the first process could not open a free spool: %s", first.said)
	}
	if _, err := Open(dir); !errors.Is(err, ErrInUse) || !strings.Contains(err.Error(), "same data directory and chain") {
		t.Fatalf("opening a spool another process holds: %v; want ErrInUse, naming the likely cause", err)
	}
	first.close()

	// One that lets go while Open waits is waited for, as a restart's old
	// process finishing.
	lockWait = 5 * time.Second
	second := openElsewhere(t, dir)
	if second.said != "held" {
		t.Fatalf("the other process could not open the spool once the first let go: %s", second.said)
	}
	time.AfterFunc(300*time.Millisecond, second.close)
	s, err := Open(dir)
	if err != nil {
		t.Fatalf("opening a spool whose holder lets go within the wait: %v", err)
	}
	s.Close()
	lockWait = 200 * time.Millisecond

	a, err := Open(dir)
	if err != nil {
		t.Fatalf("the other process has closed the spool, yet: %v", err)
	}
	b, err := Open(dir)
	if err != nil {
		t.Fatalf("opening the spool again in the same process (a reload): %v", err)
	}
	a.Close()
	if o := openElsewhere(t, dir); o.said == "held" {
		t.Fatal("another process opened the spool while this one still had it open once")
	}
	b.Close()
	if o := openElsewhere(t, dir); o.said != "held" {
		t.Fatalf("another process cannot open the spool this one has closed: %s", o.said)
	}
}
