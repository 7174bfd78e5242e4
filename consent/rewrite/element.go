package rewrite

import "github.com/consentgate/consentgate/consent/catalog"

// elem is what the scanner needs to know about a start tag's name. Every
// name not listed is elOther: its tag is only skipped.
type elem uint8

const (
	elOther elem = iota
	elHead       // Early goes after it
	elBase       // its href is the base of the relative URLs after it
	elBody       // Early before it, Hook after it
	elStyle      // @import in its text is judged
	// Elements whose text, up to the end tag, is not markup.
	elXmp
	elNoembed
	elNoframes
	elTextarea
	elTitle
	elPlaintext // text up to the end of the input
	// Judged elements: their start tags are held, parsed and maybe neutralised.
	elScript
	elIframe
	elEmbed // embed, and a frameset's frame
	elObject
	elMedia // img (and image, which the parser turns into img, or an SVG image), video, audio, source, track, SVG feImage
	elInput // <input type=image> loads its src
	elLink
	// Any other element whose start tag the fast path leaves to the general
	// one: its style attribute may load an image with url().
	elStyled
	elForm // its action is judged only to be reported to OnURL (the third-party scan)
	// svg and math: read as elStyled, and they change how what follows is
	// read (see foreign.go).
	elForeign
	// <?xml-stylesheet href?> in an XML document: a style sheet.
	elXMLStylesheet
	numElems
)

// rawEnd is, for each element whose content is raw text (or RCDATA), the
// lower-case name of the end tag that closes it.
var rawEnd = [numElems]string{
	elStyle: "style", elXmp: "xmp", elNoembed: "noembed", elNoframes: "noframes",
	elTextarea: "textarea", elTitle: "title", elScript: "script", elIframe: "iframe",
}

// elemNames lists the names classify knows. (noscript is deliberately
// absent: x/net/html treats its content as raw text, but trackers hide in
// it and browsers without scripting parse it as markup.)
var elemNames = [...]struct {
	name string
	el   elem
}{
	{"head", elHead}, {"base", elBase}, {"body", elBody}, {"style", elStyle},
	{"xmp", elXmp}, {"noembed", elNoembed}, {"noframes", elNoframes},
	{"textarea", elTextarea}, {"title", elTitle}, {"plaintext", elPlaintext},
	{"script", elScript}, {"iframe", elIframe}, {"embed", elEmbed}, {"object", elObject},
	{"img", elMedia}, {"image", elMedia}, {"video", elMedia}, {"audio", elMedia},
	{"source", elMedia}, {"track", elMedia}, {"input", elInput}, {"link", elLink}, {"form", elForm},
	// A frameset's frame loads its src as an embed does; an SVG filter's
	// feImage loads its href as an SVG image does.
	{"frame", elEmbed}, {"feimage", elMedia},
	{"svg", elForeign}, {"math", elForeign},
}

// maxName is the length of the longest name in elemNames ("plaintext").
const maxName = 9

// byLength holds the indexes in elemNames of the names of each length, and
// firstLetters[n] has bit c-'a' set if one of them begins with c: most tags
// are ruled out without comparing names.
var byLength, firstLetters = func() (idx [maxName + 1][]uint8, first [maxName + 1]uint32) {
	for i, e := range elemNames {
		idx[len(e.name)] = append(idx[len(e.name)], uint8(i))
		first[len(e.name)] |= 1 << (e.name[0] - 'a')
	}
	return idx, first
}()

// classify maps a start tag name (any case) to its elem.
func classify(name []byte) elem {
	if len(name) == 0 || len(name) > maxName {
		return elOther
	}
	if c := lower(name[0]) - 'a'; c >= 26 || firstLetters[len(name)]&(1<<c) == 0 {
		return elOther
	}
	var b [maxName]byte
	for i, c := range name {
		b[i] = lower(c)
	}
	for _, k := range byLength[len(name)] {
		if e := elemNames[k]; e.name == string(b[:len(name)]) {
			return e.el
		}
	}
	return elOther
}

// judged reports whether a start tag of e is held and judged. Every
// element's style (and a table's or body's background) may load an image,
// so every element the scanner knows by name is; the others (elOther) are
// passed by on the fast path unless their attributes may load (elStyled).
func (e elem) judged() bool { return specs[e].urls != 0 }

// readsMark reports whether data-consent on e decides it: on the elements
// that load something of their own. The others are judged on their style
// and background only, as the fast path passes a plain element's mark by.
func (e elem) readsMark() bool { return e >= elScript && e <= elLink }

// renamedWhenBlocked reports whether attribute id, with value val, is
// renamed in a blocked element e. A style or background is renamed only
// when it may load: a placeholder keeps its size and look.
func (e elem) renamedWhenBlocked(id attrID, val []byte) bool {
	switch {
	case !specs[e].rename.has(id):
		return false
	case id == atStyle:
		return mayLoad(val)
	case presentation.has(id):
		return presentationMayLoad(val)
	case id == atBackground, id == atPing:
		return backgroundMayLoad(val)
	}
	return true
}

// attrID names the attributes a judged element is read for.
type attrID uint8

const (
	atSrc attrID = iota
	atSrcset
	atPoster
	atData
	atHref
	atType
	atSrcdoc
	atRel
	atConsent // data-consent: the operator's own marking
	atAction
	atXlinkHref   // an SVG script's or image's URL, as href is
	atImagesrcset // a preload link's srcset
	atStyle       // url() in it loads
	atBackground  // body's and table cells' image: a URL
	atPing        // a link's hyperlink-auditing URLs, posted to on a click
	// SVG presentation attributes that take a url(): read as a style's
	// declaration (fill="url(https://…)" loads it); see presentation.
	atFill
	atStroke
	atMask
	atClipPath
	atCursor
	atFilter
	atMarkerStart
	atMarkerMid
	atMarkerEnd
	numAttrs
	atNone = numAttrs
)

type attrSet uint32

func (s attrSet) has(a attrID) bool { return s&(1<<a) != 0 }

func setOf(ids ...attrID) (s attrSet) {
	for _, a := range ids {
		s |= 1 << a
	}
	return s
}

// attrOf identifies an attribute name, case-insensitively.
func attrOf(key []byte) attrID {
	var b [len("data-consent")]byte
	if len(key) < 3 || len(key) > len(b) {
		return atNone
	}
	for i, c := range key {
		b[i] = lower(c)
	}
	switch string(b[:len(key)]) {
	case "src":
		return atSrc
	case "srcset":
		return atSrcset
	case "poster":
		return atPoster
	case "data":
		return atData
	case "href":
		return atHref
	case "type":
		return atType
	case "srcdoc":
		return atSrcdoc
	case "rel":
		return atRel
	case "data-consent":
		return atConsent
	case "action":
		return atAction
	case "xlink:href":
		return atXlinkHref
	case "imagesrcset":
		return atImagesrcset
	case "style":
		return atStyle
	case "background":
		return atBackground
	case "ping":
		return atPing
	case "fill":
		return atFill
	case "stroke":
		return atStroke
	case "mask":
		return atMask
	case "clip-path":
		return atClipPath
	case "cursor":
		return atCursor
	case "filter":
		return atFilter
	case "marker-start":
		return atMarkerStart
	case "marker-mid":
		return atMarkerMid
	case "marker-end":
		return atMarkerEnd
	}
	return atNone
}

// judgedSpec says how a judged element refers to a third party.
type judgedSpec struct {
	kind   catalog.Kind
	urls   attrSet // judged, in attrID order
	rename attrSet // renamed with the data-consent- prefix when blocked
}

// Inside <svg>, a script and an image take their URL from href or
// xlink:href; elsewhere browsers ignore those, so judging them costs nothing.
// Every element that renders may load an image from its style (and a body
// or table cell from its background); a script and a link render nothing.
var (
	// presentation are the SVG attributes that load what a url() in them
	// names, as a style's declaration does.
	presentation = setOf(atFill, atStroke, atMask, atClipPath, atCursor, atFilter, atMarkerStart, atMarkerMid, atMarkerEnd)
	styled       = setOf(atStyle, atBackground) | presentation
	media        = setOf(atSrc, atSrcset, atPoster, atHref, atXlinkHref) | styled
	script       = setOf(atSrc, atHref, atXlinkHref)
	link         = setOf(atHref, atImagesrcset)
)

var specs = func() (s [numElems]judgedSpec) {
	for e := elHead; e < elScript; e++ {
		s[e] = judgedSpec{catalog.KindImage, styled, styled}
	}
	s[elScript] = judgedSpec{catalog.KindScript, script, script | setOf(atType)}
	s[elIframe] = judgedSpec{catalog.KindFrame, setOf(atSrc) | styled, setOf(atSrc, atSrcdoc) | styled}
	s[elEmbed] = judgedSpec{catalog.KindFrame, setOf(atSrc) | styled, setOf(atSrc) | styled}
	s[elObject] = judgedSpec{catalog.KindFrame, setOf(atData) | styled, setOf(atData) | styled}
	s[elMedia] = judgedSpec{catalog.KindImage, media, media}
	s[elInput] = judgedSpec{catalog.KindImage, setOf(atSrc) | styled, setOf(atSrc) | styled}
	s[elLink] = judgedSpec{catalog.KindLink, link, link}
	// Any other element: its style; a body's or cell's background; a
	// link's (a, area) ping, which browsers post to when it is followed.
	s[elStyled] = judgedSpec{catalog.KindImage, styled | setOf(atPing), styled | setOf(atPing)}
	// A form's action is judged only to be reported to OnURL (the
	// third-party scan): a form loads nothing until it is sent.
	s[elForm] = judgedSpec{catalog.KindForm, setOf(atAction) | styled, styled}
	s[elForeign] = s[elStyled]
	// An xml-stylesheet without href loads the document itself as a style
	// sheet; one whose type is no style sheet's loads nothing.
	s[elXMLStylesheet] = judgedSpec{catalog.KindLink, setOf(atHref), setOf(atHref, atType)}
	return s
}()

// isSrcset reports whether an attribute holds srcset candidates.
func isSrcset(id attrID) bool { return id == atSrcset || id == atImagesrcset }
