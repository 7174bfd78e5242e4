package caddymodule

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/consentgate/consentgate/consent/store"
)

// claimTTL is how long this gateway's claim on its chain in a shared store
// lasts unless renewed; maintain renews it every claimTTL/3. A gateway that
// dies without releasing it holds its chain that long against another data
// directory (a restart on its own data directory reclaims it at once). A
// variable so that tests can shorten it (export_test.go).
var claimTTL = 30 * time.Second

// claimChain makes this gateway its chain's writer in a shared store, so
// that a second gateway configured with the same chain is refused at start
// with a message naming the first, instead of failing visitors' choices
// with conflicts. A store that cannot be reached now is claimed when
// maintain next renews.
func (s *proofSink) claimChain(c store.Claimer) error {
	holder, err := instanceName()
	if err != nil {
		return fmt.Errorf("naming this gateway for its chain claim: %w", err)
	}
	s.claimer, s.holder = c, holder
	other, err := s.tryClaim()
	switch {
	case errors.Is(err, store.ErrMisconfigured):
		return fmt.Errorf("store %s refuses this gateway (fix the store URL or the server's users): %w", redactURL(s.name), err)
	case err != nil:
		s.logger.Warn("could not claim the chain in the store now; claiming it when the store answers",
			zap.String("chain", s.chainID), zap.Error(err))
	case other != "":
		return fmt.Errorf("chain %q is written by another gateway (%s): give each instance its own chain, "+
			"or stop that one first (its claim lapses %s after it stops)", s.chainID, other, claimTTL)
	}
	return nil
}

// renewClaim renews the chain claim. Finding another gateway's claim means
// this one could not renew for claimTTL (the store was unreachable) and a
// gateway configured with the same chain started meanwhile: both now seal
// the same seqs, so the choices of one of them fail.
func (s *proofSink) renewClaim() {
	other, err := s.tryClaim()
	switch {
	case errors.Is(err, store.ErrMisconfigured):
		s.logger.Error("the store refuses this gateway as configured (credentials, permissions, database or TLS); proofs are spooled until that is fixed",
			zap.String("chain", s.chainID), zap.Error(err))
	case err != nil:
		s.logger.Debug("renewing the chain claim", zap.String("chain", s.chainID), zap.Error(err))
	case other != "":
		s.logger.Error("another gateway writes this chain too, so their proofs conflict and visitors' choices fail; give each instance its own chain",
			zap.String("chain", s.chainID), zap.String("other", other))
	}
}

// tryClaim claims (or renews) the chain for claimTTL; it returns the other
// gateway that holds it instead, if any.
func (s *proofSink) tryClaim() (other string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return s.claimer.Claim(ctx, s.chainID, s.holder, claimTTL)
}

// releaseClaim lets another gateway take the chain over at once.
func (s *proofSink) releaseClaim(ctx context.Context) {
	if s.claimer == nil {
		return
	}
	if err := s.claimer.Release(ctx, s.chainID, s.holder); err != nil {
		s.logger.Warn("releasing the chain claim", zap.String("chain", s.chainID), zap.Error(err))
	}
}

// instanceName names this gateway for operators: host, data directory and
// an id kept in the data directory, which tells apart two gateways whose
// host and directory names are alike (containers, cloned machines) and
// stays the same across restarts.
func instanceName() (string, error) {
	id, err := loadOrCreateJSON(dataPath("instance-id.json"), func() string {
		b := make([]byte, 4)
		rand.Read(b)
		return hex.EncodeToString(b)
	})
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s:%s#%s", hostLabel(), caddy.AppDataDir(), id), nil
}

// hostLabel is the host name in the characters a chain id allows.
func hostLabel() string {
	host, _ := os.Hostname()
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.' {
			return r
		}
		return -1
	}, host)
}
