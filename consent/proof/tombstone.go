package proof

import (
	"errors"
	"time"
)

// Eraser turns records into tombstones, authenticated with its MAC key.
type Eraser struct {
	Key MACKey
	Now func() time.Time // nil: time.Now
}

// Tombstone returns what replaces r when its subject asks for erasure. It
// keeps what the chain and retention need (schema, event id, time,
// expires_at, site, chain, seq, prev, hash) and drops everything that
// relates to the person: consent id, path, choices, signals, policy and text
// hashes, address, user agent, supersedes. Type becomes "erased", ErasedAt is
// set, and HMAC then authenticates the tombstone itself (see FORMAT.md),
// since its hash can no longer be recomputed.
func (e Eraser) Tombstone(r Record) (Record, error) {
	if r.IsTombstone() {
		return r, nil
	}
	if e.Key.ID == "" {
		return Record{}, errors.New("proof: eraser without a MAC key")
	}
	now := time.Now
	if e.Now != nil {
		now = e.Now
	}
	t := Record{
		Schema: r.Schema, EventID: r.EventID, Type: Erased, Time: r.Time,
		ExpiresAt: r.ExpiresAt, Site: r.Site, ErasedAt: Millis(now()),
		Chain: r.Chain, Seq: r.Seq, Prev: r.Prev, Hash: r.Hash, KeyID: e.Key.ID,
	}
	d, err := t.digest()
	if err != nil {
		return Record{}, err
	}
	t.HMAC = e.Key.mac(d[:])
	return t, nil
}
