// Package trail is the format of a vault's access trail: entries sealed to the patient
// (compact JWE, ECDH-ES+A256KW with A256GCM, to an X25519 key converted from
// the patient's Ed25519 DID key or to their P-256 key), batched into RFC
// 6962 Merkle trees whose roots are anchored on the ledger (one audit.anchor
// transaction per batch), and served with inclusion proofs.
//
// The server side (collecting leaves, cutting and anchoring batches, serving
// entries with proofs) is package registry/hospital/batch. A patient checks
// each with [Proved.Verify] against the root and count the ledger holds for
// the batch and reads it with [Open] (or an [Opener], which caches the
// key-encryption key per ephemeral key). A [Sealer] seals many entries to
// the same patient at the cost of one key agreement per minute. docs/design/0009-vault-and-trail.md
// explains the choices.
package trail
