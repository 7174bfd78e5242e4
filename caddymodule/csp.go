package caddymodule

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/consentgate/consentgate/banner"
	"github.com/consentgate/consentgate/consent/catalog"
	"github.com/consentgate/consentgate/consent/csp"
	"github.com/consentgate/consentgate/consent/policy"
	"github.com/consentgate/consentgate/consent/scan"
)

// Modes of the Content-Security-Policy the gateway may add.
const (
	cspReportOnly = "report_only"
	cspEnforce    = "enforce"
	cspReportPath = "csp-report"
	// maxCSPReport bounds a violation report body.
	maxCSPReport = 64 << 10
)

// placeholderStyleHash allows the blocked-frame placeholder's inline style
// under a page's strict style-src.
var placeholderStyleHash = func() string {
	head := banner.PlaceholderHead
	css := head[strings.Index(head, "<style>")+len("<style>") : strings.Index(head, "</style>")]
	sum := sha256.Sum256([]byte(css))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}()

// adaptCSP makes the page's Content-Security-Policy admit the injected
// markup (never more) and adds the gateway's own policy when configured. It
// returns the nonce the injected markup must carry: the page's own, or one
// made for this response, or "" when no policy restricts scripts.
func (h *Handler) adaptCSP(hdr http.Header, r *http.Request, d *policy.Decision) string {
	nonce := h.adaptPageCSP(hdr, r)
	// Added only now: adaptPageCSP rewrites the header's value slices in
	// place, and Add under the same name would move them first.
	if h.CSP != "" {
		name := "Content-Security-Policy-Report-Only"
		if h.CSP == cspEnforce {
			name = "Content-Security-Policy"
		}
		hdr.Add(name, h.ownPolicy(d))
	}
	return nonce
}

// adaptPageCSP adapts the page's own policies in place; see adaptCSP.
func (h *Handler) adaptPageCSP(hdr http.Header, r *http.Request) string {
	enforced, reportOnly := hdr.Values("Content-Security-Policy"), hdr.Values("Content-Security-Policy-Report-Only")
	if len(enforced)+len(reportOnly) == 0 {
		return ""
	}
	nonce := csp.PageNonce(strings.Join(enforced, ","))
	if !banner.ValidNonce(nonce) {
		nonce = newNonce()
	}
	needs := csp.Needs{Nonce: nonce, Origin: originOf(r), Prefix: h.Prefix, StyleHash: placeholderStyleHash}
	used := false // the markup needs the nonce only where a policy names it
	for _, list := range [][]string{enforced, reportOnly} {
		for i, v := range list {
			list[i] = csp.Adapt(v, needs)
			used = used || strings.Contains(list[i], "'nonce-"+nonce+"'")
		}
	}
	if !used {
		return ""
	}
	return nonce
}

func newNonce() string {
	var b [18]byte
	rand.Read(b[:])
	return base64.StdEncoding.EncodeToString(b[:])
}

func originOf(r *http.Request) string {
	if viaHTTPS(r) {
		return "https://" + r.Host
	}
	return "http://" + r.Host
}

// ownPolicy is the gateway's second line of defence: the page's own origin
// and the hosts of the vendors this visitor allows, and nothing else, with
// violations reported to the consent prefix, where they feed the
// third-party scan. Policies are cached per consent state.
func (h *Handler) ownPolicy(d *policy.Decision) string {
	key := d.Key()
	if !d.VendorsOneByOne() { // not cached: visitors' sets of vendors are too many to keep
		if p, ok := h.cspCache.Load(key); ok {
			return p.(string)
		}
	}
	var hosts []string
	seen := map[string]bool{}
	for _, v := range d.Policy().Vendors {
		if !d.VendorAllowedID(v.ID) && !h.consentModeVendors[v.ID] {
			continue
		}
		for _, host := range ruleHosts(v) {
			if !seen[host] {
				seen[host] = true
				hosts = append(hosts, host, "*."+host)
			}
		}
	}
	extra := strings.Join(append(append([]string(nil), h.CSPSources...), hosts...), " ")
	if extra != "" {
		extra = " " + extra
	}
	p := "default-src 'self' data: blob:" + extra +
		"; script-src 'self' 'unsafe-inline' 'unsafe-eval'" + extra +
		"; style-src 'self' 'unsafe-inline'" + extra +
		"; report-uri " + h.Prefix + cspReportPath
	if !d.VendorsOneByOne() {
		h.cspCache.Store(key, p)
	}
	return p
}

// ruleHosts lists the hosts a vendor's URL rules name.
func ruleHosts(v catalog.Vendor) []string {
	var out []string
	for _, r := range v.Match.HostPatterns() {
		host, _, _ := strings.Cut(r, "/")
		host, _, _ = strings.Cut(host, "?")
		out = append(out, host)
	}
	return out
}

// cspViolation is what the gateway reads from a report, in either format
// browsers send: the legacy application/csp-report body and the Reporting
// API's application/reports+json list.
type cspViolation struct {
	Blocked, Document, Directive string
}

func parseCSPReports(contentType string, body []byte) ([]cspViolation, error) {
	mt, _, _ := mime.ParseMediaType(contentType)
	switch mt {
	case "application/csp-report", "application/json":
		var legacy struct {
			Report struct {
				Blocked   string `json:"blocked-uri"`
				Document  string `json:"document-uri"`
				Directive string `json:"effective-directive"`
				Violated  string `json:"violated-directive"`
			} `json:"csp-report"`
		}
		if err := json.Unmarshal(body, &legacy); err != nil {
			return nil, err
		}
		rep := legacy.Report
		if rep.Directive == "" {
			rep.Directive, _, _ = strings.Cut(rep.Violated, " ")
		}
		return []cspViolation{{rep.Blocked, rep.Document, rep.Directive}}, nil
	case "application/reports+json":
		var list []struct {
			Type string `json:"type"`
			Body struct {
				Blocked   string `json:"blockedURL"`
				Document  string `json:"documentURL"`
				Directive string `json:"effectiveDirective"`
			} `json:"body"`
		}
		if err := json.Unmarshal(body, &list); err != nil {
			return nil, err
		}
		var out []cspViolation
		for _, r := range list {
			if r.Type == "csp-violation" {
				out = append(out, cspViolation{r.Body.Blocked, r.Body.Document, r.Body.Directive})
			}
		}
		return out, nil
	}
	return nil, errors.New("send application/csp-report or application/reports+json")
}

// directiveKind maps the directive a load violated to the element kind the
// scan reports.
func directiveKind(directive string) catalog.Kind {
	switch strings.TrimSuffix(strings.TrimSuffix(directive, "-elem"), "-attr") {
	case "frame-src", "child-src", "object-src":
		return catalog.KindFrame
	case "img-src", "media-src":
		return catalog.KindImage
	case "style-src", "font-src":
		return catalog.KindLink
	}
	return catalog.KindScript // scripts, and fetches/beacons that scripts make
}

// serveCSPReport feeds violation reports into the third-party scan: what a
// script loaded at run time shows up there even if the rewriter and the shim
// both missed it. Reports carry no credentials; the scan is bounded, so a
// forged report can only add a bounded number of entries.
func (h *Handler) serveCSPReport(w http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		closeIfBodyUnread(w, r)
		return writeError(w, http.StatusMethodNotAllowed, "use POST")
	}
	limitBodyTime(w)
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxCSPReport))
	if err != nil {
		return writeError(w, bodyStatus(err, http.StatusBadRequest), "report not received: "+bodyMessage(err))
	}
	reports, err := parseCSPReports(r.Header.Get("Content-Type"), body)
	if err != nil {
		return writeError(w, http.StatusBadRequest, "malformed report: "+err.Error())
	}
	site := siteOf(r)
	m := h.policy.Matcher()
	for _, rep := range reports {
		host, ok := m.Host([]byte(rep.Blocked))
		if !ok || !scan.IsThirdParty(host, site) {
			continue // inline, eval, data: or the site's own
		}
		path := "/"
		if u, err := url.Parse(rep.Document); err == nil && strings.EqualFold(u.Hostname(), site) && u.Path != "" {
			path = u.Path
		}
		kind := directiveKind(rep.Directive)
		vendor := ""
		if i := m.Match(kind, []byte(rep.Blocked)); i >= 0 {
			v, _ := h.policy.Recognised(i)
			vendor = v.ID
		}
		thirdParties.ObserveReport(site, path, kind, host, vendor)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
