package caddymodule

import (
	"bytes"
	"fmt"
	"io"
	"math/bits"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/consentgate/consentgate/banner"
	"github.com/consentgate/consentgate/consent/catalog"
	"github.com/consentgate/consentgate/consent/policy"
	"github.com/consentgate/consentgate/consent/rewrite"
	"github.com/consentgate/consentgate/consent/scan"
)

const (
	// smallPage is the largest body rewritten in one buffer and sent with an
	// exact Content-Length; larger pages stream. With the output buffer it
	// keeps a small page's memory near 64 KiB.
	smallPage = 24 << 10
	// smallOut is the output buffer's size: the page, the hook and room for
	// neutralised elements.
	smallOut = 40 << 10
	// flushGrace is how long a small page may sit in the buffer before an
	// upstream flush forces streaming. reverse_proxy flushes after every read
	// of a body of unknown length, so honouring each flush would defeat the
	// buffer; a flush held for it goes out when the grace is over even if
	// the upstream writes nothing more (heldFlush), so a streaming page's
	// early head is not kept back while the rest of it renders.
	flushGrace = 20 * time.Millisecond
)

type writerState uint8

const (
	stateNew     writerState = iota // no final status yet
	statePass                       // not rewritten: bytes go straight through
	stateSniff                      // untyped: its first bytes, held in buf, will tell
	stateBuffer                     // rewritten, small so far: held in buf
	stateStream                     // rewritten, streaming through the rewriter
	stateDiscard                    // answered in place of upstream (a held redirect): its body goes nowhere
	stateDone
)

// pageWriter wraps the response of a page request. It decides at WriteHeader
// whether the body is rewritten, and never buffers what it does not rewrite
// beyond the first sniffLen bytes of a body whose type the upstream left
// unsaid, which a browser would sniff.
type pageWriter struct {
	*caddyhttp.ResponseWriterWrapper
	h          *Handler
	req        *http.Request
	visit      visit
	mayRewrite bool        // a GET that could be a page or a sheet
	dest       destination // what the browser will make of the answer
	ownTag     bool        // If-None-Match names what the gateway made for this state: a 304 is marked as that was
	kind       bodyKind    // what the body is rewritten as, once that is known
	site       string      // the request's host, for the third-party scan
	state      writerState
	status     int
	streaming  bool // the status line and headers of a streamed page are out
	buf        []byte
	bufSince   time.Time
	rw         *rewrite.Rewriter
	gate       charsetGate // in front of rw: a UTF-16 page is turned into UTF-8
	label      byteOrder   // the UTF-16 byte order the Content-Type names, if any
	dec        *decoder
	hook       *[]byte
	nonce      string    // the CSP nonce the injected markup carries, if any
	lenKey     lengthKey // see lengths.go
	lenKnown   bool      // lenKey names the page: its length can be learnt
	pageLen    int64     // the page's length as the upstream gave it, -1 if not
	sent       sentCounter
	opts       rewrite.Options // a streamed page's rewriter options
	hit        cacheHit        // the page cache's answer (pagecache.go), if any
	rec        *pageRecorder   // the page being recorded for the cache, if any
	held       *heldFlush      // a flush the grace held back, if any
	spare      *heldFlush      // a cancelled one whose timer will not fire: the next hold reuses it
	heldErr    error           // what a held flush met when its timer did it
	bare       bool            // a fetch() answer whose beginning is no whole page: nothing injected
	returnTo   string          // the page the no-JavaScript form returns to
	origin     string          // the site's origin, for the no-JavaScript form
}

var pageWriterPool = sync.Pool{New: func() any { return new(pageWriter) }}
var rewriterPool = sync.Pool{New: func() any { return rewrite.New(io.Discard, rewrite.Options{}) }}
var (
	bufPool = sync.Pool{New: func() any { b := make([]byte, 0, smallPage); return &b }}
	outPool = sync.Pool{New: func() any { b := make([]byte, 0, smallOut); return &b }}
)

func (h *Handler) newPageWriter(w http.ResponseWriter, r *http.Request, v visit) *pageWriter {
	pw := pageWriterPool.Get().(*pageWriter)
	dest := destinationOf(r)
	// A script's form of a page may hold no banner: a browser that
	// revalidates one form must not be told that it is the other (the
	// HTTP cache keeps one answer per URL for navigations and fetches).
	switch dest {
	case destFragment:
		v.etagSuffix += "-f"
	case destFetch:
		v.etagSuffix += "-e"
	}
	*pw = pageWriter{
		ResponseWriterWrapper: &caddyhttp.ResponseWriterWrapper{ResponseWriter: w},
		h:                     h,
		req:                   r,
		visit:                 v,
		dest:                  dest,
		mayRewrite:            dest.mayBePage(r),
	}
	return pw
}

// WriteHeader decides whether the body will be rewritten.
func (pw *pageWriter) WriteHeader(status int) {
	if pw.held != nil {
		pw.cancelHeld()
	}
	if pw.state != stateNew {
		return
	}
	if status >= 100 && status < 200 && status != http.StatusSwitchingProtocols {
		if pw.mayRewrite {
			pw.filterLinks(pw.header()) // Early Hints: a browser preloads from them
		}
		pw.ResponseWriter.WriteHeader(status) // informational: the final status is still to come
		return
	}
	pw.status = status
	hdr := pw.header()
	pw.filterSetCookies(hdr)
	if pw.redirectHeld(status, hdr) {
		return
	}
	var essence string // the body's type, read once, for an answer that is a page's in some form
	if (pw.req.Method == http.MethodGet || pw.req.Method == http.MethodPost) && shownStatus(status) {
		if essence = mimeEssence(hdr.Values("Content-Type")); xmlDocument(essence) {
			// An SVG is rewritten as a document and sent whole as an image
			// (XML as a document and whole to a script): a browser must not
			// take one form from its cache for the other.
			addVary(hdr, "Sec-Fetch-Dest")
		}
	}
	switch kind := pw.bodyKind(status, hdr, essence); kind {
	case bodyPage, bodyXHTML, bodyXMLDoc, bodySheet, bodyRules:
		pw.kind = kind
		pw.beginRewrite(hdr)
	case bodyUntyped:
		pw.state = stateSniff
		pw.buf = (*bufPool.Get().(*[]byte))[:0]
		pw.bufSince = time.Now()
	default:
		if !pw.mayRewrite && pw.req.Method == http.MethodGet && shownStatus(status) {
			keepPageUncached(hdr, essence)
		}
		pw.pass()
	}
}

// pass sends the status; the body goes straight through. A 304 keeps the
// cached answer's marks only if that answer was the gateway's: an image's
// or a script's 304 goes out as upstream sent it, so its caching is the
// site's own.
func (pw *pageWriter) pass() {
	if pw.status == http.StatusNotModified && pw.ownTag {
		if pw.dest.subresource() {
			markSheetPerVisitor(pw.header(), pw.visit.etagSuffix)
		} else {
			markPerVisitor(pw.header(), pw.visit.etagSuffix)
		}
	}
	pw.state = statePass
	pw.ResponseWriter.WriteHeader(pw.status)
}

// beginRewrite readies the headers of a page to be rewritten and the buffer
// or stream its body goes to.
func (pw *pageWriter) beginRewrite(hdr http.Header) {
	pw.lenKey, pw.lenKnown = pw.learnableKey(hdr)
	pw.pageLen = -1
	if cl := hdr.Get("Content-Length"); cl != "" { // (a failed parse allocates its error)
		if n, err := strconv.ParseInt(cl, 10, 64); err == nil && n >= 0 {
			pw.pageLen = n
		}
	}
	pw.filterLinks(hdr)
	hdr.Del("Content-Length")
	hdr.Del("Accept-Ranges")
	switch pw.kind {
	case bodySheet, bodyRules:
		markSheetPerVisitor(hdr, pw.visit.etagSuffix)
	case bodyXMLDoc: // nothing injected: its CSP stays as it is
		markPerVisitor(hdr, pw.visit.etagSuffix)
	default:
		if pw.dest != destFragment { // a fragment gets nothing injected
			pw.nonce = pw.h.adaptCSP(hdr, pw.req, pw.visit.decision)
		}
		if pw.h.policy.AsksAnything() {
			// For the no-JavaScript form, read here: a held flush's timer
			// may make the form, and must not read the request.
			pw.returnTo, pw.origin = askedURL(pw.req).RequestURI(), originOf(pw.req)
		}
		pw.filterSpeculationRules(hdr) // a page's: a browser reads it on no other answer
		markPerVisitor(hdr, pw.visit.etagSuffix)
	}
	if pw.label = labelOrder(charsetLabel(hdr.Values("Content-Type"))); pw.label != notUTF16 {
		essence, _ := lastMIMEType(hdr.Values("Content-Type"))
		hdr.Set("Content-Type", essence+"; charset=utf-8") // what goes out is UTF-8
	}
	if enc := pw.encoding(); enc != "" {
		hdr.Del("Content-Encoding")
		pw.startStream(enc)
		return
	}
	hdr.Del("Content-Encoding")
	pw.state = stateBuffer
	if pw.buf == nil { // a sniffed page keeps the bytes it was sniffed by
		pw.buf = (*bufPool.Get().(*[]byte))[:0]
		pw.bufSince = time.Now()
	}
}

type bodyKind uint8

const (
	bodyOther   bodyKind = iota // passed through
	bodyPage                    // an HTML page: rewritten, the banner injected
	bodyXHTML                   // an XHTML page: rewritten as XML, the banner injected without the no-JS form
	bodyXMLDoc                  // an SVG or XML document: rewritten as XML, nothing injected
	bodySheet                   // a style sheet: rewritten as one (@import, url())
	bodyRules                   // a speculation rules file: the URLs it lists judged
	bodyUntyped                 // sniffed: rewritten if a browser would take it for a page
)

// bodyKind: HTML bodies with a page's status (shownStatus) to GET or POST,
// in an encoding we can undo, are pages.
// The type is read as a browser reads it, so that no page a browser would
// render slips through for a malformed or missing Content-Type. An SVG is
// a document only where a browser shows it as one (a navigation, a frame,
// an object): as an image it loads nothing, and scripts that fetch() it
// read it as data. essence is the type mimeEssence reads from hdr (only
// a GET's or POST's answer with a page's status needs it).
func (pw *pageWriter) bodyKind(status int, hdr http.Header, essence string) bodyKind {
	if !pw.mayRewrite || !shownStatus(status) || pw.dest.navigable() && downloaded(hdr) {
		return bodyOther
	}
	if enc := pw.encoding(); enc != "" && !canDecode(enc) {
		pw.h.logger.Warn("page passed through unrewritten: unsupported Content-Encoding",
			zapString("content_encoding", enc), zapString("path", pw.req.URL.Path))
		return bodyOther
	}
	if xmlDocument(essence) {
		// Browsers show SVG and XML as a document: an XHTML root runs its
		// scripts and loads its images as a page does, and an XSL style
		// sheet's output does too (its literal elements are judged). No
		// banner can go in (it would break the document): the rest of the
		// site asks.
		if pw.dest == destDocument {
			return bodyXMLDoc
		}
		return bodyOther
	}
	switch essence {
	case "text/html":
		return bodyPage
	case "application/xhtml+xml":
		return bodyXHTML
	case "text/css": // a first-party sheet that @imports Google Fonts loads them as a page would
		return bodySheet
	case "application/speculationrules+json": // the only type a browser takes rules from
		return bodyRules
	case "":
		_, labelled := hdr["Content-Type"]
		switch {
		case labelled && strings.EqualFold(strings.TrimSpace(hdr.Get("X-Content-Type-Options")), "nosniff"):
			return bodyOther // browsers do not sniff a page out of it
		}
		return bodyUntyped
	}
	return bodyOther
}

// sniffLen is how much of an untyped body browsers (and net/http, which
// would label it on the way out) look at to tell a page. Of a compressed
// one, up to smallPage bytes are held until they decode to something.
const sniffLen = 512

// sniff holds the first bytes of an untyped body until they tell whether
// it is a page. What a compressed body holds is decoded each time it
// doubles.
func (pw *pageWriter) sniff(p []byte) (int, error) {
	encoded, hold, before := pw.encoding() != "", sniffLen, len(pw.buf)
	if encoded {
		hold = smallPage
	}
	n := min(len(p), hold-before)
	pw.buf = append(pw.buf, p[:n]...)
	full := len(pw.buf) >= hold
	if !full && (!encoded || bits.Len(uint(before)) == bits.Len(uint(len(pw.buf)))) {
		return n, nil
	}
	if err := pw.settleType(full); err != nil {
		return 0, err
	}
	if pw.state == stateSniff || n == len(p) {
		return n, nil // nothing decodes yet, or nothing more to write
	}
	m, err := pw.Write(p[n:])
	return n + m, err
}

// encoding is the body's Content-Encoding, all its lines, "" if none or
// identity.
func (pw *pageWriter) encoding() string {
	enc := strings.Join(pw.header().Values("Content-Encoding"), ", ") // one line: itself
	if enc == "" || strings.EqualFold(enc, "identity") || strings.Contains(enc, ",") && len(codings(enc)) == 0 {
		return ""
	}
	return enc
}

// settleType decides, from the held first bytes of an untyped body, whether
// it is a page, as a browser sniffing it would, and sends what it holds on
// if not. Unless the body is all held (final), a compressed beginning that
// decodes to nothing yet is left undecided.
func (pw *pageWriter) settleType(final bool) error {
	held, sniffed := pw.buf, pw.buf
	if enc := pw.encoding(); enc != "" {
		if sniffed = decodedPrefix(enc, held, sniffLen); len(sniffed) == 0 && !final {
			return nil
		} else if len(sniffed) == 0 && len(held) > 0 {
			pw.h.logger.Warn("body passed through unrewritten: compressed, without a Content-Type, and its beginning does not decode",
				zapString("content_encoding", enc), zapString("path", pw.req.URL.Path))
		}
	}
	ct := http.DetectContentType(sniffed)
	kind := bodyOther
	switch {
	case len(sniffed) == 0:
	case strings.HasPrefix(ct, "text/html"):
		kind = bodyPage
	case strings.HasPrefix(ct, "text/xml"): // browsers sniff "<?xml" too
		addVary(pw.header(), "Sec-Fetch-Dest") // as for labelled XML
		if pw.dest == destDocument {
			kind = bodyXMLDoc
		}
	}
	if kind == bodyOther && !final && len(sniffed) < sniffLen {
		// More bytes may still make a page of it ("<!DOC" alone is text):
		// a browser waits for them too.
		return nil
	}
	if kind != bodyOther {
		hdr := pw.header()
		if _, labelled := hdr["Content-Type"]; !labelled {
			hdr.Set("Content-Type", ct) // as net/http would label it passed through
		}
		pw.kind = kind
		pw.beginRewrite(hdr)
		if pw.dec != nil { // compressed: what was held is decoded first
			pw.buf = nil
			_, err := pw.dec.Write(held)
			pw.putBuf(held)
			return err
		}
		return nil
	}
	pw.buf = nil
	pw.pass()
	_, err := pw.ResponseWriter.Write(held)
	pw.putBuf(held)
	return err
}

func (pw *pageWriter) Write(p []byte) (int, error) {
	if err := pw.cancelHeld(); err != nil {
		return 0, err
	}
	if pw.state == stateNew {
		pw.WriteHeader(http.StatusOK)
	}
	switch pw.state {
	case statePass:
		return pw.ResponseWriter.Write(p)
	case stateDiscard:
		return len(p), nil
	case stateSniff:
		return pw.sniff(p)
	case stateBuffer:
		if len(pw.buf)+len(p) <= smallPage {
			pw.buf = append(pw.buf, p...)
			return len(p), nil
		}
		if err := pw.toStream(); err != nil {
			return 0, err
		}
		fallthrough
	case stateStream:
		if pw.dec != nil {
			return pw.dec.Write(p)
		}
		return pw.feed(p)
	}
	return 0, http.ErrBodyNotAllowed
}

// ReadFrom keeps http.ServeContent (file_server) from bypassing Write.
func (pw *pageWriter) ReadFrom(r io.Reader) (int64, error) {
	if err := pw.cancelHeld(); err != nil {
		return 0, err
	}
	if pw.state == stateNew {
		pw.WriteHeader(http.StatusOK)
	}
	if pw.state == statePass {
		if rf, ok := pw.ResponseWriter.(io.ReaderFrom); ok {
			return rf.ReadFrom(r)
		}
		return io.Copy(writerOnly{pw.ResponseWriter}, r)
	}
	return io.Copy(writerOnly{pw}, r)
}

type writerOnly struct{ io.Writer }

// FlushError pushes out what can be sent. Before the status is known it is a
// no-op; a small page is held for flushGrace first, and then flushed by a
// timer unless the upstream writes again before.
func (pw *pageWriter) FlushError() error {
	if err := pw.cancelHeld(); err != nil {
		return err
	}
	if pw.state == stateSniff || pw.state == stateBuffer {
		if wait := flushGrace - time.Since(pw.bufSince); wait > 0 {
			if len(pw.buf) > 0 { // (reverse_proxy flushes the headers alone first)
				pw.holdFlush(wait)
			}
			return nil
		}
	}
	return pw.flushNow()
}

// flushNow pushes out what can be sent, the grace over.
func (pw *pageWriter) flushNow() error {
	switch pw.state {
	case stateNew, stateDone, stateDiscard:
		return nil
	case stateSniff:
		if err := pw.settleType(false); err != nil {
			return err
		}
		if pw.state == stateSniff {
			return nil // nothing to tell a page by yet: the flush waits
		}
	}
	if pw.state == stateBuffer {
		if err := pw.toStream(); err != nil {
			return err
		}
	}
	flush := http.NewResponseController(pw.ResponseWriter).Flush
	if pw.state == stateStream && pw.hit.e == nil { // the cache's answer holds nothing back
		if pw.dec != nil {
			return pw.dec.Flush(flush) // its goroutine writes to the response too
		}
		if err := pw.gate.Flush(); err != nil {
			return err
		}
	}
	return flush()
}

// heldFlush is an upstream's flush that came within the grace. Its timer
// does the flush when the grace is over, from its own goroutine, while the
// handler's goroutine is away waiting for the upstream: every way in from
// the handler (Header, Write, ReadFrom, FlushError, finish, abort, release)
// first cancels it, waiting on mu if it is running, so the two never touch
// the writer or its headers at the same time. This is the pattern of
// reverse_proxy's own flush timer (maxLatencyWriter), which Caddy stops
// before it touches the headers again for trailers.
type heldFlush struct {
	mu      sync.Mutex
	timer   *time.Timer
	pw      *pageWriter
	stopped bool
	err     error // what the timer's flush met, for the handler to return
}

func (pw *pageWriter) holdFlush(wait time.Duration) {
	// reverse_proxy flushes after every read of a page of unknown length:
	// one timer serves them all.
	if hf := pw.spare; hf != nil {
		pw.spare = nil
		hf.mu.Lock()
		hf.stopped = false
		hf.timer.Reset(wait)
		hf.mu.Unlock()
		pw.held = hf
		return
	}
	hf := &heldFlush{pw: pw}
	hf.timer = time.AfterFunc(wait, hf.fire) // (fire does not read the timer)
	pw.held = hf
}

func (hf *heldFlush) fire() {
	hf.mu.Lock()
	defer func() {
		// Nothing recovers a panic on this goroutine but this: it would
		// end the process. The handler gets it as an error instead.
		if p := recover(); p != nil {
			hf.err = fmt.Errorf("flushing a page held for the grace: panic: %v", p)
			hf.pw.h.logger.Error("flushing a page held for the grace", zap.Any("panic", p), zap.Stack("stack"))
		}
		hf.mu.Unlock()
	}()
	if hf.stopped {
		return
	}
	hf.stopped = true
	hf.err = hf.pw.flushNow()
}

// cancelHeld stops a held flush, or waits for its timer's flush to end, and
// returns the error a timer's flush met, then and from then on. The
// handler's goroutine calls it, or reverse_proxy's own flush timer
// (flush_interval above 0), whose lock keeps its flushes and writes apart.
func (pw *pageWriter) cancelHeld() error {
	if hf := pw.held; hf != nil {
		hf.mu.Lock()
		hf.stopped = true
		if hf.timer.Stop() { // its function will not run for this hold
			pw.spare = hf
		}
		pw.heldErr = hf.err
		hf.mu.Unlock()
		pw.held = nil
	}
	return pw.heldErr
}

// Header cancels a held flush first: the handler may change the headers
// (trailers) once the body is written.
func (pw *pageWriter) Header() http.Header {
	if pw.held != nil {
		pw.cancelHeld() // an error the flush met comes back from the next write
	}
	return pw.ResponseWriter.Header()
}

// header is the response's headers for the writer's own code, which a held
// flush's timer runs too (Header is the handler's way in).
func (pw *pageWriter) header() http.Header { return pw.ResponseWriter.Header() }

// options are the rewriter's options for this request.
func (pw *pageWriter) options() rewrite.Options {
	h, v := pw.h, pw.visit
	switch pw.kind {
	case bodySheet:
		return rewrite.Options{Judge: h.judge(v.decision), OnURL: pw.noteThirdParty, Sheet: true}
	case bodyRules:
		return rewrite.Options{Judge: h.judge(v.decision), OnURL: pw.noteThirdParty, Rules: true}
	case bodyXMLDoc:
		// No banner: the document is shown whole once a choice reloads it.
		return rewrite.Options{Judge: h.judge(v.decision), Placeholder: h.placeholder(v.lang), OnURL: pw.noteThirdParty, XML: true}
	}
	judge := markupJudge{h.judge(v.decision), h.policy, h.markup, pw.req.URL.Path}
	if pw.dest == destFragment || pw.bare {
		// HTML a script fetched goes into a page that has the banner (htmx,
		// jQuery's load()), or is data mislabelled as HTML (JSON from PHP):
		// its trackers wait, and nothing is added to it.
		return rewrite.Options{Judge: judge, Placeholder: h.placeholder(v.lang), OnURL: pw.noteThirdParty, XML: pw.kind == bodyXHTML}
	}
	state := h.state(v)
	// Early, hook and body markup share one pooled buffer.
	buf := hookPool.Get().(*[]byte)
	b := h.early.Append((*buf)[:0], state, pw.nonce)
	early := len(b)
	name, _ := h.consentCookieNames(pw.req)
	b = h.hooks[name][v.lang].Append(b, state, pw.nonce)
	hook := len(b)
	body := hook
	if form := h.noscriptFor(v.lang, state); form != nil && pw.kind != bodyXHTML { // XHTML has no noscript
		b = form.Append(b, pw.returnTo)
		body = len(b)
		b = form.AppendFrom(b, pw.origin, pw.returnTo)
	}
	*buf = b
	pw.hook = buf
	return rewrite.Options{
		Judge:         judge,
		Early:         b[:early:early],
		Hook:          b[early:hook:hook],
		Body:          b[hook:body:body],
		BodyAfterBase: b[body:],
		Placeholder:   h.placeholder(v.lang),
		OnURL:         pw.noteThirdParty,
		XML:           pw.kind == bodyXHTML,
	}
}

// noscriptForms are one language's forms for visitors without JavaScript:
// the choice, and the forms that change it once made (by what is allowed:
// nothing, some, everything).
type noscriptForms struct {
	choice, choiceUnderSignal *banner.Noscript
	refused, some, everything *banner.Noscript
}

// noscriptFor is the form for visitors without JavaScript: the choice
// until they decide (saying that GPC or DNT is honoured, when it is), then
// the one that changes or withdraws it; none on a site that asks about
// nothing.
func (h *Handler) noscriptFor(lang string, state banner.State) *banner.Noscript {
	forms := h.noscripts[lang]
	switch {
	case !h.policy.AsksAnything():
		return nil
	case !state.Decided && state.Signal:
		return forms.choiceUnderSignal
	case !state.Decided:
		return forms.choice
	case state.AllowsEverything():
		return forms.everything
	case state.AllowsAnything():
		return forms.some
	}
	return forms.refused
}

// judge is the rewriter's judge for a decision: in advanced Consent Mode,
// Google tags that honour it load before consent.
func (h *Handler) judge(d *policy.Decision) rewrite.Judge {
	if len(h.consentModeVendors) == 0 {
		return d
	}
	return consentModeJudge{d, h.consentModeVendors}
}

type consentModeJudge struct {
	*policy.Decision
	allow map[string]bool
}

func (j consentModeJudge) JudgeURL(kind catalog.Kind, url []byte) rewrite.Verdict {
	return j.release(j.Decision.JudgeURL(kind, url))
}

func (j consentModeJudge) JudgeInline(script []byte) rewrite.Verdict {
	return j.release(j.Decision.JudgeInline(script))
}

func (j consentModeJudge) release(v rewrite.Verdict) rewrite.Verdict {
	if v.Block && j.allow[v.Vendor] {
		v.Block = false
	}
	return v
}

// noteThirdParty records, for the third-party scan, URLs of other sites
// that no vendor the policy lists covers (an unlisted vendor's are blocked,
// and shown there so that the operator can list it).
func (pw *pageWriter) noteThirdParty(kind catalog.Kind, url []byte, v rewrite.Verdict) {
	if (v.Vendor != "" || v.Block) && v.Purpose != policy.Unlisted {
		return
	}
	host, ok := pw.h.policy.Matcher().Host(url)
	if !ok {
		return
	}
	if pw.site == "" {
		pw.site = siteOf(pw.req) // once per page, only when a URL needs it
	}
	if scan.IsThirdParty(host, pw.site) {
		thirdParties.Observe(pw.site, pw.req.URL.Path, kind, host)
		if pw.rec != nil {
			pw.rec.saw(kind, host)
		}
	}
}

// rewriteWhole rewrites a small page held in one buffer.
func (pw *pageWriter) rewriteWhole(dst, page []byte) []byte {
	rw := rewriterPool.Get().(*rewrite.Rewriter)
	defer rewriterPool.Put(rw)
	out := rw.RewriteAll(dst, page, pw.options())
	pw.h.metrics.pagesRewritten.Inc()
	pw.h.metrics.blocked.Add(float64(rw.Blocked()))
	return out
}

// toStream switches a buffered page to streaming: headers go out without a
// Content-Length and the buffer is replayed through the rewriter.
func (pw *pageWriter) toStream() error {
	buf := pw.buf
	pw.buf = nil
	pw.noteBare(buf, false)
	pw.startStream("")
	_, err := pw.feed(buf)
	pw.putBuf(buf)
	return err
}

// noteBare decides, for a fetch() that said nothing more, from the page's
// beginning (when there is one to look at) whether it is a whole page,
// which gets the banner as any page does (a service worker caching its app
// shell), or data or a fragment, which get nothing added.
func (pw *pageWriter) noteBare(head []byte, complete bool) {
	pw.bare = pw.dest == destFetch && !mayBeDocument(head, complete)
}

// startStream sends the headers of a page that streams, to be answered from
// the page cache or through the rewriter.
func (pw *pageWriter) startStream(encoding string) {
	pw.state = stateStream
	pw.opts = pw.options()
	if encoding == "" {
		pw.useCache()
	}
	pw.announceLength()
	pw.ResponseWriter.WriteHeader(pw.status)
	pw.streaming = true
	if pw.hit.e != nil {
		return
	}
	pw.startRewriter()
	if encoding != "" {
		pw.dec = newDecoder(encoding, &pw.gate)
	}
}

func (pw *pageWriter) startRewriter() {
	pw.rw = rewriterPool.Get().(*rewrite.Rewriter)
	pw.rw.Reset(&pw.sent, pw.opts)
	pw.gate = charsetGate{dst: pw.rw, label: pw.label}
}

// feed takes bytes of a streamed page that needs no decoding.
func (pw *pageWriter) feed(p []byte) (int, error) {
	if pw.hit.e != nil {
		return pw.serveCached(p)
	}
	if pw.rec != nil {
		pw.rec.read(p)
	}
	n, err := pw.gate.Write(p)
	if pw.rec != nil {
		pw.rec.step()
	}
	return n, err
}

// finish completes the response after next returned without error.
func (pw *pageWriter) finish() error {
	err := pw.cancelHeld()
	if err != nil {
		pw.abort()
		return err
	}
	if pw.state == stateSniff {
		if err := pw.settleType(true); err != nil {
			pw.state = stateDone
			return err
		}
	}
	switch pw.state {
	case stateBuffer:
		page := pw.buf
		if o := pageOrder(page, pw.label); o != notUTF16 {
			page = toUTF8(page, o)
		}
		pw.noteBare(page, true)
		out := outPool.Get().(*[]byte)
		*out = pw.rewriteWhole((*out)[:0], page)
		pw.header().Set("Content-Length", strconv.Itoa(len(*out)))
		pw.ResponseWriter.WriteHeader(pw.status)
		_, err = pw.ResponseWriter.Write(*out)
		if cap(*out) <= smallOut {
			*out = (*out)[:0]
			outPool.Put(out)
		}
		pw.putBuf(pw.buf)
		pw.buf = nil
	case stateStream:
		err = pw.finishStream()
	}
	pw.state = stateDone
	return err
}

// errUnreadableBody: the upstream's compressed body could not be decoded
// to its end.
type errUnreadableBody struct{ error }

func (e errUnreadableBody) Unwrap() error { return e.error }

// finishStream completes a streamed page.
func (pw *pageWriter) finishStream() error {
	var err error
	if pw.hit.e != nil {
		err = pw.finishCached() // which may leave the cache for the rewriter
	}
	blocked := 0
	if e := pw.hit.e; e != nil {
		blocked = e.blocked
	} else {
		if pw.dec != nil {
			if err = pw.dec.Close(); err != nil {
				err = errUnreadableBody{err}
			}
		}
		if cerr := pw.gate.Close(); err == nil {
			err = cerr
		}
		if cerr := pw.rw.Close(); err == nil {
			err = cerr
		}
		blocked = pw.rw.Blocked()
		if pw.kind == bodyRules && pw.rw.Oversized() > 0 {
			pw.h.logger.Warn("speculation rules file answered with an empty rule set: longer than the gateway reads",
				zap.Int("limit_bytes", rewrite.RulesLimit), zapString("path", pw.req.URL.Path))
		}
	}
	if err == nil {
		err = pw.settleLength()
	}
	if pw.rec != nil {
		pw.rec.finish(err == nil, pw.rw, pw.pieces(), blocked)
		pw.rec = nil
	}
	if err == nil {
		err = pw.sent.sendHeld() // now that the page is stored
	}
	pw.h.metrics.pagesRewritten.Inc()
	pw.h.metrics.blocked.Add(float64(blocked))
	return err
}

// abort drops anything held back when next failed, so Caddy's error
// handling can still write a response.
func (pw *pageWriter) abort() {
	pw.cancelHeld() // what it met is moot: the response failed
	if pw.dec != nil {
		pw.dec.Abort()
	}
	if pw.state == stateBuffer || pw.state == stateSniff {
		pw.putBuf(pw.buf)
	}
	pw.state = stateDone
}

func (pw *pageWriter) putBuf(b []byte) {
	if cap(b) == smallPage {
		b = b[:0]
		bufPool.Put(&b)
	}
}

// release returns pooled resources once the request is over.
func (pw *pageWriter) release() {
	pw.cancelHeld() // (after a panic in the handler)
	if pw.dec != nil && pw.state != stateDone {
		pw.dec.Abort() // (likewise): its goroutine would wait on the pipe for good
	}
	if pw.rec != nil { // the response failed: its recording is dropped
		pw.rec.finish(false, nil, pw.pieces(), 0)
	}
	if pw.rw != nil {
		pw.rw.Reset(io.Discard, rewrite.Options{})
		rewriterPool.Put(pw.rw)
	}
	if pw.hook != nil {
		hookPool.Put(pw.hook)
	}
	*pw = pageWriter{}
	pageWriterPool.Put(pw)
}

// Interface guards.
var (
	_ http.ResponseWriter = (*pageWriter)(nil)
	_ io.ReaderFrom       = (*pageWriter)(nil)
)

// mayBeDocument reports whether a page begins as a whole document does
// (after a byte order mark, white space and comments, a doctype or an
// html, head or body tag), or, unless the page is complete, may still turn
// out to.
func mayBeDocument(b []byte, complete bool) bool {
	b = bytes.TrimPrefix(b, utf8BOM)
	for {
		b = bytes.TrimLeft(b, " \t\r\n\f")
		rest, ok := bytes.CutPrefix(b, []byte("<!--"))
		if !ok {
			break
		}
		_, after, closed := bytes.Cut(rest, []byte("-->"))
		if !closed {
			return !complete
		}
		b = after
	}
	for _, start := range []string{"<!doctype", "<html", "<head", "<body", "<!--"} { // ("<!-" may be a comment yet)
		n := min(len(b), len(start))
		if strings.EqualFold(string(b[:n]), start[:n]) && (n == len(start) || !complete) {
			return true // (an empty beginning, too, until the page is complete)
		}
	}
	return false
}

// downloaded reports whether browsers save the answer as a file rather
// than show it (Content-Disposition: attachment): a report saved as HTML
// stays as the site made it.
// (Browsers download other types too; only this one is sure not to be
// shown.)
func downloaded(hdr http.Header) bool {
	typ, _, _ := strings.Cut(hdr.Get("Content-Disposition"), ";")
	return strings.EqualFold(strings.TrimSpace(typ), "attachment")
}

// xmlDocument reports whether a MIME essence is SVG's or one of XML's,
// which browsers render as a document (and then fetch what it names), but
// not XHTML's, which gets the banner.
func xmlDocument(essence string) bool {
	switch essence {
	case "image/svg+xml", "text/xml", "application/xml", "text/xsl", "application/xslt+xml":
		return true
	}
	return false
}

// shownStatus reports whether a browser shows an answer's body with this
// status: a success with content, or an error page (a 404 or 500 page
// usually carries the site's template, its analytics included). A redirect
// is followed, and 204, 205, 206 and 304 have no page of their own.
func shownStatus(status int) bool {
	switch {
	case status == http.StatusNoContent, status == http.StatusResetContent, status == http.StatusPartialContent:
		return false
	case status >= 200 && status <= 299, status >= 400 && status <= 599:
		return true
	}
	return false
}
