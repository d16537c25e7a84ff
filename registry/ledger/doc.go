// Package ledger is the registry's data contract: what the ledger stores,
// under which keys, with which result codes, and how a proof of a stored
// value is checked. The state machine (registry/machine) writes these
// records, the HTTP API (registry/api) serves them, and clients
// (registry/client, the wallet) read and verify them; all of them import
// this package and none of them imports another's internals.
//
// It imports nothing of the registry's server side: no IAVL, no database,
// no node. A client that verifies proofs needs only this package.
//
// # State layout
//
//	gov/<did:key>             GovernanceRecord   genesis governance DIDs
//	did/<did>                 DIDRecord          current version
//	didv/<did>/<%020d n>      DIDRecord          superseded versions n = 1, 2, … (layout 1: every version)
//	state/layout              "2"                the state layout (absent: layout 1; see StateLayout)
//	state/protocol            "3"                the protocol version (absent: BaseProtocol; see ProtocolUpgrade)
//	state/upgrade             ProtocolUpgrade    the protocol upgrade scheduled (absent: none)
//	iss/<did>                 IssuerRecord       accreditations with history
//	sl/<list id>              StatusListRecord   latest version
//	slv/<list id>/<%020d n>   StatusListRecord   every version
//	cst/<controller>/<hash>   ConsentRecord      consent anchors (controller: the grant's anchor did:key)
//	aud/<vault>/<batch id>    AuditRecord        anchored trail batches
//	tx/<hex replay id>        TxRecord           replay protection
//	quota/policy              QuotaPolicy        write quotas (from genesis)
//	quota/did/<did>           QuotaRecord        a signer's writes in the current window
//	quota/origin/<o>/<type>   QuotaRecord        an origin's writes of a type in the window
//
// The key helpers ([DIDKey], [DIDVersionKey], [IssuerKey], [StatusListKey],
// [StatusListVersionKey], [ConsentKey], [AuditKey]) give the key a proof
// must be for; a DID version is proven by either of two keys, and
// [DIDVersionProof] decides what such a proof shows in either
// [StateLayout]. See docs/design/0005-ledger-state.md for the reasoning.
//
// # Errors and codes
//
// Rejected transactions and failed reads carry one of the sentinel errors
// ([ErrNotFound], [ErrUnauthorized], …) and, over ABCI and HTTP, its stable
// code ([CodeOf], [ErrorOf]).
//
// # Proofs
//
// A [Proof] carries a value, an ICS-23 proof of it against the app hash of
// a state version, and the signed header over that app hash; [Proof.Verify]
// checks all of it with a light client that follows the validator set from
// the genesis across its changes (package registry/ledger/light, which reads
// CometBFT's protobuf messages without linking CometBFT's types or ABCI
// packages), [VerifyProof] the Merkle part alone.
package ledger
