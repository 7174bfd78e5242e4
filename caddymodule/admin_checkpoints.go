package caddymodule

import (
	"encoding/hex"
	"encoding/json"
	"maps"
	"net/http"
	"slices"

	"go.uber.org/zap"

	"github.com/consentgate/consentgate/consent/proof"
)

// serveCheckpoints exports the signed checkpoints as JSON Lines, chain by
// chain in seq order, one checkpoint per line as FORMAT.md describes it:
// with the records and the public keys, an auditor re-verifies with their
// own tools, truncation included, without access to the store. Every
// export is logged.
func (a *AdminAPI) serveCheckpoints(w http.ResponseWriter, r *http.Request, stores []*auditStore) error {
	want := r.URL.Query().Get("chain")
	if want != "" && !proof.ValidChainID(want) {
		return apiError(http.StatusBadRequest, "chain %q: use 1 to 64 of A-Z a-z 0-9 . _ -", want)
	}
	if err := requireChain(r, stores, want); err != nil {
		return err
	}
	// A chain has a few checkpoints a day: read them all before answering,
	// so that a store error is a proper error, not a cut-off body.
	var out []byte
	n := 0
	err := eachChain(r, stores, want, func(as *auditStore, c string) error {
		cps, err := as.store.Checkpoints(r.Context(), c)
		if err != nil {
			return err
		}
		for _, cp := range cps {
			line, err := json.Marshal(cp)
			if err != nil {
				return err
			}
			out = append(append(out, line...), '\n')
			n++
		}
		return nil
	})
	if err != nil {
		return err
	}
	a.logger.Info("consent checkpoints exported", append(who(r), zap.String("chain", want), zap.Int("checkpoints", n))...)
	hdr := w.Header()
	hdr.Set("Content-Type", "application/jsonl; charset=utf-8")
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("X-Content-Type-Options", "nosniff")
	_, err = w.Write(out)
	return err
}

// keysAnswer is the answer of /consent/keys.
type keysAnswer struct {
	// PublicKeys verify checkpoints, every generation this instance holds.
	PublicKeys []publicKey `json:"public_keys"`
	// MACKeyIDs name the proof keys (the secrets stay with the operator).
	MACKeyIDs []string `json:"mac_key_ids"`
}

type publicKey struct {
	KeyID string `json:"key_id"`
	// PublicKey is the 32-byte Ed25519 public key, hex.
	PublicKey string `json:"public_key"`
}

// serveKeys lists the checkpoint public keys and the proof key ids the
// instance verifies with. The key id is derived from the key, but a key
// served by the system under audit proves nothing by itself: auditors
// compare it with the copy the operator gave them.
func (a *AdminAPI) serveKeys(w http.ResponseWriter, r *http.Request, stores []*auditStore) error {
	ans := keysAnswer{PublicKeys: []publicKey{}, MACKeyIDs: []string{}}
	seen := map[string]bool{}
	for _, as := range stores {
		for _, s := range as.sinks {
			k := s.verifyKeys()
			for _, id := range slices.Sorted(maps.Keys(k.PublicKeys)) {
				if !seen[id] {
					seen[id] = true
					ans.PublicKeys = append(ans.PublicKeys, publicKey{KeyID: id, PublicKey: hex.EncodeToString(k.PublicKeys[id])})
				}
			}
			for _, id := range slices.Sorted(maps.Keys(k.MAC)) {
				if !seen[id] {
					seen[id] = true
					ans.MACKeyIDs = append(ans.MACKeyIDs, id)
				}
			}
		}
	}
	return writeJSON(w, ans)
}
