package caddymodule

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/consentgate/consentgate/banner"
	"github.com/consentgate/consentgate/consent/cookie"
	"github.com/consentgate/consentgate/consent/policy"
)

// ServeHTTP serves the consent endpoints and wraps every other response so
// that its HTML is rewritten for the visitor's consent.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	path := askedURL(r).Path
	if strings.HasPrefix(path, h.Prefix) {
		return h.serveEndpoint(w, r, strings.TrimPrefix(path, h.Prefix))
	}
	if path == gpcPath {
		return serveGPC(w)
	}
	// Upgrades and tunnels carry no page; never wrap them. (An upstream that
	// answers an upgrade it does not speak with a page is kept out of
	// caches, which would give that page to navigations.)
	if upgrading(r) || r.Method == http.MethodConnect {
		defer hideCookie(r.Header, h.CookieName, h.hostCookie)()
		return next.ServeHTTP(unrewrittenWriter{&caddyhttp.ResponseWriterWrapper{ResponseWriter: w}}, r)
	}
	// A second consent handler on the way (the directive given twice)
	// steps aside: the page gets one shim, one banner and one form.
	earlier := caddyhttp.GetVar(r.Context(), consentVar)
	if earlier == consentTaken {
		h.twice.Do(func() {
			h.logger.Warn("a request passes two consent handlers (the directive is given twice for this site); the inner one does nothing")
		})
		return next.ServeHTTP(w, r)
	}
	caddyhttp.SetVar(r.Context(), consentVar, consentTaken)
	visit := h.visit(r)
	if h.holdWorker(w, r, path, visit.decision) {
		return nil
	}
	pw := h.newPageWriter(w, r, visit)
	defer pw.release()

	// For page navigations, ask upstream for an uncompressed body: Caddy's
	// proxy transport then negotiates gzip itself and hands us plain bytes,
	// and an outer `encode` compresses what we write.
	if pw.mayRewrite {
		if earlier == nil { // in the error routes, the site's handler has recorded them
			h.recordSignalDefault(w, r, &pw.visit)
			h.recordExpiry(w, r, &pw.visit)
		}
		if ae, ok := r.Header["Accept-Encoding"]; ok {
			delete(r.Header, "Accept-Encoding")
			defer func() { r.Header["Accept-Encoding"] = ae }()
		}
		// Nor a part of a page (a 206 would pass unrewritten): the whole
		// page is a valid answer to a Range request. Only where a page is
		// asked for: on plain HTTP a video's requests say no more than
		// "*/*", and must keep their ranges.
		if rg, ok := r.Header["Range"]; ok && (pw.dest == destDocument || strings.Contains(r.Header.Get("Accept"), "text/html")) {
			ir, hasIR := r.Header["If-Range"]
			delete(r.Header, "Range")
			delete(r.Header, "If-Range")
			defer func() {
				r.Header["Range"] = rg
				if hasIR {
					r.Header["If-Range"] = ir
				}
			}()
		}
		restore, ours := stripETagSuffix(r.Header, pw.visit.etagSuffix, pw.dest)
		pw.ownTag = ours
		defer restore()
	}
	// The consent cookie is the gateway's: the upstream neither needs it nor
	// should log it (it reads and erases the visitor's proofs).
	defer hideCookie(r.Header, h.CookieName, h.hostCookie)()
	// Runs before the deferred restores of the request's headers above: a
	// held flush's timer must be done before anything changes the request
	// (after a panic in next, too).
	defer pw.cancelHeld()
	if err := next.ServeHTTP(pw, r); err != nil {
		pw.abort()
		// The error routes (handle_errors) answer instead: a consent
		// handler there is not a second one on the way, and must act.
		caddyhttp.SetVar(r.Context(), consentVar, consentErrorRoutes)
		return err
	}
	if err := pw.finish(); err != nil {
		if !pw.streaming {
			return err
		}
		// Part of the page is out under its status: end the answer broken,
		// as reverse_proxy does, so that no browser or cache keeps what it
		// got as the whole page.
		if errors.As(err, new(errUnreadableBody)) {
			h.logger.Warn("page cut off: the upstream's compressed body does not decode", zap.Error(err), zapString("path", r.URL.Path))
		}
		panic(http.ErrAbortHandler)
	}
	return nil
}

// askedURL is the URL the browser asked for, before a rewrite on the way
// (try_files or rewrite to an app's index, handle_path's stripping): the
// consent endpoints are matched on its path, so that an app's catch-all
// cannot take them, and a form sends the visitor back to it.
func askedURL(r *http.Request) *url.URL {
	if orig, ok := r.Context().Value(caddyhttp.OriginalRequestCtxKey).(http.Request); ok && orig.URL != nil {
		return orig.URL
	}
	return r.URL
}

// consentVar marks a request a consent handler has taken
// (consentTaken), or one whose answer it left to the error routes after
// the handlers after it failed (consentErrorRoutes).
const (
	consentVar         = "consentgate.handled"
	consentTaken       = "taken"
	consentErrorRoutes = "error routes"
)

// visit is what one request's consent state decides.
type visit struct {
	decision   *policy.Decision
	consent    cookie.Consent // zero when the visitor has no valid cookie
	lang       string
	etagSuffix string
	// changedFrom is the policy version of an earlier choice that is no
	// longer valid because the policy changed: the banner says what did.
	changedFrom string
	// lapsed is a choice that ran out (older than its lifetime) and whose
	// expiry is not recorded yet (see recordExpiry).
	lapsed cookie.Consent
}

// visit reads the consent cookie and decides. A malformed, tampered, stale or
// expired cookie means "not decided yet", never an error.
func (h *Handler) visit(r *http.Request) visit {
	signal := signalSent(r)
	v := visit{lang: h.locales.Pick(r.Header.Get("Accept-Language"))}
	c, decoded := h.decodeConsent(r)
	current := time.Since(time.Unix(c.Time, 0)) <= h.lifetime(c)
	switch {
	case decoded && c.HoldsChoice() && c.Version == h.policy.Version && current:
		v.consent = c
		// Once a signal's default is recorded (gpc_default), it holds
		// until the visitor chooses again, signal or not: the record says
		// marketing is off, and nothing records it coming back.
		v.decision = h.policy.Decide(choiceOf(c), signal || c.SignalApplied)
	default:
		// A cookie that holds no choice records one that ran out: nothing
		// more to say about it.
		if decoded && c.HoldsChoice() {
			if c.Version != h.policy.Version {
				v.changedFrom = c.Version
			}
			if !current {
				v.lapsed = c
			}
		}
		v.decision = h.policy.Undecided(signal)
	}
	v.etagSuffix = etagSuffix(v, h.configTag)
	return v
}

// etagSuffix marks everything a rewritten page depends on besides its URL:
// the grants, whether the visitor decided (the banner and its form), the
// honoured signal, the "what changed" line, the configuration and build
// that rewrote it (configTag) and the language.
func etagSuffix(v visit, configTag string) string {
	var flags [3]byte
	n := 0
	if v.decision.Decided {
		flags[n] = 'd'
		n++
	}
	if v.decision.SignalHonoured {
		flags[n] = 's'
		n++
	}
	if v.changedFrom != "" {
		flags[n] = 'c'
		n++
	}
	return "-cg" + v.decision.Key() + string(flags[:n]) + "-" + configTag + "-" + v.lang
}

// decodeConsent decodes the consent cookie, whatever its age or policy
// version.
func (h *Handler) decodeConsent(r *http.Request) (cookie.Consent, bool) {
	// A browser can hold several: set before and after cookie_domain
	// changed, with another Path, or under both names (the plain one set
	// before the __Host- prefix, or by an instance that does not use it
	// yet). The newest decision counts, whatever order they arrive in; of
	// two made in the same second, the one that allows less.
	//
	// Where the cookie is set as __Host- (cookiename.go), a plain one
	// beside a __Host- one counts only to narrow it: newer, the same
	// consent id, granting nothing more (a withdrawal on an instance not
	// yet upgraded). A sibling subdomain can plant the plain name, and a
	// copy of someone's cookie minted where that name is still set (plain
	// HTTP, a site with cookie_domain and the same keys) would be newer.
	current, other := h.consentCookieNames(r)
	lines := r.Header["Cookie"]
	best, found := h.newestConsent(r, lines, current, cookie.Consent{}, false)
	if current != h.hostCookie || !found {
		return h.newestConsent(r, lines, other, best, found)
	}
	if plain, ok := h.newestConsent(r, lines, other, cookie.Consent{}, false); ok && plain.ID == best.ID &&
		plain.Time > best.Time && grantsWithin(plain, best) {
		return plain, true
	}
	return best, true
}

// newestConsent is the newest decision among best (if found) and the
// consent cookies called name (see decodeConsent).
func (h *Handler) newestConsent(r *http.Request, lines []string, name string, best cookie.Consent, found bool) (cookie.Consent, bool) {
	if !mentionsCookie(lines, []string{name}) {
		return best, found // (a quick look, so that most page views parse the header once)
	}
	codec := h.codecFor(name)
	for _, raw := range r.CookiesNamed(name) {
		c, err := codec.Decode(raw.Value)
		if err != nil {
			if ce := h.logger.Check(zap.DebugLevel, "ignoring consent cookie that does not decode"); ce != nil {
				ce.Write(zap.Error(err))
			}
			continue
		}
		if !found || c.Time > best.Time || c.Time == best.Time && allows(c) < allows(best) {
			best, found = c, true
		}
	}
	return best, found
}

// grantsWithin reports whether c grants no purpose or vendor that of does
// not.
func grantsWithin(c, of cookie.Consent) bool {
	for _, p := range c.Purposes {
		if !slices.Contains(of.Purposes, p) {
			return false
		}
	}
	for _, v := range c.Vendors {
		if !slices.Contains(of.Vendors, v) {
			return false
		}
	}
	return true
}

// allows counts what a consent grants beyond the strictly necessary.
func allows(c cookie.Consent) int { return len(c.Purposes) + len(c.Vendors) }

// state is the banner's view of a visit.
func (h *Handler) state(v visit) banner.State {
	s := banner.State{
		Decided:       v.decision.Decided,
		PolicyVersion: h.policy.Version,
		Signal:        v.decision.SignalHonoured,
		Purposes:      make([]banner.PurposeState, len(h.policy.Purposes)),
		Vendors:       v.decision.VendorIDs(),
	}
	for i, p := range h.policy.Purposes {
		s.Purposes[i] = banner.PurposeState{ID: p.ID, Granted: v.decision.Granted(p.ID)}
	}
	if v.changedFrom != "" {
		s.Changed = h.history.changed(v.changedFrom, v.lang, h.locales.Texts(v.lang))
	}
	return s
}

// hookPool recycles the per-request hook buffers.
var hookPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

func choiceOf(c cookie.Consent) policy.Choice {
	return policy.Choice{Purposes: c.Purposes, Vendors: c.Vendors, UnderSignal: c.UnderSignal}
}

// grantsAnything reports whether a choice grants more than the necessary.
func grantsAnything(c cookie.Consent) bool {
	if len(c.Vendors) > 0 {
		return true
	}
	for _, p := range c.Purposes {
		if p != policy.Necessary {
			return true
		}
	}
	return false
}

// lifetime is how long a choice stays valid: a refusal and a consent have
// their own.
func (h *Handler) lifetime(c cookie.Consent) time.Duration {
	if grantsAnything(c) {
		return h.renew
	}
	return h.renewRefus
}
