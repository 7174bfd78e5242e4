package policy

import (
	"encoding/binary"
	"hash/fnv"

	"github.com/consentgate/consentgate/consent/catalog"
	"github.com/consentgate/consentgate/consent/rewrite"
)

// Choice is what a visitor decided, as carried in the consent cookie.
type Choice struct {
	// Purposes the visitor granted (necessary is implied).
	Purposes []string
	// Vendors the visitor allowed individually ("always allow YouTube").
	Vendors []string
	// UnderSignal is true when the choice was made while the browser sent
	// Global Privacy Control or Do Not Track: an opt-in made then is explicit
	// and outranks the signal.
	UnderSignal bool
}

// Decision is what one request may load. It implements rewrite.Judge.
type Decision struct {
	policy  *Policy
	granted uint64
	vendors map[int]bool
	// Decided is true when the visitor has made a valid choice for this policy.
	Decided bool
	// SignalHonoured is true when GPC/DNT switched off a purpose the visitor
	// had not explicitly opted into under the signal.
	SignalHonoured bool
	// SignalTookBack is true when the signal took back something the
	// choice itself granted (a sale purpose, or a vendor of one).
	SignalTookBack bool
}

// Undecided is the decision for a visitor who has not chosen yet: only
// necessary vendors load.
func (p *Policy) Undecided(signal bool) *Decision {
	return &Decision{policy: p, granted: p.necessaryBit, SignalHonoured: signal && p.saleMask != 0}
}

// Decide turns a visitor's choice into a decision. signal is true when the
// request carries Sec-GPC: 1 or DNT: 1. Unknown purposes and vendors in the
// choice (from an older policy) are ignored.
func (p *Policy) Decide(c Choice, signal bool) *Decision {
	d := &Decision{policy: p, granted: p.necessaryBit, Decided: true}
	for _, id := range c.Purposes {
		if i, ok := p.purposeIndex[id]; ok {
			d.granted |= 1 << i
		}
	}
	for _, id := range c.Vendors {
		if i, ok := p.vendorIndex[id]; ok {
			if d.vendors == nil {
				d.vendors = make(map[int]bool, len(c.Vendors))
			}
			d.vendors[i] = true
		}
	}
	if signal && !c.UnderSignal {
		d.SignalHonoured = p.saleMask != 0
		d.SignalTookBack = d.granted&p.saleMask != 0
		d.granted &^= p.saleMask
		for i := range d.vendors {
			if p.saleMask&(1<<p.vendorPurpose[i]) != 0 {
				delete(d.vendors, i)
				d.SignalTookBack = true
			}
		}
	}
	return d
}

// Policy returns the policy the decision was made under.
func (d *Decision) Policy() *Policy { return d.policy }

// Granted reports whether a purpose is granted.
func (d *Decision) Granted(purpose string) bool {
	i, ok := d.policy.purposeIndex[purpose]
	return ok && d.granted&(1<<i) != 0
}

// Purposes reports every purpose's state, for the state endpoint.
func (d *Decision) Purposes() map[string]bool {
	m := make(map[string]bool, len(d.policy.Purposes))
	for i, pu := range d.policy.Purposes {
		m[pu.ID] = d.granted&(1<<i) != 0
	}
	return m
}

// GrantedIDs lists the granted purposes in policy order.
func (d *Decision) GrantedIDs() []string {
	var ids []string
	for i, pu := range d.policy.Purposes {
		if d.granted&(1<<i) != 0 {
			ids = append(ids, pu.ID)
		}
	}
	return ids
}

// VendorIDs lists the vendors allowed one by one, in policy order.
func (d *Decision) VendorIDs() []string {
	if len(d.vendors) == 0 {
		return nil
	}
	ids := make([]string, 0, len(d.vendors))
	for i, v := range d.policy.Vendors {
		if d.vendors[i] {
			ids = append(ids, v.ID)
		}
	}
	return ids
}

// Key is a short string that differs between decisions that render a page
// differently: the purposes granted and, after a "v", a hash of the
// vendors allowed one by one. It suffixes ETags and keys the page and
// length caches, so none of them mixes two visitors' pages up.
func (d *Decision) Key() string {
	var b [16 + 1 + 16]byte
	n := putHex(b[:], d.granted)
	if len(d.vendors) > 0 {
		h := fnv.New64a()
		var idx [4]byte
		for i := range d.policy.Vendors { // in policy order: one set, one hash
			if d.vendors[i] {
				binary.BigEndian.PutUint32(idx[:], uint32(i))
				h.Write(idx[:])
			}
		}
		b[n] = 'v'
		n += 1 + putHex(b[n+1:], h.Sum64())
	}
	return string(b[:n])
}

// putHex writes v as 16 hex digits into b and returns 16.
func putHex(b []byte, v uint64) int {
	const hex = "0123456789abcdef"
	for i := 15; i >= 0; i-- {
		b[i] = hex[v&15]
		v >>= 4
	}
	return 16
}

// VendorsOneByOne reports whether the visitor allowed any vendor one by
// one.
func (d *Decision) VendorsOneByOne() bool { return len(d.vendors) > 0 }

// vendorAllowed reports whether a recognised vendor (by index) may load:
// never an unlisted one.
func (d *Decision) vendorAllowed(i int) bool {
	if i >= len(d.policy.vendorPurpose) {
		return false
	}
	return d.granted&(1<<d.policy.vendorPurpose[i]) != 0 || d.vendors[i]
}

// VendorAllowedID is VendorAllowed by vendor id; unknown vendors are not allowed.
func (d *Decision) VendorAllowedID(id string) bool {
	i, ok := d.policy.vendorIndex[id]
	return ok && d.vendorAllowed(i)
}

// CookieAllowed reports whether a cookie set by the site may reach the
// browser: cookies of a vendor without consent are not.
func (d *Decision) CookieAllowed(name string) bool {
	i := d.policy.matcher.MatchCookie(name)
	return i < 0 || d.vendorAllowed(i)
}

func (d *Decision) verdict(i int) rewrite.Verdict {
	v := &d.policy.recognised[i]
	if i >= len(d.policy.Vendors) {
		// No vendor id: nothing on the page offers to allow it.
		return rewrite.Verdict{Block: true, VendorName: v.Name, Purpose: Unlisted}
	}
	return rewrite.Verdict{Block: !d.vendorAllowed(i), Vendor: v.ID, VendorName: v.Name, Purpose: v.Purpose}
}

// JudgeURL implements rewrite.Judge.
func (d *Decision) JudgeURL(kind catalog.Kind, url []byte) rewrite.Verdict {
	i := d.policy.matcher.Match(kind, url)
	if i < 0 {
		return rewrite.Verdict{}
	}
	return d.verdict(i)
}

// JudgeInline implements rewrite.Judge: a script that mentions several
// vendors is blocked if any of them is not allowed.
func (d *Decision) JudgeInline(script []byte) rewrite.Verdict {
	var buf [8]int
	var first rewrite.Verdict
	for _, i := range d.policy.matcher.MatchInline(script, buf[:0]) {
		v := d.verdict(i)
		if v.Block {
			return v
		}
		if first.Vendor == "" {
			first = v
		}
	}
	return first
}

// JudgePurpose implements rewrite.Judge for data-consent="<purpose>" markup.
// An unknown purpose is blocked: the page asked for consent we cannot give.
func (d *Decision) JudgePurpose(purpose []byte) rewrite.Verdict {
	i, ok := d.policy.purposeIndex[string(purpose)]
	if !ok {
		return rewrite.Verdict{Block: true, Purpose: string(purpose)}
	}
	return rewrite.Verdict{Block: d.granted&(1<<i) == 0, Purpose: d.policy.Purposes[i].ID}
}

var _ rewrite.Judge = (*Decision)(nil)
