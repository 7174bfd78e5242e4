package rewrite

import "github.com/consentgate/consentgate/consent/catalog"

// elem is what the scanner needs to know about a start tag's name. Every
// name not listed is elOther: its tag is only skipped.
type elem uint8

const (
	elOther     elem = iota
	elHead           // Early goes after it
	elBody           // Early before it, Hook after it
	elStyle          // @import in its text is judged
	elRawText        // xmp, noembed, noframes, textarea, title: text up to the end tag
	elPlaintext      // text up to the end of the input
	// Judged elements: their start tags are held, parsed and maybe neutralised.
	elScript
	elIframe
	elEmbed
	elObject
	elMedia // img, video, audio, source, track
	elLink
)

// maxName is the longest name classify knows ("plaintext").
const maxName = 9

// firstLetters[n] has bit c-'a' set if some name of length n that classify
// knows begins with c: most tags are ruled out without comparing names.
var firstLetters = func() (t [maxName + 1]uint32) {
	for _, n := range []string{"head", "body", "style", "script", "iframe", "embed", "object",
		"img", "video", "audio", "source", "track", "link", "xmp", "noembed", "noframes",
		"textarea", "title", "plaintext"} {
		t[len(n)] |= 1 << (n[0] - 'a')
	}
	return t
}()

// classify maps a lower-case start tag name to its elem and, for elements
// whose content is raw text, the name of the end tag that closes it.
// (noscript is deliberately absent: x/net/html treats its content as raw
// text, but trackers hide in it and browsers without scripting parse it.)
func classify(name []byte) (elem, string) {
	if len(name) > maxName || name[0]-'a' >= 26 || firstLetters[len(name)]&(1<<(name[0]-'a')) == 0 {
		return elOther, ""
	}
	switch string(name) {
	case "head":
		return elHead, ""
	case "body":
		return elBody, ""
	case "style":
		return elStyle, "style"
	case "script":
		return elScript, "script"
	case "iframe":
		return elIframe, "iframe"
	case "embed":
		return elEmbed, ""
	case "object":
		return elObject, ""
	case "img", "video", "audio", "source", "track":
		return elMedia, ""
	case "link":
		return elLink, ""
	case "xmp":
		return elRawText, "xmp"
	case "noembed":
		return elRawText, "noembed"
	case "noframes":
		return elRawText, "noframes"
	case "textarea":
		return elRawText, "textarea"
	case "title":
		return elRawText, "title"
	case "plaintext":
		return elPlaintext, ""
	}
	return elOther, ""
}

func (e elem) judged() bool { return e >= elScript }

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
	numAttrs
	atNone = numAttrs
)

type attrSet uint16

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
	}
	return atNone
}

// judgedSpec says how a judged element refers to a third party.
type judgedSpec struct {
	kind   catalog.Kind
	urls   attrSet // judged, in attrID order
	rename attrSet // renamed with the data-consent- prefix when blocked
}

var media = setOf(atSrc, atSrcset, atPoster)

var specs = [...]judgedSpec{
	elScript: {catalog.KindScript, setOf(atSrc), setOf(atSrc, atType)},
	elIframe: {catalog.KindFrame, setOf(atSrc), setOf(atSrc, atSrcdoc)},
	elEmbed:  {catalog.KindFrame, setOf(atSrc), setOf(atSrc)},
	elObject: {catalog.KindFrame, setOf(atData), setOf(atData)},
	elMedia:  {catalog.KindImage, media, media},
	elLink:   {catalog.KindLink, setOf(atHref), setOf(atHref)},
}
