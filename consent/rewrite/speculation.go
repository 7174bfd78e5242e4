package rewrite

import "github.com/consentgate/consentgate/consent/catalog"

// Speculation rules. <script type="speculationrules"> asks the browser to
// prefetch or prerender URLs, as a <link rel=prefetch> or rel=prerender
// does, with no element naming them: {"prefetch": [{"source": "list",
// "urls": ["https://…"]}]}. Each URL in a rule's "urls" is judged as such a
// link's href (against the page's base), and a blocked one blocks the
// element, as a blocked src does: the rules wait for consent and are put
// back as they were. Document rules ("where") are not read: they name
// patterns over the page's links, not URLs. A long text is read on its
// held prefix.

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
