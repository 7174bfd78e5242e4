// Package catalog is the built-in catalogue of third-party vendors (trackers,
// embeds, widgets) and the matcher that recognises them in a page.
//
// The catalogue lives in vendors.json, embedded into the binary. Each vendor
// names the company behind a service, the purpose it serves (necessary,
// functional, analytics, marketing or social), the cookies it is known to set,
// and the rules by which its code is recognised in HTML: URL patterns per kind
// of element (any kind, script, frame, image, link) and substrings of inline
// script text.
//
// # URL patterns
//
//	host                    any URL on host or a subdomain of it
//	host/path-prefix        ... whose path and query start with /path-prefix
//	host/path?query-prefix  ... the prefix may reach into the query
//	host/*/rest             '*' stands for one path segment (a locale, say)
//	*/suffix                any URL, on any host or relative, whose path
//	                        ends with /suffix (self-hosted Matomo)
//
// Hosts are lower case and match exactly or as a parent domain:
// "google-analytics.com" matches "www.google-analytics.com" but neither
// "notgoogle-analytics.com" nor "google-analytics.com.evil.net". The rest of a
// pattern is compared with the URL's path and query, case-sensitively, as a
// prefix; "https://host" has the path "/". A "*/suffix" pattern compares the
// path alone (without the query) and also matches a relative URL that is just
// "suffix". Patterns never include a scheme.
//
// URLs are taken as written in HTML attributes: http, https, protocol-relative
// ("//host/x") or relative; the host may be mixed case, carry a port, userinfo
// or a trailing dot; "&amp;" reads as "&". Any other scheme (data:, blob:,
// javascript:) never matches. What a browser undoes before it loads a URL is
// undone first, so that no spelling it loads escapes a pattern: character
// references ("https:&#47;&#47;host"), tabs and newlines anywhere,
// backslashes for slashes ("\\host\x"), any number of slashes after
// "https:" (even none), a percent-encoded or non-ASCII host (mapped to ASCII
// as IDNA lookups map it: "ｇoogle" is "google").
//
// When several patterns match, the longest pattern wins, so
// "googletagmanager.com/gtag/js?id=AW-" (Google Ads) beats
// "googletagmanager.com/gtag/js" (Google Analytics) which beats
// "googletagmanager.com" (Tag Manager). On a tie the earlier vendor wins.
//
// # Inline signatures
//
// An inline rule is a substring of inline script text, matched
// case-sensitively, such as "fbq('init'" or "_paq.push". Signatures must be at
// least six bytes long so that they cannot match ordinary code by accident.
//
// # Cookies
//
// A cookie without a domain is set on the site's own domain (usually by the
// vendor's script); those are what MatchCookie recognises in a Set-Cookie
// header from the site. A cookie with a domain lives on the vendor's domain and
// is listed for disclosure only: the site can neither receive nor delete it.
//
// # Service workers
//
// A push messaging service has the site host a service worker script of its
// own on the site's origin (Firebase's "/firebase-messaging-sw.js"). Once
// registered, such a worker goes on running (push events, its own requests
// to the vendor, the page loads it intercepts) whatever a page allows, so a
// vendor's service_workers name those scripts by their path, for the
// gateway to refuse to install them and the banner to unregister them while
// the vendor is not allowed:
//
//	/path   the script at exactly this path
//	*/name  a script whose path ends with /name, in any folder
//
// The path is compared as decoded, without the query; a pattern holds no
// '?', '%' or further '*'.
package catalog
