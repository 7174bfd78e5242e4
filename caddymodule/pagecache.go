package caddymodule

import (
	"bytes"
	"container/list"
	"fmt"
	"sync"

	"github.com/dustin/go-humanize"

	"github.com/consentgate/consentgate/consent/catalog"
	"github.com/consentgate/consentgate/consent/rewrite"
)

// The page cache. A page that an upstream names by a strong ETag is the
// same bytes every time (RFC 9110 8.8.1), and its rewritten form depends
// only on those bytes and on what the visitor's consent state changes
// (lengths.go keys on both). So the gateway keeps the rewritten form of
// such a page, without the request's own markup (hook, state, nonce,
// no-JS form), from the second request for it (the first has its length
// learnt, lengths.go), and answers later requests for the same page and
// state from it, putting that request's markup in its places. Rewriting a large
// page costs far more than comparing it: the upstream's body is still read
// and compared byte for byte with the page the form was made from, so a
// page changed under the same ETag is never answered from the cache. From
// the first write that differs the gateway rewrites the page as it would
// have without the cache, skipping what the cache already sent: the
// rewriter's output up to a point depends only on the page up to there
// (and a page that ends early is rewritten the same way).
//
// The cache holds at most its budget in all, counting the pages being
// recorded; a response it serves holds nothing of its own.

// DefaultPageCache is the page cache's budget when the configuration names
// none.
const DefaultPageCache = 32 << 20

const (
	// maxSeen bounds the third-party hosts (by kind) one cached page
	// replays for the scan; a page with more is not cached.
	maxSeen = 256
	// recordSlack is room beyond twice the page for what rewriting adds
	// (the markup, placeholders, renamed attributes).
	recordSlack = 64 << 10
)

type pageCache struct {
	budget   int64
	maxEntry int64 // a quarter of the budget: one page never empties the cache

	mu        sync.Mutex
	used      int64 // by entries and by recordings' reservations
	entries   map[lengthKey]*list.Element
	lru       list.List // of *cachedPage, most recently used first
	recording map[lengthKey]bool
}

func newPageCache(budget int64) *pageCache {
	return &pageCache{
		budget:    budget,
		maxEntry:  budget / 4,
		entries:   make(map[lengthKey]*list.Element),
		recording: make(map[lengthKey]bool),
	}
}

// pageCaches are the page caches of the handlers running, for the metric.
var pageCaches sync.Map // *pageCache -> struct{}

func (c *pageCache) usedBytes() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.used
}

// cachedPage is one page's rewritten form. It is never changed once stored.
type cachedPage struct {
	key     lengthKey
	in      []byte     // the page as the upstream sent it
	out     []byte     // its rewritten form without the request's markup
	marks   []pageMark // where that markup goes in out, in order
	steps   []pageStep // how far out may be sent as in is read
	had     [numPieces]bool
	state   string // the consent state it was rewritten for (checked as well as hashed into key)
	blocked int
	seen    []seenURL
}

const numPieces = int(rewrite.InjectedBodyAfterBase) + 1

// pageMark is where one piece of the request's markup goes in out.
type pageMark struct {
	at    int
	piece rewrite.Injection
}

// pageStep says that once in[:in] has been read, out[:out] and the first
// marks pieces of markup are what the rewriter had written.
type pageStep struct {
	in, out, marks int
}

// seenURL is a third-party host the rewrite noted for the scan, and how
// many times.
type seenURL struct {
	kind  catalog.Kind
	host  []byte
	times int
}

func (e *cachedPage) size() int64 {
	return int64(cap(e.in) + cap(e.out) + 24*cap(e.steps) + 16*cap(e.marks) + 64*cap(e.seen))
}

// get returns the cached form of a page, if there is one.
func (c *pageCache) get(key lengthKey) *cachedPage {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[key]
	if !ok {
		return nil
	}
	c.lru.MoveToFront(el)
	return el.Value.(*cachedPage)
}

// drop forgets a page that changed under its ETag.
func (c *pageCache) drop(e *cachedPage) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[e.key]; ok && el.Value == e {
		c.remove(el)
	}
}

func (c *pageCache) remove(el *list.Element) {
	e := c.lru.Remove(el).(*cachedPage)
	delete(c.entries, e.key)
	c.used -= e.size()
}

// makeRoom evicts the least recently used pages until n more bytes fit.
// Called with mu held.
func (c *pageCache) makeRoom(n int64) bool {
	for c.used+n > c.budget {
		back := c.lru.Back()
		if back == nil {
			return false // recordings hold the rest
		}
		c.remove(back)
	}
	return true
}

// startRecording reserves room to record a page of pageLen bytes (-1 if
// unknown) for key, unless another request records it already or the
// page could not be kept. A page of known length gets its buffers at once.
func (c *pageCache) startRecording(key lengthKey, pageLen int64) *pageRecorder {
	reserve := c.maxEntry
	if pageLen >= 0 {
		reserve = min(2*pageLen+recordSlack, c.maxEntry)
	}
	if pageLen > (c.maxEntry-recordSlack)/2 {
		return nil
	}
	c.mu.Lock()
	if c.recording[key] || !c.makeRoom(reserve) {
		c.mu.Unlock()
		return nil
	}
	c.recording[key] = true
	c.used += reserve
	c.mu.Unlock()
	r := &pageRecorder{cache: c, key: key, reserved: reserve}
	if pageLen >= 0 {
		r.in = make([]byte, 0, pageLen)
		r.out = make([]byte, 0, pageLen+recordSlack)
	}
	return r
}

// pageRecorder gathers a page and its rewritten form as they stream.
type pageRecorder struct {
	cache    *pageCache
	key      lengthKey
	reserved int64
	in, out  []byte
	steps    []pageStep // out and marks still counting the recording's markup
	seen     []seenURL
	state    string
	failed   bool
}

// read notes bytes of the page, before they are rewritten.
func (r *pageRecorder) read(p []byte) { r.in = r.appendWithin(r.in, p, cap(r.out)) }

// wrote notes rewritten bytes.
func (r *pageRecorder) wrote(p []byte) { r.out = r.appendWithin(r.out, p, cap(r.in)) }

// appendWithin appends p to buf, growing it only as far as the reservation
// allows beside the other buffer's other bytes; past that the recording
// fails and lets both go.
func (r *pageRecorder) appendWithin(buf, p []byte, other int) []byte {
	if r.failed {
		return nil
	}
	if len(buf)+len(p) > cap(buf) {
		grown := max(2*cap(buf), len(buf)+len(p), 64<<10)
		if int64(grown+other) > r.reserved {
			grown = int(r.reserved) - other
		}
		if grown < len(buf)+len(p) {
			r.failed, r.in, r.out = true, nil, nil
			return nil
		}
		buf = append(make([]byte, 0, grown), buf...)
	}
	return append(buf, p...)
}

// step notes that everything read so far has been rewritten as far as it
// can be.
func (r *pageRecorder) step() {
	if !r.failed {
		r.steps = append(r.steps, pageStep{in: len(r.in), out: len(r.out)})
	}
}

// saw notes a third-party URL the rewrite reported to the scan.
func (r *pageRecorder) saw(kind catalog.Kind, host []byte) {
	if r.failed {
		return
	}
	for i := range r.seen {
		if s := &r.seen[i]; s.kind == kind && string(s.host) == string(host) {
			s.times++
			return
		}
	}
	if len(r.seen) >= maxSeen {
		r.failed, r.in, r.out = true, nil, nil
		return
	}
	r.seen = append(r.seen, seenURL{kind, bytes.Clone(host), 1})
}

// finish stores the recorded page, when complete is true and nothing went
// wrong, and gives its reservation back. rw is the rewriter that wrote it
// and pieces the recording request's markup.
func (r *pageRecorder) finish(complete bool, rw *rewrite.Rewriter, pieces [numPieces][]byte, blocked int) {
	var e *cachedPage
	if complete && !r.failed {
		e = r.build(rw, pieces, blocked)
	}
	c := r.cache
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.recording, r.key)
	c.used -= r.reserved
	if e == nil || e.size() > c.maxEntry || !c.makeRoom(e.size()) {
		return
	}
	if old, ok := c.entries[r.key]; ok {
		c.remove(old)
	}
	c.entries[r.key] = c.lru.PushFront(e)
	c.used += e.size()
}

// build makes the cached form: out without the recording request's markup,
// and the steps in those terms. Nil if a piece is not where the rewriter
// says (it cannot happen; the cache then stays out of it).
func (r *pageRecorder) build(rw *rewrite.Rewriter, pieces [numPieces][]byte, blocked int) *cachedPage {
	e := &cachedPage{key: r.key, in: r.in, state: r.state, blocked: blocked, seen: r.seen}
	if cap(e.in) > len(e.in)+len(e.in)/8 { // grown without a known length
		e.in = bytes.Clone(e.in)
	}
	size := len(r.out)
	for i, p := range pieces {
		if rw.InjectedAt(rewrite.Injection(i)) >= 0 {
			size -= len(p)
		}
	}
	e.out = make([]byte, 0, max(size, 0))
	type cut struct{ at, n int }
	var cuts []cut
	prev := 0
	for i, p := range pieces {
		e.had[i] = len(p) > 0
		at := rw.InjectedAt(rewrite.Injection(i))
		if at < 0 || len(p) == 0 {
			continue
		}
		if int(at) < prev || int(at)+len(p) > len(r.out) || string(r.out[at:int(at)+len(p)]) != string(p) {
			return nil
		}
		e.out = append(e.out, r.out[prev:at]...)
		e.marks = append(e.marks, pageMark{at: len(e.out), piece: rewrite.Injection(i)})
		cuts = append(cuts, cut{int(at), len(p)})
		prev = int(at) + len(p)
	}
	e.out = append(e.out, r.out[prev:]...)
	r.out = nil
	e.steps = make([]pageStep, 0, len(r.steps))
	for _, s := range r.steps {
		marks, removed := 0, 0
		for _, c := range cuts {
			if c.at+c.n > s.out {
				break // a piece is written whole within one write, so never cut by a step
			}
			marks++
			removed += c.n
		}
		e.steps = append(e.steps, pageStep{in: s.in, out: s.out - removed, marks: marks})
	}
	return e
}

// cacheHit is a response being answered from a cached page.
type cacheHit struct {
	e     *cachedPage // nil when the response is not
	in    int         // page bytes read and found the same
	step  int         // e.steps[:step] are sent
	out   int         // e.out[:out] is sent ...
	marks int         // ... and so are the first marks pieces of markup
}

// useCache looks the streamed page up in the cache: it is answered from
// there, or recorded for the next request, or neither.
func (pw *pageWriter) useCache() {
	c := pw.h.pages
	if c == nil || !pw.lenKnown {
		return
	}
	if e := c.get(pw.lenKey); e != nil && e.had == pw.hasPieces() && e.state == pw.visit.etagSuffix {
		pw.hit = cacheHit{e: e}
		return
	}
	if _, seen := pw.h.lengths.get(pw.lenKey); !seen {
		return // recorded the second time: a page asked for once is not worth copying
	}
	pw.rec = c.startRecording(pw.lenKey, pw.pageLen)
	if pw.rec != nil {
		pw.rec.state = pw.visit.etagSuffix
	}
}

// pieces is this request's own markup, by rewrite.Injection.
func (pw *pageWriter) pieces() [numPieces][]byte {
	return [numPieces][]byte{pw.opts.Early, pw.opts.Hook, pw.opts.Body, pw.opts.BodyAfterBase}
}

func (pw *pageWriter) hasPieces() (has [numPieces]bool) {
	for i, p := range pw.pieces() {
		has[i] = len(p) > 0
	}
	return has
}

// cachedLength is the length of the answer from the cache.
func (pw *pageWriter) cachedLength() int64 {
	n := int64(len(pw.hit.e.out))
	pieces := pw.pieces()
	for _, m := range pw.hit.e.marks {
		n += int64(len(pieces[m.piece]))
	}
	return n
}

// serveCached compares p with the cached page and sends as much of its
// rewritten form as what has been read allows.
func (pw *pageWriter) serveCached(p []byte) (int, error) {
	h := &pw.hit
	e := h.e
	if len(p) > len(e.in)-h.in || string(p) != string(e.in[h.in:h.in+len(p)]) {
		return pw.leaveCache(p)
	}
	h.in += len(p)
	for h.step < len(e.steps) && e.steps[h.step].in <= h.in {
		h.step++
	}
	if h.step > 0 {
		if err := pw.sendCached(e.steps[h.step-1]); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// finishCached sends the rest of the cached answer once the page has ended,
// if it ended where the cached one did.
func (pw *pageWriter) finishCached() error {
	e := pw.hit.e
	if pw.hit.in != len(e.in) {
		_, err := pw.leaveCache(nil)
		return err
	}
	pw.h.metrics.pageCacheHits.Inc() // before the last bytes reach the client
	if err := pw.sendCached(pageStep{in: len(e.in), out: len(e.out), marks: len(e.marks)}); err != nil {
		return err
	}
	if len(e.seen) > 0 {
		site := siteOf(pw.req)
		for _, s := range e.seen {
			thirdParties.ObserveTimes(site, pw.req.URL.Path, s.kind, s.host, s.times)
		}
	}
	return nil
}

// sendCached sends the cached answer up to s, with this request's markup.
func (pw *pageWriter) sendCached(s pageStep) error {
	h := &pw.hit
	pieces := pw.pieces()
	for ; h.marks < s.marks; h.marks++ {
		m := h.e.marks[h.marks]
		if err := pw.sendBytes(h.e.out[h.out:m.at]); err != nil {
			return err
		}
		h.out = m.at
		if err := pw.sendBytes(pieces[m.piece]); err != nil {
			return err
		}
	}
	err := pw.sendBytes(h.e.out[h.out:s.out])
	h.out = s.out
	return err
}

func (pw *pageWriter) sendBytes(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	_, err := pw.sent.Write(b)
	return err
}

// leaveCache rewrites the page afresh from where it stopped matching the
// cached one (p, or its end when p is nil): the rewriter reads again what
// matched, and what it writes first, the cache has already sent.
func (pw *pageWriter) leaveCache(p []byte) (int, error) {
	e, read := pw.hit.e, pw.hit.in
	pw.hit = cacheHit{}
	pw.h.pages.drop(e)
	pw.h.logger.Warn("page changed under the same strong ETag: rewriting it afresh",
		zapString("path", pw.req.URL.Path))
	pw.sent.skip = pw.sent.n
	pw.startRewriter()
	if _, err := pw.gate.Write(e.in[:read]); err != nil || p == nil {
		return 0, err
	}
	return pw.gate.Write(p)
}

// newPageCacheFor makes the page cache the configuration asks for: nil for
// "off".
func newPageCacheFor(size string) (*pageCache, error) {
	budget, err := parsePageCache(size)
	if err != nil || budget == 0 {
		return nil, err
	}
	return newPageCache(budget), nil
}

// minPageCache is the smallest budget that can hold a streamed page.
const minPageCache = 1 << 20

// parsePageCache reads the page_cache setting: a size such as 64MiB or
// 100MB, or "off" (0).
func parsePageCache(size string) (int64, error) {
	switch size {
	case "":
		return DefaultPageCache, nil
	case "off":
		return 0, nil
	}
	n, err := humanize.ParseBytes(size)
	if err != nil {
		return 0, fmt.Errorf("page_cache %q: give a size such as 64MiB, or off", size)
	}
	if n < minPageCache || n > 1<<40 {
		return 0, fmt.Errorf("page_cache %q: give at least 1MiB (or off)", size)
	}
	return int64(n), nil
}
