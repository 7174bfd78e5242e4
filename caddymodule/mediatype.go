package caddymodule

import (
	"strings"

	"golang.org/x/net/http/httpguts"
)

// mimeEssence is the type a browser takes a response for, from its
// Content-Type header lines, as Fetch's "extract a MIME type" reads them:
// the lines are joined and split at commas outside quotes, and the last
// part that parses as type/subtype counts, lower-cased, whatever its
// parameters (a browser ignores a malformed charset where mime.ParseMediaType
// fails). "" means no part parses, and the browser will sniff the body.
func mimeEssence(lines []string) string {
	essence, _ := lastMIMEType(lines)
	return essence
}

// lastMIMEType is the part of the Content-Type lines that counts, and its
// essence (see mimeEssence).
func lastMIMEType(lines []string) (essence, part string) {
	for _, line := range lines {
		for line != "" {
			var p string
			p, line = cutOutsideQuotes(line)
			if e, ok := parseEssence(p); ok && e != "*/*" {
				essence, part = e, p
			}
		}
	}
	return essence, part
}

// charsetLabel is the charset parameter of the Content-Type that counts,
// lower-cased, or "".
func charsetLabel(lines []string) string {
	_, part := lastMIMEType(lines)
	_, params, _ := strings.Cut(part, ";")
	return strings.ToLower(paramValue(params, "charset"))
}

// paramValue is the value of the named parameter (any case) in a header's
// ";"-separated parameters, spaces and quotes trimmed, or "".
func paramValue(params, name string) string {
	for params != "" {
		var param string
		param, params, _ = strings.Cut(params, ";")
		k, v, _ := strings.Cut(param, "=")
		if strings.EqualFold(strings.Trim(k, httpSpace), name) {
			return strings.Trim(v, httpSpace+`"`)
		}
	}
	return ""
}

// cutOutsideQuotes cuts a header line at its first comma outside a quoted
// string (with its backslash escapes).
func cutOutsideQuotes(line string) (part, rest string) {
	quoted := false
	for i := 0; i < len(line); i++ {
		switch c := line[i]; {
		case quoted && c == '\\':
			i++
		case c == '"':
			quoted = !quoted
		case !quoted && c == ',':
			return line[:i], line[i+1:]
		}
	}
	return line, ""
}

// parseEssence is the type and subtype of one MIME type, as the MIME
// Sniffing standard parses it, lower-cased; parameters are not looked at.
func parseEssence(s string) (string, bool) {
	s = strings.Trim(s, httpSpace)
	typ, rest, ok := strings.Cut(s, "/")
	if !ok || !isToken(typ) {
		return "", false
	}
	sub, _, _ := strings.Cut(rest, ";")
	sub = strings.TrimRight(sub, httpSpace)
	if !isToken(sub) {
		return "", false
	}
	// s begins with type/subtype: no need to build it.
	return strings.ToLower(s[:len(typ)+1+len(sub)]), true
}

// httpSpace is HTTP whitespace as the Fetch standard defines it.
const httpSpace = " \t\r\n"

// isToken reports whether s is a non-empty HTTP token (RFC 9110, 5.6.2),
// which is what a header field name must be too.
func isToken(s string) bool { return httpguts.ValidHeaderFieldName(s) }
