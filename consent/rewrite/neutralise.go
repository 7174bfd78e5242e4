package rewrite

import (
	"bytes"

	"github.com/consentgate/consentgate/consent/catalog"
)

// tagInfo is what one pass over a judged start tag finds. Only the first
// occurrence of an attribute counts, as in browsers.
type tagInfo struct {
	nameEnd int
	has     attrSet
	val     [numAttrs][]byte
}

func parseTag(tag []byte) (ti tagInfo) {
	it := newAttrIter(tag)
	ti.nameEnd = it.nameEnd
	for a, ok := it.next(); ok; a, ok = it.next() {
		ti.add(tag, a)
	}
	return ti
}

// add notes one attribute of tag, unless it is unknown or a repeat.
func (ti *tagInfo) add(tag []byte, a attr) {
	id := attrOf(tag[a.keyStart:a.keyEnd])
	if id == atNone || ti.has.has(id) {
		return
	}
	ti.has |= 1 << id
	ti.val[id] = tag[a.valStart:a.valEnd]
}

// judgeTag judges the held start tag of a judged element, which ends just
// before p[j], and emits it (neutralised if blocked) or keeps holding it
// when its inline text must be judged first.
func (r *Rewriter) judgeTag(p []byte, j int) {
	tag := r.heldPrefix(p, r.heldLen(j))
	ti := parseTag(tag)
	r.baseTag(p, &ti)
	var v Verdict
	switch {
	case ti.has.has(atConsent) && r.el.readsMark(): // (the fast path passes a plain element's mark by)
		v = r.judge.JudgePurpose(attrText(ti.val[atConsent]))
	case r.el == elScript && !ti.has.has(atSrc):
		if v = r.judgeURLs(&ti); v.Block { // an SVG script's href
			break
		}
		if r.json = jsonTextOf(&ti); (r.json != notJSON || isJavaScript(&ti)) && r.rawEndName() != "" {
			r.tagLen = len(tag) // hold on through the text
			return
		}
		r.json = notJSON
	case r.el == elLink && !LoadsResource(ti.val[atRel]):
	default:
		v = r.judgeLoads(&ti)
	}
	r.settle(p, j, tag, &ti, v)
}

// decideBody judges the held text of a script or style element, bytes
// [r.tagLen, bodyEnd) of the token held up to p[i] (only its first
// HoldLimit bytes), and emits the held token.
func (r *Rewriter) decideBody(p []byte, i, bodyEnd int) {
	tok := r.heldPrefix(p, min(bodyEnd, r.tagLen+HoldLimit))
	body := tok[r.tagLen:]
	if r.el == elStyle {
		r.neutraliseCSS(p, i, body)
		return
	}
	tag := tok[:r.tagLen]
	ti := parseTag(tag)
	if r.json != notJSON {
		rules := r.json == speculationRulesText
		v := r.judgeJSON(body)
		if rules && len(body) < HoldLimit { // all of the text is here
			if narrowed := r.narrowInlineRules(body); narrowed != nil {
				r.settleText(p, i, tag, &ti, v, narrowed, bodyEnd)
				return
			}
		}
		r.settle(p, i, tag, &ti, v)
		return
	}
	v := r.judge.JudgeInline(body)
	if !v.Block && isModule(&ti) {
		r.judgeImports(body, &v)
	}
	r.settle(p, i, tag, &ti, v)
}

// decideLongBody decides a script or style on its first HoldLimit bytes of
// text while more follows (the held token runs to p[j]). A script judged
// live is then tail-scanned; a possible end tag at its end stays held, so
// that TailPoison can still go in front of it.
func (r *Rewriter) decideLongBody(p []byte, j int) {
	if r.el == elStyle {
		r.cssTailText(p, r.decideStylePrefix(p), j) // the rest is judged as it streams
		return
	}
	if r.el != elScript || r.json != notJSON { // no tail scan: the rest is no script
		r.decideBody(p, j, r.tagLen+HoldLimit)
		return
	}
	tok := r.heldPrefix(p, r.tagLen+HoldLimit)
	r.startTail(tok[r.tagLen:])
	rest := r.restAfterPrefix()
	end := max(rest, j-r.raw.pending())
	r.feedTail(p[rest:end])
	blocked := r.blocked
	r.decideBody(p, end, r.tagLen+HoldLimit)
	if r.blocked != blocked {
		r.tail.on = false
		return
	}
	if end < j {
		r.startHold(end)
	}
}

// restAfterPrefix is where in p the text after the held prefix begins, once
// heldPrefix has made the prefix one slice.
func (r *Rewriter) restAfterPrefix() int {
	if r.inBuf {
		return r.ts // heldPrefix moved the prefix into buf
	}
	return r.ts + r.tagLen + HoldLimit
}

// decideEndedLongScript decides a held script whose text is longer than
// HoldLimit and ends at the end tag at p[endTag] (all of it in this write or
// held): judged on its prefix, the rest matched as in tail mode.
func (r *Rewriter) decideEndedLongScript(p []byte, endTag int) {
	tok := r.heldPrefix(p, r.tagLen+HoldLimit)
	r.startTail(tok[r.tagLen:])
	r.feedTail(p[r.restAfterPrefix():endTag])
	blocked := r.blocked
	r.decideBody(p, endTag, r.tagLen+HoldLimit)
	if r.blocked == blocked && r.tail.verdict.Block {
		r.blocked++
		r.insertAt(p, endTag, nil)
		r.emitPoison()
	}
	r.tail.on = false
}

// closeLongScript decides a held script longer than HoldLimit when the
// page ends inside it (all of it is in buf).
func (r *Rewriter) closeLongScript() {
	r.startTail(r.buf[r.tagLen : r.tagLen+HoldLimit])
	r.feedTail(r.buf[r.tagLen+HoldLimit:])
	blocked := r.blocked
	r.decideBody(nil, 0, r.tagLen+HoldLimit)
	if r.blocked == blocked && r.tail.verdict.Block {
		r.blocked++
		r.emitPoison()
	}
	r.tail.on = false
}

// settle emits the held token, which ends before p[i] and begins with the
// start tag that ti describes: neutralised if v blocks, else unchanged.
func (r *Rewriter) settle(p []byte, i int, tag []byte, ti *tagInfo, v Verdict) {
	if !v.Block {
		r.unhold()
		return
	}
	r.settleText(p, i, tag, ti, v, nil, len(tag))
}

// settleText is settle for an element whose text, held up to bodyEnd (what
// follows, to p[i], begins its end tag), goes out as text instead; with
// bodyEnd at the end of the tag, the held text goes out as it was.
func (r *Rewriter) settleText(p []byte, i int, tag []byte, ti *tagInfo, v Verdict, text []byte, bodyEnd int) {
	r.flushBefore(p)
	if v.Block {
		r.blocked++
		r.emitNeutralised(tag, ti, v)
	} else {
		r.emit(tag)
	}
	r.emit(text)
	r.emitHeldFrom(p, i, bodyEnd)
	r.drop(i)
}

// baseTag notes the href of a <base> start tag held up to r.ts (see
// noteBase). The hook's URLs are the gateway's own: they must not resolve
// against a base naming another host, so the hook goes in front of it.
func (r *Rewriter) baseTag(p []byte, ti *tagInfo) {
	if r.el == elBase && ti.has.has(atHref) && r.noteBase(ti.val[atHref]) {
		r.injectHook(p, r.ts)
	}
}

// noteBase keeps the href of the page's first <base> that has one: the
// relative URLs after it load from there, which may be a third party. It
// reports whether this base names a host. A relative one keeps the base
// there was: a srcdoc document's own relative base resolves against its
// parent's.
func (r *Rewriter) noteBase(href []byte) bool {
	if r.baseSet {
		return false
	}
	r.baseSet = true
	b, ok := catalog.ParseBase(href)
	if ok {
		r.base = b
	}
	return ok
}

// judgeLoads judges what an element loads: its URL attributes and, for a
// frame, the document its srcdoc or data: URL holds.
func (r *Rewriter) judgeLoads(ti *tagInfo) Verdict {
	v := r.judgeURLs(ti)
	if !v.Block && r.el == elIframe && ti.has.has(atSrcdoc) {
		v = r.judgeSrcdoc(attrText(ti.val[atSrcdoc]))
	}
	if !v.Block && specs[r.el].kind == catalog.KindFrame {
		v = r.judgeDataFrame(ti)
	}
	return v
}

// judgeURLs judges every URL attribute of the element; the first blocking
// verdict wins, but all are judged so that OnURL sees each.
func (r *Rewriter) judgeURLs(ti *tagInfo) (v Verdict) {
	spec := &specs[r.el]
	for id := range numAttrs {
		if !spec.urls.has(id) || !ti.has.has(id) {
			continue
		}
		u := ti.val[id]
		switch {
		case id == atStyle:
			cssURLs(attrText(u), func(_ int, url []byte) { r.judgeURL(catalog.KindImage, url, &v) })
			continue
		case presentation.has(id):
			presentationURLs(attrText(u), func(url []byte) { r.judgeURL(catalog.KindImage, url, &v) })
			continue
		case id == atBackground:
			if backgroundMayLoad(u) { // as the fast path reads it: "" or " " loads nothing
				r.judgeURL(catalog.KindImage, u, &v)
			}
			continue
		case id == atPing: // URLs separated by spaces
			for i := skipSpace(u, 0); i < len(u); i = skipSpace(u, i) {
				j := skipClass(u, i, cSpace)
				r.judgeURL(catalog.KindImage, u[i:j], &v)
				i = j
			}
			continue
		case id == atAction:
			r.judgeURL(spec.kind, u, &Verdict{}) // reported, never blocking
			continue
		case !isSrcset(id):
			r.judgeURL(spec.kind, u, &v)
			continue
		}
		u = decodedSrcset(u)
		for i := 0; ; {
			var c []byte
			if c, i = nextCandidate(u, i); c == nil {
				break
			}
			r.judgeURL(spec.kind, c, &v)
		}
	}
	return v
}

func (r *Rewriter) judgeURL(kind catalog.Kind, u []byte, v *Verdict) {
	if len(u) == 0 {
		return
	}
	if r.base != nil {
		u = r.base.Resolve(u)
	}
	got := r.judge.JudgeURL(kind, u)
	if r.opt.OnURL != nil {
		r.opt.OnURL(kind, u, got)
	}
	if got.Block && !v.Block {
		*v = got
	}
}

// emitNeutralised emits the start tag that ti describes with the
// data-consent attributes inserted after the tag name and the element's
// URL (and type) attributes renamed so the browser ignores them.
func (r *Rewriter) emitNeutralised(tag []byte, ti *tagInfo, v Verdict) {
	r.emit(tag[:ti.nameEnd])
	r.emitMarks(v, false)
	prev := ti.nameEnd
	it := newAttrIter(tag)
	for a, ok := it.next(); ok; a, ok = it.next() {
		key := tag[a.keyStart:a.keyEnd]
		if id := attrOf(key); id != atNone && r.el.renamedWhenBlocked(id, tag[a.valStart:a.valEnd]) {
			r.emit(tag[prev:a.keyStart])
			prev = a.keyStart + r.emitRenamedKey(key)
		}
	}
	r.emit(tag[prev:])
}

// emitMarks emits the attributes a neutralised element gains: a script's
// or xml-stylesheet's type="text/plain", the data-consent marks, a frame's
// placeholder. After the tag name each leads with a space; in the middle
// of a tag (mid), where the space before them is already out, they end
// with one instead.
func (r *Rewriter) emitMarks(v Verdict, mid bool) {
	b := r.tmp[:0]
	if r.el == elScript || r.el == elXMLStylesheet {
		b = append(b, ` type="text/plain"`...)
	}
	b = append(b, ` data-consent-purpose="`...)
	b = appendAttrEscaped(b, v.Purpose)
	b = append(b, `" data-consent-vendor="`...)
	b = appendAttrEscaped(b, v.Vendor)
	b = append(b, '"')
	if r.el == elIframe {
		b = append(b, ` srcdoc="`...)
		if r.opt.Placeholder != nil {
			b = r.opt.Placeholder(b, v)
		} else {
			b = DefaultPlaceholder(b, v)
		}
		b = append(b, '"')
	}
	out := b
	if mid {
		out = append(b[1:], ' ')
	}
	r.emit(out)
	if cap(b) <= maxTmp {
		r.tmp = b[:0]
	} else {
		r.tmp = nil
	}
}

// isJavaScript reports whether a script's type makes it a classic or module
// script: absent, empty, "module" or a JavaScript MIME type, or one that
// Partytown runs. Parameters are ignored, which errs towards judging.
func isJavaScript(ti *tagInfo) bool {
	if !ti.has.has(atType) {
		return true
	}
	t := attrText(ti.val[atType])
	if k := bytes.IndexByte(t, ';'); k >= 0 {
		t = t[:k]
	}
	t = bytes.Trim(t, htmlSpace)
	if len(t) == 0 {
		return true
	}
	return equalFoldAny(t, jsTypes[:])
}

var renamePrefix = []byte("data-consent-")

// emitRenamedKey emits the start of the renamed form of attribute key: the
// data-consent- prefix and, for a name with a namespace prefix, that prefix
// and a '-' in place of its ':' (xlink:href becomes data-consent-xlink-href:
// in XML, "data-consent-xlink:" would name an undeclared prefix and break
// the document). It returns how many bytes of key it emitted; the caller
// emits the rest.
func (r *Rewriter) emitRenamedKey(key []byte) int {
	r.emit(renamePrefix)
	k := bytes.IndexByte(key, ':')
	if k < 0 {
		return 0
	}
	r.emit(key[:k])
	r.emit(dash)
	return k + 1
}

var dash = []byte("-")

// attrText is an attribute's value as the browser reads it, its character
// references decoded ("text&#47;javascript" is a script type): a copy when
// it has any, else the value itself (see catalog.AttrValue).
func attrText(v []byte) []byte { return catalog.AttrValue(v) }

// equalFoldAny reports whether b equals one of the lower-case ASCII words,
// ignoring ASCII case.
func equalFoldAny(b []byte, words []string) bool {
	for _, w := range words {
		if len(w) == len(b) && hasPrefixFold(b, w) {
			return true
		}
	}
	return false
}

// hasPrefixFold reports whether b begins with the lower-case ASCII prefix,
// ignoring ASCII case.
func hasPrefixFold(b []byte, prefix string) bool {
	if len(b) < len(prefix) {
		return false
	}
	for i := range len(prefix) {
		if lower(b[i]) != prefix[i] {
			return false
		}
	}
	return true
}

var jsTypes = [...]string{
	"module",
	"text/javascript", "application/javascript", "text/ecmascript", "application/ecmascript",
	"application/x-javascript", "application/x-ecmascript", "text/x-javascript", "text/x-ecmascript",
	"text/jscript", "text/livescript",
	"text/javascript1.0", "text/javascript1.1", "text/javascript1.2", "text/javascript1.3",
	"text/javascript1.4", "text/javascript1.5",
	// Not run by the browser itself, but by Partytown's worker, which
	// Next.js, Astro and others use to load Google's tags off the main thread.
	"text/partytown",
}

// loadsResource reports whether a link's rel makes the browser fetch its
// href (or connect to its origin).
func LoadsResource(rel []byte) bool {
	rel = attrText(rel)
	for i := 0; i < len(rel); {
		i = skipSpace(rel, i)
		j := skipClass(rel, i, cSpace)
		if j > i && equalFoldAny(rel[i:j], loadingRels[:]) {
			return true
		}
		i = j
	}
	return false
}

var loadingRels = [...]string{
	"stylesheet", "preconnect", "dns-prefetch", "preload", "prefetch",
	"modulepreload", "prerender", "icon", "manifest",
	// Safari fetches these for the home screen, the pinned tab and startup.
	"apple-touch-icon", "apple-touch-icon-precomposed", "apple-touch-startup-image", "mask-icon",
	// Chromium fetches it at once, to compress later answers with.
	"compression-dictionary",
}
