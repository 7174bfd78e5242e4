package rewrite

import "bytes"

// rawState is a position inside the text of a raw text, RCDATA or script
// element. The script states follow x/net/html's readScript, including its
// one departure from the HTML standard: in the escaped state, '<' followed by
// neither '/' nor a letter returns to plain script data.
type rawState uint8

const (
	rsText         rawState = iota // text (script data)
	rsLT                           // after '<'
	rsEnd                          // in "</" + name
	rsEscStart                     // after "<!" (script only)
	rsEscStartDash                 // after "<!-"
	rsEsc                          // inside "<!--": escaped
	rsEscDash                      // escaped, after '-'
	rsEscDashDash                  // escaped, after "--"
	rsEscLT                        // escaped, after '<'
	rsEscEnd                       // escaped, in "</" + name
	rsDblStart                     // escaped, in "<" + "script"
	rsDbl                          // double escaped: "</script>" does not end it
	rsDblDash                      // double escaped, after '-'
	rsDblDashDash                  // double escaped, after "--"
	rsDblLT                        // double escaped, after '<'
	rsDblEnd                       // double escaped, in "</" + "script"
)

// rawScanner finds the end tag that closes a raw text element, resumably.
type rawScanner struct {
	name   string // lower-case name of the end tag looked for
	script bool   // script data rules (escapes) apply
	st     rawState
	k      int // bytes of name matched so far
}

func (s *rawScanner) reset(name string, script bool) {
	*s = rawScanner{name: name, script: script}
}

// scan advances over p from i. When the closing end tag is found it returns
// true and the index of the byte after "</name" (the end tag's first byte
// after its name, not consumed). With no name (a style sheet, Options.Sheet)
// the text never ends.
func (s *rawScanner) scan(p []byte, i int) (int, bool) {
	if s.name == "" {
		return len(p), false
	}
	for i < len(p) {
		switch s.st {
		case rsText:
			j := bytes.IndexByte(p[i:], '<')
			if j < 0 {
				return len(p), false
			}
			i += j + 1
			s.st = rsLT
		case rsLT:
			switch p[i] {
			case '/':
				i++
				s.st, s.k = rsEnd, 0
			case '!':
				if s.script {
					i++
					s.st = rsEscStart
				} else {
					s.st = rsText
				}
			default:
				s.st = rsText
			}
		case rsEnd, rsEscEnd:
			var m matchResult
			if i, m = s.match(p, i); m == matchMore {
				return i, false
			}
			if m == matchOK {
				s.st = rsText
				return i, true
			}
			if s.st == rsEnd {
				s.st = rsText
			} else {
				s.st = rsEsc
			}
		case rsEscStart, rsEscStartDash:
			if p[i] != '-' {
				s.st = rsText
				break
			}
			i++
			if s.st == rsEscStart {
				s.st = rsEscStartDash
			} else {
				s.st = rsEscDashDash
			}
		case rsEsc, rsDbl:
			for i < len(p) && p[i] != '-' && p[i] != '<' {
				i++
			}
			if i == len(p) {
				return i, false
			}
			s.st = s.afterDashOrLT(p[i], s.st == rsDbl)
			i++
		case rsEscDash, rsDblDash:
			dbl := s.st == rsDblDash
			c := p[i]
			i++
			if c == '-' {
				s.st = pick(dbl, rsDblDashDash, rsEscDashDash)
			} else {
				s.st = s.afterDashOrLT(c, dbl)
			}
		case rsEscDashDash, rsDblDashDash:
			dbl := s.st == rsDblDashDash
			c := p[i]
			i++
			switch c {
			case '-':
			case '>':
				s.st = rsText
			default:
				s.st = s.afterDashOrLT(c, dbl)
			}
		case rsEscLT:
			switch c := p[i]; {
			case c == '/':
				i++
				s.st, s.k = rsEscEnd, 0
			case isAlpha(c):
				s.st, s.k = rsDblStart, 0
			default:
				s.st = rsText // x/net/html's choice; the standard says rsEsc
			}
		case rsDblStart, rsDblEnd:
			var m matchResult
			if i, m = s.match(p, i); m == matchMore {
				return i, false
			}
			if m == matchOK {
				i++ // the terminator belongs to the text here
				s.st = pick(s.st == rsDblStart, rsDbl, rsEsc)
			} else {
				s.st = pick(s.st == rsDblStart, rsEsc, rsDbl)
			}
		case rsDblLT:
			if p[i] == '/' {
				i++
				s.st, s.k = rsDblEnd, 0
			} else {
				s.st = rsDbl
			}
		}
	}
	return i, false
}

// afterDashOrLT is the state after c in an (double) escaped state that has no
// dash run pending: '-' starts one, '<' may start a tag.
func (s *rawScanner) afterDashOrLT(c byte, dbl bool) rawState {
	switch c {
	case '-':
		return pick(dbl, rsDblDash, rsEscDash)
	case '<':
		return pick(dbl, rsDblLT, rsEscLT)
	}
	return pick(dbl, rsDbl, rsEsc)
}

func pick(cond bool, a, b rawState) rawState {
	if cond {
		return a
	}
	return b
}

type matchResult uint8

const (
	matchMore matchResult = iota // input exhausted mid-match
	matchOK                      // name and a terminator seen; i at the terminator
	matchFail                    // i at the byte that failed, to be reconsumed
)

// match continues matching s.name case-insensitively, then a terminator
// (white space, '/' or '>'), as x/net/html's readRawEndTag does.
func (s *rawScanner) match(p []byte, i int) (int, matchResult) {
	for ; s.k < len(s.name); s.k++ {
		if i == len(p) {
			return i, matchMore
		}
		if lower(p[i]) != s.name[s.k] {
			return i, matchFail
		}
		i++
	}
	if i == len(p) {
		return i, matchMore
	}
	if class[p[i]]&nameStop == 0 {
		return i, matchFail
	}
	return i, matchOK
}

// pending is how many bytes at the end of the input scanned so far may turn
// out to begin the closing end tag rather than belong to the text.
func (s *rawScanner) pending() int {
	switch s.st {
	case rsLT, rsEscLT:
		return 1
	case rsEnd, rsEscEnd:
		return 2 + s.k
	}
	return 0
}
