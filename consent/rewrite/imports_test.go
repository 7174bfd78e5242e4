package rewrite

import (
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

// refImports lists the absolute specifiers text imports from, trying the
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
			if l := strings.ToLower(spec); strings.HasPrefix(l, "//") || strings.HasPrefix(l, "https://") || strings.HasPrefix(l, "http://") {
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
}
