package caddymodule

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// decodeChoice decodes a JSON choice body strictly: known members only,
// one value and nothing after it.
func decodeChoice(data []byte) (jsonChoice, error) {
	if in, ok := scanChoice(data); ok {
		return in, nil
	}
	return unmarshalChoice(data)
}

// unmarshalChoice is decodeChoice through encoding/json.
func unmarshalChoice(data []byte) (jsonChoice, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var in jsonChoice
	if err := dec.Decode(&in); err != nil {
		return jsonChoice{}, fmt.Errorf("malformed choice: %w", err)
	}
	if dec.More() {
		return jsonChoice{}, errors.New("malformed choice: trailing data")
	}
	// encoding/json keeps the last of two equal names: a choice that says
	// two things is refused instead of read as one of them.
	if name := repeatedName(data); name != "" {
		return jsonChoice{}, fmt.Errorf("malformed choice: %q given twice", name)
	}
	return in, nil
}

// repeatedName is the first member name given twice in one object of a
// JSON document (compared ignoring case, as encoding/json matches fields),
// or "".
func repeatedName(data []byte) string {
	type level struct {
		names    map[string]bool // nil for an array
		wantName bool
	}
	var stack []level
	dec := json.NewDecoder(bytes.NewReader(data))
	for {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		var top *level
		if len(stack) > 0 {
			top = &stack[len(stack)-1]
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				stack = append(stack, level{names: map[string]bool{}, wantName: true})
			case '[':
				stack = append(stack, level{})
			default:
				stack = stack[:len(stack)-1]
				if len(stack) > 0 && stack[len(stack)-1].names != nil {
					stack[len(stack)-1].wantName = true // the container was a member's value
				}
			}
		case string:
			if top != nil && top.wantName {
				name := strings.ToLower(t)
				if top.names[name] {
					return t
				}
				top.names[name], top.wantName = true, false
				continue
			}
			if top != nil && top.names != nil {
				top.wantName = true
			}
		default: // a number, boolean or null: a member's value, or in an array
			if top != nil && top.names != nil {
				top.wantName = true
			}
		}
	}
}

// scanChoice decodes what the banner sends without reflection (a consent
// post's JSON cost several times its work through encoding/json): one
// object of jsonChoice's members, each once and spelt exactly, with
// true/false values, strings of printable ASCII without escapes, and only
// whitespace after it. It reports false for anything else, which
// encoding/json then decodes with its own rules and error messages
// (case-insensitive names, null, escapes, repeated members).
func scanChoice(data []byte) (jsonChoice, bool) {
	var in jsonChoice
	s := choiceScanner{data: data}
	if !s.take('{') {
		return in, false
	}
	if s.take('}') {
		return in, s.atEnd()
	}
	var seen uint
	for {
		name, ok := s.str()
		if !ok || !s.take(':') {
			return in, false
		}
		bit, ok := s.member(&in, name)
		if !ok || seen&bit != 0 {
			return in, false
		}
		seen |= bit
		if !s.take(',') {
			return in, s.take('}') && s.atEnd()
		}
	}
}

type choiceScanner struct {
	data []byte
	i    int
}

// member decodes the value of the named member into in and returns the
// member's bit, or false.
func (s *choiceScanner) member(in *jsonChoice, name []byte) (bit uint, ok bool) {
	switch string(name) {
	case "all":
		var all bool
		all, ok = s.boolean()
		in.All = &all
		return 1, ok
	case "withdraw":
		in.Withdraw, ok = s.boolean()
		return 2, ok
	case "purposes":
		in.Purposes, ok = s.boolMap()
		return 4, ok
	case "vendors":
		in.Vendors, ok = s.boolMap()
		return 8, ok
	case "layer":
		return 16, s.text(&in.Layer)
	case "action":
		return 32, s.text(&in.Action)
	case "control":
		return 64, s.text(&in.Control)
	case "page":
		return 128, s.text(&in.Page)
	}
	return 0, false
}

func (s *choiceScanner) skipSpace() {
	for s.i < len(s.data) {
		switch s.data[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// take consumes c, after any whitespace, if it is next.
func (s *choiceScanner) take(c byte) bool {
	s.skipSpace()
	if s.i < len(s.data) && s.data[s.i] == c {
		s.i++
		return true
	}
	return false
}

func (s *choiceScanner) atEnd() bool {
	s.skipSpace()
	return s.i == len(s.data)
}

func (s *choiceScanner) boolean() (v, ok bool) {
	s.skipSpace()
	rest := s.data[s.i:]
	switch {
	case bytes.HasPrefix(rest, []byte("true")):
		s.i += len("true")
		return true, true
	case bytes.HasPrefix(rest, []byte("false")):
		s.i += len("false")
		return false, true
	}
	return false, false
}

// str returns the contents of a string of printable ASCII without
// escapes, which are the same bytes decoded.
func (s *choiceScanner) str() ([]byte, bool) {
	if !s.take('"') {
		return nil, false
	}
	start := s.i
	for ; s.i < len(s.data); s.i++ {
		switch c := s.data[s.i]; {
		case c == '"':
			s.i++
			return s.data[start : s.i-1], true
		case c < 0x20 || c >= 0x7f || c == '\\':
			return nil, false
		}
	}
	return nil, false
}

func (s *choiceScanner) text(dst *string) bool {
	b, ok := s.str()
	*dst = string(b)
	return ok
}

// boolMap decodes an object of true/false members; {} is an empty map, as
// encoding/json makes it.
func (s *choiceScanner) boolMap() (map[string]bool, bool) {
	if !s.take('{') {
		return nil, false
	}
	m := map[string]bool{}
	if s.take('}') {
		return m, true
	}
	for {
		k, ok := s.str()
		if !ok || !s.take(':') {
			return nil, false
		}
		if _, twice := m[string(k)]; twice {
			return nil, false // encoding/json's path says so
		}
		if m[string(k)], ok = s.boolean(); !ok {
			return nil, false
		}
		if !s.take(',') {
			return m, s.take('}')
		}
	}
}
