package proof

import (
	"encoding/json"
	"testing"
)

func BenchmarkSeal(b *testing.B) {
	c := newTestKeys(b).chain(b, "gw-1", Head{})
	r := sampleRecord(0)
	for b.Loop() {
		if _, err := c.Seal(r); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyRecord(b *testing.B) {
	k := newTestKeys(b)
	raws := sealN(b, k.chain(b, "gw-1", Head{}), 1000)
	v := NewChainVerifier("gw-1", nil, VerifyOptions{Keys: k.verifyKeys()})
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if i%len(raws) == 0 {
			v = NewChainVerifier("gw-1", nil, VerifyOptions{Keys: k.verifyKeys()})
		}
		v.AddRaw(raws[i%len(raws)])
	}
}

func BenchmarkDecodeRecord(b *testing.B) {
	raw := sealN(b, newTestKeys(b).chain(b, "gw-1", Head{}), 1)[0]
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		var r Record
		if err := json.Unmarshal(raw, &r); err != nil {
			b.Fatal(err)
		}
	}
}
