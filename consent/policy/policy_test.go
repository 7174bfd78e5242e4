package policy_test

import (
	"strings"
	"testing"

	"github.com/consentgate/consentgate/consent/catalog"
	"github.com/consentgate/consentgate/consent/policy"
)

func TestVersionChangesWithWhatVisitorsAreAsked(t *testing.T) {
	base := builtinPolicy(t).Version
	if again := builtinPolicy(t).Version; again != base {
		t.Fatalf("version not stable: %s vs %s", base, again)
	}
	purposes := policy.DefaultPurposes()
	purposes[2].Description["de"] = "Anders formuliert."
	p, _ := policy.New(purposes, catalog.Builtin())
	if p.Version == base {
		t.Error("changing a purpose text kept the version")
	}
	vendors := catalog.Builtin()
	vendors[0].Company += " Ltd"
	p, _ = policy.New(policy.DefaultPurposes(), vendors)
	if p.Version == base {
		t.Error("changing a vendor's company kept the version")
	}
	p, _ = policy.New(policy.DefaultPurposes(), catalog.Builtin(), []byte("new banner text"))
	if p.Version == base {
		t.Error("changing the banner text kept the version")
	}
	vendors = catalog.Builtin()
	vendors[0].Match.URLs = append(vendors[0].Match.URLs, "extra.example")
	p, _ = policy.New(policy.DefaultPurposes(), vendors)
	if p.Version != base {
		t.Error("a match rule (not shown to visitors) changed the version")
	}
}

func TestPolicyRejectsBadConfiguration(t *testing.T) {
	vendor := func(purpose string) []catalog.Vendor {
		return []catalog.Vendor{{ID: "acme", Name: "Acme", Purpose: purpose, Match: catalog.Rules{Script: []string{"acme.example"}}}}
	}
	cases := []struct {
		purposes []policy.Purpose
		vendors  []catalog.Vendor
		want     string
	}{
		{policy.DefaultPurposes(), vendor("spying"), `vendor "acme": unknown purpose "spying"`},
		{policy.DefaultPurposes()[1:], nil, `"necessary" purpose is required`},
		{append(policy.DefaultPurposes(), policy.Purpose{ID: "analytics"}), nil, `purpose "analytics" is defined twice`},
		{append(policy.DefaultPurposes(), policy.Purpose{ID: "Bad Id"}), nil, `purpose "Bad Id": id must be`},
		{policy.DefaultPurposes(), append(vendor("analytics"), vendor("analytics")...), `vendor "acme" is defined twice`},
		{policy.DefaultPurposes(), []catalog.Vendor{{ID: "acme", Name: "Acme", Purpose: "analytics", Match: catalog.Rules{Inline: []string{strings.Repeat("x", 200)}}}}, `is longer than 127 bytes`},
	}
	for _, tc := range cases {
		if _, err := policy.New(tc.purposes, tc.vendors); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("got %v, want %q", err, tc.want)
		}
	}
}

func TestDecisionAndSignals(t *testing.T) {
	p := builtinPolicy(t)
	d := p.Decide(policy.Choice{Purposes: []string{"analytics", "marketing", "no-longer-exists"}, Vendors: []string{"youtube"}}, false)
	if !d.Granted("analytics") || !d.Granted("marketing") || !d.Granted("necessary") || d.Granted("social") {
		t.Errorf("grants: %v", d.Purposes())
	}
	if !d.VendorAllowedID("youtube") || d.VendorAllowedID("vimeo") || !d.VendorAllowedID("paypal") {
		t.Error("per-vendor allow or necessary vendor wrong")
	}
	// GPC/DNT switch off sale purposes chosen without the signal...
	g := p.Decide(policy.Choice{Purposes: []string{"analytics", "marketing"}}, true)
	if g.Granted("marketing") || !g.Granted("analytics") || !g.SignalHonoured {
		t.Errorf("under signal: %v honoured=%v", g.Purposes(), g.SignalHonoured)
	}
	if !g.SignalTookBack {
		t.Error("the signal took marketing back, but the decision does not say so")
	}
	if a := p.Decide(policy.Choice{Purposes: []string{"analytics"}}, true); !a.SignalHonoured || a.SignalTookBack {
		t.Errorf("a choice without a sale purpose: honoured=%v took back=%v", a.SignalHonoured, a.SignalTookBack)
	}
	if y := p.Decide(policy.Choice{Vendors: []string{"facebook-pixel"}}, true); !y.SignalTookBack || y.VendorAllowedID("facebook-pixel") {
		t.Error("the signal did not take back a marketing vendor allowed one by one")
	}
	// ...but not an opt-in made while sending it.
	if e := p.Decide(policy.Choice{Purposes: []string{"marketing"}, UnderSignal: true}, true); !e.Granted("marketing") {
		t.Error("explicit opt-in under the signal was overridden")
	}
	if u := p.Undecided(false); u.Decided || u.Granted("analytics") || !u.Granted("necessary") {
		t.Error("undecided visitor has grants")
	}
	if p.Undecided(false).Key() == d.Key() {
		t.Error("different decisions share a cache key")
	}
	// Vendors allowed one by one: each set its own key, whatever its order.
	keyOf := func(vendors ...string) string { return p.Decide(policy.Choice{Vendors: vendors}, false).Key() }
	if yt, vi, both := keyOf("youtube"), keyOf("vimeo"), keyOf("youtube", "vimeo"); yt == vi || yt == both || vi == both || yt == p.Undecided(false).Key() {
		t.Errorf("sets of vendors allowed one by one share a cache key: youtube %s, vimeo %s, both %s", yt, vi, both)
	}
	if keyOf("youtube", "vimeo") != keyOf("vimeo", "youtube") {
		t.Error("one set of vendors allowed one by one has two cache keys")
	}
	if !d.CookieAllowed("session") || p.Undecided(false).CookieAllowed("_ga") {
		t.Error("cookie filtering: first-party cookie refused or _ga allowed without consent")
	}
	if v := p.Undecided(false).JudgePurpose([]byte("analytics")); !v.Block {
		t.Error("data-consent=analytics not blocked without consent")
	}
	if v := d.JudgePurpose([]byte("analytics")); v.Block {
		t.Error("data-consent=analytics blocked with consent")
	}
	if v := d.JudgePurpose([]byte("unknown-purpose")); !v.Block {
		t.Error("data-consent with an unknown purpose loads")
	}
}

func TestMergeVendors(t *testing.T) {
	base := catalog.Builtin()
	n := len(base)
	merged := policy.MergeVendors(base, []catalog.Vendor{
		{ID: "google-fonts", Purpose: "necessary", Match: catalog.Rules{Link: []string{"fonts.example.net"}}},
		{ID: "acme", Name: "Acme", Purpose: "analytics", Match: catalog.Rules{Script: []string{"acme.example"}}},
	})
	if len(merged) != n+1 {
		t.Fatalf("merged %d vendors, want %d", len(merged), n+1)
	}
	var fonts catalog.Vendor
	for _, v := range merged {
		if v.ID == "google-fonts" {
			fonts = v
		}
	}
	if fonts.Purpose != "necessary" || fonts.Name == "" || len(fonts.Match.URLs) == 0 || !contains(fonts.Match.Link, "fonts.example.net") {
		t.Errorf("override lost fields or rules: %+v", fonts)
	}
	for _, v := range catalog.Builtin() {
		if v.ID == "google-fonts" && (v.Purpose == "necessary" || contains(v.Match.Link, "fonts.example.net")) {
			t.Error("merging changed the built-in catalogue")
		}
	}
}

// TestMergeVendorsAddsServiceWorkers: an operator teaches a catalogued
// push service the worker the site hosts under a name of its own, and the
// catalogue's stay; what the visitor is asked about, so the policy version,
// does not change.
func TestMergeVendorsAddsServiceWorkers(t *testing.T) {
	base := catalog.Builtin()
	merged := policy.MergeVendors(base, []catalog.Vendor{{ID: "firebase", ServiceWorkers: []string{"/push/fcm-sw.js"}}})
	var fcm catalog.Vendor
	for _, v := range merged {
		if v.ID == "firebase" {
			fcm = v
		}
	}
	if !fcm.OwnsWorker("/push/fcm-sw.js") || !fcm.OwnsWorker("/firebase-messaging-sw.js") {
		t.Errorf("merged firebase has service workers %q, want the catalogue's and /push/fcm-sw.js", fcm.ServiceWorkers)
	}
	before, err := policy.New(policy.DefaultPurposes(), base)
	if err != nil {
		t.Fatal(err)
	}
	after, err := policy.New(policy.DefaultPurposes(), merged)
	if err != nil {
		t.Fatal(err)
	}
	if before.Version != after.Version {
		t.Errorf("a service worker changed the policy version (%s to %s): visitors would be asked again", before.Version, after.Version)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestUnlistedVendorsStayBlocked: a policy that lists only some services
// still recognises the others, and no grant lets them load: not their
// purpose, not "always allow" by id, not their cookies. They are not part
// of what the visitor is shown, so not of the version either.
func TestUnlistedVendorsStayBlocked(t *testing.T) {
	var listed, unlisted []catalog.Vendor
	for _, v := range catalog.Builtin() {
		if v.ID == "matomo" {
			listed = append(listed, v)
		} else {
			unlisted = append(unlisted, v)
		}
	}
	if len(listed) != 1 {
		t.Fatal("the catalogue has no matomo")
	}
	p, err := policy.NewListing(policy.DefaultPurposes(), listed, unlisted)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Vendors) != 1 || len(p.RecognisedVendors()) != len(catalog.Builtin()) {
		t.Errorf("lists %d vendors and recognises %d, want 1 and the whole catalogue", len(p.Vendors), len(p.RecognisedVendors()))
	}
	d := p.Decide(policy.Choice{Purposes: []string{"analytics"}, Vendors: []string{"google-analytics"}}, false)
	if v := d.JudgeURL(catalog.KindScript, []byte("https://www.googletagmanager.com/gtag/js?id=G-1")); !v.Block || v.Purpose != policy.Unlisted || v.Vendor != "" {
		t.Errorf("Google Analytics, unlisted, with analytics granted and allowed by id: %+v, want blocked as unlisted", v)
	}
	if v := d.JudgeInline([]byte(`gtag('config','G-1'); (function(){ga.src='https://www.google-analytics.com/analytics.js'})()`)); !v.Block {
		t.Errorf("an unlisted vendor's inline snippet with its purpose granted: %+v", v)
	}
	if d.CookieAllowed("_ga") || d.VendorAllowedID("google-analytics") {
		t.Error("an unlisted vendor's cookie or id is allowed")
	}
	if v := d.JudgeURL(catalog.KindScript, []byte("https://cdn.matomo.cloud/x.matomo.cloud/matomo.js")); v.Block || v.Vendor != "matomo" {
		t.Errorf("the listed matomo with analytics granted: %+v, want allowed", v)
	}
	for _, v := range p.RecognisedVendors()[1:] {
		if v.Purpose != policy.Unlisted {
			t.Fatalf("the shim would let %s load under %q", v.ID, v.Purpose)
		}
	}
	other, _ := policy.NewListing(policy.DefaultPurposes(), listed, unlisted[1:])
	if other.Version != p.Version {
		t.Error("an unlisted vendor changed the version")
	}
	all, _ := policy.New(policy.DefaultPurposes(), catalog.Builtin())
	if all.Version == p.Version {
		t.Error("listing fewer vendors kept the version")
	}
}
