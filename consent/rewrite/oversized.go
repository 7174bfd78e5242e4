package rewrite

// Oversized start tags. A judged start tag is held and parsed whole up to
// TagLimit bytes. A longer one (a tracker padded with a long attribute, an
// image with a large data: URL) cannot be held, but it must not load a
// third party unjudged either, so it fails closed as it streams:
//
//   - its first TagLimit bytes are judged as usual on the attributes
//     complete in them (a frame's srcdoc or data: document included), and
//     go out neutralised if that blocks;
//   - each later attribute is held (up to TagLimit) and judged on its own
//     when it is a URL attribute (or an iframe's srcdoc) met for the first
//     time; once one blocks, the marks go in front of it, and it and every
//     later URL attribute are renamed, as in a whole tag (a data-consent
//     or rel this late is not read);
//   - a URL too long to hold is judged on its first TagLimit bytes, and
//     blocked whatever they say (naming no vendor) unless it is a data:
//     URL that loads nothing from elsewhere: any but a frame's document
//     (HTML, XHTML, SVG, whose type is in those bytes); a srcset that long
//     is always blocked (unless Options.Judge is nil: then nothing is);
//   - an iframe's srcdoc that long (while the element is undecided) is
//     rewritten in place as it streams, its frame left live (see
//     srcdocStream); within such a srcdoc's document, where nesting must
//     stop, or before its value has begun, it blocks the frame, naming no
//     vendor;
//   - a <base> takes the hook in front of it unless a base came before,
//     whatever its href names (read on its first TagLimit bytes, perhaps
//     only once the tag has begun to go out), and is the base of the URLs
//     after it;
//   - a script left without a live src, whose text would therefore run,
//     has its text judged as it streams, as a long inline script's is
//     (see TailPoison).
//
// Attributes already out when the element turns out to be blocked stay
// as they were: they were judged and not blocked, or load nothing.

// ovMode is how an oversized element stands.
type ovMode uint8

const (
	ovUndecided ovMode = iota // judged attribute by attribute
	ovBlocked                 // neutralised: URL attributes are renamed
	ovLive                    // decided live (a granted data-consent, a link that loads nothing)
)

// oversized is the state of the oversized start tag being streamed.
type oversized struct {
	on      bool
	mode    ovMode
	has     attrSet // attributes met so far: only the first of a name counts
	typeOut bool    // a script's type attribute went out live
	js      bool    // the script's first type is a JavaScript one (or it has none)
	src     bool    // a script's src went out live
}

// startOversized takes over a judged start tag held to p[j], still open,
// whose held bytes have reached TagLimit (or passed it, in its name).
func (r *Rewriter) startOversized(p []byte, j int) {
	r.oversized++
	tag := r.heldPrefix(p, TagLimit)
	ti, cut := parseTagPrefix(tag)
	o := &r.ov
	*o = oversized{on: true, has: ti.has, js: isJavaScript(&ti)}
	if r.el == elBase && !r.baseSet {
		// Its href may come too late to be read before the tag goes out:
		// the hook goes in front whatever it names (see baseTag).
		r.injectHook(p, r.ts)
		if ti.has.has(atHref) {
			r.noteBase(ti.val[atHref])
		}
	}
	var v Verdict
	switch {
	case ti.has.has(atConsent) && r.el.readsMark():
		if v = r.judge.JudgePurpose(attrText(ti.val[atConsent])); !v.Block {
			o.mode = ovLive
		}
	case r.el == elLink && ti.has.has(atRel) && !LoadsResource(ti.val[atRel]):
		o.mode = ovLive
	default:
		v = r.judgeLoads(&ti)
	}
	r.flushBefore(p)
	if v.Block {
		o.mode = ovBlocked // its type and src renamed, type="text/plain" in front
		r.blocked++
		r.emitNeutralised(tag[:cut], &ti, v)
	} else {
		o.typeOut, o.src = ti.has.has(atType), ti.has.has(atSrc)
		r.emit(tag[:cut])
	}
	if cut == len(tag) {
		r.emitHeldFrom(p, j, cut) // the rest of a long name
		r.drop(j)
	} else {
		r.forgetHeld(cut) // the unfinished attribute stays held
	}
}

// oversizedTag goes on through an oversized start tag from p[i], holding
// each attribute until it is judged.
func (r *Rewriter) oversizedTag(p []byte, i int) int {
	for i < len(p) {
		if r.tl.st == tsName { // the rest of a long name: attributes are held from their start
			if i = skipClass(p, i, nameStop); i < len(p) {
				r.tl.st = tsBeforeAttr
			}
			continue
		}
		if !r.holding && r.tl.st == tsBeforeAttr {
			i = skipSpaceSlash(p, i)
			if i == len(p) {
				break
			}
			if p[i] == '>' {
				r.endOversized(p, i+1)
				return i + 1
			}
			r.startHold(i) // an attribute begins
		}
		end := len(p)
		if r.holding {
			end = min(end, i+TagLimit-r.heldLen(i))
		}
		j, ev := r.tl.lex(p[:end], i, true)
		switch {
		case r.sd != nil:
			r.srcdocText(p, i, j, ev == lexAttr)
		case ev == lexEnd: // not reached: '>' is met between attributes above
			r.endOversized(p, j)
			return j
		case !r.holding: // the rest of a long value went by
		case ev == lexAttr:
			r.decideAttr(p, j, true)
		case r.heldLen(j) >= TagLimit:
			r.decideAttr(p, j, false) // judged on its beginning; the rest streams
		}
		i = j
	}
	return i
}

// decideAttr emits the held attribute, which ends before p[j] (or, when
// !complete, goes on), renamed if the element is or becomes blocked.
func (r *Rewriter) decideAttr(p []byte, j int, complete bool) {
	key, val := splitAttr(r.heldPrefix(p, r.heldLen(j)))
	id := attrOf(key)
	if id == atNone {
		r.unhold()
		return
	}
	o := &r.ov
	first := !o.has.has(id)
	o.has |= 1 << id
	spec := &specs[r.el]
	if r.el == elBase && id == atHref && first {
		r.noteBase(val) // (its host is in the beginning held)
	}
	switch {
	case o.mode == ovLive, o.mode == ovBlocked && !r.el.renamedWhenBlocked(id, val):
		r.unhold()
		return
	case o.mode == ovBlocked:
		r.flushBefore(p)
	default:
		if !first {
			r.unhold() // browsers use only the first
			return
		}
		if r.el == elScript && id == atType {
			o.js, o.typeOut = isJavaScript(&tagInfo{has: 1 << atType, val: [numAttrs][]byte{atType: val}}), true
		}
		srcdoc := r.el == elIframe && id == atSrcdoc
		if !spec.urls.has(id) && !srcdoc {
			r.unhold()
			return
		}
		if srcdoc && !complete && r.startSrcdoc(p, j, val) {
			return // rewritten in place as it streams
		}
		v := r.judgeValue(id, val, complete)
		if !v.Block {
			o.src = o.src || id == atSrc
			r.unhold()
			return
		}
		o.mode = ovBlocked
		r.blocked++
		r.flushBefore(p)
		r.emitMarks(v, true)
	}
	r.emitHeldFrom(p, j, r.emitRenamedKey(key))
	r.drop(j)
}

// judgeValue judges one URL attribute of the element: whole, or when it is
// too long to hold, on its beginning and failing closed.
func (r *Rewriter) judgeValue(id attrID, val []byte, complete bool) Verdict {
	ti := tagInfo{has: 1 << id}
	ti.val[id] = val
	if complete {
		return r.judgeLoads(&ti)
	}
	v := r.judgeURLs(&ti)
	// A style too long to hold is judged on the url()s seen: failing
	// closed would strip many a page's long inline style of data: images.
	if v.Block || id == atStyle || r.dataLoadsNothing(id, val) {
		return v
	}
	if _, none := r.judge.(nopJudge); none {
		return v // nothing is judged at all (Options.Judge is nil)
	}
	return Verdict{Block: true} // too long to judge: no vendor named, never released
}

// dataLoadsNothing reports whether URL attribute id, too long to hold and
// beginning with val, is a data: URL that loads nothing from elsewhere: any
// but a frame's, whose document (HTML, XHTML, SVG) may load what it names.
// The type is in the header at its start; a header too long to hold may be
// a document's.
func (r *Rewriter) dataLoadsNothing(id attrID, val []byte) bool {
	if id == atSrcdoc || isSrcset(id) || !hasPrefixFold(skipHTMLSpace(val), "data:") {
		return false
	}
	if !r.isFrameURL(id) {
		return true
	}
	doc, _, _, ok := dataHeader(attrText(val))
	return ok && !doc
}

// endOversized finishes an oversized start tag that ends just before p[j].
func (r *Rewriter) endOversized(p []byte, j int) {
	o := r.ov
	r.ov.on = false
	// A script that will run its own text, with our type="text/plain" not
	// in front of its type: the text is judged as it streams.
	runsText := !o.src && o.js && (o.mode == ovUndecided || o.mode == ovBlocked && o.typeOut)
	if r.el == elScript && runsText && r.rawEndName() != "" {
		r.startTail(nil)
	}
	r.closeTag(p, j)
}

// parseTagPrefix is parseTag for the beginning of a start tag that goes on:
// the attributes complete in it, and where the unfinished one begins (or
// len(tag) if none has begun).
func parseTagPrefix(tag []byte) (ti tagInfo, cut int) {
	it := newAttrIter(tag)
	ti.nameEnd, cut = it.nameEnd, it.nameEnd
	for a, ok := it.next(); ok; a, ok = it.next() {
		ti.add(tag, a)
		cut = it.i
	}
	return ti, skipSpaceSlash(tag, cut)
}

// splitAttr reads one attribute that begins at a[0]: its name and value,
// or as much of them as a holds.
func splitAttr(a []byte) (key, val []byte) {
	lx := tagLexer{st: tsBeforeAttr}
	if _, ev := lx.lex(a, 0, true); ev == lexAttr {
		return a[lx.a.keyStart:lx.a.keyEnd], a[lx.a.valStart:lx.a.valEnd]
	}
	switch lx.st {
	case tsAfterKey, tsBeforeVal:
		return a[lx.a.keyStart:lx.a.keyEnd], nil
	case tsQuoted, tsUnquoted:
		return a[lx.a.keyStart:lx.a.keyEnd], a[lx.a.valStart:]
	}
	return nil, nil // a name longer than any we know
}

func skipSpaceSlash(p []byte, i int) int {
	for i < len(p) && class[p[i]]&(cSpace|cSlash) != 0 {
		i++
	}
	return i
}

func skipHTMLSpace(b []byte) []byte { return b[skipSpace(b, 0):] }
