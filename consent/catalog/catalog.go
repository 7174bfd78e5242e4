package catalog

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sync"
)

//go:embed vendors.json
var vendorsJSON []byte

var builtin = sync.OnceValue(func() []Vendor {
	vendors, err := Parse(vendorsJSON)
	if err != nil {
		panic("catalog: embedded vendors.json: " + err.Error())
	}
	return vendors
})

// Builtin returns the built-in catalogue. The file is parsed once; every call
// returns a fresh deep copy the caller may modify.
func Builtin() []Vendor {
	src := builtin()
	out := make([]Vendor, len(src))
	for i, v := range src {
		out[i] = v.clone()
	}
	return out
}

func (v Vendor) clone() Vendor {
	v.Description = maps.Clone(v.Description)
	v.Cookies = slices.Clone(v.Cookies)
	v.ServiceWorkers = slices.Clone(v.ServiceWorkers)
	r := &v.Match
	r.URLs, r.Script, r.Frame = slices.Clone(r.URLs), slices.Clone(r.Script), slices.Clone(r.Frame)
	r.Image, r.Link, r.Inline = slices.Clone(r.Image), slices.Clone(r.Link), slices.Clone(r.Inline)
	return v
}

// Parse reads a catalogue: a JSON array of vendors. It is strict: unknown
// fields, invalid vendors and duplicate ids are errors naming the vendor.
func Parse(data []byte) ([]Vendor, error) {
	var raws []json.RawMessage
	if err := json.Unmarshal(data, &raws); err != nil {
		return nil, fmt.Errorf("catalogue: %w", err)
	}
	vendors := make([]Vendor, len(raws))
	for i, raw := range raws {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&vendors[i]); err != nil {
			return nil, fmt.Errorf("vendor %s: %w", entryName(i, raw), err)
		}
	}
	if err := checkVendors(vendors); err != nil {
		return nil, err
	}
	return vendors, nil
}

// entryName names a catalogue entry that failed to decode: by its id if it
// has one, else by its position.
func entryName(i int, raw []byte) string {
	var v struct{ ID string }
	if json.Unmarshal(raw, &v) == nil && v.ID != "" {
		return fmt.Sprintf("%q", v.ID)
	}
	return fmt.Sprintf("#%d", i)
}

// checkVendors validates each vendor and that ids are unique.
func checkVendors(vendors []Vendor) error {
	seen := make(map[string]int, len(vendors))
	for i, v := range vendors {
		if err := v.Validate(); err != nil {
			return err
		}
		if j, dup := seen[v.ID]; dup {
			return fmt.Errorf("vendor %q: defined twice (entries %d and %d)", v.ID, j, i)
		}
		seen[v.ID] = i
	}
	return nil
}
