package caddymodule

import (
	"errors"
	"hash/maphash"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// A page too large to buffer is rewritten as it streams, so its length is
// not known when the headers go out and HTTP/1.1 sends it chunked, which
// costs a second system call per chunk. But a page that an upstream
// identifies by a strong ETag is, by that ETag's promise (RFC 9110 8.8.1),
// the same bytes every time, and the rewriter's output is a function of
// those bytes and of what the visitor's consent state changes (the ETag
// suffix names it). So the gateway learns the rewritten length of such a
// page the first time and sends it with an exact Content-Length after that.
// The per-request markup (hook, state, nonce) is measured per request, so
// only the rest is remembered.

// maxLengths bounds the table; past it an arbitrary entry makes room.
const maxLengths = 4096

// lengthCache maps a page representation and consent state to the length
// of its rewritten form without the per-request markup. Keys are 128-bit
// hashes of what they name, so that long URLs cannot make the table large.
type lengthCache struct {
	seeds [2]maphash.Seed
	mu    sync.RWMutex
	m     map[lengthKey]int64
}

type lengthKey [2]uint64

func newLengthCache() *lengthCache {
	return &lengthCache{seeds: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}, m: make(map[lengthKey]int64)}
}

// key hashes the parts of a page's identity (see pageWriter.learnableKey).
func (c *lengthCache) key(parts ...string) lengthKey {
	var k lengthKey
	for i, seed := range c.seeds {
		var h maphash.Hash
		h.SetSeed(seed)
		for _, p := range parts {
			h.WriteString(p)
			h.WriteByte(0)
		}
		k[i] = h.Sum64()
	}
	return k
}

func (c *lengthCache) get(key lengthKey) (int64, bool) {
	c.mu.RLock()
	n, ok := c.m[key]
	c.mu.RUnlock()
	return n, ok
}

func (c *lengthCache) learn(key lengthKey, n int64) {
	c.mu.Lock()
	if _, ok := c.m[key]; !ok && len(c.m) >= maxLengths {
		for k := range c.m {
			delete(c.m, k)
			break
		}
	}
	c.m[key] = n
	c.mu.Unlock()
}

func (c *lengthCache) forget(key lengthKey) {
	c.mu.Lock()
	delete(c.m, key)
	c.mu.Unlock()
}

// learnableKey names what a streamed page's rewritten length (and its
// rewritten form, pagecache.go) depends on; false when it cannot be known in
// advance: no strong ETag, or a body the gateway decodes.
func (pw *pageWriter) learnableKey(hdr http.Header) (lengthKey, bool) {
	etag, enc := hdr.Get("ETag"), hdr.Get("Content-Encoding")
	// Only a page as a GET finds it: an error page or a form's answer may
	// share an ETag with it, and is not worth remembering.
	if pw.status != http.StatusOK || pw.req.Method != http.MethodGet || etag == "" || strings.HasPrefix(etag, "W/") || enc != "" && !strings.EqualFold(enc, "identity") {
		return lengthKey{}, false
	}
	// The type names how the page is read (HTML, XHTML, SVG, a sheet; its
	// charset): an upstream negotiating it may keep one ETag for all.
	kind := string(rune('0' + pw.kind))
	return pw.h.lengths.key(pw.req.Host, pw.req.URL.RequestURI(), etag, hdr.Get("Content-Length"), hdr.Get("Content-Type"), kind, pw.visit.etagSuffix), true
}

// errLengthChanged is what writing past an announced length returns; the
// proxy then cuts the connection, so the client sees a failed response
// rather than a silently truncated page.
var errLengthChanged = errors.New("rewritten page longer than the Content-Length announced for it: " +
	"the upstream changed the page without changing its strong ETag")

// sentCounter counts what the rewriter sends and holds it to the announced
// length, if any.
type sentCounter struct {
	pw    *pageWriter
	n     int64
	limit int64 // -1 when no length was announced
	skip  int64 // bytes the rewriter writes again that the page cache sent
	// holdLast keeps the announced length's last byte back until the
	// response is settled: a page recorded for the page cache is stored
	// (a client that has it whole and asks again finds it there), and a
	// page answered from the cache has been read to its end and found
	// the same (a longer one leaves the client with a response cut short).
	holdLast bool
	held     bool
	last     [1]byte
}

func (c *sentCounter) Write(p []byte) (int, error) {
	if c.skip > 0 {
		k := int(min(c.skip, int64(len(p))))
		c.skip -= int64(k)
		if k == len(p) {
			return k, nil
		}
		n, err := c.Write(p[k:])
		return k + n, err
	}
	if c.limit >= 0 && c.n+int64(len(p)) > c.limit {
		c.pw.lengthWrong()
		return 0, errLengthChanged
	}
	out := p
	if c.holdLast && len(p) > 0 && c.n+int64(len(p)) == c.limit {
		out = p[:len(p)-1]
	}
	n, err := c.pw.ResponseWriter.Write(out)
	if err == nil && len(out) < len(p) {
		c.last[0], c.held = p[len(p)-1], true
		n++
	}
	c.n += int64(n)
	if c.pw.rec != nil {
		c.pw.rec.wrote(p[:n])
	}
	return n, err
}

// sendHeld sends the byte holdLast kept back.
func (c *sentCounter) sendHeld() error {
	if !c.held {
		return nil
	}
	c.held = false
	_, err := c.pw.ResponseWriter.Write(c.last[:])
	return err
}

// markupLen is the length of this request's own injected markup (none in a
// style sheet).
func (pw *pageWriter) markupLen() int64 {
	if pw.hook == nil {
		return 0
	}
	return int64(len(*pw.hook))
}

// announceLength sets Content-Length for a streamed page whose rewritten
// length is known, adding this request's own injected markup (pw.hook).
func (pw *pageWriter) announceLength() {
	pw.sent = sentCounter{pw: pw, limit: -1, holdLast: pw.rec != nil || pw.hit.e != nil}
	if !pw.lenKnown {
		return
	}
	if pw.hit.e != nil {
		pw.sent.limit = pw.cachedLength()
	} else if n, ok := pw.h.lengths.get(pw.lenKey); ok {
		pw.sent.limit = n + pw.markupLen()
	} else {
		return
	}
	pw.header().Set("Content-Length", strconv.FormatInt(pw.sent.limit, 10))
}

// settleLength, once the page is out, learns its length, or makes up for
// an announced length the page fell short of: the upstream broke its ETag's
// promise, and trailing spaces after the document are harmless where
// missing bytes would leave the client waiting.
func (pw *pageWriter) settleLength() error {
	if !pw.lenKnown {
		return nil
	}
	if pw.sent.limit < 0 {
		pw.h.lengths.learn(pw.lenKey, pw.sent.n-pw.markupLen())
		return nil
	}
	short := pw.sent.limit - pw.sent.n
	if short <= 0 {
		return nil
	}
	pw.lengthWrong()
	for short > 0 {
		n, err := pw.ResponseWriter.Write(spaces[:min(short, int64(len(spaces)))])
		if err != nil {
			return err
		}
		short -= int64(n)
	}
	return nil
}

// lengthWrong drops a length that did not hold and says so once.
func (pw *pageWriter) lengthWrong() {
	if !pw.lenKnown {
		return
	}
	pw.h.lengths.forget(pw.lenKey)
	pw.h.logger.Warn("page changed under the same strong ETag: its rewritten length was wrong, relearning it",
		zapString("path", pw.req.URL.Path))
	pw.lenKnown = false
}

var spaces = []byte(strings.Repeat(" ", 512))
