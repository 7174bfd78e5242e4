package rewrite

import "bytes"

// nextCandidate returns the URL of the first srcset candidate at or after
// s[i] and where the next one may begin, or nil if there is none. It splits
// candidates as the HTML standard does, without reading descriptors.
func nextCandidate(s []byte, i int) ([]byte, int) {
	for i < len(s) && (class[s[i]]&cSpace != 0 || s[i] == ',') {
		i++
	}
	if i == len(s) {
		return nil, i
	}
	j := skipClass(s, i, cSpace)
	u := s[i:j]
	if t := bytes.TrimRight(u, ","); len(t) < len(u) {
		return t, j // "a.jpg," has no descriptors
	}
	inParens := false
	for ; j < len(s); j++ {
		switch s[j] {
		case '(':
			inParens = true
		case ')':
			inParens = false
		case ',':
			if !inParens {
				return u, j + 1
			}
		}
	}
	return u, j
}

// decodedSrcset is a srcset value with its character references decoded,
// as browsers read it before splitting it (a reference may spell the comma
// or space between candidates), with each '&' written back as "&amp;",
// which URL matching reads as '&'. A value without '&' is returned as is.
func decodedSrcset(s []byte) []byte {
	if bytes.IndexByte(s, '&') < 0 {
		return s
	}
	return bytes.ReplaceAll(attrText(s), []byte("&"), []byte("&amp;"))
}
