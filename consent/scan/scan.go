// Package scan notes the third parties a site's pages load that no vendor
// of the policy covers, so an operator sees what the policy misses. It
// keeps one entry per (site, page path, kind, origin), bounded in number.
package scan

import (
	"sort"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/consentgate/consentgate/consent/catalog"
)

// DefaultMaxEntries bounds the recorder's memory: a site with very many
// paths keeps its first entries and counts what it had to drop.
const DefaultMaxEntries = 10000

// Entry is one unknown third-party origin seen on one page.
type Entry struct {
	Site   string `json:"site"`
	Path   string `json:"path"`
	Kind   string `json:"kind"`   // script, frame, image, link, form
	Origin string `json:"origin"` // host of the URL, lower case
	// Via is "csp-report" for a load the browser reported at run time
	// (see ObserveReport), empty for one seen in the page's markup.
	Via string `json:"via,omitempty"`
	// Vendor is the catalogued vendor a run-time load belongs to: a tracker
	// that slipped past the rewriter and the shim.
	Vendor string    `json:"vendor,omitempty"`
	Count  uint64    `json:"count"`
	First  time.Time `json:"first_seen"`
	Last   time.Time `json:"last_seen"`
}

type key struct {
	site, path, origin, vendor string
	kind                       catalog.Kind
	report                     bool
}

// Recorder collects entries; safe for concurrent use.
type Recorder struct {
	mu      sync.Mutex
	max     int
	entries map[key]*Entry
	reports int // entries that came from CSP reports
	dropped uint64
	now     func() time.Time
}

// Bounds on one entry's strings. A CSP report is anyone's to post and a
// path is the visitor's to choose: without them one entry could hold a
// 64 KiB path, and the bounded number of entries no bounded memory.
const (
	maxSite   = 253 // a DNS name's length
	maxPath   = 512
	maxVendor = 64
)

// clip cuts s to at most n bytes at a character boundary, marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// NewRecorder makes a recorder keeping at most max entries (0: default).
func NewRecorder(max int) *Recorder {
	if max <= 0 {
		max = DefaultMaxEntries
	}
	return &Recorder{max: max, entries: map[key]*Entry{}, now: time.Now}
}

// Observe notes that a page of site at path loads origin. Call it only for
// URLs no vendor matched and whose host is not the site's own.
func (r *Recorder) Observe(site, path string, kind catalog.Kind, origin []byte) {
	r.observe(site, path, kind, origin, "", false, 1)
}

// ObserveTimes is Observe for n loads of origin at once (a page answered
// from the gateway's page cache replays what its rewrite observed).
func (r *Recorder) ObserveTimes(site, path string, kind catalog.Kind, origin []byte, n int) {
	if n > 0 {
		r.observe(site, path, kind, origin, "", false, n)
	}
}

// ObserveReport notes a load the browser reported through the gateway's
// Content-Security-Policy: a third party a script loaded at run time.
// vendor names the catalogued vendor it belongs to, if any.
func (r *Recorder) ObserveReport(site, path string, kind catalog.Kind, origin []byte, vendor string) {
	r.observe(site, path, kind, origin, vendor, true, 1)
}

func (r *Recorder) observe(site, path string, kind catalog.Kind, origin []byte, vendor string, report bool, n int) {
	site, path, vendor = clip(site, maxSite), clip(path, maxPath), clip(vendor, maxVendor)
	if len(origin) > maxSite {
		origin = []byte(clip(string(origin), maxSite))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	if e, ok := r.entries[key{site, path, string(origin), vendor, kind, report}]; ok { // no allocation on a hit
		e.Count += uint64(n)
		e.Last = now
		return
	}
	// Reports may fill half the entries at most, so that a flood of them
	// leaves room for what the gateway sees in pages itself.
	if len(r.entries) >= r.max || report && r.reports >= r.max/2 {
		r.dropped += uint64(n)
		return
	}
	if report {
		r.reports++
	}
	k := key{site, path, string(origin), vendor, kind, report}
	e := &Entry{Site: site, Path: path, Kind: kind.String(), Origin: k.origin, Vendor: vendor, Count: uint64(n), First: now, Last: now}
	if report {
		e.Via = "csp-report"
	}
	r.entries[k] = e
}

// Report is what the recorder holds.
type Report struct {
	Entries []Entry `json:"entries"`
	// Dropped counts observations not kept because the recorder was full.
	Dropped uint64 `json:"dropped"`
}

// Report lists the entries by site, origin, path and kind.
func (r *Recorder) Report() Report {
	r.mu.Lock()
	rep := Report{Entries: make([]Entry, 0, len(r.entries)), Dropped: r.dropped}
	for _, e := range r.entries {
		rep.Entries = append(rep.Entries, *e)
	}
	r.mu.Unlock()
	sort.Slice(rep.Entries, func(i, j int) bool {
		a, b := rep.Entries[i], rep.Entries[j]
		if a.Site != b.Site {
			return a.Site < b.Site
		}
		if a.Origin != b.Origin {
			return a.Origin < b.Origin
		}
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		return a.Via < b.Via
	})
	return rep
}

// IsThirdParty reports whether host (lower case, from catalog.Matcher.Host)
// belongs to another site than site: neither equal nor a subdomain of it.
func IsThirdParty(host []byte, site string) bool {
	h := string(host) // compared, not kept: no allocation
	if h == site {
		return false
	}
	return !(len(h) > len(site) && h[len(h)-len(site)-1] == '.' && h[len(h)-len(site):] == site)
}
