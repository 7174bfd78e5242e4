package browsertest

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
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
	corpus, pages := corpusPages(t)
	judge := newTrackerJudge(t)
	port := gatewaytest.FreePort(t)
	gatewaytest.StartSites(t, fmt.Sprintf(":%d {\n\tconsent\n\troot * %s\n\tfile_server\n}", port, corpus))
	gatewaytest.WaitListening(t, port)
	for _, page := range pages {
		name := filepath.Base(page)
		p := newPage(t, gatewaytest.BaseURL(port))
		p.open("/" + url.PathEscape(name))
		judge.check(name)
	}
}

// TestCorpusPagesFromThePageCacheLoadNoTracker: the same for every corpus
// page the gateway keeps in its page cache (those it streams: file_server
// sends a strong ETag), asked for twice first, so that Chromium gets the
// answer made from the kept form.
func TestCorpusPagesFromThePageCacheLoadNoTracker(t *testing.T) {
	corpus, pages := corpusPages(t)
	judge := newTrackerJudge(t)
	port, adminPort := gatewaytest.FreePort(t), gatewaytest.FreePort(t)
	gatewaytest.Start(t, gatewaytest.Globals(adminPort)+fmt.Sprintf(":%d {\n\tconsent\n\troot * %s\n\tfile_server\n}", port, corpus))
	gatewaytest.WaitListening(t, port)
	client := gatewaytest.NewClient(t)
	hits := func() string {
		_, metrics := gatewaytest.Get(t, client, fmt.Sprintf("http://localhost:%d/metrics", adminPort))
		for line := range strings.Lines(metrics) {
			if strings.HasPrefix(line, "caddy_consent_page_cache_hits_total ") {
				return strings.TrimSpace(line)
			}
		}
		return "no caddy_consent_page_cache_hits_total"
	}
	for _, page := range pages {
		if fi, err := os.Stat(page); err != nil || fi.Size() <= 24<<10 {
			continue // buffered whole, never kept
		}
		name := filepath.Base(page)
		for range 2 { // its length learnt, then recorded, for Chromium's first visit
			gatewaytest.Get(t, client, gatewaytest.BaseURL(port)+"/"+url.PathEscape(name), "Accept-Language", chromiumLanguages)
		}
		before := hits()
		p := newPage(t, gatewaytest.BaseURL(port))
		p.open("/" + url.PathEscape(name))
		judge.check(name)
		if after := hits(); after == before {
			t.Errorf("%s: Chromium's visit was not answered from the page cache (%s)", name, after)
		}
	}
}

// chromiumLanguages is the Accept-Language the test browser sends.
const chromiumLanguages = "en-US,en;q=0.9"

func corpusPages(t *testing.T) (dir string, pages []string) {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join(repoRoot, "..", "shared", "corpus"))
	if err != nil {
		t.Fatal(err)
	}
	pages, _ = filepath.Glob(filepath.Join(dir, "*.html"))
	if len(pages) == 0 {
		t.Fatalf("no pages in %s", dir)
	}
	return dir, pages
}

// trackerJudge fails a test for any request the tracker recorder received
// that the catalogue puts with a vendor not strictly necessary.
type trackerJudge struct {
	t       *testing.T
	vendors []catalog.Vendor
	m       *catalog.Matcher
}

func newTrackerJudge(t *testing.T) trackerJudge {
	vendors := catalog.Builtin()
	m, err := catalog.NewMatcher(vendors)
	if err != nil {
		t.Fatal(err)
	}
	return trackerJudge{t, vendors, m}
}

// What Sec-Fetch-Dest says was fetched, as the catalogue's kinds.
var destKinds = map[string]catalog.Kind{"image": catalog.KindImage, "iframe": catalog.KindFrame, "frame": catalog.KindFrame,
	"embed": catalog.KindFrame, "object": catalog.KindFrame, "style": catalog.KindLink, "font": catalog.KindLink}

func (j trackerJudge) check(name string) {
	j.t.Helper()
	for _, h := range trackers.Hits() {
		kind, ok := destKinds[h.Dest]
		if !ok {
			kind = catalog.KindScript
		}
		u := h.Scheme + "://" + h.Host + h.Path
		if h.Query != "" {
			u += "?" + h.Query
		}
		if v := j.m.Match(kind, []byte(u)); v >= 0 && j.vendors[v].Purpose != catalog.PurposeNecessary {
			j.t.Errorf("%s: before any choice Chromium fetched %s for %s (%s)", name, h, j.vendors[v].ID, j.vendors[v].Purpose)
		}
	}
}
