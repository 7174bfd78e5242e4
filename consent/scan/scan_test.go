package scan

import (
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/consentgate/consentgate/consent/catalog"
)

func TestRecorderCountsAndBounds(t *testing.T) {
	r := NewRecorder(3)
	clock := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	r.now = func() time.Time { clock = clock.Add(time.Second); return clock }
	r.Observe("shop.example", "/", catalog.KindScript, []byte("cdn.unknown.example"))
	r.Observe("shop.example", "/", catalog.KindScript, []byte("cdn.unknown.example"))
	r.Observe("shop.example", "/about", catalog.KindImage, []byte("pixel.other.example"))
	r.Observe("shop.example", "/", catalog.KindFrame, []byte("cdn.unknown.example"))
	r.Observe("shop.example", "/full", catalog.KindScript, []byte("dropped.example"))
	rep := r.Report()
	if len(rep.Entries) != 3 || rep.Dropped != 1 {
		t.Fatalf("entries %d dropped %d: %+v", len(rep.Entries), rep.Dropped, rep)
	}
	want := []struct {
		origin, path, kind string
		count              uint64
	}{
		{"cdn.unknown.example", "/", "frame", 1},
		{"cdn.unknown.example", "/", "script", 2},
		{"pixel.other.example", "/about", "image", 1},
	}
	for i, w := range want {
		e := rep.Entries[i]
		if e.Origin != w.origin || e.Path != w.path || e.Kind != w.kind || e.Count != w.count || e.Site != "shop.example" {
			t.Errorf("entry %d: %+v, want %+v", i, e, w)
		}
	}
	if e := rep.Entries[1]; !e.Last.After(e.First) {
		t.Errorf("a repeated observation did not move last_seen: %+v", e)
	}
}

func TestIsThirdParty(t *testing.T) {
	for _, c := range []struct {
		host, site string
		want       bool
	}{
		{"shop.example", "shop.example", false},
		{"cdn.shop.example", "shop.example", false},
		{"evilshop.example", "shop.example", true},
		{"shop.example.evil.net", "shop.example", true},
		{"other.example", "shop.example", true},
	} {
		if got := IsThirdParty([]byte(c.host), c.site); got != c.want {
			t.Errorf("IsThirdParty(%q, %q) = %v", c.host, c.site, got)
		}
	}
}

func BenchmarkObserveHit(b *testing.B) {
	r := NewRecorder(0)
	origin := []byte("cdn.unknown.example")
	for i := 0; i < 100; i++ {
		r.Observe("shop.example", fmt.Sprintf("/p%d", i), catalog.KindScript, origin)
	}
	b.ReportAllocs()
	for b.Loop() {
		r.Observe("shop.example", "/p7", catalog.KindScript, origin)
	}
}

// TestRecorderBoundsWhatAnyoneCanSend: CSP reports (anyone's to post) and
// page paths (the visitor's to choose) cannot make an entry large, and
// reports cannot take the room of what pages show.
func TestRecorderBoundsWhatAnyoneCanSend(t *testing.T) {
	r := NewRecorder(10)
	long := "/" + strings.Repeat("é", 40000)
	for i := range 20 {
		r.ObserveReport(strings.Repeat("h", 1000), fmt.Sprintf("/%d%s", i, long), catalog.KindScript, []byte(strings.Repeat("o", 1000)), strings.Repeat("v", 1000))
	}
	for i := range 5 {
		r.Observe("shop.example", fmt.Sprintf("/page%d", i), catalog.KindScript, []byte("cdn.unknown.example"))
	}
	rep := r.Report()
	reports, pages := 0, 0
	for _, e := range rep.Entries {
		if len(e.Site) > 253 || len(e.Path) > 512 || len(e.Origin) > 253 || len(e.Vendor) > 64 || !utf8.ValidString(e.Path) {
			t.Errorf("an entry holds %d, %d, %d and %d bytes of site, path, origin and vendor (valid UTF-8: %v)",
				len(e.Site), len(e.Path), len(e.Origin), len(e.Vendor), utf8.ValidString(e.Path))
		}
		if e.Via == "csp-report" {
			reports++
		} else {
			pages++
		}
	}
	if reports != 5 || pages != 5 || rep.Dropped != 15 {
		t.Errorf("%d report entries, %d page entries, %d dropped; want 5, 5 and 15", reports, pages, rep.Dropped)
	}
}
