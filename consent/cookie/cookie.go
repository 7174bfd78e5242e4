// Package cookie encodes a visitor's consent into a signed and encrypted
// cookie value (gorilla/securecookie: HMAC-SHA256 and AES), with key rotation:
// the first key pair encodes, every pair decodes.
package cookie

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gorilla/securecookie"
)

// Consent is what the cookie carries. Field names are short: the cookie is
// sent with every request.
type Consent struct {
	// ID is the random, pseudonymous consent id that proofs refer to.
	ID string `json:"i"`
	// Version is the policy version the choice was made under.
	Version string `json:"v"`
	// Purposes granted (necessary is implied).
	Purposes []string `json:"p,omitempty"`
	// Vendors allowed individually.
	Vendors []string `json:"x,omitempty"`
	// Time of the decision, Unix seconds.
	Time int64 `json:"t"`
	// UnderSignal: the choice was made while the browser sent GPC or DNT.
	UnderSignal bool `json:"g,omitempty"`
	// Event is the id of the proof recording this choice, which the next
	// choice's proof supersedes.
	Event string `json:"e,omitempty"`
	// SignalApplied: a GPC or DNT signal switched off part of this choice,
	// and that was recorded (a gpc_default proof), once.
	SignalApplied bool `json:"s,omitempty"`
	// Expired: the choice this cookie held ran out, and that was recorded
	// (an expired proof, named by Event), once. The cookie holds no choice
	// then, only the consent id, which the next choice continues.
	Expired bool `json:"l,omitempty"`
}

// HoldsChoice reports whether the cookie holds a choice rather than the
// record of one that ran out. Cookies written before Expired existed said
// so by leaving Version out.
func (c Consent) HoldsChoice() bool { return !c.Expired && c.Version != "" }

// KeyPair is one generation of keys: Hash signs (32 or 64 bytes), Block
// encrypts (32 bytes, AES-256).
type KeyPair struct {
	Hash  []byte
	Block []byte
}

// Validate checks the key lengths securecookie needs.
func (k KeyPair) Validate() error {
	if n := len(k.Hash); n != 32 && n != 64 {
		return fmt.Errorf("hash key must be 32 or 64 bytes, got %d", n)
	}
	if n := len(k.Block); n != 32 {
		return fmt.Errorf("block key must be 32 bytes, got %d", n)
	}
	return nil
}

// GenerateKeyPair makes a fresh random key pair.
func GenerateKeyPair() KeyPair {
	return KeyPair{Hash: randomBytes(64), Block: randomBytes(32)}
}

// ParseKey decodes a key written as standard or URL-safe base64 (padded or
// not) or as hex.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("empty key")
	}
	if b, err := hex.DecodeString(s); err == nil && len(s)%2 == 0 && (len(b) == 32 || len(b) == 64) {
		return b, nil
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("key is neither base64 nor hex")
}

// NewID returns a new random consent id: 128 random bits, base64url.
// An id that would start with '-' or '_' is drawn again, so that an auditor
// can pass any id to a command line (consentctl show ID) without it being
// taken for a flag.
func NewID() string {
	for {
		id := base64.RawURLEncoding.EncodeToString(randomBytes(16))
		if id[0] != '-' && id[0] != '_' {
			return id
		}
	}
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("cookie: no randomness: " + err.Error()) // crypto/rand never fails on supported systems
	}
	return b
}

// HostPrefix starts a cookie name that browsers accept only from the host
// itself, over HTTPS, with Secure, Path=/ and no Domain: no other host (a
// sibling subdomain included) can set or overwrite such a cookie.
const HostPrefix = "__Host-"

// Codec encodes and decodes consent cookies.
type Codec struct {
	name   string
	codecs []securecookie.Codec
}

// NewCodec builds a codec for the named cookie. keys[0] encodes; all decode.
// maxAge bounds how old a cookie may be and still decode.
func NewCodec(name string, keys []KeyPair, maxAge time.Duration) (*Codec, error) {
	if len(keys) == 0 {
		return nil, errors.New("at least one key pair is required")
	}
	c := &Codec{name: name}
	for i, k := range keys {
		if err := k.Validate(); err != nil {
			return nil, fmt.Errorf("key pair %d: %w", i+1, err)
		}
		sc := securecookie.New(k.Hash, k.Block)
		sc.MaxAge(int(maxAge / time.Second))
		sc.SetSerializer(securecookie.JSONEncoder{})
		c.codecs = append(c.codecs, sc)
	}
	return c, nil
}

// Encode produces the cookie value for a consent.
func (c *Codec) Encode(v Consent) (string, error) {
	return securecookie.EncodeMulti(c.name, v, c.codecs...)
}

// Decode verifies and decrypts a cookie value. Any failure (tampered, expired,
// unknown key, malformed) is an error; callers treat it as "no consent yet".
func (c *Codec) Decode(value string) (Consent, error) {
	var v Consent
	if err := securecookie.DecodeMulti(c.name, value, &v, c.codecs...); err != nil {
		return Consent{}, err
	}
	if v.ID == "" || v.Time == 0 {
		return Consent{}, errors.New("consent cookie lacks id or time")
	}
	return v, nil
}
