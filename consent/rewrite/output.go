package rewrite

// Output and holding. Unchanged bytes are written straight from the
// caller's slice in as few pieces as possible; only a held token is copied,
// and only when it spans writes.

// emit writes b after everything emitted before. Small pieces are coalesced
// in out; large ones go straight to w.
func (r *Rewriter) emit(b []byte) {
	if len(b) == 0 || r.err != nil {
		return
	}
	if r.direct {
		r.write(b)
		return
	}
	if len(r.out)+len(b) <= cap(r.out) {
		r.out = append(r.out, b...)
		return
	}
	r.flushOut()
	if len(b) >= outSize/2 {
		r.write(b)
		return
	}
	if r.out == nil {
		r.out = make([]byte, 0, outSize)
	}
	r.out = append(r.out, b...)
}

func (r *Rewriter) flushOut() {
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
		r.emit(r.buf)
		r.buf = r.buf[:0]
		r.inBuf = false
	}
	r.holding = false
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
		return
	}
	if !r.inBuf {
		r.emit(p[r.from:r.ts])
		if r.buf == nil {
			r.buf = make([]byte, 0, TagLimit+HoldLimit+64)
		}
		r.inBuf = true
	}
	r.buf = append(r.buf, p[r.ts:]...)
}

// injectEarly emits Early at p[i], if still due. i is r.ts to put it in
// front of the held token.
func (r *Rewriter) injectEarly(p []byte, i int) {
	if !r.earlyDone {
		r.insertAt(p, i, r.opt.Early)
		r.earlyDone = true
	}
}

// injectHook emits Hook at p[i], preceded by Early if that is still due.
func (r *Rewriter) injectHook(p []byte, i int) {
	r.injectEarly(p, i)
	if !r.hookDone {
		r.insertAt(p, i, r.opt.Hook)
		r.hookDone = true
	}
}
