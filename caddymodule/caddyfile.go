package caddymodule

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/consentgate/consentgate/banner"
	"github.com/consentgate/consentgate/consent/catalog"
	"github.com/consentgate/consentgate/consent/cookie"
	"github.com/consentgate/consentgate/consent/policy"
)

func init() {
	httpcaddyfile.RegisterHandlerDirective("consent", parseCaddyfile)
	// After encode: encode compresses what we write; reverse_proxy,
	// file_server and friends run inside us. Operators write no order line.
	httpcaddyfile.RegisterDirectiveOrder("consent", httpcaddyfile.After, "encode")
}

func parseCaddyfile(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	m := new(Handler)
	err := m.UnmarshalCaddyfile(h.Dispenser)
	return m, err
}

// UnmarshalCaddyfile sets up the handler from Caddyfile tokens. Syntax:
//
//	consent {
//		prefix              <path>                  # default /.consent/
//		privacy_policy      <url>
//		default_language    <lang>                  # default en
//		text                <lang> <key> <text>     # override a banner text
//		renew_after         <duration>              # default 180d
//		refusal_renew_after <duration>              # default 180d
//		cookie_name         <name>                  # default consentgate
//		cookie_domain       <domain>
//		cookie_secure       auto | always           # default auto: Secure over HTTPS, also via trusted_proxies
//		key                 <hash-key> <block-key>  # repeatable; the first encodes
//		store               <url>                   # redis://…, rediss://…, redis+sentinel://…, redis+cluster://…, bolt:///path
//		chain               <id>                    # this instance's proof chain
//		proof_key           <key> [<previous>...]   # HMAC key for proofs; older ones still verify
//		signing_key         <seed> [<previous>...]  # Ed25519 seed for checkpoints; older ones still verify
//		proof_retention     <duration>              # default 3 years after the consent ended
//		spool_after         <duration>              # how long a choice waits for the store; default 2s
//		ip_truncate         <ipv4-bits> <ipv6-bits> | off   # default 16 48
//		consent_mode        [basic | advanced]      # Google Consent Mode v2; default off, alone: basic
//		csp                 report_only | enforce [<source>...]  # the gateway's own CSP; default off
//		banner {
//			position    bottom | top | center | bottom-left | bottom-right
//			background  <hex colour>                # "#1a1a1a" (quoted: # starts a comment) or 1a1a1a
//			text        <hex colour>
//			accent      <hex colour>
//		}
//		purpose <id> {
//			name        <lang> <text>
//			description <lang> <text>
//			sale
//		}
//		services    all|declared
//		page_cache  <size>|off
//		vendor <id> {
//			name        <text>
//			company     <text>
//			country     <code>
//			purpose     <purpose>
//			policy_url  <url>
//			description <lang> <text>
//			cookie      <name> [<lifetime>] [prefix] [http_only]
//			match       [any|script|frame|image|link] <pattern>...
//			inline      <signature>...
//			service_worker <path>...            # "/path" or "*/name"
//		}
//	}
func (h *Handler) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // directive name
	if d.NextArg() {
		return d.ArgErr()
	}
	seen := map[string]bool{}
	var pendingPurposes []pendingRef
	for d.NextBlock(0) {
		sub := d.Val()
		single := sub != "key" && sub != "purpose" && sub != "vendor" && sub != "text" && sub != "banner"
		if single && seen[sub] {
			return d.Errf("%s is given twice", sub)
		}
		seen[sub] = true
		var err error
		switch sub {
		case "prefix":
			err = oneArg(d, &h.Prefix)
			if err == nil && !strings.HasPrefix(h.Prefix, "/") {
				err = d.Errf("prefix must start with '/', got %q", h.Prefix)
			}
		case "privacy_policy":
			err = oneArg(d, &h.PrivacyPolicy)
			if err == nil {
				err = withLine(d, checkPrivacyPolicy(h.PrivacyPolicy))
			}
		case "default_language":
			err = oneArg(d, &h.DefaultLanguage)
		case "cookie_name":
			err = oneArg(d, &h.CookieName)
			if err == nil {
				err = withLine(d, checkCookieName(h.CookieName))
			}
		case "cookie_domain":
			err = oneArg(d, &h.CookieDomain)
			if err == nil {
				err = withLine(d, checkCookieDomain(h.CookieDomain))
			}
		case "cookie_secure":
			err = oneArg(d, &h.CookieSecure)
			if err == nil {
				err = withLine(d, checkCookieSecure(h.CookieSecure))
			}
		case "renew_after":
			err = durationArg(d, &h.RenewAfter)
		case "refusal_renew_after":
			err = durationArg(d, &h.RefusalRenewAfter)
		case "store":
			err = oneArg(d, &h.Store)
			if err == nil {
				err = checkStoreURL(d, h.Store)
			}
		case "chain":
			err = oneArg(d, &h.Chain)
		case "proof_key":
			err = keyArgs(d, &h.ProofKey, &h.PreviousProofKeys)
		case "signing_key":
			err = keyArgs(d, &h.SigningKey, &h.PreviousSigningKeys)
		case "proof_retention":
			err = durationArg(d, &h.ProofRetention)
		case "spool_after":
			err = durationArg(d, &h.SpoolAfter)
		case "ip_truncate":
			err = h.parseIPTruncate(d)
		case "page_cache":
			err = oneArg(d, &h.PageCache)
			if err == nil {
				_, perr := parsePageCache(h.PageCache)
				err = withLine(d, perr)
			}
		case "consent_mode":
			err = optionalArg(d, &h.ConsentMode, banner.ConsentModeBasic)
			if err == nil && h.ConsentMode != banner.ConsentModeBasic && h.ConsentMode != banner.ConsentModeAdvanced {
				err = d.Errf("consent_mode %q: use basic or advanced", h.ConsentMode)
			}
		case "services":
			err = oneArg(d, &h.Services)
			if err == nil && h.Services != ServicesAll && h.Services != ServicesDeclared {
				err = d.Errf("services %q: use %s (the banner lists the whole catalogue) or %s (only the vendors declared here)", h.Services, ServicesAll, ServicesDeclared)
			}
		case "banner":
			err = h.parseBanner(d)
		case "csp":
			err = h.parseCSP(d)
		case "text":
			err = h.parseText(d)
		case "key":
			err = h.parseKey(d)
		case "purpose":
			err = h.parsePurpose(d)
		case "vendor":
			var ref pendingRef
			ref, err = h.parseVendor(d)
			if ref.purpose != "" {
				pendingPurposes = append(pendingPurposes, ref)
			}
		default:
			err = d.Errf("unknown subdirective %q", sub)
		}
		if err != nil {
			return err
		}
	}
	return h.checkPurposeRefs(pendingPurposes)
}

// pendingRef remembers where a vendor named its purpose: purposes may be
// declared after the vendors that use them.
type pendingRef struct {
	vendor, purpose string
	file            string
	line            int
}

func (h *Handler) checkPurposeRefs(refs []pendingRef) error {
	known := map[string]bool{}
	for _, p := range policy.DefaultPurposes() {
		known[p.ID] = true
	}
	for _, p := range h.Purposes {
		known[p.ID] = true
	}
	for _, r := range refs {
		if !known[r.purpose] {
			return fmt.Errorf("vendor %q: unknown purpose %q, at %s:%d", r.vendor, r.purpose, r.file, r.line)
		}
	}
	return nil
}

func oneArg(d *caddyfile.Dispenser, dst *string) error {
	if !d.NextArg() {
		return d.ArgErr()
	}
	*dst = d.Val()
	if d.NextArg() {
		return d.ArgErr()
	}
	return nil
}

// withLine gives a check's error the dispenser's file and line.
func withLine(d *caddyfile.Dispenser, err error) error {
	if err != nil {
		return d.Errf("%v", err)
	}
	return nil
}

// optionalArg reads at most one argument, def when there is none.
func optionalArg(d *caddyfile.Dispenser, dst *string, def string) error {
	if !d.NextArg() {
		*dst = def
		return nil
	}
	*dst = d.Val()
	if d.NextArg() {
		return d.ArgErr()
	}
	return nil
}

func durationArg(d *caddyfile.Dispenser, dst *caddy.Duration) error {
	var s string
	if err := oneArg(d, &s); err != nil {
		return err
	}
	dur, err := caddy.ParseDuration(s)
	if err != nil && tooLong(s) {
		return d.Errf("duration %q is too long: at most 106751d (292 years)", s)
	}
	if err != nil {
		return d.Errf("bad duration %q: %v (use h or d, such as 180d; w, mo and y are for the cookie lifetimes the banner shows)", s, err)
	}
	if dur <= 0 {
		return d.Errf("duration %q must be positive", s)
	}
	*dst = caddy.Duration(dur)
	return nil
}

// checkStoreURL catches a mistyped store early, with its line.
func checkStoreURL(d *caddyfile.Dispenser, u string) error {
	for _, scheme := range []string{"redis://", "rediss://", "redis+sentinel://", "rediss+sentinel://",
		"redis+cluster://", "rediss+cluster://", "bolt://"} {
		if strings.HasPrefix(u, scheme) {
			return withLine(d, checkBoltPath(u))
		}
	}
	return d.Errf("store %q: want a redis://, rediss://, redis+sentinel://, redis+cluster:// or bolt:// URL", redactURL(u))
}

func (h *Handler) parseIPTruncate(d *caddyfile.Dispenser) error {
	args := d.RemainingArgs()
	if len(args) == 1 && args[0] == "off" {
		h.IPv4Prefix, h.IPv6Prefix = -1, -1
		return nil
	}
	if len(args) != 2 {
		return d.Errf("ip_truncate takes the IPv4 and IPv6 prefix lengths to keep (e.g. 16 48), or off")
	}
	v4, err1 := strconv.Atoi(args[0])
	v6, err2 := strconv.Atoi(args[1])
	if err1 != nil || err2 != nil || v4 < 0 || v4 > 24 || v6 < 0 || v6 > 64 {
		return d.Errf("ip_truncate: IPv4 bits 0-24 and IPv6 bits 0-64, got %q %q", args[0], args[1])
	}
	h.IPv4Prefix, h.IPv6Prefix = v4, v6
	if v4 == 0 {
		h.IPv4Prefix = -1
	}
	if v6 == 0 {
		h.IPv6Prefix = -1
	}
	return nil
}

func (h *Handler) parseText(d *caddyfile.Dispenser) error {
	args := d.RemainingArgs()
	if len(args) != 3 {
		return d.Errf("text takes a language, a key and the text, got %d arguments", len(args))
	}
	if h.Texts == nil {
		h.Texts = map[string]banner.Texts{}
	}
	if h.Texts[args[0]] == nil {
		h.Texts[args[0]] = banner.Texts{}
	}
	h.Texts[args[0]][args[1]] = args[2]
	return nil
}

func (h *Handler) parseKey(d *caddyfile.Dispenser) error {
	args := d.RemainingArgs()
	if len(args) != 2 {
		return d.Errf("key takes a hash key and a block key, got %d arguments", len(args))
	}
	kp := KeyPair{Hash: args[0], Block: args[1]}
	// Placeholders are resolved at provision time; literal keys are checked now.
	if !strings.Contains(kp.Hash, "{") && !strings.Contains(kp.Block, "{") {
		hash, err := cookie.ParseKey(kp.Hash)
		if err != nil {
			return d.Errf("malformed hash key: %v", err)
		}
		block, err := cookie.ParseKey(kp.Block)
		if err != nil {
			return d.Errf("malformed block key: %v", err)
		}
		if err := (cookie.KeyPair{Hash: hash, Block: block}).Validate(); err != nil {
			return d.Errf("malformed key: %v", err)
		}
	}
	h.Keys = append(h.Keys, kp)
	return nil
}

func (h *Handler) parsePurpose(d *caddyfile.Dispenser) error {
	var p policy.Purpose
	if err := oneArg(d, &p.ID); err != nil {
		return err
	}
	if !policy.ValidID(p.ID) {
		return d.Errf("purpose id %q: use lower-case letters, digits, '-' or '_'", p.ID)
	}
	for _, q := range h.Purposes {
		if q.ID == p.ID {
			return d.Errf("purpose %q is declared twice", p.ID)
		}
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		var err error
		switch d.Val() {
		case "name":
			err = langText(d, &p.Name)
		case "description":
			err = langText(d, &p.Description)
		case "sale":
			if d.NextArg() {
				err = d.ArgErr()
			}
			p.Sale = true
		default:
			err = d.Errf("unknown purpose setting %q", d.Val())
		}
		if err != nil {
			return err
		}
	}
	h.Purposes = append(h.Purposes, p)
	return nil
}

// keyArgs reads a current key and the previous generations after it.
func keyArgs(d *caddyfile.Dispenser, current *string, previous *[]string) error {
	if !d.NextArg() {
		return d.ArgErr()
	}
	*current = d.Val()
	*previous = d.RemainingArgs()
	return nil
}

// parseCSP reads `csp report_only|enforce [<source>...]`.
func (h *Handler) parseCSP(d *caddyfile.Dispenser) error {
	if !d.NextArg() {
		return d.ArgErr()
	}
	h.CSP = d.Val()
	if h.CSP != cspReportOnly && h.CSP != cspEnforce {
		return d.Errf("csp %q: use report_only or enforce", h.CSP)
	}
	h.CSPSources = d.RemainingArgs()
	for _, src := range h.CSPSources {
		if strings.ContainsAny(src, ";,'\"") {
			return d.Errf("csp source %q: give a host or scheme source such as https://cdn.example.com", src)
		}
	}
	return nil
}

// parseBanner reads the banner's look; a block may be given more than once
// (one setting each), but a setting only once.
func (h *Handler) parseBanner(d *caddyfile.Dispenser) error {
	if d.NextArg() {
		return d.ArgErr()
	}
	if h.Theme == nil {
		h.Theme = new(banner.Theme)
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		var dst *string
		switch d.Val() {
		case "position":
			dst = &h.Theme.Position
		case "background":
			dst = &h.Theme.Background
		case "text":
			dst = &h.Theme.Text
		case "accent":
			dst = &h.Theme.Accent
		default:
			return d.Errf("unknown banner setting %q (position, background, text, accent)", d.Val())
		}
		if *dst != "" {
			return d.Errf("banner %s is given twice", d.Val())
		}
		if err := oneArg(d, dst); err != nil {
			return err
		}
		if dst != &h.Theme.Position && !strings.HasPrefix(*dst, "#") {
			*dst = "#" + *dst // "#" starts a Caddyfile comment unless quoted
		}
		if err := h.Theme.Validate(); err != nil {
			return d.Errf("%v", err)
		}
	}
	return nil
}

func langText(d *caddyfile.Dispenser, dst *map[string]string) error {
	setting := d.Val() // RemainingArgs moves on to the last argument
	args := d.RemainingArgs()
	if len(args) != 2 {
		return d.Errf("%s takes a language and a text", setting)
	}
	if *dst == nil {
		*dst = map[string]string{}
	}
	(*dst)[args[0]] = args[1]
	return nil
}

func (h *Handler) parseVendor(d *caddyfile.Dispenser) (pendingRef, error) {
	var v catalog.Vendor
	if err := oneArg(d, &v.ID); err != nil {
		return pendingRef{}, err
	}
	ref := pendingRef{vendor: v.ID, file: d.File(), line: d.Line()}
	declared := d.Line()
	for _, w := range h.Vendors {
		if w.ID == v.ID {
			return ref, d.Errf("vendor %q is declared twice", v.ID)
		}
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		var err error
		switch field := d.Val(); field {
		case "name":
			err = oneArg(d, &v.Name)
		case "company":
			err = oneArg(d, &v.Company)
		case "country":
			err = oneArg(d, &v.Country)
		case "policy_url":
			err = oneArg(d, &v.PolicyURL)
		case "purpose":
			err = oneArg(d, &v.Purpose)
			ref.purpose, ref.line = v.Purpose, d.Line()
		case "description":
			err = langText(d, &v.Description)
		case "cookie":
			err = parseVendorCookie(d, &v)
		case "match":
			err = parseMatch(d, &v.Match)
		case "inline":
			args := d.RemainingArgs()
			if len(args) == 0 {
				err = d.ArgErr()
			}
			v.Match.Inline = append(v.Match.Inline, args...)
		case "service_worker":
			args := d.RemainingArgs()
			if len(args) == 0 {
				err = d.ArgErr()
			}
			v.ServiceWorkers = append(v.ServiceWorkers, args...)
		default:
			err = d.Errf("unknown vendor setting %q", field)
		}
		if err != nil {
			return ref, err
		}
	}
	if err := checkVendor(v); err != nil {
		return ref, fmt.Errorf("%v, at %s:%d", err, ref.file, declared)
	}
	h.Vendors = append(h.Vendors, v)
	return ref, nil
}

// checkVendor validates an operator vendor: a new one must be complete; an
// override of a catalogued one only needs valid match rules. Its errors
// start with `vendor "<id>": `, as catalog.Vendor.Validate's do.
func checkVendor(v catalog.Vendor) error {
	if !builtinVendorIDs()[v.ID] {
		if v.Name == "" || v.Purpose == "" {
			return fmt.Errorf("vendor %q: not in the built-in catalogue, so it needs at least name and purpose", v.ID)
		}
		if len(v.Match.URLs)+len(v.Match.Script)+len(v.Match.Frame)+len(v.Match.Image)+len(v.Match.Link)+len(v.Match.Inline)+len(v.ServiceWorkers) == 0 {
			return fmt.Errorf("vendor %q: not in the built-in catalogue, so it needs at least one match, inline or service_worker rule", v.ID)
		}
		return v.Validate()
	}
	probe := v
	probe.Name, probe.Purpose = v.ID, policy.Necessary
	_, err := catalog.NewMatcher([]catalog.Vendor{probe})
	return err
}

func builtinVendorIDs() map[string]bool {
	ids := map[string]bool{}
	for _, v := range catalog.Builtin() {
		ids[v.ID] = true
	}
	return ids
}

func parseVendorCookie(d *caddyfile.Dispenser, v *catalog.Vendor) error {
	args := d.RemainingArgs()
	if len(args) == 0 {
		return d.ArgErr()
	}
	c := catalog.Cookie{Name: args[0]}
	for _, a := range args[1:] {
		switch a {
		case "prefix":
			c.Prefix = true
		case "http_only":
			c.HTTPOnly = true
		default:
			if c.Lifetime != "" {
				return d.Errf("cookie %q: unexpected %q (lifetime already %q)", c.Name, a, c.Lifetime)
			}
			c.Lifetime = a
		}
	}
	v.Cookies = append(v.Cookies, c)
	return nil
}

func parseMatch(d *caddyfile.Dispenser, r *catalog.Rules) error {
	args := d.RemainingArgs()
	if len(args) == 0 {
		return d.Errf("match needs at least one pattern")
	}
	dst := &r.URLs
	if kind, ok := catalog.ParseKind(args[0]); ok {
		switch kind {
		case catalog.KindScript:
			dst = &r.Script
		case catalog.KindFrame:
			dst = &r.Frame
		case catalog.KindImage:
			dst = &r.Image
		case catalog.KindLink:
			dst = &r.Link
		default:
			return d.Errf("match kind %q cannot be blocked", args[0])
		}
		args = args[1:]
	} else if args[0] == "any" {
		args = args[1:]
	} else if len(args) > 1 && !strings.ContainsAny(args[0], "./*:") {
		// A word before the patterns is meant as a kind (iframe, img, …).
		return d.Errf("match kind %q: use any, script, frame, image or link", args[0])
	}
	if len(args) == 0 {
		return d.Errf("match needs at least one pattern")
	}
	*dst = append(*dst, args...)
	return nil
}

// Interface guard.
var _ caddyfile.Unmarshaler = (*Handler)(nil)

// tooLong reports whether a duration that did not parse is a number and a
// unit that overflows time.Duration (292 years), which ParseDuration calls
// invalid.
func tooLong(s string) bool {
	if len(s) < 2 {
		return false
	}
	var unit time.Duration
	switch s[len(s)-1] {
	case 'd':
		unit = 24 * time.Hour
	case 'h':
		unit = time.Hour
	case 'm':
		unit = time.Minute
	case 's':
		unit = time.Second
	default:
		return false
	}
	digits := s[:len(s)-1]
	if strings.Trim(digits, "0123456789.") != "" || strings.Count(digits, ".") > 1 {
		return false // not a plain number ("infd", "0x1p9d")
	}
	n, err := strconv.ParseFloat(digits, 64)
	return err == nil && n*float64(unit) > math.MaxInt64
}
