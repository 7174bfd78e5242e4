package caddymodule

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/consentgate/consentgate/banner"
	"github.com/consentgate/consentgate/consent/catalog"
	"github.com/consentgate/consentgate/consent/cookie"
	"github.com/consentgate/consentgate/consent/proof"
)

const (
	gpcPath = "/.well-known/gpc.json"
	// maxChoiceBody bounds a choice post; a real one is a few hundred bytes.
	maxChoiceBody = 16 << 10
	// bodyReadTimeout bounds the time to receive a choice or a CSP report
	// body. Caddy's idle timeouts restart with every byte, so without it a
	// client sending a byte now and then holds the request for hours.
	bodyReadTimeout = 10 * time.Second
)

// serveEndpoint serves everything under the consent prefix; name is the
// path after it.
func (h *Handler) serveEndpoint(w http.ResponseWriter, r *http.Request, name string) error {
	switch name {
	case "state":
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			closeIfBodyUnread(w, r)
			return writeError(w, http.StatusMethodNotAllowed, "use GET")
		}
		return h.serveState(w, h.visit(r))
	case "choice":
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST")
			closeIfBodyUnread(w, r)
			return writeError(w, http.StatusMethodNotAllowed, "use POST")
		}
		return h.serveChoice(w, r)
	case "proofs":
		return h.serveOwnProofs(w, r)
	case cspReportPath:
		// Only a gateway that sends a policy asks for reports; without one,
		// anyone's posts would only fill the log.
		if h.CSP != "" {
			return h.serveCSPReport(w, r)
		}
	}
	if a, ok := h.assets.Lookup(name); ok && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		serveAsset(w, r, a)
		return nil
	}
	closeIfBodyUnread(w, r)
	return writeError(w, http.StatusNotFound, "no such consent endpoint")
}

// closeIfBodyUnread ends an HTTP/1 connection after an answer that leaves
// the request's body unread: net/http would otherwise read the rest of it
// before answering, for as long as a client trickling it takes. (HTTP/2
// answers a stream without reading it, and a "close" there would end the
// visitor's whole connection.)
func closeIfBodyUnread(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength != 0 && r.ProtoMajor == 1 {
		w.Header().Set("Connection", "close")
	}
}

func (h *Handler) serveState(w http.ResponseWriter, v visit) error {
	body := banner.AppendState(nil, h.state(v))
	hdr := w.Header()
	hdr.Set("Content-Type", "application/json")
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("Content-Length", strconv.Itoa(len(body)))
	_, err := w.Write(body)
	return err
}

// choice is a validated decision from the choice endpoint.
type choice struct {
	purposes []string
	vendors  []string
	how      how
	ret      string // form posts: where to send the visitor back
	form     bool
}

// serveChoice records a visitor's choice in the consent cookie. It takes
// JSON ({"all":true}, {"purposes":{...},"vendors":{...}}) or a plain HTML
// form (action=accept_all|reject_all|save, purpose=..., return=/path).
func (h *Handler) serveChoice(w http.ResponseWriter, r *http.Request) error {
	if err := checkSameOrigin(r); err != nil {
		return writeError(w, http.StatusForbidden, err.Error())
	}
	limitBodyTime(w)
	r.Body = http.MaxBytesReader(w, r.Body, maxChoiceBody)
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var c choice
	var err error
	switch mt {
	case "application/json":
		c, err = h.parseJSONChoice(r.Body)
	case "application/x-www-form-urlencoded":
		c, err = h.parseFormChoice(r)
	default:
		return writeError(w, http.StatusUnsupportedMediaType, "send application/json or a form")
	}
	if err != nil {
		return writeError(w, bodyStatus(err, http.StatusBadRequest), bodyMessage(err))
	}
	if c.how.Page == "" {
		c.how.Page = refererPath(r)
	}
	prev := h.previousConsent(r)
	// A site that asks about nothing has no choice to record; only a
	// visitor who chose under an earlier policy may still withdraw that.
	if !h.policy.AsksAnything() && (c.how.Action != proof.ActionWithdraw || prev.ID == "") {
		return writeError(w, http.StatusConflict, "this site asks for no consent, so there is nothing to choose")
	}
	signal := signalSent(r)
	consent := cookie.Consent{
		ID:          prev.ID,
		Version:     h.policy.Version,
		Purposes:    c.purposes,
		Vendors:     c.vendors,
		Time:        time.Now().Unix(),
		UnderSignal: signal,
	}
	if consent.ID == "" {
		consent.ID = cookie.NewID()
	}
	lang := h.locales.Pick(r.Header.Get("Accept-Language"))
	decision := h.policy.Decide(choiceOf(consent), signal)
	consent, err = h.commit(w, r, c, prev, consent, decision, signal, lang)
	switch {
	case errors.Is(err, errNotRecorded):
		h.logger.Error("recording a consent proof failed; the choice was not applied", zap.Error(err))
		return writeError(w, http.StatusServiceUnavailable, "your choice could not be recorded, so nothing was changed; please try again")
	case err != nil:
		return writeError(w, http.StatusBadRequest, "this choice cannot be stored in a cookie: "+err.Error())
	}
	h.expireVendorCookies(w, r, decision)
	if c.form {
		http.Redirect(w, r, c.ret, http.StatusSeeOther)
		return nil
	}
	v := visit{consent: consent, lang: lang, decision: decision}
	return h.serveState(w, v)
}

// limitBodyTime gives the client bodyReadTimeout from now to send the
// request body. Caddy's idle timeouts stay in force; this only tightens them.
func limitBodyTime(w http.ResponseWriter) {
	// An error means this writer takes no deadlines (a handler test's
	// recorder); there is no connection to hold then.
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(bodyReadTimeout))
}

// bodyStatus is the status for an error met reading a request body: too
// large, too slow, or else the given one.
func bodyStatus(err error, otherwise int) int {
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, os.ErrDeadlineExceeded):
		return http.StatusRequestTimeout
	}
	return otherwise
}

// bodyMessage says what went wrong with a request body without naming the
// sockets a network error names (they would tell the gateway's addresses
// behind a proxy).
func bodyMessage(err error) string {
	var netErr *net.OpError
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		return "the body did not arrive in time"
	case errors.As(err, &netErr):
		return "the body could not be read"
	}
	return err.Error()
}

// previousConsent is the choice this browser made before, whatever its
// age or policy version: a new choice continues its consent id and
// supersedes its proof.
func (h *Handler) previousConsent(r *http.Request) cookie.Consent {
	c, _ := h.decodeConsent(r)
	return c
}

// refererPath is the path of the page a choice was made on, when the
// browser says and it is this site.
func refererPath(r *http.Request) string {
	u, err := url.Parse(r.Referer())
	if err != nil || !strings.EqualFold(u.Host, r.Host) {
		return ""
	}
	// As the browser wrote it, percent-encoded: the form the banner's page
	// (location.pathname) and the no-JavaScript form's return path have, so
	// that one page is one path in the records.
	if p := u.EscapedPath(); len(p) <= maxPagePath {
		return p
	}
	return ""
}

// bodyBuffers hold choice bodies while they are decoded (bounded by
// maxChoiceBody).
var bodyBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

type jsonChoice struct {
	All      *bool           `json:"all"`
	Withdraw bool            `json:"withdraw"`
	Purposes map[string]bool `json:"purposes"`
	Vendors  map[string]bool `json:"vendors"`
	how
}

func (h *Handler) parseJSONChoice(body io.Reader) (choice, error) {
	// Read it all: the size limit covers the whole body, not only the
	// first JSON value in it. Decoding copies what it keeps, so the buffer
	// goes back to the pool.
	buf := bodyBuffers.Get().(*bytes.Buffer)
	defer bodyBuffers.Put(buf)
	buf.Reset()
	if _, err := buf.ReadFrom(body); err != nil {
		return choice{}, err
	}
	in, err := decodeChoice(buf.Bytes())
	if err != nil {
		return choice{}, err
	}
	if err := in.how.validate(); err != nil {
		return choice{}, err
	}
	forms := 0
	for _, given := range []bool{in.All != nil, in.Withdraw, in.Purposes != nil || in.Vendors != nil} {
		if given {
			forms++
		}
	}
	switch {
	case forms > 1:
		return choice{}, errors.New(`give one of "all", "withdraw" or "purposes"/"vendors"`)
	case forms == 0:
		return choice{}, errors.New(`a choice needs "all", "withdraw" or "purposes"`)
	case !actionFits(in):
		return choice{}, fmt.Errorf("action %q does not match the choice", in.how.Action)
	// The banner always names its layer; a post that names none came from
	// a script (the site's own, or curl), and its proof says so rather than
	// claim a click in the banner.
	case in.Withdraw:
		return withHow(choice{}, in.how, proof.LayerAPI, proof.ActionWithdraw), nil
	case in.All != nil && *in.All:
		return withHow(h.allOrNothing(true), in.how, proof.LayerAPI, proof.ActionAcceptAll), nil
	case in.All != nil:
		return withHow(choice{}, in.how, proof.LayerAPI, proof.ActionRejectAll), nil
	}
	c := withHow(choice{}, in.how, proof.LayerAPI, proof.ActionSaveSelection)
	for id, granted := range in.Purposes {
		if _, ok := h.policy.Purpose(id); !ok {
			return choice{}, fmt.Errorf("unknown purpose %q", id)
		}
		if granted {
			c.purposes = append(c.purposes, id)
		}
	}
	for id, allowed := range in.Vendors {
		if _, ok := h.policy.Vendor(id); !ok {
			return choice{}, fmt.Errorf("unknown vendor %q", id)
		}
		if allowed {
			c.vendors = append(c.vendors, id)
		}
	}
	c.purposes = h.inPolicyOrder(c.purposes)
	return c, nil
}

func (h *Handler) parseFormChoice(r *http.Request) (choice, error) {
	if err := r.ParseForm(); err != nil {
		return choice{}, fmt.Errorf("malformed form: %w", err)
	}
	f := r.PostForm
	for _, once := range []string{"action", "return"} {
		if len(f[once]) > 1 {
			return choice{}, fmt.Errorf("%q given twice", once)
		}
	}
	ret, err := sameOriginPath(f.Get("return"))
	if err != nil {
		return choice{}, err
	}
	var c choice
	switch action := f.Get("action"); action {
	case "accept_all":
		c = withHow(h.allOrNothing(true), how{}, proof.LayerFirst, proof.ActionAcceptAll)
	case "reject_all":
		c = withHow(choice{}, how{}, proof.LayerFirst, proof.ActionRejectAll)
	case "withdraw":
		c = withHow(choice{}, how{}, proof.LayerWithdraw, proof.ActionWithdraw)
	case "save":
		c = withHow(choice{}, how{}, proof.LayerSecond, proof.ActionSaveSelection)
		for _, id := range f["purpose"] {
			if _, ok := h.policy.Purpose(id); !ok {
				return choice{}, fmt.Errorf("unknown purpose %q", id)
			}
			c.purposes = append(c.purposes, id)
		}
		for _, id := range f["vendor"] {
			if _, ok := h.policy.Vendor(id); !ok {
				return choice{}, fmt.Errorf("unknown vendor %q", id)
			}
			if !slices.Contains(c.vendors, id) {
				c.vendors = append(c.vendors, id)
			}
		}
		c.purposes = h.inPolicyOrder(c.purposes)
	default:
		return choice{}, fmt.Errorf("unknown action %q (accept_all, reject_all or save)", action)
	}
	c.form, c.ret = true, ret
	c.how.Control = "form"
	c.how.Page, _, _ = strings.Cut(ret, "?")
	return c, nil
}

// actionFits reports whether the action a browser claims agrees with what
// the choice does, so a proof never records a withdrawal that granted
// everything.
func actionFits(in jsonChoice) bool {
	switch a := in.how.Action; {
	case a == "":
		return true
	case in.Withdraw:
		return a == proof.ActionWithdraw
	case in.All != nil && *in.All:
		return a == proof.ActionAcceptAll
	case in.All != nil:
		return a == proof.ActionRejectAll
	default:
		return a == proof.ActionSaveSelection || a == proof.ActionLoadEmbed
	}
}

// withHow fills in how a choice was made: what the browser said, else the
// defaults for the kind of choice.
func withHow(c choice, given how, layer, action string) choice {
	c.how = given
	if c.how.Layer == "" {
		c.how.Layer = layer
	}
	if c.how.Action == "" || action == proof.ActionWithdraw {
		c.how.Action = action
	}
	return c
}

// allOrNothing grants every purpose, or none but necessary.
func (h *Handler) allOrNothing(all bool) choice {
	if !all {
		return choice{}
	}
	var c choice
	for _, p := range h.policy.Purposes {
		c.purposes = append(c.purposes, p.ID)
	}
	return c
}

// inPolicyOrder sorts ids by policy order and drops duplicates, so the same
// choice always makes the same cookie.
func (h *Handler) inPolicyOrder(ids []string) []string {
	want := make(map[string]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	var out []string
	for _, p := range h.policy.Purposes {
		if want[p.ID] {
			out = append(out, p.ID)
		}
	}
	return out
}

// checkSameOrigin refuses cross-site posts (CSRF): browsers send
// Sec-Fetch-Site and Origin on POST, and a cross-site form cannot forge them.
func checkSameOrigin(r *http.Request) error {
	switch site := r.Header.Get("Sec-Fetch-Site"); site {
	case "", "same-origin", "none":
	default:
		return fmt.Errorf("cross-site request refused (Sec-Fetch-Site: %s)", site)
	}
	if origin := r.Header.Get("Origin"); origin != "" {
		u, err := url.Parse(origin)
		if err != nil || u.Host == "" || !strings.EqualFold(u.Host, r.Host) {
			return errors.New("cross-origin request refused")
		}
	}
	return nil
}

// sameOriginPath accepts only a local absolute path for return=, so the
// endpoint can never redirect a visitor off-site.
func sameOriginPath(s string) (string, error) {
	if s == "" {
		return "/", nil
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !strings.HasPrefix(s, "/") ||
		strings.HasPrefix(s, "//") || strings.ContainsAny(s, "\\\r\n\t") {
		return "", fmt.Errorf("return must be a path on this site, got %q", s)
	}
	// Re-encoding may decode "/%2F..." into "//...", which browsers read
	// as another host: check what is actually sent.
	if ret := u.RequestURI(); !strings.HasPrefix(ret, "//") && !strings.HasPrefix(u.Path, "//") {
		return ret, nil
	}
	return "", fmt.Errorf("return must be a path on this site, got %q", s)
}

// setConsentCookie sets the consent cookie, value encoded by
// encodeConsent, under the name this request sets it under.
func (h *Handler) setConsentCookie(w http.ResponseWriter, r *http.Request, c cookie.Consent, value string) {
	lifetime := h.lifetime(c)
	h.expireStrayConsentCookies(w, r)
	name, _ := h.consentCookieNames(r)
	http.SetCookie(w, &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     "/",
		Domain:   h.consentCookieDomain(r),
		MaxAge:   int((lifetime + cookieGrace) / time.Second),
		Secure:   h.secureCookies(r),
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
	})
}

// consentCookieDomain is the Domain of the consent cookie for this request:
// cookie_domain when the host is in it, else none (host only), since a
// browser drops a cookie for a domain its host is not in, and its visitors
// would be asked on every page, a new proof for each answer. A host
// outside cookie_domain is a configuration mistake (or a site served under
// two domains); it is logged once.
func (h *Handler) consentCookieDomain(r *http.Request) string {
	if h.CookieDomain == "" {
		return ""
	}
	host, domain := siteOf(r), strings.TrimPrefix(h.CookieDomain, ".") // (lower case, as checkCookieDomain asks)
	if host == domain || strings.HasSuffix(host, "."+domain) {
		return h.CookieDomain
	}
	h.foreign.Do(func() {
		h.logger.Warn("a request's host is outside cookie_domain, where browsers refuse the consent cookie; it is set for the host alone: check cookie_domain",
			zap.String("host", host), zap.String("cookie_domain", h.CookieDomain))
	})
	return ""
}

// ownCookies are the cookies the gateway itself sets, as the second layer
// lists them: the consent cookie, under the name given, with the longest
// life it can have. A site that asks about nothing never sets it (there is
// no choice to keep).
func (h *Handler) ownCookies(name string) []catalog.Cookie {
	if !h.policy.AsksAnything() {
		return nil
	}
	return []catalog.Cookie{{
		Name:     name,
		Lifetime: catalogLifetime(max(h.renew, h.renewRefus) + cookieGrace),
		HTTPOnly: true,
	}}
}

// catalogLifetime writes d as the catalogue does: "210d", "12h", "30min".
func catalogLifetime(d time.Duration) string {
	switch {
	case d%(24*time.Hour) == 0:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	}
	return fmt.Sprintf("%dmin", (d+time.Minute-1)/time.Minute)
}

// secureCookies reports whether the cookies the gateway sets or expires on
// this request are marked Secure (cookie_secure): one rule for all of them.
func (h *Handler) secureCookies(r *http.Request) bool {
	return h.CookieSecure == cookieSecureAlways || viaHTTPS(r)
}

// Values of cookie_secure.
const (
	cookieSecureAuto   = "auto"
	cookieSecureAlways = "always"
)

func checkCookieSecure(v string) error {
	switch v {
	case "", cookieSecureAuto, cookieSecureAlways:
		return nil
	}
	return fmt.Errorf("cookie_secure %q: use auto or always", v)
}

// viaHTTPS reports whether the visitor reached the site over HTTPS: this
// connection is TLS, or it comes from one of the server's trusted_proxies
// (which terminated TLS) and says so in X-Forwarded-Proto. From anyone
// else the header is ignored.
func viaHTTPS(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	if trusted, _ := caddyhttp.GetVar(r.Context(), caddyhttp.TrustedProxyVarKey).(bool); !trusted {
		return false
	}
	proto, _, _ := strings.Cut(r.Header.Get("X-Forwarded-Proto"), ",")
	return strings.EqualFold(strings.TrimSpace(proto), "https")
}

func serveAsset(w http.ResponseWriter, r *http.Request, a banner.Asset) {
	hdr := w.Header()
	hdr.Set("Content-Type", a.ContentType)
	hdr.Set("Cache-Control", "public, max-age=31536000, immutable")
	hdr.Set("Etag", a.ETag)
	hdr.Set("X-Content-Type-Options", "nosniff")
	if r.Header.Get("If-None-Match") == a.ETag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	hdr.Set("Content-Length", strconv.Itoa(len(a.Body)))
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(a.Body)
}

// serveGPC publishes the site's support for Global Privacy Control.
func serveGPC(w http.ResponseWriter) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	_, err := io.WriteString(w, `{"gpc":true,"lastUpdate":"2026-11-22"}`)
	return err
}

func writeError(w http.ResponseWriter, status int, msg string) error {
	body, _ := json.Marshal(map[string]string{"error": msg})
	hdr := w.Header()
	hdr.Set("Content-Type", "application/json")
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, err := w.Write(body)
	return err
}
