package caddymodule

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/consentgate/consentgate/consent/proof"
	"github.com/consentgate/consentgate/consent/store"
)

func init() {
	caddy.RegisterModule(AdminAPI{})
}

// AdminAPI serves the auditor's endpoints on Caddy's admin endpoint, under
// /consent/. The admin endpoint listens on localhost by default, and
// Caddy's remote admin requires mutual TLS. An operator can still make the
// plain endpoint listen on every interface (admin :2019); these routes then
// answer only peers on the machine itself, so they are never reachable
// unauthenticated (see peerMayAudit).
//
//	GET  /consent/export?format=jsonl|csv&since=&until=&site=&purpose=&chain=&store=
//	GET  /consent/verify?chain=&store=
//	GET  /consent/stats?since=&until=&site=&purpose=&chain=&store=
//	POST /consent/show?store=    body {"id": "<consent id>"} (or ?id=)
//	POST /consent/erase?store=   body {"id": "<consent id>"} (or ?id=)
//	POST /consent/checkpoint?store=
//	GET  /consent/checkpoints?chain=&store=
//	GET  /consent/keys?store=
//	GET  /consent/dashboard?since=&until=&site=&store=
//	GET  /consent/scan?site=&store=
//	GET  /consent/backup?store=  (an embedded store's file, consistent while in use)
//
// Times are RFC 3339 or YYYY-MM-DD (UTC); a date given as until includes
// that whole day. Caddy loads admin.api modules by itself: there is nothing
// to configure.
type AdminAPI struct {
	logger *zap.Logger
}

// CaddyModule returns the Caddy module information.
func (AdminAPI) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "admin.api.consent",
		New: func() caddy.Module { return new(AdminAPI) },
	}
}

// Provision sets up the logger. The stores are looked up per request: they
// belong to the consent handlers of whatever config is running.
func (a *AdminAPI) Provision(ctx caddy.Context) error {
	a.logger = ctx.Logger(a)
	return nil
}

// Routes returns the /consent/ routes.
func (a *AdminAPI) Routes() []caddy.AdminRoute {
	return []caddy.AdminRoute{{
		Pattern: adminBase,
		Handler: caddy.AdminHandlerFunc(a.serve),
	}}
}

const adminBase = "/consent/"

// adminRoute is one endpoint: its method and the query parameters it takes.
type adminRoute struct {
	method string
	params []string
	serve  func(a *AdminAPI, w http.ResponseWriter, r *http.Request, stores []*auditStore) error
}

var adminRoutes = map[string]adminRoute{
	"export":      {http.MethodGet, []string{"format", "since", "until", "site", "purpose", "chain", "store"}, (*AdminAPI).serveExport},
	"verify":      {http.MethodGet, []string{"chain", "store"}, (*AdminAPI).serveVerify},
	"stats":       {http.MethodGet, []string{"since", "until", "site", "purpose", "chain", "store"}, (*AdminAPI).serveStats},
	"show":        {http.MethodPost, []string{"id", "store"}, (*AdminAPI).serveShow},
	"erase":       {http.MethodPost, []string{"id", "store"}, (*AdminAPI).serveErase},
	"checkpoint":  {http.MethodPost, []string{"store"}, (*AdminAPI).serveCheckpoint},
	"checkpoints": {http.MethodGet, []string{"chain", "store"}, (*AdminAPI).serveCheckpoints},
	"keys":        {http.MethodGet, []string{"store"}, (*AdminAPI).serveKeys},
	"dashboard":   {http.MethodGet, []string{"since", "until", "site", "store"}, (*AdminAPI).serveDashboard},
	"scan":        {http.MethodGet, []string{"site", "store"}, (*AdminAPI).serveScan},
	"backup":      {http.MethodGet, []string{"store"}, (*AdminAPI).serveBackup},
}

// serve dispatches a request under /consent/.
func (a *AdminAPI) serve(w http.ResponseWriter, r *http.Request) error {
	if !peerMayAudit(r) {
		a.logger.Warn("audit request from another machine refused: the admin endpoint listens beyond loopback without authentication",
			append(who(r), zap.String("uri", r.URL.Path))...)
		return apiError(http.StatusForbidden, "consent audit data is served only to this machine (loopback or the admin socket) or through Caddy's remote admin with a client certificate; this admin endpoint listens on the network without authentication")
	}
	name := strings.TrimPrefix(r.URL.Path, adminBase)
	route, ok := adminRoutes[name]
	if !ok {
		return apiError(http.StatusNotFound, "no such consent endpoint %q; there are %s", r.URL.Path, strings.Join(slices.Sorted(maps.Keys(adminRoutes)), ", "))
	}
	if r.Method != route.method && !(route.method == http.MethodGet && r.Method == http.MethodHead) {
		w.Header().Set("Allow", route.method)
		return apiError(http.StatusMethodNotAllowed, "use %s for %s", route.method, r.URL.Path)
	}
	q := r.URL.Query()
	for p := range q {
		if !slices.Contains(route.params, p) {
			return apiError(http.StatusBadRequest, "unknown parameter %q; %s takes %s", p, r.URL.Path, strings.Join(route.params, ", "))
		}
	}
	stores, err := auditStores(q.Get("store"))
	if err != nil {
		return err
	}
	return route.serve(a, w, r, stores)
}

// auditStore is one store the running consent handlers write to, with the
// sinks (chains) this instance writes into it.
type auditStore struct {
	name  string // as configured, password hidden
	store store.Store
	sinks []*proofSink
}

// sinkOf is the sink of this instance that writes chain, if any.
func (as *auditStore) sinkOf(chain string) *proofSink {
	for _, s := range as.sinks {
		if s.chainID == chain {
			return s
		}
	}
	return nil
}

// retention is the proof retention the store enforces (the shortest its
// sinks are configured with; the default without any).
func (as *auditStore) retention() time.Duration {
	if len(as.sinks) == 0 {
		return store.DefaultProofRetention
	}
	r := as.sinks[0].retention
	for _, s := range as.sinks[1:] {
		r = min(r, s.retention)
	}
	return r
}

// auditStores lists the stores of the running consent handlers, or the
// one named by want. Sinks outlive config reloads that keep them, so a long
// export is not cut off by a reload (only by one that drops the store).
func auditStores(want string) ([]*auditStore, error) {
	byName := map[string]*auditStore{}
	var openErr error
	sinks.Range(func(_, v any) bool {
		s, ok := v.(*proofSink)
		if !ok {
			return true
		}
		st, err := s.openedStore()
		if err != nil {
			openErr = err
			return false
		}
		as := byName[s.name]
		if as == nil {
			as = &auditStore{name: redactURL(s.name), store: st}
			byName[s.name] = as
		}
		as.sinks = append(as.sinks, s)
		return true
	})
	if openErr != nil {
		return nil, apiError(http.StatusServiceUnavailable, "a proof store cannot be opened: %v", openErr)
	}
	if len(byName) == 0 {
		return nil, apiError(http.StatusNotFound, "no consent handler is configured: there are no consent proofs to audit (add the consent directive to a site)")
	}
	all := slices.SortedFunc(maps.Values(byName), func(a, b *auditStore) int { return strings.Compare(a.name, b.name) })
	for _, as := range all {
		slices.SortFunc(as.sinks, func(a, b *proofSink) int { return strings.Compare(a.chainID, b.chainID) })
	}
	if want == "" {
		return all, nil
	}
	for name, as := range byName {
		if want == name || want == as.name {
			return []*auditStore{as}, nil
		}
	}
	names := make([]string, len(all))
	for i, as := range all {
		names[i] = as.name
	}
	return nil, apiError(http.StatusNotFound, "unknown store %q; the stores are: %s", want, strings.Join(names, ", "))
}

// auditKeys are the keys of every running sink: an instance verifies the
// chains of other instances that share its proof and signing keys.
func auditKeys() proof.Keys {
	keys := proof.Keys{MAC: map[string][]byte{}, PublicKeys: map[string]ed25519.PublicKey{}}
	sinks.Range(func(_, v any) bool {
		if s, ok := v.(*proofSink); ok {
			k := s.verifyKeys()
			maps.Copy(keys.MAC, k.MAC)
			maps.Copy(keys.PublicKeys, k.PublicKeys)
		}
		return true
	})
	return keys
}

// chainReport is a verification report with its store and verdict.
type chainReport struct {
	Store string `json:"store"`
	OK    bool   `json:"ok"`
	// Spooled counts this gateway's proofs (and checkpoints) of the chain
	// that wait in its local spool for the store (down, or refusing
	// writes): they are not in what was verified, and will be once
	// replayed.
	Spooled int `json:"spooled,omitempty"`
	// Rejected counts this gateway's proofs of the chain that the store
	// refused for good (a record of another gateway at their seq): kept
	// only in RejectedLog, on the gateway's disk, never in the store. The
	// decisions they prove took effect, so the chain is not OK while any
	// is there.
	Rejected    int    `json:"rejected,omitempty"`
	RejectedLog string `json:"rejected_log,omitempty"`
	proof.Report
}

// verifyAnswer is the answer of /consent/verify.
type verifyAnswer struct {
	// OK is false when any chain has a problem.
	OK     bool          `json:"ok"`
	Chains []chainReport `json:"chains"`
}

// serveVerify walks every chain (or the one asked for) and reports. A
// broken chain is a finding, not a failed request: the answer is 200 with
// "ok": false.
func (a *AdminAPI) serveVerify(w http.ResponseWriter, r *http.Request, stores []*auditStore) error {
	want := r.URL.Query().Get("chain")
	ans := verifyAnswer{OK: true, Chains: []chainReport{}}
	// What the receipts of every chain of a store name, read once per
	// store: a tombstone's receipt may be in any chain.
	receipts := map[*auditStore]*proof.Receipts{}
	err := eachChain(r, stores, want, func(as *auditStore, c string) error {
		if receipts[as] == nil {
			rs, err := as.store.Receipts(r.Context())
			if err != nil {
				return err
			}
			receipts[as] = rs
		}
		// A chain whose start has expired is anchored by a checkpoint at
		// least as old as the store's retention.
		opts := proof.VerifyOptions{Keys: auditKeys(), MinAnchorAge: as.retention(), Receipts: receipts[as]}
		// Read before the walk, so that proofs stored during it do not count.
		var written proof.Head
		spooled, rejected, rejectedLog := 0, 0, ""
		if s := as.sinkOf(c); s != nil {
			written = s.acknowledgedHead(r.Context())
			spooled = s.spooled()
			rejected, rejectedLog = s.rejected()
		}
		rep, err := store.Verify(r.Context(), as.store, c, opts)
		if err != nil {
			return err
		}
		end := rep.LastSeq
		if rep.Anchor != nil { // all expired up to it
			end = max(end, rep.Anchor.Seq)
		}
		if written.Seq > end && rep.Counts[proof.Truncated] == 0 {
			noteCutShort(&rep, end, written.Seq)
		}
		ok := rep.OK() && rejected == 0
		if rejected == 0 {
			rejectedLog = ""
		}
		ans.Chains = append(ans.Chains, chainReport{Store: as.name, OK: ok, Spooled: spooled, Rejected: rejected, RejectedLog: rejectedLog, Report: rep})
		ans.OK = ans.OK && ok
		return nil
	})
	if err != nil {
		return err
	}
	for _, missing := range lostChains(r.Context(), stores, want, ans.Chains) {
		ans.Chains = append(ans.Chains, missing)
		ans.OK = ans.OK && missing.OK
	}
	if want != "" && len(ans.Chains) == 0 {
		return noChain(want, stores)
	}
	failed := 0
	for _, c := range ans.Chains {
		if !c.OK {
			failed++
		}
	}
	a.logger.Info("consent proofs verified", append(who(r),
		zap.Int("chains", len(ans.Chains)),
		zap.Int("broken", failed))...)
	return writeJSON(w, ans)
}

// lostChains reports the chains of this gateway that the store does not
// list: one it has written to (all spooled proofs replayed), as a gap, since
// a Redis that lost its data, or its list of chains, would otherwise verify
// as having nothing recorded; one whose every proof still waits in the
// spool, with their count, so that nothing recorded is passed over.
func lostChains(ctx context.Context, stores []*auditStore, want string, found []chainReport) []chainReport {
	var out []chainReport
	for _, as := range stores {
		for _, s := range as.sinks {
			if want != "" && s.chainID != want ||
				slices.ContainsFunc(found, func(c chainReport) bool { return c.Store == as.name && c.Chain == s.chainID }) {
				continue
			}
			head, spooled := s.acknowledgedHead(ctx), s.spooled()
			missing := fmt.Sprintf("seq 1..%d missing: this gateway stored them", head.Seq)
			if head.Seq == 0 && spooled > 0 {
				// Proofs wait in the spool, so nothing is acknowledged; the
				// chain may be all there. Unless it holds fewer entries than
				// the chain has records: the store took the others, and lost
				// them.
				if head = s.durableHead(); head.Seq <= uint64(spooled) {
					out = append(out, chainReport{Store: as.name, OK: true, Spooled: spooled, Report: proof.Report{Chain: s.chainID}})
					continue
				}
				missing = fmt.Sprintf("seq 1..%d: this gateway wrote them, at most %d wait in its spool", head.Seq, spooled)
			}
			if head.Seq == 0 {
				continue
			}
			out = append(out, chainReport{Store: as.name, Spooled: spooled, Report: proof.Report{
				Chain:    s.chainID,
				Counts:   map[proof.ProblemKind]int{proof.Gap: 1},
				Problems: []proof.Problem{{Kind: proof.Gap, Seq: 1, Detail: missing + ", but the store lists no such chain (did it lose its data?)"}},
			}})
		}
	}
	return out
}

// noteCutShort adds to a report that the store ends at seq end, before
// seq written, which this gateway stored: the walk cannot see that, as
// nothing after the end names the missing records.
func noteCutShort(rep *proof.Report, end, written uint64) {
	if rep.Counts == nil {
		rep.Counts = map[proof.ProblemKind]int{}
	}
	rep.Counts[proof.Truncated]++
	p := proof.Problem{Kind: proof.Truncated, Seq: end + 1, Detail: fmt.Sprintf(
		"seq %d..%d missing: this gateway stored them (its chain head names seq %d), but the store ends at seq %d (an older copy of it restored, or a store that lost data?)",
		end+1, written, written, end)}
	// Problems are in kind order; of the kinds, only bad checkpoints come after.
	i := slices.IndexFunc(rep.Problems, func(q proof.Problem) bool { return q.Kind == proof.BadCheckpoint })
	if i < 0 {
		i = len(rep.Problems)
	}
	rep.Problems = slices.Insert(rep.Problems, i, p)
}

// requireChain is a 404 when a chain is asked for and no store has it, so
// that a mistyped id is not taken for an empty one.
func requireChain(r *http.Request, stores []*auditStore, want string) error {
	if want == "" {
		return nil
	}
	found := false
	err := eachChain(r, stores, want, func(*auditStore, string) error { found = true; return nil })
	if err == nil && !found {
		err = noChain(want, stores)
	}
	return err
}

func noChain(want string, stores []*auditStore) error {
	return apiError(http.StatusNotFound, "no chain %q in %s", want, storeNames(stores))
}

// eachChain calls fn for every chain of every store, or only for the chain
// want names; a store's error is answered as the store's.
func eachChain(r *http.Request, stores []*auditStore, want string, fn func(as *auditStore, chain string) error) error {
	for _, as := range stores {
		chains, err := as.store.Chains(r.Context())
		if err != nil {
			return storeError(as, err)
		}
		for _, c := range chains {
			if want != "" && c != want {
				continue
			}
			if err := fn(as, c); err != nil {
				return storeError(as, err)
			}
		}
	}
	return nil
}

// serveShow returns the records of one consent id, in every store asked,
// a record at a time. It is a POST so that the id can come in the body (see
// consentIDParam).
func (a *AdminAPI) serveShow(w http.ResponseWriter, r *http.Request, stores []*auditStore) error {
	id, err := consentIDParam(r)
	if err != nil {
		return err
	}
	out := &recordStream{w: w, consentID: id}
	for _, as := range stores {
		if err := as.store.EachOfConsent(r.Context(), id, out.add); err != nil {
			if out.records > 0 { // what went out is personal data handed out
				a.logger.Error("consent records shown in part", append(who(r), zap.Int("records", out.records), zap.Error(err))...)
			}
			out.abortIfStarted()
			return storeError(as, err)
		}
	}
	// A look-up hands out personal data, so it is logged like an export;
	// without the consent id, as for erasures.
	a.logger.Info("consent records shown", append(who(r), zap.Int("records", out.records))...)
	if out.records == 0 {
		return notFound(w, "no records of this consent id (never given, expired or erased)")
	}
	return out.close()
}

// eraseAnswer is the answer of /consent/erase.
type eraseAnswer struct {
	ConsentID string `json:"consent_id"`
	Erased    int    `json:"erased"`
}

// serveErase replaces every record of a consent id with its tombstone.
func (a *AdminAPI) serveErase(w http.ResponseWriter, r *http.Request, stores []*auditStore) error {
	id, err := consentIDParam(r)
	if err != nil {
		return err
	}
	ans := eraseAnswer{ConsentID: id}
	for _, as := range stores {
		// Receipts go to this instance's chain in the store, whichever
		// chains hold the records.
		n, err := as.store.Erase(context.WithoutCancel(r.Context()), id, as.sinks[0].erasure())
		ans.Erased += n
		if err != nil {
			return storeError(as, err)
		}
	}
	// The consent id is not logged: after erasure nothing should tie the
	// pseudonym to the request.
	a.logger.Info("consent records erased on request", append(who(r), zap.Int("records", ans.Erased))...)
	if ans.Erased == 0 {
		return notFound(w, "no records of this consent id (never given, expired or already erased)")
	}
	return writeJSON(w, ans)
}

// checkpointAnswer is the answer of /consent/checkpoint.
type checkpointAnswer struct {
	Checkpoints []checkpointResult `json:"checkpoints"`
}

type checkpointResult struct {
	Store string `json:"store"`
	Chain string `json:"chain"`
	// Seq, Head, Time and KeyID are those of the checkpoint written, or of
	// the existing one.
	Seq   uint64 `json:"seq,omitempty"`
	Head  string `json:"head,omitempty"`
	Time  string `json:"time,omitempty"`
	KeyID string `json:"key_id,omitempty"`
	// Existing: the chain has no record since a checkpoint signed before
	// (at Time), so none was signed now; that one is answered.
	Existing bool `json:"existing,omitempty"`
	// Skipped says why no checkpoint was written (an empty chain).
	Skipped string `json:"skipped,omitempty"`
}

// serveCheckpoint signs and stores a checkpoint of every chain this
// instance writes, now: of each chain that has records since its last
// checkpoint (the others' is answered as existing).
func (a *AdminAPI) serveCheckpoint(w http.ResponseWriter, r *http.Request, stores []*auditStore) error {
	ans := checkpointAnswer{Checkpoints: []checkpointResult{}}
	for _, as := range stores {
		for _, s := range as.sinks {
			res := checkpointResult{Store: as.name, Chain: s.chainID}
			if err := s.ensureChain(r.Context()); err != nil {
				return storeError(as, err)
			}
			cp, signed, err := s.checkpoint(r.Context())
			if err != nil {
				return storeError(as, err)
			}
			if cp.Seq == 0 {
				res.Skipped = "the chain has no records yet"
			} else {
				res.Seq, res.Head, res.KeyID, res.Existing = cp.Seq, cp.Head, cp.KeyID, !signed
				res.Time = time.UnixMilli(cp.Time).UTC().Format(time.RFC3339Nano)
			}
			ans.Checkpoints = append(ans.Checkpoints, res)
		}
	}
	a.logger.Info("consent checkpoints written on request", append(who(r), zap.Int("chains", len(ans.Checkpoints)))...)
	return writeJSON(w, ans)
}

// auditFilter is the record selection of export, stats and dashboard.
type auditFilter struct {
	store.Query
	raw url.Values // as given, for the log

}

// parseFilter reads since, until, site, purpose and chain.
func parseFilter(r *http.Request) (auditFilter, error) {
	q := r.URL.Query()
	f := auditFilter{raw: q}
	var err error
	if f.Since, err = parseTimeParam("since", q.Get("since"), false); err != nil {
		return f, err
	}
	if f.Until, err = parseTimeParam("until", q.Get("until"), true); err != nil {
		return f, err
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Since.Before(f.Until) {
		// The times as given: a date as until stands for the day's end.
		return f, apiError(http.StatusBadRequest, "since %s must be before until %s", q.Get("since"), q.Get("until"))
	}
	f.Site = strings.ToLower(q.Get("site"))
	f.Purpose = q.Get("purpose")
	f.Chain = q.Get("chain")
	if f.Chain != "" && !proof.ValidChainID(f.Chain) {
		return f, apiError(http.StatusBadRequest, "chain %q: use 1 to 64 of A-Z a-z 0-9 . _ -", f.Chain)
	}
	return f, nil
}

// fields lists the filter for logs.
func (f auditFilter) fields() []zap.Field {
	var fs []zap.Field
	for _, k := range []string{"since", "until", "site", "purpose", "chain", "store"} {
		if v := f.raw.Get(k); v != "" {
			fs = append(fs, zap.String(k, v))
		}
	}
	return fs
}

// parseTimeParam takes RFC 3339 or a UTC date. A date given as the end of
// a range includes that whole day (until is exclusive).
func parseTimeParam(name, v string, end bool) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		if end {
			t = t.AddDate(0, 0, 1)
		}
		return t, nil
	}
	return time.Time{}, apiError(http.StatusBadRequest, "%s %q: give RFC 3339 (2025-01-31T12:00:00Z) or a date (2025-01-31)", name, v)
}

// consentIDParam takes the consent id from the body, JSON {"id": "…"} or
// a form with id=…, which keeps it out of Caddy's admin request log (that
// logs the URI), or from ?id=.
func consentIDParam(r *http.Request) (string, error) {
	if id := r.URL.Query().Get("id"); id != "" {
		return checkConsentID(id, "")
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, 4<<10))
	if err != nil {
		return "", apiError(http.StatusBadRequest, "reading the body: %v", err)
	}
	var id string
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	// curl -d sends a form type whatever the body: a body that is a JSON
	// object is read as one.
	if mt == "application/json" || bytes.HasPrefix(bytes.TrimSpace(body), []byte("{")) {
		var in struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(body, &in); err != nil {
			return "", apiError(http.StatusBadRequest, "malformed JSON body: %v", err)
		}
		id = in.ID
	} else if len(body) > 0 {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return "", apiError(http.StatusBadRequest, "malformed form body: %v", err)
		}
		id = form.Get("id")
	}
	return checkConsentID(id, `give the consent id as {"id": …} in a JSON body, id=… in a form body, or ?id=`)
}

func checkConsentID(id, missing string) (string, error) {
	if id == "" {
		return "", apiError(http.StatusBadRequest, "%s", missing)
	}
	if len(id) > 128 || strings.ContainsAny(id, "\x00\n\r") {
		return "", apiError(http.StatusBadRequest, "malformed consent id")
	}
	return id, nil
}

// who says who asked, for the audit log: the remote address and, on
// Caddy's remote (mutual TLS) admin endpoint, the client certificate.
func who(r *http.Request) []zap.Field {
	fs := []zap.Field{zap.String("remote", r.RemoteAddr)}
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		fs = append(fs, zap.String("client", r.TLS.PeerCertificates[0].Subject.String()))
	}
	return fs
}

func storeNames(stores []*auditStore) string {
	names := make([]string, len(stores))
	for i, s := range stores {
		names[i] = s.name
	}
	return strings.Join(names, ", ")
}

// notFound answers a look-up that found nothing, which is an answer, not
// a failure: Caddy would log an API error at error level.
func notFound(w http.ResponseWriter, msg string) error {
	return writeError(w, http.StatusNotFound, msg)
}

func apiError(status int, format string, args ...any) error {
	return caddy.APIError{HTTPStatus: status, Err: fmt.Errorf(format, args...)}
}

// storeError reports a store that cannot be read; a closed store is one a
// config reload just dropped.
func storeError(as *auditStore, err error) error {
	status := http.StatusServiceUnavailable
	if errors.Is(err, context.Canceled) {
		status = http.StatusRequestTimeout
	}
	return caddy.APIError{HTTPStatus: status, Err: fmt.Errorf("store %s: %w", as.name, err)}
}

// Interface guards
var (
	_ caddy.Provisioner = (*AdminAPI)(nil)
	_ caddy.AdminRouter = (*AdminAPI)(nil)
)

// peerMayAudit tells whether a request may read audit data: it came through
// Caddy's remote admin (a verified client certificate), over a unix socket
// (its file permissions decide), or from this machine's loopback. Anything
// else reached a plain admin endpoint the operator opened to the network,
// where Caddy itself asks nobody who they are.
func peerMayAudit(r *http.Request) bool {
	if r.TLS != nil && len(r.TLS.VerifiedChains) > 0 {
		return true
	}
	if local, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok && local.Network() == "unix" {
		return true
	}
	addr, err := netip.ParseAddrPort(r.RemoteAddr)
	return err == nil && addr.Addr().Unmap().IsLoopback()
}
