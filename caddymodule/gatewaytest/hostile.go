package gatewaytest

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/consentgate/consentgate/banner"
)

// Hostile is what a careless (or compromised) configuration source might
// put into every text: markup that ends a script element and starts
// another, that breaks out of an attribute into an element with an event
// handler, a JavaScript line terminator, and the ends and starts of
// comments that change how script data is tokenized. Its scripts would set
// window.__injected and open a dialog.
const Hostile = `</script><script>window.__injected=1;alert(1)</script>"'><img src=x onerror=window.__injected=1;alert(1)>` +
	"\u2028" + `--><!--<script>`

// HostileConfig is a consent configuration whose every operator text is
// Hostile markup: the privacy policy URL, every banner text (English), a
// purpose "hostile" (name and description), the analytics purpose's name,
// and a vendor "hostile-video" of that purpose (name, company, policy URL,
// description) whose frames from video.hostile.example are blocked.
type HostileConfig struct {
	Texts                                   map[string]string // by key, each keeping the %s its text formats with
	PrivacyPolicy, PurposeName, PurposeDesc string
	Analytics                               string // the analytics purpose's name
	VendorName, Company, VendorPolicy       string
	VendorDesc                              string
}

// HostileFrame is a frame of the hostile vendor, which the gateway blocks.
const HostileFrame = `<iframe src="https://video.hostile.example/embed/1" title="hostile video"></iframe>`

// NewHostileConfig makes the hostile texts.
func NewHostileConfig(t testing.TB) HostileConfig {
	t.Helper()
	locales, err := banner.LoadLocales("en", nil)
	if err != nil {
		t.Fatal(err)
	}
	h := HostileConfig{
		Texts:         map[string]string{},
		PrivacyPolicy: "https://site.example/privacy?x=" + Hostile,
		PurposeName:   Hostile + " purpose name",
		PurposeDesc:   Hostile + " purpose description",
		Analytics:     Hostile + " analytics",
		VendorName:    Hostile + " vendor name",
		Company:       Hostile + " company",
		VendorPolicy:  "https://vendor.example/privacy?x=" + Hostile,
		VendorDesc:    Hostile + " vendor description",
	}
	for key, text := range locales.Texts("en") {
		// Keep the %s a text formats with, so the banner still can.
		h.Texts[key] = Hostile + " " + key + strings.Repeat(" %s", strings.Count(text, "%s"))
	}
	return h
}

// Consent is the body of a consent block that configures the texts.
func (h HostileConfig) Consent() string {
	var b strings.Builder
	fmt.Fprintf(&b, "\t\tprivacy_policy `%s`\n", h.PrivacyPolicy)
	keys := make([]string, 0, len(h.Texts))
	for key := range h.Texts {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	for _, key := range keys {
		fmt.Fprintf(&b, "\t\ttext en %s `%s`\n", key, h.Texts[key])
	}
	fmt.Fprintf(&b, `		purpose hostile {
			name en `+"`%s`"+`
			description en `+"`%s`"+`
		}
		purpose analytics {
			name en `+"`%s`"+`
		}
		vendor hostile-video {
			name `+"`%s`"+`
			company `+"`%s`"+`
			country DE
			purpose hostile
			policy_url `+"`%s`"+`
			description en `+"`%s`"+`
			match frame video.hostile.example
		}
`, h.PurposeName, h.PurposeDesc, h.Analytics, h.VendorName, h.Company, h.VendorPolicy, h.VendorDesc)
	return b.String()
}
