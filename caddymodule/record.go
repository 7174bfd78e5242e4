package caddymodule

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"regexp"
	"runtime/debug"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/consentgate/consentgate/consent/cookie"
	"github.com/consentgate/consentgate/consent/policy"
	"github.com/consentgate/consentgate/consent/proof"
)

// softwareVersion names this build in every proof; buildID tells builds
// apart (for ETags): the version, and for a build from a checkout, the
// commit and whether it had changes.
var softwareVersion, buildID = func() (version, id string) {
	v := "(devel)"
	bi, ok := debug.ReadBuildInfo()
	if ok {
		for _, m := range bi.Deps {
			if m.Path == "github.com/consentgate/consentgate" && m.Version != "" {
				v = m.Version
			}
		}
		if bi.Main.Path == "github.com/consentgate/consentgate" && bi.Main.Version != "" {
			v = bi.Main.Version
		}
	}
	version = "consentgate " + v
	id = version
	if ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" || s.Key == "vcs.modified" {
				id += " " + s.Value
			}
		}
	}
	return version, id
}()

// how says where and how a choice was made; the banner sends it, forms and
// bare API calls get defaults from their action.
type how struct {
	Layer   string `json:"layer"`
	Action  string `json:"action"`
	Control string `json:"control"`
	Page    string `json:"page"`
}

var (
	knownLayers = map[string]bool{proof.LayerFirst: true, proof.LayerSecond: true, proof.LayerPlaceholder: true,
		proof.LayerWithdraw: true, proof.LayerAPI: true}
	knownActions = map[string]bool{proof.ActionAcceptAll: true, proof.ActionRejectAll: true,
		proof.ActionSaveSelection: true, proof.ActionWithdraw: true, proof.ActionLoadEmbed: true}
	controlPattern = regexp.MustCompile(`^[A-Za-z0-9_.:-]{0,64}$`)
)

// maxPagePath bounds the page path a proof keeps for years.
const maxPagePath = 2048

// validate checks what the visitor's browser claims about the choice.
func (hw how) validate() error {
	switch {
	case hw.Layer != "" && !knownLayers[hw.Layer]:
		return fmt.Errorf("unknown layer %q", hw.Layer)
	case hw.Action != "" && !knownActions[hw.Action]:
		return fmt.Errorf("unknown action %q", hw.Action)
	case !controlPattern.MatchString(hw.Control):
		return fmt.Errorf("control must be at most 64 of A-Z a-z 0-9 _ . : -")
	case len(hw.Page) > maxPagePath || hw.Page != "" && !strings.HasPrefix(hw.Page, "/"):
		return fmt.Errorf("page must be a path on this site")
	}
	return nil
}

// proofOf builds the proof of a choice that replaces prev (zero if none);
// d is the decision the new choice makes.
func (h *Handler) proofOf(r *http.Request, c choice, next, prev cookie.Consent, d *policy.Decision, signal bool, lang string) proof.Record {
	typ := proof.Given
	switch {
	case c.how.Action == proof.ActionWithdraw:
		typ = proof.Withdrawn
	case c.how.Layer == proof.LayerPlaceholder && c.how.Action == proof.ActionLoadEmbed:
		typ = proof.PlaceholderAccept
	case c.how.Layer == proof.LayerAutomatic && c.how.Action == proof.ActionSignal:
		typ = proof.GPCDefault
	case c.how.Layer == proof.LayerAutomatic && c.how.Action == proof.ActionExpire:
		typ = proof.Expired
	case prev.ID != "":
		typ = proof.Updated
	case !grantsAnything(next):
		typ = proof.Refused
	}
	expires := time.Unix(next.Time, 0).Add(h.lifetime(next))
	if typ == proof.Expired {
		// When the choice it records ran out, which is before its time.
		expires = time.Unix(prev.Time, 0).Add(h.lifetime(prev))
	}
	name, _ := h.consentCookieNames(r) // the banner shown names the cookie
	rec := proof.Record{
		Type:       typ,
		Supersedes: prev.Event,
		ConsentID:  next.ID,
		ExpiresAt:  expires.UnixMilli(),
		Site:       strings.TrimSuffix(siteOf(r), "."), // shop.example.com. is shop.example.com
		Path:       escapeControls(proof.CleanPath(c.how.Page)),
		Policy:     proof.Policy{Version: h.policy.Version, Hash: h.policy.Hash},
		Texts:      proof.Texts{Hash: h.textsHash[name][lang], Lang: lang},
		How:        proof.How{Layer: c.how.Layer, Action: c.how.Action, Control: c.how.Control},
		Purposes:   d.Purposes(),
		Signals: proof.Signals{
			GPC:    r.Header.Get("Sec-GPC") == "1",
			DNT:    r.Header.Get("DNT") == "1",
			Effect: signalEffect(signal, d.SignalHonoured, next.UnderSignal && len(next.Purposes) > 0),
		},
		Software: softwareVersion,
		IP:       proof.TruncateIP(clientAddr(r), h.IPv4Prefix, h.IPv6Prefix),
		UA:       proof.ReduceUserAgent(r.UserAgent()),
	}
	if len(next.Vendors) > 0 {
		rec.Vendors = make(map[string]bool, len(next.Vendors))
		for _, v := range next.Vendors {
			rec.Vendors[v] = true
		}
	}
	return rec
}

// errNotRecorded: the proof could be neither stored nor spooled, so the
// choice it documents must not take effect.
var errNotRecorded = errors.New("the proof was not recorded")

// commit records a decision and sets the cookie that holds it: the proof of
// choice c, made under decision d, supersedes prev's and names the event
// that next, the new cookie, carries. The event id is made first and the
// cookie encoded before anything is recorded, so a cookie that cannot be
// encoded fails with nothing written; a proof that cannot be recorded
// fails with errNotRecorded and no cookie set.
func (h *Handler) commit(w http.ResponseWriter, r *http.Request, c choice, prev, next cookie.Consent,
	d *policy.Decision, signal bool, lang string) (cookie.Consent, error) {
	next.Event = proof.NewEventID(time.Now())
	value, err := h.encodeConsent(r, next)
	if err != nil {
		return next, err
	}
	rec := h.proofOf(r, c, next, prev, d, signal, lang)
	rec.EventID = next.Event
	if _, err := h.sink.record(r.Context(), rec); err != nil {
		h.metrics.proofErrors.Inc()
		return next, fmt.Errorf("%w: %w", errNotRecorded, err)
	}
	h.metrics.proofsWritten.Inc()
	h.metrics.decisions.WithLabelValues(c.how.Action).Inc()
	h.setConsentCookie(w, r, next, value)
	return next, nil
}

// recordAutomatic records an event no visitor action caused (layer
// automatic, action as given): its proof supersedes prev's, and the consent
// cookie becomes next, which remembers the event so that it is recorded
// once. It returns next with its event id, or false when nothing was
// recorded: the page is served all the same, and the next page view tries
// again.
func (h *Handler) recordAutomatic(w http.ResponseWriter, r *http.Request, v *visit, prev, next cookie.Consent, action string) (cookie.Consent, bool) {
	key := action + "\x00" + prev.ID + "\x00" + prev.Event
	once, first := h.automatic.claim(key, time.Now())
	if !first {
		// A page view racing the one that records this event: same cookie,
		// no second record (see onceEvents).
		done, ok := once.wait(r.Context())
		if ok {
			if value, err := h.encodeConsent(r, done); err == nil {
				h.setConsentCookie(w, r, done, value)
			}
		}
		return done, ok
	}
	// The page as the browser asked for it, percent-encoded as every other
	// record's path (one page, one path).
	auto := choice{how: how{Layer: proof.LayerAutomatic, Action: action, Page: askedURL(r).EscapedPath()}}
	next, err := h.commit(w, r, auto, prev, next, v.decision, signalSent(r), v.lang)
	switch {
	case errors.Is(err, errNotRecorded):
		h.logger.Warn("recording an automatic proof failed; the next page view tries again", zap.String("action", action), zap.Error(err))
	case err != nil:
		h.logger.Error("encoding the consent cookie for an automatic proof", zap.String("action", action), zap.Error(err))
	}
	h.automatic.settle(key, once, next, err == nil)
	return next, err == nil
}

// signalSent reports whether the request carries a privacy signal (GPC or
// DNT).
func signalSent(r *http.Request) bool {
	return r.Header.Get("Sec-GPC") == "1" || r.Header.Get("DNT") == "1"
}

func signalEffect(signal, honoured, optedInUnderSignal bool) string {
	switch {
	case !signal:
		return proof.EffectNone
	case optedInUnderSignal:
		return proof.EffectOverridden
	case honoured:
		return proof.EffectDefaultOff
	}
	return proof.EffectNone
}

// escapeControls percent-encodes control characters, as a URL would carry
// them, so that a path decoded from a Referer stays on one line wherever a
// record is shown (a CSV cell, a log).
func escapeControls(p string) string {
	if !strings.ContainsFunc(p, isControl) {
		return p
	}
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		if c := p[i]; isControl(rune(c)) {
			fmt.Fprintf(&b, "%%%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// siteOf is the request's host without port (and an IPv6 address without
// its brackets, with a port or without).
func siteOf(r *http.Request) string {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	} else if len(host) > 1 && host[0] == '[' && host[len(host)-1] == ']' {
		host = host[1 : len(host)-1]
	}
	return strings.ToLower(host)
}

// clientAddr is the client's address as Caddy determined it (honouring
// trusted_proxies), for truncation.
func clientAddr(r *http.Request) netip.Addr {
	s, _ := caddyhttp.GetVar(r.Context(), caddyhttp.ClientIPVarKey).(string)
	if s == "" {
		s, _, _ = net.SplitHostPort(r.RemoteAddr)
	}
	a, _ := netip.ParseAddr(s)
	return a.Unmap()
}
