package caddymodule

import (
	"bytes"
	"io"

	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// UTF-16 pages. The rewriter acts on ASCII bytes, which a UTF-16 page does
// not have: every tracker in it would stay live. A browser reads a page as
// UTF-16 when it begins with a UTF-16 byte order mark, whatever its
// Content-Type says, or when its Content-Type names UTF-16 and it has no
// BOM. Such a page is turned into UTF-8 before it is rewritten, and goes out
// with a UTF-8 BOM (which browsers obey before any label) and, where the
// headers are still to be sent, labelled utf-8.

// utf8BOM leads a transcoded page.
var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// byteOrder is how a page is encoded, as far as transcoding goes.
type byteOrder uint8

const (
	notUTF16 byteOrder = iota
	utf16LE
	utf16BE
)

// labelOrder is the UTF-16 byte order a Content-Type charset label names
// (the WHATWG Encoding standard's labels), or notUTF16.
func labelOrder(label string) byteOrder {
	switch label {
	case "utf-16", "utf-16le", "unicode", "unicodefeff", "ucs-2", "iso-10646-ucs-2", "csunicode":
		return utf16LE
	case "utf-16be", "unicodefffe":
		return utf16BE
	}
	return notUTF16
}

// boms are the byte order marks browsers obey, and what each says.
var boms = [...]struct {
	mark  []byte
	order byteOrder
}{
	{[]byte{0xEF, 0xBB, 0xBF}, notUTF16},
	{[]byte{0xFF, 0xFE}, utf16LE},
	{[]byte{0xFE, 0xFF}, utf16BE},
}

// sniffBOM reads a page's first bytes for a BOM: the order it names, whether
// there is one, and whether head is enough to tell.
func sniffBOM(head []byte) (o byteOrder, marked, known bool) {
	known = true
	for _, b := range boms {
		switch {
		case bytes.HasPrefix(head, b.mark):
			return b.order, true, true
		case bytes.HasPrefix(b.mark, head):
			known = false // it may still become this one
		}
	}
	return notUTF16, false, known
}

// pageOrder is the byte order a browser reads a page in: its BOM first,
// then its label.
func pageOrder(head []byte, label byteOrder) byteOrder {
	if o, marked, _ := sniffBOM(head); marked {
		return o
	}
	return label
}

// utf16Decoder turns UTF-16 in the given order (or the one its BOM names)
// into UTF-8, dropping the BOM.
func utf16Decoder(o byteOrder) transform.Transformer {
	e := unicode.LittleEndian
	if o == utf16BE {
		e = unicode.BigEndian
	}
	return unicode.UTF16(e, unicode.UseBOM).NewDecoder()
}

// toUTF8 transcodes a whole UTF-16 page; what does not decode becomes
// U+FFFD, as in a browser.
func toUTF8(page []byte, o byteOrder) []byte {
	out, _, err := transform.Bytes(utf16Decoder(o), page)
	if err != nil { // not reached: the decoder replaces what it cannot read
		return page
	}
	return append(append(make([]byte, 0, len(utf8BOM)+len(out)), utf8BOM...), out...)
}

// charsetGate stands in front of a streaming rewriter: it holds a page's
// first bytes until they tell whether it is UTF-16, then sends it on,
// transcoded to UTF-8 (after a UTF-8 BOM) if so.
type charsetGate struct {
	dst     flushWriter
	label   byteOrder // what the Content-Type says
	head    [3]byte
	n       int
	decided bool
	tw      io.WriteCloser // the transcoder, for a UTF-16 page
}

func (g *charsetGate) Write(p []byte) (int, error) {
	if g.decided {
		return g.pass(p)
	}
	k := copy(g.head[g.n:], p)
	g.n += k
	if _, _, known := sniffBOM(g.head[:g.n]); !known && k == len(p) {
		return len(p), nil // all held: too few bytes to tell yet
	}
	held := g.head[:g.n-k] // from earlier writes; p goes on whole
	if err := g.decide(); err != nil {
		return 0, err
	}
	if _, err := g.pass(held); err != nil {
		return 0, err
	}
	return g.pass(p)
}

// decide settles the page's encoding on its first bytes (in head).
func (g *charsetGate) decide() error {
	g.decided = true
	if o := pageOrder(g.head[:g.n], g.label); o != notUTF16 {
		if _, err := g.dst.Write(utf8BOM); err != nil {
			return err
		}
		g.tw = transform.NewWriter(g.dst, utf16Decoder(o))
	}
	return nil
}

// decideHeld decides on the bytes held so far and sends them on, at the
// end of a page shorter than a BOM (a flush leaves them held).
func (g *charsetGate) decideHeld() error {
	if g.decided {
		return nil
	}
	if err := g.decide(); err != nil {
		return err
	}
	_, err := g.pass(g.head[:g.n])
	return err
}

func (g *charsetGate) pass(p []byte) (int, error) {
	if g.tw != nil {
		return g.tw.Write(p)
	}
	return g.dst.Write(p)
}

// Flush leaves held bytes held: Write holds only bytes that may still
// become a BOM, of which a browser can show nothing, and deciding on them
// could take a UTF-16 page for UTF-8.
func (g *charsetGate) Flush() error {
	return g.dst.Flush()
}

// Close sends on what is still held: a page shorter than a BOM, or a last
// UTF-16 code unit cut in half (which becomes U+FFFD).
func (g *charsetGate) Close() error {
	if err := g.decideHeld(); err != nil {
		return err
	}
	if g.tw != nil {
		return g.tw.Close()
	}
	return nil
}
