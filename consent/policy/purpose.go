// Package policy holds what a site asks its visitors about: the purposes, the
// vendors serving each purpose, the version of that policy, and the per-request
// decision of what a visitor has granted.
package policy

import (
	"fmt"
	"regexp"
)

// Necessary is the purpose that is always granted and cannot be refused.
const Necessary = "necessary"

// Purpose is one reason for processing a visitor can grant or refuse.
type Purpose struct {
	// ID is the purpose's identifier (lower-case letters, digits, '-', '_').
	ID string `json:"id"`
	// Name is the purpose's display name, by language tag.
	Name map[string]string `json:"name,omitempty"`
	// Description explains the purpose to visitors, by language tag.
	Description map[string]string `json:"description,omitempty"`
	// Sale marks a purpose as a sale or sharing of personal data: a Global
	// Privacy Control or Do Not Track signal switches it off.
	Sale bool `json:"sale,omitempty"`
}

var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// ValidID reports whether s may name a purpose or vendor.
func ValidID(s string) bool { return idPattern.MatchString(s) }

// Validate checks one purpose on its own.
func (p Purpose) Validate() error {
	if !ValidID(p.ID) {
		return fmt.Errorf("purpose %q: id must be lower-case letters, digits, '-' or '_' (at most 64)", p.ID)
	}
	return nil
}

// DefaultPurposes returns the purposes a site has when its operator defines
// none: necessary, functional, analytics, marketing and social.
func DefaultPurposes() []Purpose {
	return []Purpose{
		{ID: Necessary,
			Name: map[string]string{"en": "Strictly necessary", "de": "Unbedingt erforderlich"},
			Description: map[string]string{
				"en": "Needed for the site to work and to remember your privacy choices. Always on.",
				"de": "Für den Betrieb der Website und zum Speichern Ihrer Datenschutz-Einstellungen nötig. Immer aktiv.",
			}},
		{ID: "functional",
			Name: map[string]string{"en": "Functional", "de": "Funktional"},
			Description: map[string]string{
				"en": "Extra features such as chat, fonts, maps and sign-in provided by other companies.",
				"de": "Zusätzliche Funktionen wie Chat, Schriften, Karten und Anmeldung durch andere Unternehmen.",
			}},
		{ID: "analytics",
			Name: map[string]string{"en": "Analytics", "de": "Statistik"},
			Description: map[string]string{
				"en": "Measuring how the site is used so that it can be improved.",
				"de": "Messung der Nutzung der Website, um sie zu verbessern.",
			}},
		{ID: "marketing", Sale: true,
			Name: map[string]string{"en": "Marketing", "de": "Marketing"},
			Description: map[string]string{
				"en": "Advertising and measuring its effect, also on other sites, possibly by sharing data with advertisers.",
				"de": "Werbung und deren Erfolgsmessung, auch auf anderen Websites, gegebenenfalls durch Weitergabe von Daten an Werbepartner.",
			}},
		{ID: "social",
			Name: map[string]string{"en": "Social media and embedded content", "de": "Soziale Medien und eingebettete Inhalte"},
			Description: map[string]string{
				"en": "Videos, posts and buttons from social networks and media platforms, which learn that you visited.",
				"de": "Videos, Beiträge und Schaltflächen sozialer Netzwerke und Medienplattformen, die von Ihrem Besuch erfahren.",
			}},
	}
}
