package proof

import (
	"crypto/rand"
	"encoding/hex"
	"time"
)

// NewEventID returns a UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then
// random bits, so ids sort by time and never repeat in practice.
func NewEventID(t time.Time) string {
	var u [16]byte
	_, _ = rand.Read(u[6:]) // crypto/rand never fails on supported platforms
	ms := uint64(t.UnixMilli())
	for i := 0; i < 6; i++ {
		u[i] = byte(ms >> (40 - 8*i))
	}
	u[6] = 0x70 | u[6]&0x0F // version 7
	u[8] = 0x80 | u[8]&0x3F // RFC 9562 variant
	var s [36]byte
	hex.Encode(s[0:8], u[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], u[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], u[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], u[8:10])
	s[23] = '-'
	hex.Encode(s[24:], u[10:])
	return string(s[:])
}
