package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

func runExport(e *env, args []string) int {
	var f filterFlags
	f.register(e.fs, true)
	format := e.fs.String("format", "jsonl", "jsonl (one record per line, exactly as stored and hashed) or csv (a header row, then one row per decision)")
	bom := e.fs.Bool("bom", false, "with --format csv: start with a UTF-8 byte order mark, which Excel needs to read non-ASCII text (page paths) as UTF-8")
	output := e.fs.String("output", "", "write to this file instead of standard output")
	e.fs.StringVar(output, "o", "", "short for --output")
	if _, code, ok := e.parse(args, 0); !ok {
		return code
	}
	if *format != "jsonl" && *format != "csv" {
		fmt.Fprintf(e.stderr, "consentctl export: --format %q: use jsonl or csv\n", *format)
		return exitUsage
	}
	if *bom && *format != "csv" {
		fmt.Fprintln(e.stderr, "consentctl export: --bom is for --format csv (a JSON Lines file starts with its first record)")
		return exitUsage
	}
	c, err := newClient(e.conn)
	if err != nil {
		return e.fail(err)
	}
	q := e.query(&f)
	q.Set("format", *format)
	resp, err := c.do(http.MethodGet, "/consent/export", q, nil, "")
	if err != nil {
		return e.fail(err)
	}
	defer resp.Body.Close()

	out, commit, abort, err := openOutput(*output, e.stdout)
	if err != nil {
		return e.fail(&callError{exitUsage, err.Error()})
	}
	header := int64(0)
	if *format == "csv" {
		header = 1
	}
	// Opt-in: a BOM is part of the first cell to readers that do not
	// expect one (Go's encoding/csv, most scripts).
	if *bom {
		if _, err := io.WriteString(out, "\uFEFF"); err != nil {
			abort()
			return e.fail(&callError{exitAPI, fmt.Sprintf("writing the output: %v", err)})
		}
	}
	p := newProgress(e.stderr, *output == "" && isTerminal(e.stdout), header)
	// Sent for an export of whole chains: an upper bound, for the bar.
	p.atMost, _ = strconv.ParseInt(resp.Header.Get("X-Consent-Records-At-Most"), 10, 64)
	lines, err := copyCounting(out, resp.Body, p)
	p.finish()
	if err != nil {
		abort()
		return e.fail(&callError{exitAPI, fmt.Sprintf("export cut off after %d records: %v", max(0, lines-header), err)})
	}
	// The server sends the count, and any error after the first record,
	// as trailers once the body is complete.
	if msg := resp.Trailer.Get("X-Consent-Error"); msg != "" {
		abort()
		return e.fail(&callError{exitAPI, "export failed on the server: " + msg})
	}
	sent, terr := strconv.ParseInt(resp.Trailer.Get("X-Consent-Records"), 10, 64)
	if terr != nil {
		abort()
		return e.fail(&callError{exitAPI, "export incomplete: the server did not confirm the record count"})
	}
	if *format == "jsonl" && sent != lines {
		abort()
		return e.fail(&callError{exitAPI, fmt.Sprintf("export incomplete: received %d records, the server sent %d", lines, sent)})
	}
	if err := commit(); err != nil {
		return e.fail(&callError{exitAPI, err.Error()})
	}
	if p.enabled {
		where := "standard output"
		if *output != "" {
			where = *output
		}
		fmt.Fprintf(e.stderr, "exported %d records to %s\n", sent, where)
	}
	if f.purpose != "" && sent == 0 {
		e.noteNoneAbout(f.purpose, "no record in this selection")
	}
	// What the store has is written; what it lost is named, and the exit
	// code says the export is not the whole record.
	if missing := resp.Trailer.Get("X-Consent-Missing"); missing != "" {
		return e.fail(&callError{exitAPI, "export incomplete: the store lost records this gateway wrote (" + missing + "); run consentctl verify"})
	}
	return exitOK
}

func runDashboard(e *env, args []string) int {
	var f filterFlags
	f.register(e.fs, false)
	output := e.fs.String("output", "", "write to this file instead of standard output")
	e.fs.StringVar(output, "o", "", "short for --output")
	_, c, code, ok := e.connect(args, 0)
	if !ok {
		return code
	}
	return e.download(c, "/consent/dashboard", e.query(&f), *output, "the dashboard")
}

func runCheckpoints(e *env, args []string) int {
	chain := e.fs.String("chain", "", "checkpoints of this chain only")
	output := e.fs.String("output", "", "write to this file instead of standard output")
	e.fs.StringVar(output, "o", "", "short for --output")
	_, c, code, ok := e.connect(args, 0)
	if !ok {
		return code
	}
	q := e.query(&filterFlags{chain: *chain})
	return e.download(c, "/consent/checkpoints", q, *output, "the checkpoints")
}

func runBackup(e *env, args []string) int {
	output := e.fs.String("output", "", "the file to write (- for standard output, when it is not a terminal)")
	e.fs.StringVar(output, "o", "", "short for --output")
	_, c, code, ok := e.connect(args, 0)
	if !ok {
		return code
	}
	if *output == "" || *output == "-" && isTerminal(e.stdout) {
		return e.fail(&callError{exitUsage, "backup: give the file to write with --output FILE"})
	}
	if code := e.download(c, "/consent/backup", e.query(nil), *output, "the backup"); code != exitOK {
		return code
	}
	if *output != "-" {
		if fi, err := os.Stat(*output); err == nil {
			fmt.Fprintf(e.stderr, "consentctl: backup written to %s (%s); restore it with the gateway stopped\n", *output, byteSize(fi.Size()))
		}
	}
	return exitOK
}

// download saves what the admin API answers at path to output (standard
// output when empty), never leaving a partial file behind.
func (e *env) download(c *client, path string, q url.Values, output, what string) int {
	resp, err := c.do(http.MethodGet, path, q, nil, "")
	if err != nil {
		return e.fail(err)
	}
	defer resp.Body.Close()
	out, commit, abort, err := openOutput(output, e.stdout)
	if err != nil {
		return e.fail(&callError{exitUsage, err.Error()})
	}
	if _, err := io.Copy(out, resp.Body); err != nil {
		abort()
		return e.fail(&callError{exitAPI, fmt.Sprintf("reading %s: %v", what, err)})
	}
	if err := commit(); err != nil {
		return e.fail(&callError{exitAPI, err.Error()})
	}
	return exitOK
}

// openOutput opens the destination. A file is written under a temporary
// name (mode 0600: consent records are personal data) and renamed by
// commit, so a failed export never leaves a file that looks complete. A
// symbolic link is followed, so the file it names gets the export; a path
// that names no regular file (/dev/stdout, a named pipe, >(gzip)) is
// written to directly, since a rename would replace the device with a file.
func openOutput(path string, stdout io.Writer) (w io.Writer, commit func() error, abort func(), err error) {
	if path == "" || path == "-" || isStdout(path) {
		return stdout, func() error { return nil }, func() {}, nil
	}
	if fi, err := os.Stat(path); err == nil && (!fi.Mode().IsRegular() || underDevOrProc(followLinks(path))) {
		if fi.IsDir() {
			return nil, nil, nil, fmt.Errorf("--output %s: a directory; name a file", path)
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("--output: %w", err)
		}
		return f, f.Close, func() { f.Close() }, nil
	}
	path = followLinks(path)
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.partial")
	if err != nil {
		return nil, nil, nil, fmt.Errorf("--output: %w", err)
	}
	commit = func() error {
		if err := tmp.Sync(); err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
			return fmt.Errorf("writing %s: %w", path, err)
		}
		if err := tmp.Close(); err != nil {
			os.Remove(tmp.Name())
			return fmt.Errorf("writing %s: %w", path, err)
		}
		return os.Rename(tmp.Name(), path)
	}
	abort = func() {
		tmp.Close()
		os.Remove(tmp.Name())
	}
	return tmp, commit, abort, nil
}

// isStdout tells whether path names this process's standard output, which
// may be a file the shell opened for appending (-o /dev/stdout >> log):
// writing to it keeps the shell's way.
func isStdout(path string) bool {
	switch filepath.Clean(path) {
	case "/dev/stdout", "/dev/fd/1", "/proc/self/fd/1":
		return true
	}
	return false
}

// underDevOrProc tells whether a path leads into /dev or /proc, where a
// name stands for an open file or a device rather than a file of its own.
func underDevOrProc(path string) bool {
	return strings.HasPrefix(path, "/dev/") || strings.HasPrefix(path, "/proc/")
}

// followLinks is the path a chain of symbolic links ends at, whether or
// not a file is there yet.
func followLinks(path string) string {
	for range 40 { // as many as Linux follows
		fi, err := os.Lstat(path)
		if err != nil || fi.Mode()&os.ModeSymlink == 0 {
			return path
		}
		dest, err := os.Readlink(path)
		if err != nil {
			return path
		}
		if !filepath.IsAbs(dest) {
			dest = filepath.Join(filepath.Dir(path), dest)
		}
		path = dest
	}
	return path
}

// copyCounting copies src to dst and counts lines (records, for JSON
// Lines), updating the progress display.
func copyCounting(dst io.Writer, src io.Reader, p *progress) (int64, error) {
	buf := make([]byte, 256<<10)
	var lines int64
	for {
		n, err := src.Read(buf)
		if n > 0 {
			lines += int64(bytes.Count(buf[:n], []byte{'\n'}))
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return lines, fmt.Errorf("writing the output: %w", werr)
			}
			p.update(lines, int64(n))
		}
		if err == io.EOF {
			return lines, nil
		}
		if err != nil {
			return lines, err
		}
	}
}

// progress shows records and rate on a terminal's line while an export
// runs, with a bar when the server says how many records there are at
// most; it is silent when stderr is not a terminal.
type progress struct {
	enabled bool
	w       io.Writer
	header  int64 // lines that are no record (the CSV header)
	atMost  int64 // records the export sends at most; 0 when unknown
	start   time.Time
	last    time.Time
	lines   int64
	bytes   int64
	drawn   bool
}

func newProgress(stderr io.Writer, stdoutIsTerminal bool, header int64) *progress {
	return &progress{
		// Not when the export itself goes to the same terminal.
		enabled: isTerminal(stderr) && !stdoutIsTerminal && os.Getenv("TERM") != "dumb",
		w:       stderr,
		header:  header,
		start:   time.Now(),
	}
}

const progressEvery = 200 * time.Millisecond

func (p *progress) update(lines, n int64) {
	p.lines = lines
	p.bytes += n
	if !p.enabled || time.Since(p.last) < progressEvery {
		return
	}
	p.last = time.Now()
	p.draw()
}

func (p *progress) draw() {
	records := max(0, p.lines-p.header)
	secs := time.Since(p.start).Seconds()
	rate := 0.0
	if secs > 0 {
		rate = float64(records) / secs
	}
	fmt.Fprintf(p.w, "\r\x1b[K%s%s records  %s records/s  %s  %s", p.bar(records), group(records), group(int64(rate)), byteSize(p.bytes), time.Since(p.start).Round(time.Second))
	p.drawn = true
}

// bar is "[#####---------------]  25%  " when the total is known (an upper
// bound: an export whose oldest records expired ends short of 100 %).
func (p *progress) bar(records int64) string {
	const width = 20
	if p.atMost <= 0 {
		return ""
	}
	done := min(1, float64(records)/float64(p.atMost))
	filled := int(done * width)
	return fmt.Sprintf("[%s%s] %3.0f%%  ", strings.Repeat("#", filled), strings.Repeat("-", width-filled), done*100)
}

func (p *progress) finish() {
	if !p.enabled || !p.drawn {
		return
	}
	p.draw()
	fmt.Fprintln(p.w)
}

// group writes n with thousands separators: 1,234,567.
func group(n int64) string {
	s := strconv.FormatInt(n, 10)
	var b []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			b = append(b, ',')
		}
		b = append(b, s[i])
	}
	return string(b)
}

func byteSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
