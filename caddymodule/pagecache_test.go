package caddymodule_test

import (
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/consentgate/consentgate/caddymodule"
	"github.com/consentgate/consentgate/caddymodule/gatewaytest"
)

// cacheUpstream serves pages under strong ETags: fixed ones, one the test
// swaps under the same ETag (an upstream breaking the ETag's promise), sent
// with or without a Content-Length, and one under a page CSP that makes
// the gateway give every response its own nonce.
type cacheUpstream struct {
	pages   map[string]string // not changed once served
	mutable mutablePage
}

func (u *cacheUpstream) set(body string) { u.mutable.set(body) }

func (u *cacheUpstream) start(t *testing.T) int {
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		body, ok := u.pages[r.URL.Path]
		if r.URL.Path == "/mutable.html" || r.URL.Path == "/mutable-chunked.html" {
			body, ok = u.mutable.get(), true
		}
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if r.URL.Path == "/negotiated" && strings.Contains(r.Header.Get("Accept"), "application/xhtml+xml") {
			w.Header().Set("Content-Type", "application/xhtml+xml") // the same bytes, under the same ETag
		}
		w.Header().Set("ETag", `"v1"`)
		if r.URL.Path == "/csp.html" {
			w.Header().Set("Content-Security-Policy", "script-src 'sha256-AAAA'")
		}
		if r.URL.Path == "/mutable-chunked.html" {
			// No length: the body goes in pieces, so a shorter or longer
			// page keeps the same key.
			for off := 0; off < len(body); off += 10000 {
				io.WriteString(w, body[off:min(off+10000, len(body))])
				w.(http.Flusher).Flush()
			}
			return
		}
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		io.WriteString(w, body)
	})
	return serveMux(t, mux)
}

// cacheSites starts one Caddy with the default page cache at site, the
// page cache off at uncached (the reference: the same gateway, rewriting
// every time), and pageCache at small, all in front of the upstream up.
func cacheSites(t *testing.T, up *cacheUpstream, small string) (site, uncached, smallSite, admin string) {
	t.Helper()
	upPort := up.start(t)
	ports := [3]int{freePort(t), freePort(t), freePort(t)}
	adminPort := freePort(t)
	gatewaytest.Start(t, gatewaytest.Globals(adminPort)+fmt.Sprintf(`:%d {
	consent
	reverse_proxy 127.0.0.1:%d
}
:%d {
	consent {
		page_cache off
	}
	reverse_proxy 127.0.0.1:%d
}
:%d {
	consent {
		page_cache %s
	}
	reverse_proxy 127.0.0.1:%d
}`, ports[0], upPort, ports[1], upPort, ports[2], small, upPort))
	return baseURL(ports[0]), baseURL(ports[1]), baseURL(ports[2]), fmt.Sprintf("http://localhost:%d", adminPort)
}

func cacheHits(t *testing.T, admin string) float64 {
	t.Helper()
	_, body := adminDo(t, "GET", admin+"/metrics")
	return metricValue(t, body, "caddy_consent_page_cache_hits_total")
}

// corpusPage reads a page of ../shared/corpus, skipping the test without it.
func corpusPage(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "shared", "corpus", name))
	if err != nil {
		skipWithoutCorpus(t, fmt.Sprintf("corpus page missing: %v", err))
	}
	return string(b)
}

// TestPageCacheAnswersUnchangedPage: from the third request on, a large page
// under a strong ETag is answered from the page cache (the first has its
// length learnt, the second records it), per consent state, language and
// type and set of vendors allowed one by one, with exactly the bytes the
// gateway makes without the cache, and an exact Content-Length.
func TestPageCacheAnswersUnchangedPage(t *testing.T) {
	up := &cacheUpstream{pages: map[string]string{
		"/shop.html":      trackerPage(200 << 10),
		"/breitbart.html": corpusPage(t, "readability__breitbart.html"),
		"/negotiated":     longXHTMLPage(100 << 10),
	}}
	site, uncached, _, admin := cacheSites(t, up, "4MiB")
	states := []struct {
		name, choice string
		headers      []string
	}{
		{"undecided", "", nil},
		{"undecided, in German", "", []string{"Accept-Language", "de"}},
		{"analytics only", `{"purposes":{"analytics":true}}`, nil},
		{"everything", `{"all":true}`, nil},
		// Two visitors who each allowed one vendor on its own: neither may
		// get the other's page (YouTube live for the Vimeo visitor).
		{"YouTube allowed on its own", `{"vendors":{"youtube":true}}`, nil},
		{"Vimeo allowed on its own", `{"vendors":{"vimeo":true}}`, nil},
		{"YouTube and Vimeo allowed on their own", `{"vendors":{"youtube":true,"vimeo":true}}`, nil},
	}
	for _, st := range states {
		c, ref := newClient(t), newClient(t)
		if st.choice != "" {
			postChoice(t, c, site, st.choice)
			postChoice(t, ref, uncached, st.choice)
		}
		// get asks for XHTML as browsers do, so /negotiated is served as
		// XHTML, and as HTML to a client asking for HTML only.
		for _, path := range []string{"/shop.html", "/breitbart.html", "/negotiated", "/negotiated as HTML"} {
			headers := st.headers
			if p, ok := strings.CutSuffix(path, " as HTML"); ok {
				path, headers = p, append(slices.Clip(headers), "Accept", "text/html")
			}
			_, want := get(t, ref, uncached+path, headers...)
			before := cacheHits(t, admin)
			for i := range 4 {
				resp, body := get(t, c, site+path, headers...)
				if body != want {
					t.Fatalf("%s, %s, request %d: differs from the page rewritten without the cache:\n%s", st.name, path, i+1, firstDiff(body, want))
				}
				if i > 0 && resp.ContentLength != int64(len(body)) {
					t.Errorf("%s, %s, request %d: Content-Length %d for %d bytes", st.name, path, i+1, resp.ContentLength, len(body))
				}
			}
			if hits := cacheHits(t, admin) - before; hits != 2 {
				t.Errorf("%s, %s: %v answers from the cache, want 2 (the second request records the page)", st.name, path, hits)
			}
		}
	}
}

// longXHTMLPage is a well-formed XHTML page with trackers and filler bytes of
// text.
func longXHTMLPage(filler int) string {
	return `<?xml version="1.0" encoding="UTF-8"?>
<html xmlns="http://www.w3.org/1999/xhtml"><head><title>Shop</title>
<script async="async" src="https://www.googletagmanager.com/gtag/js?id=G-TEST123"></script>
</head><body><p>` + strings.Repeat("Fine goods, fairly priced. ", filler/27+1)[:filler] + `</p>
<iframe src="https://www.youtube.com/embed/dQw4w9WgXcQ"></iframe>
</body></html>
`
}

var cspNonce = regexp.MustCompile(`'nonce-([^']+)'`)

// TestPageCacheKeepsMarkupPerResponse: what the gateway injects is made for
// each response; a page answered from the cache carries this response's
// nonce, the one its CSP header names, not the recorded response's.
func TestPageCacheKeepsMarkupPerResponse(t *testing.T) {
	up := &cacheUpstream{pages: map[string]string{"/csp.html": trackerPage(100 << 10)}}
	site, _, _, admin := cacheSites(t, up, "4MiB")
	c := newClient(t)
	seen := map[string]bool{}
	before := cacheHits(t, admin)
	for i := range 4 {
		resp, body := get(t, c, site+"/csp.html")
		m := cspNonce.FindStringSubmatch(resp.Header.Get("Content-Security-Policy"))
		if m == nil {
			t.Fatalf("request %d: no nonce in the CSP %q", i+1, resp.Header.Get("Content-Security-Policy"))
		}
		nonce := m[1]
		if seen[nonce] {
			t.Errorf("request %d: nonce %q used before", i+1, nonce)
		}
		seen[nonce] = true
		if n := strings.Count(body, `nonce="`); n < 2 || n != strings.Count(body, `nonce="`+nonce+`"`) {
			t.Errorf("request %d: %d nonce attributes, %d of them the CSP's %q", i+1, n, strings.Count(body, `nonce="`+nonce+`"`), nonce)
		}
	}
	if hits := cacheHits(t, admin) - before; hits != 2 {
		t.Errorf("%v answers from the cache, want 2", hits)
	}
}

// TestPageCacheKeepsTheFormUnderAForeignBase: a page whose <base href>
// names another host gets the no-JavaScript form with its URLs absolute,
// on the host the request named, from the cache (which keys on the host)
// as well as without it.
func TestPageCacheKeepsTheFormUnderAForeignBase(t *testing.T) {
	up := &cacheUpstream{pages: map[string]string{"/cdn.html": `<base href="https://cdn.example/">` + trackerPage(100<<10)}}
	site, _, _, admin := cacheSites(t, up, "4MiB")
	port := strings.TrimPrefix(site, "http://127.0.0.1:")
	c := newClient(t)
	before := cacheHits(t, admin)
	for i, host := range []string{"shop.example", "shop.example", "shop.example", "localhost", "localhost", "shop.example"} {
		req, _ := http.NewRequest(http.MethodGet, site+"/cdn.html", nil)
		req.Host = host + ":" + port
		req.Header.Set("Accept", "text/html")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		action := `action="http://` + req.Host + `/.consent/choice"`
		if n := strings.Count(string(body), "cg-noscript"); n != 1 || !strings.Contains(string(body), action) {
			t.Errorf("request %d (Host %s): %d no-JavaScript forms, want one with %s", i+1, req.Host, n, action)
		}
	}
	if hits := cacheHits(t, admin) - before; hits != 2 {
		t.Errorf("%v answers from the cache, want 2 (the third and the last)", hits)
	}
}

// fetch gets a page, reporting a response cut short as an error rather
// than failing the test.
func fetch(c *http.Client, url string) (string, error) {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Accept", "text/html")
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// TestPageCacheChangedPageIsRewrittenAfresh: an upstream that changes a page
// under the same strong ETag never gets its old page's rewrite served: the
// cached answer stops where the page first differs, and the gateway
// rewrites the new page, giving the client what it would have got without
// the cache. A tracker added to the page is neutralised, however far into
// the page.
func TestPageCacheChangedPageIsRewrittenAfresh(t *testing.T) {
	up := &cacheUpstream{}
	site, uncached, _, admin := cacheSites(t, up, "4MiB")
	c, ref := newClient(t), newClient(t)
	original := trackerPage(300 << 10)
	mid := strings.Index(original, "Fine goods") + 150<<10
	mid += strings.Index(original[mid:], "Fine goods")
	const pixel = `<img src="https://www.facebook.com/tr?id=9">`
	mutations := []struct {
		name string
		page string
	}{
		{"title changed", strings.Replace(original, "<title>Shop</title>", "<title>Shoq</title>", 1)},
		{"text changed mid-page", original[:mid] + "Good" + original[mid+4:]},
		{"last byte changed", original[:len(original)-1] + " "},
		{"tracker added mid-page", original[:mid] + pixel + original[mid+len(pixel):]},
		{"shorter", original[:len(original)-5000]},
		{"longer", original + strings.Repeat("<p>more</p>", 500) + pixel},
	}
	for _, path := range []string{"/mutable.html", "/mutable-chunked.html"} {
		for _, m := range mutations {
			// Cache the original page, then change it under the same ETag.
			up.set(original)
			for range 3 {
				fetch(c, site+path)
				fetch(ref, uncached+path)
			}
			before := cacheHits(t, admin)
			if body, err := fetch(c, site+path); err != nil || body != mustFetch(t, ref, uncached+path) {
				t.Fatalf("%s, %s: the original page is not answered as without the cache (%v)", path, m.name, err)
			}
			if cacheHits(t, admin)-before != 1 {
				t.Fatalf("%s, %s: the original page was not answered from the cache", path, m.name)
			}
			up.set(m.page)
			got, gotErr := fetch(c, site+path)
			want, wantErr := fetch(ref, uncached+path)
			if (gotErr != nil) != (wantErr != nil) || gotErr == nil && got != want {
				t.Errorf("%s, %s: changed page answered otherwise than without the cache (error %v, want %v):\n%s", path, m.name, gotErr, wantErr, firstDiff(got, want))
			}
			if strings.Contains(inert.ReplaceAllString(got, ""), "www.facebook.com/tr?id=9") {
				t.Errorf("%s, %s: the added pixel went out live", path, m.name)
			}
			// Once the new page has been seen, it is answered whole and right.
			for range 2 {
				got, err := fetch(c, site+path)
				if want := mustFetch(t, ref, uncached+path); err != nil || got != want {
					t.Errorf("%s, %s: later answer differs from the gateway's without the cache (%v):\n%s", path, m.name, err, firstDiff(got, want))
				}
			}
		}
	}
}

func mustFetch(t *testing.T, c *http.Client, url string) string {
	t.Helper()
	for range 3 { // a length learnt for the old page may cut the first answer
		if body, err := fetch(c, url); err == nil {
			return body
		}
	}
	t.Fatalf("%s: no complete answer", url)
	return ""
}

// TestPageCacheBudget: the page cache never holds more than its budget, the
// pages being recorded included; the least recently used page makes room,
// and a page larger than an eighth of the budget (whose kept form would
// take a quarter) is never kept.
func TestPageCacheBudget(t *testing.T) {
	up := &cacheUpstream{pages: map[string]string{}}
	for i := range 8 {
		up.pages[fmt.Sprintf("/p%d.html", i)] = trackerPage(300<<10 + i)
	}
	up.pages["/huge.html"] = trackerPage(1 << 20)
	_, _, small, admin := cacheSites(t, up, "4MiB")
	c := newClient(t)
	held := func() float64 {
		_, body := adminDo(t, "GET", admin+"/metrics")
		return metricValue(t, body, "caddy_consent_page_cache_bytes")
	}
	hitsFor := func(path string) float64 {
		before := cacheHits(t, admin)
		mustFetch(t, c, small+path)
		return cacheHits(t, admin) - before
	}
	for i := range 8 {
		path := fmt.Sprintf("/p%d.html", i)
		if first, second, third := hitsFor(path), hitsFor(path), hitsFor(path); first != 0 || second != 0 || third != 1 {
			t.Errorf("%s: not recorded on the second request and answered from the cache on the third", path)
		}
		if n := held(); n > 4<<20 || n < 600<<10 {
			t.Errorf("after %s the cache holds %v bytes, budget 4 MiB", path, n)
		}
	}
	if hitsFor("/p7.html") != 1 || hitsFor("/p0.html") != 0 {
		t.Error("the most recent page was evicted or the oldest was kept")
	}
	if first, second, third := hitsFor("/huge.html"), hitsFor("/huge.html"), hitsFor("/huge.html"); first+second+third != 0 {
		t.Error("a page over an eighth of the budget was cached")
	}
}

// TestPageCacheRandomChanges: whatever changes in a page under the same
// ETag, and wherever the upstream's writes happen to split it, the answer
// is the gateway's rewrite of the new page, held to the length learnt for
// the old one as without the cache (padded with spaces, or cut off with an
// error). In process, on a real corpus page, with bytes that open and
// close tags, comments, quotes and scripts put in at random places (the
// Caddy tests above cover the same through real connections).
func TestPageCacheRandomChanges(t *testing.T) {
	page := corpusPage(t, "readability__breitbart.html")
	h := provisioned(t, &caddymodule.Handler{})
	rng := rand.New(rand.NewPCG(7, uint64(len(page))))
	serve := func(host, uri, body string) (string, error) {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, "http://"+host+uri, nil)
		req.Header.Set("Accept", "text/html")
		next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("ETag", `"same"`)
			for off := 0; off < len(body); {
				n := min(1+rng.IntN(40000), len(body)-off)
				if _, err := io.WriteString(w, body[off:off+n]); err != nil {
					return err
				}
				off += n
			}
			return nil
		})
		err := h.ServeHTTP(rec, req, next)
		return rec.Body.String(), err
	}
	const tracker = `<script src="https://www.google-analytics.com/analytics.js"></script>`
	pieces := []string{"<", ">", `"`, "'", "<!--", "-->", "<script>", "</script>", "<style>", "<svg><title/>", "&amp;", "\x00", tracker}
	same, cut, padded := 0, 0, 0
	for i := range 60 {
		changed := page
		switch i % 4 {
		case 0, 1: // bytes replaced, the page's length kept
			for range 1 + rng.IntN(3) {
				piece := pieces[rng.IntN(len(pieces))]
				at := rng.IntN(len(changed) - len(piece))
				changed = changed[:at] + piece + changed[at+len(piece):]
			}
		case 2: // cut short (still a page too large to buffer whole)
			changed = changed[:len(changed)/2+rng.IntN(len(changed)/2)]
		case 3: // more at the end
			changed += pieces[rng.IntN(len(pieces))] + tracker
		}
		uri := fmt.Sprintf("/page.html?v=%d", i)
		// The new page's rewrite, by a host that never saw the old one.
		want, err := serve("fresh.test", uri, changed)
		if err != nil {
			t.Fatal(err)
		}
		serve("shop.test", uri, page)             // its length learnt ...
		serve("shop.test", uri, page)             // ... recorded ...
		old, err := serve("shop.test", uri, page) // ... and answered from the cache
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			if fresh, _ := serve("other.test", uri, page); fresh != old {
				t.Fatalf("the host changes the rewrite:\n%s", firstDiff(old, fresh))
			}
		}
		got, err := serve("shop.test", uri, changed)
		switch {
		case len(want) == len(old):
			same++
			if err != nil || got != want {
				t.Fatalf("change %d: %v\n%s", i, err, firstDiff(got, want))
			}
		case len(want) < len(old):
			padded++
			if err != nil || got != want+strings.Repeat(" ", len(old)-len(want)) {
				t.Fatalf("change %d, shorter: %v\n%s", i, err, firstDiff(got, want))
			}
		default:
			cut++
			if err == nil || !strings.HasPrefix(want, got) {
				t.Fatalf("change %d, longer: error %v, %d of %d bytes sent:\n%s", i, err, len(got), len(want), firstDiff(got, want[:min(len(got), len(want))]))
			}
		}
	}
	t.Logf("%d changes of the same length, %d shorter, %d longer", same, padded, cut)
	if same == 0 || padded == 0 || cut == 0 {
		t.Errorf("the random changes must include each kind (same length, shorter, longer): %d, %d, %d", same, padded, cut)
	}
}

// TestPageCacheConcurrentRequests: many visitors at once, in two consent
// states, while the page is learnt, recorded and answered from the cache,
// all get the page the gateway makes without the cache for their state.
func TestPageCacheConcurrentRequests(t *testing.T) {
	up := &cacheUpstream{pages: map[string]string{"/breitbart.html": corpusPage(t, "readability__breitbart.html")}}
	site, uncached, _, admin := cacheSites(t, up, "4MiB")
	var want [2]string
	choices := [2]string{`{"all":false}`, `{"all":true}`}
	for i, choice := range choices {
		ref := newClient(t)
		postChoice(t, ref, uncached, choice)
		_, want[i] = get(t, ref, uncached+"/breitbart.html")
	}
	var wg sync.WaitGroup
	errs := make(chan string, 16)
	for v := range 16 {
		c := newClient(t)
		postChoice(t, c, site, choices[v%2])
		wg.Go(func() {
			for i := range 8 {
				body, err := fetch(c, site+"/breitbart.html")
				if err != nil || body != want[v%2] {
					errs <- fmt.Sprintf("visitor %d, request %d: %v\n%s", v, i, err, firstDiff(body, want[v%2]))
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if hits := cacheHits(t, admin); hits < 64 {
		t.Errorf("%v of 128 answers from the cache", hits)
	}
}

// TestPageCacheKeepsTheThirdPartyScan: a page answered from the page cache
// counts in the third-party scan as a page rewritten does, each load of an
// uncatalogued third party once per answer.
func TestPageCacheKeepsTheThirdPartyScan(t *testing.T) {
	page := `<html><head><script src="https://cdn.unlisted.example/a.js"></script><script src="https://cdn.unlisted.example/b.js"></script></head><body>` +
		`<img src="https://pics.unlisted.example/p.png"><p>` + strings.Repeat("Plain words. ", 3000) + `</p></body></html>`
	up := &cacheUpstream{pages: map[string]string{"/scanned-by-cache.html": page}}
	site, _, _, admin := cacheSites(t, up, "4MiB")
	c := newClient(t)
	before := cacheHits(t, admin)
	for range 4 {
		get(t, c, site+"/scanned-by-cache.html")
	}
	if hits := cacheHits(t, admin) - before; hits != 2 {
		t.Fatalf("%v answers from the cache, want 2", hits)
	}
	var rep struct {
		Entries []struct {
			Path, Kind, Origin string
			Count              int
		}
	}
	adminJSON(t, "GET", admin+"/consent/scan?site=127.0.0.1", 200, &rep)
	counts := map[string]int{}
	for _, e := range rep.Entries {
		if e.Path == "/scanned-by-cache.html" {
			counts[e.Kind+" "+e.Origin] = e.Count
		}
	}
	if want := map[string]int{"script cdn.unlisted.example": 8, "image pics.unlisted.example": 4}; !maps.Equal(counts, want) {
		t.Errorf("the scan counts %v after 4 answers, want %v", counts, want)
	}
}

// skipWithoutCorpus skips a test that needs ../shared/corpus when it is
// absent, unless CONSENTGATE_REQUIRE_CORPUS is set (.ci/run sets it): CI
// must not pass without the corpus checks.
func skipWithoutCorpus(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("CONSENTGATE_REQUIRE_CORPUS") != "" {
		t.Fatalf("%s, and CONSENTGATE_REQUIRE_CORPUS is set", why)
	}
	t.Skip(why)
}
