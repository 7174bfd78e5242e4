package caddymodule_test

import (
	"os"
	"testing"

	"github.com/consentgate/consentgate/caddymodule/gatewaytest"
)

// TestMain keeps Caddy's data and config in a throw-away directory.
func TestMain(m *testing.M) { os.Exit(gatewaytest.RunIsolated(m)) }

// Short names for the harness, used throughout this package's tests.
var (
	startCaddy    = gatewaytest.StartSites
	freePort      = gatewaytest.FreePort
	waitListening = gatewaytest.WaitListening
	baseURL       = gatewaytest.BaseURL
	newClient     = gatewaytest.NewClient
	get           = gatewaytest.Get
	do            = gatewaytest.Do
	postChoice    = gatewaytest.PostChoice
)

func adapt(t testing.TB, caddyfile string) []byte {
	t.Helper()
	cfg, err := gatewaytest.Adapt(caddyfile)
	if err != nil {
		t.Fatalf("adapting Caddyfile: %v\n%s", err, caddyfile)
	}
	return cfg
}

func tryAdapt(caddyfile string) ([]byte, error) { return gatewaytest.Adapt(caddyfile) }
