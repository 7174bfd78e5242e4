package proof

import (
	"strconv"
	"strings"
)

// browser families, most specific first: Edge, Opera and Samsung Internet
// also say "Chrome/", and nearly everyone says "Safari/".
var browsers = []struct{ token, family string }{
	{"Edg/", "Edge"},
	{"EdgA/", "Edge"},
	{"EdgiOS/", "Edge"},
	{"OPR/", "Opera"},
	{"SamsungBrowser/", "Samsung Internet"},
	{"Firefox/", "Firefox"},
	{"FxiOS/", "Firefox"},
	{"CriOS/", "Chrome"},
	{"Chrome/", "Chrome"},
	{"Version/", "Safari"}, // Safari's own version; "Safari/" is the WebKit build
}

// ReduceUserAgent keeps only the browser family and major version of a
// User-Agent header ("Firefox 133", "Chrome 131", "Safari 17", "Edge 131"),
// or "other": enough to show which banner the visitor saw, too little to
// fingerprint.
func ReduceUserAgent(ua string) string {
	for _, b := range browsers {
		i := strings.Index(ua, b.token)
		if i < 0 {
			continue
		}
		if b.family == "Safari" && !strings.Contains(ua, "Safari/") {
			continue
		}
		rest := ua[i+len(b.token):]
		n := 0
		for n < len(rest) && n < 4 && rest[n] >= '0' && rest[n] <= '9' {
			n++
		}
		major, err := strconv.Atoi(rest[:n])
		if err != nil {
			return "other"
		}
		return b.family + " " + strconv.Itoa(major)
	}
	return "other"
}
