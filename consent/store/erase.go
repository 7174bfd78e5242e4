package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/consentgate/consentgate/consent/proof"
)

// Erasure is what erasing takes: the key that authenticates tombstones,
// and where the receipt of each batch goes.
type Erasure struct {
	Tombstones proof.Eraser
	// Receipt seals an erasure's receipt (proof.Receipt) into the erasing
	// gateway's chain and makes it durable (stored, or spooled while the
	// store is down). It is called before the tombstones the receipt
	// names are written: an erasure cut short leaves a receipt naming
	// records still there (which EraseRecords finishes), never a tombstone
	// no receipt names (which verification reports as forged). An error
	// stops the erasure with nothing of the batch replaced.
	Receipt func(ctx context.Context, receipt proof.Record) error
}

// receiptIndex is the consent index entry under which erasure receipts
// are filed, so that verification finds every receipt without reading
// every record. No consent id is it (they are base64url, and a look-up
// reads only records that name the id, which no receipt does).
const receiptIndex = "~erasure-receipts"

// indexKey is the consent index entry of a record: its consent id, or
// receiptIndex for a receipt.
func indexKey(r *proof.Record) string {
	if r.IsReceipt() {
		return receiptIndex
	}
	return r.ConsentID
}

func (s *base) EachOfConsent(ctx context.Context, consentID string, fn func(proof.Record) error) error {
	return s.eachOfConsent(ctx, consentID, func(_ string, recs []proof.Record) error {
		for _, r := range recs {
			if r.ConsentID != consentID || r.IsTombstone() {
				continue
			}
			if err := fn(r); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *base) Erase(ctx context.Context, consentID string, e Erasure) (int, error) {
	n := 0
	err := s.eachOfConsent(ctx, consentID, func(chain string, recs []proof.Record) error {
		recs = slices.DeleteFunc(recs, func(r proof.Record) bool { return r.ConsentID != consentID || r.IsTombstone() })
		erased, err := s.erase(ctx, chain, recs, e)
		n += erased
		return err
	})
	return n, err
}

func (s *base) EraseRecords(ctx context.Context, refs []proof.Ref, e Erasure) (int, error) {
	byChain := map[string][]proof.Ref{}
	for _, ref := range refs {
		byChain[ref.Chain] = append(byChain[ref.Chain], ref)
	}
	n := 0
	for _, chain := range slices.Sorted(maps.Keys(byChain)) {
		for batch := range slices.Chunk(byChain[chain], s.opts.Batch) {
			seqs := make([]uint64, len(batch))
			for i, ref := range batch {
				seqs[i] = ref.Seq
			}
			raws, err := s.e.Read(ctx, chain, seqs)
			if err != nil {
				return n, err
			}
			var recs []proof.Record
			for i, raw := range raws {
				var r proof.Record
				// Only the record named, still there: not one that took
				// its place, nor a tombstone or a receipt.
				if raw != nil && json.Unmarshal(raw, &r) == nil && r.EventID == batch[i].EventID &&
					r.ConsentID != "" && !r.IsTombstone() && !r.IsReceipt() {
					recs = append(recs, r)
				}
			}
			erased, err := s.erase(ctx, chain, recs, e)
			n += erased
			if err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

var errNoReceipt = errors.New("store: an erasure needs a receipt")

// erase replaces some of a chain's records by their tombstones, after
// their receipt is durable.
func (s *base) erase(ctx context.Context, chain string, recs []proof.Record, e Erasure) (int, error) {
	if len(recs) == 0 {
		return 0, nil
	}
	if e.Receipt == nil {
		return 0, errNoReceipt
	}
	if err := e.Receipt(ctx, proof.Receipt(recs)); err != nil {
		return 0, fmt.Errorf("recording the erasure's receipt: %w", err)
	}
	byConsent := map[string][]Entry{}
	for _, r := range recs {
		t, err := e.Tombstones.Tombstone(r)
		if err != nil {
			return 0, err
		}
		data, err := json.Marshal(t)
		if err != nil {
			return 0, err
		}
		byConsent[r.ConsentID] = append(byConsent[r.ConsentID], Entry{Seq: t.Seq, EventID: t.EventID, Time: t.Time, Hash: t.Hash, JSON: data})
	}
	n := 0
	for _, id := range slices.Sorted(maps.Keys(byConsent)) {
		if err := s.e.Replace(ctx, chain, id, byConsent[id]); err != nil {
			return n, err
		}
		n += len(byConsent[id])
	}
	return n, nil
}

func (s *base) Receipts(ctx context.Context) (*proof.Receipts, error) {
	locs, err := s.e.Locate(ctx, receiptIndex)
	if err != nil {
		return nil, err
	}
	rs := new(proof.Receipts)
	for _, chain := range slices.Sorted(maps.Keys(locs)) {
		for batch := range slices.Chunk(locs[chain], s.opts.Batch) {
			raws, err := s.e.Read(ctx, chain, batch)
			if err != nil {
				return nil, err
			}
			for _, raw := range raws {
				if raw != nil {
					rs.AddRaw(raw)
				}
			}
		}
	}
	return rs, nil
}

// eachOfConsent reads a consent id's records chain by chain, in seq order,
// handing fn at most a batch at a time: one id may have gathered thousands
// (a script posting choices with one cookie), and a download or an erasure
// must not hold them all.
func (s *base) eachOfConsent(ctx context.Context, consentID string, fn func(chain string, recs []proof.Record) error) error {
	if consentID == "" {
		return fmt.Errorf("%w: empty consent id", ErrInvalid)
	}
	locs, err := s.e.Locate(ctx, consentID)
	if err != nil {
		return err
	}
	chains := make([]string, 0, len(locs))
	for c := range locs {
		chains = append(chains, c)
	}
	slices.Sort(chains)
	recs := make([]proof.Record, 0, min(s.opts.Batch, maxLocated(locs)))
	for _, c := range chains {
		seqs := slices.Clone(locs[c])
		slices.Sort(seqs)
		for batch := range slices.Chunk(seqs, s.opts.Batch) {
			raws, err := s.e.Read(ctx, c, batch)
			if err != nil {
				return err
			}
			recs = recs[:0]
			for _, raw := range raws {
				var r proof.Record
				if raw != nil && json.Unmarshal(raw, &r) == nil {
					recs = append(recs, r)
				}
			}
			if err := fn(c, recs); err != nil {
				return err
			}
		}
	}
	return nil
}

// maxLocated is the most seqs one chain holds of a consent id.
func maxLocated(locs map[string][]uint64) int {
	n := 0
	for _, seqs := range locs {
		n = max(n, len(seqs))
	}
	return n
}
