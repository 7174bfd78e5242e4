package prooftest

import (
	"encoding/json"
	"strings"
	"time"
)

// ForgeTombstone turns a stored record into a tombstone as someone with
// write access to the store but without the MAC key can: it keeps what
// the chain and checkpoints rest on (schema, event id, times, site, chain,
// seq, prev, hash, key id), sets type "erased" and erased_at, and puts
// zeros where the HMAC goes.
func ForgeTombstone(raw []byte) ([]byte, error) {
	var r map[string]any
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, err
	}
	forged := map[string]any{"type": "erased", "erased_at": time.Now().UnixMilli(), "hmac": strings.Repeat("0", 64)}
	for _, k := range []string{"schema", "event_id", "time", "expires_at", "site", "chain", "seq", "prev", "hash", "key_id"} {
		if v, ok := r[k]; ok {
			forged[k] = v
		}
	}
	return json.Marshal(forged)
}
