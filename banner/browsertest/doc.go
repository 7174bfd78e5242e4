// Package browsertest drives a real browser (headless Chromium, through
// chromedp) against a real consentgate: the Caddy module of this repository,
// started in the test process from the example shop's own Caddyfile, in
// front of examples/shop/site. Every third-party host the browser resolves
// is answered by a local recorder (Chromium's --host-resolver-rules maps
// port 443 to an HTTPS listener, port 80 to a plain one), so the tests see
// exactly which tracker requests a visitor's browser makes, and when.
//
// The tests hold the banner to its contract (docs/banner.md): nothing loads
// before a choice, Accept all / Reject all / one purpose release exactly
// their vendors without a reload, scripts added at run time wait for
// consent, withdrawing reloads and leaves no vendor cookie, Global Privacy
// Control and Google Consent Mode behave as documented, the banner works
// with the keyboard alone and passes axe-core, and operator texts full of
// markup and script are shown as text and never run.
//
// Run them with
//
//	go test ./banner/browsertest/
//
// They need Chromium (apt-get install chromium, or CONSENTGATE_CHROMIUM=path)
// and, from npm, outside the repository, axe-core and Hotwire Turbo 8:
//
//	npm install --prefix "$HOME/.cache/consentgate-npm" axe-core @hotwired/turbo@8
//
// (or CONSENTGATE_AXE=path/to/axe.min.js, CONSENTGATE_TURBO=path/to/turbo.es2017-umd.js);
// .ci/run installs them all. Every run
// writes the screenshots of both banner layers, light and dark
// (first-layer-light.png, first-layer-dark.png, second-layer-light.png,
// second-layer-dark.png), to artifacts/screenshots/ in the repository
// (gitignored); with CONSENTGATE_SCREENSHOTS=1 to docs/screenshots/ too,
// the copies committed for the README.
package browsertest
