package spool

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/gofrs/flock"
)

// One process per spool directory. Two gateways sharing a data directory
// and a chain would both append to spool.log, and one opening it would cut
// what looks like a torn last line while the other is still writing it: a
// proof lost. So Open holds an exclusive lock on the directory's lock file
// while this process has the spool open. Within one process the directory
// may be opened again (a config reload opens the new sink before it closes
// the old one): the lock is counted there, not taken twice.

// ErrInUse is returned by Open when another process has the spool open.
var ErrInUse = errors.New("in use by another process")

// lockWait is how long Open waits for another process to let go, as the
// embedded store waits for its file (a restart whose old process is still
// finishing); a variable so that tests can shorten it.
var lockWait = 5 * time.Second

var (
	locksMu sync.Mutex
	locks   = map[string]*dirLock{}
)

type dirLock struct {
	file  *flock.Flock
	users int
}

// lockDir locks dir for this process and returns what releases it.
func lockDir(dir string) (release func(), err error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	locksMu.Lock()
	defer locksMu.Unlock()
	l := locks[abs]
	if l == nil {
		file := flock.New(filepath.Join(abs, "lock"))
		ctx, cancel := context.WithTimeout(context.Background(), lockWait)
		ok, err := file.TryLockContext(ctx, 50*time.Millisecond)
		cancel()
		if !ok && (err == nil || errors.Is(err, context.DeadlineExceeded)) {
			return nil, fmt.Errorf("%w (another gateway with the same data directory and chain?)", ErrInUse)
		}
		if err != nil {
			return nil, fmt.Errorf("locking: %w", err)
		}
		l = &dirLock{file: file}
		locks[abs] = l
	}
	l.users++
	var once sync.Once
	return func() {
		once.Do(func() {
			locksMu.Lock()
			defer locksMu.Unlock()
			if l.users--; l.users == 0 {
				l.file.Unlock()
				delete(locks, abs)
			}
		})
	}, nil
}
