package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/consentgate/consentgate/consent/rewrite/htmlcheck"
	"github.com/consentgate/consentgate/consent/scan"
)

// runScan lists the third-party origins the gateway saw pages load that no
// vendor of the policy covers; with page URLs as arguments it fetches each
// through the gateway instead, before and after consenting to everything,
// and lists the third parties each would load. (That consent is a real
// choice, recorded as a proof with layer "api" and control
// "consentctl-scan", so stats can tell it apart.)
func runScan(e *env, args []string) int {
	site := e.fs.String("site", "", "only this site (host)")
	prefix := e.fs.String("prefix", "/.consent/", "the gateway's consent prefix, when fetching pages")
	pages, code, ok := e.parse(args, -1)
	if !ok {
		return code
	}
	if len(pages) > 0 {
		return scanPages(e, pages, *prefix)
	}
	c, err := newClient(e.conn)
	if err != nil {
		return e.fail(err)
	}
	q := e.query(nil)
	if *site != "" {
		q.Set("site", *site)
	}
	var rep scan.Report
	if err := c.getJSON(http.MethodGet, "/consent/scan", q, nil, "", &rep); err != nil {
		return e.fail(err)
	}
	if len(rep.Entries) == 0 {
		fmt.Fprintln(e.stdout, "no third party outside the policy seen yet")
		return exitOK
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "site\torigin\tkind\tpath\tcount\tfirst seen\tlast seen")
	for _, en := range rep.Entries {
		kind := en.Kind
		if en.Via != "" { // reported by the browser: loaded by a script at run time
			kind += " (run time)"
		}
		if en.Vendor != "" {
			kind += " vendor " + en.Vendor
		}
		// Paths and sites come from visitors and reports: printed as they
		// are, control characters would drive the operator's terminal.
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", printable(en.Site), printable(en.Origin), printable(kind), printable(en.Path), en.Count,
			en.First.UTC().Format(time.RFC3339), en.Last.UTC().Format(time.RFC3339))
	}
	tw.Flush()
	if rep.Dropped > 0 {
		fmt.Fprintf(e.stdout, "(%d more observations not kept: the list is full)\n", rep.Dropped)
	}
	return exitOK
}

// printable writes control characters (and tabs, which would break the
// columns) as Go escapes: "\x1b", "\t".
func printable(s string) string {
	if !strings.ContainsFunc(s, unicode.IsControl) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if unicode.IsControl(r) {
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// scanPages fetches each page as a first-time visitor, then again after
// accepting everything, and prints the third-party origins each would load.
func scanPages(e *env, pages []string, prefix string) int {
	for _, page := range pages {
		u, err := url.Parse(page)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			fmt.Fprintf(e.stderr, "consentctl: %q is not an http(s) URL\n", page)
			return exitUsage
		}
		jar, _ := cookiejar.New(nil)
		client := &http.Client{Jar: jar, Timeout: 30 * time.Second}
		before, err := thirdPartyLoads(client, u)
		if err != nil {
			return e.fail(&callError{exitUnreachable, err.Error()})
		}
		choice, _ := http.NewRequest(http.MethodPost, u.Scheme+"://"+u.Host+prefix+"choice", strings.NewReader(`{"all":true,"layer":"api","control":"consentctl-scan"}`))
		choice.Header.Set("Content-Type", "application/json")
		choice.Header.Set("Origin", u.Scheme+"://"+u.Host)
		resp, err := client.Do(choice)
		if err != nil {
			return e.fail(&callError{exitUnreachable, err.Error()})
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return e.fail(&callError{exitAPI, fmt.Sprintf("%s: consenting failed: %s (is consentgate in front of it?)", page, resp.Status)})
		}
		after, err := thirdPartyLoads(client, u)
		if err != nil {
			return e.fail(&callError{exitUnreachable, err.Error()})
		}
		fmt.Fprintf(e.stdout, "%s\n  before consent: %s\n  after consent:  %s\n", page, list(before), list(after))
	}
	return exitOK
}

// thirdPartyLoads fetches a page and lists the other hosts it would load
// from (scripts, frames, images, styles, fonts), parsed as a browser would.
func thirdPartyLoads(client *http.Client, u *url.URL) ([]string, error) {
	req, _ := http.NewRequest(http.MethodGet, u.String(), nil)
	req.Header.Set("Accept", "text/html")
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, err
	}
	var hosts []string
	for _, l := range htmlcheck.Inspect(body).Loads {
		ref, err := u.Parse(l.URL)
		if err != nil || ref.Host == "" || strings.EqualFold(ref.Hostname(), u.Hostname()) {
			continue
		}
		if h := strings.ToLower(ref.Hostname()); !slices.Contains(hosts, h) {
			hosts = append(hosts, h)
		}
	}
	slices.Sort(hosts)
	return hosts, nil
}

func list(hosts []string) string {
	if len(hosts) == 0 {
		return "no third party"
	}
	return fmt.Sprintf("%d third part%s: %s", len(hosts), map[bool]string{true: "y", false: "ies"}[len(hosts) == 1], strings.Join(hosts, ", "))
}
