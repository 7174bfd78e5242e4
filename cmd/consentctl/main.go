// Command consentctl is the auditor's client of consentgate's admin API
// (the /consent/ routes on Caddy's admin endpoint): it exports the consent
// log, verifies its hash chains, shows acceptance statistics, and looks up
// or erases one visitor's records.
//
//	consentctl export --format csv --since 2025-01-01 --until 2025-03-31 --output q1.csv
//	consentctl verify
//	consentctl stats --since 2025-03-01
//
// Exit codes: 0 ok; 1 verification failed (a chain is broken) or nothing
// found; 2 usage error (also a parameter the API refused); 3 the admin API
// cannot be reached; 4 the admin API failed (or an export was cut off).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"strings"
)

// Exit codes.
const (
	exitOK          = 0
	exitFailed      = 1 // verification failed, or not found
	exitUsage       = 2
	exitUnreachable = 3
	exitAPI         = 4 // the admin API answered with an error, or an export was cut off
)

// defaultAddress is Caddy's default admin endpoint.
const defaultAddress = "localhost:2019"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// command is one subcommand.
type command struct {
	name, args, summary string
	run                 func(e *env, args []string) int
}

var commands = []command{
	{"export", "[--format jsonl|csv [--bom]] [--since T] [--until T] [--site HOST] [--purpose ID] [--chain ID] [--output FILE]",
		"write the consent records as JSON Lines (verifiable) or CSV (for spreadsheets)", runExport},
	{"verify", "[--chain ID] [--json]",
		"walk every hash chain; exit 1 if a record was altered, deleted or the log truncated", runVerify},
	{"stats", "[--since T] [--until T] [--site HOST] [--purpose ID] [--chain ID] [--json | --csv]",
		"per day and purpose: accepted, rejected, custom, withdrawn, GPC-defaulted", runStats},
	{"show", "CONSENT-ID",
		"print every record of one consent id (JSON)", runShow},
	{"erase", "CONSENT-ID",
		"erase one consent id's records (each becomes a tombstone that keeps the chain verifiable)", runErase},
	{"checkpoint", "",
		"sign a checkpoint of every chain now (a chain with no record since its last checkpoint keeps that one, and says so)", runCheckpoint},
	{"checkpoints", "[--chain ID] [--output FILE]",
		"write the signed checkpoints as JSON Lines, to re-verify an export with your own tools", runCheckpoints},
	{"keys", "[--json]",
		"print the Ed25519 public keys that verify checkpoints (key id, hex key), then the ids of the MAC keys; compare them with the operator's copy", runKeys},
	{"dashboard", "[--since T] [--until T] [--site HOST] [--output FILE]",
		"save the HTML dashboard (charts per day and purpose) to open in a browser", runDashboard},
	{"backup", "--output FILE",
		"save a consistent copy of the embedded proof store while the gateway runs (a plain copy of the file in use can lose whole chains)", runBackup},
	{"scan", "[--site HOST] [--prefix /.consent/] [PAGE-URL...]",
		"list third parties pages loaded that the policy does not cover; with URLs, fetch each through the gateway and list what it loads before and after consent", runScan},
}

// env is what a subcommand runs with.
type env struct {
	stdout, stderr io.Writer
	fs             *flag.FlagSet
	conn           connFlags
	store          string
}

// connFlags say how to reach the admin API.
type connFlags struct {
	address, cert, key, cacert string
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	args = commandFirst(args)
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		usage(stdout)
		return exitOK
	}
	i := slices.IndexFunc(commands, func(c command) bool { return c.name == name })
	if i < 0 {
		fmt.Fprintf(stderr, "consentctl: unknown command %q\n\n", name)
		usage(stderr)
		return exitUsage
	}
	cmd := commands[i]
	e := &env{stdout: stdout, stderr: stderr, fs: flag.NewFlagSet("consentctl "+name, flag.ContinueOnError)}
	e.fs.SetOutput(stderr)
	e.fs.StringVar(&e.conn.address, "address", defaultAddress, "the admin API: host:port, unix//path/to/socket, or https://host:port for Caddy's remote admin")
	e.fs.StringVar(&e.conn.cert, "cert", "", "client certificate (PEM) for Caddy's remote admin over mutual TLS")
	e.fs.StringVar(&e.conn.key, "key", "", "private key (PEM) of --cert")
	e.fs.StringVar(&e.conn.cacert, "cacert", "", "CA certificate (PEM) that signed the remote admin endpoint's certificate")
	e.fs.StringVar(&e.store, "store", "", "the store to read when the gateway has several (as in verify's output); default all")
	e.fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: consentctl %s %s\n\n%s.\n\nflags:\n", cmd.name, cmd.args, cmd.summary)
		e.fs.PrintDefaults()
	}
	return cmd.run(e, args[1:])
}

// commandFirst puts the command first when flags come before it
// (consentctl --address host:2019 verify), as they may for other CLIs.
func commandFirst(args []string) []string {
	if !strings.HasPrefix(args[0], "-") || slices.Contains([]string{"-h", "-help", "--help"}, args[0]) {
		return args
	}
	i := slices.IndexFunc(args, func(a string) bool {
		return slices.ContainsFunc(commands, func(c command) bool { return c.name == a })
	})
	if i < 0 {
		return args
	}
	return slices.Concat(args[i:i+1], args[:i], args[i+1:])
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "consentctl is the auditor's client of consentgate's admin API.\n\nusage: consentctl <command> [flags]\n\ncommands:\n")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-12s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, `
Every command takes --address (default %s, Caddy's admin endpoint) and
--store, before or after the command. Times (--since, --until) are RFC 3339 or YYYY-MM-DD in UTC; a date
given as --until includes that day. Run "consentctl <command> -h" for its flags.

exit codes: 0 ok, 1 verification failed or not found, 2 usage error,
3 cannot reach the admin API, 4 the admin API failed or an export was cut off
`, defaultAddress)
}

// parse parses flags and positional arguments in any order; it returns
// the positional ones, or an exit code when it is done.
func (e *env) parse(args []string, positional int) ([]string, int, bool) {
	var rest []string
	for {
		if err := e.fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, exitOK, false
			}
			if name, undefined := strings.CutPrefix(err.Error(), "flag provided but not defined: "); undefined && positional != 0 {
				cmd := strings.TrimPrefix(e.fs.Name(), "consentctl ")
				fmt.Fprintf(e.stderr, "consentctl %s: an argument that starts with \"-\" goes after \"--\": consentctl %s -- %s\n", cmd, cmd, name)
			}
			return nil, exitUsage, false
		}
		args = e.fs.Args()
		if len(args) == 0 {
			break
		}
		rest = append(rest, args[0])
		args = args[1:]
	}
	if positional >= 0 && len(rest) != positional { // -1: any number
		if positional == 0 {
			fmt.Fprintf(e.stderr, "consentctl %s: unexpected argument %q\n", strings.TrimPrefix(e.fs.Name(), "consentctl "), rest[0])
		} else {
			fmt.Fprintf(e.stderr, "consentctl %s: want %d argument(s), got %d\n", strings.TrimPrefix(e.fs.Name(), "consentctl "), positional, len(rest))
		}
		e.fs.Usage()
		return nil, exitUsage, false
	}
	return rest, exitOK, true
}

// filterFlags are the record selection of export, stats and dashboard.
type filterFlags struct {
	since, until, site, purpose, chain string
}

func (f *filterFlags) register(fs *flag.FlagSet, purposeAndChain bool) {
	fs.StringVar(&f.since, "since", "", "records at or after this time (RFC 3339 or YYYY-MM-DD, UTC)")
	fs.StringVar(&f.until, "until", "", "records before this time; a date includes that whole day")
	fs.StringVar(&f.site, "site", "", "records of this site (host) only")
	if purposeAndChain {
		fs.StringVar(&f.purpose, "purpose", "", "records that state a choice for this purpose")
		fs.StringVar(&f.chain, "chain", "", "records of this chain (gateway instance) only")
	}
}

// query is the filter, with the store, as admin API parameters.
func (e *env) query(f *filterFlags) url.Values {
	q := url.Values{}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	set("store", e.store)
	if f != nil {
		set("since", f.since)
		set("until", f.until)
		set("site", f.site)
		set("purpose", f.purpose)
		set("chain", f.chain)
	}
	return q
}

// connect parses the command line (flags and want positional arguments)
// and makes the admin API client. When ok is false the command ends with
// code.
func (e *env) connect(args []string, want int) (pos []string, c *client, code int, ok bool) {
	if pos, code, ok = e.parse(args, want); !ok {
		return nil, nil, code, false
	}
	c, err := newClient(e.conn)
	if err != nil {
		return nil, nil, e.fail(err), false
	}
	return pos, c, 0, true
}

// fail prints an error and returns its exit code.
func (e *env) fail(err error) int {
	fmt.Fprintf(e.stderr, "consentctl: %v\n", err)
	var ce *callError
	if errors.As(err, &ce) {
		return ce.code
	}
	return exitAPI
}
