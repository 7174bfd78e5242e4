package proof

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sync"
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

// buffers holds canonical encodings while they are hashed.
var buffers = sync.Pool{New: func() any { return new([]byte) }}

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
	drop := []string{"hash", "hmac"}
	if isTombstone(o) {
		drop = drop[1:]
	}
	buf := buffers.Get().(*[]byte)
	*buf = canonicalWithout((*buf)[:0], o, drop...)
	sum := sha256.Sum256(*buf)
	buffers.Put(buf)
	return hex.EncodeToString(sum[:])
}

// digest returns the record's digest (see digestValue).
func (r *Record) digest() (string, error) {
	if d, ok := r.fastDigest(); ok {
		return d, nil
	}
	return r.slowDigest()
}

// slowDigest is the digest the long way round, as FORMAT.md describes it:
// the record's JSON, parsed and canonicalised.
func (r *Record) slowDigest() (string, error) {
	data, err := json.Marshal(r)
	if err != nil {
		return "", err
	}
	o, err := parseObject(data)
	if err != nil {
		return "", err
	}
	return digestValue(o), nil
}

// macOver computes the HMAC of a hex digest's bytes.
func macOver(key MACKey, hexDigest string) (string, error) {
	b, err := hex.DecodeString(hexDigest)
	if err != nil || len(b) != sha256.Size {
		return "", fmt.Errorf("proof: %q is not a SHA-256 hex digest", hexDigest)
	}
	return key.mac(b), nil
}
