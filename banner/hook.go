package banner

import (
	"encoding/json"
	"html"
	"strconv"
)

// PurposeView is a purpose as the banner shows it.
type PurposeView struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Required    bool   `json:"required,omitempty"`
}

// Page is what the banner needs that is the same for every request of one
// language.
type Page struct {
	Prefix        string        `json:"prefix"`
	PrivacyPolicy string        `json:"privacy_policy,omitempty"`
	Lang          string        `json:"lang"`
	Texts         Texts         `json:"texts"`
	Purposes      []PurposeView `json:"purposes"`
}

// State is the visitor's consent as the banner sees it; the signed cookie
// itself is HttpOnly and never reaches scripts.
type State struct {
	Decided       bool
	Purposes      []PurposeState // in policy order
	PolicyVersion string
	Signal        bool // GPC or DNT was honoured
}

// PurposeState is one purpose's grant.
type PurposeState struct {
	ID      string
	Granted bool
}

// Hook renders the markup injected into pages: the stylesheet, the deferred
// script and a JSON config block. Everything but the state is rendered once.
type Hook struct {
	prefix []byte
}

// NewHook prepares the hook for one language.
func NewHook(a *Assets, p Page) (*Hook, error) {
	page, err := json.Marshal(p) // escapes <, > and & so the JSON cannot end the script element
	if err != nil {
		return nil, err
	}
	pre := html.EscapeString(p.Prefix)
	var b []byte
	b = append(b, `<link rel="stylesheet" href="`...)
	b = append(b, pre...)
	b = append(b, a.Style.Name...)
	b = append(b, `"><script defer src="`...)
	b = append(b, pre...)
	b = append(b, a.Script.Name...)
	b = append(b, `"></script><script type="application/json" id="consentgate-config">`...)
	b = append(b, page[:len(page)-1]...) // the page object, still open
	b = append(b, `,"state":`...)
	return &Hook{prefix: b}, nil
}

// Append appends the hook for one request's state to dst.
func (h *Hook) Append(dst []byte, s State) []byte {
	dst = append(dst, h.prefix...)
	dst = AppendState(dst, s)
	return append(dst, "}</script>"...)
}

// AppendState appends the state as the JSON object
// {"decided":..,"purposes":{..},"policy_version":..} without reflection: it is
// built for every page view and served by the state endpoint.
func AppendState(dst []byte, s State) []byte {
	dst = append(dst, `{"decided":`...)
	dst = strconv.AppendBool(dst, s.Decided)
	dst = append(dst, `,"purposes":{`...)
	for i, p := range s.Purposes {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = strconv.AppendQuote(dst, p.ID) // ids are validated plain ASCII
		dst = append(dst, ':')
		dst = strconv.AppendBool(dst, p.Granted)
	}
	dst = append(dst, `},"policy_version":`...)
	dst = strconv.AppendQuote(dst, s.PolicyVersion)
	if s.Signal {
		dst = append(dst, `,"signal":true`...)
	}
	return append(dst, '}')
}
