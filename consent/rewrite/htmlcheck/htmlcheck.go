// Package htmlcheck tells, independently of the rewriter, what a page would
// make a browser load: it parses with golang.org/x/net/html, the reference
// HTML5 parser, and lists every live resource reference and every inline
// script that would run. Tests use it to check the rewriter's output.
package htmlcheck

import (
	"bytes"
	"net/url"
	"strings"
	"sync"

	"golang.org/x/net/html"

	"github.com/consentgate/consentgate/consent/catalog"
	"github.com/consentgate/consentgate/consent/rewrite"
	"github.com/consentgate/consentgate/consent/rewrite/htmlcheck/csscheck"
)

// Load is one resource the page would fetch.
type Load struct {
	Kind catalog.Kind
	Tag  string
	URL  string
}

// loadingRels are the link relations that make the browser fetch or connect.
var loadingRels = map[string]bool{
	"stylesheet": true, "preconnect": true, "dns-prefetch": true, "preload": true,
	"prefetch": true, "modulepreload": true, "prerender": true, "icon": true, "manifest": true,
	"apple-touch-icon": true, "apple-touch-icon-precomposed": true, "apple-touch-startup-image": true, "mask-icon": true,
	"compression-dictionary": true,
}

// presentationAttrs are the SVG attributes whose url() loads.
var presentationAttrs = []string{"fill", "stroke", "mask", "clip-path", "cursor", "filter", "marker-start", "marker-mid", "marker-end"}

// jsTypes are script types a browser executes.
func isJS(typ string) bool {
	switch strings.ToLower(strings.TrimSpace(typ)) {
	case "", "module", "text/javascript", "application/javascript", "text/ecmascript",
		"application/ecmascript", "text/jscript", "text/livescript", "application/x-javascript":
		return true
	}
	return false
}

// Page is what a parsed page would load and run.
type Page struct {
	Loads   []Load
	Scripts []string // inline scripts that would run

	base     *url.URL // the first <base href> met in the walk, if it names a host
	baseSeen bool
}

// load notes a URL the page loads, resolved against the base when it is
// relative and the page's base names a host.
func (p *Page) load(kind catalog.Kind, tag, u string) {
	if p.base != nil {
		if ref, err := url.Parse(strings.TrimSpace(u)); err == nil && !ref.IsAbs() && ref.Host == "" {
			u = p.base.ResolveReference(ref).String()
		}
	}
	p.Loads = append(p.Loads, Load{kind, tag, u})
}

// Inspect parses the page twice, as a browser with scripting on and one with
// scripting off (which also parses <noscript> content), and merges what both
// would load.
func Inspect(page []byte) Page {
	var p Page
	for _, scripting := range []bool{true, false} {
		doc, err := html.ParseWithOptions(bytes.NewReader(page), html.ParseOptionEnableScripting(scripting))
		if err != nil {
			continue // x/net/html only fails on reader errors
		}
		p.base, p.baseSeen = nil, false
		walk(doc, scripting, &p)
	}
	return p
}

// frameDoc adds what the document a frame holds (its srcdoc, of any
// length) would load and run. The document falls back on the page's base;
// its own first <base href> counts in it alone.
func (p *Page) frameDoc(doc string, scripting bool) {
	root, err := html.ParseWithOptions(strings.NewReader(doc), html.ParseOptionEnableScripting(scripting))
	if err != nil {
		return
	}
	base, seen := p.base, p.baseSeen
	p.baseSeen = false
	walk(root, scripting, p)
	p.base, p.baseSeen = base, seen
}

func walk(n *html.Node, scripting bool, p *Page) {
	if n.Type == html.ElementNode {
		visit(n, scripting, p)
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walk(c, scripting, p)
	}
}

func attr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key && a.Namespace == "" {
			return a.Val, true
		}
	}
	return "", false
}

func visit(n *html.Node, scripting bool, p *Page) {
	add := func(kind catalog.Kind, keys ...string) {
		for _, k := range keys {
			v, ok := attr(n, k)
			if !ok || strings.TrimSpace(v) == "" {
				continue
			}
			if k == "srcset" {
				for _, cand := range strings.Split(v, ",") {
					if f := strings.Fields(cand); len(f) > 0 {
						p.load(kind, n.Data, f[0])
					}
				}
				continue
			}
			p.load(kind, n.Data, v)
		}
	}
	if n.Data != "script" && n.Data != "link" { // they render nothing
		add(catalog.KindImage, "background")
		if style, ok := attr(n, "style"); ok {
			for _, l := range csscheck.Loads(style) {
				if !l.Import { // (an @import in a style attribute imports nothing)
					p.load(catalog.KindImage, n.Data, l.URL)
				}
			}
		}
		// SVG presentation attributes load a url() as the property would.
		for _, name := range presentationAttrs {
			if v, ok := attr(n, name); ok {
				for _, l := range csscheck.Loads(name + ":" + v) {
					p.load(catalog.KindImage, n.Data, l.URL)
				}
			}
		}
	}
	switch n.Data {
	case "a", "area": // a ping is posted to when the link is followed
		if ping, ok := attr(n, "ping"); ok {
			for _, u := range strings.Fields(ping) {
				p.load(catalog.KindImage, n.Data, u)
			}
		}
	case "base":
		if href, ok := attr(n, "href"); ok && !p.baseSeen {
			p.baseSeen = true
			if b, err := url.Parse(strings.TrimSpace(href)); err == nil && b.Host != "" {
				p.base = b
			}
		}
	case "script":
		typ, _ := attr(n, "type")
		if !scripting || !isJS(typ) {
			return
		}
		if _, ok := attr(n, "src"); ok {
			add(catalog.KindScript, "src")
		} else if n.FirstChild != nil && !strings.HasSuffix(n.FirstChild.Data, rewrite.TailPoison) {
			// A script ending in TailPoison is a syntax error and never runs
			// (TestTailPoisonIsSyntaxError in consent/policy checks it with a
			// real JavaScript parser).
			p.Scripts = append(p.Scripts, n.FirstChild.Data)
		}
	case "iframe":
		if doc, ok := attr(n, "srcdoc"); ok { // srcdoc wins over src
			p.frameDoc(doc, scripting)
		} else {
			add(catalog.KindFrame, "src")
		}
	case "embed", "frame":
		add(catalog.KindFrame, "src")
	case "feImage": // in an SVG filter
		add(catalog.KindImage, "href")
	case "object":
		add(catalog.KindFrame, "data")
	case "img":
		add(catalog.KindImage, "src", "srcset")
	case "video":
		add(catalog.KindImage, "src", "poster")
	case "audio", "track":
		add(catalog.KindImage, "src")
	case "source":
		add(catalog.KindImage, "src", "srcset")
	case "link":
		rel, _ := attr(n, "rel")
		for _, r := range strings.Fields(strings.ToLower(rel)) {
			if loadingRels[r] {
				add(catalog.KindLink, "href")
				break
			}
		}
	case "style":
		if n.FirstChild != nil {
			for _, l := range csscheck.Loads(n.FirstChild.Data) {
				if l.Import {
					p.load(catalog.KindLink, "style", l.URL)
				} else {
					p.load(catalog.KindImage, "style", l.URL)
				}
			}
		}
	}
}

// Trackers lists the loads and inline scripts that match a vendor the
// allowed function refuses; each entry names the vendor id and the URL or
// the start of the script.
func (p Page) Trackers(m *catalog.Matcher, vendors []catalog.Vendor, allowed func(catalog.Vendor) bool) []string {
	var out []string
	for _, l := range p.Loads {
		if i := m.Match(l.Kind, []byte(l.URL)); i >= 0 && !allowed(vendors[i]) {
			out = append(out, vendors[i].ID+": <"+l.Tag+"> "+l.URL)
		}
	}
	for _, s := range p.Scripts {
		for _, i := range m.MatchInline([]byte(s), nil) {
			if !allowed(vendors[i]) {
				out = append(out, vendors[i].ID+": inline script "+clip(s, 80))
			}
		}
	}
	return out
}

func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

var builtin struct {
	once    sync.Once
	vendors []catalog.Vendor
	matcher *catalog.Matcher
}

// BuiltinTrackers lists what a page still loads or runs from built-in
// catalogue vendors whose purpose is not among the granted ones
// ("necessary" is always granted).
func BuiltinTrackers(page []byte, granted ...string) []string {
	builtin.once.Do(func() {
		builtin.vendors = catalog.Builtin()
		m, err := catalog.NewMatcher(builtin.vendors)
		if err != nil {
			panic("htmlcheck: built-in catalogue does not compile: " + err.Error())
		}
		builtin.matcher = m
	})
	ok := map[string]bool{"necessary": true}
	for _, g := range granted {
		ok[g] = true
	}
	return Inspect(page).Trackers(builtin.matcher, builtin.vendors, func(v catalog.Vendor) bool { return ok[v.Purpose] })
}

// InlineScriptTexts lists the text of every inline script of a JavaScript
// type, whether it would run or not.
func InlineScriptTexts(page []byte) []string {
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		return nil
	}
	var out []string
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "script" {
			typ, _ := attr(n, "type")
			if _, src := attr(n, "src"); !src && isJS(typ) && n.FirstChild != nil {
				out = append(out, n.FirstChild.Data)
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return out
}
