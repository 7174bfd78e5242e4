package proof

import (
	"net/netip"
	"testing"
	"time"
)

func TestTruncateIP(t *testing.T) {
	for _, c := range []struct {
		ip     string
		v4, v6 int
		want   string
	}{
		{"203.0.113.77", 16, 48, "203.0.0.0/16"},
		{"2001:db8:1234:5678::1", 16, 48, "2001:db8:1234::/48"},
		{"::ffff:198.51.100.7", 16, 48, "198.51.0.0/16"},
		{"fe80::1%eth0", 16, 48, "fe80::/48"},
		{"203.0.113.77", 32, 128, "203.0.113.0/24"}, // never the full address
		{"2001:db8::1", 16, 128, "2001:db8::/64"},
		{"203.0.113.77", 0, 48, ""}, // dropped
		{"2001:db8::1", 16, -1, ""},
	} {
		if got := TruncateIP(netip.MustParseAddr(c.ip), c.v4, c.v6); got != c.want {
			t.Errorf("TruncateIP(%s, %d, %d) = %q, want %q", c.ip, c.v4, c.v6, got, c.want)
		}
	}
	if got := TruncateIP(netip.Addr{}, 16, 48); got != "" {
		t.Errorf("invalid address gave %q", got)
	}
}

func TestReduceUserAgent(t *testing.T) {
	for ua, want := range map[string]string{
		"Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0":                                                                         "Firefox 133",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36":                                "Chrome 131",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.86":              "Edge 131",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Safari/605.1.15":                          "Safari 17",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1": "Chrome 131",
		"Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36":               "Samsung Internet 26",
		"Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 OPR/115.0.0.0":                              "Opera 115",
		"curl/8.5.0": "other",
		"":           "other",
		"Firefox/":   "other",
	} {
		if got := ReduceUserAgent(ua); got != want {
			t.Errorf("ReduceUserAgent(%q) = %q, want %q", ua, got, want)
		}
	}
}

func TestNewEventID(t *testing.T) {
	at := time.UnixMilli(0x0192_3456_789a)
	id := NewEventID(at)
	if len(id) != 36 || id[:13] != "01923456-789a" || id[14] != '7' || id[19] < '8' || id[19] > 'b' {
		t.Fatalf("not a UUIDv7 for %v: %s", at, id)
	}
	if NewEventID(at) == id {
		t.Fatal("ids repeat")
	}
}
