package store

import (
	"sync"
	"time"
)

// Spacer lets a message through at most once per Every and counts the
// repeats it held back. A store that is down fails the same way at every
// retry, once a second: one line a minute says as much as sixty. Messages
// that differ (another address, another error) are spaced apart from each
// other. Safe for concurrent use.
type Spacer struct {
	Every time.Duration

	mu   sync.Mutex
	seen map[string]*spaced
}

type spaced struct {
	last    time.Time
	skipped int
}

// maxSpaced bounds how many distinct messages a Spacer remembers; past it,
// those not seen for an interval are forgotten.
const maxSpaced = 64

// Allow reports whether to log msg now, and how many repeats of it were
// held back since it was last let through.
func (l *Spacer) Allow(msg string) (ok bool, skipped int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if e := l.seen[msg]; e != nil && now.Sub(e.last) < l.Every {
		e.skipped++
		return false, 0
	} else if e != nil {
		skipped = e.skipped
	}
	if l.seen == nil || len(l.seen) >= maxSpaced {
		l.forget(now)
	}
	l.seen[msg] = &spaced{last: now}
	return true, skipped
}

// Reset makes the next msg news again (what failed works again).
func (l *Spacer) Reset(msg string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.seen, msg)
}

// forget drops the messages not seen for an interval (all of them, if
// that leaves too many).
func (l *Spacer) forget(now time.Time) {
	for msg, e := range l.seen {
		if now.Sub(e.last) >= l.Every {
			delete(l.seen, msg)
		}
	}
	if l.seen == nil || len(l.seen) >= maxSpaced {
		l.seen = map[string]*spaced{}
	}
}
