package browsertest

import (
	"fmt"
	"net/url"
	"path/filepath"
	"testing"

	"github.com/consentgate/consentgate/caddymodule/gatewaytest"
	"github.com/consentgate/consentgate/consent/catalog"
)

// TestCorpusPagesLoadNoTrackerBeforeConsent serves every page of
// ../shared/corpus (real pages from other projects' test suites) through
// the gateway to Chromium, and fails for any request the tracker recorder
// receives that the catalogue puts with a vendor that is not strictly
// necessary. It is the corpus test of consent/rewrite with the browser as
// the judge: what Chromium fetches, not what a parser thinks it would.
func TestCorpusPagesLoadNoTrackerBeforeConsent(t *testing.T) {
	corpus, err := filepath.Abs(filepath.Join(repoRoot, "..", "shared", "corpus"))
	if err != nil {
		t.Fatal(err)
	}
	pages, _ := filepath.Glob(filepath.Join(corpus, "*.html"))
	if len(pages) == 0 {
		t.Fatalf("no pages in %s", corpus)
	}
	vendors := catalog.Builtin()
	m, err := catalog.NewMatcher(vendors)
	if err != nil {
		t.Fatal(err)
	}
	port := gatewaytest.FreePort(t)
	gatewaytest.StartSites(t, fmt.Sprintf(":%d {\n\tconsent\n\troot * %s\n\tfile_server\n}", port, corpus))
	gatewaytest.WaitListening(t, port)
	// What Sec-Fetch-Dest says was fetched, as the catalogue's kinds.
	kinds := map[string]catalog.Kind{"image": catalog.KindImage, "iframe": catalog.KindFrame, "frame": catalog.KindFrame,
		"embed": catalog.KindFrame, "object": catalog.KindFrame, "style": catalog.KindLink, "font": catalog.KindLink}
	for _, page := range pages {
		name := filepath.Base(page)
		p := newPage(t, gatewaytest.BaseURL(port))
		p.open("/" + url.PathEscape(name))
		for _, h := range trackers.Hits() {
			kind, ok := kinds[h.Dest]
			if !ok {
				kind = catalog.KindScript
			}
			u := h.Scheme + "://" + h.Host + h.Path
			if h.Query != "" {
				u += "?" + h.Query
			}
			if v := m.Match(kind, []byte(u)); v >= 0 && vendors[v].Purpose != catalog.PurposeNecessary {
				t.Errorf("%s: before any choice Chromium fetched %s for %s (%s)", name, h, vendors[v].ID, vendors[v].Purpose)
			}
		}
	}
}
