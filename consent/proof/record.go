package proof

import "time"

// SchemaVersion is the record format this package writes (see FORMAT.md).
const SchemaVersion = 1

// EventType says what a record documents.
type EventType string

// Event types. A change of mind is a new event that supersedes the earlier
// one; records are never edited.
const (
	Given             EventType = "given"              // some purposes granted
	Refused           EventType = "refused"            // everything optional refused
	Updated           EventType = "updated"            // a later choice replacing an earlier one
	Withdrawn         EventType = "withdrawn"          // consent withdrawn
	Expired           EventType = "expired"            // the choice ran out (expires_at passed)
	GPCDefault        EventType = "gpc_default"        // GPC/DNT switched off part of an earlier choice
	PlaceholderAccept EventType = "placeholder_accept" // two-click embed loaded
	Erased            EventType = "erased"             // tombstone of an erased record
	Erasure           EventType = "erasure"            // receipt of an erasure: names the records erased
)

// Known reports whether t is one of the event types above.
func (t EventType) Known() bool {
	switch t {
	case Given, Refused, Updated, Withdrawn, Expired, GPCDefault, PlaceholderAccept, Erased, Erasure:
		return true
	}
	return false
}

// Layers: where the visitor acted.
const (
	LayerFirst       = "first"       // the banner
	LayerSecond      = "second"      // the settings dialog
	LayerPlaceholder = "placeholder" // a click-to-load placeholder
	LayerWithdraw    = "withdraw"    // the persistent privacy-settings control
	LayerAPI         = "api"         // the JS or HTTP API
	LayerAutomatic   = "automatic"   // no visitor action (GPC default, expiry)
)

// Actions: what the visitor did.
const (
	ActionAcceptAll     = "accept_all"
	ActionRejectAll     = "reject_all"
	ActionSaveSelection = "save_selection"
	ActionWithdraw      = "withdraw"
	ActionLoadEmbed     = "load_embed"
	ActionSignal        = "signal" // a browser signal decided (GPC/DNT)
	ActionExpire        = "expire"
)

// Signal effects: what GPC/DNT caused.
const (
	EffectNone       = "none"        // no signal, or nothing it could switch off
	EffectDefaultOff = "default_off" // sale/marketing purposes switched off by the signal
	EffectOverridden = "overridden"  // the visitor explicitly opted in while sending it
)

// Record is one immutable consent event. JSON names are the export format,
// documented field by field in FORMAT.md. Times are Unix milliseconds, UTC.
type Record struct {
	Schema     int       `json:"schema"`
	EventID    string    `json:"event_id"`
	Type       EventType `json:"type"`
	Supersedes string    `json:"supersedes,omitempty"`
	ConsentID  string    `json:"consent_id,omitempty"`
	Time       int64     `json:"time"`
	ExpiresAt  int64     `json:"expires_at,omitempty"`
	Site       string    `json:"site,omitempty"`
	Path       string    `json:"path,omitempty"`
	Policy     Policy    `json:"policy,omitzero"`
	Texts      Texts     `json:"texts,omitzero"`
	How        How       `json:"how,omitzero"`
	// Purposes and Vendors map an id to granted (true) or not (false).
	Purposes map[string]bool `json:"purposes,omitempty"`
	Vendors  map[string]bool `json:"vendors,omitempty"`
	Signals  Signals         `json:"signals,omitzero"`
	Software string          `json:"software,omitempty"`
	// IP is the truncated client address as a prefix ("203.0.0.0/16"); see TruncateIP.
	IP string `json:"ip,omitempty"`
	// UA is the browser family and major version; see ReduceUserAgent.
	UA string `json:"ua,omitempty"`
	// ErasedAt is set on tombstones only.
	ErasedAt int64 `json:"erased_at,omitempty"`
	// Erased is set on erasure receipts only: the records the erasure
	// turned into tombstones (see Receipt).
	Erased []Ref `json:"erased,omitempty"`

	// Integrity, assigned by Chain.Seal.
	Chain string `json:"chain"`
	Seq   uint64 `json:"seq"`
	Prev  string `json:"prev"`
	KeyID string `json:"key_id"`
	Hash  string `json:"hash"`
	HMAC  string `json:"hmac"`
}

// Policy identifies the policy the choice was made under.
type Policy struct {
	Version string `json:"version"`
	Hash    string `json:"hash"`
}

// Texts identifies what the visitor was shown: a hash over every text,
// purpose and vendor description, and the language.
type Texts struct {
	Hash string `json:"hash"`
	Lang string `json:"lang"`
}

// How says how the choice was given.
type How struct {
	Layer   string `json:"layer"`
	Action  string `json:"action"`
	Control string `json:"control,omitempty"`
}

// Signals records the browser privacy signals and what they caused.
type Signals struct {
	GPC    bool   `json:"gpc"`
	DNT    bool   `json:"dnt"`
	Effect string `json:"effect,omitempty"`
}

// At returns the record time.
func (r *Record) At() time.Time { return time.UnixMilli(r.Time).UTC() }

// IsTombstone reports whether r is the tombstone of an erased record.
func (r *Record) IsTombstone() bool { return r.Type == Erased }

// IsReceipt reports whether r is the receipt of an erasure, which is no
// visitor's decision.
func (r *Record) IsReceipt() bool { return r.Type == Erasure }

// End is when the consent this record documents ended, or will end: its
// expires_at, or its own time for events that grant nothing lasting. A later
// event may end it earlier; End is the conservative bound retention uses.
func (r *Record) End() int64 {
	if r.ExpiresAt > r.Time {
		return r.ExpiresAt
	}
	return r.Time
}

// Millis converts a time to the record's Unix-millisecond form.
func Millis(t time.Time) int64 { return t.UnixMilli() }
