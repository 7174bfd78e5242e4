package main

import (
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
	"text/tabwriter"
)

// verifyAnswer mirrors GET /consent/verify.
type verifyAnswer struct {
	OK     bool `json:"ok"`
	Chains []struct {
		Store       string         `json:"store"`
		Chain       string         `json:"chain"`
		OK          bool           `json:"ok"`
		Records     int            `json:"records"`
		Tombstones  int            `json:"tombstones"`
		Receipts    int            `json:"receipts"`
		FirstSeq    uint64         `json:"first_seq"`
		LastSeq     uint64         `json:"last_seq"`
		Checkpoints int            `json:"checkpoints"`
		Spooled     int            `json:"spooled"`
		Rejected    int            `json:"rejected"`
		RejectedLog string         `json:"rejected_log"`
		MACChecked  bool           `json:"mac_checked"`
		Counts      map[string]int `json:"counts"`
		Anchor      *struct {
			Seq uint64 `json:"seq"`
		} `json:"anchor"`
		Problems []struct {
			Kind    string `json:"kind"`
			Seq     uint64 `json:"seq"`
			EventID string `json:"event_id"`
			Detail  string `json:"detail"`
		} `json:"problems"`
	} `json:"chains"`
}

func runVerify(e *env, args []string) int {
	chain := e.fs.String("chain", "", "verify this chain only")
	asJSON := e.fs.Bool("json", false, "print the API's JSON report")
	_, c, code, ok := e.connect(args, 0)
	if !ok {
		return code
	}
	q := e.query(&filterFlags{chain: *chain})
	var raw json.RawMessage
	if err := c.getJSON(http.MethodGet, "/consent/verify", q, nil, "", &raw); err != nil {
		return e.fail(err)
	}
	var ans verifyAnswer
	if err := json.Unmarshal(raw, &ans); err != nil {
		return e.fail(&callError{exitAPI, fmt.Sprintf("unreadable verification report: %v", err)})
	}
	if *asJSON {
		e.writeJSON(raw)
	} else {
		printVerify(e.stdout, &ans)
	}
	if !ans.OK {
		return exitFailed
	}
	return exitOK
}

func printVerify(w io.Writer, ans *verifyAnswer) {
	broken := 0
	for _, ch := range ans.Chains {
		fmt.Fprintf(w, "chain %s  (%s)\n", ch.Chain, ch.Store)
		var facts []string
		facts = append(facts, plural(ch.Records, "record"))
		if ch.Tombstones > 0 {
			facts = append(facts, plural(ch.Tombstones, "tombstone")+" of erased records")
		}
		if ch.Receipts > 0 {
			facts = append(facts, plural(ch.Receipts, "erasure receipt"))
		}
		if ch.Records > 0 {
			facts = append(facts, fmt.Sprintf("seq %d..%d", ch.FirstSeq, ch.LastSeq))
		}
		facts = append(facts, plural(ch.Checkpoints, "signed checkpoint"))
		if ch.Anchor != nil {
			facts = append(facts, fmt.Sprintf("expired records before seq %d anchored by a checkpoint", ch.Anchor.Seq+1))
		}
		if !ch.MACChecked && ch.Records > 0 { // with none, there was no HMAC to check
			facts = append(facts, "HMAC not checked (no key)")
		}
		if ch.Spooled > 0 {
			facts = append(facts, fmt.Sprintf("%d waiting in the gateway's spool (proofs or checkpoints the store has not taken yet: verify again once they are replayed)", ch.Spooled))
		}
		if ch.Rejected > 0 {
			facts = append(facts, fmt.Sprintf("%s the store refused for good (another record holds their seq): the decisions took effect, their proofs are only in %s on the gateway's disk", plural(ch.Rejected, "proof"), ch.RejectedLog))
		}
		verdict := "ok"
		if !ch.OK {
			verdict = "BROKEN"
			broken++
		}
		fmt.Fprintf(w, "  %s: %s\n", strings.Join(facts, ", "), verdict)
		for _, p := range ch.Problems {
			fmt.Fprintf(w, "  %s at seq %d", p.Kind, p.Seq)
			if p.EventID != "" {
				fmt.Fprintf(w, " (event %s)", p.EventID)
			}
			fmt.Fprintf(w, ": %s", p.Detail)
			if n := ch.Counts[p.Kind]; n > 1 {
				fmt.Fprintf(w, " [first of %d %s problems]", n, p.Kind)
			}
			fmt.Fprintln(w)
		}
	}
	switch {
	case len(ans.Chains) == 0:
		fmt.Fprintln(w, "no chains: nothing recorded yet")
	case broken == 0:
		fmt.Fprintf(w, "%s verified: ok\n", plural(len(ans.Chains), "chain"))
	default:
		fmt.Fprintf(w, "verification FAILED: %d of %s broken\n", broken, plural(len(ans.Chains), "chain"))
	}
}

// statsAnswer mirrors GET /consent/stats.
type statsAnswer struct {
	Decisions int      `json:"decisions"`
	Erased    int      `json:"erased"`
	Purposes  []string `json:"purposes"`
	Days      []struct {
		Day       string                  `json:"day"`
		Decisions int                     `json:"decisions"`
		Purposes  map[string]decisionRows `json:"purposes"`
	} `json:"days"`
	Totals map[string]decisionRows `json:"totals"`
}

type decisionRows struct {
	Decisions    int `json:"decisions"`
	Accepted     int `json:"accepted"`
	Rejected     int `json:"rejected"`
	Custom       int `json:"custom"`
	Withdrawn    int `json:"withdrawn"`
	GPCDefaulted int `json:"gpc_defaulted"`
	Granted      int `json:"granted"`
}

func runStats(e *env, args []string) int {
	var f filterFlags
	f.register(e.fs, true)
	asJSON := e.fs.Bool("json", false, "print the API's JSON")
	asCSV := e.fs.Bool("csv", false, "print CSV, for a spreadsheet: a header row, then one row per day and purpose and one total row per purpose")
	_, c, code, ok := e.connect(args, 0)
	if !ok {
		return code
	}
	if *asJSON && *asCSV {
		fmt.Fprintln(e.stderr, "consentctl stats: --json or --csv, not both")
		return exitUsage
	}
	var raw json.RawMessage
	if err := c.getJSON(http.MethodGet, "/consent/stats", e.query(&f), nil, "", &raw); err != nil {
		return e.fail(err)
	}
	if *asJSON {
		e.writeJSON(raw)
		return exitOK
	}
	var ans statsAnswer
	if err := json.Unmarshal(raw, &ans); err != nil {
		return e.fail(&callError{exitAPI, fmt.Sprintf("unreadable stats: %v", err)})
	}
	if *asCSV {
		return writeStatsCSV(e, &ans)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, strings.Join(statsColumns, "\t")+"\t")
	eachStatsRow(&ans, func(day, purpose string, r decisionRows) {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t\n", day, purpose, r.Decisions, r.Accepted, r.Rejected,
			r.Custom, r.Withdrawn, r.GPCDefaulted, share(r.Granted, r.Decisions))
	})
	tw.Flush()
	fmt.Fprintf(e.stdout, "%s", plural(ans.Decisions, "decision"))
	if ans.Erased > 0 {
		fmt.Fprintf(e.stdout, ", %s", plural(ans.Erased, "erased record"))
	}
	fmt.Fprintln(e.stdout)
	if f.purpose != "" && len(ans.Purposes) == 0 {
		e.noteNoneAbout(f.purpose, "no decision in these records")
	}
	return exitOK
}

// noteNoneAbout says on standard error that what --purpose selected is
// empty (none is what), for a mistyped purpose reads exactly like one
// nobody decided about. It is no failure: the exit code stays 0.
func (e *env) noteNoneAbout(purpose, none string) {
	fmt.Fprintf(e.stderr, "%s is about the purpose %q; purpose ids are as the records spell them (consentctl stats lists them)\n", none, purpose)
}

// writeJSON prints the API's JSON answer as a line of its own.
func (e *env) writeJSON(raw json.RawMessage) {
	e.stdout.Write(append(raw, '\n'))
}

var statsColumns = []string{"day", "purpose", "decisions", "accepted", "rejected", "custom", "withdrawn", "gpc_defaulted", "granted"}

// eachStatsRow calls row for each day and purpose, then for each purpose's
// total (day "total").
func eachStatsRow(ans *statsAnswer, row func(day, purpose string, r decisionRows)) {
	for _, d := range ans.Days {
		for _, p := range slices.Sorted(maps.Keys(d.Purposes)) {
			row(d.Day, p, d.Purposes[p])
		}
	}
	for _, p := range ans.Purposes {
		row("total", p, ans.Totals[p])
	}
}

// writeStatsCSV prints the stats as RFC 4180 CSV with numbers a
// spreadsheet reads as numbers (granted as a fraction, 0 to 1).
func writeStatsCSV(e *env, ans *statsAnswer) int {
	w := csv.NewWriter(e.stdout)
	w.UseCRLF = true
	w.Write(statsColumns)
	eachStatsRow(ans, func(day, purpose string, r decisionRows) {
		granted := ""
		if r.Decisions > 0 {
			granted = strconv.FormatFloat(float64(r.Granted)/float64(r.Decisions), 'f', 4, 64)
		}
		w.Write([]string{day, purpose, strconv.Itoa(r.Decisions), strconv.Itoa(r.Accepted), strconv.Itoa(r.Rejected),
			strconv.Itoa(r.Custom), strconv.Itoa(r.Withdrawn), strconv.Itoa(r.GPCDefaulted), granted})
	})
	w.Flush()
	if err := w.Error(); err != nil {
		return e.fail(&callError{exitAPI, fmt.Sprintf("writing the output: %v", err)})
	}
	return exitOK
}

func runShow(e *env, args []string) int {
	pos, c, code, ok := e.connect(args, 1)
	if !ok {
		return code
	}
	resp, err := c.do(http.MethodPost, "/consent/show", e.query(nil), idBody(pos[0]), "application/json")
	if err != nil {
		return e.fail(err)
	}
	defer resp.Body.Close()
	if _, err := io.Copy(e.stdout, resp.Body); err != nil {
		return e.fail(&callError{exitAPI, err.Error()})
	}
	return exitOK
}

func runErase(e *env, args []string) int {
	pos, c, code, ok := e.connect(args, 1)
	if !ok {
		return code
	}
	var ans struct {
		Erased int `json:"erased"`
	}
	if err := c.getJSON(http.MethodPost, "/consent/erase", e.query(nil), idBody(pos[0]), "application/json", &ans); err != nil {
		return e.fail(err)
	}
	fmt.Fprintf(e.stdout, "erased %s of consent %s (tombstones keep the chain verifiable)\n", plural(ans.Erased, "record"), pos[0])
	return exitOK
}

// idBody carries a consent id in a request body, which keeps it out of
// Caddy's admin request log (that logs the URI with its query).
func idBody(id string) io.Reader {
	body, _ := json.Marshal(map[string]string{"id": id})
	return bytes.NewReader(body)
}

func runCheckpoint(e *env, args []string) int {
	_, c, code, ok := e.connect(args, 0)
	if !ok {
		return code
	}
	var ans struct {
		Checkpoints []struct {
			Store    string `json:"store"`
			Chain    string `json:"chain"`
			Seq      uint64 `json:"seq"`
			Time     string `json:"time"`
			Skipped  string `json:"skipped"`
			Existing bool   `json:"existing"`
		} `json:"checkpoints"`
	}
	if err := c.getJSON(http.MethodPost, "/consent/checkpoint", e.query(nil), nil, "", &ans); err != nil {
		return e.fail(err)
	}
	for _, cp := range ans.Checkpoints {
		switch {
		case cp.Skipped != "":
			fmt.Fprintf(e.stdout, "chain %s  (%s): no checkpoint: %s\n", cp.Chain, cp.Store, cp.Skipped)
		case cp.Existing:
			fmt.Fprintf(e.stdout, "chain %s  (%s): no new checkpoint: no record since the checkpoint at seq %d, signed %s\n", cp.Chain, cp.Store, cp.Seq, cp.Time)
		default:
			fmt.Fprintf(e.stdout, "chain %s  (%s): checkpoint at seq %d, %s\n", cp.Chain, cp.Store, cp.Seq, cp.Time)
		}
	}
	return exitOK
}

func runKeys(e *env, args []string) int {
	asJSON := e.fs.Bool("json", false, "print the API's JSON")
	_, c, code, ok := e.connect(args, 0)
	if !ok {
		return code
	}
	var raw json.RawMessage
	if err := c.getJSON(http.MethodGet, "/consent/keys", e.query(nil), nil, "", &raw); err != nil {
		return e.fail(err)
	}
	if *asJSON {
		e.writeJSON(raw)
		return exitOK
	}
	var ans struct {
		PublicKeys []struct {
			KeyID     string `json:"key_id"`
			PublicKey string `json:"public_key"`
		} `json:"public_keys"`
		MACKeyIDs []string `json:"mac_key_ids"`
	}
	if err := json.Unmarshal(raw, &ans); err != nil {
		return e.fail(&callError{exitAPI, fmt.Sprintf("unreadable keys: %v", err)})
	}
	// One line per key, the hex key second: what verify_proofs.py takes as
	// --public-key. Then the ids of the MAC keys (records name theirs in
	// key_id), to match against the secrets the operator hands over.
	for _, k := range ans.PublicKeys {
		fmt.Fprintf(e.stdout, "%s %s\n", k.KeyID, k.PublicKey)
	}
	for _, id := range ans.MACKeyIDs {
		fmt.Fprintf(e.stdout, "%s (MAC key)\n", id)
	}
	return exitOK
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func share(n, of int) string {
	if of == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(n)/float64(of))
}
