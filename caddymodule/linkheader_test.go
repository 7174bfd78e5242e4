package caddymodule_test

import (
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"slices"
	"strings"
	"testing"
)

// linkLines are the Link header lines of a page: a Tag Manager preload next
// to the site's own stylesheet in one line, a Google Fonts preload whose URI
// holds commas, a preconnect, a canonical link to a vendor's host (which
// loads nothing), a line that does not parse but names Facebook's script,
// and a compression dictionary (Chromium fetches it at once).
var linkLines = []string{
	`<https://www.googletagmanager.com/gtm.js?id=GTM-ABC123>; rel=preload; as=script, </static/app.css>; rel=preload; as=style`,
	`<https://fonts.googleapis.com/css2?family=Roboto:wght@400,700&display=swap>; rel="preload"; as="style"`,
	`<https://fonts.gstatic.com>; rel=preconnect; crossorigin`,
	`<https://www.youtube.com/watch?v=x>; rel=canonical`,
	`preload <https://connect.facebook.net/en_US/fbevents.js`,
	`<https://www.googletagmanager.com/gtm.js?id=GTM-DICT>; rel=compression-dictionary`,
}

// TestLinkHeadersOfBlockedVendorsAreDropped: a browser preloads from a
// page's Link headers, and from an Early Hints answer, before it reads the
// page. Without consent each link that would load a blocked vendor is
// dropped and the rest stays as written; with everything granted the
// headers are the upstream's.
func TestLinkHeadersOfBlockedVendorsAreDropped(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/page", func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Link"] = linkLines
		w.WriteHeader(http.StatusEarlyHints)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(trackerPage(200)))
	})
	base := consentProxy(t, mux)
	want := []string{
		`</static/app.css>; rel=preload; as=style`,
		`<https://www.youtube.com/watch?v=x>; rel=canonical`,
	}
	c := newClient(t)
	hints, resp := getWithHints(t, c, base+"/page")
	if got := resp.Header.Values("Link"); !slices.Equal(got, want) {
		t.Errorf("without consent, the page's Link lines are\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	if len(hints) != 1 || !slices.Equal(hints[0], want) {
		t.Errorf("without consent, Early Hints carried Link lines %q, want one answer with %q", hints, want)
	}

	postChoice(t, c, base, `{"all":true}`)
	hints, resp = getWithHints(t, c, base+"/page")
	if got := resp.Header.Values("Link"); !slices.Equal(got, linkLines) {
		t.Errorf("with everything granted, the page's Link lines are\n  %s\nwant the upstream's", strings.Join(got, "\n  "))
	}
	if len(hints) != 1 || !slices.Equal(hints[0], linkLines) {
		t.Errorf("with everything granted, Early Hints carried %q, want the upstream's", hints)
	}
}

// getWithHints fetches a page as a browser navigates, and returns the Link
// lines of each 103 answer before it.
func getWithHints(t *testing.T, c *http.Client, url string) ([][]string, *http.Response) {
	t.Helper()
	var hints [][]string
	trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
		if code == http.StatusEarlyHints {
			hints = append(hints, h.Values("Link"))
		}
		return nil
	}}
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), trace))
	req.Header.Set("Accept", "text/html")
	resp, _ := do(t, c, req)
	return hints, resp
}
