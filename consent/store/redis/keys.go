package redis

// Key layout, prefix P (default "cg"), for a chain C:
//
//	{P:C}:rec   hash  seq -> record JSON
//	{P:C}:ev    hash  event id -> seq (idempotent appends)
//	{P:C}:cid   zset  "<consent id>\x00<seq>", score 0 (lexical index)
//	{P:C}:meta  hash  seq, hash, time (the head); first (after expiry)
//	{P:C}:cp    hash  seq -> checkpoint JSON (kept forever)
//	P:chains    set   chain ids
//
// The hash tag {P:C} puts every key of a chain in one Cluster slot, so an
// append is one atomic script, while different chains (gateway instances)
// spread over the cluster. Within a chain seq order is time order, so the
// rec hash, read by seq, doubles as the time index.
type keys struct{ prefix string }

func (k keys) tag(chain string) string  { return "{" + k.prefix + ":" + chain + "}" }
func (k keys) rec(chain string) string  { return k.tag(chain) + ":rec" }
func (k keys) ev(chain string) string   { return k.tag(chain) + ":ev" }
func (k keys) cid(chain string) string  { return k.tag(chain) + ":cid" }
func (k keys) meta(chain string) string { return k.tag(chain) + ":meta" }
func (k keys) cp(chain string) string   { return k.tag(chain) + ":cp" }
func (k keys) chains() string           { return k.prefix + ":chains" }
func (k keys) all(chain string) []string {
	return []string{k.rec(chain), k.ev(chain), k.cid(chain), k.meta(chain), k.cp(chain)}
}

// cidMember is a consent index member; the NUL keeps one id's members
// together and apart from ids it prefixes.
func cidMember(consentID string, seq string) string { return consentID + "\x00" + seq }
