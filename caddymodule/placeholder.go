package caddymodule

import (
	"fmt"
	"html"
	"strings"

	"github.com/consentgate/consentgate/consent/rewrite"
)

const placeholderStyle = `<!doctype html><meta charset="utf-8"><style>html,body{height:100%;margin:0}` +
	`body{display:grid;place-items:center;padding:1em;box-sizing:border-box;background:#eee;color:#1a1a1a;` +
	`font:15px/1.4 system-ui,sans-serif;text-align:center}</style><p>`

// placeholder returns the srcdoc writer for blocked frames in one language:
// a page naming the vendor and the purpose, escaped twice (as HTML text, then
// as an attribute value) since vendor names come from configuration.
func (h *Handler) placeholder(lang string) func([]byte, rewrite.Verdict) []byte {
	tmpl := h.locales.Texts(lang)["placeholder"]
	return func(dst []byte, v rewrite.Verdict) []byte {
		name := v.VendorName
		if name == "" {
			name = v.Vendor
		}
		purpose := v.Purpose
		if p, ok := h.policy.Purpose(v.Purpose); ok {
			purpose = pickText(p.Name, lang, h.DefaultLanguage, p.ID)
		}
		text := html.EscapeString(fmt.Sprintf(tmpl, name, purpose))
		doc := placeholderStyle + text + "</p>"
		return append(dst, attrEscaper.Replace(doc)...)
	}
}

var attrEscaper = strings.NewReplacer(`&`, "&amp;", `"`, "&quot;", `'`, "&#39;", `<`, "&lt;", `>`, "&gt;")
