package proof

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
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

// AppendJSON appends r as json.Marshal encodes it, byte for byte: the form
// the stores keep and exports carry. Live records are written straight from
// their fields (a store append does this for every consent post); the rare
// record fastDigest declines goes through json.Marshal.
func (r *Record) AppendJSON(b []byte) ([]byte, error) {
	if r.Type == Erased || !r.fastEncodable() {
		data, err := json.Marshal(r)
		return append(b, data...), err
	}
	w := objectWriter{b: append(b, '{'), marshal: true}
	w.int("schema", int64(r.Schema))
	w.str("event_id", r.EventID)
	w.str("type", string(r.Type))
	w.optStr("supersedes", r.Supersedes)
	w.optStr("consent_id", r.ConsentID)
	w.int("time", r.Time)
	w.optInt("expires_at", r.ExpiresAt)
	w.optStr("site", r.Site)
	w.optStr("path", r.Path)
	if r.Policy != (Policy{}) {
		p := w.open("policy")
		p.str("version", r.Policy.Version)
		p.str("hash", r.Policy.Hash)
		w.close(p)
	}
	if r.Texts != (Texts{}) {
		t := w.open("texts")
		t.str("hash", r.Texts.Hash)
		t.str("lang", r.Texts.Lang)
		w.close(t)
	}
	if r.How != (How{}) {
		h := w.open("how")
		h.str("layer", r.How.Layer)
		h.str("action", r.How.Action)
		h.optStr("control", r.How.Control)
		w.close(h)
	}
	w.optBoolMap("purposes", r.Purposes)
	w.optBoolMap("vendors", r.Vendors)
	if r.Signals != (Signals{}) {
		s := w.open("signals")
		s.bool("gpc", r.Signals.GPC)
		s.bool("dnt", r.Signals.DNT)
		s.optStr("effect", r.Signals.Effect)
		w.close(s)
	}
	w.optStr("software", r.Software)
	w.optStr("ip", r.IP)
	w.optStr("ua", r.UA)
	w.optInt("erased_at", r.ErasedAt)
	w.str("chain", r.Chain)
	w.key("seq")
	w.b = strconv.AppendUint(w.b, r.Seq, 10)
	w.str("prev", r.Prev)
	w.str("key_id", r.KeyID)
	w.str("hash", r.Hash)
	w.str("hmac", r.HMAC)
	return append(w.b, '}'), nil
}

// objectWriter writes the members of one JSON object, in the order given,
// escaping strings as RFC 8785 does or, with marshal, as json.Marshal does.
type objectWriter struct {
	b       []byte
	some    bool
	marshal bool
}

func (w *objectWriter) string(s string) {
	if w.marshal {
		w.b = appendMarshalString(w.b, s)
	} else {
		w.b = appendString(w.b, s)
	}
}

func (w *objectWriter) key(k string) {
	if w.some {
		w.b = append(w.b, ',')
	}
	w.some = true
	w.string(k)
	w.b = append(w.b, ':')
}

func (w *objectWriter) str(k, v string) {
	w.key(k)
	w.string(v)
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
	slices.Sort(keys) // ASCII keys: byte order is code-unit order, and json.Marshal's
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
	return objectWriter{b: append(w.b, '{'), marshal: w.marshal}
}

func (w *objectWriter) close(inner objectWriter) { w.b = append(inner.b, '}') }

// appendMarshalString appends valid UTF-8 s quoted as json.Marshal quotes
// it: HTML-sensitive bytes, U+2028 and U+2029 escaped as well.
func appendMarshalString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			start = i + size
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
