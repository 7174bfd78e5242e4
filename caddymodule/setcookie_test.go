package caddymodule_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestBlockedCookiesStayOutWhateverTheirDisguise: a page's Set-Cookie for
// a vendor the visitor has not allowed is dropped, also when it names a
// past Expires beside a long Max-Age (browsers go by Max-Age and keep it
// for two years); a line that really deletes such a cookie goes through,
// since removing a tracker's cookie is what consent asks for.
func TestBlockedCookiesStayOutWhateverTheirDisguise(t *testing.T) {
	port := freePort(t)
	startCaddy(t, fmt.Sprintf(`:%d {
	consent
	header Content-Type text/html
	header +Set-Cookie "_ga=GA1.1.1; Path=/; Max-Age=63072000; Expires=Thu, 01 Jan 1970 00:00:00 GMT"
	header +Set-Cookie "_gid=; Path=/; Max-Age=0"
	header +Set-Cookie "_fbp=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT"
	header +Set-Cookie "session=abc; Path=/; HttpOnly"
	respond "<html><head></head><body>ok</body></html>"
}`, port))
	resp, _ := get(t, newClient(t), baseURL(port)+"/", asPage...)
	got := map[string]string{}
	for _, line := range resp.Header.Values("Set-Cookie") {
		name, _, _ := strings.Cut(line, "=")
		got[name] = line
	}
	if line, ok := got["_ga"]; ok {
		t.Errorf("a blocked vendor's cookie disguised as a deletion reached the browser: %q", line)
	}
	for _, name := range []string{"_gid", "_fbp", "session"} {
		if _, ok := got[name]; !ok {
			t.Errorf("%s's line was dropped: %q", name, resp.Header.Values("Set-Cookie"))
		}
	}
	if c := (&http.Response{Header: http.Header{"Set-Cookie": {got["_gid"]}}}).Cookies(); len(c) != 1 || c[0].MaxAge >= 0 {
		t.Errorf("the deletion of _gid arrived changed: %q", got["_gid"])
	}
}
