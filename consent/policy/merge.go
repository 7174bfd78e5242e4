package policy

import "github.com/consentgate/consentgate/consent/catalog"

// MergeVendors applies operator vendor declarations to a base catalogue. A
// declaration whose id is new adds a vendor. One whose id exists overrides each
// field it sets; its match rules, cookies and service workers are added to the
// built-in ones, so an operator can teach a vendor a self-hosted address
// without restating what the catalogue knows.
func MergeVendors(base, operator []catalog.Vendor) []catalog.Vendor {
	out := make([]catalog.Vendor, 0, len(base)+len(operator))
	out = append(out, base...)
	index := make(map[string]int, len(out))
	for i, v := range out {
		index[v.ID] = i
	}
	for _, o := range operator {
		i, ok := index[o.ID]
		if !ok {
			index[o.ID] = len(out)
			out = append(out, o)
			continue
		}
		out[i] = overlay(out[i], o)
	}
	return out
}

func overlay(b, o catalog.Vendor) catalog.Vendor {
	setIf := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	setIf(&b.Name, o.Name)
	setIf(&b.Company, o.Company)
	setIf(&b.Country, o.Country)
	setIf(&b.Purpose, o.Purpose)
	setIf(&b.PolicyURL, o.PolicyURL)
	if len(o.Description) > 0 {
		d := make(map[string]string, len(b.Description)+len(o.Description))
		for k, v := range b.Description {
			d[k] = v
		}
		for k, v := range o.Description {
			d[k] = v
		}
		b.Description = d
	}
	b.ConsentMode = b.ConsentMode || o.ConsentMode
	b.Cookies = concat(b.Cookies, o.Cookies)
	b.ServiceWorkers = concat(b.ServiceWorkers, o.ServiceWorkers)
	r := &b.Match
	r.URLs = concat(r.URLs, o.Match.URLs)
	r.Script = concat(r.Script, o.Match.Script)
	r.Frame = concat(r.Frame, o.Match.Frame)
	r.Image = concat(r.Image, o.Match.Image)
	r.Link = concat(r.Link, o.Match.Link)
	r.Inline = concat(r.Inline, o.Match.Inline)
	return b
}

// concat returns a new slice, so the shared built-in catalogue is never
// written through an alias.
func concat[T any](a, b []T) []T {
	return append(append(make([]T, 0, len(a)+len(b)), a...), b...)
}
