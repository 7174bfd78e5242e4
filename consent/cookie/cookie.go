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

// ParseKey decodes a key written as hex or as standard or URL-safe base64
// (padded or not), or with a prefix that says which: "hex:" or "base64:".
//
// Without a prefix, a value of hex digits only is also valid base64, and
// the two readings are different keys (other key ids: proofs that no
// longer verify, cookies refused). It is read as hex when that gives 32 or
// 64 bytes, as it always was. Any other such value is refused with an
// AmbiguousKeyError, not guessed: earlier versions read it as base64,
// while whoever wrote it most likely meant hex. (One too short either way
// is left to the length check, which refuses it whichever it is.)
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if rest, ok := cutPrefixFold(s, "hex:"); ok {
		b, err := hex.DecodeString(strings.TrimSpace(rest))
		switch {
		case strings.TrimSpace(rest) == "":
			return nil, ErrEmptyKey
		case err != nil:
			return nil, errors.New(`key after "hex:" is not hex`)
		}
		return b, nil
	}
	if rest, ok := cutPrefixFold(s, "base64:"); ok {
		b, ok := decodeBase64(strings.TrimSpace(rest))
		switch {
		case strings.TrimSpace(rest) == "":
			return nil, ErrEmptyKey
		case !ok:
			return nil, errors.New(`key after "base64:" is not base64`)
		}
		return b, nil
	}
	if s == "" {
		return nil, ErrEmptyKey
	}
	if isHexDigits(s) {
		asHex, err := hex.DecodeString(s)
		if err != nil {
			asHex = nil // an odd number of digits
		} else if len(asHex) == 32 || len(asHex) == 64 {
			return asHex, nil
		}
		if asBase64, ok := decodeBase64(s); ok && max(len(asHex), len(asBase64)) >= minKeySize {
			return nil, &AmbiguousKeyError{Hex: asHex, Base64: asBase64}
		}
	}
	if b, ok := decodeBase64(s); ok {
		return b, nil
	}
	return nil, errors.New("key is neither base64 nor hex")
}

// ErrEmptyKey is a key with nothing in it, or nothing after its prefix.
var ErrEmptyKey = errors.New("empty key")

// minKeySize is the size of the shortest key read with ParseKey (cookie
// keys, proof keys, signing seeds).
const minKeySize = 32

// AmbiguousKeyError is a key without a prefix, of hex digits only, that
// does not read as hex to 32 or 64 bytes: ParseKey will not guess whether
// it is hex or base64.
type AmbiguousKeyError struct {
	Hex    []byte // the value read as hex; nil for an odd number of digits
	Base64 []byte // the value read as base64, as earlier versions did
}

func (e *AmbiguousKeyError) Error() string {
	if e.Hex == nil {
		return fmt.Sprintf(`key of hex digits only, but an odd number of them: not hex (a digit missing or extra?); as base64 it is %d bytes, how earlier versions read it: if it is base64, write "base64:" before it`, len(e.Base64))
	}
	return fmt.Sprintf(`key of hex digits only reads two ways: as hex, %d bytes; as base64, %d bytes (how earlier versions read it); write "hex:" or "base64:" before it to say which`, len(e.Hex), len(e.Base64))
}

// decodeBase64 decodes any of the base64 forms a key may be written in.
func decodeBase64(s string) ([]byte, bool) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, true
		}
	}
	return nil, false
}

func isHexDigits(s string) bool {
	for _, c := range []byte(s) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// cutPrefixFold is strings.CutPrefix, ignoring case.
func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
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
