package spool

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"

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
		ok, err := file.TryLock()
		if err != nil {
			return nil, fmt.Errorf("locking: %w", err)
		}
		if !ok {
			return nil, fmt.Errorf("%w (another gateway with the same data directory and chain?)", ErrInUse)
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
