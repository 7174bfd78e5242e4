package rewrite

import (
	"bytes"

	"github.com/consentgate/consentgate/consent/catalog"
)

// Speculation rules. <script type="speculationrules"> asks the browser to
// prefetch or prerender URLs, as a <link rel=prefetch> or rel=prerender
// does, with no element naming them: {"prefetch": [{"source": "list",
// "urls": ["https://…"]}]}. Each URL in a rule's "urls" is judged as such a
// link's href (against the page's base), and a blocked one blocks the
// element, as a blocked src does: the rules wait for consent and are put
// back (as they were, but for narrowed document rules). Document rules
// ("where") name no URL: those that could pick another host's links are
// narrowed to the site's own paths (documentrules.go), in a text of up to
// HoldLimit. A longer text is read on its held prefix, and its document
// rules stay as they are.

// judgeSpeculationRules judges the URLs speculation rules list, until one
// blocks: its verdict goes into v.
func (r *Rewriter) judgeSpeculationRules(text []byte, v *Verdict) {
	eachJSONString(text, func(in []jsonLevel, s string) bool {
		if n := len(in); n >= 2 && !in[n-1].object && in[n-2].object && in[n-2].key == "urls" {
			r.judgeURL(catalog.KindLink, []byte(s), v)
		}
		return !v.Block
	})
}

// narrowInlineRules is the text of a rules script with its document rules
// narrowed (escaped so that no "<" can end the script), or nil if there is
// nothing to narrow or the text is not JSON.
func (r *Rewriter) narrowInlineRules(text []byte) []byte {
	if !bytes.Contains(text, []byte("where")) && !bytes.Contains(text, []byte("document")) &&
		!bytes.Contains(text, []byte(`\`)) { // (an escape could spell either)
		return nil // no document rule: most rules are lists
	}
	if r.opt.XML {
		text = unwrapCDATA(text)
	}
	set, ok := decodeRules(text)
	if !ok || !narrowDocumentRules(set) {
		return nil
	}
	out, _ := encodeRules(set, true)
	return out
}
