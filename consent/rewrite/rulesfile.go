package rewrite

import (
	"bytes"
	"encoding/json"
	"io"

	"github.com/consentgate/consentgate/consent/catalog"
)

// Speculation rules files. A page's Speculation-Rules header names files
// of speculation rules (application/speculationrules+json) that the browser
// fetches and acts on as it does on a <script type="speculationrules">.
// Such a file cannot wait for consent and be put back as an element is, so
// each URL a rule lists that this visitor's choice blocks is taken out of
// the file, and the rest of it stays: the site's own prefetches go on. The
// file is read whole, up to RulesLimit; one that is longer, or is not JSON
// (a browser ignores that), becomes an empty rule set, since what it would
// have the browser fetch cannot all be judged. As in the page, relative
// URLs count as the site's own, and document rules are narrowed to the
// site's own paths (documentrules.go).

// RulesLimit is the longest speculation rules file that is read; a longer
// one is answered with an empty rule set.
const RulesLimit = 64 << 10

// emptyRules is a rule set with no rules.
var emptyRules = []byte("{}")

// byteOrderMark may lead a rules file; the browser drops it as it decodes.
var byteOrderMark = []byte("\xEF\xBB\xBF")

// holdRules takes more of a speculation rules file (Options.Rules).
func (r *Rewriter) holdRules(p []byte) {
	if r.rulesOver {
		return
	}
	if len(r.rules)+len(p) > RulesLimit {
		r.rules, r.rulesOver = nil, true
		return
	}
	r.rules = append(r.rules, p...)
}

// closeRules emits the speculation rules file held, without the URLs this
// visitor's choice blocks.
func (r *Rewriter) closeRules() {
	text := r.rules
	r.rules = nil
	if r.rulesOver {
		r.oversized++
		r.emit(emptyRules)
		return
	}
	out, ok := r.filterRules(bytes.TrimPrefix(text, byteOrderMark))
	switch {
	case !ok:
		r.emit(emptyRules)
	case out == nil:
		r.emit(text) // nothing blocked: the file as it was
	default:
		r.emit(out)
	}
}

// filterRules judges every URL the rules in text list and narrows their
// document rules (documentrules.go); if that changes anything, it returns
// the rule set without the blocked URLs (re-encoded: key order and spacing
// do not matter to a browser), else nil. It reports false if text is not
// one JSON value.
func (r *Rewriter) filterRules(text []byte) ([]byte, bool) {
	set, ok := decodeRules(text)
	if !ok {
		return nil, false
	}
	removed := 0
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, sub := range v {
				if urls, ok := sub.([]any); ok && k == "urls" {
					kept := urls[:0]
					for _, u := range urls {
						if s, ok := u.(string); ok && r.blocksRuleURL(s) {
							removed++
							continue
						}
						kept = append(kept, u)
						walk(u) // not a URL, but it may hold lists
					}
					v[k] = kept
					continue
				}
				walk(sub)
			}
		case []any:
			for _, sub := range v {
				walk(sub)
			}
		}
	}
	walk(set)
	if !narrowDocumentRules(set) && removed == 0 {
		return nil, true
	}
	r.blocked += removed
	return encodeRules(set, false)
}

// decodeRules decodes a rule set, numbers as they were written; false if
// text is not one JSON value (more after it is not JSON to a browser
// either).
func decodeRules(text []byte) (any, bool) {
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.UseNumber()
	var set any
	if err := dec.Decode(&set); err != nil {
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false
	}
	return set, true
}

// encodeRules encodes a rule set; escapeHTML for a script element's text,
// where "<" could end it.
func encodeRules(set any, escapeHTML bool) ([]byte, bool) {
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(escapeHTML)
	if err := enc.Encode(set); err != nil {
		return nil, false
	}
	return bytes.TrimSuffix(out.Bytes(), []byte("\n")), true
}

// blocksRuleURL judges a URL a rule lists as a link's href.
func (r *Rewriter) blocksRuleURL(u string) bool {
	var v Verdict
	r.judgeURL(catalog.KindLink, []byte(u), &v)
	return v.Block
}
