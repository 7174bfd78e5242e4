package caddymodule

import (
	"bufio"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"sync"

	"github.com/consentgate/consentgate/consent/proof"
)

// erasureLog is the local, append-only list of the records this gateway
// erased, in Caddy's data directory beside the chain's head file: what
// each erasure receipt names, written before the receipt. The store holds
// the receipts too, but an older copy of the store restored brings back
// the records erased since it was made, and takes their receipts away
// with it; and an erasure cut short between its receipt and its
// tombstones leaves records the visitor asked to have erased. Maintenance
// erases again whatever the list names that the store holds as it was
// (store.EraseRecords), so that neither undoes an erasure silently. It
// holds no consent id: only chain, seq and event id.
type erasureLog struct {
	path string
	mu   sync.Mutex // one writer: appends, and the rewrite that drops old lines
}

// erasureEntry is one line: the records of one receipt, and when the
// last of them ended, after which their retention runs out.
type erasureEntry struct {
	Erased []proof.Ref `json:"erased"`
	End    int64       `json:"end"`
}

// add appends what a receipt names and syncs it to disk.
func (l *erasureLog) add(receipt proof.Record) error {
	line, err := json.Marshal(erasureEntry{Erased: receipt.Erased, End: receipt.End()})
	if err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	if _, err = f.Write(append(line, '\n')); err == nil {
		err = f.Sync()
	}
	return errors.Join(err, f.Close())
}

// each calls fn with every entry whose records may still be stored (End
// at or after keepFrom), in order, and drops the others from the file. A
// line that cannot be read (the tail of a write cut short) is skipped and
// dropped. An error from fn stops the walk, and the file is left as it
// was.
func (l *erasureLog) each(keepFrom int64, fn func(erasureEntry) error) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	f, err := os.Open(l.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	// What is kept goes to a file beside it as the walk goes, which
	// replaces it if anything was dropped: a crash leaves one or the other.
	tmp, err := os.OpenFile(l.path+".tmp", os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // (gone once renamed)
	defer tmp.Close()
	kept := bufio.NewWriter(tmp)
	dropped := false
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20) // a line names at most one batch of records
	for sc.Scan() {
		var e erasureEntry
		if json.Unmarshal(sc.Bytes(), &e) != nil || e.End < keepFrom {
			dropped = true
			continue
		}
		if err := fn(e); err != nil {
			return err
		}
		kept.Write(sc.Bytes())
		kept.WriteByte('\n')
	}
	if err := sc.Err(); err != nil || !dropped {
		return err
	}
	if err := kept.Flush(); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), l.path)
}
