package caddymodule_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// TestSpeculationRulesHeaderAndFiles: a page's Speculation-Rules header has
// the browser fetch rules files and prefetch or prerender what they list.
// Without consent, a rules file on a blocked vendor's host is dropped from
// the header (also from a line a browser would not parse), and a rules file the site serves loses the vendors' URLs,
// keeps its own, and stays JSON, however it streams and however often it
// is asked for; with everything granted both are the upstream's. Document
// rules that could pick any link are narrowed to the site's paths either
// way.
func TestSpeculationRulesHeaderAndFiles(t *testing.T) {
	const fbURL = "https://connect.facebook.net/spec/next.html"
	header := []string{
		`"/rules.json", "https://connect.facebook.net/spec/rules.json";tag=x, "https://cdn.example/rules.json"`,
		`"https://www.googletagmanager.com/rules.json"`,
		`"/rules,2.json", "https://connect.facebook.net/unterminated.json`,
	}
	rules := `{"prefetch": [{"source": "list", "urls": ["/next.html", "` + fbURL + `"], "eagerness": "immediate"}]}`
	// A file longer than what the gateway holds in one buffer streams
	// through the rewriter (and, asked for again, its page cache).
	var big strings.Builder
	big.WriteString(`{"prefetch": [{"source": "list", "urls": ["` + fbURL + `"`)
	for i := 0; big.Len() < 40<<10; i++ {
		fmt.Fprintf(&big, `, "/p/%d.html"`, i)
	}
	big.WriteString(`]}]}`)
	serveRules := func(body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/speculationrules+json")
			w.Header().Set("Etag", fmt.Sprintf(`"r%d"`, len(body)))
			w.Write([]byte(body))
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/page", func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Speculation-Rules"] = header
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(trackerPage(200)))
	})
	mux.HandleFunc("/rules.json", serveRules(rules))
	mux.HandleFunc("/big.json", serveRules(big.String()))
	docRules := `{"prefetch": [{"source": "document", "where": {"selector_matches": "a"}}]}`
	mux.HandleFunc("/doc.json", serveRules(docRules))
	base := consentProxy(t, mux)
	c := newClient(t)
	fetchRules := func(path string, headers ...string) (*http.Response, string) {
		t.Helper()
		return get(t, c, base+path, append([]string{"Accept", "*/*", "Sec-Fetch-Dest", "speculationrules"}, headers...)...)
	}
	listed := func(body string) []string {
		t.Helper()
		var set struct {
			Prefetch []struct{ URLs []string }
		}
		if err := json.Unmarshal([]byte(body), &set); err != nil || len(set.Prefetch) != 1 {
			t.Fatalf("the rules file is not the site's rule set: %v\n%.300s", err, body)
		}
		return set.Prefetch[0].URLs
	}

	resp, _ := get(t, c, base+"/page")
	want := []string{`"/rules.json", "https://cdn.example/rules.json"`, `"/rules,2.json"`}
	if got := resp.Header.Values("Speculation-Rules"); !slices.Equal(got, want) {
		t.Errorf("without consent, the page's Speculation-Rules lines are %q, want %q", got, want)
	}
	resp, body := fetchRules("/rules.json")
	if got := listed(body); !slices.Equal(got, []string{"/next.html"}) {
		t.Errorf("without consent, the rules file lists %q, want only the site's own /next.html", got)
	}
	if !slices.Contains(resp.Header.Values("Vary"), "Cookie") || !strings.HasSuffix(resp.Header.Get("Etag"), `-en"`) {
		t.Errorf("the filtered rules file is not marked as made for this consent state: Vary %q, ETag %q",
			resp.Header.Values("Vary"), resp.Header.Get("Etag"))
	}
	// The type decides, not the request: a client that does not say what
	// it fetches gets the same.
	if _, body := get(t, c, base+"/rules.json", "Accept", "*/*"); strings.Contains(body, "facebook") {
		t.Errorf("without consent, a rules file asked for without Sec-Fetch-Dest still lists Facebook: %.300s", body)
	}
	var first string
	for i := range 3 {
		_, body := fetchRules("/big.json")
		got := listed(body)
		if slices.Contains(got, fbURL) || len(got) < 1000 || got[0] != "/p/0.html" {
			t.Fatalf("request %d: without consent, the long rules file lists %d URLs, starting %q; want the site's own without Facebook's", i+1, len(got), got[:min(len(got), 2)])
		}
		if i == 0 {
			first = body
		} else if body != first {
			t.Errorf("request %d: the long rules file differs from the first answer", i+1)
		}
	}

	// Document rules that could pick any link keep to the site's paths,
	// whatever the visitor chose (checked again below).
	const narrowed = `{"prefetch":[{"source":"document","where":{"and":[{"selector_matches":"a"},{"href_matches":"/*"}]}}]}`
	if _, body := fetchRules("/doc.json"); body != narrowed {
		t.Errorf("without consent, the document rules file is\n  %s\nwant it narrowed to the site's paths\n  %s", body, narrowed)
	}

	postChoice(t, c, base, `{"all":true}`)
	if _, body := fetchRules("/doc.json"); body != narrowed {
		t.Errorf("with everything granted, the document rules file is\n  %s\nwant it narrowed to the site's paths\n  %s", body, narrowed)
	}
	if resp, _ := get(t, c, base+"/page"); !slices.Equal(resp.Header.Values("Speculation-Rules"), header) {
		t.Errorf("with everything granted, the page's Speculation-Rules lines are %q, want the upstream's", resp.Header.Values("Speculation-Rules"))
	}
	if _, body := fetchRules("/rules.json"); body != rules {
		t.Errorf("with everything granted, the rules file is\n  %s\nwant the upstream's\n  %s", body, rules)
	}
}
