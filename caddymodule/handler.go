// Package caddymodule is the thin Caddy glue of consentgate: the
// http.handlers.consent module, its Caddyfile directive, and its endpoints.
// All consent logic lives in the Caddy-free packages under consent/.
package caddymodule

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/consentgate/consentgate/banner"
	"github.com/consentgate/consentgate/consent/catalog"
	"github.com/consentgate/consentgate/consent/cookie"
	"github.com/consentgate/consentgate/consent/policy"
)

func init() {
	caddy.RegisterModule(Handler{})
}

// Defaults an operator gets with a bare `consent` directive.
const (
	DefaultPrefix     = "/.consent/"
	DefaultCookieName = "consentgate"
	DefaultLifetime   = 180 * 24 * time.Hour
)

// Handler keeps third-party trackers out of the pages it wraps until the
// visitor has consented to their purpose, and serves the consent banner and
// its endpoints.
type Handler struct {
	// Prefix of the consent endpoints and banner assets. Default "/.consent/".
	Prefix string `json:"prefix,omitempty"`
	// PrivacyPolicy is the URL of the operator's privacy policy, linked from
	// the banner.
	PrivacyPolicy string `json:"privacy_policy,omitempty"`
	// DefaultLanguage of the banner when Accept-Language names none it has.
	// Default "en".
	DefaultLanguage string `json:"default_language,omitempty"`
	// Texts overrides banner texts, by language and key.
	Texts map[string]banner.Texts `json:"texts,omitempty"`
	// RenewAfter is how long a consent that grants something stays valid.
	// Default 180 days.
	RenewAfter caddy.Duration `json:"renew_after,omitempty"`
	// RefusalRenewAfter is how long a refusal stays valid before the visitor
	// is asked again. Default 180 days.
	RefusalRenewAfter caddy.Duration `json:"refusal_renew_after,omitempty"`
	// CookieName of the consent cookie. Default "consentgate".
	CookieName string `json:"cookie_name,omitempty"`
	// CookieDomain shares one consent across subdomains (e.g. "example.com").
	// Default: the host only.
	CookieDomain string `json:"cookie_domain,omitempty"`
	// CookieSecure says when the consent cookie, and the cookies the
	// gateway expires, are marked Secure: "auto" (default) when the request
	// came over HTTPS, directly or from one of the server's trusted_proxies
	// saying X-Forwarded-Proto: https; "always" for a site that is HTTPS
	// wherever visitors reach it.
	CookieSecure string `json:"cookie_secure,omitempty"`
	// Keys sign and encrypt the consent cookie; the first encodes, all
	// decode (rotation). Values may be {env.NAME} placeholders. Default: keys
	// generated once and kept in Caddy's data directory.
	Keys []KeyPair `json:"keys,omitempty"`
	// Purposes added to (or, by id, overriding the texts of) the defaults:
	// necessary, functional, analytics, marketing, social.
	Purposes []policy.Purpose `json:"purposes,omitempty"`
	// Vendors added to (or, by id, overriding fields of) the built-in
	// catalogue.
	Vendors []catalog.Vendor `json:"vendors,omitempty"`
	// Services is which services the banner lists: "all" (default) the
	// whole catalogue and Vendors; "declared" only Vendors, asking only
	// about their purposes, the Purposes declared and necessary. The
	// catalogue's other services are still recognised, and stay blocked.
	Services string `json:"services,omitempty"`
	// Store keeps the consent proofs: a Redis URL (redis://, rediss://,
	// redis+sentinel://, redis+cluster://) or bolt:///path. Default: an
	// embedded bolt file in Caddy's data directory.
	Store string `json:"store,omitempty"`
	// Chain names this instance's proof chain. Default: generated once per
	// data directory. Instances sharing a store need different chains.
	Chain string `json:"chain,omitempty"`
	// ProofKey authenticates proofs (HMAC, at least 32 bytes, base64 or
	// hex, or prefixed "hex:" or "base64:" to say which; {env.NAME}
	// placeholders allowed). Default: generated once and kept in Caddy's
	// data directory. Instances that verify each other's chains share it.
	ProofKey string `json:"proof_key,omitempty"`
	// SigningKey signs chain checkpoints (an Ed25519 seed, 32 bytes,
	// written as ProofKey is).
	// Default: generated once and kept in Caddy's data directory.
	SigningKey string `json:"signing_key,omitempty"`
	// PreviousProofKeys and PreviousSigningKeys are earlier generations,
	// kept after a rotation so that older proofs and checkpoints still
	// verify. Keys generated into the data directory are always kept too.
	PreviousProofKeys   []string `json:"previous_proof_keys,omitempty"`
	PreviousSigningKeys []string `json:"previous_signing_keys,omitempty"`
	// ProofRetention is how long a proof is kept after the consent it
	// documents ended. Default 3 years.
	ProofRetention caddy.Duration `json:"proof_retention,omitempty"`
	// SpoolAfter is how long a choice waits for the store before its
	// proof goes to the local spool instead, to be replayed in order: a
	// store that is slow but answers would otherwise hold every visitor
	// for as long as it takes. Default 2 s.
	SpoolAfter caddy.Duration `json:"spool_after,omitempty"`
	// IPv4Prefix and IPv6Prefix are how many leading bits of the client
	// address a proof keeps (defaults 16 and 48); -1 keeps none.
	IPv4Prefix int `json:"ipv4_prefix,omitempty"`
	IPv6Prefix int `json:"ipv6_prefix,omitempty"`
	// ConsentMode turns on Google Consent Mode v2: "basic" (Google tags stay
	// blocked until consent; default and update are set for them) or
	// "advanced" (Google tags load before consent and run denied). Default
	// off.
	ConsentMode string `json:"consent_mode,omitempty"`
	// Theme sets the banner's position and colours.
	Theme *banner.Theme `json:"theme,omitempty"`
	// CSP adds the gateway's own Content-Security-Policy, derived from the
	// consent state, as a second line of defence: "report_only" (start
	// here) or "enforce". Violations are reported to <prefix>csp-report and
	// feed the third-party scan. Default off. A page's own policy is always
	// adapted to admit the banner, whatever this says.
	CSP string `json:"csp,omitempty"`
	// CSPSources are extra sources the gateway's policy allows (a CDN the
	// site uses, say).
	CSPSources []string `json:"csp_sources,omitempty"`
	// PageCache is the memory the page cache may hold ("32MiB" by
	// default), or "off". The cache keeps the rewritten form of large
	// pages that the upstream names by a strong ETag, per consent state,
	// and answers the next request for one from it after comparing the
	// upstream's page with the cached one byte for byte (pagecache.go).
	PageCache string `json:"page_cache,omitempty"`

	policy *policy.Policy
	// hostCookie is the consent cookie's name with the __Host- prefix
	// (cookiename.go); codec and hostCodec encode and decode the cookie
	// under each of its names.
	hostCookie       string
	codec, hostCodec *cookie.Codec
	assets           *banner.Assets
	locales          *banner.Locales
	// hooks are by the consent cookie's name (the second layer lists it),
	// then by language.
	hooks map[string]map[string]*banner.Hook
	early *banner.Early
	// configTag marks this configuration and build in ETags (markConfig).
	configTag string
	// noscripts are the forms for visitors without JavaScript, by language.
	noscripts map[string]noscriptForms
	// consentModeVendors may load before consent (advanced Consent Mode).
	consentModeVendors map[string]bool
	// workerVendors are the recognised vendors with service workers (worker.go).
	workerVendors []catalog.Vendor
	// history knows earlier policy versions, to say what changed.
	history *policyHistory
	// cspCache holds the gateway's own policy per consent state.
	cspCache *sync.Map
	// lengths holds rewritten lengths of streamed pages (lengths.go).
	lengths *lengthCache
	// pages holds rewritten forms of streamed pages (pagecache.go); nil
	// when the page cache is off.
	pages *pageCache
	// automatic keeps racing page views from recording one automatic
	// event twice (once.go).
	automatic *onceEvents
	// placeholders caches rendered srcdoc placeholders by language, vendor
	// and purpose.
	placeholders *sync.Map
	// markup notes purposes page markup names that the policy lacks.
	markup     *markupPurposes
	sink       *proofSink
	sinkKey    string
	textsHash  map[string]map[string]string // by cookie name and language, as hooks: what the banner shows
	metrics    *metrics
	renew      time.Duration
	renewRefus time.Duration
	logger     *zap.Logger
	twice      *sync.Once // warns once of a second consent handler on a request (serve.go)
	foreign    *sync.Once // warns once of a host outside cookie_domain (consentCookieDomain)
}

// KeyPair is one generation of cookie keys, base64 or hex encoded (a
// "hex:" or "base64:" prefix says which).
type KeyPair struct {
	// Hash is the HMAC key (32 or 64 bytes).
	Hash string `json:"hash"`
	// Block is the AES-256 key (32 bytes).
	Block string `json:"block"`
}

// CaddyModule returns the Caddy module information.
func (Handler) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.consent",
		New: func() caddy.Module { return new(Handler) },
	}
}

// Provision builds the policy, the cookie codec and the banner hooks. It does
// no network I/O.
func (h *Handler) Provision(ctx caddy.Context) error {
	h.logger = ctx.Logger()
	h.twice, h.foreign = new(sync.Once), new(sync.Once)
	if err := h.buildPolicy(); err != nil {
		return err
	}
	keys, err := h.loadKeys()
	if err != nil {
		return err
	}
	h.hostCookie = cookie.HostPrefix + h.CookieName
	if h.codec, err = cookie.NewCodec(h.CookieName, keys, max(h.renew, h.renewRefus)+cookieGrace); err != nil {
		return err
	}
	if h.hostCodec, err = cookie.NewCodec(h.hostCookie, keys, max(h.renew, h.renewRefus)+cookieGrace); err != nil {
		return err
	}
	h.placeholders = new(sync.Map)
	h.markup = &markupPurposes{logger: h.logger}
	h.cspCache = new(sync.Map)
	h.lengths = newLengthCache()
	if h.pages, err = newPageCacheFor(h.PageCache); err != nil {
		return err
	}
	h.automatic = newOnceEvents()
	if err := h.buildHooks(); err != nil {
		return err
	}
	h.history = openPolicyHistory(h.policy, h.DefaultLanguage, h.logger)
	h.metrics = registerMetrics(ctx.GetMetricsRegistry())
	if h.sink, err = h.openSink(); err != nil {
		return err
	}
	// The sink opens its store when the configuration starts. Only a
	// handler provisioned in a configuration has one to start (the http
	// app is loaded before its handlers); one provisioned on its own, in a
	// test say, opens its store at first use.
	if _, err := ctx.AppIfConfigured("http"); err == nil {
		app, err := ctx.App("consentgate")
		if err != nil {
			return err
		}
		app.(*App).register(h.sink)
	}
	if h.pages != nil {
		pageCaches.Store(h.pages, struct{}{}) // for the metric, until Cleanup
	}
	return nil
}

// buildPolicy gets from configuration to the policy: defaults, purposes,
// texts and vendors, each checked.
func (h *Handler) buildPolicy() error {
	h.setDefaults()
	if err := h.validateSettings(); err != nil {
		return err
	}
	defaults := policy.DefaultPurposes()
	builtinPurposes := ids(defaults, func(p policy.Purpose) string { return p.ID }) // (before the merge below)
	purposes, err := mergePurposes(defaults, h.Purposes)
	if err != nil {
		return err
	}
	if h.locales, err = banner.LoadLocales(h.DefaultLanguage, h.Texts); err != nil {
		return err
	}
	for _, v := range h.Vendors {
		if err := checkVendor(v); err != nil {
			return err
		}
	}
	catalogued := catalog.Builtin()
	builtinVendors := ids(catalogued, func(v catalog.Vendor) string { return v.ID })
	vendors := policy.MergeVendors(catalogued, h.Vendors)
	switch h.Services {
	case "", ServicesAll:
		h.policy, err = policy.New(purposes, vendors, h.locales.Fingerprint())
	case ServicesDeclared:
		listed, unlisted := splitDeclared(vendors, h.Vendors)
		purposes = askedPurposes(purposes, listed, h.Purposes)
		h.policy, err = policy.NewListing(purposes, listed, unlisted, h.locales.Fingerprint())
	default:
		err = fmt.Errorf("services %q: use %s or %s", h.Services, ServicesAll, ServicesDeclared)
	}
	if err != nil {
		return err
	}
	h.dropUntranslated(builtinPurposes, builtinVendors) // (after the policy's version, which stays as it was)
	h.workerVendors = nil
	for _, v := range h.policy.RecognisedVendors() {
		if len(v.ServiceWorkers) > 0 {
			h.workerVendors = append(h.workerVendors, v)
		}
	}
	return nil
}

// ids is the set of the items' ids.
func ids[T any](items []T, id func(T) string) map[string]bool {
	out := make(map[string]bool, len(items))
	for _, it := range items {
		out[id(it)] = true
	}
	return out
}

// dropUntranslated stops offering a built-in language for which the
// operator replaced a built-in text (the banner's, a default purpose's, a
// catalogued vendor's description: the sets name their ids) in other
// built-in languages but not in it: its built-in text would describe what
// the site does not do (a German visitor of a site that told in English
// that it uses one form would read of statistics and marketing). Its
// visitors get the default language, wholly as the operator wrote it.
// Texts given only in a language the banner does not have, or for the
// operator's own purposes and vendors, replace nothing.
func (h *Handler) dropUntranslated(builtinPurposes, builtinVendors map[string]bool) {
	var replaced []map[string]string // by language, each given in a built-in one
	add := func(byLang map[string]string) {
		for lang := range byLang {
			if h.locales.Builtin(lang) {
				replaced = append(replaced, byLang)
				return
			}
		}
	}
	for key := range h.locales.Texts(h.locales.Fallback()) {
		byLang := map[string]string{}
		for lang, texts := range h.Texts {
			if v, ok := texts[key]; ok {
				byLang[lang] = v
			}
		}
		add(byLang)
	}
	for _, p := range h.Purposes {
		if builtinPurposes[p.ID] {
			add(p.Name)
			add(p.Description)
		}
	}
	for _, v := range h.Vendors {
		if builtinVendors[v.ID] {
			add(v.Description)
		}
	}
	var dropped []string
	for _, lang := range h.locales.Languages() {
		if lang == h.locales.Fallback() || !h.locales.Builtin(lang) {
			continue
		}
		for _, byLang := range replaced {
			if _, ok := byLang[lang]; !ok {
				h.locales.Drop(lang)
				dropped = append(dropped, lang)
				break
			}
		}
	}
	if len(dropped) > 0 && h.logger != nil {
		h.logger.Warn("built-in languages not offered: some built-in text was replaced in other languages only, so theirs would not describe this site; their visitors get the default language (give the text in these languages to offer them)",
			zap.Strings("languages", dropped), zap.String("default_language", h.locales.Fallback()))
	}
}

// The values of the services subdirective.
const (
	ServicesAll      = "all"
	ServicesDeclared = "declared"
)

// splitDeclared parts the merged vendors into those the operator declared
// and the rest of the catalogue.
func splitDeclared(vendors, declared []catalog.Vendor) (listed, unlisted []catalog.Vendor) {
	ids := make(map[string]bool, len(declared))
	for _, v := range declared {
		ids[v.ID] = true
	}
	for _, v := range vendors {
		if ids[v.ID] {
			listed = append(listed, v)
		} else {
			unlisted = append(unlisted, v)
		}
	}
	return listed, unlisted
}

// askedPurposes keeps, in order, the purposes a site that lists only its
// declared services asks about: necessary, those of its services, and
// those the operator declared.
func askedPurposes(purposes []policy.Purpose, listed []catalog.Vendor, declared []policy.Purpose) []policy.Purpose {
	asked := map[string]bool{policy.Necessary: true}
	for _, v := range listed {
		asked[v.Purpose] = true
	}
	for _, p := range declared {
		asked[p.ID] = true
	}
	return slices.DeleteFunc(slices.Clone(purposes), func(p policy.Purpose) bool { return !asked[p.ID] })
}

func (h *Handler) setDefaults() {
	if h.Prefix == "" {
		h.Prefix = DefaultPrefix
	}
	if !strings.HasSuffix(h.Prefix, "/") {
		h.Prefix += "/"
	}
	if h.CookieName == "" {
		h.CookieName = DefaultCookieName
	}
	if h.DefaultLanguage == "" {
		h.DefaultLanguage = "en"
	}
	h.renew = durationOr(h.RenewAfter, DefaultLifetime)
	if h.IPv4Prefix == 0 {
		h.IPv4Prefix = 16
	}
	if h.IPv6Prefix == 0 {
		h.IPv6Prefix = 48
	}
	h.renewRefus = durationOr(h.RefusalRenewAfter, DefaultLifetime)
}

func durationOr(d caddy.Duration, def time.Duration) time.Duration {
	if d > 0 {
		return time.Duration(d)
	}
	return def
}

// checkBoltPath: a bolt store names its file by an absolute path
// (bolt:///var/lib/…); a relative one would depend on the directory Caddy
// happens to start in. Placeholders ({env.…}) are judged once resolved.
func checkBoltPath(store string) error {
	path, ok := strings.CutPrefix(store, "bolt://")
	if !ok || strings.Contains(path, "{") || filepath.IsAbs(path) {
		return nil
	}
	return fmt.Errorf("store %q: give the file's absolute path, bolt:///path/to/proofs.db (three slashes)", store)
}

// validateSettings checks the settings that need no other part built: the
// prefix, cookie, privacy policy, durations, consent mode, CSP and theme.
func (h *Handler) validateSettings() error {
	if !strings.HasPrefix(h.Prefix, "/") || strings.ContainsAny(h.Prefix, "?#\"'<> ") {
		return fmt.Errorf("prefix %q must be an absolute path without query, quotes or spaces", h.Prefix)
	}
	if err := checkBoltPath(h.storeName()); h.Store != "" && err != nil {
		return err
	}
	if strings.Trim(h.Prefix, "/") == "" {
		return fmt.Errorf("prefix %q would take every path of the site: give one of its own, such as /.consent/", h.Prefix)
	}
	if err := checkCookieName(h.CookieName); err != nil {
		return err
	}
	if err := checkPrivacyPolicy(h.PrivacyPolicy); err != nil {
		return err
	}
	if err := checkCookieDomain(h.CookieDomain); err != nil {
		return err
	}
	if err := checkCookieSecure(h.CookieSecure); err != nil {
		return err
	}
	if h.RenewAfter < 0 || h.RefusalRenewAfter < 0 {
		return fmt.Errorf("renew_after and refusal_renew_after must be positive")
	}
	switch h.ConsentMode {
	case "", banner.ConsentModeBasic, banner.ConsentModeAdvanced:
	default:
		return fmt.Errorf("consent_mode %q: use basic or advanced", h.ConsentMode)
	}
	switch h.CSP {
	case "", cspReportOnly, cspEnforce:
	default:
		return fmt.Errorf("csp %q: use report_only or enforce", h.CSP)
	}
	for _, src := range h.CSPSources {
		if src == "" || strings.ContainsAny(src, ";,'\" \t\r\n") {
			return fmt.Errorf("csp source %q: give a host or scheme source such as https://cdn.example.com", src)
		}
	}
	if h.Theme != nil {
		return h.Theme.Validate()
	}
	return nil
}

// checkPrivacyPolicy: the banner links the policy, so it must be an http(s)
// URL or a path on the site, never javascript: or another scheme.
func checkPrivacyPolicy(s string) error {
	if s == "" {
		return nil
	}
	if strings.HasPrefix(s, "/") {
		// "//host" and "/\host" lead off the site, and browsers drop tabs
		// and newlines, which could make either.
		if len(s) == 1 || s[1] != '/' && s[1] != '\\' && !strings.ContainsFunc(s, unicode.IsControl) {
			return nil
		}
	} else if u, err := url.Parse(s); err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" {
		return nil
	}
	return fmt.Errorf("privacy_policy %q: use an http(s) URL or a path on this site starting with \"/\"", s)
}

// checkCookieName: the name must be one that browsers and net/http take,
// and come without the __Host- prefix, which the gateway adds where
// browsers accept it (cookiename.go) and which they would refuse elsewhere.
// Browsers read the prefix in any case. An operator who gave
// __Host-<name> gives <name> now: over HTTPS the cookie keeps its name, and
// the cookies already set still count.
func checkCookieName(name string) error {
	if name != "" && (&http.Cookie{Name: name}).Valid() != nil {
		return fmt.Errorf("cookie_name %q is not a valid cookie name", name)
	}
	if len(name) >= len(cookie.HostPrefix) && strings.EqualFold(name[:len(cookie.HostPrefix)], cookie.HostPrefix) {
		return fmt.Errorf("cookie_name %q: leave out the %s prefix: the gateway adds it itself where browsers accept it (over HTTPS, without cookie_domain)",
			name, cookie.HostPrefix)
	}
	return nil
}

// cookieDomainRE is a host name in lower case, with the leading dot
// browsers ignore allowed.
var cookieDomainRE = regexp.MustCompile(`^\.?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// checkCookieDomain: the value becomes the cookie's Domain attribute, which
// takes a bare domain; a URL there would make browsers drop the cookie.
func checkCookieDomain(s string) error {
	if s == "" || len(s) <= 254 && cookieDomainRE.MatchString(s) {
		return nil
	}
	return fmt.Errorf("cookie_domain %q: give a bare domain name such as example.com (lower case, no scheme, port or path)", s)
}

// mergePurposes adds operator purposes to the defaults; one with a default's
// id overrides its texts and sale flag.
func mergePurposes(defaults, operator []policy.Purpose) ([]policy.Purpose, error) {
	out := append([]policy.Purpose(nil), defaults...)
	for _, o := range operator {
		if err := o.Validate(); err != nil {
			return nil, err
		}
		replaced := false
		for i := range out {
			if out[i].ID == o.ID {
				out[i] = overlayPurpose(out[i], o)
				replaced = true
			}
		}
		if !replaced {
			out = append(out, o)
		}
	}
	return out, nil
}

func overlayPurpose(base, o policy.Purpose) policy.Purpose {
	base.Name = overlayTexts(base.Name, o.Name)
	base.Description = overlayTexts(base.Description, o.Description)
	base.Sale = base.Sale || o.Sale
	return base
}

func overlayTexts(base, over map[string]string) map[string]string {
	out := make(map[string]string, len(base)+len(over))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range over {
		out[k] = v
	}
	return out
}

// buildHooks renders what the rewriter injects, once per language: the
// early shim tag, the banner hook with its config, and the no-JavaScript
// form; and the assets they name.
func (h *Handler) buildHooks() error {
	var cm *banner.ConsentMode
	vendors := h.policy.RecognisedVendors()
	if h.ConsentMode != "" {
		cm = &banner.ConsentMode{Mode: h.ConsentMode, Map: banner.DefaultConsentModeMap()}
	}
	if h.ConsentMode == banner.ConsentModeAdvanced {
		// Google tags that honour Consent Mode load denied: the shim must
		// let them through as the rewriter does.
		h.consentModeVendors = map[string]bool{}
		for i, v := range vendors {
			if v.ConsentMode && v.Purpose != policy.Unlisted {
				h.consentModeVendors[v.ID] = true
				vendors[i].Purpose = policy.Necessary
			}
		}
	}
	// The second layer lists the consent cookie by the name the browser
	// keeps it under: one for each name it can be set under.
	names := h.cookieNamesInUse()
	details := map[string][]byte{}
	for _, name := range names {
		for _, lang := range h.locales.Languages() {
			details[h.detailsKey(name, lang)] = banner.Details(h.policy, h.ownCookies(name), lang, h.DefaultLanguage)
		}
	}
	h.assets = banner.NewAssets(banner.ShimData(vendors), details)
	h.early = banner.NewEarly(h.Prefix, h.assets, cm)
	h.hooks = make(map[string]map[string]*banner.Hook, len(names))
	h.noscripts = make(map[string]noscriptForms)
	h.textsHash = make(map[string]map[string]string, len(names))
	for _, name := range names {
		h.hooks[name] = make(map[string]*banner.Hook)
		h.textsHash[name] = make(map[string]string)
	}
	for _, lang := range h.locales.Languages() {
		page := banner.Page{
			Prefix:        h.Prefix,
			PrivacyPolicy: h.PrivacyPolicy,
			Lang:          lang,
			Dir:           banner.Dir(lang),
			Texts:         h.locales.Texts(lang),
			TextLangs:     h.locales.TextLangs(lang),
			Theme:         h.Theme,
			ConsentMode:   cm,
			ReloadOnGrant: h.CSP == cspEnforce,
		}
		for _, p := range h.policy.Purposes {
			page.Purposes = append(page.Purposes, banner.PurposeView{
				ID:          p.ID,
				Name:        banner.PickText(p.Name, lang, h.DefaultLanguage, p.ID),
				Description: banner.PickText(p.Description, lang, h.DefaultLanguage, ""),
				Required:    p.ID == policy.Necessary,
			})
		}
		h.noscripts[lang] = noscriptForms{
			choice:            banner.NewNoscript(page, false),
			choiceUnderSignal: banner.NewNoscript(page, true),
			refused:           banner.NewNoscriptDecided(page, true, false),
			some:              banner.NewNoscriptDecided(page, true, true),
			everything:        banner.NewNoscriptDecided(page, false, true),
		}
		for _, name := range names {
			page.Details = h.Prefix + h.assets.DetailsName(h.detailsKey(name, lang))
			hook, err := banner.NewHook(h.assets, page)
			if err != nil {
				return err
			}
			h.hooks[name][lang] = hook
			// What this language's visitors are shown, as proofs record it.
			shown, _ := json.Marshal(page)
			sum := sha256.Sum256(append(shown, h.policy.Hash...))
			h.textsHash[name][lang] = hex.EncodeToString(sum[:])
		}
	}
	h.configTag = h.markConfig()
	return nil
}

// markConfig names, in a few characters, everything besides the visitor's
// state that a rewritten page depends on: the policy, the texts and the
// assets injected (their names carry their hashes), the gateway's CSP
// mode, and the build (a new one may judge markup differently). It goes in
// every ETag the gateway marks, so that a reload or an upgrade that
// changes any of them does not answer a browser's old copy with a 304.
func (h *Handler) markConfig() string {
	sum := sha256.New()
	for _, part := range []string{h.policy.Hash, h.assets.Shim.Name, h.assets.Style.Name, h.assets.Script.Name,
		h.CSP, strings.Join(h.CSPSources, " "), buildID} {
		io.WriteString(sum, part)
		sum.Write([]byte{0})
	}
	for _, name := range h.cookieNamesInUse() {
		for _, lang := range h.locales.Languages() {
			io.WriteString(sum, h.textsHash[name][lang])
		}
	}
	return hex.EncodeToString(sum.Sum(nil)[:3])
}

// Cleanup releases this config's hold on the shared proof sink.
func (h *Handler) Cleanup() error {
	if h.pages != nil {
		pageCaches.Delete(h.pages)
	}
	if h.sinkKey != "" {
		_, err := sinks.Delete(h.sinkKey)
		return err
	}
	return nil
}

// Interface guards.
var (
	_ caddy.Provisioner           = (*Handler)(nil)
	_ caddy.CleanerUpper          = (*Handler)(nil)
	_ caddyhttp.MiddlewareHandler = (*Handler)(nil)
)
