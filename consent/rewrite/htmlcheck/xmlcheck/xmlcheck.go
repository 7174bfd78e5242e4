// Package xmlcheck tells whether a document parses as browsers parse XHTML
// and SVG: as XML, where one error shows an error page instead of the
// document. Tests use it on the rewriter's output.
package xmlcheck

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

// WellFormed returns the first error an XML parser would stop at: what
// encoding/xml finds in strict mode, and two it lets pass that browsers do
// not: an attribute given twice, and a name whose namespace prefix is
// declared nowhere (data-consent-xlink:href, say).
func WellFormed(doc string) error {
	d := xml.NewDecoder(strings.NewReader(doc))
	d.Strict = true
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		el, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		if undeclared(el.Name.Space) {
			return fmt.Errorf("line %d: element %s:%s: undeclared namespace prefix", line(d, doc), el.Name.Space, el.Name.Local)
		}
		seen := map[xml.Name]bool{}
		for _, a := range el.Attr {
			if seen[a.Name] {
				return fmt.Errorf("line %d: attribute %s given twice in <%s>", line(d, doc), qname(a.Name), el.Name.Local)
			}
			seen[a.Name] = true
			if undeclared(a.Name.Space) {
				return fmt.Errorf("line %d: attribute %s: undeclared namespace prefix", line(d, doc), qname(a.Name))
			}
		}
	}
}

// undeclared: encoding/xml replaces a declared prefix with its namespace
// name, a URI, which has a colon; a prefix has none.
func undeclared(space string) bool {
	return space != "" && space != "xmlns" && space != "xml" && !strings.Contains(space, ":")
}

func qname(n xml.Name) string {
	if n.Space == "" {
		return n.Local
	}
	return n.Space + ":" + n.Local
}

func line(d *xml.Decoder, doc string) int {
	return strings.Count(doc[:min(int(d.InputOffset()), len(doc))], "\n") + 1
}
