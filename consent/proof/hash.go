package proof

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
)

// Hashing, as FORMAT.md specifies:
//
//	hash = hex(SHA-256(JCS(record without "hash" and "hmac")))
//	hmac = hex(HMAC-SHA256(key, the 32 bytes hash names))
//
// A tombstone keeps the hash of the record it replaced (for the chain) and
// authenticates itself instead:
//
//	hmac = hex(HMAC-SHA256(key, SHA-256(JCS(tombstone without "hmac"))))

// parseObject parses a JSON object.
func parseObject(data []byte) (*value, error) {
	v, err := parseJSON(data)
	if err != nil {
		return nil, err
	}
	if v.kind != '{' {
		return nil, fmt.Errorf("%w: not an object", errSyntax)
	}
	return &v, nil
}

// canonicalWithout appends the canonical encoding of object o less the
// named top-level members.
func canonicalWithout(dst []byte, o *value, drop ...string) []byte {
	dst = append(dst, '{')
	first := true
	for i := range o.kids {
		if contains(drop, o.kids[i].key) {
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = appendString(dst, o.kids[i].key)
		dst = append(dst, ':')
		dst = appendCanonical(dst, &o.kids[i].val)
	}
	return append(dst, '}')
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// isTombstone reports whether a parsed record is a tombstone.
func isTombstone(o *value) bool {
	t := o.get("type")
	return t != nil && t.kind == '"' && t.str == string(Erased)
}

// digestValue returns the hex SHA-256 a parsed record's integrity rests on:
// for a live record its content hash, for a tombstone the digest its HMAC
// covers.
func digestValue(o *value) string {
	sum := digestSum(o)
	return hexString(sum[:])
}

// digestSum is digestValue before hex.
func digestSum(o *value) [sha256.Size]byte {
	drop := []string{"hash", "hmac"}
	if isTombstone(o) {
		drop = drop[1:]
	}
	w := writers.Get().(*objectWriter)
	w.b = canonicalWithout(w.b[:0], o, drop...)
	sum := sha256.Sum256(w.b)
	writers.Put(w)
	return sum
}

// digest returns the record's digest (see digestValue) before hex: sealing
// MACs the raw bytes.
func (r *Record) digest() ([sha256.Size]byte, error) {
	if d, ok := r.fastDigest(); ok {
		return d, nil
	}
	return r.slowDigest()
}

// slowDigest is the digest the long way round, as FORMAT.md describes it:
// the record's JSON, parsed and canonicalised.
func (r *Record) slowDigest() ([sha256.Size]byte, error) {
	data, err := json.Marshal(r)
	if err != nil {
		return [sha256.Size]byte{}, err
	}
	o, err := parseObject(data)
	if err != nil {
		return [sha256.Size]byte{}, err
	}
	return digestSum(o), nil
}

// macOver computes the HMAC of a hex digest's bytes.
func macOver(key MACKey, hexDigest string) (string, error) {
	b, err := hex.DecodeString(hexDigest)
	if err != nil || len(b) != sha256.Size {
		return "", fmt.Errorf("proof: %q is not a SHA-256 hex digest", hexDigest)
	}
	return key.mac(b), nil
}

// hexString is hex.EncodeToString with one allocation, not two, for a
// digest or MAC.
func hexString(b []byte) string {
	var buf [2 * sha256.Size]byte
	return string(hex.AppendEncode(buf[:0], b))
}
