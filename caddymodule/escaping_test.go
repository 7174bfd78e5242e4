package caddymodule_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	xhtml "golang.org/x/net/html"

	"github.com/consentgate/consentgate/caddymodule/gatewaytest"
)

// TestHostileConfigIsEscaped: every operator text (privacy policy URL, every
// banner text, purpose names and descriptions, a vendor's name, company,
// policy URL and description) set to hostile markup is served as data:
// parsed as HTML (with and without scripting), the page has no element or
// attribute it did not have besides the gateway's own, the config block is
// JSON holding the strings exactly, the blocked frame's srcdoc placeholder
// is inert, and the second layer's details hold them exactly. A hostile
// request URL is escaped in the no-JavaScript form too.
func TestHostileConfigIsEscaped(t *testing.T) {
	h := gatewaytest.NewHostileConfig(t)
	port := freePort(t)
	startCaddy(t, fmt.Sprintf(`:%d {
	consent {
%s	}
	respond `+"`"+`<!DOCTYPE html><html><head><title>t</title></head><body><p id="own">own</p>%s</body></html>`+"`"+`
	header Content-Type text/html
}`, port, h.Consent(), gatewaytest.HostileFrame))
	base := baseURL(port)

	const query = `/?q="><img/src=x/onerror=alert(1)>`
	resp, body := get(t, newClient(t), base+query, "Accept-Language", "en")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}

	for _, scripting := range []bool{true, false} {
		doc, err := xhtml.ParseWithOptions(strings.NewReader(body), xhtml.ParseOptionEnableScripting(scripting))
		if err != nil {
			t.Fatal(err)
		}
		var configs, frames int
		escWalk(doc, func(n *xhtml.Node) {
			for _, a := range n.Attr {
				if strings.HasPrefix(strings.ToLower(a.Key), "on") {
					t.Errorf("scripting %v: injected handler %s=%q on <%s>", scripting, a.Key, a.Val, n.Data)
				}
			}
			switch n.Data {
			case "img":
				t.Errorf("scripting %v: injected <img %v>", scripting, n.Attr)
			case "script":
				switch src := attr(n, "src"); {
				case src != "":
					if !strings.HasPrefix(src, "/.consent/") {
						t.Errorf("scripting %v: unexpected script src %q", scripting, src)
					}
				case attr(n, "id") == "consentgate-config" && attr(n, "type") == "application/json":
					configs++
					checkConfig(t, escText(n), h)
				default:
					t.Errorf("scripting %v: unexpected inline script %q", scripting, escText(n))
				}
			case "iframe":
				frames++
				if attr(n, "data-consent-vendor") != "hostile-video" {
					t.Errorf("the frame of the hostile vendor is not blocked: %v", n.Attr)
				}
				checkPlaceholder(t, attr(n, "srcdoc"), fmt.Sprintf(h.Texts["placeholder"], h.VendorName, h.PurposeName))
			case "a":
				if href := attr(n, "href"); href != h.PrivacyPolicy {
					t.Errorf("link to %q, want the privacy policy %q", href, h.PrivacyPolicy)
				}
			case "input":
				if v := attr(n, "value"); attr(n, "name") == "return" && v != query {
					t.Errorf("the form returns to %q, want %q", v, query)
				}
			case "button":
				if got, want := escText(n), h.Texts[attr(n, "value")]; got != want {
					t.Errorf("button %q reads %q, want %q", attr(n, "value"), got, want)
				}
			}
		})
		if configs != 1 || frames != 1 {
			t.Errorf("scripting %v: %d config blocks and %d frames, want one each", scripting, configs, frames)
		}
		if !scripting {
			// Without scripting the no-JavaScript form is markup: its text
			// is the configured one, exactly.
			var form *xhtml.Node
			escWalk(doc, func(n *xhtml.Node) {
				if n.Data == "form" {
					form = n
				}
			})
			if form == nil {
				t.Error("no no-JavaScript form")
			} else if got := escText(form); !strings.Contains(got, h.Texts["text"]+" "+h.Texts["noscript"]) {
				t.Errorf("form text %q lacks the configured texts", got)
			}
		}
	}

	// The second layer's details, if this version serves them.
	var cfg struct{ Details string }
	if err := json.Unmarshal([]byte(configText(t, body)), &cfg); err != nil || cfg.Details == "" {
		t.Fatalf("the banner config names no details file for the second layer (%v): %s", err, configText(t, body))
	}
	resp, details := get(t, newClient(t), base+cfg.Details)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") ||
		resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("details: %d %s %q", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("X-Content-Type-Options"))
	}
	var d struct {
		Purposes []struct {
			ID      string
			Vendors []struct {
				ID, Name, Company, Country, Description string
				PolicyURL                               string `json:"policy_url"`
			}
		}
	}
	if err := json.Unmarshal([]byte(details), &d); err != nil {
		t.Fatalf("details are not JSON: %v", err)
	}
	found := false
	for _, p := range d.Purposes {
		for _, v := range p.Vendors {
			if v.ID != "hostile-video" {
				continue
			}
			found = true
			if p.ID != "hostile" || v.Name != h.VendorName || v.Company != h.Company || v.PolicyURL != h.VendorPolicy ||
				v.Description != h.VendorDesc || v.Country != "DE" {
				t.Errorf("details of the hostile vendor under %q: %+v", p.ID, v)
			}
		}
	}
	if !found {
		t.Error("the hostile vendor is missing from the details")
	}
}

// TestHostileCountryRefused: a vendor's country is an ISO code, so markup
// there is refused when the configuration is read.
func TestHostileCountryRefused(t *testing.T) {
	_, err := tryAdapt(":8080\nconsent {\n\tvendor acme {\n\t\tname Acme\n\t\tpurpose analytics\n\t\tcountry `" + gatewaytest.Hostile + "`\n\t\tmatch script acme.example\n\t}\n}\n")
	if err == nil || !strings.Contains(err.Error(), "ISO 3166-1") {
		t.Errorf("hostile country: %v", err)
	}
}

// checkConfig: the config block holds no '<' (so it cannot end the script
// element or enter its escaped states) and its JSON holds every text
// exactly as configured.
func checkConfig(t *testing.T, block string, h gatewaytest.HostileConfig) {
	t.Helper()
	if strings.ContainsAny(block, "<\u2028") {
		t.Errorf("config block holds '<' or U+2028 unescaped: %.200q", block)
	}
	var cfg struct {
		PrivacyPolicy string `json:"privacy_policy"`
		Texts         map[string]string
		Purposes      []struct{ ID, Name, Description string }
	}
	if err := json.Unmarshal([]byte(block), &cfg); err != nil {
		t.Fatalf("config block is not JSON: %v", err)
	}
	if cfg.PrivacyPolicy != h.PrivacyPolicy {
		t.Errorf("privacy_policy %q", cfg.PrivacyPolicy)
	}
	for k, want := range h.Texts {
		if cfg.Texts[k] != want {
			t.Errorf("text %s = %q, want %q", k, cfg.Texts[k], want)
		}
	}
	i := slices.IndexFunc(cfg.Purposes, func(p struct{ ID, Name, Description string }) bool { return p.ID == "hostile" })
	if i < 0 || cfg.Purposes[i].Name != h.PurposeName || cfg.Purposes[i].Description != h.PurposeDesc {
		t.Errorf("hostile purpose in config: %+v", cfg.Purposes)
	}
	j := slices.IndexFunc(cfg.Purposes, func(p struct{ ID, Name, Description string }) bool { return p.ID == "analytics" })
	if j < 0 || cfg.Purposes[j].Name != h.Analytics {
		t.Errorf("analytics purpose in config: %+v", cfg.Purposes)
	}
}

// checkPlaceholder parses a blocked frame's srcdoc as the browser does: a
// document of a style and one paragraph, whose text is the placeholder
// text, exactly.
func checkPlaceholder(t *testing.T, srcdoc, want string) {
	t.Helper()
	doc, err := xhtml.Parse(strings.NewReader(srcdoc))
	if err != nil {
		t.Fatal(err)
	}
	var paras []string
	escWalk(doc, func(n *xhtml.Node) {
		switch n.Data {
		case "html", "head", "body", "meta", "style":
		case "p":
			paras = append(paras, escText(n))
		default:
			t.Errorf("placeholder holds <%s %v>", n.Data, n.Attr)
		}
		for _, a := range n.Attr {
			if strings.HasPrefix(a.Key, "on") {
				t.Errorf("placeholder holds a handler %s", a.Key)
			}
		}
	})
	if len(paras) != 1 || paras[0] != want {
		t.Errorf("placeholder text %q, want %q", paras, want)
	}
}

func configText(t *testing.T, body string) string {
	t.Helper()
	doc, err := xhtml.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var out string
	escWalk(doc, func(n *xhtml.Node) {
		if n.Data == "script" && attr(n, "id") == "consentgate-config" {
			out = escText(n)
		}
	})
	return out
}

// escWalk calls f for every element under n.
func escWalk(n *xhtml.Node, f func(*xhtml.Node)) {
	if n.Type == xhtml.ElementNode {
		f(n)
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		escWalk(c, f)
	}
}

// escText is the text content of n.
func escText(n *xhtml.Node) string {
	var b strings.Builder
	var rec func(*xhtml.Node)
	rec = func(n *xhtml.Node) {
		if n.Type == xhtml.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			rec(c)
		}
	}
	rec(n)
	return b.String()
}
