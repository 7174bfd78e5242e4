package banner

import (
	"encoding/json"

	"github.com/consentgate/consentgate/consent/catalog"
	"github.com/consentgate/consentgate/consent/policy"
)

// ShimData is the match data the shim is called with: for every vendor of
// the policy, its id, purpose, URL rules and the cookies it sets on the
// site's own domain, and, for a vendor that has them, the paths of its
// service workers. Rules that only match relative URLs ("*/suffix") are
// left out: the shim holds back third parties only.
func ShimData(vendors []catalog.Vendor) []byte {
	rows := make([][]any, 0, len(vendors))
	for _, v := range vendors {
		rules := v.Match.HostPatterns()
		if rules == nil {
			rules = []string{} // [] in the data, not null
		}
		cookies := [][2]any{}
		for _, c := range v.Cookies {
			if c.Domain == "" {
				cookies = append(cookies, [2]any{c.Name, c.Prefix})
			}
		}
		row := []any{v.ID, v.Purpose, rules, cookies}
		if len(v.ServiceWorkers) > 0 {
			row = append(row, v.ServiceWorkers)
		}
		rows = append(rows, row)
	}
	data, _ := json.Marshal(rows) // escapes <, > and &: safe inside a script
	return data
}

// VendorView is a vendor as the second layer shows it.
type VendorView struct {
	ID          string           `json:"id"`
	Name        string           `json:"name"`
	Company     string           `json:"company,omitempty"`
	Country     string           `json:"country,omitempty"`
	PolicyURL   string           `json:"policy_url,omitempty"`
	Description string           `json:"description,omitempty"`
	Cookies     []catalog.Cookie `json:"cookies"`
}

// PurposeVendors are the vendors of one purpose, and the cookies the site
// itself sets for it.
type PurposeVendors struct {
	ID      string           `json:"id"`
	Cookies []catalog.Cookie `json:"cookies,omitempty"`
	Vendors []VendorView     `json:"vendors"`
}

// Details renders one language's second layer: every purpose of the policy
// with its vendors, texts in lang, else in fallback, else in English. own
// are the site's own cookies (the consent cookie), listed under the
// strictly necessary purpose: a visitor is told of every cookie, and
// of those that need no consent too.
func Details(p *policy.Policy, own []catalog.Cookie, lang, fallback string) []byte {
	var out struct {
		Purposes []PurposeVendors `json:"purposes"`
	}
	index := map[string]int{}
	for _, pu := range p.Purposes {
		index[pu.ID] = len(out.Purposes)
		pv := PurposeVendors{ID: pu.ID, Vendors: []VendorView{}}
		if pu.ID == policy.Necessary {
			pv.Cookies = own
		}
		out.Purposes = append(out.Purposes, pv)
	}
	for _, v := range p.Vendors {
		i, ok := index[v.Purpose]
		if !ok {
			continue
		}
		cookies := v.Cookies
		if cookies == nil {
			cookies = []catalog.Cookie{}
		}
		out.Purposes[i].Vendors = append(out.Purposes[i].Vendors, VendorView{
			ID: v.ID, Name: v.Name, Company: v.Company, Country: v.Country,
			PolicyURL:   v.PolicyURL,
			Description: PickText(v.Description, lang, fallback, ""),
			Cookies:     cookies,
		})
	}
	data, _ := json.Marshal(out)
	return data
}

// PickText returns the text in lang, else in the fallback language, else in
// English, else def.
func PickText(m map[string]string, lang, fallback, def string) string {
	for _, l := range []string{lang, fallback, "en"} {
		if t, ok := m[l]; ok && t != "" {
			return t
		}
	}
	return def
}
