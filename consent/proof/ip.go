package proof

import (
	"net/netip"
)

// Default prefix lengths kept of a client address, as the privacy policies
// promise.
const (
	DefaultIPv4Bits = 16
	DefaultIPv6Bits = 48
)

// Longest prefixes TruncateIP keeps, whatever it is asked: a /24 or /64
// still names a network, not a person's address.
const (
	maxIPv4Bits = 24
	maxIPv6Bits = 64
)

// TruncateIP returns the network of ip as a prefix ("203.0.0.0/16",
// "2001:db8:1200::/48"), keeping v4bits of an IPv4 address (IPv4-mapped IPv6
// counts as IPv4) or v6bits of an IPv6 one. Bits above /24 and /64 are
// clamped there, so the full address is never returned; bits <= 0, or an
// invalid address, give "" (the address is dropped).
func TruncateIP(ip netip.Addr, v4bits, v6bits int) string {
	ip = ip.Unmap().WithZone("")
	bits, limit := v6bits, maxIPv6Bits
	if ip.Is4() {
		bits, limit = v4bits, maxIPv4Bits
	}
	if !ip.IsValid() || bits <= 0 {
		return ""
	}
	p, err := ip.Prefix(min(bits, limit))
	if err != nil {
		return ""
	}
	return p.String()
}
