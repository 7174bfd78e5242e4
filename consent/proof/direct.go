package proof

import (
	"crypto/sha256"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// maxExactInt bounds the integers RFC 8785 writes as plain digits (it
// formats numbers as IEEE doubles).
const maxExactInt = 1 << 53

// fastDigest computes a live record's digest straight from its fields,
// writing the RFC 8785 encoding that json.Marshal, parsing and
// canonicalising would produce, without either step: sealing is on every
// consent post. It reports false for the rare record it does not cover
// (a tombstone, invalid UTF-8, a non-ASCII map key, an integer
// past 2^53), which then takes the general path.
func (r *Record) fastDigest() ([sha256.Size]byte, bool) {
	if r.Type == Erased || !r.fastEncodable() {
		return [sha256.Size]byte{}, false
	}
	w := writers.Get().(*objectWriter)
	w.b, w.marshal = w.b[:0], false
	recordFields.write(w, r)
	sum := sha256.Sum256(w.b)
	writers.Put(w)
	return sum, true
}

// stringMembers lists r's strings but the seal's (Hash, HMAC).
func (r *Record) stringMembers() [20]string {
	return [...]string{r.EventID, string(r.Type), r.Supersedes, r.ConsentID, r.Site, r.Path,
		r.Policy.Version, r.Policy.Hash, r.Texts.Hash, r.Texts.Lang, r.How.Layer, r.How.Action, r.How.Control,
		r.Signals.Effect, r.Software, r.IP, r.UA, r.Chain, r.Prev, r.KeyID}
}

// sizeHint is about the length of r's stored JSON, so that AppendJSON
// allocates once rather than growing its buffer a few times.
func (r *Record) sizeHint() int {
	const perKey = len(`"":false,`)
	n := 384 + len(r.Hash) + len(r.HMAC) // 384: member names, punctuation and numbers
	for _, s := range r.stringMembers() {
		n += len(s)
	}
	for _, m := range []map[string]bool{r.Purposes, r.Vendors} {
		for k := range m {
			n += len(k) + perKey
		}
	}
	for _, ref := range r.Erased {
		n += len(`{"chain":"","seq":,"event_id":""},`) + 20 + len(ref.Chain) + len(ref.EventID)
	}
	return n
}

func (r *Record) fastEncodable() bool {
	for _, ref := range r.Erased {
		if ref.Seq >= maxExactInt || !utf8.ValidString(ref.Chain) || !utf8.ValidString(ref.EventID) {
			return false
		}
	}
	for _, s := range r.stringMembers() {
		if !utf8.ValidString(s) {
			return false
		}
	}
	for _, n := range []int64{int64(r.Schema), r.Time, r.ExpiresAt, r.ErasedAt} {
		if n >= maxExactInt || n <= -maxExactInt {
			return false
		}
	}
	if r.Seq >= maxExactInt {
		return false
	}
	for _, m := range []map[string]bool{r.Purposes, r.Vendors} {
		for k := range m {
			if !isASCII(k) {
				return false
			}
		}
	}
	return true
}

// AppendJSON appends r as json.Marshal encodes it, byte for byte: the form
// the stores keep and exports carry. Live records are written straight from
// their fields (a store append does this for every consent post); the rare
// record fastDigest declines goes through json.Marshal.
func (r *Record) AppendJSON(b []byte) ([]byte, error) {
	if r.Type == Erased || !r.fastEncodable() || !utf8.ValidString(r.Hash) || !utf8.ValidString(r.HMAC) {
		data, err := json.Marshal(r)
		return append(b, data...), err
	}
	w := writers.Get().(*objectWriter)
	w.b, w.marshal = slices.Grow(b, r.sizeHint()), true
	recordFields.write(w, r)
	b, w.b = w.b, nil // the caller's buffer, not the pool's
	writers.Put(w)
	return b, nil
}

// A record is written in two orders from one list of its members: as its
// struct declares them (json.Marshal's order, the stored form) and sorted
// by name (RFC 8785's order, for the digest: the names are ASCII, so byte
// order is code-unit order).
var (
	recordFields = newFields(
		field[Record]{name: "schema", value: func(w *objectWriter, r *Record) { w.int(int64(r.Schema)) }},
		field[Record]{name: "event_id", value: func(w *objectWriter, r *Record) { w.string(r.EventID) }},
		field[Record]{name: "type", value: func(w *objectWriter, r *Record) { w.string(string(r.Type)) }},
		field[Record]{name: "supersedes", omit: func(r *Record) bool { return r.Supersedes == "" },
			value: func(w *objectWriter, r *Record) { w.string(r.Supersedes) }},
		field[Record]{name: "consent_id", omit: func(r *Record) bool { return r.ConsentID == "" },
			value: func(w *objectWriter, r *Record) { w.string(r.ConsentID) }},
		field[Record]{name: "time", value: func(w *objectWriter, r *Record) { w.int(r.Time) }},
		field[Record]{name: "expires_at", omit: func(r *Record) bool { return r.ExpiresAt == 0 },
			value: func(w *objectWriter, r *Record) { w.int(r.ExpiresAt) }},
		field[Record]{name: "site", omit: func(r *Record) bool { return r.Site == "" },
			value: func(w *objectWriter, r *Record) { w.string(r.Site) }},
		field[Record]{name: "path", omit: func(r *Record) bool { return r.Path == "" },
			value: func(w *objectWriter, r *Record) { w.string(r.Path) }},
		field[Record]{name: "policy", omit: func(r *Record) bool { return r.Policy == (Policy{}) },
			value: func(w *objectWriter, r *Record) { policyFields.write(w, &r.Policy) }},
		field[Record]{name: "texts", omit: func(r *Record) bool { return r.Texts == (Texts{}) },
			value: func(w *objectWriter, r *Record) { textsFields.write(w, &r.Texts) }},
		field[Record]{name: "how", omit: func(r *Record) bool { return r.How == (How{}) },
			value: func(w *objectWriter, r *Record) { howFields.write(w, &r.How) }},
		field[Record]{name: "purposes", omit: func(r *Record) bool { return len(r.Purposes) == 0 },
			value: func(w *objectWriter, r *Record) { w.boolMap(r.Purposes) }},
		field[Record]{name: "vendors", omit: func(r *Record) bool { return len(r.Vendors) == 0 },
			value: func(w *objectWriter, r *Record) { w.boolMap(r.Vendors) }},
		field[Record]{name: "signals", omit: func(r *Record) bool { return r.Signals == (Signals{}) },
			value: func(w *objectWriter, r *Record) { signalsFields.write(w, &r.Signals) }},
		field[Record]{name: "software", omit: func(r *Record) bool { return r.Software == "" },
			value: func(w *objectWriter, r *Record) { w.string(r.Software) }},
		field[Record]{name: "ip", omit: func(r *Record) bool { return r.IP == "" },
			value: func(w *objectWriter, r *Record) { w.string(r.IP) }},
		field[Record]{name: "ua", omit: func(r *Record) bool { return r.UA == "" },
			value: func(w *objectWriter, r *Record) { w.string(r.UA) }},
		field[Record]{name: "erased_at", omit: func(r *Record) bool { return r.ErasedAt == 0 },
			value: func(w *objectWriter, r *Record) { w.int(r.ErasedAt) }},
		field[Record]{name: "erased", omit: func(r *Record) bool { return len(r.Erased) == 0 },
			value: func(w *objectWriter, r *Record) { w.refs(r.Erased) }},
		field[Record]{name: "chain", value: func(w *objectWriter, r *Record) { w.string(r.Chain) }},
		field[Record]{name: "seq", value: func(w *objectWriter, r *Record) { w.b = strconv.AppendUint(w.b, r.Seq, 10) }},
		field[Record]{name: "prev", value: func(w *objectWriter, r *Record) { w.string(r.Prev) }},
		field[Record]{name: "key_id", value: func(w *objectWriter, r *Record) { w.string(r.KeyID) }},
		// The seal is over everything else.
		field[Record]{name: "hash", storedOnly: true, value: func(w *objectWriter, r *Record) { w.string(r.Hash) }},
		field[Record]{name: "hmac", storedOnly: true, value: func(w *objectWriter, r *Record) { w.string(r.HMAC) }},
	)
	policyFields = newFields(
		field[Policy]{name: "version", value: func(w *objectWriter, p *Policy) { w.string(p.Version) }},
		field[Policy]{name: "hash", value: func(w *objectWriter, p *Policy) { w.string(p.Hash) }},
	)
	textsFields = newFields(
		field[Texts]{name: "hash", value: func(w *objectWriter, t *Texts) { w.string(t.Hash) }},
		field[Texts]{name: "lang", value: func(w *objectWriter, t *Texts) { w.string(t.Lang) }},
	)
	howFields = newFields(
		field[How]{name: "layer", value: func(w *objectWriter, h *How) { w.string(h.Layer) }},
		field[How]{name: "action", value: func(w *objectWriter, h *How) { w.string(h.Action) }},
		field[How]{name: "control", omit: func(h *How) bool { return h.Control == "" },
			value: func(w *objectWriter, h *How) { w.string(h.Control) }},
	)
	refFields = newFields(
		field[Ref]{name: "chain", value: func(w *objectWriter, r *Ref) { w.string(r.Chain) }},
		field[Ref]{name: "seq", value: func(w *objectWriter, r *Ref) { w.b = strconv.AppendUint(w.b, r.Seq, 10) }},
		field[Ref]{name: "event_id", value: func(w *objectWriter, r *Ref) { w.string(r.EventID) }},
	)
	signalsFields = newFields(
		field[Signals]{name: "gpc", value: func(w *objectWriter, s *Signals) { w.bool(s.GPC) }},
		field[Signals]{name: "dnt", value: func(w *objectWriter, s *Signals) { w.bool(s.DNT) }},
		field[Signals]{name: "effect", omit: func(s *Signals) bool { return s.Effect == "" },
			value: func(w *objectWriter, s *Signals) { w.string(s.Effect) }},
	)
)

// field is one member of an object's JSON encoding.
type field[T any] struct {
	name string
	// omit reports that json.Marshal leaves the member out (omitempty,
	// omitzero); nil for a member always written.
	omit func(*T) bool
	// storedOnly members are written in the stored form, not the digest.
	storedOnly bool
	value      func(*objectWriter, *T)
}

// fields holds an object's members in both orders.
type fields[T any] struct{ declared, sorted []field[T] }

func newFields[T any](declared ...field[T]) fields[T] {
	sorted := slices.Clone(declared)
	slices.SortFunc(sorted, func(a, b field[T]) int { return strings.Compare(a.name, b.name) })
	return fields[T]{declared, sorted}
}

// write writes v's members as an object, in the order w's form wants.
func (f fields[T]) write(w *objectWriter, v *T) {
	members := f.sorted
	if w.marshal {
		members = f.declared
	}
	w.b = append(w.b, '{')
	some := false
	for _, m := range members {
		if (m.storedOnly && !w.marshal) || (m.omit != nil && m.omit(v)) {
			continue
		}
		if some {
			w.b = append(w.b, ',')
		}
		some = true
		w.string(m.name)
		w.b = append(w.b, ':')
		m.value(w, v)
	}
	w.b = append(w.b, '}')
}

// objectWriter writes JSON values, escaping strings as RFC 8785 does or,
// with marshal, as json.Marshal does.
type objectWriter struct {
	b       []byte
	marshal bool
}

// writers are pooled: the field tables' calls make a writer escape, and
// their buffers are reused for canonical encodings, which are only hashed.
var writers = sync.Pool{New: func() any { return new(objectWriter) }}

func (w *objectWriter) string(s string) {
	if w.marshal {
		w.b = appendMarshalString(w.b, s)
	} else {
		w.b = appendString(w.b, s)
	}
}

func (w *objectWriter) int(v int64) { w.b = strconv.AppendInt(w.b, v, 10) }

func (w *objectWriter) bool(v bool) { w.b = strconv.AppendBool(w.b, v) }

// refs writes a receipt's list of erased records.
func (w *objectWriter) refs(refs []Ref) {
	w.b = append(w.b, '[')
	for i := range refs {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		refFields.write(w, &refs[i])
	}
	w.b = append(w.b, ']')
}

// boolMap writes a map's members sorted by key: ASCII keys, so byte order
// is code-unit order, and json.Marshal's.
func (w *objectWriter) boolMap(m map[string]bool) {
	var room [16]string // policies have a few purposes: no allocation
	keys := room[:0]
	for id := range m {
		keys = append(keys, id)
	}
	slices.Sort(keys)
	w.b = append(w.b, '{')
	for i, id := range keys {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.string(id)
		w.b = append(w.b, ':')
		w.bool(m[id])
	}
	w.b = append(w.b, '}')
}
