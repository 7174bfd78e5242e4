package rewrite

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"golang.org/x/net/html"

	"github.com/consentgate/consentgate/consent/catalog"
)

// token is one token of x/net/html's Tokenizer with its place in the input.
type token struct {
	typ        html.TokenType
	name       string // lower-case tag name
	start, end int
	raw        string
	// loads: a start tag whose (first) style attribute has url() or
	// image-set() in it (or an escape), or whose background or ping has a
	// value: it may load.
	loads bool
	// href: a start tag's (first) href, when it has one.
	href    string
	hasHref bool
}

// xnetTokens tokenizes src with x/net/html, the reference. Like the
// rewriter, and unlike x/net/html's default, it reads <noscript> content as
// markup (NextIsNotRawText after each <noscript> start tag). What follows
// the last token (an unfinished tag) is an ErrorToken.
//
// In SVG and MathML the parser reads markup where the tokenizer alone would
// read raw text (x/net/html's parser tells its tokenizer so): the parser
// itself says where that is (see foreignRawTags).
func xnetTokens(src []byte) []token {
	z := html.NewTokenizer(bytes.NewReader(src))
	var foreign map[int]bool
	if hasForeign(src) {
		foreign = foreignRawTags(src)
	}
	var toks []token
	off := 0
	for {
		tt := z.Next()
		raw := z.Raw()
		if tt == html.ErrorToken {
			if len(raw) > 0 {
				toks = append(toks, token{typ: tt, start: off, end: off + len(raw), raw: string(raw)})
			}
			return toks
		}
		t := token{typ: tt, start: off, end: off + len(raw), raw: string(raw)}
		off = t.end
		switch tt {
		case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
			name, more := z.TagName()
			t.name = string(name)
			for style, background := false, false; more; {
				var k, v []byte
				k, v, more = z.TagAttr()
				switch {
				case string(k) == "style" && !style, presentation.has(attrOf(k)):
					style = style || string(k) == "style"
					lv := strings.ToLower(string(v)) // a superset of what loads: escapes may spell a url(
					t.loads = t.loads || strings.Contains(lv, "url(") || strings.Contains(lv, "image-set(") || strings.Contains(lv, `\`)
				case string(k) == "background" && !background, string(k) == "ping":
					background = background || string(k) == "background"
					t.loads = t.loads || len(v) > 0 // (a superset of what the rewriter judges)
				case string(k) == "href" && !t.hasHref:
					t.href, t.hasHref = string(v), true
				}
			}
			// (The rewriter's approximation, documented in foreign.go: an
			// SVG or MathML script's or style's content stays raw text
			// unless its tag closed itself.)
			if tt != html.EndTagToken && (t.name == "noscript" || foreign[t.start] &&
				(tt == html.SelfClosingTagToken || t.name != "script" && t.name != "style")) {
				z.NextIsNotRawText()
			}
		}
		toks = append(toks, t)
	}
}

// tagSpan is a tag's place in the input, as the rewriter traces it.
type tagSpan struct {
	end         bool
	start, stop int64
}

func (s tagSpan) String() string {
	kind := "start"
	if s.end {
		kind = "end"
	}
	return fmt.Sprintf("%s[%d:%d]", kind, s.start, s.stop)
}

// xnetTags is every complete start and end tag x/net/html finds.
func xnetTags(toks []token) []tagSpan {
	var tags []tagSpan
	for _, t := range toks {
		switch t.typ {
		case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
			tags = append(tags, tagSpan{t.typ == html.EndTagToken, int64(t.start), int64(t.end)})
		}
	}
	return tags
}

// traced rewrites src in one write and returns the output with the tags the
// rewriter found.
func traced(src []byte, opt Options) ([]byte, []tagSpan) {
	var out bytes.Buffer
	var tags []tagSpan
	r := New(&out, opt)
	r.trace = func(end bool, start, stop int64) { tags = append(tags, tagSpan{end, start, stop}) }
	r.Write(src)
	r.Close()
	return out.Bytes(), tags
}

// expectInjected is src with early and hook where the package documents
// them, placed by x/net/html's reading of src. A tag left unfinished at the
// end counts once its name is complete: the rewriter cannot wait for an end
// that may never come (and browsers drop such a tag).
func expectInjected(src []byte, toks []token, early, hook string) string {
	e, h := -1, -1
	baseSeen := false
	for _, t := range toks {
		if t.typ == html.ErrorToken {
			if long, ok := longNameAtEnd(t); ok && e < 0 {
				// The rewriter knows a name longer than any it looks for
				// is none of them once it has read that much of it.
				t = long
			} else {
				t = unfinishedTag(t)
			}
		}
		switch t.typ {
		case html.StartTagToken, html.SelfClosingTagToken:
			switch t.name {
			case "head":
				if e < 0 {
					e = t.end
				}
			case "script", "link", "style":
				if e < 0 {
					e = t.start
				}
			case "body":
				if e < 0 {
					e = t.start
				}
				if h < 0 {
					h = t.end
				}
			case "html", "meta", "title":
			case "base":
				// Both go in front of the first base with an href, when it
				// names a host. (Its href is given to ParseBase as written,
				// with x/net/html's decoding of references undone.) An
				// oversized one before it takes them in front whatever it
				// names: its href may come too late to be read in time.
				if !baseSeen && len(t.raw) > TagLimit && h < 0 {
					h = t.start
				}
				if t.hasHref && !baseSeen {
					baseSeen = true
					if _, ok := catalog.ParseBase([]byte(strings.ReplaceAll(t.href, "&", "&amp;"))); ok && h < 0 {
						h = t.start
					}
				}
			default: // any other start tag ends a head left out
				if e < 0 {
					e = t.start
				}
			}
		case html.EndTagToken:
			if t.name == "head" && h < 0 {
				h = t.start
			}
		}
	}
	if h < 0 {
		h = len(src)
	}
	if e < 0 || e > h {
		e = h
	}
	return string(src[:e]) + early + string(src[e:h]) + hook + string(src[h:])
}

// longNameAtEnd reads an unfinished start tag whose name runs to the end
// of the input and is longer than the rewriter reads ahead
// (maxForeignName): the rewriter acts on it as a start tag of some other
// element, though browsers drop it.
func longNameAtEnd(t token) (token, bool) {
	raw := strings.TrimPrefix(t.raw, "<")
	if !strings.HasPrefix(t.raw, "<") || len(raw) <= maxForeignName || !isAlpha(raw[0]) || strings.ContainsAny(raw, " \t\n\f\r/>") {
		return token{}, false
	}
	t.typ, t.name = html.StartTagToken, strings.ToLower(raw)
	return t, true
}

// unfinishedTag reads the type and name of an unfinished tag whose name is
// complete.
func unfinishedTag(t token) token {
	raw := strings.TrimPrefix(t.raw, "<")
	t.typ = html.StartTagToken
	if strings.HasPrefix(raw, "/") {
		t.typ = html.EndTagToken
		raw = raw[1:]
	}
	n := strings.IndexAny(raw, " \t\n\f\r/>")
	if !strings.HasPrefix(t.raw, "<") || n <= 0 || !isAlpha(raw[0]) {
		return token{}
	}
	name := []byte(raw[:n])
	for i, c := range name {
		name[i] = lower(c) // ASCII only, as x/net/html
	}
	t.name = string(name)
	return t
}

// sameOutsideJudged checks that out, the rewrite of in, tokenizes like in,
// token for token and byte for byte, except for the start tags of elements
// that load something of their own or may load an image from their style or
// background (same name), @import renames in style text and TailPoison at the
// end of an oversized script's text.
func sameOutsideJudged(in, out []token) error {
	if len(in) != len(out) {
		return fmt.Errorf("%d tokens in, %d out", len(in), len(out))
	}
	for k, a := range in {
		b := out[k]
		judged := isStart(a) && isStart(b) && (classify([]byte(a.name)).readsMark() || a.loads)
		// x/net/html may call a judged tag self-closing only while a
		// duplicate attribute is in it (<img style src=0 style=&/>), which
		// renaming takes away; the rewriter never adds or drops a '/'.
		if a.typ != b.typ && !judged || a.name != b.name {
			return fmt.Errorf("token %d: %v %q became %v %q", k, a.typ, a.raw, b.typ, b.raw)
		}
		if judged {
			continue
		}
		// An oversized start tag left unfinished at the end goes out as it
		// streams, judged before its end is known; browsers drop such a
		// tag, so what changed in it shows nowhere.
		if a.typ == html.ErrorToken && len(a.raw) > TagLimit && unfinishedTag(a).typ == html.StartTagToken {
			continue
		}
		inStyle := k > 0 && isStart(in[k-1]) && in[k-1].name == "style"
		if inStyle && a.typ == html.TextToken && unimport(a.raw) == unimport(b.raw) {
			continue
		}
		// The text of a script whose start tag is too long to change may
		// end in TailPoison (see oversized.go).
		inOversizedScript := k > 0 && isStart(in[k-1]) && in[k-1].name == "script" && len(in[k-1].raw) > TagLimit
		if inOversizedScript && a.typ == html.TextToken && b.raw == a.raw+TailPoison {
			continue
		}
		// Speculation rules may have their document rules narrowed.
		inRules := k > 0 && isStart(in[k-1]) && in[k-1].name == "script" && isRulesScript(in[k-1].raw)
		if inRules && a.typ == html.TextToken && withRulesNarrowed(in[k-1].raw+a.raw) == in[k-1].raw+b.raw {
			continue
		}
		if a.raw != b.raw {
			return fmt.Errorf("token %d: %q became %q", k, a.raw, b.raw)
		}
	}
	return nil
}

func isStart(t token) bool {
	return t.typ == html.StartTagToken || t.typ == html.SelfClosingTagToken
}

// unimport undoes what neutraliseCSS and the CSS tail insert.
func unimport(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, string(cssRename), ""), string(cssArgRename), "")
}

// rawTextNames are the elements whose content the tokenizer alone reads as
// raw text.
var rawTextNames = map[string]bool{"script": true, "style": true, "title": true, "textarea": true,
	"xmp": true, "iframe": true, "noembed": true, "noframes": true, "plaintext": true}

// rawTextStart finds the text of a start tag whose element's content the
// tokenizer alone reads as raw text: "<", the name, and what ends a name.
var rawTextStart = regexp.MustCompile(`(?i)<(script|style|title|textarea|xmp|iframe|noembed|noframes|plaintext)[\t\n\f\r />]`)

// foreignRawTags returns the offsets in src of the start tags of raw-text
// elements that x/net/html's parser makes SVG or MathML elements. It
// parses src once, each such name in it (tag or not) marked by an unquoted
// attribute, which changes no tree where it lands in text, a comment or
// another tag, and looks up the namespace of each element marked.
func foreignRawTags(src []byte) map[int]bool {
	var doc []byte
	var offs []int
	prev := 0
	for _, m := range rawTextStart.FindAllIndex(src, -1) {
		nameEnd := m[1] - 1
		doc = append(doc, src[prev:nameEnd]...)
		doc = append(doc, " data-xnet-probe="...)
		doc = strconv.AppendInt(doc, int64(len(offs)), 10)
		doc = append(doc, ' ')
		offs = append(offs, m[0])
		prev = nameEnd
	}
	doc = append(doc, src[prev:]...)
	root, err := html.ParseWithOptions(bytes.NewReader(doc), html.ParseOptionEnableScripting(false))
	if err != nil {
		return nil
	}
	foreign := map[int]bool{}
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Namespace != "" && rawTextNames[n.Data] {
			for _, a := range n.Attr {
				if k, err := strconv.Atoi(a.Val); a.Key == "data-xnet-probe" && err == nil && k < len(offs) {
					foreign[offs[k]] = true
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(root)
	return foreign
}

// moreMarkupInForeign reports whether the rewriter's tags differ from
// x/net/html's parser's only as foreign.go allows: in a page with SVG or
// MathML, it may read as markup what the parser reads as raw text (it
// finds every tag the parser does, and more), never the other way round.
func moreMarkupInForeign(src []byte, got, want []tagSpan) bool {
	if !hasForeign(src) {
		return false
	}
	k := 0
	for _, g := range got {
		if k < len(want) && g == want[k] {
			k++
		}
	}
	return k == len(want)
}

// hasForeign reports whether src may hold SVG or MathML.
func hasForeign(src []byte) bool {
	lsrc := bytes.ToLower(src)
	return bytes.Contains(lsrc, []byte("<svg")) || bytes.Contains(lsrc, []byte("<math"))
}
