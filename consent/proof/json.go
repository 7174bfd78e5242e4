package proof

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"sync"
	"unicode/utf16"
	"unicode/utf8"
)

// value is a parsed JSON value. The parser is strict in the ways RFC 8785
// (through I-JSON, RFC 7493) requires: valid UTF-8, no lone surrogates, no
// duplicate keys. Numbers must be integers of at most 2^53 in magnitude, the
// only numbers this format uses; they are kept in canonical decimal form.
type value struct {
	kind byte // '{', '[', '"', '0' (number), 't', 'f', 'n'
	str  string
	// kids are an object's members, sorted, or an array's elements (with
	// empty keys).
	kids []member
}

type member struct {
	key string
	val value
}

// get returns an object's member value, or nil.
func (v *value) get(key string) *value {
	for i := range v.kids {
		if v.kids[i].key == key {
			return &v.kids[i].val
		}
	}
	return nil
}

// maxSafe is the largest integer an IEEE double, and so ECMAScript, holds exactly.
const maxSafe = 1<<53 - 1

// maxDepth bounds nesting so hostile input cannot exhaust the stack.
const maxDepth = 64

var errSyntax = errors.New("invalid JSON")

type parser struct {
	data  []byte
	pos   int
	depth int
	// stack collects the kids of open containers, so each container gets
	// one exactly sized slice.
	stack []member
}

// parsers keeps parser stacks between uses: records are parsed by the
// hundred thousand.
var parsers = sync.Pool{New: func() any { return &parser{stack: make([]member, 0, 64)} }}

// parseJSON parses one JSON text.
func parseJSON(data []byte) (value, error) {
	p := parsers.Get().(*parser)
	defer func() {
		clear(p.stack[:cap(p.stack)])
		*p = parser{stack: p.stack[:0]}
		parsers.Put(p)
	}()
	p.data = data
	v, err := p.value()
	if err != nil {
		return value{}, err
	}
	p.space()
	if p.pos != len(p.data) {
		return value{}, p.fail("trailing data")
	}
	return v, nil
}

func (p *parser) fail(what string) error {
	return fmt.Errorf("%w at byte %d: %s", errSyntax, p.pos, what)
}

func (p *parser) space() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *parser) value() (value, error) {
	p.space()
	if p.pos >= len(p.data) {
		return value{}, p.fail("unexpected end")
	}
	switch c := p.data[p.pos]; {
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == '"':
		s, err := p.string()
		return value{kind: '"', str: s}, err
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	case p.literal("true"):
		return value{kind: 't'}, nil
	case p.literal("false"):
		return value{kind: 'f'}, nil
	case p.literal("null"):
		return value{kind: 'n'}, nil
	}
	return value{}, p.fail("unexpected character")
}

func (p *parser) literal(word string) bool {
	if len(p.data)-p.pos >= len(word) && string(p.data[p.pos:p.pos+len(word)]) == word {
		p.pos += len(word)
		return true
	}
	return false
}

func (p *parser) enter() error {
	if p.depth++; p.depth > maxDepth {
		return p.fail("nested too deeply")
	}
	p.pos++ // the opening bracket
	return nil
}

func (p *parser) object() (value, error) {
	if err := p.enter(); err != nil {
		return value{}, err
	}
	base := len(p.stack)
	p.space()
	if p.pos < len(p.data) && p.data[p.pos] == '}' {
		p.pos++
		p.depth--
		return value{kind: '{'}, nil
	}
	for {
		p.space()
		if p.pos >= len(p.data) || p.data[p.pos] != '"' {
			return value{}, p.fail("expected a key")
		}
		key, err := p.key()
		if err != nil {
			return value{}, err
		}
		p.space()
		if p.pos >= len(p.data) || p.data[p.pos] != ':' {
			return value{}, p.fail("expected ':'")
		}
		p.pos++
		val, err := p.value()
		if err != nil {
			return value{}, err
		}
		p.stack = append(p.stack, member{key, val})
		if done, err := p.next('}'); err != nil {
			return value{}, err
		} else if done {
			break
		}
	}
	v := value{kind: '{', kids: p.pop(base)}
	// Members are kept in canonical order, which also puts duplicates side
	// by side.
	slices.SortFunc(v.kids, func(a, b member) int { return compareUTF16(a.key, b.key) })
	for i := 1; i < len(v.kids); i++ {
		if v.kids[i].key == v.kids[i-1].key {
			return value{}, p.fail("duplicate key " + strconv.Quote(v.kids[i].key))
		}
	}
	return v, nil
}

func (p *parser) array() (value, error) {
	if err := p.enter(); err != nil {
		return value{}, err
	}
	base := len(p.stack)
	p.space()
	if p.pos < len(p.data) && p.data[p.pos] == ']' {
		p.pos++
		p.depth--
		return value{kind: '['}, nil
	}
	for {
		e, err := p.value()
		if err != nil {
			return value{}, err
		}
		p.stack = append(p.stack, member{val: e})
		if done, err := p.next(']'); err != nil {
			return value{}, err
		} else if done {
			return value{kind: '[', kids: p.pop(base)}, nil
		}
	}
}

// pop moves the kids collected since base into their own slice.
func (p *parser) pop(base int) []member {
	kids := slices.Clone(p.stack[base:])
	clear(p.stack[base:])
	p.stack = p.stack[:base]
	return kids
}

// next consumes ',' (more to come) or the closing bracket (done).
func (p *parser) next(closing byte) (bool, error) {
	p.space()
	if p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ',':
			p.pos++
			return false, nil
		case closing:
			p.pos++
			p.depth--
			return true, nil
		}
	}
	return false, p.fail("expected ',' or '" + string(closing) + "'")
}

func (p *parser) number() (value, error) {
	start := p.pos
	if p.data[p.pos] == '-' {
		p.pos++
	}
	switch {
	case p.pos < len(p.data) && p.data[p.pos] == '0':
		p.pos++
	case p.pos < len(p.data) && p.data[p.pos] >= '1' && p.data[p.pos] <= '9':
		p.digits()
	default:
		return value{}, p.fail("malformed number")
	}
	if p.pos < len(p.data) && p.data[p.pos] == '.' {
		p.pos++
		if p.digits() == 0 {
			return value{}, p.fail("malformed fraction")
		}
	}
	if p.pos < len(p.data) && (p.data[p.pos] == 'e' || p.data[p.pos] == 'E') {
		p.pos++
		if p.pos < len(p.data) && (p.data[p.pos] == '+' || p.data[p.pos] == '-') {
			p.pos++
		}
		if p.digits() == 0 {
			return value{}, p.fail("malformed exponent")
		}
	}
	// A number's value is a double (as in ECMAScript); 1.0, 1e3 and -0 are
	// integers too and take their integer form.
	f, err := strconv.ParseFloat(string(p.data[start:p.pos]), 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) > maxSafe {
		return value{}, p.fail("only integers up to 2^53 are allowed")
	}
	return value{kind: '0', str: strconv.FormatInt(int64(f), 10)}, nil
}

func (p *parser) digits() int {
	n := 0
	for p.pos < len(p.data) && p.data[p.pos] >= '0' && p.data[p.pos] <= '9' {
		p.pos++
		n++
	}
	return n
}

// knownKeys are the keys records and checkpoints use: parsing them
// allocates nothing.
var knownKeys = map[string]string{}

func init() {
	for _, k := range []string{"schema", "event_id", "type", "supersedes", "consent_id", "time",
		"expires_at", "site", "path", "policy", "version", "hash", "texts", "lang", "how", "layer",
		"action", "control", "purposes", "vendors", "signals", "gpc", "dnt", "effect", "software",
		"ip", "ua", "erased_at", "chain", "seq", "prev", "key_id", "hmac", "head", "sig"} {
		knownKeys[k] = k
	}
}

// key parses an object key.
func (p *parser) key() (string, error) {
	if end := bytes.IndexByte(p.data[p.pos+1:], '"'); end >= 0 {
		if k, ok := knownKeys[string(p.data[p.pos+1:p.pos+1+end])]; ok {
			p.pos += end + 2
			return k, nil
		}
	}
	return p.string()
}

// string parses a quoted string and returns its decoded value.
func (p *parser) string() (string, error) {
	p.pos++ // opening quote
	start := p.pos
	// Fast path: no escapes.
	for p.pos < len(p.data) {
		c := p.data[p.pos]
		if c == '"' {
			s := p.data[start:p.pos]
			if !utf8.Valid(s) {
				return "", p.fail("invalid UTF-8")
			}
			p.pos++
			return string(s), nil
		}
		if c == '\\' || c < 0x20 {
			break
		}
		p.pos++
	}
	buf := append([]byte(nil), p.data[start:p.pos]...)
	for p.pos < len(p.data) {
		c := p.data[p.pos]
		switch {
		case c == '"':
			if !utf8.Valid(buf) {
				return "", p.fail("invalid UTF-8")
			}
			p.pos++
			return string(buf), nil
		case c < 0x20:
			return "", p.fail("control character in string")
		case c != '\\':
			buf = append(buf, c)
			p.pos++
			continue
		}
		p.pos++
		if p.pos >= len(p.data) {
			break
		}
		e := p.data[p.pos]
		p.pos++
		switch e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, err := p.unicodeEscape()
			if err != nil {
				return "", err
			}
			buf = utf8.AppendRune(buf, r)
		default:
			return "", p.fail("invalid escape")
		}
	}
	return "", p.fail("unterminated string")
}

// unicodeEscape decodes the hex of \uXXXX (the "\u" consumed), joining a
// surrogate pair; a lone surrogate is an error (I-JSON).
func (p *parser) unicodeEscape() (rune, error) {
	hi, ok := p.hex4()
	if !ok {
		return 0, p.fail("invalid \\u escape")
	}
	if !utf16.IsSurrogate(hi) {
		return hi, nil
	}
	if hi < 0xDC00 && p.pos+1 < len(p.data) && p.data[p.pos] == '\\' && p.data[p.pos+1] == 'u' {
		p.pos += 2
		if lo, ok := p.hex4(); ok && lo >= 0xDC00 && lo <= 0xDFFF {
			return utf16.DecodeRune(hi, lo), nil
		}
	}
	return 0, p.fail("lone surrogate")
}

func (p *parser) hex4() (rune, bool) {
	if len(p.data)-p.pos < 4 {
		return 0, false
	}
	n, err := strconv.ParseUint(string(p.data[p.pos:p.pos+4]), 16, 16)
	if err != nil {
		return 0, false
	}
	p.pos += 4
	return rune(n), true
}
