package proof

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
	"unicode/utf8"
)

// maxExactInt bounds the integers RFC 8785 writes as plain digits (it
// formats numbers as IEEE doubles).
const maxExactInt = 1 << 53

// fastDigest computes a live record's digest straight from its fields,
// writing the RFC 8785 encoding that json.Marshal, parsing and
// canonicalising would produce, without either step: sealing is on every
// consent post. It reports false for the rare record it does not cover
// (a tombstone, invalid UTF-8, a non-ASCII map key, an integer past 2^53),
// which then takes the general path.
func (r *Record) fastDigest() (string, bool) {
	if r.Type == Erased || !r.fastEncodable() {
		return "", false
	}
	buf := buffers.Get().(*[]byte)
	b := appendRecordCanonical((*buf)[:0], r)
	sum := sha256.Sum256(b)
	*buf = b
	buffers.Put(buf)
	return hex.EncodeToString(sum[:]), true
}

func (r *Record) fastEncodable() bool {
	for _, s := range []string{r.EventID, string(r.Type), r.Supersedes, r.ConsentID, r.Site, r.Path,
		r.Policy.Version, r.Policy.Hash, r.Texts.Hash, r.Texts.Lang, r.How.Layer, r.How.Action, r.How.Control,
		r.Signals.Effect, r.Software, r.IP, r.UA, r.Chain, r.Prev, r.KeyID} {
		if !utf8.ValidString(s) {
			return false
		}
	}
	for _, n := range []int64{int64(r.Schema), r.Time, r.ExpiresAt, r.ErasedAt} {
		if n >= maxExactInt || n <= -maxExactInt {
			return false
		}
	}
	if r.Seq >= maxExactInt {
		return false
	}
	for _, m := range []map[string]bool{r.Purposes, r.Vendors} {
		for k := range m {
			if !isASCII(k) {
				return false
			}
		}
	}
	return true
}

// appendRecordCanonical appends the canonical encoding of a live record
// without "hash" and "hmac": members in code-unit order, the ones
// json.Marshal omits left out.
func appendRecordCanonical(b []byte, r *Record) []byte {
	w := objectWriter{b: append(b, '{')}
	w.str("chain", r.Chain)
	w.optStr("consent_id", r.ConsentID)
	w.optInt("erased_at", r.ErasedAt)
	w.str("event_id", r.EventID)
	w.optInt("expires_at", r.ExpiresAt)
	if r.How != (How{}) {
		h := w.open("how")
		h.str("action", r.How.Action)
		h.optStr("control", r.How.Control)
		h.str("layer", r.How.Layer)
		w.close(h)
	}
	w.optStr("ip", r.IP)
	w.str("key_id", r.KeyID)
	w.optStr("path", r.Path)
	if r.Policy != (Policy{}) {
		p := w.open("policy")
		p.str("hash", r.Policy.Hash)
		p.str("version", r.Policy.Version)
		w.close(p)
	}
	w.str("prev", r.Prev)
	w.optBoolMap("purposes", r.Purposes)
	w.int("schema", int64(r.Schema))
	w.key("seq")
	w.b = strconv.AppendUint(w.b, r.Seq, 10)
	if r.Signals != (Signals{}) {
		s := w.open("signals")
		s.bool("dnt", r.Signals.DNT)
		s.optStr("effect", r.Signals.Effect)
		s.bool("gpc", r.Signals.GPC)
		w.close(s)
	}
	w.optStr("site", r.Site)
	w.optStr("software", r.Software)
	w.optStr("supersedes", r.Supersedes)
	if r.Texts != (Texts{}) {
		t := w.open("texts")
		t.str("hash", r.Texts.Hash)
		t.str("lang", r.Texts.Lang)
		w.close(t)
	}
	w.int("time", r.Time)
	w.str("type", string(r.Type))
	w.optStr("ua", r.UA)
	w.optBoolMap("vendors", r.Vendors)
	return append(w.b, '}')
}

// objectWriter writes the members of one JSON object, in the order given.
type objectWriter struct {
	b    []byte
	some bool
}

func (w *objectWriter) key(k string) {
	if w.some {
		w.b = append(w.b, ',')
	}
	w.some = true
	w.b = appendString(w.b, k)
	w.b = append(w.b, ':')
}

func (w *objectWriter) str(k, v string) {
	w.key(k)
	w.b = appendString(w.b, v)
}

func (w *objectWriter) optStr(k, v string) {
	if v != "" {
		w.str(k, v)
	}
}

func (w *objectWriter) int(k string, v int64) {
	w.key(k)
	w.b = strconv.AppendInt(w.b, v, 10)
}

func (w *objectWriter) optInt(k string, v int64) {
	if v != 0 {
		w.int(k, v)
	}
}

func (w *objectWriter) bool(k string, v bool) {
	w.key(k)
	w.b = strconv.AppendBool(w.b, v)
}

func (w *objectWriter) optBoolMap(k string, m map[string]bool) {
	if len(m) == 0 {
		return
	}
	keys := make([]string, 0, len(m))
	for id := range m {
		keys = append(keys, id)
	}
	slices.Sort(keys) // ASCII keys: byte order is code-unit order
	inner := w.open(k)
	for _, id := range keys {
		inner.bool(id, m[id])
	}
	w.close(inner)
}

// open starts member k, an object, whose members the returned writer
// writes; close ends it.
func (w *objectWriter) open(k string) objectWriter {
	w.key(k)
	return objectWriter{b: append(w.b, '{')}
}

func (w *objectWriter) close(inner objectWriter) { w.b = append(inner.b, '}') }
