package caddymodule

import (
	"fmt"
	"html"
	"strings"

	"github.com/consentgate/consentgate/banner"
	"github.com/consentgate/consentgate/consent/policy"
	"github.com/consentgate/consentgate/consent/rewrite"
)

// placeholder returns the srcdoc writer for blocked frames in one language:
// a page naming the vendor and the purpose, escaped twice (as HTML text, then
// as an attribute value) since vendor names come from configuration. Those
// of catalogued vendors are rendered once and cached.
func (h *Handler) placeholder(lang string) func([]byte, rewrite.Verdict) []byte {
	render := h.renderPlaceholder(lang)
	return func(dst []byte, v rewrite.Verdict) []byte {
		if v.Vendor == "" { // page markup (data-consent): not worth caching
			return append(dst, render(v)...)
		}
		key := placeholderKey{lang, v.Vendor, v.Purpose}
		if cached, ok := h.placeholders.Load(key); ok {
			return append(dst, cached.(string)...)
		}
		out := render(v)
		h.placeholders.Store(key, out)
		return append(dst, out...)
	}
}

type placeholderKey struct{ lang, vendor, purpose string }

func (h *Handler) renderPlaceholder(lang string) func(rewrite.Verdict) string {
	return func(v rewrite.Verdict) string { return attrEscaper.Replace(h.placeholderDoc(lang, v)) }
}

// placeholderDoc is the document shown in place of a blocked frame: it
// names the vendor and the purpose.
func (h *Handler) placeholderDoc(lang string, v rewrite.Verdict) string {
	name := v.VendorName
	if name == "" {
		name = v.Vendor
	}
	texts := h.locales.Texts(lang)
	if v.Purpose == policy.Unlisted {
		return h.placeholderHead(lang, "placeholder_unlisted") + html.EscapeString(fmt.Sprintf(texts["placeholder_unlisted"], name)) + "</p>"
	}
	purpose := v.Purpose
	if p, ok := h.policy.Purpose(v.Purpose); ok {
		purpose = banner.PickText(p.Name, lang, h.DefaultLanguage, p.ID)
	}
	text := html.EscapeString(fmt.Sprintf(texts["placeholder"], name, purpose))
	return h.placeholderHead(lang, "placeholder") + text + "</p>"
}

// placeholderHead opens a placeholder that shows the text under key to
// visitors of lang, in the language that text is written in.
func (h *Handler) placeholderHead(lang, key string) string {
	return banner.PlaceholderHeadIn(h.locales.TextLang(lang, key))
}

var attrEscaper = strings.NewReplacer(`&`, "&amp;", `"`, "&quot;", `'`, "&#39;", `<`, "&lt;", `>`, "&gt;")
