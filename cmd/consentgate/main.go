// Command consentgate is Caddy with the consent module built in. It takes
// every command and flag Caddy does:
//
//	consentgate run --config Caddyfile.example
package main

import (
	caddycmd "github.com/caddyserver/caddy/v2/cmd"

	// Caddy's standard modules (HTTP server, reverse_proxy, file_server, ...).
	_ "github.com/caddyserver/caddy/v2/modules/standard"

	// The consent handler and its Caddyfile directive.
	_ "github.com/consentgate/consentgate/caddymodule"
)

func main() {
	caddycmd.Main()
}
