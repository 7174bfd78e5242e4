package rewrite

import "bytes"

// SVG and MathML in an HTML page ("foreign content"). There the parser
// reads markup inside a title, textarea, xmp, iframe, noembed, noframes or
// plaintext, and a tag that closes itself (<title/>, <style/>) has no
// content. Read as raw text, <svg><title/> would hide the rest of the page
// from judging, while the browser loads what is in it.
//
// foreignStack keeps the SVG and MathML elements open, as the parser's
// stack of open elements has them (foreign content has simple rules: a
// start tag opens an element unless it closes itself, an end tag closes up
// to the element of its name, and the HTML tags that break out close them
// all), and marks the integration points, in which HTML is read again.
// HTML elements there are only noted.
//
// Approximations, all on the side of reading markup (judging more):
//   - HTML elements are not followed: an end tag in foreign content that
//     closes no foreign element is taken as a stray the parser ignores,
//     though it may close an HTML element around the SVG (</div> in
//     <div><svg>), and the SVG with it.
//   - Once an HTML element has opened in an integration point, only the
//     integration point's own end tag is taken to leave it (to foreign
//     content again), though the parser may leave it by an end tag of the
//     SVG once the HTML is closed (and ignores the integration point's
//     own while it is not). Either way the parser reads HTML where this
//     reads HTML, or markup where it reads raw text.
//   - A script's and a style's text in foreign content stays raw text (a
//     style's @import is judged as CSS), though the parser would read a
//     tag in it.
//   - Past maxOpen elements, deeper ones are not followed.
//
// They are not quite all on that side: raw text read as markup can change
// what follows (an end tag that closes an HTML element around the SVG,
// then an SVG title holding an xmp). TestForeignContentAgainstParser mixes
// these tags at random; in a run of 100,000 mixes none was read as raw
// text where the parser reads markup, and no page seen comes close.

// maxOpen bounds the foreign elements followed.
const maxOpen = 32

// maxForeignName is the longest name that matters here ("annotation-xml");
// a longer one is kept cut to this length. The scanner keeps that much of
// every tag name.
const maxForeignName = 14

type namespace uint8

const (
	nsSVG namespace = iota + 1
	nsMath
)

// openElem is an SVG or MathML element open. In an integration point,
// html counts the HTML elements opened inside it (none are taken to close).
type openElem struct {
	name        [maxForeignName]byte
	n           uint8
	ns          namespace
	integration bool
	html        int32
}

type foreignStack struct {
	n int
	e [maxOpen]openElem
}

// foreign reports whether a start tag now is read as SVG or MathML, where
// no element's content is raw text.
func (s *foreignStack) foreign() bool { return s.n > 0 && !s.e[s.n-1].integration }

func (s *foreignStack) push(name []byte, ns namespace, integration bool) {
	if s.n < maxOpen {
		e := &s.e[s.n]
		*e = openElem{ns: ns, integration: integration}
		e.n = uint8(copy(e.name[:], name))
		s.n++
	}
}

func (e *openElem) is(name []byte) bool { return string(e.name[:e.n]) == string(name) }

// breakOut closes the foreign elements down to an integration point, or
// all: what an HTML tag that breaks out of foreign content does.
func (s *foreignStack) breakOut() {
	for s.n > 0 && !s.e[s.n-1].integration {
		s.n--
	}
}

// noteForeign follows the tag that ends before p[j], read on the general
// path (its name in r.name; its text held, for a start tag that was).
func (r *Rewriter) noteForeign(p []byte, j int) {
	if r.opt.XML || r.fs.n == 0 && (r.isEnd || r.el != elForeign) {
		return
	}
	var tag []byte
	if r.holding {
		tag = r.heldPrefix(p, r.heldLen(j))
	}
	r.fs.note(r.name[:min(r.nameLen, maxForeignName)], r.isEnd, r.tl.slash, tag)
}

// note follows a tag into, within and out of foreign content: its name
// (any case, cut to maxForeignName), whether it is an end tag or closes
// itself, and its text from '<' (nil if not at hand: read as having no
// attributes).
func (s *foreignStack) note(rawName []byte, isEnd, slash bool, tag []byte) {
	if s.n == 0 && isEnd {
		return
	}
	var lb [maxForeignName]byte
	name := lb[:min(len(rawName), maxForeignName)]
	for i := range name {
		name[i] = lower(rawName[i])
	}
	switch {
	case s.n == 0:
		s.htmlStart(name, slash) // an HTML start tag at the page's level
	case s.foreign() && !isEnd:
		s.foreignStart(name, slash, tag)
	case s.e[s.n-1].integration && !isEnd:
		s.htmlStart(name, slash)
	case isEnd && s.e[s.n-1].integration && s.e[s.n-1].html > 0:
		// HTML is open in the integration point: only its own end tag is
		// taken to close it (the parser ignores that one while an HTML
		// element is still open, and reads on as HTML); any other closes
		// HTML, which is not followed (see above).
		if s.e[s.n-1].is(name) {
			s.n--
		}
	case string(name) == "br" || string(name) == "p":
		s.breakOut()
	default:
		s.endForeign(name)
	}
}

// htmlStart follows an HTML start tag: an svg or math opens foreign
// content; any other element that has content counts as HTML open in the
// integration point around it, if any.
func (s *foreignStack) htmlStart(name []byte, slash bool) {
	switch {
	case string(name) == "svg" || string(name) == "math":
		if !slash {
			ns := nsSVG
			if string(name) == "math" {
				ns = nsMath
			}
			s.push(name, ns, false)
		}
	case s.n > 0 && !void[string(name)]: // (HTML ignores a non-void element's "/>")
		s.e[s.n-1].html++
	}
}

// foreignStart follows a start tag in foreign content.
func (s *foreignStack) foreignStart(name []byte, slash bool, tag []byte) {
	if breaksOut(name, tag) {
		s.breakOut()
		s.htmlStart(name, slash)
		return
	}
	if slash {
		return
	}
	top := &s.e[s.n-1]
	ns := top.ns
	if string(name) == "svg" && ns == nsMath && top.is([]byte("annotation-xml")) {
		ns = nsSVG // the one place SVG starts inside MathML
	}
	s.push(name, ns, integrationPoint(name, ns, tag))
}

// endForeign follows an end tag in foreign content: it closes the foreign
// elements up to the innermost of its name, if one is open above the HTML
// around them; otherwise the parser reads it as HTML, which is taken as a
// stray it ignores.
func (s *foreignStack) endForeign(name []byte) {
	for k := s.n - 1; k >= 0; k-- {
		if s.e[k].is(name) {
			s.n = k
			return
		}
		if s.e[k].integration && s.e[k].html > 0 {
			return // an HTML element is open below: the parser reads it as HTML
		}
	}
}

// integrationPoint reports whether a start tag in foreign content opens an
// element in which HTML is read: SVG's foreignObject, desc and title;
// MathML's text elements; an annotation-xml whose encoding is HTML.
func integrationPoint(name []byte, ns namespace, tag []byte) bool {
	switch n := string(name); {
	case ns == nsSVG:
		return n == "foreignobject" || n == "desc" || n == "title"
	case n == "mi", n == "mo", n == "mn", n == "ms", n == "mtext":
		return true
	case n == "annotation-xml":
		enc := bytes.TrimSpace(attrValue(tag, "encoding"))
		return equalFoldAny(enc, []string{"text/html", "application/xhtml+xml"})
	}
	return false
}

// breaksOut reports whether a start tag in foreign content ends it, as
// the parser has it: the HTML elements below, and a font that says how
// text looks.
func breaksOut(name, tag []byte) bool {
	if string(name) == "font" {
		return attrValue(tag, "color") != nil || attrValue(tag, "face") != nil || attrValue(tag, "size") != nil
	}
	return breakout[string(name)]
}

var breakout = setOfNames("b big blockquote body br center code dd div dl dt em embed h1 h2 h3 h4 h5 h6 head hr i img li listing menu meta nobr ol p pre ruby s small span strong strike sub sup table tt u ul var")

// void are the HTML elements that have no content.
var void = setOfNames("area base basefont bgsound br col embed frame hr image img input keygen link meta param source track wbr")

func setOfNames(names string) map[string]bool {
	m := map[string]bool{}
	for _, n := range bytes.Fields([]byte(names)) {
		m[string(n)] = true
	}
	return m
}

// attrValue is the value of the first attribute named key (any case) of
// tag, the text of a start tag from its '<', or nil if it has none (or tag
// is nil); a present but empty value is non-nil.
func attrValue(tag []byte, key string) []byte {
	if tag == nil {
		return nil
	}
	it := newAttrIter(tag)
	for a, ok := it.next(); ok; a, ok = it.next() {
		if k := tag[a.keyStart:a.keyEnd]; len(k) == len(key) && hasPrefixFold(k, key) {
			return tag[a.valStart:a.valEnd:a.valEnd]
		}
	}
	return nil
}
