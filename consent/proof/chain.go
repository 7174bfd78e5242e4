package proof

import (
	"errors"
	"fmt"
	"hash"
	"regexp"
	"strings"
	"sync"
	"time"
)

// Head is the end of a chain: its last sequence number, that record's hash
// and time. The zero Head is an empty chain.
type Head struct {
	Seq  uint64 `json:"seq"`
	Hash string `json:"hash"`
	Time int64  `json:"time"`
}

// ChainConfig configures a Chain.
type ChainConfig struct {
	// ID names the chain; one per gateway instance, stable across restarts,
	// so instances never contend. See ValidChainID.
	ID string
	// MAC authenticates new records.
	MAC MACKey
	// Signer signs checkpoints.
	Signer SigningKey
	// Retention is the proof retention the store enforces, which each
	// checkpoint names (zero: none named).
	Retention time.Duration
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

// Chain seals records into one hash chain. It is safe for concurrent use;
// sealing is serialised because each record names the hash of the one before.
type Chain struct {
	cfg  ChainConfig
	mu   sync.Mutex
	head Head
	mac  hash.Hash // cfg.MAC's HMAC, reused under mu
}

var chainIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// ValidChainID reports whether id can name a chain: 1 to 64 of A-Z a-z 0-9
// . _ - (chain ids appear in store keys).
func ValidChainID(id string) bool { return chainIDPattern.MatchString(id) }

// NewChain starts a chain after head: the zero Head for a new chain, or the
// store's head (Store.Head) to resume after a restart.
func NewChain(cfg ChainConfig, head Head) (*Chain, error) {
	if !ValidChainID(cfg.ID) {
		return nil, fmt.Errorf("proof: invalid chain id %q", cfg.ID)
	}
	if cfg.MAC.ID == "" || len(cfg.MAC.Secret) == 0 {
		return nil, errors.New("proof: chain needs a MAC key")
	}
	if cfg.Signer.ID == "" || len(cfg.Signer.Private) == 0 {
		return nil, errors.New("proof: chain needs a signing key")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Chain{cfg: cfg, head: head, mac: cfg.MAC.hmac()}, nil
}

// ID returns the chain id.
func (c *Chain) ID() string { return c.cfg.ID }

// Head returns the current head.
func (c *Chain) Head() Head {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.head
}

// Seal appends r to the chain and returns it complete: a decision, or the
// receipt of an erasure (Receipt). It fills Schema, a
// new EventID when empty, Time (now, or r.Time if later; never before the
// previous record, so within a chain seq order is time order), drops any
// query from Path, and assigns Chain, Seq, Prev, KeyID, Hash and HMAC.
// The caller then writes the sealed record to a store (retries are safe:
// stores ignore an event id they already hold). Records are never re-sealed.
func (c *Chain) Seal(r Record) (Record, error) {
	switch {
	case !r.Type.Known() || r.Type == Erased:
		return Record{}, fmt.Errorf("proof: cannot seal event type %q", r.Type)
	case r.IsReceipt():
		// A receipt is about records, never about a person.
		if r.ConsentID != "" || len(r.Erased) == 0 {
			return Record{}, errors.New("proof: a receipt names erased records and no consent id")
		}
	case r.ConsentID == "":
		return Record{}, errors.New("proof: record without consent id")
	case len(r.Erased) > 0:
		return Record{}, fmt.Errorf("proof: a record of type %q names erased records", r.Type)
	}
	r.Schema = SchemaVersion
	r.Path = CleanPath(r.Path)

	c.mu.Lock()
	defer c.mu.Unlock()
	r.Time = max(r.Time, Millis(c.cfg.Now()), c.head.Time)
	if r.EventID == "" {
		r.EventID = NewEventID(time.UnixMilli(r.Time))
	}
	r.Chain, r.Seq, r.Prev, r.KeyID = c.cfg.ID, c.head.Seq+1, c.head.Hash, c.cfg.MAC.ID
	r.Hash, r.HMAC = "", ""
	sum, err := r.digest()
	if err != nil {
		return Record{}, err
	}
	r.Hash, r.HMAC = hexString(sum[:]), macWith(c.mac, sum[:])
	c.head = Head{Seq: r.Seq, Hash: r.Hash, Time: r.Time}
	return r, nil
}

// Checkpoint signs the current head. Write one at least daily and on
// shutdown; each lets a verifier detect records deleted from the end.
func (c *Chain) Checkpoint() (Checkpoint, error) {
	return c.CheckpointAt(c.Head())
}

// CheckpointAt signs an earlier head of this chain: the last one known to
// be stored, so a checkpoint never vouches for records still in flight.
func (c *Chain) CheckpointAt(head Head) (Checkpoint, error) {
	c.mu.Lock()
	signer := c.cfg.Signer
	c.mu.Unlock()
	cp := Checkpoint{Chain: c.cfg.ID, Seq: head.Seq, Head: head.Hash,
		Time: max(Millis(c.cfg.Now()), head.Time), Retention: c.cfg.Retention.Milliseconds()}
	return cp.Sign(signer)
}

// Rotate makes later records use mac and later checkpoints signer. What was
// sealed or signed before keeps naming its key, so a verifier given every
// generation (Keys) checks the whole chain.
func (c *Chain) Rotate(mac MACKey, signer SigningKey) error {
	if mac.ID == "" || len(mac.Secret) == 0 || signer.ID == "" || len(signer.Private) == 0 {
		return errors.New("proof: rotating to an empty key")
	}
	c.mu.Lock()
	c.cfg.MAC, c.cfg.Signer, c.mac = mac, signer, mac.hmac()
	c.mu.Unlock()
	return nil
}

// Eraser returns an eraser authenticated with the chain's current MAC key.
func (c *Chain) Eraser() Eraser {
	c.mu.Lock()
	defer c.mu.Unlock()
	return Eraser{Key: c.cfg.MAC, Now: c.cfg.Now}
}

// CleanPath strips the query and fragment from a request path.
func CleanPath(p string) string {
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		p = p[:i]
	}
	return p
}
