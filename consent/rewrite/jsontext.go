package rewrite

import (
	"bytes"
	"encoding/json"
)

// The JSON a page holds in script elements that load nothing by being
// run: import maps (importmap.go) and speculation rules (speculation.go).

// jsonText is which JSON a held script text is, if any.
type jsonText uint8

const (
	notJSON jsonText = iota
	importMapText
	speculationRulesText
)

// jsonTextOf names the JSON a script's type says its text is.
func jsonTextOf(ti *tagInfo) jsonText {
	t := scriptType(ti)
	switch {
	case bytes.EqualFold(t, []byte("importmap")):
		return importMapText
	case bytes.EqualFold(t, []byte("speculationrules")):
		return speculationRulesText
	}
	return notJSON
}

// jsonLevel is an object or array a JSON value is in.
type jsonLevel struct {
	object  bool
	key     string // in an object, the key whose value comes next (or came last)
	wantKey bool
}

// eachJSONString calls fn with every string value in text (not the keys)
// and the objects and arrays it is in, outermost first, until fn returns
// false or the text stops being JSON (a text cut short is read up to
// there).
func eachJSONString(text []byte, fn func(in []jsonLevel, s string) bool) {
	var stack []jsonLevel
	dec := json.NewDecoder(bytes.NewReader(text))
	for {
		tok, err := dec.Token()
		if err != nil {
			return
		}
		if key, ok := tok.(string); ok && len(stack) > 0 && stack[len(stack)-1].wantKey {
			stack[len(stack)-1].key, stack[len(stack)-1].wantKey = key, false
			continue
		}
		switch t := tok.(type) {
		case json.Delim:
			if t == '{' || t == '[' {
				stack = append(stack, jsonLevel{object: t == '{', wantKey: t == '{'})
				continue
			}
			stack = stack[:len(stack)-1]
		case string:
			if !fn(stack, t) {
				return
			}
		}
		if n := len(stack); n > 0 && stack[n-1].object {
			stack[n-1].wantKey = true
		}
	}
}

// judgeJSON decides a script element whose text is JSON (r.json, which it
// clears): an import map loads nothing itself and is kept for the modules
// after it; speculation rules are judged by the URLs they have the browser
// fetch.
func (r *Rewriter) judgeJSON(text []byte) (v Verdict) {
	if r.opt.XML {
		text = unwrapCDATA(text)
	}
	switch r.json {
	case importMapText:
		r.readImportMap(text)
	case speculationRulesText:
		r.judgeSpeculationRules(text, &v)
	}
	r.json = notJSON
	return v
}

var cdataOpen, cdataClose = []byte("<![CDATA["), []byte("]]>")

// unwrapCDATA is an XML script's text as the XML parser hands it to the
// browser: CDATA sections (the usual wrapping in XHTML) without their
// delimiters. A section the held text cuts short runs to its end.
func unwrapCDATA(text []byte) []byte {
	if !bytes.Contains(text, cdataOpen) {
		return text
	}
	var out []byte
	for {
		i := bytes.Index(text, cdataOpen)
		if i < 0 {
			return append(out, text...)
		}
		out = append(out, text[:i]...)
		text = text[i+len(cdataOpen):]
		j := bytes.Index(text, cdataClose)
		if j < 0 {
			return append(out, text...)
		}
		out = append(out, text[:j]...)
		text = text[j+len(cdataClose):]
	}
}
