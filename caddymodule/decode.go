package caddymodule

import (
	"bufio"
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zlib"
	"github.com/klauspost/compress/zstd"
)

// maxDecodedRatio bounds decompression: a body that inflates beyond this
// many times its compressed size is cut off as a likely bomb.
const maxDecodedRatio = 1000

// canDecode reports whether the gateway can undo every coding of a
// Content-Encoding.
func canDecode(encoding string) bool {
	cs := codings(encoding)
	for _, c := range cs {
		switch c {
		case "gzip", "x-gzip", "br", "zstd", "deflate":
		default:
			return false
		}
	}
	return len(cs) > 0
}

// codings lists a Content-Encoding's codings in the order the sender
// applied them ("gzip, br": gzip first), lower case, without identity.
// Browsers undo a list, so a page sent so is a page.
func codings(encoding string) []string {
	var cs []string
	for c := range strings.SplitSeq(encoding, ",") {
		if c = strings.ToLower(strings.TrimSpace(c)); c != "" && c != "identity" {
			cs = append(cs, c)
		}
	}
	return cs
}

// decoder undoes an upstream Content-Encoding. Compressed bytes arrive
// through Write (push) while decompressors pull, so a goroutine decodes
// from a pipe into dst; mu serialises its writes with Flush and Close.
type decoder struct {
	pw   *io.PipeWriter
	done chan error
	mu   sync.Mutex
	dst  flushWriter
	in   int64
	out  int64
	// fresh: bytes were written since the last Flush, which waits for them
	// to be decoded.
	fresh bool
}

type flushWriter interface {
	io.Writer
	Flush() error
}

func newDecoder(encoding string, dst flushWriter) *decoder {
	pr, pw := io.Pipe()
	d := &decoder{pw: pw, done: make(chan error, 1), dst: dst}
	go d.run(strings.ToLower(encoding), pr)
	return d
}

func (d *decoder) run(encoding string, pr *io.PipeReader) {
	var err error
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("decoding %s body: panic: %v", encoding, p)
		}
		pr.CloseWithError(err)
		d.done <- err
	}()
	var src io.Reader
	var closeSrc func()
	if src, closeSrc, err = decompressor(encoding, pr); err != nil {
		return
	}
	defer closeSrc()
	buf := make([]byte, 16<<10)
	for {
		n, rerr := src.Read(buf)
		if n > 0 {
			d.mu.Lock()
			d.out += int64(n)
			if d.out > maxDecodedRatio*(d.in+1024) {
				err = fmt.Errorf("%s body decompresses more than %d times its size", encoding, maxDecodedRatio)
				d.mu.Unlock()
				return
			}
			_, err = d.dst.Write(buf[:n])
			d.mu.Unlock()
			if err != nil {
				return
			}
		}
		if rerr == io.EOF {
			return
		}
		if rerr != nil {
			err = rerr
			return
		}
	}
}

// decompressor reads what src holds encoded with a Content-Encoding, its
// last coding undone first; done releases it.
func decompressor(encoding string, src io.Reader) (r io.Reader, done func(), err error) {
	cs := codings(encoding)
	if len(cs) == 0 {
		return nil, nil, fmt.Errorf("unsupported content encoding %q", encoding)
	}
	r, done = src, func() {}
	for _, c := range slices.Backward(cs) {
		next, release, err := decompressorOf(c, r)
		if err != nil {
			done()
			return nil, nil, err
		}
		r, done = next, chainDone(release, done)
	}
	return r, done, nil
}

// chainDone releases the outer decompressor, then those it reads from.
func chainDone(outer, inner func()) func() {
	return func() { outer(); inner() }
}

// decompressorOf reads what src holds encoded with one coding (lower case).
func decompressorOf(coding string, src io.Reader) (r io.Reader, done func(), err error) {
	switch coding {
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(src)
		if err != nil {
			return nil, nil, err
		}
		return zr, func() { zr.Close() }, nil
	case "br":
		return brotli.NewReader(src), func() {}, nil
	case "zstd":
		zr, err := zstd.NewReader(src, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true),
			// The window HTTP allows (RFC 9659), as browsers do: an upstream
			// asking for more cannot make each page cost that much memory.
			zstd.WithDecoderMaxWindow(8<<20))
		if err != nil {
			return nil, nil, err
		}
		return zr, zr.Close, nil
	case "deflate":
		// RFC 9110's deflate is the zlib format; some servers send raw
		// deflate instead, and browsers read both.
		br := bufio.NewReader(src)
		if head, _ := br.Peek(2); isZlibHeader(head) {
			zr, err := zlib.NewReader(br)
			if err != nil {
				return nil, nil, err
			}
			return zr, func() { zr.Close() }, nil
		}
		fr := flate.NewReader(br)
		return fr, func() { fr.Close() }, nil
	}
	return nil, nil, fmt.Errorf("unsupported content encoding %q", coding)
}

// isZlibHeader reports whether a body begins with a zlib header (RFC 1950):
// method 8 (deflate), a window of at most 32 KB, and a check that makes the
// two bytes a multiple of 31. Raw deflate passes only when it begins with
// a stored block whose padding bits are set, which encoders do not write.
func isZlibHeader(b []byte) bool {
	return len(b) == 2 && b[0]&0x0f == 8 && b[0]>>4 <= 7 && (uint16(b[0])<<8|uint16(b[1]))%31 == 0
}

// decodedPrefix is as much of the first n decoded bytes of a body as its
// first compressed bytes, held, give: what a browser sniffing a compressed
// body looks at. A corrupt beginning gives what decoded before it.
func decodedPrefix(encoding string, held []byte, n int) (prefix []byte) {
	defer func() {
		if recover() != nil {
			prefix = nil // a decompressor that panics on a corrupt body tells nothing
		}
	}()
	r, done, err := decompressor(encoding, bytes.NewReader(held))
	if err != nil {
		return nil
	}
	defer done()
	out := make([]byte, n)
	k, _ := io.ReadFull(r, out)
	return out[:k]
}

// Write hands compressed bytes to the decoding goroutine; it returns once
// they have been consumed.
func (d *decoder) Write(p []byte) (int, error) {
	d.mu.Lock()
	d.in += int64(len(p))
	d.fresh = d.fresh || len(p) > 0
	d.mu.Unlock()
	return d.pw.Write(p)
}

// Flush pushes out what has been decoded so far, then calls downstream
// (the response's own flush): under the lock, since the decoding goroutine
// writes to the same response and net/http's writer is not safe for
// concurrent use.
func (d *decoder) Flush(downstream func() error) error {
	// Write returns once the goroutine has taken the bytes, not once it
	// has decoded and written them out. An empty write returns when the
	// decompressor asks for more, so by then what the earlier bytes decode
	// to has been written, and this flush sends it rather than the next
	// one. An upstream's flush thus waits for the decoder to catch up.
	d.mu.Lock()
	fresh := d.fresh
	d.fresh = false
	d.mu.Unlock()
	if fresh { // (empty reads in a row would make a bufio.Reader give up)
		d.pw.Write(nil) // (a body that stopped decoding says so at Close)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.dst.Flush(); err != nil {
		return err
	}
	return downstream()
}

// Close waits for the decoder to drain and reports a corrupt body.
func (d *decoder) Close() error {
	d.pw.Close()
	return <-d.done
}

// Abort stops decoding without waiting for the rest of the body.
func (d *decoder) Abort() {
	d.pw.CloseWithError(io.ErrClosedPipe)
	<-d.done
}
