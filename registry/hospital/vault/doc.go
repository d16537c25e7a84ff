// Package vault is a hospital's record vault: FHIR resources stored off the
// ledger, each sealed with XChaCha20-Poly1305 under its own random data key,
// data keys wrapped by the vault's master key (master.key, 0600). A provider
// reads a record with a signed request (a JWS by a DID authentication key
// over record, purpose, nonce and time; see [Request]) and the patient's
// consent grant, which the vault checks in force on the ledger through a
// [ConsentChecker]; nothing is released when the check fails.
//
// Every attempt on a record is written to the owner's access trail (package
// registry/hospital/trail): sealed to the patient, batched, and anchored on the
// ledger with one audit.anchor transaction per batch. The existence of a
// record (its hash, owner and class) and its erasure are anchored the same
// way as public leaves, so the ledger itself carries only Merkle roots.
//
// # Break-glass
//
// A provider without consent may open a record with purpose ETREAT and an
// emergency reason when the patient allows it: either the provider holds a
// grant with break-glass allowed, or the patient deposited a standing
// break-glass grant made to the vault's DID ([Vault.AllowBreakGlass]). A
// granted override opens a window of Config.BreakGlassWindow (1 h) for that
// provider and patient, and is recorded as DCM 110127 "Emergency Override
// Started".
//
// # Erasure
//
// [Vault.Erase] on the owner's signed request overwrites and deletes the
// record's wrapped data key (crypto-shredding) and drops its ciphertext; the
// erasure is anchored. docs/design/0009-vault-and-trail.md has the reasons.
package vault
