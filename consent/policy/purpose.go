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
			Name: map[string]string{
				"en": "Strictly necessary",
				"de": "Unbedingt erforderlich",
				"fr": "Strictement nécessaire",
				"es": "Estrictamente necesario",
				"it": "Strettamente necessario",
				"nl": "Strikt noodzakelijk",
				"pl": "Niezbędne",
				"pt": "Estritamente necessário",
				"sv": "Strikt nödvändiga",
				"da": "Strengt nødvendige",
			},
			Description: map[string]string{
				"en": "Needed for the site to work and to remember your privacy choices. Always on.",
				"de": "Für den Betrieb der Website und zum Speichern Ihrer Datenschutz-Einstellungen nötig. Immer aktiv.",
				"fr": "Nécessaire au fonctionnement du site et à la mémorisation de vos choix de confidentialité. Toujours actif.",
				"es": "Necesario para que el sitio funcione y para recordar sus preferencias de privacidad. Siempre activo.",
				"it": "Necessario per il funzionamento del sito e per ricordare le sue scelte sulla privacy. Sempre attivo.",
				"nl": "Nodig om de website te laten werken en om uw privacykeuzes te onthouden. Altijd aan.",
				"pl": "Potrzebne do działania strony i zapamiętania wybranych ustawień prywatności. Zawsze włączone.",
				"pt": "Necessário para o funcionamento do site e para memorizar as suas escolhas de privacidade. Sempre ativo.",
				"sv": "Behövs för att webbplatsen ska fungera och för att komma ihåg dina integritetsval. Alltid på.",
				"da": "Nødvendige for, at webstedet fungerer, og for at huske dine valg om privatliv. Altid aktiv.",
			}},
		{ID: "functional",
			Name: map[string]string{
				"en": "Functional",
				"de": "Funktional",
				"fr": "Fonctionnel",
				"es": "Funcional",
				"it": "Funzionalità",
				"nl": "Functioneel",
				"pl": "Funkcjonalne",
				"pt": "Funcional",
				"sv": "Funktionella",
				"da": "Funktionelle",
			},
			Description: map[string]string{
				"en": "Extra features such as chat, fonts, maps and sign-in provided by other companies.",
				"de": "Zusätzliche Funktionen wie Chat, Schriften, Karten und Anmeldung durch andere Unternehmen.",
				"fr": "Fonctions supplémentaires telles que le chat, les polices, les cartes et la connexion, fournies par d’autres entreprises.",
				"es": "Funciones adicionales, como chat, fuentes, mapas e inicio de sesión, proporcionadas por otras empresas.",
				"it": "Funzioni aggiuntive come chat, font, mappe e accesso, fornite da altre aziende.",
				"nl": "Extra functies zoals chat, lettertypen, kaarten en inloggen, aangeboden door andere bedrijven.",
				"pl": "Dodatkowe funkcje, takie jak czat, czcionki, mapy i logowanie, dostarczane przez inne firmy.",
				"pt": "Funcionalidades adicionais, como chat, fontes, mapas e início de sessão, fornecidas por outras empresas.",
				"sv": "Extra funktioner som chatt, typsnitt, kartor och inloggning från andra företag.",
				"da": "Ekstra funktioner som chat, skrifttyper, kort og login fra andre virksomheder.",
			}},
		{ID: "analytics",
			Name: map[string]string{
				"en": "Analytics",
				"de": "Statistik",
				"fr": "Statistiques",
				"es": "Estadísticas",
				"it": "Statistiche",
				"nl": "Statistieken",
				"pl": "Statystyki",
				"pt": "Estatísticas",
				"sv": "Statistik",
				"da": "Statistik",
			},
			Description: map[string]string{
				"en": "Measuring how the site is used so that it can be improved.",
				"de": "Messung der Nutzung der Website, um sie zu verbessern.",
				"fr": "Mesure de l’utilisation du site afin de pouvoir l’améliorer.",
				"es": "Medición del uso del sitio para poder mejorarlo.",
				"it": "Misurazione dell’utilizzo del sito per poterlo migliorare.",
				"nl": "Meten hoe de website wordt gebruikt, zodat deze kan worden verbeterd.",
				"pl": "Pomiar sposobu korzystania ze strony w celu jej ulepszania.",
				"pt": "Medição da utilização do site, para que possa ser melhorado.",
				"sv": "Mätning av hur webbplatsen används så att den kan förbättras.",
				"da": "Måling af, hvordan webstedet bruges, så det kan forbedres.",
			}},
		{ID: "marketing", Sale: true,
			Name: map[string]string{
				"en": "Marketing",
				"de": "Marketing",
				"fr": "Marketing",
				"es": "Marketing",
				"it": "Marketing",
				"nl": "Marketing",
				"pl": "Marketing",
				"pt": "Marketing",
				"sv": "Marknadsföring",
				"da": "Marketing",
			},
			Description: map[string]string{
				"en": "Advertising and measuring its effect, also on other sites, possibly by sharing data with advertisers.",
				"de": "Werbung und deren Erfolgsmessung, auch auf anderen Websites, gegebenenfalls durch Weitergabe von Daten an Werbepartner.",
				"fr": "Publicité et mesure de son efficacité, y compris sur d’autres sites, éventuellement par le partage de données avec des annonceurs.",
				"es": "Publicidad y medición de su efecto, también en otros sitios, posiblemente compartiendo datos con anunciantes.",
				"it": "Pubblicità e misurazione della sua efficacia, anche su altri siti, eventualmente condividendo dati con gli inserzionisti.",
				"nl": "Advertenties en het meten van het effect ervan, ook op andere websites, mogelijk door gegevens te delen met adverteerders.",
				"pl": "Reklamy i pomiar ich skuteczności, również na innych stronach, potencjalnie poprzez udostępnianie danych reklamodawcom.",
				"pt": "Publicidade e medição do seu efeito, incluindo em outros sites, possivelmente através da partilha de dados com anunciantes.",
				"sv": "Annonsering och mätning av dess effekt, även på andra webbplatser, eventuellt genom att data delas med annonsörer.",
				"da": "Annoncering og måling af effekten, også på andre websteder, eventuelt ved at dele data med annoncører.",
			}},
		{ID: "social",
			Name: map[string]string{
				"en": "Social media and embedded content",
				"de": "Soziale Medien und eingebettete Inhalte",
				"fr": "Réseaux sociaux et contenus intégrés",
				"es": "Redes sociales y contenido integrado",
				"it": "Social media e contenuti incorporati",
				"nl": "Sociale media en ingesloten content",
				"pl": "Media społecznościowe i treści osadzone",
				"pt": "Redes sociais e conteúdos incorporados",
				"sv": "Sociala medier och inbäddat innehåll",
				"da": "Sociale medier og indlejret indhold",
			},
			Description: map[string]string{
				"en": "Videos, posts and buttons from social networks and media platforms, which learn that you visited.",
				"de": "Videos, Beiträge und Schaltflächen sozialer Netzwerke und Medienplattformen, die von Ihrem Besuch erfahren.",
				"fr": "Vidéos, publications et boutons provenant de réseaux sociaux et de plateformes multimédias, qui sont informés de votre visite.",
				"es": "Vídeos, publicaciones y botones de redes sociales y plataformas multimedia, que reciben información sobre su visita.",
				"it": "Video, post e pulsanti di social network e piattaforme multimediali, che vengono informati della sua visita.",
				"nl": "Video’s, berichten en knoppen van sociale netwerken en mediaplatforms, die te weten komen dat u de website hebt bezocht.",
				"pl": "Filmy, posty i przyciski z serwisów społecznościowych i platform medialnych, które otrzymują informację o odwiedzinach strony.",
				"pt": "Vídeos, publicações e botões de redes sociais e plataformas de conteúdos, que são informados da sua visita.",
				"sv": "Videor, inlägg och knappar från sociala nätverk och medieplattformar, som får veta att du har besökt webbplatsen.",
				"da": "Videoer, opslag og knapper fra sociale netværk og medieplatforme, som får at vide, at du har besøgt webstedet.",
			}},
	}
}
