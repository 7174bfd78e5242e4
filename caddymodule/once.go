package caddymodule

import (
	"context"
	"sync"
	"time"

	"github.com/consentgate/consentgate/consent/cookie"
)

// An automatic event (a choice expired, a privacy signal took part of one
// back) is recorded by the first page view that sees it; the cookie it
// sets tells later page views that it is done. Page views that race it
// (several tabs restored at once, a page and its frames) carry the old
// cookie too. onceEvents lets them wait for that first recording and take
// its cookie instead of writing the same event again, which would fork the
// consent's history.
type onceEvents struct {
	mu    sync.Mutex
	m     map[string]*onceEvent
	swept time.Time // the last sweep of old entries
}

type onceEvent struct {
	done chan struct{}
	next cookie.Consent // the cookie the recording set
	ok   bool           // whether it was recorded
	at   time.Time
}

// onceKeep is how long a recorded event is remembered: far longer than
// page views of one visit race, far shorter than a visit.
const onceKeep = 2 * time.Minute

func newOnceEvents() *onceEvents { return &onceEvents{m: make(map[string]*onceEvent)} }

// claim returns the event for key and whether the caller is the first,
// who must record it and then call settle.
func (o *onceEvents) claim(key string, now time.Time) (*onceEvent, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if e, ok := o.m[key]; ok && now.Sub(e.at) < onceKeep {
		return e, false
	}
	// Sweep old entries once the table is sizeable, at most every
	// onceKeep/8, so that a claim is not a walk of the whole table.
	if len(o.m) >= 1024 && now.Sub(o.swept) >= onceKeep/8 {
		o.swept = now
		for k, e := range o.m {
			if now.Sub(e.at) >= onceKeep {
				delete(o.m, k)
			}
		}
	}
	e := &onceEvent{done: make(chan struct{}), at: now}
	o.m[key] = e
	return e, true
}

// settle publishes the first recording's outcome. One that failed is
// forgotten, so that the next page view tries again.
func (o *onceEvents) settle(key string, e *onceEvent, next cookie.Consent, ok bool) {
	e.next, e.ok = next, ok
	if !ok {
		o.mu.Lock()
		if o.m[key] == e {
			delete(o.m, key)
		}
		o.mu.Unlock()
	}
	close(e.done)
}

// wait waits for the first recording; false when it failed or ctx ended.
func (e *onceEvent) wait(ctx context.Context) (cookie.Consent, bool) {
	select {
	case <-e.done:
		return e.next, e.ok
	case <-ctx.Done():
		return cookie.Consent{}, false
	}
}
