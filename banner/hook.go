package banner

import (
	"encoding/json"
	"fmt"
	"html"
	"strconv"

	"github.com/consentgate/consentgate/consent/policy"
)

// PurposeView is a purpose as the banner shows it.
type PurposeView struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Required    bool   `json:"required,omitempty"`
}

// Theme is what operators may set about the banner's look. Colours are
// validated CSS hex colours (see ValidColor); the banner applies them as
// custom properties, never as markup.
type Theme struct {
	Position   string `json:"position,omitempty"`
	Background string `json:"background,omitempty"`
	Text       string `json:"text,omitempty"`
	Accent     string `json:"accent,omitempty"`
}

// Page is what the banner needs that is the same for every request of one
// language.
type Page struct {
	Prefix        string `json:"prefix"`
	PrivacyPolicy string `json:"privacy_policy,omitempty"`
	Lang          string `json:"lang"`
	// Dir is "rtl" for a right-to-left Lang (see Dir).
	Dir   string `json:"dir,omitempty"`
	Texts Texts  `json:"texts"`
	// TextLangs names, by key, the language of the texts written in
	// another language than Lang (see Locales.TextLang).
	TextLangs map[string]string `json:"text_langs,omitempty"`
	Purposes  []PurposeView     `json:"purposes"`
	// Details is the URL of the second layer's vendor list.
	Details     string       `json:"details,omitempty"`
	Theme       *Theme       `json:"theme,omitempty"`
	ConsentMode *ConsentMode `json:"consent_mode,omitempty"`
	// ReloadOnGrant: the page's enforced policy admits only the vendors
	// granted when it was served (csp enforce), so a choice that grants
	// more reloads the page instead of activating in place.
	ReloadOnGrant bool `json:"reload_on_grant,omitempty"`
}

// State is the visitor's consent as the banner sees it; the signed cookie
// itself is HttpOnly and never reaches scripts.
type State struct {
	Decided       bool
	Purposes      []PurposeState // in policy order
	Vendors       []string       // allowed one by one
	PolicyVersion string
	Signal        bool // GPC or DNT was honoured
	// Changed says what changed since the visitor's earlier choice, made
	// under another policy version; empty otherwise.
	Changed string
}

// AllowsAnything reports whether the state allows more than the strictly
// necessary: a purpose or a vendor, so that there is something to withdraw.
func (s State) AllowsAnything() bool {
	for _, p := range s.Purposes {
		if p.Granted && p.ID != policy.Necessary {
			return true
		}
	}
	return len(s.Vendors) > 0
}

// AllowsEverything reports whether every purpose is granted.
func (s State) AllowsEverything() bool {
	for _, p := range s.Purposes {
		if !p.Granted {
			return false
		}
	}
	return true
}

// PurposeState is one purpose's grant.
type PurposeState struct {
	ID      string
	Granted bool
}

// Hook renders the markup injected before </head>: the stylesheet, a JSON
// config block and the deferred script. Everything but the state and the
// nonce is rendered once. It is XML as well as HTML (a valued defer, a link
// that closes itself), as an XHTML page is parsed as XML; and the config
// comes before the script, as Chromium's XML parser runs a deferred script
// as soon as it has it.
type Hook struct {
	link, config, script []byte // link and script open where a nonce may follow
}

// NewHook prepares the hook for one language.
func NewHook(a *Assets, p Page) (*Hook, error) {
	page, err := json.Marshal(p) // escapes <, > and & so the JSON cannot end the script element
	if err != nil {
		return nil, err
	}
	pre := html.EscapeString(p.Prefix)
	h := &Hook{
		link:   []byte(`<link rel="stylesheet" href="` + pre + a.Style.Name + `"`),
		script: []byte(`}</script><script defer="" src="` + pre + a.Script.Name + `"`),
	}
	h.config = append(h.config, ` /><script type="application/json" id="consentgate-config">`...)
	h.config = append(h.config, page[:len(page)-1]...) // the page object, still open
	h.config = append(h.config, `,"state":`...)
	return h, nil
}

// Append appends the hook for one request's state to dst; nonce is the
// page's CSP nonce or empty.
func (h *Hook) Append(dst []byte, s State, nonce string) []byte {
	dst = append(dst, h.link...)
	dst = appendNonce(dst, nonce)
	dst = append(dst, h.config...)
	dst = AppendState(dst, s)
	dst = append(dst, h.script...)
	dst = appendNonce(dst, nonce)
	return append(dst, "></script>"...)
}

// AppendState appends the state as the JSON object
// {"decided":..,"purposes":{..},"vendors":[..],"policy_version":..} without
// reflection: it is built for every page view and served by the state
// endpoint.
func AppendState(dst []byte, s State) []byte {
	dst = append(dst, `{"decided":`...)
	dst = strconv.AppendBool(dst, s.Decided)
	dst = append(dst, `,"purposes":{`...)
	for i, p := range s.Purposes {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendPlainString(dst, p.ID)
		dst = append(dst, ':')
		dst = strconv.AppendBool(dst, p.Granted)
	}
	dst = append(dst, `},"vendors":[`...)
	for i, id := range s.Vendors {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendPlainString(dst, id)
	}
	dst = append(dst, `],"policy_version":`...)
	dst = appendPlainString(dst, s.PolicyVersion)
	if s.Signal {
		dst = append(dst, `,"signal":true`...)
	}
	if s.Changed != "" {
		text, _ := json.Marshal(s.Changed) // operator and vendor names: escaped for a script element
		dst = append(dst, `,"changed":`...)
		dst = append(dst, text...)
	}
	return append(dst, '}')
}

// appendPlainString appends s as a JSON string. Ids and versions are
// validated plain ASCII that needs no escaping, so they are copied as they
// are; anything else is escaped for a script element.
func appendPlainString(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			text, _ := json.Marshal(s)
			return append(dst, text...)
		}
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}

// Positions the banner can take.
var positions = map[string]bool{"": true, "bottom": true, "top": true, "center": true, "bottom-left": true, "bottom-right": true}

// Validate checks the position and that every colour is a CSS hex colour
// (#rgb, #rgba, #rrggbb or #rrggbbaa): nothing else reaches the page's CSS.
func (t *Theme) Validate() error {
	if !positions[t.Position] {
		return fmt.Errorf("banner position %q: use bottom, top, center, bottom-left or bottom-right", t.Position)
	}
	for _, c := range []struct{ name, value string }{{"background", t.Background}, {"text", t.Text}, {"accent", t.Accent}} {
		if c.value != "" && !ValidColor(c.value) {
			return fmt.Errorf("banner %s colour %q: use a hex colour such as #1a1a1a", c.name, c.value)
		}
	}
	return nil
}

// ValidColor reports whether s is a CSS hex colour.
func ValidColor(s string) bool {
	if len(s) < 2 || s[0] != '#' {
		return false
	}
	switch len(s) - 1 {
	case 3, 4, 6, 8:
	default:
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i] | 0x20
		if !('0' <= s[i] && s[i] <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
