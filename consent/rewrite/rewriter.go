package rewrite

import (
	"errors"
	"io"

	"github.com/consentgate/consentgate/consent/catalog"
)

// Limits on what one Rewriter holds back. Together with the output buffer
// they bound its memory to under 64 KiB whatever the page (and to under
// 160 KiB while an over-long srcdoc is rewritten in place, by a nested
// Rewriter).
const (
	// TagLimit is the longest judged start tag that is held and parsed
	// whole; a longer one is judged attribute by attribute as it streams,
	// failing closed (see oversized.go), and counted by Oversized.
	TagLimit = 16 << 10
	// HoldLimit is how much of an inline script's or style's text is held
	// for judging; only that prefix is judged.
	HoldLimit = 16 << 10

	// memSize is the buffer that holds a token spanning writes and, while
	// none does, gathers the output of a write.
	memSize = TagLimit + HoldLimit + 64
	maxTmp  = 4 << 10 // scratch for inserted attributes, kept across tags up to this size
)

// Options configures one Rewriter.
type Options struct {
	// Judge decides which elements are blocked; nil blocks nothing.
	Judge Judge
	// Early is injected once: right after the <head> start tag, or just
	// before the first <script>, <link>, <style> or <body> start tag if one
	// comes first, or else just before Hook.
	Early []byte
	// Hook is injected once: just before </head>, or else right after the
	// <body> start tag, or else at Close.
	Hook []byte
	// Body is injected once: right after the <body> start tag (after Hook
	// if that goes there too), or else at Close after Hook. It is for
	// content, such as the banner's <noscript> form, that belongs in the
	// body. After a <base href> that names another host, against which its
	// relative URLs (the form's action) would resolve, BodyAfterBase goes
	// in its place: the same markup with those URLs absolute (nil: none).
	Body, BodyAfterBase []byte
	// Placeholder appends the attribute-escaped srcdoc value shown in place
	// of a blocked iframe. Nil means DefaultPlaceholder.
	Placeholder func(dst []byte, v Verdict) []byte
	// OnURL, if set, observes every URL judged. It must not retain url.
	OnURL func(kind catalog.Kind, url []byte, v Verdict)
	// XML says the page is an XML document (XHTML or SVG): markup is read
	// inside every element but a script and a style, a start tag that
	// closes itself has no content, and Early, Hook and Body that find no
	// place in the page are left out rather than put after its root
	// element, where they would break it. What the Rewriter inserts is XML
	// either way; so must Early, Hook and Body be.
	XML bool
	// Sheet says the input is a style sheet (text/css), not a page: it is
	// read as the text of a <style> element that never ends (its @imports,
	// url()s and image-set() strings judged), and nothing is injected.
	Sheet bool
	// Rules says the input is a speculation rules file (the type
	// application/speculationrules+json, named by a page's
	// Speculation-Rules header), not a page: it is held whole, up to
	// RulesLimit, and written at Close without the URLs the judge blocks
	// (rulesfile.go). Nothing is injected.
	Rules bool
}

// ErrClosed is returned by Write after Close.
var ErrClosed = errors.New("rewrite: write after close")

// Rewriter is a streaming HTML rewriter; see the package documentation.
// It is not safe for concurrent use.
type Rewriter struct {
	w      io.Writer
	opt    Options
	judge  Judge
	err    error
	closed bool
	direct bool // w appends to memory: coalescing output would only copy twice

	earlyDone, hookDone, bodyDone bool
	blocked, oversized            int
	emitted                       int64                // bytes of output so far
	injected                      [numInjections]int64 // 1 + where each injected piece began in the output; 0 if not (yet) injected

	// Scanner state, resumable between writes.
	st      state
	name    [maxForeignName + 1]byte // the start of the tag name read so far ...
	nameLen int                      // ... and its length; maxForeignName+1 means longer
	isEnd   bool                     // the current tag is an end tag
	pi      bool                     // the current tag is a processing instruction (XML only)
	el      elem                     // the current start tag's element
	tl      tagLexer
	raw     rawScanner
	ctail   [3]byte // last bytes of the current comment's text ...
	clen    int     // ... and its length, up to 3
	tagLen  int     // length of the held start tag whose text is being held
	tail    tailScan
	ov      oversized     // the oversized start tag being streamed, if on
	baseSet bool          // the page's <base href> has been met ...
	base    *catalog.Base // ... and names a host (nil: relative URLs stay the page's)

	// Output and held bytes. Within a Write, p[from:] has not been written
	// yet. While holding, the token that starts at p[ts] (or in buf, when
	// inBuf) is held back until it is decided; before it, p[from:ts] is
	// unchanged and only waits. Between writes only buf is kept.
	from, ts int
	holding  bool
	inBuf    bool
	mem      []byte // backs buf and out, which are never both in use
	buf      []byte // the held token, while inBuf
	out      []byte // output gathered in this Write, while !inBuf
	pend     []byte // output still in cur, not yet copied or written
	cur      []byte // the caller's slice, during a Write
	tmp      []byte

	// Stream offsets, for tests comparing tag boundaries with x/net/html.
	pos      int64 // offset of the current p
	tagStart int64 // offset of the current tag's '<'
	trace    func(end bool, start, stop int64)

	css cssTail // (last: its window is cold, and would push the hot fields apart)

	sd      *srcdocStream // the oversized tag's over-long srcdoc being rewritten in place, if any
	inFrame bool          // the document of a frame (see frameRewriter)

	imap *importMap // the page's import maps so far (nil: none)
	json jsonText   // the held text is JSON of this kind, not script

	rules     []byte // a speculation rules file so far (Options.Rules)
	rulesOver bool   // ... which is longer than RulesLimit

	fs foreignStack // SVG and MathML content the scanner is in (last: large, and cold on most pages)
}

// New returns a Rewriter writing the rewritten page to w.
func New(w io.Writer, opt Options) *Rewriter {
	r := new(Rewriter)
	r.Reset(w, opt)
	return r
}

// Reset makes r rewrite a new page to w, keeping its buffers, so Rewriters
// can be pooled.
func (r *Rewriter) Reset(w io.Writer, opt Options) {
	*r = Rewriter{w: w, opt: opt, judge: opt.Judge, mem: r.mem, tmp: r.tmp[:0]}
	if r.judge == nil {
		r.judge = nopJudge{}
	}
	r.earlyDone = len(opt.Early) == 0
	r.hookDone = len(opt.Hook) == 0
	r.bodyDone = len(opt.Body) == 0 && len(opt.BodyAfterBase) == 0
	if opt.Sheet || opt.Rules { // not a page: nothing is injected
		r.earlyDone, r.hookDone, r.bodyDone = true, true, true
	}
	if opt.Sheet {
		r.st, r.el = stRaw, elStyle
		r.raw.reset("", false)
		r.startHold(0) // the text from the first byte, as after <style>
	}
}

// Write rewrites p. It returns len(p) unless writing to the underlying
// writer failed; the first such error is returned by every later call.
func (r *Rewriter) Write(p []byte) (int, error) {
	if r.closed {
		return 0, ErrClosed
	}
	if r.err != nil {
		return 0, r.err
	}
	r.from, r.ts = 0, 0
	if r.opt.Rules {
		r.holdRules(p)
		r.pos += int64(len(p))
		return len(p), nil
	}
	r.cur = p
	r.scan(p)
	r.endWrite(p)
	r.cur = nil
	r.pos += int64(len(p))
	if r.err != nil {
		return 0, r.err
	}
	return len(p), nil
}

// Flush writes out everything already decided. An unfinished tag and a held
// inline script or style stay held.
func (r *Rewriter) Flush() error {
	r.flushOut()
	return r.err
}

// Close writes out everything held (an unfinished tag verbatim, a held
// script or style judged on what arrived), then Early, Hook and Body if they have
// not found their places. It does not close the underlying writer.
func (r *Rewriter) Close() error {
	if r.closed {
		return r.err
	}
	r.closed = true
	if r.opt.Rules {
		r.closeRules()
		r.flushOut()
		return r.err
	}
	r.from, r.ts = 0, 0
	if r.css.on {
		r.endCSSTail(nil, 0, 0) // the page ends inside a long style
	}
	if r.sd != nil {
		r.endSrcdoc() // the page ends inside an over-long srcdoc
	}
	if r.tail.on {
		r.closeTail()
	} else if r.holding {
		if r.st == stRaw && r.el == elScript && r.json == notJSON && r.heldLen(0)-r.tagLen > HoldLimit {
			r.closeLongScript()
		} else if r.st == stRaw {
			r.decideBody(nil, 0, r.heldLen(0))
		} else {
			r.unhold()
		}
	}
	if !r.opt.XML {
		r.injectBody(nil, 0)
	}
	r.flushOut()
	return r.err
}

// Blocked is the number of elements (and @import rules) neutralised so far.
func (r *Rewriter) Blocked() int { return r.blocked }

// Injection names one of the pieces of markup a Rewriter injects.
type Injection uint8

const (
	InjectedEarly         Injection = iota // Options.Early
	InjectedHook                           // Options.Hook
	InjectedBody                           // Options.Body
	InjectedBodyAfterBase                  // Options.BodyAfterBase
	numInjections
)

// InjectedAt is where the piece of markup went in the output: the number of
// bytes written before it, or -1 if it has not been injected (it has none,
// or found no place yet, or the other of Body and BodyAfterBase went in).
// Since the rest of the output depends only on the page and the judge, this
// lets a caller keep a page's rewritten form and put other markup in its
// place.
func (r *Rewriter) InjectedAt(which Injection) int64 { return r.injected[which] - 1 }

// Oversized is the number of judged start tags longer than TagLimit, which
// were judged attribute by attribute as they streamed; for a rules file
// (Options.Rules), 1 if it was longer than RulesLimit.
func (r *Rewriter) Oversized() int { return r.oversized }

// heldCap is the memory the Rewriter keeps between writes.
func (r *Rewriter) heldCap() int {
	n := cap(r.mem) + cap(r.tmp)
	if len(r.buf) > 0 && cap(r.buf) != cap(r.mem) { // buf outgrew mem
		n += cap(r.buf)
	}
	if r.sd != nil {
		n += r.sd.size()
	}
	if r.imap != nil {
		n += r.imap.held()
	}
	return n + cap(r.rules)
}

// Rewrite appends the rewritten src to dst, which must not overlap src. The
// output is the same as streaming src through a Rewriter.
func Rewrite(dst, src []byte, opt Options) []byte {
	var r Rewriter
	return r.RewriteAll(dst, src, opt)
}

// RewriteAll is Rewrite on a (pooled) Rewriter, whose Blocked and Oversized
// then describe the page. r is left Reset to write nowhere.
func (r *Rewriter) RewriteAll(dst, src []byte, opt Options) []byte {
	aw := appendWriter{b: dst}
	r.Reset(&aw, opt)
	r.direct = true
	r.Write(src)
	r.Close()
	r.w = io.Discard // do not keep the caller's buffer reachable
	return aw.b
}

type appendWriter struct{ b []byte }

func (a *appendWriter) Write(p []byte) (int, error) {
	a.b = append(a.b, p...)
	return len(p), nil
}

type nopJudge struct{}

func (nopJudge) JudgeURL(catalog.Kind, []byte) Verdict { return Verdict{} }
func (nopJudge) JudgeInline([]byte) Verdict            { return Verdict{} }
func (nopJudge) JudgePurpose([]byte) Verdict           { return Verdict{} }
