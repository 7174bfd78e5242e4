package redis

// Key layout, prefix P (default "cg"), for a chain C:
//
//	{P:C}:rec   hash  seq -> record JSON
//	{P:C}:ev    hash  event id -> seq (idempotent appends)
//	{P:C}:cid:I set   seqs of consent id I's indexed records
//	{P:C}:meta  hash  seq, hash, time (the head); first (after expiry)
//	{P:C}:cp    hash  seq -> checkpoint JSON (kept forever)
//	{P:C}:writer string the gateway that writes the chain (store.Claimer),
//	            expiring unless it renews its claim
//	P:chains    set   chain ids
//
// Earlier versions kept the consent index in one sorted set per chain,
// {P:C}:cid, members "<consent id>\x00<seq>" at score 0. Look-ups, erasure
// and expiry still read and clear it, so those records stay findable until
// they expire; nothing writes it any more. A sorted-set insert into a
// chain's index of a million visitors cost Redis 4-11 us, a set add 1.3-2
// us (BENCHMARKS.md).
//
// The hash tag {P:C} puts every key of a chain in one Cluster slot, so an
// append is one atomic script, while different chains (gateway instances)
// spread over the cluster. Within a chain seq order is time order, so the
// rec hash, read by seq, doubles as the time index.
type keys struct{ prefix string }

func (k keys) tag(chain string) string { return "{" + k.prefix + ":" + chain + "}" }
func (k keys) rec(chain string) string { return k.tag(chain) + ":rec" }
func (k keys) ev(chain string) string  { return k.tag(chain) + ":ev" }
func (k keys) cid(chain, consentID string) string {
	return k.tag(chain) + ":cid:" + consentID
}
func (k keys) legacyCid(chain string) string { return k.tag(chain) + ":cid" }
func (k keys) meta(chain string) string      { return k.tag(chain) + ":meta" }
func (k keys) cp(chain string) string        { return k.tag(chain) + ":cp" }
func (k keys) writer(chain string) string    { return k.tag(chain) + ":writer" }
func (k keys) chains() string                { return k.prefix + ":chains" }
func (k keys) fixed(chain string) []string {
	return []string{k.rec(chain), k.ev(chain), k.legacyCid(chain), k.meta(chain), k.cp(chain)}
}

// legacyCidMember is a member of the old sorted-set index; the NUL kept
// one id's members together and apart from ids it prefixes.
func legacyCidMember(consentID string, seq string) string { return consentID + "\x00" + seq }
