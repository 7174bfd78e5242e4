package proof

import (
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
)

// Checkpoint is a signed statement "chain C had seq N with head hash H at
// time T". Stores keep checkpoints forever: they expose deletion from the
// end of a chain and anchor verification after old records expire.
type Checkpoint struct {
	Chain string `json:"chain"`
	Seq   uint64 `json:"seq"`
	Head  string `json:"head"`
	Time  int64  `json:"time"`
	KeyID string `json:"key_id"`
	// Retention is the proof retention in force when the checkpoint was
	// signed, in milliseconds (absent from checkpoints of versions before
	// it was recorded): a verifier judges records that expired under an
	// earlier, shorter retention by it.
	Retention int64 `json:"retention,omitempty"`
	// Sig is hex(Ed25519(JCS(checkpoint without "sig"))).
	Sig string `json:"sig"`
}

// signedBytes is what the signature covers.
func (cp Checkpoint) signedBytes() ([]byte, error) {
	cp.Sig = ""
	data, err := json.Marshal(cp)
	if err != nil {
		return nil, err
	}
	o, err := parseObject(data)
	if err != nil {
		return nil, err
	}
	return canonicalWithout(nil, o, "sig"), nil
}

// Sign returns cp signed with key.
func (cp Checkpoint) Sign(key SigningKey) (Checkpoint, error) {
	cp.KeyID = key.ID
	msg, err := cp.signedBytes()
	if err != nil {
		return Checkpoint{}, err
	}
	cp.Sig = hex.EncodeToString(ed25519.Sign(key.Private, msg))
	return cp, nil
}

// Verify reports whether cp carries a valid signature by one of keys.
func (cp Checkpoint) Verify(keys map[string]ed25519.PublicKey) bool {
	pub, ok := keys[cp.KeyID]
	if !ok || len(pub) != ed25519.PublicKeySize {
		return false
	}
	sig, err := hex.DecodeString(cp.Sig)
	if err != nil {
		return false
	}
	msg, err := cp.signedBytes()
	return err == nil && ed25519.Verify(pub, msg, sig)
}
