package catalog

import (
	"slices"
	"strings"
	"testing"
)

// builtinMatcher is the matcher over the built-in catalogue, with a vendor
// index by id for assertions.
func builtinMatcher(t testing.TB) (*Matcher, []Vendor, map[string]int) {
	t.Helper()
	vendors := Builtin()
	m, err := NewMatcher(vendors)
	if err != nil {
		t.Fatal(err)
	}
	index := make(map[string]int, len(vendors))
	for i, v := range vendors {
		index[v.ID] = i
	}
	return m, vendors, index
}

// vendorID names a Match result for messages.
func vendorID(vendors []Vendor, i int) string {
	if i < 0 {
		return "(none)"
	}
	return vendors[i].ID
}

func TestMatchBuiltin(t *testing.T) {
	m, vendors, _ := builtinMatcher(t)
	tests := []struct {
		kind Kind
		url  string
		want string // "" for no match
	}{
		// Specificity on one host: the query prefix decides.
		{KindScript, "https://www.googletagmanager.com/gtag/js?id=AW-123456789", "google-ads"},
		{KindScript, "https://www.googletagmanager.com/gtag/js?id=DC-1234567", "google-ads"},
		{KindScript, "https://www.googletagmanager.com/gtag/js?id=G-ABCDEF1234", "google-analytics"},
		{KindScript, "https://www.googletagmanager.com/gtag/js?id=UA-1234-1", "google-analytics"},
		{KindScript, "https://www.googletagmanager.com/gtag/js?l=dataLayer&amp;id=AW-1", "google-analytics"},
		{KindScript, "https://www.googletagmanager.com/gtm.js?id=GTM-ABC123", "google-tag-manager"},
		{KindFrame, "https://www.googletagmanager.com/ns.html?id=GTM-ABC123", "google-tag-manager"},
		{KindLink, "https://www.googletagmanager.com", "google-tag-manager"},
		// www.google.com carries several vendors, told apart by path.
		{KindScript, "https://www.google.com/recaptcha/api.js?render=explicit", "google-recaptcha"},
		{KindFrame, "https://www.google.com/recaptcha/api2/anchor?k=x", "google-recaptcha"},
		{KindFrame, "https://www.google.com/maps/embed?pb=!1m18!1m12", "google-maps"},
		{KindFrame, "https://www.google.com/maps/d/embed?mid=1abc", "google-maps"},
		{KindImage, "https://www.google.com/pagead/1p-conversion/123/?guid=ON", "google-ads"},
		{KindScript, "https://www.google.com/search?q=x", ""},
		// doubleclick.net subdomains.
		{KindScript, "https://securepubads.g.doubleclick.net/tag/js/gpt.js", "google-ad-manager"},
		{KindImage, "https://googleads.g.doubleclick.net/pagead/viewthroughconversion/1/?guid=ON", "google-ads"},
		{KindFrame, "https://googleads.g.doubleclick.net/pagead/ads?client=ca-pub-1", "google-adsense"},
		{KindScript, "https://stats.g.doubleclick.net/dc.js", "google-analytics"},
		{KindImage, "https://ad.doubleclick.net/ddm/activity/src=1", "google-ads"},
		{KindScript, "https://pagead2.googlesyndication.com/pagead/js/adsbygoogle.js?client=ca-pub-1", "google-adsense"},
		// Facebook: pixel and social plugins share hosts.
		{KindScript, "https://connect.facebook.net/en_US/fbevents.js", "facebook-pixel"},
		{KindScript, "https://connect.facebook.net/de_DE/fbevents.js", "facebook-pixel"},
		{KindScript, "https://connect.facebook.net/signals/config/123?v=2.9.1", "facebook-pixel"},
		{KindScript, "https://connect.facebook.net/en_US/sdk.js#xfbml=1&version=v19.0", "facebook-social"},
		{KindScript, "https://connect.facebook.net/en_GB/sdk/xfbml.customerchat.js", "facebook-social"},
		{KindImage, "https://www.facebook.com/tr?id=123&amp;ev=PageView&amp;noscript=1", "facebook-pixel"},
		{KindFrame, "https://www.facebook.com/tr?id=123", "facebook-social"}, // the pixel rule is for images
		{KindFrame, "https://www.facebook.com/plugins/like.php?href=x", "facebook-social"},
		{KindScript, "/assets/fbevents.js", "facebook-pixel"},
		// Self-hosted Matomo on any host, relative too.
		{KindScript, "https://stats.example.org/matomo.js", "matomo"},
		{KindScript, "//piwik.example.org/piwik.js", "matomo"},
		{KindImage, "/analytics/matomo.php?idsite=1&amp;rec=1", "matomo"},
		{KindImage, "piwik.php?idsite=1", "matomo"},
		{KindScript, "https://cdn.matomo.cloud/example.matomo.cloud/matomo.js", "matomo"},
		{KindScript, "/js/matomo.json", ""},
		{KindScript, "/notmatomo.js", ""},
		// Google Fonts as links and @import.
		{KindLink, "https://fonts.googleapis.com/css2?family=Roboto&display=swap", "google-fonts"},
		{KindLink, "https://fonts.gstatic.com", "google-fonts"},
		{KindLink, "//fonts.gstatic.com/s/roboto/v30/x.woff2", "google-fonts"},
		// Embedded media.
		{KindFrame, "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ", "youtube"},
		{KindFrame, "https://www.youtube.com/embed/videoseries?list=PL1", "youtube"},
		{KindFrame, "https://www.youtube.com/watch?v=x", ""},
		{KindFrame, "https://player.vimeo.com/video/76979871?h=8272103f6e", "vimeo"},
		{KindFrame, "https://open.spotify.com/embed/show/6YxsFKbM7cULU4sXU7hSxe", "spotify"},
		// Necessary payment widgets are still recognised.
		{KindScript, "https://www.paypal.com/sdk/js?client-id=test&amp;currency=EUR", "paypal"},
		{KindScript, "https://x.klarnacdn.net/kp/lib/v1/api.js", "klarna"},
		// Path-specific rules on shared CDNs.
		{KindScript, "//s3.amazonaws.com/downloads.mailchimp.com/js/mc-validate.js", "mailchimp"},
		{KindScript, "https://s3.amazonaws.com/other-bucket/app.js", ""},
		{KindScript, "https://cdn.jsdelivr.net/npm/yandex-metrica-watch/tag.js", "yandex-metrica"},
		{KindScript, "https://cdn.jsdelivr.net/npm/jquery@3/dist/jquery.min.js", ""},
		{KindForm, "https://greenpaw.us21.list-manage.com/subscribe/post?u=1&amp;id=2", "mailchimp"},
	}
	for _, tt := range tests {
		got := m.Match(tt.kind, []byte(tt.url))
		if id := vendorID(vendors, got); id != tt.want && !(tt.want == "" && got < 0) {
			t.Errorf("Match(%v, %q) = %s, want %q", tt.kind, tt.url, id, tt.want)
		}
	}
}

func TestMatchURLForms(t *testing.T) {
	m, vendors, _ := builtinMatcher(t)
	for _, u := range []string{
		"https://www.google-analytics.com/analytics.js",
		"http://www.google-analytics.com/analytics.js",
		"//www.google-analytics.com/analytics.js",
		"HTTPS://WWW.Google-Analytics.COM/analytics.js",
		"https://www.google-analytics.com:443/analytics.js",
		"https://user:pass@www.google-analytics.com/analytics.js",
		"https://www.google-analytics.com./analytics.js",
		"  https://www.google-analytics.com/analytics.js\n",
		"https://google-analytics.com",
		"https://www.google-analytics.com?x=1",
		"https://www.google-analytics.com#frag",
		"https://www.google-analytics.com/g/collect?v=2&amp;tid=G-1",
		// Spellings a browser still loads (banner/browsertest's
		// TestTrackerSpellingsBrowsersLoadAreBlocked shows Chromium doing so).
		"https:&#47;&#47;www.google-analytics.com/analytics.js",
		"https&#x3A;//www.google-analytics.com/analytics.js",
		"&#104;ttps://www.google-analytics.com/analytics.js",
		"https://www.google&#45;analytics.com/analytics.js",
		"&sol;&sol;www.google-analytics.com/analytics.js",
		`https:\\www.google-analytics.com\analytics.js`,
		`\\www.google-analytics.com/analytics.js`,
		`/\www.google-analytics.com/analytics.js`,
		"https:///www.google-analytics.com/analytics.js",
		"///www.google-analytics.com/analytics.js",
		"https://www.google-\nanalytics.com/analytics.js",
		"https://www.google-&#10;analytics.com/analytics.js",
		"ht\ttps://www.google-analytics.com/analytics.js",
		"https://www.google%2Danalytics.com/analytics.js",
		"https://www.%67oogle-analytics.com/analytics.js",
		"https:www.google-analytics.com/analytics.js", // from a page not on https
		"https:/www.google-analytics.com/analytics.js",
		"https://www.google-analytics.com&#63;f=1",
		"https://www.ｇoogle-analytics.com/analytics.js", // full-width g
		"https://www.google-analytics。com/analytics.js", // ideographic full stop
	} {
		if got := m.Match(KindScript, []byte(u)); vendorID(vendors, got) != "google-analytics" {
			t.Errorf("Match(%q) = %s, want google-analytics", u, vendorID(vendors, got))
		}
	}
}

func TestMatchNegative(t *testing.T) {
	m, vendors, _ := builtinMatcher(t)
	long := "https://www.example.com/" + strings.Repeat("a/", 50000) + "analytics.js"
	longHost := "https://" + strings.Repeat("a.", 200) + "google-analytics.com/analytics.js"
	for _, u := range []string{
		"",
		"   ",
		"/js/app.js",
		"app.js?v=1",
		"https://www.example.com/analytics.js",
		"https://notgoogle-analytics.com/analytics.js",
		"https://google-analytics.com.evil.net/analytics.js",
		"https://evil.net/www.google-analytics.com/analytics.js",
		"https://evil.net/?u=https://www.google-analytics.com/analytics.js",
		"https://www.google-analytics.com@evil.net/analytics.js",
		"data:text/javascript,fetch('https://www.google-analytics.com/collect')",
		"javascript:void(0)",
		"blob:https://www.google-analytics.com/uuid",
		"mailto:x@google-analytics.com",
		"https://",
		"//",
		"https://www.google-analytics.com%2Fanalytics.js", // a host with a slash: browsers load nothing
		"https://www.google-analytics.com%zz/analytics.js",
		"https://[::1]/analytics.js",
		"https://com/x",
		"\x00\xff\xfe<>\"'",
		long,
		longHost,
		"https://" + strings.Repeat("x", 300) + ".com/",
	} {
		for k := Kind(0); k < numKinds; k++ {
			if got := m.Match(k, []byte(u)); got >= 0 {
				t.Errorf("Match(%v, %.80q) = %s, want none", k, u, vendorID(vendors, got))
			}
		}
	}
	if got := m.Match(numKinds, []byte("https://www.google-analytics.com/analytics.js")); got != -1 {
		t.Errorf("Match with an invalid kind = %d, want -1", got)
	}
}

// testVendors builds a small catalogue for rule semantics.
func testMatcher(t *testing.T, vendors ...Vendor) *Matcher {
	t.Helper()
	for i := range vendors {
		vendors[i].Name, vendors[i].Purpose = vendors[i].ID, PurposeMarketing
	}
	m, err := NewMatcher(vendors)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestMatchRuleSemantics(t *testing.T) {
	m := testMatcher(t,
		Vendor{ID: "a", Match: Rules{URLs: []string{"cdn.example.com"}}},
		Vendor{ID: "b", Match: Rules{URLs: []string{"cdn.example.com"}}},                    // tie: "a" wins
		Vendor{ID: "pixel", Match: Rules{Image: []string{"cdn.example.com/p"}}},             // images only
		Vendor{ID: "locale", Match: Rules{Script: []string{"cdn.example.com/*/loader.js"}}}, // one segment
		Vendor{ID: "query", Match: Rules{URLs: []string{"cdn.example.com/x?a=1&b="}}},
	)
	tests := []struct {
		kind Kind
		url  string
		want int
	}{
		{KindScript, "https://cdn.example.com/lib.js", 0},
		{KindImage, "https://cdn.example.com/p.gif", 2},
		{KindScript, "https://cdn.example.com/p.gif", 0},
		{KindScript, "https://cdn.example.com/en_US/loader.js", 3},
		{KindScript, "https://cdn.example.com//loader.js", 0}, // empty segment
		{KindScript, "https://cdn.example.com/a/b/loader.js", 0},
		{KindScript, "https://cdn.example.com/x?a=1&amp;b=2", 4},
		{KindScript, "https://cdn.example.com/x?a=1&b=2", 4},
		{KindScript, "https://cdn.example.com/x?a=1&amp;c=2", 0},
	}
	for _, tt := range tests {
		if got := m.Match(tt.kind, []byte(tt.url)); got != tt.want {
			t.Errorf("Match(%v, %q) = %d, want %d", tt.kind, tt.url, got, tt.want)
		}
	}
}

func TestMatchCookie(t *testing.T) {
	m, vendors, _ := builtinMatcher(t)
	tests := map[string]string{
		"_ga":                  "google-analytics",
		"_ga_ABC123":           "google-analytics",
		"_gid":                 "google-analytics",
		"_gat_gtag_UA_1234_1":  "google-analytics",
		"_gac_UA-1234-1":       "google-ads",
		"_gcl_au":              "google-ads",
		"_fbp":                 "facebook-pixel",
		"_fbc":                 "facebook-pixel",
		"fbm_1234567890":       "facebook-social",
		"_hjSessionUser_123":   "hotjar",
		"_hjSession_123":       "hotjar",
		"_pk_id.1.1fff":        "matomo",
		"_uetvid":              "microsoft-uet",
		"_clck":                "microsoft-clarity",
		"__stripe_mid":         "stripe",
		"intercom-session-abc": "intercom",
		"ga":                   "",
		"_g":                   "",
		"session":              "",
		"PHPSESSID":            "",
		"fr":                   "", // facebook.com's cookie; a site's "fr" is its own
		"IDE":                  "", // doubleclick.net's
		"":                     "",
	}
	for name, want := range tests {
		if got := vendorID(vendors, m.MatchCookie(name)); got != want && !(want == "" && got == "(none)") {
			t.Errorf("MatchCookie(%q) = %s, want %q", name, got, want)
		}
	}
}

func TestMatchInline(t *testing.T) {
	m, vendors, idx := builtinMatcher(t)
	ids := func(is []int) []string {
		var out []string
		for _, i := range is {
			out = append(out, vendors[i].ID)
		}
		return out
	}
	tests := []struct {
		text string
		want []string
	}{
		{"gtag('js', new Date()); gtag('config', 'G-ABC123');", []string{"google-analytics"}},
		{"gtag('config', 'AW-123'); gtag('config', 'G-1'); gtag('config', 'AW-9');", []string{"google-analytics", "google-ads"}},
		{"var _paq = window._paq || []; _paq.push(['trackPageView']); _paq.push(['enableLinkTracking']);", []string{"matomo"}},
		{"!function(f,b,e,v){}(window,document,'script','https://connect.facebook.net/en_US/fbevents.js'); fbq('init', '1');", []string{"facebook-pixel"}},
		// The Consent Mode default the gateway injects must not look like a tag.
		{"window.dataLayer = window.dataLayer || []; function gtag(){dataLayer.push(arguments);} gtag('consent', 'default', {ad_storage: 'denied'});", nil},
		{"console.log('hello'); var ga = 1;", nil},
		{"", nil},
	}
	for _, tt := range tests {
		got := ids(m.MatchInline([]byte(tt.text), nil))
		if !slices.Equal(got, tt.want) {
			t.Errorf("MatchInline(%.60q) = %v, want %v", tt.text, got, tt.want)
		}
	}
	// Results are appended after what dst holds, sorted by vendor index.
	dst := m.MatchInline([]byte("_hjSettings={hjid:1}; _paq.push([]); fbq('init','1')"), []int{-7})
	want := []int{-7, idx["facebook-pixel"], idx["hotjar"], idx["matomo"]}
	slices.Sort(want[1:])
	if !slices.Equal(dst, want) {
		t.Errorf("MatchInline appended %v, want %v", dst, want)
	}
}

func TestMatchInlineOverlapping(t *testing.T) {
	// Signatures that are prefixes, suffixes and infixes of one another.
	m := testMatcher(t,
		Vendor{ID: "a", Match: Rules{Inline: []string{"abcdefgh"}}},
		Vendor{ID: "b", Match: Rules{Inline: []string{"cdefgh"}}},
		Vendor{ID: "c", Match: Rules{Inline: []string{"bcdefghijk"}}},
		Vendor{ID: "d", Match: Rules{Inline: []string{"aaaaaab"}}},
	)
	tests := map[string][]int{
		"xxabcdefghxx":   {0, 1},
		"abcdefghijk":    {0, 1, 2},
		"bcdefghij":      {1},
		"aaaaaaaaaab":    {3},
		"abcdefgabcdefg": nil,
	}
	for text, want := range tests {
		if got := m.MatchInline([]byte(text), nil); !slices.Equal(got, want) {
			t.Errorf("MatchInline(%q) = %v, want %v", text, got, want)
		}
	}
}

func TestHost(t *testing.T) {
	m, _, _ := builtinMatcher(t)
	tests := map[string]string{
		"https://WWW.Example.COM:8443/x":   "www.example.com",
		"//cdn.example.net/a.js":           "cdn.example.net",
		"http://u:p@Example.org./?q#f":     "example.org",
		"https://[2001:db8::1]:443/x":      "2001:db8::1",
		"/relative/path":                   "",
		"relative.js":                      "",
		"data:text/html,<p>hi</p>":         "",
		"https:///nohost":                  "nohost", // browsers skip the extra slash
		"https:///":                        "",
		"":                                 "",
		"ftp://files.example.com/file.txt": "",
	}
	for in, want := range tests {
		got, ok := m.Host([]byte(in))
		if string(got) != want || ok != (want != "") {
			t.Errorf("Host(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

func TestMatchAllocs(t *testing.T) {
	m, _, _ := builtinMatcher(t)
	urls := [][]byte{
		[]byte("https://WWW.Google-Analytics.com/analytics.js"),
		[]byte("https://www.googletagmanager.com/gtag/js?id=AW-1&amp;l=x"),
		[]byte("/matomo/matomo.js"),
		[]byte("https://static.example.com/app.js"),
	}
	if n := testing.AllocsPerRun(100, func() {
		for _, u := range urls {
			m.Match(KindScript, u)
		}
	}); n != 0 {
		t.Errorf("Match allocates %v times per run", n)
	}
	text := []byte("var _paq = window._paq || []; _paq.push(['trackPageView']); gtag('config', 'G-1');")
	dst := make([]int, 0, 8)
	if n := testing.AllocsPerRun(100, func() { dst = m.MatchInline(text, dst[:0]) }); n != 0 {
		t.Errorf("MatchInline allocates %v times per run", n)
	}
}

// HostPatterns gives every pattern naming a host once, across kinds, and
// leaves out those that match relative URLs.
func TestHostPatterns(t *testing.T) {
	r := Rules{URLs: []string{"a.example", "*/piwik.js"}, Script: []string{"b.example/js", "a.example"}, Image: []string{"c.example/px?id="}}
	got := r.HostPatterns()
	if want := []string{"a.example", "b.example/js", "c.example/px?id="}; !slices.Equal(got, want) {
		t.Errorf("HostPatterns() = %q, want %q", got, want)
	}
}
