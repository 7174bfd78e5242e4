package banner

import (
	"encoding/json"
	"html"
	"slices"
)

// Early renders what goes first into the head, before any page script: the
// shim that holds trackers back on the client, told what is granted, and,
// with Google Consent Mode on, the gtag consent default (and the update for
// a visitor who has decided, so Google tags never see a wrong state).
type Early struct {
	shimTag     []byte // `<script src="…shim.x.js"`, still open
	consentMode *ConsentMode
}

// NewEarly prepares the early markup; cm is nil when Consent Mode is off.
func NewEarly(prefix string, a *Assets, cm *ConsentMode) *Early {
	tag := []byte(`<script src="`)
	tag = append(tag, html.EscapeString(prefix)...)
	tag = append(tag, a.Shim.Name...)
	tag = append(tag, '"')
	return &Early{shimTag: tag, consentMode: cm}
}

// Append appends the early markup for one request. nonce is the page's CSP
// nonce, or empty; it must be a valid nonce (see ValidNonce).
func (e *Early) Append(dst []byte, s State, nonce string) []byte {
	if e.consentMode != nil {
		dst = append(dst, "<script"...)
		dst = appendNonce(dst, nonce)
		dst = append(dst, '>')
		dst = e.consentMode.AppendScript(dst, s)
		dst = append(dst, "</script>"...)
	}
	dst = append(dst, e.shimTag...)
	dst = appendNonce(dst, nonce)
	dst = append(dst, ` data-cg-granted="`...)
	first := true
	for _, p := range s.Purposes {
		if p.Granted {
			if !first {
				dst = append(dst, ' ')
			}
			dst = append(dst, p.ID...) // validated ids: no escaping needed
			first = false
		}
	}
	dst = append(dst, `" data-cg-vendors="`...)
	for i, id := range s.Vendors {
		if i > 0 {
			dst = append(dst, ' ')
		}
		dst = append(dst, id...)
	}
	return append(dst, `"></script>`...)
}

func appendNonce(dst []byte, nonce string) []byte {
	if nonce == "" {
		return dst
	}
	dst = append(dst, ` nonce="`...)
	dst = append(dst, nonce...)
	return append(dst, '"')
}

// ValidNonce reports whether a CSP nonce can be copied into an attribute as
// is: base64 (standard or URL-safe) characters only.
func ValidNonce(n string) bool {
	if n == "" || len(n) > 256 {
		return false
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '+' || c == '/' || c == '=' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Google Consent Mode v2 modes.
const (
	// ConsentModeBasic keeps Google tags blocked until consent; the default
	// and updates only tell them what was granted once they run.
	ConsentModeBasic = "basic"
	// ConsentModeAdvanced lets Google tags load before consent, denied, so
	// they send cookieless pings.
	ConsentModeAdvanced = "advanced"
)

// ConsentMode maps the visitor's purposes to Google Consent Mode v2 types.
type ConsentMode struct {
	Mode string `json:"mode"`
	// Map is consent type → purpose; a type is granted when its purpose is.
	Map map[string]string `json:"map"`
}

// DefaultConsentModeMap maps every Consent Mode v2 type to a default
// purpose: advertising types to marketing, analytics to analytics, the rest
// to functional, and security to necessary (granted in every update).
func DefaultConsentModeMap() map[string]string {
	return map[string]string{
		"ad_storage":              "marketing",
		"ad_user_data":            "marketing",
		"ad_personalization":      "marketing",
		"analytics_storage":       "analytics",
		"functionality_storage":   "functional",
		"personalization_storage": "functional",
		"security_storage":        "necessary",
	}
}

// AppendScript appends the inline script text: dataLayer and gtag as
// Google's snippet defines them, the default with every type denied (as
// the issue and Google's basic mode ask; security_storage follows the
// necessary purpose in the updates), and the update for a decided visitor.
func (cm *ConsentMode) AppendScript(dst []byte, s State) []byte {
	dst = append(dst, `window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments)}gtag("consent","default",`...)
	dst = cm.appendTypes(dst, func(string) bool { return false }, true)
	dst = append(dst, ");"...)
	if cm.Mode == ConsentModeAdvanced {
		dst = append(dst, `gtag("set","ads_data_redaction",true);`...)
	}
	if s.Decided {
		granted := map[string]bool{}
		for _, p := range s.Purposes {
			granted[p.ID] = p.Granted
		}
		dst = append(dst, `gtag("consent","update",`...)
		dst = cm.appendTypes(dst, func(purpose string) bool { return granted[purpose] }, false)
		dst = append(dst, ");"...)
	}
	return dst
}

func (cm *ConsentMode) appendTypes(dst []byte, granted func(string) bool, wait bool) []byte {
	types := make([]string, 0, len(cm.Map))
	for t := range cm.Map {
		types = append(types, t)
	}
	slices.Sort(types)
	dst = append(dst, '{')
	for _, t := range types {
		key, _ := json.Marshal(t)
		dst = append(dst, key...)
		if granted(cm.Map[t]) {
			dst = append(dst, `:"granted",`...)
		} else {
			dst = append(dst, `:"denied",`...)
		}
	}
	if wait {
		dst = append(dst, `"wait_for_update":500`...)
	} else if len(types) > 0 {
		dst = dst[:len(dst)-1]
	}
	return append(dst, '}')
}
