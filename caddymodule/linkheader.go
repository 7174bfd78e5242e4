package caddymodule

import (
	"net/http"
	"strings"

	"github.com/consentgate/consentgate/consent/catalog"
	"github.com/consentgate/consentgate/consent/rewrite"
)

// Link headers (RFC 8288). A browser acts on a page's Link header, and on an
// Early Hints (103) answer to it, before it reads a byte of the page:
// `Link: <https://www.googletagmanager.com/gtm.js?id=…>; rel=preload; as=script`
// fetches from the vendor as a <link rel=preload> in the page would. Each
// link of a blocked vendor that would load is dropped from the header; the
// others stay as they were.

// linkValue is one link of a Link header line, as written.
type linkValue struct {
	raw string // the whole link, URI and parameters
	uri string
	rel string
}

// filterLinks drops from hdr's Link lines each link that loads a vendor the
// visitor has not allowed. A line that does not parse is dropped whole if
// any URI in it is a blocked vendor's.
func (pw *pageWriter) filterLinks(hdr http.Header) {
	lines := hdr["Link"]
	if len(lines) == 0 {
		return
	}
	judge := pw.h.judge(pw.visit.decision)
	blocks := func(uri, rel string) bool {
		return rewrite.LoadsResource([]byte(rel)) && pw.blocksLink(judge, uri)
	}
	kept := lines[:0]
	for _, line := range lines {
		links, ok := parseLinks(line)
		if !ok {
			if !anyURI(line, func(uri string) bool { return blocks(uri, "preload") }) {
				kept = append(kept, line)
			}
			continue
		}
		var out []string
		for _, l := range links {
			if !blocks(l.uri, l.rel) {
				out = append(out, l.raw)
			}
		}
		switch {
		case len(out) == len(links):
			kept = append(kept, line)
		case len(out) > 0:
			kept = append(kept, strings.Join(out, ", "))
		}
	}
	if len(kept) == 0 {
		delete(hdr, "Link")
		return
	}
	hdr["Link"] = kept
}

// blocksLink judges a URL a header has the browser fetch as a link's href,
// and notes it for the third-party scan.
func (pw *pageWriter) blocksLink(judge rewrite.Judge, uri string) bool {
	v := judge.JudgeURL(catalog.KindLink, []byte(uri))
	pw.noteThirdParty(catalog.KindLink, []byte(uri), v)
	return v.Block
}

// parseLinks splits a Link header line into its links: `<uri>` then
// parameters up to a comma outside a quoted string. A URI may hold commas
// (Google Fonts' do), so the split never looks inside <…>.
func parseLinks(line string) ([]linkValue, bool) {
	var links []linkValue
	for i := 0; ; {
		for i < len(line) && (line[i] == ',' || strings.IndexByte(httpSpace, line[i]) >= 0) {
			i++
		}
		if i == len(line) {
			return links, true
		}
		if line[i] != '<' {
			return nil, false
		}
		end := strings.IndexByte(line[i:], '>')
		if end < 0 {
			return nil, false
		}
		start, uri := i, line[i+1:i+end]
		i += end + 1
		params := i
		for quoted := false; i < len(line) && (quoted || line[i] != ','); i++ {
			switch {
			case quoted && line[i] == '\\':
				i++
			case line[i] == '"':
				quoted = !quoted
			}
		}
		links = append(links, linkValue{
			raw: strings.TrimRight(line[start:min(i, len(line))], httpSpace),
			uri: strings.Trim(uri, httpSpace),
			rel: paramValue(line[params:min(i, len(line))], "rel"),
		})
	}
}

// anyURI reports whether f holds for a URI written <…> in line.
func anyURI(line string, f func(uri string) bool) bool {
	for {
		i := strings.IndexByte(line, '<')
		if i < 0 {
			return false
		}
		end := strings.IndexByte(line[i:], '>')
		if end < 0 {
			return f(strings.Trim(line[i+1:], httpSpace))
		}
		if f(strings.Trim(line[i+1:i+end], httpSpace)) {
			return true
		}
		line = line[i+end+1:]
	}
}
