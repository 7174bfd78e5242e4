package caddymodule_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// lengthUpstream serves streamed-size pages: one under a strong ETag, one
// under a weak ETag, one without, and one whose body the test swaps while
// its strong ETag stays (an upstream breaking the ETag's promise).
type lengthUpstream struct {
	mutable mutablePage
}

func (u *lengthUpstream) set(body string) { u.mutable.set(body) }

// mutablePage is a page body a test swaps while the upstream serves it.
type mutablePage struct {
	mu   sync.Mutex
	body string
}

func (m *mutablePage) set(body string) {
	m.mu.Lock()
	m.body = body
	m.mu.Unlock()
}

func (m *mutablePage) get() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.body
}

func (u *lengthUpstream) start(t *testing.T) int {
	page := trackerPage(100 << 10)
	serve := func(etag string, body func() string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			b := body()
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			if etag != "" {
				w.Header().Set("ETag", etag)
			}
			w.Header().Set("Content-Length", fmt.Sprint(len(b)))
			io.WriteString(w, b)
		}
	}
	fixed := func() string { return page }
	mux := http.NewServeMux()
	mux.Handle("/strong.html", serve(`"s1"`, fixed))
	mux.Handle("/weak.html", serve(`W/"w1"`, fixed))
	mux.Handle("/none.html", serve("", fixed))
	mux.Handle("/mutable.html", serve(`"m1"`, u.mutable.get))
	return serveMux(t, mux)
}

// TestStreamedPageLengthLearnt: a page too large to buffer goes out chunked
// the first time; once its rewritten length is known for a strong ETag and
// consent state, it goes out with an exact Content-Length and the same
// bytes. Weak or missing ETags never get one.
func TestStreamedPageLengthLearnt(t *testing.T) {
	up := &lengthUpstream{}
	port := freePort(t)
	startCaddy(t, fmt.Sprintf(`:%d {
	consent
	reverse_proxy 127.0.0.1:%d
}`, port, up.start(t)))
	base := baseURL(port)
	c := newClient(t)

	var undecided string
	for _, choice := range []string{"", `{"purposes":{"analytics":true}}`, `{"all":true}`} {
		if choice != "" {
			postChoice(t, c, base, choice)
		}
		first, body1 := get(t, c, base+"/strong.html")
		second, body2 := get(t, c, base+"/strong.html")
		if first.ContentLength != -1 {
			t.Errorf("choice %q: first response has Content-Length %d before its length was known", choice, first.ContentLength)
		}
		if second.ContentLength != int64(len(body2)) {
			t.Errorf("choice %q: repeat response Content-Length %d, body %d bytes", choice, second.ContentLength, len(body2))
		}
		if body1 != body2 {
			t.Errorf("choice %q: repeat response differs:\n%s", choice, firstDiff(body2, body1))
		}
		if choice == "" {
			undecided = body1
		} else if body1 == undecided {
			t.Errorf("choice %q: page identical to the undecided one", choice)
		}
	}
	for _, path := range []string{"/weak.html", "/none.html"} {
		for range 2 {
			if resp, _ := get(t, c, base+path); resp.ContentLength != -1 {
				t.Errorf("%s: Content-Length %d announced without a strong ETag", path, resp.ContentLength)
			}
		}
	}
}

// TestStreamedPageLengthBroken: when an upstream changes a page but keeps
// its strong ETag, a shorter page is padded to the announced length with
// trailing spaces, a longer one is cut off with the connection (never sent
// truncated as if complete), and either way the next response is right.
func TestStreamedPageLengthBroken(t *testing.T) {
	up := &lengthUpstream{}
	long := trackerPage(100 << 10)
	// The same page, of the same length, with spaces for its YouTube frame:
	// shorter once rewritten, since the frame becomes a longer placeholder.
	const frame = `<iframe width="560" height="315" src="https://www.youtube.com/embed/dQw4w9WgXcQ" title="YouTube video player" frameborder="0" allowfullscreen></iframe>`
	short := strings.Replace(long, frame, strings.Repeat(" ", len(frame)), 1)
	if short == long {
		t.Fatal("test page lost its YouTube frame")
	}
	up.set(long)
	port := freePort(t)
	startCaddy(t, fmt.Sprintf(`:%d {
	consent
	reverse_proxy 127.0.0.1:%d
}`, port, up.start(t)))
	url := baseURL(port) + "/mutable.html"
	c := newClient(t)

	get(t, c, url) // learns the long page's length
	resp, padded := get(t, c, url)
	longLen := resp.ContentLength
	if longLen != int64(len(padded)) {
		t.Fatalf("Content-Length %d not learnt (body %d bytes)", longLen, len(padded))
	}

	up.set(short)
	resp, padded = get(t, c, url)
	if resp.ContentLength != longLen || int64(len(padded)) != longLen {
		t.Fatalf("shrunk page: Content-Length %d, body %d bytes; want both %d", resp.ContentLength, len(padded), longLen)
	}
	resp, fresh := get(t, c, url)
	if resp.ContentLength != -1 {
		t.Errorf("after a wrong length the page still has Content-Length %d", resp.ContentLength)
	}
	if strings.TrimRight(padded, " ") != fresh || !strings.HasSuffix(padded, " ") {
		t.Errorf("padded page is not the rewritten page plus spaces:\n%s", firstDiff(strings.TrimRight(padded, " "), fresh))
	}
	if strings.Contains(fresh, "youtube") {
		t.Error("the upstream's new page was not served")
	}

	// Learn the short page's length, then grow the page under the same ETag.
	get(t, c, url)
	up.set(long)
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Accept", "text/html")
	if resp, err := c.Do(req); err == nil {
		_, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		if err == nil {
			t.Fatal("a page longer than its announced length was delivered as complete")
		}
	}
	resp, body := get(t, c, url)
	if resp.ContentLength != -1 || !strings.Contains(body, `data-consent-vendor="youtube"`) || !strings.HasSuffix(body, "</html>\n") {
		t.Errorf("after a cut-off response: Content-Length %d, %d bytes, complete=%v",
			resp.ContentLength, len(body), strings.HasSuffix(body, "</html>\n"))
	}
}
