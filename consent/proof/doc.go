// Package proof is the consent proof: one immutable record per decision a
// visitor makes, sealed into a hash chain per gateway instance, with an HMAC
// per record and signed checkpoints, so an auditor can show the log is
// complete and unaltered. It imports no Caddy and no store.
//
// The gateway builds a Record, seals it with its Chain (which assigns the
// event id, time, sequence number, previous hash, hash and HMAC), writes it
// to a store, and signs a Checkpoint at least daily. Erasure seals a
// Receipt naming the records, then replaces them by tombstones (Eraser).
// Verification walks a chain's records in seq order with a ChainVerifier,
// given what the receipts of every chain name. FORMAT.md beside this file
// documents the format for auditors who verify with their own tools.
package proof
