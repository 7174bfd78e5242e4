package caddymodule

import (
	"net/http"

	"github.com/consentgate/consentgate/consent/scan"
)

// thirdParties notes, for every page the gateway rewrites, the third-party
// origins it loads that no vendor covers. It is process-wide so that it
// outlives config reloads; the admin API and `consentctl scan` list it.
var thirdParties = scan.NewRecorder(0)

// serveScan lists the third parties pages load that the policy does not
// cover, optionally for one site.
func (a *AdminAPI) serveScan(w http.ResponseWriter, r *http.Request, _ []*auditStore) error {
	rep := thirdParties.Report()
	if site := r.URL.Query().Get("site"); site != "" {
		kept := rep.Entries[:0]
		for _, e := range rep.Entries {
			if e.Site == site {
				kept = append(kept, e)
			}
		}
		rep.Entries = kept
	}
	return writeJSON(w, rep)
}
