package rewrite

// Output and holding. Unchanged bytes are written straight from the
// caller's slice when nothing changes around them, else gathered with the
// changes into as few writes as possible; a held token is copied only when
// it spans writes.

// emit writes b after everything emitted before. The output of one Write
// goes out in as few pieces as the memory bound allows, because each piece
// costs the writer (an HTTP/1.1 chunk, a system call): a run of the
// caller's slice is remembered rather than copied (pend) and grows while
// the next piece follows it in memory; once anything else comes, pieces are
// copied into out, which shares mem with the held token. Everything goes
// out by the end of the Write.
func (r *Rewriter) emit(b []byte) {
	if len(b) == 0 || r.err != nil {
		return
	}
	r.emitted += int64(len(b))
	if r.direct || r.inBuf { // mem holds the held token: out cannot use it
		r.flushOut()
		r.write(b)
		return
	}
	if len(r.pend) > 0 {
		if follows(r.pend, b) {
			r.pend = r.pend[:len(r.pend)+len(b)]
			return
		}
		r.spill()
	}
	if len(r.out) == 0 && within(r.cur, b) {
		r.pend = b
		return
	}
	r.appendOut(b)
}

// spill moves pend into out, or writes it if out could not hold it.
func (r *Rewriter) spill() {
	b := r.pend
	r.pend = nil
	if len(b) >= memSize {
		r.write(b)
		return
	}
	r.appendOut(b)
}

// appendOut copies b into out, writing out each time it is full.
func (r *Rewriter) appendOut(b []byte) {
	if r.mem == nil {
		r.mem = make([]byte, 0, memSize)
	}
	if r.out == nil {
		r.out = r.mem[:0]
	}
	for {
		n := copy(r.out[len(r.out):cap(r.out)], b)
		r.out = r.out[:len(r.out)+n]
		if b = b[n:]; len(b) == 0 {
			return
		}
		r.write(r.out)
		r.out = r.out[:0]
	}
}

// flushOut writes what emit has gathered.
func (r *Rewriter) flushOut() {
	if len(r.pend) > 0 {
		r.write(r.pend)
		r.pend = nil
	}
	if len(r.out) > 0 {
		r.write(r.out)
		r.out = r.out[:0]
	}
}

func (r *Rewriter) write(b []byte) {
	if r.err != nil {
		return
	}
	if _, err := r.w.Write(b); err != nil {
		r.err = err
	}
}

// follows reports whether b begins where a ends, in the same array.
func follows(a, b []byte) bool {
	rest := a[len(a):cap(a)]
	return len(b) > 0 && len(rest) >= len(b) && &rest[0] == &b[0]
}

// endIn is the index in s just past sub, which is a slice of s.
func endIn(s, sub []byte) int { return cap(s) - cap(sub) + len(sub) }

// within reports whether b is a part of p.
func within(p, b []byte) bool {
	x := cap(p) - cap(b)
	return len(b) > 0 && x >= 0 && x+len(b) <= len(p) && &p[x] == &b[0]
}

// startHold starts holding the token that begins at p[i].
func (r *Rewriter) startHold(i int) {
	r.holding, r.ts = true, i
}

// heldLen is the length of the held token up to p[i].
func (r *Rewriter) heldLen(i int) int {
	n := i - r.ts
	if r.inBuf {
		n += len(r.buf)
	}
	return n
}

// heldPrefix returns the first n bytes of the held token as one slice
// (copying into buf only what it lacks of them).
func (r *Rewriter) heldPrefix(p []byte, n int) []byte {
	if !r.inBuf {
		return p[r.ts : r.ts+n]
	}
	if k := n - len(r.buf); k > 0 {
		r.buf = append(r.buf, p[r.ts:r.ts+k]...)
		r.ts += k
		r.from = r.ts
	}
	return r.buf[:n]
}

// emitHeldFrom emits the held token, which ends before p[i], from its byte k.
func (r *Rewriter) emitHeldFrom(p []byte, i, k int) {
	if r.inBuf {
		if k < len(r.buf) {
			r.emit(r.buf[k:])
			k = len(r.buf)
		}
		k -= len(r.buf)
	}
	r.emit(p[r.ts+k : i])
}

// unhold decides that the held token passes unchanged.
func (r *Rewriter) unhold() {
	if r.inBuf {
		if r.direct || len(r.buf) == 0 || &r.buf[0] != &r.mem[:1][0] {
			r.emit(r.buf)
		} else {
			// The token is already where out begins (out and pend are
			// empty while inBuf): what follows is gathered after it.
			r.out = r.mem[:len(r.buf)]
			r.emitted += int64(len(r.buf))
		}
		r.buf = r.buf[:0]
		r.inBuf = false
	}
	r.holding = false
}

// forgetHeld drops the first k bytes of the held token, which the caller
// has emitted; the rest stays held.
func (r *Rewriter) forgetHeld(k int) {
	if r.inBuf {
		if k < len(r.buf) {
			r.buf = r.buf[:copy(r.buf, r.buf[k:])]
			return
		}
		k -= len(r.buf)
		r.buf = r.buf[:0]
		r.inBuf = false
	}
	r.ts += k
	r.from = r.ts
}

// flushBefore writes what waits before the held token, so that something
// can be emitted in front of it.
func (r *Rewriter) flushBefore(p []byte) { r.insertAt(p, r.ts, nil) }

// drop forgets the held token up to p[i], which the caller has emitted in a
// changed form.
func (r *Rewriter) drop(i int) {
	r.buf = r.buf[:0]
	r.inBuf, r.holding = false, false
	r.from = i
}

// insertAt emits b at p[i]: either outside any held token, or at r.ts, in
// front of it (when the token began in buf, nothing waits before it: from
// is ts).
func (r *Rewriter) insertAt(p []byte, i int, b []byte) {
	r.emit(p[r.from:i])
	r.from = i
	r.emit(b)
}

// endWrite writes out what p leaves decided and keeps the held token.
func (r *Rewriter) endWrite(p []byte) {
	if !r.holding {
		r.emit(p[r.from:])
		r.flushOut()
		return
	}
	if !r.inBuf {
		r.emit(p[r.from:r.ts])
		r.flushOut() // the held token takes mem
		if r.mem == nil {
			r.mem = make([]byte, 0, memSize)
		}
		r.buf = r.mem[:0]
		r.inBuf = true
	}
	r.buf = append(r.buf, p[r.ts:]...)
}

// injectEarly emits Early at p[i], if still due. i is r.ts to put it in
// front of the held token.
func (r *Rewriter) injectEarly(p []byte, i int) {
	if !r.earlyDone {
		r.injectAt(p, i, InjectedEarly, r.opt.Early)
		r.earlyDone = true
	}
}

// injectAt inserts one of the injected pieces at p[i] and notes where it
// went in the output.
func (r *Rewriter) injectAt(p []byte, i int, which Injection, b []byte) {
	r.insertAt(p, i, nil)
	r.injected[which] = r.emitted + 1
	r.emit(b)
}

// injectHook emits Hook at p[i], preceded by Early if that is still due.
func (r *Rewriter) injectHook(p []byte, i int) {
	r.injectEarly(p, i)
	if !r.hookDone {
		r.injectAt(p, i, InjectedHook, r.opt.Hook)
		r.hookDone = true
	}
}

// injectBody emits Body at p[i], preceded by Early and Hook if they are
// still due.
func (r *Rewriter) injectBody(p []byte, i int) {
	r.injectHook(p, i)
	if !r.bodyDone {
		which, b := InjectedBody, r.opt.Body
		if r.base != nil { // see Options.Body
			which, b = InjectedBodyAfterBase, r.opt.BodyAfterBase
		}
		if len(b) > 0 {
			r.injectAt(p, i, which, b)
		}
		r.bodyDone = true
	}
}
