package proof

import (
	"cmp"
	"crypto/hmac"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// ProblemKind classifies what verification found.
type ProblemKind string

// Problem kinds, in the order reports list them.
const (
	// Gap: sequence numbers missing (records deleted), or records before the
	// first one present with no valid anchor checkpoint to start from.
	Gap ProblemKind = "gap"
	// Altered: the content does not match its hash, or cannot be read.
	Altered ProblemKind = "altered"
	// BrokenLink: prev does not name the previous record's hash.
	BrokenLink ProblemKind = "broken_link"
	// BadHMAC: the HMAC does not verify, or its key is unknown.
	BadHMAC ProblemKind = "bad_hmac"
	// UnreceiptedTombstone: no erasure receipt names a tombstone, so no
	// erasure made it: it was written straight into the store (the MAC key
	// tells a forgery; without it, this is how one shows).
	UnreceiptedTombstone ProblemKind = "unreceipted_tombstone"
	// UnfinishedErasure: a receipt names a record that is still there, not
	// a tombstone: an erasure stopped between its receipt and its
	// tombstones, or the record came back with an older copy of the store.
	UnfinishedErasure ProblemKind = "unfinished_erasure"
	// Truncated: a checkpoint names a seq beyond the last record.
	Truncated ProblemKind = "truncated"
	// BadCheckpoint: a checkpoint's signature does not verify, or its head
	// hash differs from the record at its seq.
	BadCheckpoint ProblemKind = "bad_checkpoint"
)

var problemOrder = []ProblemKind{Gap, Altered, BrokenLink, BadHMAC, UnreceiptedTombstone, UnfinishedErasure, Truncated, BadCheckpoint}

// Problem is one finding, naming the record.
type Problem struct {
	Kind    ProblemKind `json:"kind"`
	Seq     uint64      `json:"seq"`
	EventID string      `json:"event_id,omitempty"`
	Detail  string      `json:"detail"`
}

func (p Problem) String() string {
	s := fmt.Sprintf("%s at seq %d", p.Kind, p.Seq)
	if p.EventID != "" {
		s += " (event " + p.EventID + ")"
	}
	return s + ": " + p.Detail
}

// Report is the outcome of verifying one chain.
type Report struct {
	Chain      string `json:"chain"`
	Records    int    `json:"records"`
	Tombstones int    `json:"tombstones"`
	// Receipts counts the erasure receipts among Records.
	Receipts int    `json:"receipts"`
	FirstSeq uint64 `json:"first_seq"`
	LastSeq  uint64 `json:"last_seq"`
	// Anchor is the checkpoint verification started from when the oldest
	// records have expired.
	Anchor *Checkpoint `json:"anchor,omitempty"`
	// Checkpoints counts checkpoints whose signature verified.
	Checkpoints int `json:"checkpoints"`
	// MACChecked is false when no MAC keys were given.
	MACChecked bool `json:"mac_checked"`
	// Counts holds the number of problems of each kind; Problems the first
	// problem of each kind found, in kind order.
	Counts   map[ProblemKind]int `json:"counts,omitempty"`
	Problems []Problem           `json:"problems,omitempty"`
}

// OK reports whether no problem was found.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

// VerifyOptions configures a verifier.
type VerifyOptions struct {
	Keys Keys
	// MinAnchorAge is how old a checkpoint must be to anchor a chain whose
	// first records are gone: the proof retention in force now, so that a
	// prefix deleted before its time shows as a gap. A checkpoint that names
	// the retention of its time is judged by that, too (see outlived).
	// Zero accepts any valid checkpoint as an anchor.
	MinAnchorAge time.Duration
	// Now is the time anchors are judged at (zero: time.Now()).
	Now time.Time
	// Receipts is what the erasure receipts of every chain name (nil:
	// none). Each tombstone must be named (else UnreceiptedTombstone),
	// unless its own retention has ended (its receipt may have expired
	// first); no record named may still be live (UnfinishedErasure).
	Receipts *Receipts
}

// ChainVerifier checks one chain's records, fed in seq order, in constant
// memory (apart from the chain's checkpoints).
//
// For a live record it checks: seq follows the previous one (else Gap),
// prev equals the previous hash (BrokenLink), hash equals the digest of the
// content (Altered), hmac (BadHMAC, when MAC keys are given), and the hash of
// any checkpoint at this seq (BadCheckpoint). A tombstone's hash is that of
// the erased record and cannot be recomputed: seq, prev and the next
// record's link are checked as for any record, and its hmac authenticates
// the tombstone's own content; an erasure receipt must name it
// (UnreceiptedTombstone). A record a receipt names must be a tombstone
// (UnfinishedErasure). At the end, a valid checkpoint beyond the last record
// is Truncated.
type ChainVerifier struct {
	chain string
	opts  VerifyOptions
	cps   []Checkpoint // valid ones, by seq
	next  int          // index of the next checkpoint to compare
	// unnamed are the tombstones no receipt named, reported by Finish
	// unless Receipted names them.
	unnamed []Problem
	started bool
	// lastTime is the latest time seen so far (timed: any).
	lastTime int64
	timed    bool
	linked   bool // lastHash can be trusted for the link check
	last     uint64
	lastH    string
	report   Report
}

// NewChainVerifier verifies the signatures of the chain's checkpoints and
// returns a verifier ready for its records.
func NewChainVerifier(chain string, checkpoints []Checkpoint, opts VerifyOptions) *ChainVerifier {
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	v := &ChainVerifier{chain: chain, opts: opts}
	v.report = Report{Chain: chain, MACChecked: opts.Keys.MAC != nil, Counts: map[ProblemKind]int{}}
	for _, cp := range checkpoints {
		switch {
		case cp.Chain != chain:
			v.problem(BadCheckpoint, cp.Seq, "", "checkpoint belongs to chain "+strconv.Quote(cp.Chain))
		case !cp.Verify(opts.Keys.PublicKeys):
			v.problem(BadCheckpoint, cp.Seq, "", "signature does not verify (key "+cp.KeyID+")")
		default:
			v.cps = append(v.cps, cp)
		}
	}
	slices.SortFunc(v.cps, func(a, b Checkpoint) int { return cmp.Compare(a.Seq, b.Seq) })
	v.report.Checkpoints = len(v.cps)
	return v
}

func (v *ChainVerifier) problem(kind ProblemKind, seq uint64, event, detail string) {
	if v.report.Counts[kind]++; v.report.Counts[kind] == 1 {
		v.report.Problems = append(v.report.Problems, Problem{kind, seq, event, detail})
	}
}

// Note reports a problem found outside the records' walk (by the store).
func (v *ChainVerifier) Note(kind ProblemKind, seq uint64, detail string) {
	v.problem(kind, seq, "", detail)
}

// Add checks the next record.
func (v *ChainVerifier) Add(r Record) {
	data, err := json.Marshal(r)
	if err != nil {
		v.problem(Altered, r.Seq, r.EventID, err.Error())
		return
	}
	v.AddRaw(data)
}

// integrity holds the fields verification reads from a record.
type integrity struct {
	chain, event, typ, prev, hash, hmac, keyID string
	seq                                        uint64
}

func readIntegrity(o *value) (integrity, error) {
	var in integrity
	for _, f := range []struct {
		name string
		dst  *string
	}{{"chain", &in.chain}, {"event_id", &in.event}, {"type", &in.typ}, {"prev", &in.prev},
		{"hash", &in.hash}, {"hmac", &in.hmac}, {"key_id", &in.keyID}} {
		m := o.get(f.name)
		if m == nil || m.kind != '"' {
			return in, fmt.Errorf("field %q missing or not a string", f.name)
		}
		*f.dst = m.str
	}
	m := o.get("seq")
	if m == nil || m.kind != '0' {
		return in, fmt.Errorf("field %q missing or not a number", "seq")
	}
	seq, err := strconv.ParseUint(m.str, 10, 64)
	if err != nil || seq == 0 {
		return in, fmt.Errorf("bad seq %q", m.str)
	}
	in.seq = seq
	return in, nil
}

// AddRaw checks the next record in its stored JSON form (what auditors
// hash), in seq order.
func (v *ChainVerifier) AddRaw(raw []byte) {
	v.report.Records++
	obj, err := parseObject(raw)
	var in integrity
	if err == nil {
		in, err = readIntegrity(obj)
	}
	if err != nil {
		// Unreadable: it takes the next seq, and links across it are not checked.
		v.last++
		if !v.started {
			v.started, v.report.FirstSeq = true, v.last
		}
		v.problem(Altered, v.last, "", "record is unreadable: "+err.Error())
		v.linked = false
		return
	}
	tomb := isTombstone(obj)
	v.checkErasure(obj, in, tomb)
	if in.chain != v.chain {
		v.problem(Altered, in.seq, in.event, "record names chain "+strconv.Quote(in.chain))
	}
	v.checkSeq(in)
	v.checkTime(obj, in)
	v.report.LastSeq = max(v.report.LastSeq, in.seq)
	digest := digestValue(obj)
	if !tomb && digest != in.hash {
		v.problem(Altered, in.seq, in.event, "content does not match its hash")
	}
	v.checkMAC(in, tomb, digest)
	v.checkCheckpoints(in)
	if in.seq > v.last || !v.linked {
		v.last, v.lastH, v.linked = in.seq, in.hash, true
	}
}

// checkTime checks that times never go back within the chain. A record's
// own hash covers its time, but a tombstone keeps the erased record's time
// under its HMAC alone: dated far back, a forged one would pass as past its
// retention, which excuses a missing receipt.
func (v *ChainVerifier) checkTime(obj *value, in integrity) {
	t := intMember(obj, "time")
	if v.timed && t < v.lastTime {
		v.problem(Altered, in.seq, in.event, "dated before the record before it: a chain's times never go back")
	}
	v.timed, v.lastTime = true, max(v.lastTime, t)
}

// checkErasure counts tombstones and receipts, and checks that receipts
// name every tombstone and no live record.
func (v *ChainVerifier) checkErasure(obj *value, in integrity, tomb bool) {
	named := v.opts.Receipts.Names(in.chain, in.seq, in.event)
	switch {
	case tomb:
		v.report.Tombstones++
		if !named && !v.pastRetention(obj) {
			v.unnamed = append(v.unnamed, Problem{UnreceiptedTombstone, in.seq, in.event, "no erasure receipt names this tombstone"})
		}
	case in.typ == string(Erasure):
		v.report.Receipts++
	case named:
		v.problem(UnfinishedErasure, in.seq, in.event, "an erasure receipt names this record, which is still there")
	}
}

// pastRetention reports whether a record's retention has ended by the
// verifier's time: the retention (MinAnchorAge) after its end (expires_at,
// or time). Zero retention: never.
func (v *ChainVerifier) pastRetention(obj *value) bool {
	if v.opts.MinAnchorAge <= 0 {
		return false
	}
	end := Record{Time: intMember(obj, "time"), ExpiresAt: intMember(obj, "expires_at")}
	return end.End()+v.opts.MinAnchorAge.Milliseconds() <= v.opts.Now.UnixMilli()
}

// intMember is an integer member of a parsed record, 0 if absent or not
// an integer.
func intMember(o *value, name string) int64 {
	m := o.get(name)
	if m == nil || m.kind != '0' {
		return 0
	}
	n, _ := strconv.ParseInt(m.str, 10, 64)
	return n
}

func (v *ChainVerifier) checkSeq(in integrity) {
	if !v.started {
		v.started = true
		v.report.FirstSeq = in.seq
		if in.seq == 1 {
			if in.prev != "" {
				v.problem(BrokenLink, in.seq, in.event, "first record of the chain names a previous hash")
			}
			return
		}
		v.anchor(in)
		return
	}
	switch {
	case in.seq <= v.last:
		v.problem(Altered, in.seq, in.event, fmt.Sprintf("seq %d out of order after %d", in.seq, v.last))
	case in.seq > v.last+1:
		v.problem(Gap, v.last+1, "", missing(v.last+1, in.seq-1))
	case v.linked && in.prev != v.lastH:
		v.problem(BrokenLink, in.seq, in.event, "prev does not match the hash of seq "+strconv.FormatUint(v.last, 10))
	}
}

// anchor accepts a chain starting after seq 1 when a valid checkpoint sits
// right before its first record, old enough to have expired.
func (v *ChainVerifier) anchor(in integrity) {
	i, found := slices.BinarySearchFunc(v.cps, in.seq-1, func(c Checkpoint, s uint64) int { return cmp.Compare(c.Seq, s) })
	switch {
	case !found:
		v.problem(Gap, 1, "", missing(1, in.seq-1)+" and no checkpoint anchors seq "+strconv.FormatUint(in.seq, 10))
	case v.cps[i].Head != in.prev:
		v.problem(BrokenLink, in.seq, in.event, "prev does not match the anchor checkpoint's head")
	case v.opts.MinAnchorAge > 0 && !v.outlived(v.cps[i]):
		v.problem(Gap, 1, "", missing(1, in.seq-1)+" before their retention ended (anchor checkpoint of "+
			time.UnixMilli(v.cps[i].Time).UTC().Format(time.RFC3339)+")")
	default:
		cp := v.cps[i]
		v.report.Anchor = &cp
	}
}

// outlived reports whether the records up to checkpoint a may have expired
// by now: whether at some moment since a was signed, a was as old as the
// proof retention in force then. That is the retention named by the latest
// checkpoint signed by then, or MinAnchorAge (the retention now) for
// checkpoints that name none, so records that expired under an earlier,
// shorter retention still anchor the chain after the operator lengthened
// it, and a retention shortened for a while stops covering deletions
// once it was lengthened again.
func (v *ChainVerifier) outlived(a Checkpoint) bool {
	now, current := v.opts.Now.UnixMilli(), v.opts.MinAnchorAge.Milliseconds()
	if now-a.Time >= current {
		return true
	}
	var since []Checkpoint // a and those signed after it, in time order
	for _, c := range v.cps {
		if c.Time >= a.Time {
			since = append(since, c)
		}
	}
	slices.SortStableFunc(since, func(x, y Checkpoint) int { return cmp.Compare(x.Time, y.Time) })
	for i, c := range since {
		until := now // c's retention was in force until the next checkpoint
		if i+1 < len(since) {
			until = min(since[i+1].Time, now)
		}
		retention := c.Retention
		if retention <= 0 {
			retention = current
		}
		if until-a.Time >= retention {
			return true
		}
	}
	return false
}

func missing(from, to uint64) string {
	if from == to {
		return fmt.Sprintf("seq %d missing", from)
	}
	return fmt.Sprintf("seq %d..%d missing (%d records)", from, to, to-from+1)
}

func (v *ChainVerifier) checkMAC(in integrity, tomb bool, digest string) {
	if v.opts.Keys.MAC == nil {
		return
	}
	if _, ok := v.opts.Keys.MAC[in.keyID]; !ok {
		v.problem(BadHMAC, in.seq, in.event, "unknown MAC key "+strconv.Quote(in.keyID))
		return
	}
	if !v.opts.Keys.macOK(in, tomb, digest) {
		v.problem(BadHMAC, in.seq, in.event, "HMAC does not verify")
	}
}

// macOK reports whether a record's HMAC verifies with the key it names.
func (k Keys) macOK(in integrity, tomb bool, digest string) bool {
	secret, ok := k.MAC[in.keyID]
	if !ok {
		return false
	}
	over := in.hash
	if tomb {
		over = digest
	}
	want, err := macOver(MACKey{ID: in.keyID, Secret: secret}, over)
	return err == nil && hmac.Equal([]byte(want), []byte(in.hmac))
}

// Authentic reports whether a stored record's HMAC verifies with one of
// k's MAC keys: whether someone who held the key made it. For a
// tombstone, that it was made by an erasure, whatever receipts say.
func (k Keys) Authentic(raw []byte) bool {
	obj, err := parseObject(raw)
	if err != nil {
		return false
	}
	in, err := readIntegrity(obj)
	if err != nil {
		return false
	}
	tomb, digest := isTombstone(obj), digestValue(obj)
	if !tomb && digest != in.hash {
		return false
	}
	return k.macOK(in, tomb, digest)
}

func (v *ChainVerifier) checkCheckpoints(in integrity) {
	for v.next < len(v.cps) && v.cps[v.next].Seq <= in.seq {
		cp := v.cps[v.next]
		v.next++
		if cp.Seq == in.seq && cp.Head != in.hash {
			v.problem(BadCheckpoint, cp.Seq, in.event, "checkpoint head differs from the record's hash")
		}
	}
}

// Unnamed is how many tombstones no receipt has named so far.
func (v *ChainVerifier) Unnamed() int { return len(v.unnamed) }

// Receipted takes in receipts read after the walk. An erasure stores its
// receipt before its tombstones, so one that ran during the walk left a
// tombstone whose receipt the receipts read before may lack, and a second
// read holds.
func (v *ChainVerifier) Receipted(rs *Receipts) {
	v.unnamed = slices.DeleteFunc(v.unnamed, func(p Problem) bool { return rs.Names(v.chain, p.Seq, p.EventID) })
}

// Finish reports unreceipted tombstones and truncation, and returns the
// report.
func (v *ChainVerifier) Finish() Report {
	for _, p := range v.unnamed {
		v.problem(p.Kind, p.Seq, p.EventID, p.Detail)
	}
	v.unnamed = nil
	if n := len(v.cps); n > 0 && v.cps[n-1].Seq > v.last {
		cp := v.cps[n-1]
		if !v.started && v.opts.MinAnchorAge > 0 && v.outlived(cp) {
			// Every record expired: the last checkpoint, old enough, is
			// where the chain goes on. Without a retention to judge by, an
			// empty chain is one cut off whole.
			v.report.Anchor = &cp
			return v.finish()
		}
		v.problem(Truncated, v.last+1, "", fmt.Sprintf("checkpoint of %s names seq %d but records end at seq %d",
			time.UnixMilli(cp.Time).UTC().Format(time.RFC3339), cp.Seq, v.last))
	}
	return v.finish()
}

func (v *ChainVerifier) finish() Report {
	slices.SortStableFunc(v.report.Problems, func(a, b Problem) int {
		return slices.Index(problemOrder, a.Kind) - slices.Index(problemOrder, b.Kind)
	})
	if len(v.report.Counts) == 0 {
		v.report.Counts = nil
	}
	return v.report
}
