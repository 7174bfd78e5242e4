package scan

import (
	"fmt"
	"testing"
	"time"

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
