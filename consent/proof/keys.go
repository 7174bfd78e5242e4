package proof

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
)

// MACKey is a secret that authenticates records (HMAC-SHA256). Keys rotate:
// every record names the key id it was made with, so a verifier holds all
// generations, by id.
type MACKey struct {
	ID     string
	Secret []byte
}

// NewMACKey wraps a secret (at least 32 bytes) with an id derived from it,
// so the same secret always has the same id and the id reveals nothing.
func NewMACKey(secret []byte) (MACKey, error) {
	if len(secret) < 32 {
		return MACKey{}, errors.New("proof: MAC key must be at least 32 bytes")
	}
	sum := sha256.Sum256(append([]byte("consentgate mac key id\n"), secret...))
	return MACKey{ID: "m" + hex.EncodeToString(sum[:8]), Secret: secret}, nil
}

// mac returns hex(HMAC-SHA256(secret, msg)).
func (k MACKey) mac(msg []byte) string { return macWith(k.hmac(), msg) }

// hmac returns a new HMAC-SHA256 with the key's secret.
func (k MACKey) hmac() hash.Hash { return hmac.New(sha256.New, k.Secret) }

// macWith returns hex(h(msg)) for an HMAC h, which it resets first, so
// that a chain reuses one: hmac.New costs several allocations per record.
func macWith(h hash.Hash, msg []byte) string {
	h.Reset()
	h.Write(msg)
	var sum [sha256.Size]byte
	return hexString(h.Sum(sum[:0]))
}

// SigningKey signs checkpoints (Ed25519). Its id is derived from the public
// key (see PublicKeyID), which auditors are given out of band.
type SigningKey struct {
	ID      string
	Private ed25519.PrivateKey
}

// NewSigningKey wraps an Ed25519 private key.
func NewSigningKey(priv ed25519.PrivateKey) (SigningKey, error) {
	if len(priv) != ed25519.PrivateKeySize {
		return SigningKey{}, errors.New("proof: bad Ed25519 private key length")
	}
	return SigningKey{ID: PublicKeyID(priv.Public().(ed25519.PublicKey)), Private: priv}, nil
}

// Public returns the public half.
func (k SigningKey) Public() ed25519.PublicKey { return k.Private.Public().(ed25519.PublicKey) }

// PublicKeyID is the id of an Ed25519 public key: "s" and the first 16 hex
// digits of its SHA-256.
func PublicKeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return "s" + hex.EncodeToString(sum[:8])
}

// Keys is what a verifier checks with: MAC secrets and checkpoint public
// keys, by id. MAC is optional (an auditor without the secret still checks
// hashes, links and signatures); PublicKeys should always be given.
type Keys struct {
	MAC        map[string][]byte
	PublicKeys map[string]ed25519.PublicKey
}
