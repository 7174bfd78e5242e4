package banner

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// The state is written by hand for speed; it must still be the JSON the
// banner reads, whatever the ids hold.
func TestAppendStateIsJSON(t *testing.T) {
	for _, s := range []State{
		{},
		{Decided: true, PolicyVersion: "0123abcd", Signal: true, Changed: "Vendors added: <b>X</b> & \"Y\"",
			Purposes: []PurposeState{{"necessary", true}, {"analytics", false}}, Vendors: []string{"youtube", "google-maps"}},
		// Ids are validated upstream; escaping still holds if one is not.
		{PolicyVersion: `v"1</script>`, Purposes: []PurposeState{{"a\"b\\c\u2028", true}}, Vendors: []string{"x\x01<"}},
	} {
		out := AppendState([]byte("pre"), s)
		if !strings.HasPrefix(string(out), "pre") || strings.Contains(string(out), "</script") {
			t.Fatalf("state %+v: %s", s, out)
		}
		var got struct {
			Decided       bool            `json:"decided"`
			Purposes      map[string]bool `json:"purposes"`
			Vendors       []string        `json:"vendors"`
			PolicyVersion string          `json:"policy_version"`
			Signal        bool            `json:"signal"`
			Changed       string          `json:"changed"`
		}
		if err := json.Unmarshal(out[3:], &got); err != nil {
			t.Fatalf("state %+v: %v\n%s", s, err, out)
		}
		want := map[string]bool{}
		for _, p := range s.Purposes {
			want[p.ID] = p.Granted
		}
		if got.Decided != s.Decided || got.PolicyVersion != s.PolicyVersion || got.Signal != s.Signal ||
			got.Changed != s.Changed || !reflect.DeepEqual(got.Purposes, want) || len(got.Vendors) != len(s.Vendors) {
			t.Fatalf("state %+v read back as %+v", s, got)
		}
		for i := range s.Vendors {
			if got.Vendors[i] != s.Vendors[i] {
				t.Fatalf("vendor %q read back as %q", s.Vendors[i], got.Vendors[i])
			}
		}
	}
}
