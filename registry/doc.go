// Package registry is the root of medid's ledger-backed registry: a
// deterministic state machine (an ABCI 2.0 application on CometBFT) that
// anchors did:medid DID documents, issuer accreditations, Bitstring status
// list credentials, consent grant hashes and access-trail batch roots in an
// IAVL Merkle tree, so every read can come with a proof against the app hash
// of a signed block; and, apart from the ledger, the services a hospital
// runs beside its node.
//
// No health data is ever written to the ledger: only identifiers, public keys,
// hashes, signed status lists and batch roots.
//
// # Packages
//
// Contracts (leaves that servers and clients both import, never each other):
//
//   - tx: the signed transaction format (compact JWS, typ medid-tx+jwt), its
//     strict decoder, the typed builders of every transaction, signing and
//     the did:medid derivation.
//   - ledger: the ledger's data contract: records, key layout, result codes,
//     Proof and its verification, record → consent status.
//
// The ledger's servers:
//
//   - machine: the ABCI state machine over IAVL.
//   - node: the in-process CometBFT node wiring (registryd).
//   - api: the HTTP API (DID resolution, status lists, issuers, consents,
//     transactions, proofs).
//
// Clients:
//
//   - client: a Go client implementing the credentials library's resolver,
//     status fetcher and accreditation interfaces, checking proofs against
//     the validators' signatures when given the genesis, and the rules for
//     publishing a status list (PlanStatusListPublish).
//
// Hospital-side services (not the ledger; registryd hosts them), each with
// its contract and client apart from its server:
//
//   - hospital/vault: the record vault server; hospital/vaultapi its wire
//     contract; hospital/vaultclient what wallets and hospital tools use.
//   - hospital/trail: the access trail's format (sealed entries, Merkle
//     proofs); hospital/batch its server side (batches anchored on the ledger).
//   - hospital/fhir (FHIR R4 on the vault), hospital/smart (SMART Backend
//     Services authorization), hospital/cdshooks (consent decisions for EHRs),
//     hospital/balp (IHE BALP AuditEvents).
//
// Tools: loadtest (bulk load and resolution under load; the binary is
// cmd/medid-loadtest), node/nodetest and hospital/vault/vaulttest (complete
// in-process stacks for tests). Which package may import which is written
// in docs/design/0012-architecture.md and enforced by internal/layout.
package registry
