package catalog

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// The purposes of the built-in catalogue. Operators may declare further ones.
const (
	PurposeNecessary  = "necessary"
	PurposeFunctional = "functional"
	PurposeAnalytics  = "analytics"
	PurposeMarketing  = "marketing"
	PurposeSocial     = "social" // embedded media and social plugins
)

// Vendor is one third-party service.
type Vendor struct {
	ID      string `json:"id"`
	Name    string `json:"name,omitempty"`
	Company string `json:"company,omitempty"` // legal name
	Country string `json:"country,omitempty"` // ISO 3166-1 alpha-2
	Purpose string `json:"purpose,omitempty"`
	// PolicyURL is the vendor's privacy policy.
	PolicyURL string `json:"policy_url,omitempty"`
	// Description says what the vendor does with visitor data, by language tag.
	Description map[string]string `json:"description,omitempty"`
	Cookies     []Cookie          `json:"cookies,omitempty"`
	Match       Rules             `json:"match,omitzero"`
	// ConsentMode marks Google tags that honour Consent Mode v2: in its
	// advanced mode they load before consent and run denied.
	ConsentMode bool `json:"consent_mode,omitempty"`
	// ServiceWorkers are the paths of the vendor's service worker scripts
	// that the site hosts on its own origin (see OwnsWorker).
	ServiceWorkers []string `json:"service_workers,omitempty"`
}

// Cookie is a cookie a vendor is known to set.
type Cookie struct {
	Name string `json:"name"`
	// Prefix means Name is a prefix, as in "_ga_" for "_ga_ABC123".
	Prefix bool `json:"prefix,omitempty"`
	// Lifetime is "session" or a count and unit: "30min", "1d", "13mo", "2y".
	Lifetime string `json:"lifetime,omitempty"`
	HTTPOnly bool   `json:"http_only,omitempty"`
	// Domain is the vendor's domain for a third-party cookie, empty for a
	// cookie on the site's own domain (see the package documentation).
	Domain string `json:"domain,omitempty"`
}

// Rules say how a vendor is recognised in a page. URLs applies to every kind
// of element, the others to one kind each. See the package documentation for
// the pattern syntax.
type Rules struct {
	URLs   []string `json:"urls,omitempty"`
	Script []string `json:"script,omitempty"`
	Frame  []string `json:"frame,omitempty"`
	Image  []string `json:"image,omitempty"`
	Link   []string `json:"link,omitempty"`
	// Inline lists substrings of inline script text.
	Inline []string `json:"inline,omitempty"`
}

// minInline is the shortest inline signature: shorter ones match by accident.
const minInline = 6

var (
	// idRE agrees with the policy package's ids, which operators also use.
	idRE       = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)
	countryRE  = regexp.MustCompile(`^[A-Z]{2}$`)
	langRE     = regexp.MustCompile(`^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$`)
	lifetimeRE = regexp.MustCompile(`^(session|[1-9][0-9]*(s|min|h|d|w|mo|y))$`)
	// cookieNameRE is an RFC 6265 token.
	cookieNameRE = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
)

// Validate checks a vendor on its own: id, name and purpose are required,
// everything else is checked when present.
func (v Vendor) Validate() error {
	if err := v.validate(); err != nil {
		return fmt.Errorf("vendor %q: %w", v.ID, err)
	}
	return nil
}

func (v Vendor) validate() error {
	switch {
	case !idRE.MatchString(v.ID):
		return errors.New("id must be 1-64 lower-case letters, digits, '-' or '_'")
	case v.Name == "":
		return errors.New("name is empty")
	case !idRE.MatchString(v.Purpose):
		return fmt.Errorf("purpose %q is not a purpose id", v.Purpose)
	case v.Country != "" && !countryRE.MatchString(v.Country):
		return fmt.Errorf("country %q is not an ISO 3166-1 alpha-2 code", v.Country)
	}
	if v.PolicyURL != "" {
		if u, err := url.Parse(v.PolicyURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return fmt.Errorf("policy_url %q is not an absolute http(s) URL", v.PolicyURL)
		}
	}
	for lang, text := range v.Description {
		if !langRE.MatchString(lang) || text == "" {
			return fmt.Errorf("description %q: needs a language tag and a text", lang)
		}
	}
	for i, c := range v.Cookies {
		if err := c.validate(); err != nil {
			return fmt.Errorf("cookies[%d] %q: %w", i, c.Name, err)
		}
	}
	for i, p := range v.ServiceWorkers {
		if err := checkWorkerPattern(p); err != nil {
			return fmt.Errorf("service_workers[%d] %q: %w", i, p, err)
		}
	}
	return v.Match.validate()
}

func (c Cookie) validate() error {
	if !cookieNameRE.MatchString(c.Name) {
		return errors.New("name is not a cookie name")
	}
	if c.Lifetime != "" && !lifetimeRE.MatchString(c.Lifetime) {
		return fmt.Errorf("lifetime %q: want \"session\" or a number with s, min, h, d, w, mo or y", c.Lifetime)
	}
	if c.Domain != "" && !validHost(c.Domain) {
		return fmt.Errorf("domain %q is not a lower-case host name", c.Domain)
	}
	return nil
}

func (r Rules) validate() error {
	for _, l := range r.lists() {
		for i, p := range l.patterns {
			if _, err := parsePattern(p); err != nil {
				return fmt.Errorf("match.%s[%d] %q: %w", l.name, i, p, err)
			}
		}
	}
	for i, s := range r.Inline {
		if len(s) < minInline {
			return fmt.Errorf("match.inline[%d] %q: shorter than %d bytes", i, s, minInline)
		}
	}
	return nil
}

// ruleList is one list of URL patterns and the kinds it applies to.
type ruleList struct {
	name     string
	kinds    kindSet
	patterns []string
}

func (r Rules) lists() [5]ruleList {
	return [...]ruleList{
		{"urls", allKinds, r.URLs},
		{"script", kindBit(KindScript), r.Script},
		{"frame", kindBit(KindFrame), r.Frame},
		{"image", kindBit(KindImage), r.Image},
		{"link", kindBit(KindLink), r.Link},
	}
}

// HostPatterns lists the URL patterns that name a host, whatever element
// kind they are for, each once, in declaration order: all but "*/suffix",
// which matches first-party and relative URLs too.
func (r Rules) HostPatterns() []string {
	var out []string
	for _, l := range r.lists() {
		for _, p := range l.patterns {
			if !strings.HasPrefix(p, "*/") && !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	return out
}

// kindSet is a set of Kinds.
type kindSet uint8

const allKinds kindSet = 1<<numKinds - 1

func kindBit(k Kind) kindSet { return 1 << k }
