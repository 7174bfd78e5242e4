package policy

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/consentgate/consentgate/consent/catalog"
	"github.com/consentgate/consentgate/consent/rewrite"
)

// maxPurposes bounds the purposes a policy may have: grants are a bit set.
const maxPurposes = 64

// Policy is what a site asks about. It is immutable once built and shared by
// every request.
type Policy struct {
	Purposes []Purpose
	// Vendors are the services the visitor is asked about.
	Vendors []catalog.Vendor
	// Version identifies everything a visitor is asked about; a consent given
	// under another version is no longer valid. It is the start of Hash.
	Version string
	// Hash is the SHA-256 of everything a visitor is asked about, as proofs
	// record it.
	Hash string

	// recognised are Vendors, then the unlisted ones: matched, and so
	// always blocked, but never asked about (NewListing).
	recognised    []catalog.Vendor
	matcher       *catalog.Matcher
	purposeIndex  map[string]int
	vendorIndex   map[string]int
	vendorPurpose []int // vendor index → purpose index
	saleMask      uint64
	necessaryBit  uint64
}

// Unlisted is the purpose an unlisted vendor's markup is held under: not a
// valid purpose id, so no policy has it and no consent grants it.
const Unlisted = "-unlisted"

// New validates purposes and vendors and builds a policy. shownTexts is any
// further text the visitor is shown (banner wording) and enters the version.
func New(purposes []Purpose, vendors []catalog.Vendor, shownTexts ...[]byte) (*Policy, error) {
	return NewListing(purposes, vendors, nil, shownTexts...)
}

// NewListing is New for a site that lists only some services: it asks about
// purposes and vendors, and recognises the unlisted vendors too, whose
// markup stays blocked whatever the visitor grants (Unlisted), since
// consent to a purpose covers only the services the visitor was shown.
// Unlisted vendors are not part of the version.
func NewListing(purposes []Purpose, vendors, unlisted []catalog.Vendor, shownTexts ...[]byte) (*Policy, error) {
	if len(purposes) > maxPurposes {
		return nil, fmt.Errorf("at most %d purposes are supported, got %d", maxPurposes, len(purposes))
	}
	p := &Policy{
		Purposes:     purposes,
		Vendors:      vendors,
		purposeIndex: make(map[string]int, len(purposes)),
		vendorIndex:  make(map[string]int, len(vendors)),
	}
	for i, pu := range purposes {
		if err := pu.Validate(); err != nil {
			return nil, err
		}
		if _, dup := p.purposeIndex[pu.ID]; dup {
			return nil, fmt.Errorf("purpose %q is defined twice", pu.ID)
		}
		p.purposeIndex[pu.ID] = i
		if pu.Sale {
			p.saleMask |= 1 << i
		}
	}
	necessary, ok := p.purposeIndex[Necessary]
	if !ok {
		return nil, fmt.Errorf("the %q purpose is required", Necessary)
	}
	if purposes[necessary].Sale {
		return nil, fmt.Errorf("the %q purpose cannot be marked as sale", Necessary)
	}
	p.necessaryBit = 1 << necessary
	p.vendorPurpose = make([]int, len(vendors))
	for i, v := range vendors {
		pi, ok := p.purposeIndex[v.Purpose]
		if !ok {
			return nil, fmt.Errorf("vendor %q: unknown purpose %q (known: %v)", v.ID, v.Purpose, p.PurposeIDs())
		}
		for _, sig := range v.Match.Inline {
			if len(sig) > rewrite.MaxInlineSignature {
				return nil, fmt.Errorf("vendor %q: inline signature %.40q… is longer than %d bytes", v.ID, sig, rewrite.MaxInlineSignature)
			}
		}
		if _, dup := p.vendorIndex[v.ID]; dup {
			return nil, fmt.Errorf("vendor %q is defined twice", v.ID)
		}
		p.vendorIndex[v.ID] = i
		p.vendorPurpose[i] = pi
	}
	p.recognised = append(vendors[:len(vendors):len(vendors)], unlisted...)
	m, err := catalog.NewMatcher(p.recognised)
	if err != nil {
		return nil, err
	}
	p.matcher = m
	p.Hash = policyHash(purposes, vendors, shownTexts)
	p.Version = p.Hash[:16]
	return p, nil
}

// policyHash hashes what a visitor is asked about. Match rules are left out: they
// change how the gateway enforces, not what the visitor agrees to.
func policyHash(purposes []Purpose, vendors []catalog.Vendor, texts [][]byte) string {
	type shownVendor struct {
		ID, Name, Company, Country, Purpose, PolicyURL string
		Description                                    map[string]string
		Cookies                                        []catalog.Cookie
	}
	shown := make([]shownVendor, len(vendors))
	for i, v := range vendors {
		shown[i] = shownVendor{v.ID, v.Name, v.Company, v.Country, v.Purpose, v.PolicyURL, v.Description, v.Cookies}
	}
	h := sha256.New()
	// json.Marshal sorts map keys, so the encoding is deterministic.
	enc := json.NewEncoder(h)
	_ = enc.Encode(purposes)
	_ = enc.Encode(shown)
	for _, t := range texts {
		_ = enc.Encode(t)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// PurposeIDs lists the purpose ids in order.
func (p *Policy) PurposeIDs() []string {
	ids := make([]string, len(p.Purposes))
	for i, pu := range p.Purposes {
		ids[i] = pu.ID
	}
	return ids
}

// Purpose returns the purpose with the given id.
func (p *Policy) Purpose(id string) (Purpose, bool) {
	i, ok := p.purposeIndex[id]
	if !ok {
		return Purpose{}, false
	}
	return p.Purposes[i], true
}

// Vendor returns the vendor with the given id.
func (p *Policy) Vendor(id string) (catalog.Vendor, bool) {
	i, ok := p.vendorIndex[id]
	if !ok {
		return catalog.Vendor{}, false
	}
	return p.Vendors[i], true
}

// Recognised returns the vendor a Matcher index names, and whether the
// visitor is asked about it (false for an unlisted vendor).
func (p *Policy) Recognised(i int) (v catalog.Vendor, listed bool) {
	return p.recognised[i], i < len(p.Vendors)
}

// RecognisedVendors lists every vendor the policy matches, the unlisted
// ones with the purpose Unlisted: what the shim holds back in the browser.
func (p *Policy) RecognisedVendors() []catalog.Vendor {
	all := slices.Clone(p.recognised)
	for i := len(p.Vendors); i < len(all); i++ {
		all[i].Purpose = Unlisted
	}
	return all
}

// AsksAnything reports whether the policy has a purpose beyond the strictly
// necessary: if not, there is nothing for a visitor to decide, and the
// banner opens only when asked to.
func (p *Policy) AsksAnything() bool { return len(p.Purposes) > 1 }

// Matcher is the compiled match rules of the policy's vendors, listed and
// unlisted: its indexes are Recognised's.
func (p *Policy) Matcher() *catalog.Matcher { return p.matcher }
