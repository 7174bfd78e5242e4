package rewrite

import (
	"bytes"
	"unicode/utf8"

	"golang.org/x/net/html"
)

// In-place rewriting of an over-long srcdoc. An iframe's srcdoc too long
// to hold (past TagLimit) cannot be judged before its tag goes out, but
// neither can it go out unjudged. So its document is rewritten as it
// streams: the value's character references are decoded as the HTML
// tokenizer decodes them, the document goes through a nested Rewriter with
// the page's judge (nothing injected), and what comes out goes back into
// the value. The frame keeps its content; what in it would load a blocked
// vendor is neutralised there (and loads from the next page view after
// consent: the shim does not reach into the frame).
//
// The nested Rewriter changes its input only by inserting bytes, so its
// output is matched against what it was given, greedily, byte by byte:
// what matches goes out as it was written in the value (a reference as
// the reference), and the rest (the insertions) escaped for the value's
// quote, or lack of one. Nothing blocked, the value goes out unchanged.
// Greedy matching may take an inserted byte for an equal one given later;
// either way what goes out decodes to the nested output.
//
// Memory stays bounded: the nested Rewriter's own, plus the units given
// to it that it has not yet put out (at most what it holds). Those are
// kept as written up to queueSoft bytes; past that, references waiting are
// kept decoded, in runs, and go out re-encoded.

const (
	maxRef    = 40       // longest reference held as written (a name is at most 32 bytes)
	feedSize  = 4 << 10  // decoded bytes gathered before they are given to the nested Rewriter
	queueSoft = 48 << 10 // units waiting to be matched, kept as written up to this size
)

// srcdocStream is the state of an over-long srcdoc rewritten in place.
type srcdocStream struct {
	r        *Rewriter // the page's, which emits the value
	nested   *Rewriter // the frame's document
	unquoted bool      // the value has no quotes: white space and '>' in what is inserted are escaped too

	ref  [maxRef]byte // a reference begun: '&' and what may go on with it ...
	nref int          // ... and its length

	feed []byte // decoded, not yet given to nested

	// q holds the units given to nested and not yet matched, from q[qh],
	// each behind a header byte: recPlain, recDecoded or recUnit (see
	// there). k bytes of the head's decoded bytes are matched, those
	// before from gone out.
	q           []byte
	qh, k, from int
	split       bool // the head unit was cut by an insertion: it goes out re-encoded

	// A unit gone out as written whose meaning depends on what follows
	// (a '&' that is no reference, a reference without ';'): held until
	// the next byte out says whether it follows as in the value.
	openEnc, openDec []byte

	out []byte // output gathered for r
}

// Kinds of record in srcdocStream.q, by the top bits of their header
// byte; the low bits are a length.
const (
	recPlain   = 0x00 // a run without references (length 1-0x7F), as written
	recDecoded = 0x80 // a run kept decoded (length 1-0x3F), to go out re-encoded
	recUnit    = 0xC0 // one reference, NUL or '&' that is none: len(enc), then len(dec), enc and dec
)

// startSrcdoc begins rewriting in place an iframe's srcdoc too long to
// hold, whose value has begun: the held attribute ends with val, before
// p[j]. It reports false when this is not done: no judge, a frame's
// document (nesting stays bounded), or the value has not begun.
func (r *Rewriter) startSrcdoc(p []byte, j int, val []byte) bool {
	if _, none := r.judge.(nopJudge); none || r.inFrame || r.tl.st != tsQuoted && r.tl.st != tsUnquoted {
		return false
	}
	held := r.heldPrefix(p, r.heldLen(j))
	r.flushBefore(p)
	r.emit(held[:len(held)-len(val)])
	s := &srcdocStream{r: r, unquoted: r.tl.st == tsUnquoted, q: make([]byte, 0, feedSize)}
	s.nested = r.frameRewriter(s, Options{Judge: r.judge, Placeholder: r.opt.Placeholder})
	r.sd = s
	s.write(val)
	r.drop(j)
	return true
}

// srcdocText goes on with the srcdoc from p[i] to p[j], where it ends if
// ended (its closing quote, if any, then goes out as it is).
func (r *Rewriter) srcdocText(p []byte, i, j int, ended bool) {
	end := j
	if ended {
		end = r.tl.a.valEnd
	}
	r.insertAt(p, i, nil)
	r.sd.write(p[i:end])
	r.from = end
	if ended {
		r.endSrcdoc()
	}
}

// endSrcdoc finishes the srcdoc at its end (or the page's).
func (r *Rewriter) endSrcdoc() {
	s := r.sd
	if s.nref > 0 {
		s.endRef(false)
	}
	s.give(nil)
	s.nested.Close()
	s.settle(true) // the value's end follows, as it did
	s.flush()
	r.blocked += s.nested.Blocked()
	r.oversized += s.nested.Oversized()
	r.sd = nil
}

// size is the memory the srcdoc's rewriting keeps.
func (s *srcdocStream) size() int {
	return s.nested.heldCap() + cap(s.q) + cap(s.feed) + cap(s.out) + cap(s.openEnc) + cap(s.openDec)
}

// write decodes more of the value and gives it to nested.
func (s *srcdocStream) write(b []byte) {
	for len(b) > 0 {
		if s.nref > 0 {
			take, end := s.refGoesOn(b[0])
			switch {
			case !take:
				s.endRef(b[0] == '=') // b[0] is read again
				continue
			case s.nref == maxRef && s.ref[1] != '#':
				s.unit(s.ref[:s.nref], s.ref[:s.nref]) // too long for a name: as written
				s.nref = 0
				continue
			case s.nref == maxRef:
				s.squeeze()
			}
			s.ref[s.nref] = b[0]
			s.nref++
			b = b[1:]
			if end {
				s.endRef(false)
			}
			continue
		}
		k := bytes.IndexByte(b, '&')
		if k < 0 {
			k = len(b)
		}
		if z := bytes.IndexByte(b[:k], 0); z >= 0 {
			k = z
		}
		s.plain(b[:k])
		switch b = b[k:]; {
		case len(b) == 0:
		case b[0] == 0:
			s.unit(b[:1], []byte("\uFFFD")) // as the tokenizer reads a NUL
			b = b[1:]
		default:
			s.ref[0], s.nref = '&', 1
			b = b[1:]
		}
	}
	s.give(nil)
}

// refGoesOn reports whether c goes on with the reference begun, by the
// tokenizer's rules (x/net/html's unescapeEntity), and whether it ends it.
func (s *srcdocStream) refGoesOn(c byte) (take, end bool) {
	ref := s.ref[:s.nref]
	alnum := isAlpha(c) || isDigit(c)
	switch {
	case len(ref) == 1:
		return alnum || c == '#', false
	case ref[1] != '#': // a name
		return alnum || c == ';', c == ';'
	case len(ref) == 2:
		return lower(c) == 'x' || isDigit(c), false
	}
	hex := lower(ref[2]) == 'x'
	if hex && isHex(c) || !hex && isDigit(c) {
		return true, false
	}
	digits := len(ref) > 3 || !hex
	return c == ';' && digits, c == ';' && digits
}

// squeeze shortens a numeric reference that has reached maxRef to one
// that decodes the same: leading zeros go, and a number past U+10FFFF
// (which the tokenizer stops adding to) becomes a shorter such number. It
// then goes out as squeezed.
func (s *srcdocStream) squeeze() {
	start := 2
	if lower(s.ref[2]) == 'x' {
		start = 3
	}
	d := s.ref[start:s.nref]
	for len(d) > 1 && d[0] == '0' {
		d = d[1:]
	}
	if len(d) > 7 {
		d = []byte("99999999")
	}
	s.nref = start + copy(s.ref[start:], d)
}

// endRef decodes the reference begun, which ends here (eq: before '=').
func (s *srcdocStream) endRef(eq bool) {
	enc := s.ref[:s.nref]
	s.nref = 0
	s.unit(enc, decodeRef(enc, eq))
}

// decodeRef decodes one reference as the tokenizer decodes it in an
// attribute value (eq: an '=' follows it, which keeps a legacy one
// without ';' as written).
func decodeRef(enc []byte, eq bool) []byte {
	switch string(enc) { // the commonest, without a tokenizer
	case "&lt;":
		return []byte("<")
	case "&gt;":
		return []byte(">")
	case "&amp;":
		return []byte("&")
	case "&quot;":
		return []byte(`"`)
	case "&#39;":
		return []byte("'")
	}
	if len(enc) > 1 && enc[1] == '#' { // numbers decode as in text
		return []byte(html.UnescapeString(string(enc)))
	}
	tag := append(append([]byte(`<a v="`), enc...), `=">`...)
	if !eq {
		tag = append(tag[:len(tag)-3], `">`...)
	}
	z := html.NewTokenizer(bytes.NewReader(tag))
	z.Next()
	_, v, _ := z.TagAttr()
	if eq {
		v = v[:len(v)-1]
	}
	return v
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// plain queues a run without references and gives it to nested.
func (s *srcdocStream) plain(b []byte) {
	for len(b) > 0 {
		n := min(len(b), 0x7F)
		s.room(1 + n)
		s.q = append(append(s.q, recPlain|byte(n)), b[:n]...)
		s.give(b[:n])
		b = b[n:]
	}
}

// unit queues one unit written enc and read dec, and gives it to nested.
func (s *srcdocStream) unit(enc, dec []byte) {
	s.room(2 + len(enc) + len(dec))
	s.q = append(append(s.q, recUnit|byte(len(enc)), byte(len(dec))), enc...)
	s.q = append(s.q, dec...)
	s.give(dec)
}

// give gives decoded bytes to nested, in writes of up to feedSize bytes;
// with none, what is gathered.
func (s *srcdocStream) give(dec []byte) {
	if len(s.feed)+len(dec) > feedSize || len(dec) == 0 && len(s.feed) > 0 {
		feed := s.feed
		s.feed = s.feed[:0]
		s.nested.Write(feed) // its output comes back to Write
	}
	s.feed = append(s.feed, dec...)
}

// room makes room in q for n more bytes: matched units are dropped, and
// past queueSoft the units waiting are kept decoded.
func (s *srcdocStream) room(n int) {
	if len(s.q)+n <= cap(s.q) {
		return
	}
	s.q = s.q[:copy(s.q, s.q[s.qh:])]
	s.qh = 0
	if len(s.q)+n > queueSoft {
		s.keepDecoded()
	}
	if len(s.q)+n > cap(s.q) { // (kept decoded, what waits is less than queueSoft: what nested holds)
		size := min(2*cap(s.q), queueSoft)
		if size < len(s.q)+n {
			size = 2 * (len(s.q) + n)
		}
		s.q = append(make([]byte, 0, size), s.q...)
	}
}

// keepDecoded keeps every unit waiting after the head (which may be
// partly matched) decoded, in runs: they will go out re-encoded.
func (s *srcdocStream) keepDecoded() {
	if s.qh == len(s.q) {
		return
	}
	w := s.qh + s.recordLen(s.qh)
	run := -1 // the header of the run being filled
	for i := w; i < len(s.q); {
		n := s.recordLen(i)
		_, dec, kind := s.record(i)
		i += n
		if kind == recPlain {
			w += copy(s.q[w:], s.q[i-n:i])
			run = -1
			continue
		}
		// A unit's characters stay whole in one run. (The run is written
		// no further than the record is read: it takes fewer bytes.)
		if run < 0 || int(s.q[run]&0x3F)+len(dec) > 0x3F {
			run, s.q[w] = w, recDecoded
			w++
		}
		w += copy(s.q[w:], dec)
		s.q[run] += byte(len(dec))
	}
	s.q = s.q[:w]
}

// recordLen is the length of the record at q[i].
func (s *srcdocStream) recordLen(i int) int {
	switch h := s.q[i]; h &^ 0x3F {
	case recUnit:
		return 2 + int(h&0x3F) + int(s.q[i+1])
	case recDecoded:
		return 1 + int(h&0x3F)
	}
	return 1 + int(s.q[i])
}

// record reads the record at q[i]: as written (for a unit) and decoded.
func (s *srcdocStream) record(i int) (enc, dec []byte, kind byte) {
	h := s.q[i]
	switch kind = h &^ 0x3F; kind {
	case recUnit:
		e := i + 2 + int(h&0x3F)
		return s.q[i+2 : e], s.q[e : e+int(s.q[i+1])], kind
	case recDecoded:
		return nil, s.q[i+1 : i+1+int(h&0x3F)], kind
	}
	return nil, s.q[i+1 : i+1+int(h)], recPlain
}

func (s *srcdocStream) pop() {
	s.qh += s.recordLen(s.qh)
	s.k, s.from, s.split = 0, 0, false
}

// Write takes nested's output, matches it against the units given, and
// emits it into the value.
func (s *srcdocStream) Write(b []byte) (int, error) {
	n := len(b)
	for len(b) > 0 {
		if s.qh == len(s.q) { // all inserted
			s.escaped(b)
			break
		}
		enc, dec, kind := s.record(s.qh)
		m := 0
		for m < len(b) && s.k+m < len(dec) && b[m] == dec[s.k+m] {
			m++
		}
		if m == 0 { // an insertion, before the head or cutting it
			if s.k > s.from {
				s.escaped(dec[s.from:s.k])
				s.from, s.split = s.k, true
			}
			s.escaped(b[:1])
			b = b[1:]
			continue
		}
		s.k += m
		b = b[m:]
		done := s.k == len(dec)
		switch {
		case kind == recPlain:
			s.asWritten(dec[s.from:s.k])
			s.from = s.k
		case kind == recDecoded: // (a character cut between writes waits for its end)
			cut := s.k
			if !done {
				cut = runeCut(dec[:s.k], s.from)
			}
			s.escaped(dec[s.from:cut])
			s.from = cut
		case done:
			s.unitOut(enc, dec)
		}
		if done {
			s.pop()
		}
	}
	s.flush()
	return n, nil
}

// runeCut is where b[from:] ends, but for a last UTF-8 character it lacks
// the end of.
func runeCut(b []byte, from int) int {
	for i := len(b) - 1; i >= max(from, len(b)-utf8.UTFMax+1); i-- {
		if utf8.RuneStart(b[i]) {
			if utf8.FullRune(b[i:]) {
				break
			}
			return i
		}
	}
	return len(b)
}

// unitOut emits a unit matched whole.
func (s *srcdocStream) unitOut(enc, dec []byte) {
	switch {
	case s.split:
		s.escaped(dec[s.from:])
	case enc[len(enc)-1] == ';':
		s.asWritten(enc)
	default:
		s.asWritten(nil)
		s.openEnc = append(s.openEnc[:0], enc...)
		s.openDec = append(s.openDec[:0], dec...)
	}
}

// asWritten emits bytes as the value has them, after the open unit, which
// they follow as in the value.
func (s *srcdocStream) asWritten(b []byte) {
	s.settle(true)
	s.out = append(s.out, b...)
	s.flushBig()
}

// escaped emits bytes nested inserted, or decoded bytes of the value that
// cannot go out as written, escaped; they do not follow the open unit as
// in the value.
func (s *srcdocStream) escaped(b []byte) {
	s.settle(false)
	s.out = appendValueEscaped(s.out, b, s.unquoted)
	s.flushBig()
}

// settle emits the open unit as written, when what follows it is as in
// the value, or else re-encoded.
func (s *srcdocStream) settle(asWritten bool) {
	switch {
	case len(s.openEnc) == 0:
		return
	case asWritten:
		s.out = append(s.out, s.openEnc...)
	default:
		s.out = appendValueEscaped(s.out, s.openDec, s.unquoted)
	}
	s.openEnc = s.openEnc[:0]
}

func (s *srcdocStream) flushBig() {
	if len(s.out) >= feedSize {
		s.flush()
	}
}

func (s *srcdocStream) flush() {
	s.r.emit(s.out)
	s.out = s.out[:0]
}
