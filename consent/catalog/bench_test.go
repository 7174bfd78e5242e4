package catalog

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func BenchmarkMatch(b *testing.B) {
	m, _, _ := builtinMatcher(b)
	cases := []struct {
		name string
		kind Kind
		url  string
	}{
		{"tracker", KindScript, "https://www.google-analytics.com/analytics.js"},
		{"query-prefix", KindScript, "https://www.googletagmanager.com/gtag/js?id=AW-123456789&amp;l=dataLayer"},
		{"mixed-case-port", KindFrame, "HTTPS://WWW.YouTube-NoCookie.com:443/embed/dQw4w9WgXcQ?rel=0"},
		{"third-party-miss", KindScript, "https://cdnjs.cloudflare.com/ajax/libs/jquery/3.6.0/jquery.min.js"},
		{"first-party", KindImage, "https://static.example-shop.de/img/products/2024/dog-food-large.webp"},
		{"relative", KindScript, "/wp-content/themes/example/js/main.min.js?ver=6.4.2"},
		{"self-hosted-matomo", KindScript, "//stats.example.org/matomo.js"},
	}
	for _, c := range cases {
		u := []byte(c.url)
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				m.Match(c.kind, u)
			}
		})
	}
}

func BenchmarkMatchInline(b *testing.B) {
	m, _, _ := builtinMatcher(b)
	gtm := `(function(w,d,s,l,i){w[l]=w[l]||[];w[l].push({'gtm.start':
new Date().getTime(),event:'gtm.js'});var f=d.getElementsByTagName(s)[0],
j=d.createElement(s),dl=l!='dataLayer'?'&l='+l:'';j.async=true;j.src=
'https://www.googletagmanager.com/gtm.js?id='+i+dl;f.parentNode.insertBefore(j,f);
})(window,document,'script','dataLayer','GTM-ABC1234');`
	// First-party code full of near misses: "window.", "google", "gtag(".
	chunk := `window.dataLayer = window.dataLayer || []; function gtag(){dataLayer.push(arguments);}
gtag('consent', 'default', {analytics_storage: 'denied'}); var cart = window.cart || {items: []};
document.querySelectorAll('.product a').forEach(function (a) { a.addEventListener('click', function (e) {
  window.location.href = a.getAttribute('href') + '?ref=grid&utm_source=google'; }); });
`
	// The worst case for skipping ahead: every signature's first half, over
	// and over, so that a signature may start almost anywhere.
	var heads strings.Builder
	for _, v := range Builtin() {
		for _, sig := range v.Match.Inline {
			heads.WriteString(sig[:len(sig)/2])
		}
	}
	cases := []struct{ name, text string }{
		{"gtm-snippet", gtm},
		{"near-misses-64KiB", strings.Repeat(chunk, 64<<10/len(chunk))},
		{"signature-heads-64KiB", strings.Repeat(heads.String(), 64<<10/heads.Len())},
	}
	if corpus := corpusInlineScripts(b); corpus != "" {
		cases = append(cases, struct{ name, text string }{"corpus-scripts", corpus})
	}
	for _, c := range cases {
		text := []byte(c.text)
		b.Run(c.name, func(b *testing.B) {
			dst := make([]int, 0, 64)
			b.SetBytes(int64(len(text)))
			b.ReportAllocs()
			for b.Loop() {
				dst = m.MatchInline(text, dst[:0])
			}
		})
	}
}

func BenchmarkMatchCookie(b *testing.B) {
	m, _, _ := builtinMatcher(b)
	names := []string{"_ga_ABC123", "PHPSESSID", "_hjSessionUser_123"}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		m.MatchCookie(names[i%len(names)])
	}
}

// corpusInlineScripts concatenates the inline scripts of the corpus pages
// (1.4 MB of real first- and third-party code), or returns "".
func corpusInlineScripts(tb testing.TB) string {
	files, _ := filepath.Glob(filepath.Join(corpusDir, "*.html"))
	var all strings.Builder
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		refs, _ := pageRefs(parsePage(tb, data))
		for _, r := range refs {
			all.WriteString(r.inline)
		}
	}
	return all.String()
}
