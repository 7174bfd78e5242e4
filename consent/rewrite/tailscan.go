package rewrite

// Tail scan: an inline script longer than HoldLimit is judged on its first
// HoldLimit bytes and then streams, because holding it all would make memory
// depend on the page. Tracker loaders are sometimes buried deep inside such
// bundles, so the rest of the text is still matched as it passes. The start
// tag has gone out by then and cannot be changed, but the script has not run
// yet: a browser runs a classic or module script only once its whole text
// has parsed. If a blocked vendor's signature turns up, TailPoison (a
// comment, then a lone ')', a syntax error after any valid script) is
// appended before </script>, and the browser never runs the script. The
// banner can run it after consent by dropping that line. It names no
// vendor: which of several signatures is seen first depends on how the page
// was cut into writes, and the output must not.

// TailPoison is appended to a streamed inline script in which a blocked
// vendor's signature was found past HoldLimit.
const TailPoison = "\n;/*consentgate:blocked*/)\n"

// tailOverlap is how many bytes of one piece of text are kept to match
// signatures that span two pieces.
const tailOverlap = MaxInlineSignature + 1

// MaxInlineSignature is the longest inline signature a Judge may look for:
// longer ones could be missed where a long script is judged in pieces.
const MaxInlineSignature = 127

type tailScan struct {
	on      bool
	verdict Verdict
	carry   [tailOverlap]byte
	n       int
	scratch [2 * tailOverlap]byte
}

// startTail begins matching the rest of a script whose prefix (ending with
// the given bytes) was judged live.
func (r *Rewriter) startTail(prefixEnd []byte) {
	t := &r.tail
	t.on, t.verdict = true, Verdict{}
	t.n = copy(t.carry[:], prefixEnd[max(0, len(prefixEnd)-tailOverlap):])
}

// feedTail matches one more piece of script text.
func (r *Rewriter) feedTail(text []byte) {
	t := &r.tail
	if len(text) == 0 || t.verdict.Block {
		return
	}
	// The seam: the end of what came before joined to the start of this.
	k := copy(t.scratch[:], t.carry[:t.n])
	k += copy(t.scratch[k:], text[:min(len(text), tailOverlap)])
	if v := r.judge.JudgeInline(t.scratch[:k]); v.Block {
		t.verdict = v
		return
	}
	if v := r.judge.JudgeInline(text); v.Block {
		t.verdict = v
		return
	}
	if len(text) >= tailOverlap {
		t.n = copy(t.carry[:], text[len(text)-tailOverlap:])
		return
	}
	// A short piece: keep the last tailOverlap bytes of carry+text.
	keep := min(t.n, tailOverlap-len(text))
	copy(t.carry[:], t.carry[t.n-keep:t.n])
	t.n = keep + copy(t.carry[keep:], text)
}

// tailText handles script text p[i:j] in tail mode. pend is how many of
// its last bytes may begin the end tag: they are held, so that the poison
// line can still go in front of the end tag if the script ends there.
func (r *Rewriter) tailText(p []byte, i, j, pend int) {
	r.feedTail(p[i:j])
	switch {
	case pend > 0 && j-pend >= i: // a new possible end tag in this piece
		if r.holding {
			r.unhold() // the earlier one was text after all
		}
		r.startHold(j - pend)
	case pend == 0 && r.holding:
		r.unhold()
	}
}

// endTail finishes tail mode when the script ends at the end tag that
// starts at p[endTag] (or in the held bytes, when negative or held).
func (r *Rewriter) endTail(p []byte, i, endTag int) {
	r.feedTail(p[i:max(i, endTag)])
	if r.tail.verdict.Block {
		r.blocked++
		if r.holding {
			r.flushBefore(p)
			r.emitPoison()
		} else {
			r.insertAt(p, endTag, nil)
			r.emitPoison()
		}
	}
	if r.holding {
		r.unhold()
	}
	r.tail.on = false
}

// closeTail finishes tail mode when the page ends inside the script.
func (r *Rewriter) closeTail() {
	if r.holding {
		r.unhold()
	}
	if r.tail.verdict.Block {
		r.blocked++
		r.emitPoison()
	}
	r.tail.on = false
}

func (r *Rewriter) emitPoison() { r.emit([]byte(TailPoison)) }
