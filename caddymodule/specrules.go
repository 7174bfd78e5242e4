package caddymodule

import (
	"net/http"
	"strings"
)

// The Speculation-Rules header. A page's `Speculation-Rules: "/rules.json"`
// (a structured-field list of strings, RFC 8941) names files of speculation
// rules the browser fetches and then acts on: prefetching or prerendering
// the URLs they list. A file the gateway serves is judged when it is
// fetched (rewrite.Options.Rules); a file on a host of a vendor the
// visitor has not allowed is dropped from the header here, since fetching
// it is itself a request to the vendor.

// filterSpeculationRules drops from hdr's Speculation-Rules lines each
// member naming a file a blocked vendor serves; the others stay as written.
func (pw *pageWriter) filterSpeculationRules(hdr http.Header) {
	lines := hdr["Speculation-Rules"]
	if len(lines) == 0 {
		return
	}
	judge := pw.h.judge(pw.visit.decision)
	kept := lines[:0]
	for _, line := range lines {
		members := sfMembers(line)
		out := members[:0]
		for _, m := range members {
			if uri, ok := sfString(m); !ok || !pw.blocksLink(judge, uri) {
				out = append(out, m)
			}
		}
		if len(out) > 0 {
			kept = append(kept, strings.Join(out, ", "))
		}
	}
	if len(kept) == 0 {
		delete(hdr, "Speculation-Rules")
		return
	}
	hdr["Speculation-Rules"] = kept
}

// sfMembers splits a structured-field list into its members, trimmed: at
// commas outside quoted strings. An unterminated string runs to the end of
// the line (a browser ignores such a header; judging it anyway errs on the
// side of the visitor).
func sfMembers(line string) []string {
	var members []string
	for rest := line; rest != ""; {
		var m string
		m, rest = cutOutsideQuotes(rest)
		if m = strings.Trim(m, httpSpace); m != "" {
			members = append(members, m)
		}
	}
	return members
}

// sfString is the string a list member starts with (its parameters after
// it), unescaped; false if the member is not a string, which names no
// file.
func sfString(m string) (string, bool) {
	if m == "" || m[0] != '"' {
		return "", false
	}
	var b strings.Builder
	for i := 1; i < len(m); i++ {
		switch c := m[i]; c {
		case '"':
			return b.String(), true
		case '\\':
			if i+1 < len(m) {
				i++
				b.WriteByte(m[i])
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), true // unterminated: see sfMembers
}
