package catalog

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// corpusDir holds real pages saved by other projects (see its README); it
// sits next to the repository, in CI too.
const corpusDir = "../../../shared/corpus"

// corpusTags maps the manifest's tracker names to the vendors that must be
// recognised in a page carrying them (any one of them will do). nil marks
// names that are markup only (a <div id="fb-root">, a blockquote) or consent
// tools, which are not catalogued.
var corpusTags = map[string][]string{
	"ga-analytics.js":         {"google-analytics"},
	"ga-ga.js":                {"google-analytics"},
	"gtag.js":                 {"google-analytics", "google-ads"},
	"gtm-script":              {"google-tag-manager"},
	"gtm-noscript-iframe":     {"google-tag-manager"},
	"adsense":                 {"google-adsense"},
	"gpt":                     {"google-ad-manager"},
	"doubleclick":             {"google-ads", "google-ad-manager", "google-adsense", "google-analytics"},
	"recaptcha":               {"google-recaptcha"},
	"gmaps-api":               {"google-maps"},
	"gmaps-iframe":            {"google-maps"},
	"google-fonts":            {"google-fonts"},
	"youtube-iframe":          {"youtube"},
	"youtube-nocookie-iframe": {"youtube"},
	"fb-pixel":                {"facebook-pixel"},
	"fb-pixel-noscript-img":   {"facebook-pixel"},
	"fb-sdk":                  {"facebook-social"},
	"fb-plugin-iframe":        {"facebook-social"},
	"instagram-embed.js":      {"instagram"},
	"twitter-widgets":         {"twitter"},
	"linkedin-insight":        {"linkedin-insight"},
	"linkedin-share":          {"linkedin-plugins"},
	"tiktok-embed":            {"tiktok-embed"},
	"pinterest":               {"pinterest-widgets", "pinterest-tag"},
	"snap-pixel":              {"snap-pixel"},
	"vimeo-player":            {"vimeo"},
	"spotify-embed":           {"spotify"},
	"hotjar":                  {"hotjar"},
	"clarity":                 {"microsoft-clarity"},
	"matomo-script":           {"matomo"},
	"matomo-noscript-img":     {"matomo"},
	"plausible":               {"plausible"},
	"yandex-metrika":          {"yandex-metrica"},
	"mixpanel":                {"mixpanel"},
	"segment":                 {"segment"},
	"hubspot":                 {"hubspot"},
	"intercom":                {"intercom"},
	"zendesk-chat":            {"zendesk"},
	"tawk":                    {"tawk"},
	"disqus":                  {"disqus"},
	"addthis":                 {"addthis"},
	"sharethis":               {"sharethis"},
	"cloudflare-insights":     {"cloudflare-web-analytics"},
	"newrelic":                {"new-relic"},
	"optimizely":              {"optimizely"},
	"statcounter":             {"statcounter"},
	"quantcast":               {"quantcast"},
	"chartbeat":               {"chartbeat"},
	"comscore":                {"comscore"},
	"typekit":                 {"adobe-fonts"},
	"taboola":                 {"taboola"},
	"outbrain":                {"outbrain"},
	"amazon-ads":              {"amazon-ads"},
	"other:gravatar":          {"gravatar"},
	"other:wp-jetpack-stats":  {"jetpack-stats"},
	"other:criteo":            {"criteo"},
	"other:onesignal":         {"onesignal"},
	"other:infonline-ioam":    {"infonline"},
	"other:addtoany":          {"addtoany"},
	"other:tealium":           {"tealium"},
	"other:sohu-changyan":     {"sohu-changyan"},
	"other:gplus-platform":    {"google-sign-in"},
	"other:etracker":          {"etracker"},
	"other:cleverpush":        {"cleverpush"},
	"other:baidu-ads/tongji":  {"baidu-analytics", "baidu-ads"},
	"fb-root":                 nil,
	"fb-xfbml":                nil,
	"twitter-tweet":           nil,
	"twitter-timeline":        nil,
	"twitter-share-btn":       nil,
	"instagram-blockquote":    nil,
	"onetrust":                nil,
	"cookiebot":               nil,
	"(none)":                  nil,
}

// corpusExempt lists page and tag pairs the manifest names but the page does
// not load, and why. The manifest was made by text search, which also finds
// commented-out code and JSON-LD metadata.
var corpusExempt = map[string]string{
	"trafilatura__archive.org.medialepfade.de.medienpaedagogin.html twitter-widgets":  "archived URLs",
	"trafilatura__archive.org.medialepfade.de.medienpaedagogin.html gmaps-api":        "archived URLs",
	"trafilatura__archive.org.medialepfade.de.medienpaedagogin.html ga-ga.js":         "archived URLs",
	"trafilatura__archive.org.medialepfade.de.medienpaedagogin.html fb-plugin-iframe": "archived URLs",
	"trafilatura__archive.org.medialepfade.de.medienpaedagogin.html google-fonts":     "archived URLs",
	"trafilatura__archive.org.medialepfade.de.medienpaedagogin.html other:gravatar":   "archived URLs",
	"trafilatura__citylimits.org-Nycha.html other:gravatar":                           "JSON-LD only",
	"trafilatura__github.blog.spiceland.html other:gravatar":                          "JSON-LD only",
	"trafilatura__newsday.co.tt-forex.html other:gravatar":                            "JSON-LD only",
	"trafilatura__mydailymagazine.com.halloween.html other:gravatar":                  "JSON-LD only",
	"trafilatura__mydailymagazine.com.halloween.html other:onesignal":                 "only its app id in a config object",
	"trafilatura__ultimahora.com-apelacion.html other:onesignal":                      "self-hosted under a renamed path",
	"trafilatura__ultimahora.com-apelacion.html adsense":                              "commented out",
	"trafilatura__ultimahora.com-apelacion.html fb-sdk":                               "in a data-td-script-src attribute the theme loads later",
	"trafilatura__ultimahora.com-apelacion.html twitter-widgets":                      "in a data-td-script-src attribute the theme loads later",
	"trafilatura__Osthessen-news.de-Buergermeisterwahl.html fb-sdk":                   "commented out",
	"trafilatura__Osthessen-news.de-Buergermeisterwahl.html adsense":                  "commented out",
	"trafilatura__thisisjanewayne.com.bauch.html google-fonts":                        "commented out",
}

func TestCorpus(t *testing.T) {
	manifest, err := os.Open(filepath.Join(corpusDir, "MANIFEST.tsv"))
	if err != nil {
		skipWithoutCorpus(t, fmt.Sprintf("corpus not available: %v", err))
	}
	defer manifest.Close()
	m, vendors, index := builtinMatcher(t)
	lines := bufio.NewScanner(manifest)
	lines.Scan() // header
	for lines.Scan() {
		cols := strings.Split(lines.Text(), "\t")
		if len(cols) < 8 {
			continue
		}
		file := cols[0]
		tags := append(strings.Split(cols[5], ";"), strings.Split(cols[7], ";")...)
		t.Run(file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(corpusDir, file))
			if err != nil {
				t.Fatal(err)
			}
			found := map[string]bool{}
			refs, _ := pageRefs(parsePage(t, data))
			var buf []int
			for _, r := range refs {
				if r.inline != "" {
					buf = m.MatchInline([]byte(r.inline), buf[:0])
					for _, i := range buf {
						found[vendors[i].ID] = true
					}
				} else if i := m.Match(r.kind, []byte(r.url)); i >= 0 {
					found[vendors[i].ID] = true
				}
			}
			for _, tag := range tags {
				if tag == "" || strings.HasPrefix(tag, "consent:") || corpusExempt[file+" "+tag] != "" {
					continue
				}
				want, known := corpusTags[tag]
				if !known {
					t.Errorf("manifest tag %q is not mapped to a vendor", tag)
					continue
				}
				for _, id := range want {
					if _, ok := index[id]; !ok {
						t.Fatalf("corpusTags: unknown vendor %q", id)
					}
				}
				if want != nil && !slices.ContainsFunc(want, func(id string) bool { return found[id] }) {
					t.Errorf("%s: none of %v recognised", tag, want)
				}
			}
		})
	}
}

// skipWithoutCorpus skips a test that needs ../shared/corpus when it is
// absent, unless CONSENTGATE_REQUIRE_CORPUS is set (.ci/run sets it): CI
// must not pass without the corpus checks.
func skipWithoutCorpus(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("CONSENTGATE_REQUIRE_CORPUS") != "" {
		t.Fatalf("%s, and CONSENTGATE_REQUIRE_CORPUS is set", why)
	}
	t.Skip(why)
}
