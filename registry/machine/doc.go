// Package machine is the registry's deterministic state machine: an ABCI 2.0
// application for CometBFT v0.39 (v0.38's ABCI) whose state is an IAVL Merkle tree.
//
// It accepts the signed transactions of package registry/tx (DID create,
// update and deactivate; issuer accreditation and revocation by governance
// keys; status list publication), checks them with the same rules in
// CheckTx and FinalizeBlock, and rejects a malformed, unsigned, replayed,
// stale or unauthorised transaction with a non-zero code (see [CodeOf]) and
// a log line, changing nothing. The app hash is the tree's root hash.
//
// # Determinism
//
// No clock is read: times come from the block header (DID metadata, the
// status list credential's validity) or from the transaction
// (accreditation periods). State is JSON with fixed field order, iteration
// is in key order, no floats are used.
//
// # Reading state
//
// [App.ResolveDID], [App.Accreditations], [App.AccreditedAt],
// [App.StatusList] and [App.Governance] read the latest committed version
// and are safe for concurrent use with block execution. [App.Query] serves
// the query paths of registry/ledger with ICS-23 proofs against the app
// hash when asked. The records, their keys and the result codes are the
// registry's data contract and live in registry/ledger, which clients import
// instead of this package.
//
// # Genesis
//
// The app_state of the CometBFT genesis is [Genesis]:
// {"governance": ["did:key:z6Mk…"]}.
package machine
