package rewrite

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

// pageGen generates a large page: tag-dense blocks with trackers, one giant
// inline script in the middle, and a last attribute that never ends.
type pageGen struct {
	size, n int64 // total size and bytes produced
	pending []byte
	stage   int
}

var (
	genBlock = []byte(`<div class="row"><a href="/x">link</a><img src="https://www.facebook.com/tr?id=1" width=1>` +
		`<script src="https://www.google-analytics.com/analytics.js" async></script><p>text &amp; more</p>` +
		`<!-- comment --><iframe src="https://www.youtube.com/embed/x"></iframe><link rel=preconnect href="https://tracker.example">` +
		`<style>@import "https://tracker.example/a.css";</style><noscript><img src="https://tracker.example/p.gif"></noscript>` +
		`<script type="importmap">{"imports": {"p": "https://tracker.example/p.js", "lib/": "https://cdn.example/lib/", "a": "/a.js"}}</script></div>` + "\n")
	genScriptStart = []byte(`<script>fbq('init', '1');`)
	genScriptBody  = bytes.Repeat([]byte(`var a = b < c && "</scr" + "ipt>"; `), 1000)
	genAttrStart   = []byte(`<img src="https://tracker.example/p.gif" alt="`)
	genAttrBody    = bytes.Repeat([]byte("endless "), 4000)
)

func (g *pageGen) Read(p []byte) (int, error) {
	if g.n >= g.size {
		return 0, io.EOF
	}
	if len(g.pending) == 0 {
		switch left := g.size - g.n; {
		case g.stage == 0 && g.n > g.size/3: // ~10 MB of inline script
			g.pending, g.stage = genScriptStart, 1
		case g.stage == 1 && g.n > g.size/3+g.size/10:
			g.pending, g.stage = []byte(`</script>`), 2
		case g.stage == 1:
			g.pending = genScriptBody
		case g.stage == 2 && left < g.size/10: // the last ~10 MB: one attribute
			g.pending, g.stage = genAttrStart, 3
		case g.stage == 3:
			g.pending = genAttrBody
		default:
			g.pending = genBlock
		}
	}
	n := copy(p, g.pending)
	n = int(min(int64(n), g.size-g.n))
	g.pending = g.pending[n:]
	g.n += int64(n)
	return n, nil
}

func TestMemoryBound(t *testing.T) {
	size := int64(100 << 20)
	if testing.Short() {
		size = 10 << 20
	}
	r := New(io.Discard, Options{Judge: newTestJudge(), Early: []byte(testEarly), Hook: []byte(testHook)})
	gen := &pageGen{size: size}
	buf := make([]byte, 32<<10)
	maxHeld := 0
	for {
		n, err := io.ReadFull(gen, buf)
		if n > 0 {
			if _, err := r.Write(buf[:n]); err != nil {
				t.Fatal(err)
			}
			maxHeld = max(maxHeld, r.heldCap())
		}
		if err != nil {
			break
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if maxHeld > 64<<10 || r.heldCap() > 64<<10 {
		t.Errorf("held capacity reached %d bytes, more than 64 KiB", maxHeld)
	}
	if r.Blocked() == 0 || r.Oversized() != 1 {
		t.Errorf("Blocked() = %d, Oversized() = %d", r.Blocked(), r.Oversized())
	}
	t.Logf("%d MB, held capacity at most %d bytes, %d blocked", size>>20, maxHeld, r.Blocked())
}

// TestMemoryLongSrcdoc: a srcdoc of many megabytes is rewritten in place
// within bounded memory, even where the nested document holds long
// scripts written with a reference every few bytes.
func TestMemoryLongSrcdoc(t *testing.T) {
	size := 40 << 20
	if testing.Short() {
		size = 4 << 20
	}
	block := `&lt;p&gt;text &amp;amp; more&lt;img src=&quot;https://tracker.example/p.gif&quot;&gt;` +
		`&lt;script&gt;` + strings.Repeat(`a=&quot;&lt;b&gt;&quot;;`, HoldLimit/4) + `&lt;/script&gt;` +
		`&lt;img alt=&quot;` + strings.Repeat("&#39;", TagLimit/2) + `&quot; src=https://tracker.example/q.gif&gt;` + "\n" +
		`&lt;script&gt;` + strings.Repeat("&#x00003c;", HoldLimit+1) + `&lt;/script&gt;` // a reference for every byte held
	page := io.MultiReader(strings.NewReader(`<p>a page<iframe title="widget" srcdoc="`),
		io.LimitReader(&repeatReader{text: block}, int64(size)), strings.NewReader(`"></iframe><img src="https://tracker.example/p.gif">`))
	r := New(io.Discard, Options{Judge: newTestJudge(), Early: []byte(testEarly), Hook: []byte(testHook)})
	buf := make([]byte, 32<<10)
	maxHeld := 0
	for {
		n, err := page.Read(buf)
		if n > 0 {
			r.Write(buf[:n])
			maxHeld = max(maxHeld, r.heldCap())
		}
		if err != nil {
			break
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if maxHeld > 160<<10 || r.heldCap() > 64<<10 {
		t.Errorf("held capacity reached %d bytes, more than 160 KiB (%d at the end)", maxHeld, r.heldCap())
	}
	if want := 2*(size/len(block)) + 1; r.Blocked() < want {
		t.Errorf("Blocked() = %d, want at least %d", r.Blocked(), want)
	}
	t.Logf("%d MB of srcdoc, held capacity at most %d bytes, %d blocked", size>>20, maxHeld, r.Blocked())
}

// repeatReader reads a text over and over.
type repeatReader struct {
	text string
	at   int
}

func (s *repeatReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		k := copy(p[n:], s.text[s.at:])
		n += k
		s.at = (s.at + k) % len(s.text)
	}
	return n, nil
}

// TestMemoryLongName: a start tag's name longer than TagLimit, ending
// with a write, is not held whole.
func TestMemoryLongName(t *testing.T) {
	var out bytes.Buffer
	r := New(&out, Options{Judge: newTestJudge()})
	name := bytes.Repeat([]byte("x"), 1<<20)
	r.Write(append([]byte("<p>a<img"), name...))
	if r.heldCap() > 64<<10 {
		t.Errorf("held capacity %d bytes after a name of 1 MiB", r.heldCap())
	}
	r.Write([]byte(" style=background:url(https://tracker.example/x.js)>"))
	r.Close()
	if want := "<p>a<img" + string(name) + ads + " data-consent-style=background:url(https://tracker.example/x.js)>"; out.String() != want {
		t.Errorf("got %.40q…%q", out.String(), out.String()[len(out.String())-100:])
	}
}
