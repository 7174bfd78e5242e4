package rewrite

import (
	"fmt"
	"io"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/consentgate/consentgate/consent/catalog"
)

// A module that imports a vendor's code is that vendor's, as a src naming
// the URL would be; one importing only from its own site, or a classic
// script, is judged as before (testJudge: tracker.example is "ads",
// connect.facebook.net "facebook", fonts.googleapis.com an allowed vendor).
func TestModuleImports(t *testing.T) {
	const mt = ` data-consent-type="module"`
	module := func(text string) string { return `<script type="module">` + text + `</script>` }
	blocked := func(marks, text string) string { return `<script` + txt + marks + mt + `>` + text + `</script>` }
	var cases []rwCase
	for _, text := range []string{
		`import "` + trk + `";`,
		`import { a } from '` + trk + `'; a();`,
		"import{a}from\"" + trk + "\";a()",
		"const m = await import(\n  \"//tracker.example/x.js\"\n);",
		"import(`HTTPS://tracker.example/x.js`).then(run)",
		`export * from "` + trk + `";`,
		`import "/app.js"; import x from "https://fonts.googleapis.com/m.js"; import "` + trk + `";`,
	} {
		cases = append(cases, rwCase{"imports the tracker: " + text, module(text), blocked(ads, text)})
	}
	for _, text := range []string{
		`import { shop } from "./shop.js"; import "/assets/app.js";`,
		`const links = Array.from("` + trk + `");`,
		`importScripts("` + trk + `")`,
		"import(`https://${host}/x.js`)",
		`reimport "` + trk + `"`,
		`import "https://tracker.example/x\"y.js"`,
		"import \"https://tracker.example/\nx.js\"",
		`const url = "` + trk + `"; import x from "https://cdn.example/lib.js";`,
		`import "https://tracker.example/` + strings.Repeat("x", maxSpecifier) + `.js"`,
	} {
		cases = append(cases, rwCase{"imports no tracker: " + text, module(text), ""})
	}
	cases = append(cases,
		rwCase{"an allowed vendor's import", module(`import "https://fonts.googleapis.com/m.js";`), ""},
		rwCase{"a classic script's import() is not read", `<script>import("` + trk + `")</script>`, ""},
		rwCase{"MODULE, spaced", `<script type=" MODULE ">import "` + trk + `"</script>`,
			`<script` + txt + ads + ` data-consent-type=" MODULE ">import "` + trk + `"</script>`},
		rwCase{"a signature still names its vendor", module(`fbq("init"); import "` + trk + `";`), blocked(fb, `fbq("init"); import "`+trk+`";`)},
	)
	checkCases(t, cases, Options{Judge: newTestJudge()})
}

// refImportAt is a module specifier as eachImport's documentation
// describes it, anchored at the keyword: import( "…" ) or import( `…` ),
// import "…", from "…".
var (
	refImportAt = regexp.MustCompile(`^(?:import\s*\(\s*(?:"([^"\\\n\r]*)"|'([^'\\\n\r]*)'|` + "`" + `([^` + "`" + `\\\n\r]*)` + "`" +
		`)|(?:import|from)\s*(?:"([^"\\\n\r]*)"|'([^'\\\n\r]*)'))`)
	refNameByte = regexp.MustCompile(`^[A-Za-z0-9_$.]`)
)

// refImports lists the specifiers text imports from, trying the
// pattern at every keyword that is not part of a name or a property.
func refImports(text string) []string {
	var out []string
	for _, word := range []string{"import", "from"} {
		for i := range len(text) {
			if !strings.HasPrefix(text[i:], word) || i > 0 && (text[i-1] >= 0x80 || refNameByte.MatchString(text[i-1:i])) {
				continue
			}
			sm := refImportAt.FindStringSubmatch(text[i:])
			if sm == nil || !strings.HasPrefix(sm[0], word) {
				continue
			}
			spec := strings.Join(sm[1:], "") // one group matched
			if len(spec) >= maxSpecifier || sm[3] != "" && strings.Contains(spec, "${") {
				continue
			}
			if spec != "" {
				out = append(out, spec)
			}
		}
	}
	return out
}

// TestEachImportAgreesWithReference builds texts from the pieces of import
// statements, URLs and near misses, in any order, and compares eachImport
// with refImports.
func TestEachImportAgreesWithReference(t *testing.T) {
	pieces := []string{"import", "from", "import(", " ", "\n", "(", ")", `"`, "'", "`", ".", "x", "$", "${", "\\", ";",
		trk, "//tracker.example/y.js", "HTTP://tracker.example/z.js", "./app.js", "Array.from", "reimport", "é"}
	rng := rand.New(rand.NewPCG(7, 11))
	for range 50000 {
		var b strings.Builder
		for range rng.IntN(10) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		text := b.String()
		var got []string
		eachImport([]byte(text), func(spec []byte) bool {
			got = append(got, string(spec))
			return true
		})
		if want := refImports(text); !slices.Equal(got, want) {
			t.Fatalf("eachImport(%q) = %q, reference says %q", text, got, want)
		}
	}
}

// A module's imports are judged as a src is: OnURL (the third-party scan)
// sees each, blocked or not.
func TestModuleImportsAreSeen(t *testing.T) {
	var seen []string
	opt := Options{Judge: newTestJudge(), OnURL: func(kind catalog.Kind, url []byte, _ Verdict) {
		if kind == catalog.KindScript {
			seen = append(seen, string(url))
		}
	}}
	in := `<script type="module">import "https://fonts.googleapis.com/m.js"; import "//tracker.example/x.js";</script>`
	Rewrite(nil, []byte(in), opt)
	if want := []string{"https://fonts.googleapis.com/m.js", "//tracker.example/x.js"}; !slices.Equal(seen, want) {
		t.Errorf("OnURL saw %q, want %q", seen, want)
	}
	// An import map's URLs are seen as it is read, whether or not an
	// inline module imports them (a site's script file may).
	seen = nil
	Rewrite(nil, []byte(`<script type="importmap">{"imports": {"a": "/a.js", "t": "`+trk+`", "lib/": "https://cdn.example/lib/"}}</script>`), opt)
	if want := []string{"/a.js", trk, "https://cdn.example/lib/"}; !slices.Equal(seen, want) {
		t.Errorf("OnURL saw %q in an import map, want %q", seen, want)
	}
}

// A module that imports a name the page's import map maps to a vendor's
// URL is that vendor's; the map itself loads nothing and is never
// neutralised. With a base naming the vendor's host, a relative specifier
// is the vendor's too.
func TestImportMaps(t *testing.T) {
	const mt = ` data-consent-type="module"`
	importMap := func(json string) string { return `<script type="importmap">` + json + `</script>` }
	module := func(text string) string { return `<script type="module">` + text + `</script>` }
	blocked := func(text string) string { return `<script` + txt + ads + mt + `>` + text + `</script>` }
	pixel := importMap(`{"imports": {"pixel": "` + trk + `", "vue": "/js/vue.js", "vendor/": "https://tracker.example/lib/"}}`)
	scoped := importMap(`{"scopes": {"/shop/": {"pixel": "//tracker.example/p.js"}}, "imports": {"vue": "/js/vue.js"}}`)
	cases := []rwCase{
		{"a mapped name", pixel + module(`import "pixel";`), pixel + blocked(`import "pixel";`)},
		{"a mapped name, dynamic", pixel + module(`await import('pixel')`), pixel + blocked(`await import('pixel')`)},
		{"a mapped prefix", pixel + module(`import {t} from "vendor/t.js"`), pixel + blocked(`import {t} from "vendor/t.js"`)},
		{"a name mapped under a scope", scoped + module(`import "pixel"`), scoped + blocked(`import "pixel"`)},
		{"a map type spelt loosely", `<script type=" ImportMap ">{"imports":{"pixel":"` + trk + `"}}</script>` + module(`import "pixel"`),
			`<script type=" ImportMap ">{"imports":{"pixel":"` + trk + `"}}</script>` + blocked(`import "pixel"`)},
		{"two maps", importMap(`{"imports":{"vue":"/vue.js"}}`) + importMap(`{"imports":{"pixel":"`+trk+`"}}`) + module(`import "vue"; import "pixel"`),
			importMap(`{"imports":{"vue":"/vue.js"}}`) + importMap(`{"imports":{"pixel":"`+trk+`"}}`) + blocked(`import "vue"; import "pixel"`)},
		{"a first-party mapping", pixel + module(`import {createApp} from "vue"`), ""},
		{"an unmapped name", pixel + module(`import "pixels"; import "vendor"`), ""},
		{"the map after the module", module(`import "pixel";`) + pixel, ""},
		{"a classic script is not read", pixel + `<script>import("pixel")</script>`, ""},
		{"a mapping's URL outside imports and scopes", importMap(`{"integrity": {"pixel": "`+trk+`"}}`) + module(`import "pixel"`), ""},
		{"a map that is no JSON", importMap(`{"imports": {"pixel": `+trk+`}}`) + module(`import "pixel"`), ""},
		{"relative, against the vendor's base", `<base href="https://tracker.example/">` + module(`import "./x.js"`),
			`<base href="https://tracker.example/">` + blocked(`import "./x.js"`)},
		{"root-relative, against the vendor's base", `<base href="https://tracker.example/a/">` + module(`import "/x.js"`),
			`<base href="https://tracker.example/a/">` + blocked(`import "/x.js"`)},
		{"relative, against the page", module(`import "./x.js"; import "../y.js"`), ""},
	}
	checkCases(t, cases, Options{Judge: newTestJudge()})
}

// An import map longer than what is held is read on its held prefix; the
// rest streams through unchanged and is not scanned as script.
func TestLongImportMap(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"imports": {"pixel": "` + trk + `"`)
	for i := 0; b.Len() < 3*HoldLimit; i++ {
		fmt.Fprintf(&b, `, "m%d": "/js/m%d.js?fbq('init')"`, i, i)
	}
	b.WriteString(`, "late": "https://tracker.example/late.js"}}`)
	importMap := `<script type="importmap">` + b.String() + `</script>`
	checkCases(t, []rwCase{
		{"mapped early", importMap + `<script type="module">import "pixel"</script>`,
			importMap + `<script` + txt + ads + ` data-consent-type="module">import "pixel"</script>`},
		{"mapped past the held prefix", importMap + `<script type="module">import "late"</script>`, ""},
	}, Options{Judge: newTestJudge()})
}

// eachMapping reads the mappings of imports and of every scope, in order,
// and nothing else of the map.
func TestEachMapping(t *testing.T) {
	text := `{"imports": {"a": "/a.js", "b/": "https://cdn.example/b/", "n": 1, "o": {"x": "y"}},
		"scopes": {"/s/": {"a": "/s/a.js"}, "/t/": ["no"]}, "integrity": {"/a.js": "sha384-x"}, "x": ["imports"]}`
	var got []string
	eachMapping([]byte(text), func(from, to string) bool {
		got = append(got, from+"="+to)
		return true
	})
	if want := []string{"a=/a.js", "b/=https://cdn.example/b/", "a=/s/a.js"}; !slices.Equal(got, want) {
		t.Errorf("eachMapping = %q, want %q", got, want)
	}
}

// A page's import maps leave little held: nothing for names mapped to URLs
// the visitor's choice allows, and a bounded set of blocked names and
// prefix mappings however many maps the page has.
func TestImportMapsAreBounded(t *testing.T) {
	page := func(keyEnd, to string) string { // 40 maps of 100 mappings each
		var b strings.Builder
		for m := range 40 {
			b.WriteString(`<script type="importmap">{"imports": {`)
			for i := range 100 {
				if i > 0 {
					b.WriteString(", ")
				}
				fmt.Fprintf(&b, `"m%d-%d%s%s": "%s"`, m, i, strings.Repeat("x", 30), keyEnd, to)
			}
			b.WriteString(`}}</script>`)
		}
		return b.String()
	}
	held := func(page string) (n, bytes int) {
		r := New(io.Discard, Options{Judge: newTestJudge()})
		io.WriteString(r, page)
		r.Close()
		for _, b := range r.imap.blocked {
			n, bytes = n+1, bytes+len(b.name)
		}
		for _, p := range r.imap.prefixes {
			n, bytes = n+1, bytes+len(p.from)+len(p.to)
		}
		return n, bytes
	}
	if n, _ := held(page("", "/js/app.js")); n != 0 {
		t.Errorf("%d first-party mappings held, want none", n)
	}
	for _, c := range []struct{ keyEnd, to string }{{"", trk}, {"/", "https://cdn.example/lib/"}} {
		if n, size := held(page(c.keyEnd, c.to)); n == 0 || n > maxKept || size > maxKeptBytes {
			t.Errorf("keys ending %q mapped to %s: %d mappings held (%d bytes), want 1 to %d and at most %d bytes",
				c.keyEnd, c.to, n, size, maxKept, maxKeptBytes)
		}
	}
}
