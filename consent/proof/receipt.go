package proof

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
)

// Ref names a record by its place, and nothing of the person it is about.
type Ref struct {
	Chain   string `json:"chain"`
	Seq     uint64 `json:"seq"`
	EventID string `json:"event_id"`
}

// Ref names r.
func (r *Record) Ref() Ref { return Ref{Chain: r.Chain, Seq: r.Seq, EventID: r.EventID} }

// Receipt returns the unsealed receipt of an erasure: a record of type
// Erasure naming each erased record by chain, seq and event id, with no
// consent id, address or anything else of the person. The erasing gateway
// seals it into its own chain before it writes the tombstones, so that the
// erasure is under that chain's hashes, HMACs and checkpoints: a
// tombstone that no receipt names was not made by an erasure (FORMAT.md).
// It expires with the last of the records it names, so that it is kept
// as long as their tombstones are.
func Receipt(erased []Record) Record {
	rec := Record{Type: Erasure, Erased: make([]Ref, len(erased))}
	for i := range erased {
		rec.Erased[i] = erased[i].Ref()
		rec.ExpiresAt = max(rec.ExpiresAt, erased[i].End())
	}
	return rec
}

// Receipts holds what erasure receipts name. Verification gathers it from
// every chain of a store or an export before it walks any chain: a receipt
// is in the chain of the instance that erased, which need not be the
// chain of the tombstones (instances that share a store erase each
// other's records). The zero value names nothing.
type Receipts struct {
	// named holds a 128-bit digest of each name rather than the name: a
	// store may have erased a great many records.
	named map[[16]byte]struct{}
}

// refKey is what Receipts keeps of a name.
func refKey(chain string, seq uint64, event string) [16]byte {
	h := sha256.New()
	h.Write([]byte(chain))
	h.Write([]byte{0})
	h.Write(binary.BigEndian.AppendUint64(nil, seq))
	h.Write([]byte(event))
	var k [16]byte
	copy(k[:], h.Sum(nil))
	return k
}

// Add takes in what r names, if it is a receipt.
func (rs *Receipts) Add(r *Record) {
	if !r.IsReceipt() {
		return
	}
	if rs.named == nil {
		rs.named = make(map[[16]byte]struct{}, len(r.Erased))
	}
	for _, ref := range r.Erased {
		rs.named[refKey(ref.Chain, ref.Seq, ref.EventID)] = struct{}{}
	}
}

// AddRaw takes in what a stored record names, if it is a receipt; one
// that cannot be read names nothing (verification reports it as altered in
// its own chain).
func (rs *Receipts) AddRaw(raw []byte) {
	var r Record
	if json.Unmarshal(raw, &r) == nil {
		rs.Add(&r)
	}
}

// Names reports whether a receipt names the record of event at chain and
// seq.
func (rs *Receipts) Names(chain string, seq uint64, event string) bool {
	if rs == nil || len(rs.named) == 0 {
		return false
	}
	_, ok := rs.named[refKey(chain, seq, event)]
	return ok
}

// Len is how many records the receipts name.
func (rs *Receipts) Len() int {
	if rs == nil {
		return 0
	}
	return len(rs.named)
}
