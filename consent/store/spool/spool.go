// Package spool keeps proofs on local disk while the store is unreachable
// and replays them, in order, when it is back: a visitor's choice takes
// effect and its proof is not lost.
//
// The spool is a directory holding spool.log, an append-only file of lines
// "r <record JSON>" and "c <checkpoint JSON>", and offset, how many bytes of
// it were replayed. Every Add is fsynced before it returns. Replay is
// idempotent (stores skip event ids they hold), so a crash between a replay
// and the offset update only replays some entries twice. Only one process
// may use a directory at a time, and Open makes sure of it (lock.go).
package spool

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/consentgate/consentgate/consent/proof"
)

// Target is what a spool replays into: a store.
type Target interface {
	Append(ctx context.Context, recs []proof.Record) error
	PutCheckpoint(ctx context.Context, cp proof.Checkpoint) error
}

// ErrRejected marks a Target error that retrying cannot fix (a malformed or
// conflicting record). Replay moves such a batch to rejected.log and goes
// on, rather than blocking every later proof behind it.
var ErrRejected = errors.New("spool: rejected by the store")

// replayBatch is how many records one Append during replay carries.
const replayBatch = 500

// Spool is a directory of pending proofs. It is safe for concurrent use.
type Spool struct {
	dir      string
	replayMu sync.Mutex // one replay at a time

	mu      sync.Mutex
	f       *os.File
	size    int64  // bytes in spool.log
	offset  int64  // bytes replayed
	pending int    // entries after offset
	release func() // this process's hold on the directory (lock.go)
}

// Open opens the spool in dir, creating it if needed, and counts what is
// pending from an earlier run. A torn last line (a crash mid-write) is cut.
func Open(dir string) (*Spool, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	release, err := lockDir(dir)
	if err != nil {
		return nil, fmt.Errorf("spool %s: %w", dir, err)
	}
	f, err := os.OpenFile(filepath.Join(dir, "spool.log"), os.O_CREATE|os.O_RDWR|os.O_APPEND, 0o600)
	if err != nil {
		release()
		return nil, err
	}
	s := &Spool{dir: dir, f: f, release: release}
	if err := s.load(); err != nil {
		f.Close()
		release()
		return nil, fmt.Errorf("spool %s: %w", dir, err)
	}
	return s, nil
}

// load reads the offset and counts complete entries after it.
func (s *Spool) load() error {
	info, err := s.f.Stat()
	if err != nil {
		return err
	}
	s.size = info.Size()
	if b, err := os.ReadFile(s.offsetPath()); err == nil {
		s.offset, _ = strconv.ParseInt(string(bytes.TrimSpace(b)), 10, 64)
	}
	if s.offset < 0 || s.offset > s.size {
		s.offset = 0 // the log was compacted after the offset was written
	}
	r := bufio.NewReaderSize(io.NewSectionReader(s.f, s.offset, s.size-s.offset), 1<<16)
	complete := s.offset
	for {
		line, err := r.ReadBytes('\n')
		if err != nil {
			break // at EOF, a line without its newline is a torn write
		}
		complete += int64(len(line))
		s.pending++
	}
	if complete < s.size {
		if err := s.f.Truncate(complete); err != nil {
			return err
		}
		s.size = complete
	}
	return nil
}

func (s *Spool) offsetPath() string { return filepath.Join(s.dir, "offset") }

// RejectedLog is the file that keeps the records the store refused.
func (s *Spool) RejectedLog() string { return filepath.Join(s.dir, "rejected.log") }

// Waiting reports, without opening it, whether the spool in dir holds
// proofs not yet replayed: its log runs past the replayed offset. A
// directory without a log waits for nothing.
func Waiting(dir string) (bool, error) {
	st, err := os.Stat(filepath.Join(dir, "spool.log"))
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	var offset int64
	if b, err := os.ReadFile(filepath.Join(dir, "offset")); err == nil {
		offset, _ = strconv.ParseInt(string(bytes.TrimSpace(b)), 10, 64)
	}
	return st.Size() > offset, nil
}

// Add appends records and syncs them to disk.
func (s *Spool) Add(recs []proof.Record) error {
	var buf bytes.Buffer
	for i := range recs {
		if err := appendLine(&buf, 'r', &recs[i]); err != nil {
			return err
		}
	}
	return s.write(buf.Bytes(), len(recs))
}

// AddCheckpoint appends a checkpoint, kept in order with the records.
func (s *Spool) AddCheckpoint(cp proof.Checkpoint) error {
	var buf bytes.Buffer
	if err := appendLine(&buf, 'c', cp); err != nil {
		return err
	}
	return s.write(buf.Bytes(), 1)
}

func appendLine(buf *bytes.Buffer, kind byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	buf.WriteByte(kind)
	buf.WriteByte(' ')
	buf.Write(data)
	buf.WriteByte('\n')
	return nil
}

func (s *Spool) write(data []byte, entries int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return os.ErrClosed
	}
	if _, err := s.f.Write(data); err != nil {
		// Cut a partial write so the log stays line-aligned.
		_ = s.f.Truncate(s.size)
		return err
	}
	if err := s.f.Sync(); err != nil {
		return err
	}
	s.size += int64(len(data))
	s.pending += entries
	return nil
}

// Pending returns how many entries wait for replay.
func (s *Spool) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pending
}

// Rejected returns how many records the store refused for good: the
// records in rejected.log, this run's and earlier runs', read from the
// file each time, so that one the operator moved away counts no more. A
// file that cannot be read counts what could be.
func (s *Spool) Rejected() int {
	f, err := os.Open(s.RejectedLog())
	if err != nil {
		return 0
	}
	defer f.Close()
	n := 0
	r := bufio.NewReaderSize(f, 1<<16)
	for {
		line, err := r.ReadSlice('\n')
		record := len(line) > 0 && line[0] == 'r'
		for err == bufio.ErrBufferFull { // a long record: read to its end
			_, err = r.ReadSlice('\n')
		}
		if record {
			n++
		}
		if err != nil {
			return n
		}
	}
}

// LastRecord returns the last record waiting for replay, if any: a chain
// resumed after a restart must continue after it, not after the store's
// head, which it is ahead of.
func (s *Spool) LastRecord() (proof.Record, bool, error) {
	s.mu.Lock()
	if s.f == nil {
		s.mu.Unlock()
		return proof.Record{}, false, os.ErrClosed
	}
	from, to := s.offset, s.size
	s.mu.Unlock()
	r := bufio.NewReaderSize(io.NewSectionReader(s.f, from, to-from), 1<<16)
	var last []byte
	for {
		line, err := r.ReadBytes('\n')
		if err == io.EOF {
			break
		}
		if err != nil {
			return proof.Record{}, false, err
		}
		if line[0] == 'r' {
			last = append(last[:0], line[min(2, len(line)):]...)
		}
	}
	if last == nil {
		return proof.Record{}, false, nil
	}
	var rec proof.Record
	if err := json.Unmarshal(last, &rec); err != nil {
		return proof.Record{}, false, err
	}
	return rec, true, nil
}

// Replay sends pending entries to t in order, in batches, and returns how
// many records it delivered. It stops at the first error (except
// ErrRejected), leaving the rest pending. When everything is replayed the
// log is emptied.
func (s *Spool) Replay(ctx context.Context, t Target) (int, error) {
	s.replayMu.Lock()
	defer s.replayMu.Unlock()
	delivered := 0
	for {
		s.mu.Lock()
		if s.f == nil {
			s.mu.Unlock()
			return delivered, os.ErrClosed
		}
		from, to := s.offset, s.size
		if from == to {
			err := s.compact()
			s.mu.Unlock()
			return delivered, err
		}
		s.mu.Unlock()

		b, err := s.readBatch(from, to)
		if err != nil {
			return delivered, err
		}
		if err := b.deliver(ctx, t); errors.Is(err, ErrRejected) && len(b.recs) > 1 {
			// One bad record must not take the good ones of its batch
			// with it: deliver them one by one.
			n, err := s.deliverEach(ctx, t, b)
			delivered += n
			if err != nil {
				return delivered, err
			}
		} else if errors.Is(err, ErrRejected) {
			if err := s.reject(from, b.end); err != nil {
				return delivered, err
			}
		} else if err != nil {
			return delivered, err
		} else {
			delivered += len(b.recs)
		}
		s.mu.Lock()
		s.offset = b.end
		s.pending -= b.entries
		err = s.saveOffset()
		s.mu.Unlock()
		if err != nil {
			return delivered, err
		}
	}
}

// compact empties a fully replayed log; the offset is reset first, so a
// crash in between replays (idempotently) rather than skips. Called with mu.
func (s *Spool) compact() error {
	if s.size == 0 {
		return nil
	}
	s.offset = 0
	if err := s.saveOffset(); err != nil {
		return err
	}
	if err := s.f.Truncate(0); err != nil {
		return err
	}
	s.size = 0
	return nil
}

func (s *Spool) saveOffset() error {
	tmp := s.offsetPath() + ".tmp"
	if err := os.WriteFile(tmp, []byte(strconv.FormatInt(s.offset, 10)), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, s.offsetPath())
}

// batch is a run of records, or one checkpoint, read from the log.
type batch struct {
	recs    []proof.Record
	lines   [][2]int64 // each record's line in the log
	cp      *proof.Checkpoint
	entries int   // lines consumed, including unreadable ones
	end     int64 // offset after the batch
}

// deliverEach delivers a batch's records one at a time, moving those the
// store refuses to rejected.log. It stops at the first other error.
func (s *Spool) deliverEach(ctx context.Context, t Target, b *batch) (int, error) {
	delivered := 0
	for i, rec := range b.recs {
		err := t.Append(ctx, []proof.Record{rec})
		switch {
		case errors.Is(err, ErrRejected):
			if err := s.reject(b.lines[i][0], b.lines[i][1]); err != nil {
				return delivered, err
			}
		case err != nil:
			return delivered, err
		default:
			delivered++
		}
	}
	return delivered, nil
}

func (b *batch) deliver(ctx context.Context, t Target) error {
	if b.cp != nil {
		return t.PutCheckpoint(ctx, *b.cp)
	}
	if len(b.recs) == 0 {
		return nil
	}
	return t.Append(ctx, b.recs)
}

// readBatch reads up to replayBatch records from offset from, stopping
// before a checkpoint (which goes alone, after the records before it).
func (s *Spool) readBatch(from, to int64) (*batch, error) {
	r := bufio.NewReaderSize(io.NewSectionReader(s.f, from, to-from), 1<<16)
	b := &batch{end: from}
	for len(b.recs) < replayBatch {
		line, err := r.ReadBytes('\n')
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if line[0] == 'c' && len(b.recs) > 0 {
			break
		}
		b.end += int64(len(line))
		b.entries++
		body := line[min(2, len(line)):]
		switch line[0] {
		case 'r':
			var rec proof.Record
			if json.Unmarshal(body, &rec) == nil {
				b.recs = append(b.recs, rec)
				b.lines = append(b.lines, [2]int64{b.end - int64(len(line)), b.end})
			}
		case 'c':
			var cp proof.Checkpoint
			if json.Unmarshal(body, &cp) == nil {
				b.cp = &cp
			}
			return b, nil
		}
	}
	return b, nil
}

// reject copies the log bytes [from, to) to rejected.log.
func (s *Spool) reject(from, to int64) error {
	data := make([]byte, to-from)
	if _, err := s.f.ReadAt(data, from); err != nil {
		return err
	}
	f, err := os.OpenFile(s.RejectedLog(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Close closes the spool, waiting for a replay under way; pending entries
// stay on disk for the next Open.
func (s *Spool) Close() error {
	s.replayMu.Lock()
	defer s.replayMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f = nil
	s.release()
	return err
}
