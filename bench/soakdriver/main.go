// Command soakdriver is the load side of bench/soak.sh: it drives page
// loads and consent posts through a gateway for a fixed time while the
// script restarts Redis and the gateway around it, and afterwards checks
// every acknowledged choice against the exported consent log.
//
//	soakdriver ports N                 print N free loopback TCP ports
//	soakdriver run   -base URL -duration 45s -workers 8 -hash-key K -block-key K -out run.json
//	soakdriver check -run run.json -export log.jsonl -verify verify.json [-pending N] [-rejected FILE] [-events FILE]
//
// run keeps a visitor (a consent cookie) per worker and now and then starts
// a new one, so some choices are first choices and some are updates. A
// connection error is not a 5xx: a refused connection (the gateway is
// restarting) counts as "unavailable" and is retried; a request cut off
// after it was sent counts as "interrupted", with the time it happened,
// and one that got no answer within the client timeout as "timed out"
// (either way its outcome is unknown: a choice may or may not have been
// recorded). For every acknowledged (2xx) choice it decrypts the consent
// cookie the answer set, with the keys the script configured, and keeps
// the consent id and the event id of the proof the gateway recorded.
//
// check compares those with an export: every acknowledged event must be in
// the log exactly once, no event id or chain position may occur twice, a
// consent id may not have more records than posts that could have reached
// the gateway with it, and the chain must verify. With the script's event
// log it also checks that pages and choices were served while Redis was
// down, and that requests were cut off only as the gateway was killed or
// a server shut down (see placeCuts). A hang fails too: no request may
// time out. It prints a report and exits 1 if any goal fails.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/consentgate/consentgate/consent/cookie"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "ports":
		err = ports(os.Args[2:])
	case "run":
		err = run(os.Args[2:])
	case "check":
		var failed bool
		failed, err = check(os.Args[2:])
		if err == nil && failed {
			os.Exit(1)
		}
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "soakdriver:", err)
		os.Exit(2)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: soakdriver ports N | run [flags] | check [flags]")
	os.Exit(2)
}

// ports prints free loopback ports, all distinct.
func ports(args []string) error {
	n := 1
	if len(args) > 0 {
		if _, err := fmt.Sscan(args[0], &n); err != nil {
			return err
		}
	}
	var ls []net.Listener
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		ls = append(ls, l)
		fmt.Println(l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	return nil
}

// pages are the example shop's pages the workers load.
var pages = []string{"/", "/", "/product.html", "/cart.html", "/checkout.html", "/contact.html",
	"/newsletter.html", "/login.html", "/privacy.html", "/imprint.html", "/.consent/state"}

// choices are the bodies posted to the choice endpoint.
var choices = []string{
	`{"all":true}`,
	`{"all":false}`,
	`{"purposes":{"analytics":true,"marketing":false}}`,
	`{"purposes":{"analytics":false,"social":true,"functional":true},"layer":"second","control":"save"}`,
}

// Ack is one acknowledged choice.
type Ack struct {
	ConsentID string `json:"consent_id"`
	EventID   string `json:"event_id"`
}

// Attempts counts, per consent id, the posts that may have reached the
// gateway with that id (acknowledged or not).
type Attempts map[string]int

// Sample is an unexpected answer, kept for the report.
type Sample struct {
	At     string `json:"at"`
	Kind   string `json:"kind"`
	Path   string `json:"path"`
	Status int    `json:"status,omitempty"`
	Detail string `json:"detail"`
}

// Cut is one interrupted request.
type Cut struct {
	At  float64 `json:"at"` // Unix seconds
	Req string  `json:"request"`
	Err string  `json:"error"`
}

// RunResult is what run writes for check.
type RunResult struct {
	Duration string `json:"duration"`
	Workers  int    `json:"workers"`

	Pages            int64  `json:"pages_served"`
	Page5xx          int64  `json:"page_5xx"`
	PageOther        int64  `json:"page_other_status"`
	Choices          int64  `json:"choices_sent"`
	ChoicesAcked     int64  `json:"choices_acknowledged"`
	Choice5xx        int64  `json:"choice_5xx"`
	Choice503        int64  `json:"choice_503_not_recorded"`
	ChoiceOther      int64  `json:"choice_other_status"`
	AckUnreadable    int64  `json:"acknowledged_without_readable_cookie"`
	Unavailable      int64  `json:"unavailable_refused"`
	Interrupted      int64  `json:"interrupted"`
	TimedOut         int64  `json:"timed_out"`
	ChoiceUnknown    int64  `json:"choices_outcome_unknown"`
	NewVisitorUnsure int64  `json:"first_choices_outcome_unknown"`
	Timeout          string `json:"client_timeout"`
	// Cuts are the interruptions, so check can tell those of a hard kill
	// from the rest.
	Cuts []Cut `json:"cuts"`

	Samples  []Sample `json:"samples,omitempty"`
	Acks     []Ack    `json:"acks"`
	Attempts Attempts `json:"attempts"`
	// PerSecond counts pages served and choices acknowledged per Unix
	// second, so check can tell what was served while Redis was down.
	PerSecond map[int64][2]int64 `json:"per_second"`
}

type driver struct {
	base   string
	client *http.Client
	codec  *cookie.Codec
	name   string
	start  time.Time

	pages, page5xx, pageOther                                 atomic.Int64
	choices, acked, choice5xx, choice503, choiceOther, unred  atomic.Int64
	unavailable, interrupted, timedOut, unknown, firstUnknown atomic.Int64

	mu        sync.Mutex
	cuts      []Cut
	samples   []Sample
	acks      []Ack
	attempts  Attempts
	perSecond map[int64][2]int64
}

func run(args []string) error {
	fs := flag.NewFlagSet("run", flag.ExitOnError)
	base := fs.String("base", "", "the gateway's site, e.g. http://127.0.0.1:8080")
	duration := fs.Duration("duration", 45*time.Second, "how long to drive load")
	workers := fs.Int("workers", 8, "concurrent visitors")
	hashKey := fs.String("hash-key", "", "the cookie hash key configured in the gateway (base64 or hex)")
	blockKey := fs.String("block-key", "", "the cookie block key")
	cookieName := fs.String("cookie", "consentgate", "the consent cookie's name")
	choiceShare := fs.Float64("choice-share", 0.3, "share of requests that are consent posts")
	think := fs.Duration("think", 0, "pause between a worker's requests")
	out := fs.String("out", "run.json", "where to write the result")
	progress := fs.Duration("progress", 5*time.Second, "print counters this often (0: never)")
	timeout := fs.Duration("timeout", 30*time.Second, "the client timeout: a request not answered by then timed out")
	fs.Parse(args)
	if *base == "" {
		return errors.New("run: -base is required")
	}
	hk, err1 := cookie.ParseKey(*hashKey)
	bk, err2 := cookie.ParseKey(*blockKey)
	if err := errors.Join(err1, err2); err != nil {
		return fmt.Errorf("run: cookie keys: %w", err)
	}
	codec, err := cookie.NewCodec(*cookieName, []cookie.KeyPair{{Hash: hk, Block: bk}}, 400*24*time.Hour)
	if err != nil {
		return err
	}
	d := &driver{
		base: strings.TrimSuffix(*base, "/"),
		client: &http.Client{
			Timeout: *timeout,
			Transport: &http.Transport{
				Proxy:               nil,
				DialContext:         (&net.Dialer{Timeout: 2 * time.Second}).DialContext,
				MaxIdleConnsPerHost: *workers,
				IdleConnTimeout:     30 * time.Second,
			},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		codec:     codec,
		name:      *cookieName,
		start:     time.Now(),
		attempts:  Attempts{},
		perSecond: map[int64][2]int64{},
	}
	ctx, cancel := context.WithTimeout(context.Background(), *duration)
	defer cancel()
	var wg sync.WaitGroup
	for i := range *workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.worker(ctx, rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(i))), *choiceShare, *think)
		}()
	}
	if *progress > 0 {
		go func() {
			t := time.NewTicker(*progress)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
					fmt.Fprintf(os.Stderr, "  [%5.1fs] pages %d (5xx %d), choices %d acked (5xx %d), unavailable %d, interrupted %d, timed out %d\n",
						time.Since(d.start).Seconds(), d.pages.Load(), d.page5xx.Load(), d.acked.Load(), d.choice5xx.Load(),
						d.unavailable.Load(), d.interrupted.Load(), d.timedOut.Load())
				}
			}
		}()
	}
	wg.Wait()
	res := RunResult{
		Duration: duration.String(), Workers: *workers,
		Pages: d.pages.Load(), Page5xx: d.page5xx.Load(), PageOther: d.pageOther.Load(),
		Choices: d.choices.Load(), ChoicesAcked: d.acked.Load(), Choice5xx: d.choice5xx.Load(),
		Choice503: d.choice503.Load(), ChoiceOther: d.choiceOther.Load(), AckUnreadable: d.unred.Load(),
		Unavailable: d.unavailable.Load(), Interrupted: d.interrupted.Load(), TimedOut: d.timedOut.Load(),
		ChoiceUnknown: d.unknown.Load(), NewVisitorUnsure: d.firstUnknown.Load(),
		Timeout: timeout.String(), Cuts: d.cuts,
		Samples: d.samples, Acks: d.acks, Attempts: d.attempts, PerSecond: d.perSecond,
	}
	data, err := json.Marshal(res)
	if err != nil {
		return err
	}
	return os.WriteFile(*out, data, 0o644)
}

// visitor is one browser: its consent cookie, if it has one.
type visitor struct {
	cookie    string // the consent cookie's value
	consentID string
}

func (d *driver) worker(ctx context.Context, rng *rand.Rand, choiceShare float64, think time.Duration) {
	var v visitor
	for ctx.Err() == nil {
		if rng.Float64() < choiceShare {
			d.choice(ctx, &v, choices[rng.IntN(len(choices))])
			if rng.IntN(3) == 0 {
				v = visitor{} // the next choice is a new visitor's first
			}
		} else {
			d.page(ctx, &v, pages[rng.IntN(len(pages))])
		}
		if think > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(think):
			}
		}
	}
}

// outcome of one request attempt.
type outcome int

const (
	answered outcome = iota
	refused          // never reached the gateway: retry
	cutOff           // sent, but the answer was cut off
	timedOut         // sent, but no answer within the client timeout
	stopped          // the run ended
)

func (o outcome) String() string {
	if o == timedOut {
		return "timed out"
	}
	return "interrupted"
}

// do sends a request, retrying while connections are refused (the gateway
// is restarting). It returns the answer, or how it failed.
func (d *driver) do(ctx context.Context, mk func() *http.Request) (*http.Response, []byte, outcome, error) {
	for {
		if ctx.Err() != nil {
			return nil, nil, stopped, nil
		}
		req := mk()
		resp, err := d.client.Do(req)
		if err == nil {
			body, rerr := io.ReadAll(resp.Body)
			resp.Body.Close()
			if rerr != nil {
				return resp, nil, d.failed(req, rerr), rerr
			}
			return resp, body, answered, nil
		}
		if notSent(err) {
			d.unavailable.Add(1)
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
			continue
		}
		return nil, nil, d.failed(req, err), err
	}
}

// failed counts a request that was sent but not answered: timed out (the
// gateway hung), or cut off, noting when.
func (d *driver) failed(req *http.Request, err error) outcome {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded) {
		d.timedOut.Add(1)
		return timedOut
	}
	d.interrupted.Add(1)
	c := Cut{At: float64(time.Now().UnixNano()) / 1e9, Req: req.Method + " " + req.URL.Path, Err: err.Error()}
	d.mu.Lock()
	d.cuts = append(d.cuts, c)
	d.mu.Unlock()
	return cutOff
}

// notSent reports errors that mean the request never reached a server:
// the connection was refused or could not be made.
func notSent(err error) bool {
	if errors.Is(err, syscall.ECONNREFUSED) {
		return true
	}
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

func (d *driver) page(ctx context.Context, v *visitor, path string) {
	resp, body, how, err := d.do(ctx, func() *http.Request {
		req, _ := http.NewRequest(http.MethodGet, d.base+path, nil)
		req.Header.Set("Accept", "text/html,*/*")
		if v.cookie != "" {
			req.AddCookie(&http.Cookie{Name: d.name, Value: v.cookie})
		}
		return req
	})
	switch {
	case how == cutOff || how == timedOut:
		d.sample("page "+how.String(), path, 0, err.Error())
	case how != answered:
	case resp.StatusCode >= 500:
		d.page5xx.Add(1)
		d.sample("page 5xx", path, resp.StatusCode, string(body))
	case resp.StatusCode >= 400:
		d.pageOther.Add(1)
		d.sample("page unexpected status", path, resp.StatusCode, string(body))
	default:
		d.pages.Add(1)
		d.count(0)
	}
}

func (d *driver) choice(ctx context.Context, v *visitor, body string) {
	sent := false
	resp, answer, how, err := d.do(ctx, func() *http.Request {
		sent = true
		req, _ := http.NewRequest(http.MethodPost, d.base+"/.consent/choice", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", d.base)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		req.Header.Set("Referer", d.base+"/")
		if v.cookie != "" {
			req.AddCookie(&http.Cookie{Name: d.name, Value: v.cookie})
		}
		return req
	})
	if how == stopped || !sent {
		return
	}
	d.choices.Add(1)
	// Whatever happens next, this post may have been recorded under the
	// visitor's consent id (a first choice gets a new id we may never see).
	d.mu.Lock()
	if v.consentID != "" {
		d.attempts[v.consentID]++
	}
	d.mu.Unlock()
	switch {
	case how == cutOff || how == timedOut:
		d.unknown.Add(1)
		if v.consentID == "" {
			d.firstUnknown.Add(1)
		}
		d.sample("choice "+how.String(), "/.consent/choice", 0, err.Error())
		return
	case resp.StatusCode == http.StatusServiceUnavailable:
		d.choice5xx.Add(1)
		d.choice503.Add(1)
		d.sample("choice 5xx", "/.consent/choice", resp.StatusCode, string(answer))
		return
	case resp.StatusCode >= 500:
		d.choice5xx.Add(1)
		d.sample("choice 5xx", "/.consent/choice", resp.StatusCode, string(answer))
		return
	case resp.StatusCode != http.StatusOK:
		d.choiceOther.Add(1)
		d.sample("choice unexpected status", "/.consent/choice", resp.StatusCode, string(answer))
		return
	}
	var c cookie.Consent
	var found bool
	for _, ck := range resp.Cookies() {
		if ck.Name == d.name {
			c, err = d.codec.Decode(ck.Value)
			found = err == nil
			if found {
				v.cookie = ck.Value
			}
		}
	}
	if !found || c.Event == "" {
		d.unred.Add(1)
		d.sample("choice acknowledged without a readable cookie", "/.consent/choice", resp.StatusCode, fmt.Sprint(err))
		return
	}
	d.acked.Add(1)
	d.mu.Lock()
	if v.consentID == "" {
		d.attempts[c.ID]++ // the first choice of this visitor
	}
	d.acks = append(d.acks, Ack{ConsentID: c.ID, EventID: c.Event})
	d.mu.Unlock()
	d.count(1)
	v.consentID = c.ID
}

// count adds a served page (0) or an acknowledged choice (1) to this second.
func (d *driver) count(kind int) {
	sec := time.Now().Unix()
	d.mu.Lock()
	c := d.perSecond[sec]
	c[kind]++
	d.perSecond[sec] = c
	d.mu.Unlock()
}

// sample keeps the first few unexpected answers of each kind.
func (d *driver) sample(kind, path string, status int, detail string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for _, s := range d.samples {
		if s.Kind == kind {
			n++
		}
	}
	if n >= 5 {
		return
	}
	if len(detail) > 200 {
		detail = detail[:200] + "…"
	}
	d.samples = append(d.samples, Sample{
		At:   fmt.Sprintf("%.1fs (%s)", time.Since(d.start).Seconds(), time.Now().Format("15:04:05.000")),
		Kind: kind, Path: path, Status: status, Detail: strings.TrimSpace(detail),
	})
}

// exported is what check reads of an exported record.
type exported struct {
	EventID   string `json:"event_id"`
	ConsentID string `json:"consent_id"`
	Type      string `json:"type"`
	Chain     string `json:"chain"`
	Seq       uint64 `json:"seq"`
}

// verifyReport is what check reads of consentctl verify --json.
type verifyReport struct {
	OK     bool `json:"ok"`
	Chains []struct {
		Chain    string `json:"chain"`
		OK       bool   `json:"ok"`
		Records  int    `json:"records"`
		FirstSeq uint64 `json:"first_seq"`
		LastSeq  uint64 `json:"last_seq"`
		Problems []struct {
			Kind    string `json:"kind"`
			Seq     uint64 `json:"seq"`
			EventID string `json:"event_id"`
			Detail  string `json:"detail"`
		} `json:"problems"`
		Counts map[string]int `json:"counts"`
	} `json:"chains"`
}

func check(args []string) (bool, error) {
	fs := flag.NewFlagSet("check", flag.ExitOnError)
	runFile := fs.String("run", "run.json", "run's result")
	exportFile := fs.String("export", "export.jsonl", "consentctl export (JSON Lines)")
	verifyFile := fs.String("verify", "verify.json", "consentctl verify --json")
	pending := fs.Int("pending", 0, "proofs still pending in the spool at the end")
	rejected := fs.String("rejected", "", "the spool's rejected.log, if any")
	faults := fs.String("faults", "", "the faults the script injected, for the report")
	missing := fs.String("missing-faults", "", "faults asked for that never ran")
	reloadProblems := fs.Int("reload-problems", 0, "reloads that failed or whose new configuration was not served")
	events := fs.String("events", "", "the script's event log: lines \"EVENT UNIX-SECONDS\", EVENT down|up (Redis), kill|stop|started, reload|reloaded (the gateway)")
	fs.Parse(args)

	var res RunResult
	if err := readJSON(*runFile, &res); err != nil {
		return false, err
	}
	var ver verifyReport
	verErr := readJSON(*verifyFile, &ver)

	f, err := os.Open(*exportFile)
	if err != nil {
		return false, err
	}
	defer f.Close()
	byEvent := map[string]int{}
	byConsent := map[string]int{}
	type pos struct {
		chain string
		seq   uint64
	}
	seqs := map[pos]int{}
	records, dupSeq := 0, 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var r exported
		if err := json.Unmarshal(line, &r); err != nil {
			return false, fmt.Errorf("export line %d: %w", records+1, err)
		}
		records++
		byEvent[r.EventID]++
		byConsent[r.ConsentID]++
		p := pos{r.Chain, r.Seq}
		seqs[p]++
		if seqs[p] == 2 {
			dupSeq++
		}
	}
	if err := sc.Err(); err != nil {
		return false, err
	}

	// Every acknowledged event exactly once.
	lost, dupAcked := []Ack{}, 0
	ackedEvents := map[string]bool{}
	for _, a := range res.Acks {
		ackedEvents[a.EventID] = true
		switch n := byEvent[a.EventID]; {
		case n == 0:
			lost = append(lost, a)
		case n > 1:
			dupAcked++
		}
	}
	dupEvents := 0
	for _, n := range byEvent {
		if n > 1 {
			dupEvents++
		}
	}
	// No consent id with more records than posts that could have made them.
	extra := 0
	var extraIDs []string
	for id, n := range byConsent {
		if a, ok := res.Attempts[id]; ok && n > a {
			extra += n - a
			extraIDs = append(extraIDs, fmt.Sprintf("%s (%d records, %d posts)", id, n, a))
		}
	}
	// Records of consent ids the driver never saw: first choices whose
	// answer was lost. There can be no more of them than such posts.
	orphans := 0
	for id, n := range byConsent {
		if _, ok := res.Attempts[id]; !ok {
			orphans += n
		}
	}
	unexplained := max(0, orphans-int(res.NewVisitorUnsure))
	found := len(ackedEvents) - len(lost)

	rejectedLines, rejectedLost := 0, 0
	var rejectedRuns []string
	if *rejected != "" {
		if data, err := os.ReadFile(*rejected); err == nil {
			rejectedLines = bytes.Count(data, []byte("\n"))
			rejectedRuns, rejectedLost = readRejected(data, lost)
		}
	}
	ev, evErr := readEvents(*events)
	outagePages, outageAcks, outageSecs := servedWhileDown(ev, res.PerSecond)
	inKill, inStop, outside := placeCuts(ev, res.Cuts)

	type goal struct {
		name string
		ok   bool
	}
	chainRecords := 0
	for _, c := range ver.Chains {
		chainRecords += c.Records
	}
	goals := []goal{
		{"load ran (pages served and choices acknowledged)", res.Pages > 0 && res.ChoicesAcked > 0},
		{"every fault asked for ran", *missing == ""},
		{"every reload succeeded and its new configuration was served", *reloadProblems == 0},
		{"pages served and choices acknowledged while Redis was down", evErr == nil && (outageSecs == 0 || outagePages > 0 && outageAcks > 0)},
		{"no request timed out", res.TimedOut == 0},
		{"no request cut off but as the gateway was killed or a server shut down", evErr == nil && len(outside) == 0},
		{"no 5xx on pages", res.Page5xx == 0},
		{"no 5xx on consent posts", res.Choice5xx == 0},
		{"no unexpected 4xx", res.PageOther == 0 && res.ChoiceOther == 0},
		{"every acknowledged choice set a readable cookie", res.AckUnreadable == 0},
		{"no acknowledged proof lost", len(lost) == 0},
		{"no proof duplicated (event id, chain position, records per consent id)", dupEvents == 0 && dupSeq == 0 && extra == 0},
		{"no records without a post that could have made them", unexplained == 0},
		{"spool drained, nothing rejected", *pending == 0 && rejectedLines == 0},
		{"chain verifies, export complete", verErr == nil && ver.OK && len(ver.Chains) > 0 && chainRecords == records},
	}

	w := os.Stdout
	fmt.Fprintf(w, "\n== soak report (%s, %d workers)\n", res.Duration, res.Workers)
	if *faults != "" {
		fmt.Fprintf(w, "faults injected:              %s\n", *faults)
	}
	if *missing != "" {
		fmt.Fprintf(w, "faults that never ran:        %s\n", *missing)
	}
	if *reloadProblems > 0 {
		fmt.Fprintf(w, "reload problems:              %d (failed, or the new configuration not served)\n", *reloadProblems)
	}
	fmt.Fprintf(w, "requests served:              %d (%d pages, %d consent posts acknowledged)\n", res.Pages+res.ChoicesAcked, res.Pages, res.ChoicesAcked)
	fmt.Fprintf(w, "5xx:                          %d on pages, %d on consent posts (%d were 503 \"could not be recorded\")\n", res.Page5xx, res.Choice5xx, res.Choice503)
	fmt.Fprintf(w, "other unexpected status:      %d on pages, %d on consent posts\n", res.PageOther, res.ChoiceOther)
	switch {
	case evErr != nil:
		fmt.Fprintf(w, "event log:                    unreadable (%v)\n", evErr)
	case *events != "":
		fmt.Fprintf(w, "while Redis was down (%ds):   %d pages served, %d consent posts acknowledged\n", outageSecs, outagePages, outageAcks)
	}
	fmt.Fprintf(w, "unavailable (refused, retried): %d attempts\n", res.Unavailable)
	fmt.Fprintf(w, "interrupted (cut off):        %d requests: %d as the gateway was killed, %d as a server shut down (stop, reload), %d otherwise\n",
		res.Interrupted, inKill, inStop, len(outside))
	for _, c := range outside[:min(10, len(outside))] {
		fmt.Fprintf(w, "    %s %s: %s\n", time.Unix(0, int64(c.At*1e9)).Format("15:04:05.000"), c.Req, c.Err)
	}
	fmt.Fprintf(w, "timed out (after %s):        %d requests\n", res.Timeout, res.TimedOut)
	fmt.Fprintf(w, "consent posts, outcome unknown: %d (interrupted or timed out)\n", res.ChoiceUnknown)
	fmt.Fprintf(w, "proofs acknowledged / found:  %d / %d  (lost %d)\n", len(ackedEvents), found, len(lost))
	fmt.Fprintf(w, "records in the export:        %d (%d consent ids; %d records of unseen ids from %d unanswered first choices)\n", records, len(byConsent), orphans, res.NewVisitorUnsure)
	fmt.Fprintf(w, "duplicates:                   %d event ids twice, %d chain positions twice, %d records beyond posts\n", dupEvents, dupSeq, extra)
	fmt.Fprintf(w, "spool:                        %d pending, %d rejected lines\n", *pending, rejectedLines)
	if rejectedLines > 0 {
		fmt.Fprintf(w, "    rejected.log holds seq %s; %d of the lost acknowledged proofs are in it\n", strings.Join(rejectedRuns, ", "), rejectedLost)
	}
	switch {
	case verErr != nil:
		fmt.Fprintf(w, "chain verification:           no report (%v)\n", verErr)
	default:
		for _, c := range ver.Chains {
			verdict := "ok"
			if !c.OK {
				verdict = "BROKEN"
			}
			fmt.Fprintf(w, "chain verification:           %s: %d records, seq %d..%d: %s\n", c.Chain, c.Records, c.FirstSeq, c.LastSeq, verdict)
			for _, p := range c.Problems {
				fmt.Fprintf(w, "    %s at seq %d (event %s): %s [%d of this kind]\n", p.Kind, p.Seq, p.EventID, p.Detail, c.Counts[p.Kind])
			}
		}
	}
	if len(lost) > 0 {
		fmt.Fprintf(w, "lost (first %d):\n", min(10, len(lost)))
		for _, a := range lost[:min(10, len(lost))] {
			fmt.Fprintf(w, "    event %s of consent %s\n", a.EventID, a.ConsentID)
		}
	}
	if len(extraIDs) > 0 {
		sort.Strings(extraIDs)
		fmt.Fprintf(w, "consent ids with more records than posts: %s\n", strings.Join(extraIDs[:min(5, len(extraIDs))], ", "))
	}
	if len(res.Samples) > 0 {
		fmt.Fprintln(w, "unexpected answers (first of each kind):")
		s := slices.Clone(res.Samples)
		sort.SliceStable(s, func(i, j int) bool { return s[i].Kind < s[j].Kind })
		for _, x := range s {
			fmt.Fprintf(w, "    %s  %s %s %d %s\n", x.At, x.Kind, x.Path, x.Status, x.Detail)
		}
	}
	failed := false
	fmt.Fprintln(w, "goals:")
	for _, g := range goals {
		mark := "ok  "
		if !g.ok {
			mark = "FAIL"
			failed = true
		}
		fmt.Fprintf(w, "  %s %s\n", mark, g.name)
	}
	if failed {
		fmt.Fprintln(w, "soak test FAILED")
	} else {
		fmt.Fprintln(w, "soak test passed")
	}
	return failed, nil
}

// readRejected summarises the spool's rejected.log: the runs of chain
// positions in it (in file order) and how many of the lost events it holds.
func readRejected(data []byte, lost []Ack) ([]string, int) {
	lostIDs := map[string]bool{}
	for _, a := range lost {
		lostIDs[a.EventID] = true
	}
	var runs [][2]uint64
	n := 0
	for line := range bytes.Lines(data) {
		if len(line) < 3 || line[0] != 'r' {
			continue
		}
		var r exported
		if json.Unmarshal(line[2:], &r) != nil {
			continue
		}
		if lostIDs[r.EventID] {
			n++
		}
		if k := len(runs); k > 0 && runs[k-1][1]+1 == r.Seq {
			runs[k-1][1] = r.Seq
		} else {
			runs = append(runs, [2]uint64{r.Seq, r.Seq})
		}
	}
	var out []string
	for i, r := range runs {
		if i == 12 {
			out = append(out, fmt.Sprintf("… (%d runs)", len(runs)))
			break
		}
		out = append(out, fmt.Sprintf("%d..%d", r[0], r[1]))
	}
	return out, n
}

// event is one line of the script's event log.
type event struct {
	what string  // down, up (Redis); kill, started (the gateway)
	at   float64 // Unix seconds
}

// readEvents reads the script's event log ("" means none was given).
func readEvents(path string) ([]event, error) {
	if path == "" {
		return nil, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []event
	for line := range strings.Lines(string(data)) {
		var e event
		if _, err := fmt.Sscan(line, &e.what, &e.at); err != nil {
			return nil, fmt.Errorf("event log line %q: %w", strings.TrimSpace(line), err)
		}
		out = append(out, e)
	}
	return out, nil
}

// windows pairs each start event with the next end event.
func windows(events []event, start, end string) (w [][2]float64) {
	from := -1.0
	for _, e := range events {
		switch {
		case e.what == start:
			from = e.at
		case e.what == end && from >= 0:
			w = append(w, [2]float64{from, e.at})
			from = -1
		}
	}
	return w
}

// servedWhileDown sums what was served in the whole seconds Redis was down.
func servedWhileDown(events []event, perSecond map[int64][2]int64) (pages, acks, secs int64) {
	for _, w := range windows(events, "down", "up") {
		for s := int64(w[0]) + 1; float64(s+1) <= w[1]; s++ {
			c := perSecond[s]
			pages += c[0]
			acks += c[1]
			secs++
		}
	}
	return pages, acks, secs
}

// slack widens a window: a connection reset as the process dies or a
// server shuts down may be noticed a little after the event was logged.
const slack = 0.5

// placeCuts sorts the interruptions into those of a hard kill of the
// gateway (from the kill to the gateway answering again), those of a
// server shutting down (a graceful stop, the old server of a reload), and
// the rest. A shutdown is not clean at its edge: Go's HTTP server drops,
// unanswered, a request it reads after its shutdown began (before any
// handler runs), and a stopping process resets the connections still
// waiting to be accepted. Browsers resend such a request on a reused
// connection, but not on a new one; the driver resends none.
func placeCuts(events []event, cuts []Cut) (inKill, inStop int, outside []Cut) {
	kills := windows(events, "kill", "started")
	stops := append(windows(events, "stop", "started"), windows(events, "reload", "reloaded")...)
	within := func(ws [][2]float64, t float64) bool {
		return slices.ContainsFunc(ws, func(w [2]float64) bool { return w[0]-slack <= t && t <= w[1]+slack })
	}
	for _, c := range cuts {
		switch {
		case within(kills, c.At):
			inKill++
		case within(stops, c.At):
			inStop++
		default:
			outside = append(outside, c)
		}
	}
	return inKill, inStop, outside
}

func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
