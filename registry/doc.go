// Package registry is the root of medid's ledger-backed registry: a
// deterministic state machine (an ABCI 2.0 application on CometBFT) that
// anchors did:medid DID documents, issuer accreditations and Bitstring status
// list credentials in an IAVL Merkle tree, so every read can come with a proof
// against the app hash of a signed block.
//
// No health data is ever written to the ledger: only identifiers, public keys,
// hashes and signed status lists.
//
// # Packages
//
//   - tx: the signed transaction format (compact JWS, typ medid-tx+jwt), its
//     strict decoder, the typed builders of every transaction, signing and
//     the did:medid derivation.
//   - app: the ABCI application, its state layout, read API and proofs.
//   - node: the in-process CometBFT node wiring (registryd).
//   - api: the HTTP API (DID resolution, status lists, issuers, transactions).
//   - client: a Go client implementing the credentials library's resolver,
//     status fetcher and accreditation interfaces, and the rules for
//     publishing a status list (PlanStatusListPublish).
package registry
