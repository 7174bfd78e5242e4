package caddymodule

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"time"

	"github.com/consentgate/consentgate/consent/policy"
	"github.com/consentgate/consentgate/consent/proof"
)

// decisionCounts says how visitors decided about one purpose. Every
// record that decides about it (decidesPurpose) falls in exactly one of
// the first five counts, by precedence:
//
//	withdrawn      a withdrawal (type withdrawn, action withdraw)
//	gpc_defaulted  a browser signal switched it off (type gpc_default, action signal)
//	custom         the visitor saved a selection (action save_selection), either way
//	accepted       otherwise, the purpose was granted (accept all, a loaded embed)
//	rejected       otherwise, it was refused (reject all)
//
// Granted counts, across those, the decisions that left the purpose
// granted: granted / decisions is the acceptance rate.
type decisionCounts struct {
	Decisions    int `json:"decisions"`
	Accepted     int `json:"accepted"`
	Rejected     int `json:"rejected"`
	Custom       int `json:"custom"`
	Withdrawn    int `json:"withdrawn"`
	GPCDefaulted int `json:"gpc_defaulted"`
	Granted      int `json:"granted"`
}

// dayStats are one UTC day's decisions.
type dayStats struct {
	Day       string                     `json:"day"`
	Decisions int                        `json:"decisions"`
	Purposes  map[string]*decisionCounts `json:"purposes"`
}

// statsAnswer is the answer of /consent/stats. The necessary purpose,
// which cannot be refused, is left out; so are tombstones, expiry events
// and erasure receipts, which are no visitor's decision.
type statsAnswer struct {
	Since string `json:"since,omitempty"`
	Until string `json:"until,omitempty"`
	Site  string `json:"site,omitempty"`
	// Decisions counts the records (decisions) in the range; Erased the
	// tombstones of erased ones.
	Decisions int `json:"decisions"`
	Erased    int `json:"erased"`
	// Purposes lists every purpose seen, sorted.
	Purposes []string                   `json:"purposes"`
	Days     []*dayStats                `json:"days"`
	Totals   map[string]*decisionCounts `json:"totals"`
}

// statsRecord is what stats read of a record.
type statsRecord struct {
	Type proof.EventType `json:"type"`
	Time int64           `json:"time"`
	How  struct {
		Action string `json:"action"`
	} `json:"how"`
	Purposes map[string]bool `json:"purposes"`
}

// collectStats counts the decisions the filter selects, in constant memory
// per day.
func collectStats(ctx context.Context, stores []*auditStore, f auditFilter) (*statsAnswer, error) {
	ans := &statsAnswer{Site: f.Site, Totals: map[string]*decisionCounts{}, Days: []*dayStats{}}
	if !f.Since.IsZero() {
		ans.Since = f.Since.UTC().Format(time.RFC3339Nano)
	}
	if !f.Until.IsZero() {
		ans.Until = f.Until.UTC().Format(time.RFC3339Nano)
	}
	days := map[string]*dayStats{}
	purposes := map[string]bool{}
	var rec statsRecord
	choices := map[string]bool{}
	for _, as := range stores {
		err := as.store.RangeRaw(ctx, f.Query, func(raw []byte) error {
			clear(choices)
			rec = statsRecord{Purposes: choices}
			if err := json.Unmarshal(raw, &rec); err != nil {
				return nil // verify reports unreadable records
			}
			switch rec.Type {
			case proof.Erased:
				ans.Erased++
				return nil
			case proof.Expired, proof.Erasure: // no visitor decided
				return nil
			}
			ans.Decisions++
			day := time.UnixMilli(rec.Time).UTC().Format(time.DateOnly)
			d := days[day]
			if d == nil {
				d = &dayStats{Day: day, Purposes: map[string]*decisionCounts{}}
				days[day] = d
			}
			d.Decisions++
			for p, granted := range rec.Purposes {
				if p == policy.Necessary || f.Purpose != "" && p != f.Purpose || !decidesPurpose(&rec, granted) {
					continue
				}
				purposes[p] = true
				c := d.Purposes[p]
				if c == nil {
					c = new(decisionCounts)
					d.Purposes[p] = c
				}
				t := ans.Totals[p]
				if t == nil {
					t = new(decisionCounts)
					ans.Totals[p] = t
				}
				c.add(rec.Type, rec.How.Action, granted)
				t.add(rec.Type, rec.How.Action, granted)
			}
			return nil
		})
		if err != nil {
			return nil, storeError(as, err)
		}
	}
	ans.Purposes = slices.Sorted(maps.Keys(purposes))
	for _, day := range slices.Sorted(maps.Keys(days)) {
		ans.Days = append(ans.Days, days[day])
	}
	return ans, nil
}

// decidesPurpose reports whether a record is a decision about a purpose it
// states. An "Always allow" on an embed (placeholder_accept) decides about
// one vendor, and a browser signal (gpc_default) only switches purposes
// off: the states they carry over are the visitor's earlier decision,
// already counted.
func decidesPurpose(rec *statsRecord, granted bool) bool {
	switch rec.Type {
	case proof.PlaceholderAccept:
		return false
	case proof.GPCDefault:
		return !granted
	}
	return true
}

// add counts one decision about a purpose (see decisionCounts).
func (c *decisionCounts) add(typ proof.EventType, action string, granted bool) {
	c.Decisions++
	switch {
	case typ == proof.Withdrawn || action == proof.ActionWithdraw:
		c.Withdrawn++
		return
	case typ == proof.GPCDefault || action == proof.ActionSignal:
		c.GPCDefaulted++
	case action == proof.ActionSaveSelection:
		c.Custom++
	case granted:
		c.Accepted++
	default:
		c.Rejected++
	}
	if granted {
		c.Granted++
	}
}

// serveStats answers per day and purpose how visitors decided.
func (a *AdminAPI) serveStats(w http.ResponseWriter, r *http.Request, stores []*auditStore) error {
	f, err := parseFilter(r)
	if err != nil {
		return err
	}
	if f.Purpose == policy.Necessary {
		return apiError(http.StatusBadRequest, "the purpose %q cannot be refused, so no visitor decides about it and stats leave it out (an export for it lists every record)", policy.Necessary)
	}
	if err := requireChain(r, stores, f.Chain); err != nil {
		return err
	}
	ans, err := collectStats(r.Context(), stores, f)
	if err != nil {
		return err
	}
	return writeJSON(w, ans)
}
