package caddymodule

import (
	"fmt"

	"github.com/caddyserver/caddy/v2"
)

func init() {
	caddy.RegisterModule(new(App))
}

// App opens the proof stores of a configuration's consent handlers when the
// configuration starts, so that proofs spooled before a restart are
// replayed, and checkpoints written, before the first visitor decides.
// Handlers register their sinks with it as they are provisioned. A
// configuration that is only validated is never started: validating opens
// no store, and so does not wait for the locks a running gateway holds.
// It needs no configuration: handlers load it.
type App struct {
	sinks []*proofSink
}

// CaddyModule returns the Caddy module information.
func (*App) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: "consentgate", New: func() caddy.Module { return new(App) }}
}

// register adds a sink to open at Start.
func (a *App) register(s *proofSink) { a.sinks = append(a.sinks, s) }

// Start opens every registered sink (those a reload kept are open already).
func (a *App) Start() error {
	for _, s := range a.sinks {
		if err := s.open(); err != nil {
			return fmt.Errorf("opening the proofs of chain %s: %w", s.chainID, err)
		}
	}
	return nil
}

// Stop does nothing: sinks are closed when no configuration uses them.
func (*App) Stop() error { return nil }

var _ caddy.App = (*App)(nil)
