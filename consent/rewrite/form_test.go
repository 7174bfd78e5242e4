package rewrite

import (
	"testing"

	"github.com/consentgate/consentgate/consent/catalog"
)

// TestFormActionReportedNeverBlocked: a form posting to a third party is
// reported to OnURL for the scan but left as it is, even by a judge that
// would block its address.
func TestFormActionReportedNeverBlocked(t *testing.T) {
	in := `<form method="post" action="https://tracker.example/subscribe"><input name=e></form>` +
		`<FORM ACTION=/local data-consent="marketing"></FORM>`
	var seen []string
	opt := Options{Judge: blockAll{}, OnURL: func(kind catalog.Kind, url []byte, v Verdict) {
		if kind == catalog.KindForm {
			seen = append(seen, string(url))
		}
	}}
	if out := string(Rewrite(nil, []byte(in), opt)); out != in {
		t.Errorf("a form was changed:\n got %q\nwant %q", out, in)
	}
	if len(seen) != 2 || seen[0] != "https://tracker.example/subscribe" || seen[1] != "/local" {
		t.Errorf("form actions reported: %q", seen)
	}
}
