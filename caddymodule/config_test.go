package caddymodule_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
)

// TestCaddyfileAdapt: every testdata/adapt/*.caddyfiletest holds a Caddyfile,
// a line of ten dashes, and the JSON it must adapt to.
func TestCaddyfileAdapt(t *testing.T) {
	files, err := filepath.Glob("testdata/adapt/*.caddyfiletest")
	if err != nil || len(files) == 0 {
		t.Fatalf("no adapt tests found: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			caddyfile, want, ok := strings.Cut(string(data), "----------")
			if !ok {
				t.Fatal("missing ---------- separator")
			}
			got := adapt(t, strings.TrimSpace(caddyfile)+"\n")
			var gotBuf, wantBuf bytes.Buffer
			if err := json.Indent(&gotBuf, got, "", "\t"); err != nil {
				t.Fatal(err)
			}
			if err := json.Indent(&wantBuf, []byte(strings.TrimSpace(want)), "", "\t"); err != nil {
				t.Fatalf("expected JSON is invalid: %v", err)
			}
			if gotBuf.String() != wantBuf.String() {
				t.Errorf("adapted JSON differs.\n--- got\n%s\n--- want\n%s", gotBuf.String(), wantBuf.String())
			}
		})
	}
}

// TestBadCaddyfiles: mistakes are refused with an error naming the line and
// the problem, whether caught while adapting or while provisioning.
func TestBadCaddyfiles(t *testing.T) {
	cases := []struct {
		name, body, want, line string
	}{
		{"unknown subdirective", "consent {\n\tbanana yes\n}", `unknown subdirective "banana"`, "Caddyfile:3"},
		{"bad duration", "consent {\n\trenew_after six-months\n}", `bad duration "six-months"`, "Caddyfile:3"},
		{"negative duration", "consent {\n\trenew_after -5d\n}", `duration "-5d" must be positive`, "Caddyfile:3"},
		{"malformed key", "consent {\n\tkey !!!! alsobad\n}", `malformed hash key`, "Caddyfile:3"},
		{"short key", "consent {\n\tkey AAAA AAAA\n}", `malformed key: hash key must be 32 or 64 bytes`, "Caddyfile:3"},
		{"unknown purpose", "consent {\n\tvendor acme {\n\t\tname Acme\n\t\tpurpose spying\n\t\tmatch script acme.example\n\t}\n}", `vendor "acme": unknown purpose "spying"`, "Caddyfile:5"},
		{"incomplete new vendor", "consent {\n\tvendor acme {\n\t\tname Acme\n\t}\n}", `vendor "acme": not in the built-in catalogue, so it needs at least name and purpose`, "Caddyfile:3"},
		{"vendor without rules", "consent {\n\tvendor acme {\n\t\tname Acme\n\t\tpurpose analytics\n\t}\n}", `needs at least one match, inline or service_worker rule`, "Caddyfile:3"},
		{"bad match kind", "consent {\n\tvendor acme {\n\t\tname Acme\n\t\tpurpose analytics\n\t\tmatch form acme.example\n\t}\n}", `match kind "form" cannot be blocked`, "Caddyfile:6"},
		{"duplicate", "consent {\n\tcookie_name a\n\tcookie_name b\n}", `cookie_name is given twice`, "Caddyfile:4"},
		{"argument on directive", "consent now", `wrong argument count`, "Caddyfile:2"},
		{"duplicate purpose", "consent {\n\tpurpose x\n\tpurpose x\n}", `purpose "x" is declared twice`, "Caddyfile:4"},
		{"bad purpose id", "consent {\n\tpurpose \"Not Valid\"\n}", `purpose id "Not Valid"`, "Caddyfile:3"},
		{"bad store", "consent {\n\tstore mysql://db\n}", `store "mysql://db": want a redis://`, "Caddyfile:3"},
		{"bad store with a password", "consent {\n\tstore mysql://u:s3cret@db/x\n}", `store "mysql://…@db/x": want a redis://`, "Caddyfile:3"},
		{"relative bolt path", "consent {\n\tstore bolt://proofs.db\n}", `store "bolt://proofs.db": give the file's absolute path`, "Caddyfile:3"},
		{"retention past what a duration holds", "consent {\n\tproof_retention 106752d\n}", `duration "106752d" is too long: at most 106751d (292 years)`, "Caddyfile:3"},
		{"spool_after zero", "consent {\n\tspool_after 0s\n}", `duration "0s" must be positive`, "Caddyfile:3"},
		{"bad ip_truncate", "consent {\n\tip_truncate 32 48\n}", `ip_truncate: IPv4 bits 0-24`, "Caddyfile:3"},
		{"bad prefix", "consent {\n\tprefix consent\n}", `prefix must start with '/'`, "Caddyfile:3"},
		{"javascript privacy_policy", "consent {\n\tprivacy_policy javascript:alert(1)\n}", `privacy_policy "javascript:alert(1)": use an http(s) URL or a path on this site starting with "/"`, "Caddyfile:3"},
		{"protocol-relative privacy_policy", "consent {\n\tprivacy_policy //evil.example/privacy\n}", `privacy_policy "//evil.example/privacy": use an http(s) URL`, "Caddyfile:3"},
		{"backslash privacy_policy", "consent {\n\tprivacy_policy `/\\evil.example`\n}", `privacy_policy "/\\evil.example": use an http(s) URL`, "Caddyfile:3"},
		{"relative privacy_policy", "consent {\n\tprivacy_policy privacy.html\n}", `privacy_policy "privacy.html": use an http(s) URL`, "Caddyfile:3"},
		{"cookie_name", "consent {\n\tcookie_name a;b\n}", `cookie_name "a;b" is not a valid cookie name`, "Caddyfile:3"},
		{"cookie_name with __Host-", "consent {\n\tcookie_name __Host-consentgate\n}", `cookie_name "__Host-consentgate": leave out the __Host- prefix`, "Caddyfile:3"},
		{"cookie_domain URL", "consent {\n\tcookie_domain https://example.com:8080/x\n}", `cookie_domain "https://example.com:8080/x": give a bare domain name such as example.com`, "Caddyfile:3"},
		{"cookie_domain port", "consent {\n\tcookie_domain example.com:8080\n}", `cookie_domain "example.com:8080": give a bare domain name`, "Caddyfile:3"},
		{"cookie_secure", "consent {\n\tcookie_secure sometimes\n}", `cookie_secure "sometimes": use auto or always`, "Caddyfile:3"},
		{"csp mode", "consent {\n\tcsp strict\n}", `csp "strict": use report_only or enforce`, "Caddyfile:3"},
		{"page_cache size", "consent {\n\tpage_cache lots\n}", `page_cache "lots": give a size such as 64MiB, or off`, "Caddyfile:3"},
		{"page_cache too small", "consent {\n\tpage_cache 100KiB\n}", `page_cache "100KiB": give at least 1MiB (or off)`, "Caddyfile:3"},
		{"csp source", "consent {\n\tcsp report_only \"'self'\"\n}", `csp source "'self'": give a host or scheme source such as https://cdn.example.com`, "Caddyfile:3"},
		{"consent_mode", "consent {\n\tconsent_mode full\n}", `consent_mode "full": use basic or advanced`, "Caddyfile:3"},
		{"match kind", "consent {\n\tvendor x {\n\t\tname X\n\t\tpurpose analytics\n\t\tmatch iframe x.example\n\t}\n}", `match kind "iframe": use any, script, frame, image or link`, "Caddyfile:6"},
		{"months", "consent {\n\trenew_after 6mo\n}", `bad duration "6mo": time: unknown unit "mo" in duration "6mo" (use h or d, such as 180d`, "Caddyfile:3"},
		{"services", "consent {\n\tservices mine\n}", `services "mine": use all (the banner lists the whole catalogue) or declared (only the vendors declared here)`, "Caddyfile:3"},
		{"banner position", "consent {\n\tbanner {\n\t\tposition left\n\t}\n}", `banner position "left": use bottom, top, center, bottom-left or bottom-right`, "Caddyfile:4"},
		{"banner colour", "consent {\n\tbanner {\n\t\taccent \"#blue\"\n\t}\n}", `banner accent colour "#blue": use a hex colour such as #1a1a1a`, "Caddyfile:4"},
		{"unknown banner setting", "consent {\n\tbanner {\n\t\tcolour fff\n\t}\n}", `unknown banner setting "colour" (position, background, text, accent)`, "Caddyfile:4"},
		{"banner setting twice", "consent {\n\tbanner {\n\t\taccent fff\n\t}\n\tbanner {\n\t\taccent 000\n\t}\n}", `banner accent is given twice`, "Caddyfile:7"},
		{"unquoted colour", "consent {\n\tbanner {\n\t\taccent #fff\n\t}\n}", `wrong argument count or unexpected line ending after 'accent'`, "Caddyfile:4"},
		{"text arguments", "consent {\n\ttext en accept_all\n}", `text takes a language, a key and the text, got 2 arguments`, "Caddyfile:3"},
		{"key arguments", "consent {\n\tkey AAAA\n}", `key takes a hash key and a block key, got 1 arguments`, "Caddyfile:3"},
		// Nested settings of purpose and vendor blocks (docs/operators.md).
		{"purpose name arguments", "consent {\n\tpurpose newsletter {\n\t\tname \"Newsletter tracking\"\n\t}\n}", `name takes a language and a text`, "Caddyfile:4"},
		{"unknown purpose setting", "consent {\n\tpurpose newsletter {\n\t\tcolour red\n\t}\n}", `unknown purpose setting "colour"`, "Caddyfile:4"},
		{"vendor twice", "consent {\n\tvendor matomo {\n\t\tmatch stats.example.com\n\t}\n\tvendor matomo {\n\t}\n}", `vendor "matomo" is declared twice`, "Caddyfile:6"},
		{"unknown vendor setting", "consent {\n\tvendor matomo {\n\t\turl stats.example.com\n\t}\n}", `unknown vendor setting "url"`, "Caddyfile:4"},
		{"vendor country", "consent {\n\tvendor acme {\n\t\tname Acme\n\t\tpurpose analytics\n\t\tcountry Germany\n\t\tmatch script acme.example\n\t}\n}", `vendor "acme": country "Germany" is not an ISO 3166-1 alpha-2 code`, "Caddyfile:3"},
		{"vendor policy_url", "consent {\n\tvendor acme {\n\t\tname Acme\n\t\tpurpose analytics\n\t\tpolicy_url acme.example/privacy\n\t\tmatch script acme.example\n\t}\n}", `vendor "acme": policy_url "acme.example/privacy" is not an absolute http(s) URL`, "Caddyfile:3"},
		{"vendor cookie lifetime", "consent {\n\tvendor acme {\n\t\tname Acme\n\t\tpurpose analytics\n\t\tcookie acme_id 30q\n\t\tmatch script acme.example\n\t}\n}", `vendor "acme": cookies[0] "acme_id": lifetime "30q": want "session" or a number with s, min, h, d, w, mo or y`, "Caddyfile:3"},
		{"vendor cookie two lifetimes", "consent {\n\tvendor acme {\n\t\tcookie acme_id 1y 2y\n\t}\n}", `cookie "acme_id": unexpected "2y" (lifetime already "1y")`, "Caddyfile:4"},
		{"vendor match pattern", "consent {\n\tvendor matomo {\n\t\tmatch script https://stats.example.com/\n\t}\n}", `vendor "matomo": match.script[0] "https://stats.example.com/"`, "Caddyfile:3"},
		{"vendor match without pattern", "consent {\n\tvendor matomo {\n\t\tmatch script\n\t}\n}", `match needs at least one pattern`, "Caddyfile:4"},
		{"vendor match alone", "consent {\n\tvendor matomo {\n\t\tmatch\n\t}\n}", `match needs at least one pattern`, "Caddyfile:4"},
		{"vendor short inline", "consent {\n\tvendor matomo {\n\t\tinline _paq\n\t}\n}", `vendor "matomo": match.inline[0] "_paq": shorter than 6 bytes`, "Caddyfile:3"},
		{"vendor service worker on another host", "consent {\n\tvendor firebase {\n\t\tservice_worker push.example/sw.js\n\t}\n}", `vendor "firebase": service_workers[0] "push.example/sw.js": want "/path" or "*/name"`, "Caddyfile:3"},
		{"vendor service worker with a query", "consent {\n\tvendor acme {\n\t\tname Acme\n\t\tpurpose functional\n\t\tservice_worker /acme-sw.js?v=2\n\t}\n}", `vendor "acme": service_workers[0] "/acme-sw.js?v=2": byte '?' is not allowed`, "Caddyfile:3"},
		{"vendor service worker without a path", "consent {\n\tvendor onesignal {\n\t\tservice_worker\n\t}\n}", `wrong argument count`, "Caddyfile:4"},
		{"vendor description arguments", "consent {\n\tvendor matomo {\n\t\tdescription \"Counts visits\"\n\t}\n}", `description takes a language and a text`, "Caddyfile:4"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tryAdapt(":8080\n" + tc.body + "\n")
			if err == nil {
				t.Fatalf("accepted:\n%s", tc.body)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q\n does not contain %q", err, tc.want)
			}
			if tc.line != "" && !strings.HasSuffix(err.Error(), "at "+tc.line) {
				t.Errorf("error %q does not name line %s", err, tc.line)
			}
			if strings.Contains(err.Error(), `": vendor "`) {
				t.Errorf("error %q names the vendor twice", err)
			}
		})
	}
}

// TestBadJSONConfig: the same checks hold for JSON config, at provision time.
func TestBadJSONConfig(t *testing.T) {
	cases := []struct{ name, handler, want string }{
		{"unknown vendor purpose", `{"handler":"consent","vendors":[{"id":"acme","name":"Acme","purpose":"spying","match":{"script":["acme.example"]}}]}`, `unknown purpose "spying"`},
		{"bad key", `{"handler":"consent","keys":[{"hash":"short","block":"short"}]}`, `key 1`},
		{"env key missing", `{"handler":"consent","keys":[{"hash":"{env.CG_TEST_UNSET_KEY}","block":"{env.CG_TEST_UNSET_KEY}"}]}`, `key 1: hash key: {env.CG_TEST_UNSET_KEY} is empty (an unset environment variable, or an empty file)`},
		{"unknown language", `{"handler":"consent","default_language":"tlh"}`, `default language "tlh" has no texts`},
		{"unknown text key", `{"handler":"consent","texts":{"en":{"no_such_text":"x"}}}`, `language en: unknown text "no_such_text"`},
		// Accept-Language is matched on the primary subtag in lower case:
		// texts under any other key would never be shown.
		{"text language with a region", `{"handler":"consent","texts":{"pt-BR":{"accept_all":"Aceitar tudo"}}}`, `language "pt-BR": give a primary language subtag in lower case, such as "pt"`},
		{"text language in capitals", `{"handler":"consent","texts":{"AR":{"accept_all":"قبول الكل"}}}`, `language "AR": give a primary language subtag in lower case, such as "ar"`},
		{"prefix of the whole site", `{"handler":"consent","prefix":"/"}`, `prefix "/" would take every path of the site`},
		{"relative bolt path", `{"handler":"consent","store":"bolt://data/proofs.db"}`, `give the file's absolute path`},
		{"bad cookie_name", `{"handler":"consent","cookie_name":"a;b"}`, `cookie_name "a;b" is not a valid cookie name`},
		// Names net/http refuses to write: it would drop every consent cookie.
		{"cookie_name with parentheses", `{"handler":"consent","cookie_name":"consent(1)"}`, `cookie_name "consent(1)" is not a valid cookie name`},
		{"cookie_name not ASCII", `{"handler":"consent","cookie_name":"zustimmung-ä"}`, `cookie_name "zustimmung-ä" is not a valid cookie name`},
		// The gateway adds the prefix where browsers accept it; they
		// would refuse it with cookie_domain or over HTTP.
		{"cookie_name with __Host-", `{"handler":"consent","cookie_name":"__Host-cg"}`, `cookie_name "__Host-cg": leave out the __Host- prefix: the gateway adds it itself where browsers accept it (over HTTPS, without cookie_domain)`},
		{"cookie_name with __host-", `{"handler":"consent","cookie_name":"__host-cg"}`, `cookie_name "__host-cg": leave out the __Host- prefix`},
		{"bad chain", `{"handler":"consent","chain":"web 1"}`, `chain "web 1": use 1 to 64 of A-Z a-z 0-9 . _ -`},
		{"short proof_key", `{"handler":"consent","proof_key":"c2hvcnQ="}`, `proof_key (generation 1): proof: MAC key must be at least 32 bytes`},
		{"previous proof_key not base64", `{"handler":"consent","proof_key":"` + strings.Repeat("a", 64) + `","previous_proof_keys":["!!!!"]}`, `proof_key (generation 2): key is neither base64 nor hex`},
		{"bad signing_key", `{"handler":"consent","signing_key":"c2hvcnQ="}`, `signing_key (generation 1): want a 32-byte Ed25519 seed, base64 or hex`},
		// An unset variable is named, whichever key it was meant for.
		{"env proof_key missing", `{"handler":"consent","proof_key":"{env.CG_TEST_UNSET_KEY}"}`, `proof_key (generation 1): {env.CG_TEST_UNSET_KEY} is empty (an unset environment variable, or an empty file)`},
		{"env proof_key missing after its prefix", `{"handler":"consent","proof_key":"hex:{env.CG_TEST_UNSET_KEY}"}`, `proof_key (generation 1): hex:{env.CG_TEST_UNSET_KEY} is empty (an unset environment variable, or an empty file)`},
		{"env signing_key missing", `{"handler":"consent","proof_key":"` + strings.Repeat("a", 64) + `","signing_key":"{env.CG_TEST_UNSET_KEY}"}`, `signing_key (generation 1): {env.CG_TEST_UNSET_KEY} is empty (an unset environment variable, or an empty file)`},
		{"bad csp", `{"handler":"consent","csp":"strict"}`, `csp "strict": use report_only or enforce`},
		{"bad csp source", `{"handler":"consent","csp":"enforce","csp_sources":["'self'"]}`, `csp source "'self'": give a host or scheme source`},
		{"bad consent_mode", `{"handler":"consent","consent_mode":"full"}`, `consent_mode "full": use basic or advanced`},
		{"bad services", `{"handler":"consent","services":"mine"}`, `services "mine": use all or declared`},
		{"bad page_cache", `{"handler":"consent","page_cache":"-5MB"}`, `page_cache "-5MB": give a size such as 64MiB, or off`},
		{"bad theme", `{"handler":"consent","theme":{"position":"left"}}`, `banner position "left": use bottom, top, center, bottom-left or bottom-right`},
		{"bad cookie_domain", `{"handler":"consent","cookie_domain":"https://example.com/"}`, `cookie_domain "https://example.com/": give a bare domain name`},
		{"bad cookie_secure", `{"handler":"consent","cookie_secure":"true"}`, `cookie_secure "true": use auto or always`},
		{"javascript privacy_policy", `{"handler":"consent","privacy_policy":"javascript:alert(1)"}`, `privacy_policy "javascript:alert(1)": use an http(s) URL or a path on this site`},
		{"vendor country", `{"handler":"consent","vendors":[{"id":"acme","name":"Acme","purpose":"analytics","country":"Germany","match":{"script":["acme.example"]}}]}`, `vendor "acme": country "Germany" is not an ISO 3166-1 alpha-2 code`},
		{"vendor service worker", `{"handler":"consent","vendors":[{"id":"firebase","service_workers":["firebase-messaging-sw.js"]}]}`, `vendor "firebase": service_workers[0] "firebase-messaging-sw.js": want "/path" or "*/name"`},
		{"bad purpose id", `{"handler":"consent","purposes":[{"id":"Not Valid"}]}`, `purpose "Not Valid": id must be lower-case letters`},
		{"necessary sold", `{"handler":"consent","purposes":[{"id":"necessary","sale":true}]}`, `the "necessary" purpose cannot be marked as sale`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := `{"admin":{"disabled":true},"apps":{"http":{"servers":{"s":{"listen":["127.0.0.1:0"],"routes":[{"handle":[` + tc.handler + `]}]}}}}}`
			err := caddy.Load([]byte(cfg), true)
			if err == nil {
				_ = caddy.Stop()
				t.Fatal("config accepted")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q\n does not contain %q", err, tc.want)
			}
			if strings.Contains(err.Error(), `": vendor "`) {
				t.Errorf("error %q names the vendor twice", err)
			}
		})
	}
}
