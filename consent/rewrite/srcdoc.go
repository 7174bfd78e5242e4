package rewrite

import (
	"bytes"
	"encoding/base64"
	"io"
	"strings"

	"github.com/consentgate/consentgate/consent/catalog"
)

// judgeSrcdoc judges the document an iframe's srcdoc holds (its references
// decoded), as the frame would load it: the first element in it that the
// judge blocks blocks the whole frame, until that element's vendor or
// purpose is granted.
func (r *Rewriter) judgeSrcdoc(doc []byte) Verdict {
	if _, none := r.judge.(nopJudge); none {
		return Verdict{}
	}
	j := firstBlock{Judge: r.judge}
	nested := r.frameRewriter(io.Discard, Options{Judge: &j})
	nested.Write(doc)
	nested.Close()
	return j.v
}

// frameRewriter returns a Rewriter for a document a frame of this page
// holds. The document falls back on the page's base, but its own first
// <base href> is its base, as in browsers. An over-long srcdoc in it is not
// rewritten in place again but blocks its frame, so that nesting stays
// bounded.
func (r *Rewriter) frameRewriter(w io.Writer, opt Options) *Rewriter {
	opt.OnURL = r.opt.OnURL // the third-party scan sees what the frame loads
	nested := New(w, opt)
	nested.base = r.base
	nested.inFrame = true
	return nested
}

// isFrameURL reports whether attribute id is the URL of the element's
// frame (an iframe's or embed's src, an object's data).
func (r *Rewriter) isFrameURL(id attrID) bool {
	return specs[r.el].kind == catalog.KindFrame && (id == atSrc || id == atData) && specs[r.el].urls.has(id)
}

// judgeDataFrame judges a frame (iframe, embed, object) whose URL is a
// data: URL of a document (see dataHTML), as a srcdoc: browsers load what
// that document names.
func (r *Rewriter) judgeDataFrame(ti *tagInfo) Verdict {
	for _, id := range [...]attrID{atSrc, atData} {
		if !r.isFrameURL(id) || !ti.has.has(id) {
			continue
		}
		// Decoded only when it may be a data: URL (perhaps spelt with a
		// reference): most frame URLs are not, and many have "&amp;" in them.
		v := skipHTMLSpace(ti.val[id])
		if !hasPrefixFold(v, "data") && bytes.IndexByte(v[:min(len(v), len("&#100;ata:"))], '&') < 0 {
			continue
		}
		if doc, ok := dataHTML(attrText(v)); ok {
			return r.judgeSrcdoc(doc)
		}
	}
	return Verdict{}
}

// dataHTML is the document of a data: URL whose type is HTML, XHTML or SVG
// (which a frame loads as a document, scripts and all), decoded from base64
// or percent-encoding, as Fetch reads it.
func dataHTML(u []byte) ([]byte, bool) {
	doc, body, b64, ok := dataHeader(u)
	if !ok || !doc {
		return nil, false
	}
	body = percentDecoded(body)
	if !b64 {
		return body, true
	}
	// Forgiving base64: spaces ignored, padding optional.
	enc := strings.Map(dropSpace, string(body))
	if len(enc)%4 == 0 {
		enc = strings.TrimSuffix(strings.TrimSuffix(enc, "="), "=")
	}
	out, err := base64.RawStdEncoding.DecodeString(enc)
	if err != nil {
		return nil, false // browsers load nothing from it either
	}
	return out, true
}

// dataHeader reads the header of a data: URL: whether its type is one a
// frame loads as a document, what follows the header's ',', and whether
// that is base64. It reports false when u is no data: URL or its header
// does not end in u.
func dataHeader(u []byte) (doc bool, body []byte, b64, ok bool) {
	u = bytes.TrimLeft(u, htmlSpace)
	if !hasPrefixFold(u, "data:") {
		return false, nil, false, false
	}
	header, body, ok := bytes.Cut(u[len("data:"):], []byte(","))
	if !ok {
		return false, nil, false, false
	}
	// ";base64" at the end of the header (spaces around allowed) says how
	// the body is encoded; the rest is the type.
	header = bytes.TrimRight(header, " ")
	if n := len(header) - len("base64"); n >= 0 && hasPrefixFold(header[n:], "base64") {
		if k := bytes.TrimRight(header[:n], " "); len(k) > 0 && k[len(k)-1] == ';' {
			header, b64 = k[:len(k)-1], true
		}
	}
	typ, _, _ := bytes.Cut(header, []byte(";"))
	doc = equalFoldAny(bytes.TrimSpace(typ), []string{"text/html", "application/xhtml+xml", "image/svg+xml"})
	return doc, body, b64, true
}

// percentDecoded decodes %XX escapes, leaving any other '%' as it is.
func percentDecoded(b []byte) []byte {
	if bytes.IndexByte(b, '%') < 0 {
		return b
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] == '%' && i+2 < len(b) && isHex(b[i+1]) && isHex(b[i+2]) {
			out = append(out, unhex(b[i+1])<<4|unhex(b[i+2]))
			i += 2
			continue
		}
		out = append(out, b[i])
	}
	return out
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= lower(c) && lower(c) <= 'f' }

func unhex(c byte) byte {
	if c <= '9' {
		return c - '0'
	}
	return lower(c) - 'a' + 10
}

// dropSpace drops ASCII whitespace, which forgiving base64 ignores.
func dropSpace(c rune) rune {
	if c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r' {
		return -1
	}
	return c
}

// firstBlock asks another Judge and keeps the first verdict that blocks.
type firstBlock struct {
	Judge
	v Verdict
}

func (f *firstBlock) keep(v Verdict) Verdict {
	if v.Block && !f.v.Block {
		f.v = v
	}
	return v
}

func (f *firstBlock) JudgeURL(kind catalog.Kind, url []byte) Verdict {
	return f.keep(f.Judge.JudgeURL(kind, url))
}

func (f *firstBlock) JudgeInline(script []byte) Verdict {
	return f.keep(f.Judge.JudgeInline(script))
}

func (f *firstBlock) JudgePurpose(purpose []byte) Verdict {
	return f.keep(f.Judge.JudgePurpose(purpose))
}
