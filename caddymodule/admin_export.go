package caddymodule

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/consentgate/consentgate/consent/proof"
)

// CSVColumns are the columns of a CSV export, in order; the first row of
// every CSV export names them. One row per record:
//
//	event_id        the record's UUIDv7
//	type            given, refused, updated, withdrawn, expired, gpc_default, placeholder_accept, erased, erasure
//	time            when it was recorded, ISO 8601 UTC with milliseconds
//	consent_id      the visitor's pseudonymous consent id
//	supersedes      the event id this record replaces
//	expires_at      when the choice stops being valid (ISO 8601 UTC, whole seconds)
//	site            host
//	path            page path
//	policy_version  policy version the choice was made under
//	lang            language of the banner texts shown
//	layer           first, second, placeholder, withdraw, api, automatic
//	action          accept_all, reject_all, save_selection, withdraw, load_embed, signal, expire
//	control         id of the control used
//	purposes        purpose=1 (granted) or purpose=0, sorted, ";"-separated: analytics=1;marketing=0
//	vendors         the same for vendors allowed individually
//	gpc, dnt        1 when the browser sent the signal, else 0
//	signal_effect   none, default_off, overridden
//	ip              truncated client network (203.0.0.0/16)
//	ua              browser family and major version
//	chain, seq      the record's place in its hash chain
//	hash            the record's hash (see FORMAT.md)
//	erased          for an erasure receipt, the records it names, as chain:seq, ";"-separated
//
// Cells that a spreadsheet would take for a formula (starting with = + - @
// or a tab) are prefixed with an apostrophe. The JSON Lines export is the
// complete and verifiable form; CSV is for reading.
var CSVColumns = []string{
	"event_id", "type", "time", "consent_id", "supersedes", "expires_at", "site", "path",
	"policy_version", "lang", "layer", "action", "control", "purposes", "vendors",
	"gpc", "dnt", "signal_effect", "ip", "ua", "chain", "seq", "hash", "erased",
}

// exportFlushEvery is how often a running export flushes what it has, so
// that the client sees progress even when a filter skips most records.
const exportFlushEvery = 500 * time.Millisecond

// serveExport streams the records selected by the filter as JSON Lines (the
// records exactly as stored, which is what verification hashes) or CSV. It
// holds one batch of records at a time whatever the export's size. The
// record count and any error after the first byte come as HTTP trailers
// (X-Consent-Records, X-Consent-Error), and so do the chains this gateway
// wrote that the store no longer lists (X-Consent-Missing); every export
// is logged.
func (a *AdminAPI) serveExport(w http.ResponseWriter, r *http.Request, stores []*auditStore) error {
	f, err := parseFilter(r)
	if err != nil {
		return err
	}
	if err := requireChain(r, stores, f.Chain); err != nil {
		return err
	}
	format := r.URL.Query().Get("format")
	switch format {
	case "", "jsonl", "ndjson":
		format = "jsonl"
	case "csv":
	default:
		return apiError(http.StatusBadRequest, "format %q: use jsonl or csv", format)
	}
	hdr := w.Header()
	if format == "csv" {
		hdr.Set("Content-Type", "text/csv; charset=utf-8; header=present")
	} else {
		hdr.Set("Content-Type", "application/jsonl; charset=utf-8")
	}
	hdr.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="consent-%s.%s"`, time.Now().UTC().Format("20060102T150405Z"), format))
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Trailer", "X-Consent-Records, X-Consent-Error, X-Consent-Missing")
	if atMost, ok := recordsAtMost(r, stores, f); ok {
		hdr.Set("X-Consent-Records-At-Most", strconv.FormatUint(atMost, 10))
	}
	if r.Method == http.MethodHead {
		return nil
	}

	start := time.Now()
	out := &exportWriter{w: w, rc: http.NewResponseController(w)}
	buf := bufio.NewWriterSize(out, 64<<10)
	var (
		n         int
		lastFlush = start
		emit      func(raw []byte) error
	)
	flush := func() error {
		if err := buf.Flush(); err != nil {
			return err
		}
		return out.flush()
	}
	if format == "csv" {
		cw := csv.NewWriter(buf)
		cw.UseCRLF = true // RFC 4180, what spreadsheets expect
		if err := cw.Write(CSVColumns); err != nil {
			return err
		}
		row := make([]string, len(CSVColumns))
		emit = func(raw []byte) error {
			var rec proof.Record
			if err := json.Unmarshal(raw, &rec); err != nil {
				return fmt.Errorf("undecodable record after %d: %w", n, err)
			}
			csvRow(row, &rec)
			return cw.Write(row)
		}
		defer cw.Flush()
		flush = func() error {
			cw.Flush()
			if err := cw.Error(); err != nil {
				return err
			}
			if err := buf.Flush(); err != nil {
				return err
			}
			return out.flush()
		}
	} else {
		emit = func(raw []byte) error {
			if bytes.ContainsAny(raw, "\r\n") {
				// Stored by hand across lines (the gateway never does):
				// one line per record still, the same JSON, so hashes
				// verify as they would (they cover the canonical form).
				var line bytes.Buffer
				if err := json.Compact(&line, raw); err != nil {
					return fmt.Errorf("undecodable record after %d: %w", n, err)
				}
				raw = line.Bytes()
			}
			buf.Write(raw)
			return buf.WriteByte('\n')
		}
	}

	for _, as := range stores {
		err = as.store.RangeRaw(r.Context(), f.Query, func(raw []byte) error {
			if err := emit(raw); err != nil {
				return err
			}
			n++
			if n%1024 == 0 && time.Since(lastFlush) >= exportFlushEvery {
				lastFlush = time.Now()
				return flush()
			}
			return nil
		})
		if err != nil {
			err = fmt.Errorf("store %s: %w", as.name, err)
			break
		}
	}
	if err == nil {
		err = flush()
	}
	var missing []string
	if err == nil {
		missing = missingChains(r, stores, f.Chain)
	}

	fields := append(append(who(r), zap.String("format", format)), f.fields()...)
	fields = append(fields,
		zap.Int("records", n),
		zap.Int64("bytes", out.written),
		zap.Duration("duration", time.Since(start)))
	if err != nil {
		a.logger.Error("consent export failed", append(fields, zap.Error(err))...)
		if !out.committed {
			// Nothing was sent yet: answer with a proper error instead.
			for _, k := range []string{"Content-Disposition", "Trailer"} {
				hdr.Del(k)
			}
			return storeError(&auditStore{name: storeNames(stores)}, err)
		}
		hdr.Set("X-Consent-Error", strings.ReplaceAll(err.Error(), "\n", " "))
	} else if len(missing) > 0 {
		a.logger.Warn("consent export incomplete: the store lacks chains this gateway wrote", append(fields, zap.Strings("missing", missing))...)
		hdr.Set("X-Consent-Missing", strings.Join(missing, "; "))
	} else {
		a.logger.Info("consent export", fields...)
	}
	hdr.Set("X-Consent-Records", strconv.Itoa(n))
	return nil
}

// missingChains names the chains this gateway wrote to the stores that the
// stores no longer list (see lostChains): an export without them is all
// the store has, but not all that was recorded.
func missingChains(r *http.Request, stores []*auditStore, want string) []string {
	var listed []chainReport
	if err := eachChain(r, stores, want, func(as *auditStore, c string) error {
		listed = append(listed, chainReport{Store: as.name, Report: proof.Report{Chain: c}})
		return nil
	}); err != nil {
		return nil // the export itself read these stores; verify will tell
	}
	var out []string
	for _, lost := range lostChains(r.Context(), stores, want, listed) {
		if !lost.OK {
			out = append(out, fmt.Sprintf("chain %s in %s: %s", lost.Chain, lost.Store, lost.Problems[0].Detail))
		}
	}
	return out
}

// recordsAtMost bounds what an export of whole chains sends, for the
// client's progress bar: the chains' last seqs added up (records that
// expired are counted, so it is an upper bound). Filters by time, site or
// purpose make it unknown.
func recordsAtMost(r *http.Request, stores []*auditStore, f auditFilter) (uint64, bool) {
	if !f.Since.IsZero() || !f.Until.IsZero() || f.Site != "" || f.Purpose != "" {
		return 0, false
	}
	var n uint64
	err := eachChain(r, stores, f.Chain, func(as *auditStore, chain string) error {
		h, err := as.store.Head(r.Context(), chain)
		n += h.Seq
		return err
	})
	return n, err == nil
}

// exportWriter is the response body: it counts what was sent and whether
// the status line has gone out.
type exportWriter struct {
	w         http.ResponseWriter
	rc        *http.ResponseController
	committed bool
	written   int64
}

func (e *exportWriter) Write(p []byte) (int, error) {
	e.committed = true
	n, err := e.w.Write(p)
	e.written += int64(n)
	return n, err
}

func (e *exportWriter) flush() error {
	if !e.committed {
		return nil
	}
	return e.rc.Flush()
}

// csvRow fills row with rec's cells, in CSVColumns order.
func csvRow(row []string, rec *proof.Record) {
	row[0] = cell(rec.EventID)
	row[1] = cell(string(rec.Type))
	row[2] = isoMillis(rec.Time)
	row[3] = cell(rec.ConsentID)
	row[4] = cell(rec.Supersedes)
	row[5] = isoMillis(rec.ExpiresAt)
	row[6] = cell(rec.Site)
	row[7] = cell(rec.Path)
	row[8] = cell(rec.Policy.Version)
	row[9] = cell(rec.Texts.Lang)
	row[10] = cell(rec.How.Layer)
	row[11] = cell(rec.How.Action)
	row[12] = cell(rec.How.Control)
	row[13] = cell(choiceList(rec.Purposes))
	row[14] = cell(choiceList(rec.Vendors))
	row[15], row[16] = "", ""
	row[17] = cell(rec.Signals.Effect)
	if !rec.IsTombstone() && !rec.IsReceipt() { // neither records a browser's signals
		row[15], row[16] = bit(rec.Signals.GPC), bit(rec.Signals.DNT)
	}
	row[18] = cell(rec.IP)
	row[19] = cell(rec.UA)
	row[20] = cell(rec.Chain)
	row[21] = strconv.FormatUint(rec.Seq, 10)
	row[22] = cell(rec.Hash)
	row[23] = cell(erasedList(rec.Erased))
}

// erasedList is "chain:seq;chain:seq" for a receipt's records.
func erasedList(refs []proof.Ref) string {
	var sb strings.Builder
	for i, ref := range refs {
		if i > 0 {
			sb.WriteByte(';')
		}
		sb.WriteString(ref.Chain)
		sb.WriteByte(':')
		sb.WriteString(strconv.FormatUint(ref.Seq, 10))
	}
	return sb.String()
}

// isoMillis formats Unix milliseconds as ISO 8601 UTC; "" for zero.
func isoMillis(ms int64) string {
	if ms == 0 {
		return ""
	}
	return time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z")
}

func bit(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// choiceList is "a=1;b=0" in key order.
func choiceList(m map[string]bool) string {
	if len(m) == 0 {
		return ""
	}
	var sb strings.Builder
	for i, k := range slices.Sorted(maps.Keys(m)) {
		if i > 0 {
			sb.WriteByte(';')
		}
		sb.WriteString(k)
		sb.WriteByte('=')
		sb.WriteString(bit(m[k]))
	}
	return sb.String()
}

// cell defuses a value a spreadsheet would evaluate as a formula.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

var _ io.Writer = (*exportWriter)(nil)
