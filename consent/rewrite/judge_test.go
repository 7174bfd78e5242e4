package rewrite

import (
	"bytes"
	"strings"

	"github.com/consentgate/consentgate/consent/catalog"
)

// testJudge is a small real Judge: it blocks URLs containing one of its
// hosts, inline scripts containing one of its signatures, and the purposes
// it lists.
type testJudge struct {
	hosts      []match         // in URLs
	signatures []match         // in inline scripts
	purposes   map[string]bool // purposes not granted
}

// match maps a substring to a vendor id; the first match wins.
type match struct{ sub, vendor string }

var vendors = map[string]struct{ name, purpose string }{
	"google-analytics": {"Google Analytics", "analytics"},
	"gtm":              {"Google Tag Manager", "analytics"},
	"facebook":         {"Meta Pixel", "marketing"},
	"youtube":          {"YouTube", "media"},
	"fonts":            {"Google Fonts", "functional"},
	"doubleclick":      {"Google Ads", "marketing"},
	"hotjar":           {"Hotjar", "analytics"},
	"ads":              {"Ad network", "marketing"},
}

func newTestJudge() *testJudge {
	return &testJudge{
		hosts: []match{
			{"google-analytics.com", "google-analytics"},
			{"googletagmanager.com", "gtm"},
			{"facebook.com", "facebook"},
			{"facebook.net", "facebook"},
			{"youtube.com", "youtube"},
			{"youtube-nocookie.com", "youtube"},
			{"fonts.googleapis.com", "fonts"},
			{"doubleclick.net", "doubleclick"},
			{"googlesyndication.com", "doubleclick"},
			{"hotjar.com", "hotjar"},
			{"scorecardresearch.com", "ads"},
			{"quantserve.com", "ads"},
			{"taboola.com", "ads"},
			{"addthis.com", "ads"},
			{"tracker.example", "ads"},
			{"connect.facebook.net", "facebook"},
			{"platform.twitter.com", "ads"},
			{"googletagservices.com", "doubleclick"},
			{"securepubads.g.doubleclick", "doubleclick"},
		},
		signatures: []match{
			{"GoogleAnalyticsObject", "google-analytics"},
			{"gtag(", "google-analytics"},
			{"fbq(", "facebook"},
			{"googletagmanager.com", "gtm"},
			{"hotjar", "hotjar"},
			{"_gaq", "google-analytics"},
		},
		purposes: map[string]bool{"marketing": true, "analytics": true, "media": true},
	}
}

func (j *testJudge) verdict(vendor string) Verdict {
	v := vendors[vendor]
	return Verdict{Block: j.purposes[v.purpose], Vendor: vendor, VendorName: v.name, Purpose: v.purpose}
}

func (j *testJudge) JudgeURL(_ catalog.Kind, url []byte) Verdict {
	for _, m := range j.hosts {
		if bytes.Contains(url, []byte(m.sub)) {
			return j.verdict(m.vendor)
		}
	}
	return Verdict{}
}

func (j *testJudge) JudgeInline(script []byte) Verdict {
	for _, m := range j.signatures {
		if bytes.Contains(script, []byte(m.sub)) {
			return j.verdict(m.vendor)
		}
	}
	return Verdict{}
}

func (j *testJudge) JudgePurpose(purpose []byte) Verdict {
	p := strings.ToLower(string(purpose))
	return Verdict{Block: j.purposes[p], Purpose: p}
}

// blockAll blocks everything it is asked about.
type blockAll struct{}

func (blockAll) JudgeURL(_ catalog.Kind, url []byte) Verdict {
	return Verdict{Block: true, Vendor: "v", VendorName: "V", Purpose: "p"}
}
func (blockAll) JudgeInline([]byte) Verdict { return Verdict{Block: true, Vendor: "v", Purpose: "p"} }
func (blockAll) JudgePurpose(p []byte) Verdict {
	return Verdict{Block: true, Purpose: string(p)}
}
