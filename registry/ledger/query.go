package ledger

import (
	"bytes"
	"errors"
	"fmt"

	cmtcrypto "github.com/cometbft/cometbft/proto/tendermint/crypto"
	ics23 "github.com/cosmos/ics23/go"
)

// ABCI query paths. Data is the identifier (a DID, a list id) or, for
// QueryKey, a raw state key built with the key helpers ([DIDVersionKey],
// [StatusListVersionKey], …).
const (
	QueryDID        = "/did"        // Data = DID -> DIDRecord at DIDKey (current version)
	QueryIssuer     = "/issuer"     // Data = issuer DID -> IssuerRecord at IssuerKey
	QueryStatusList = "/statuslist" // Data = list id -> StatusListRecord at StatusListKey (latest)
	QueryKey        = "/key"        // Data = raw state key -> its value
)

// ProofOpType is the type of the single proof op a proving query returns:
// an ICS-23 commitment proof (protobuf-encoded ics23.CommitmentProof) for
// the key in the IAVL tree, whose root is the app hash.
const ProofOpType = "ics23:iavl"

// ErrProof reports a proof that does not verify against the app hash.
var ErrProof = errors.New("proof does not verify")

// VerifyProof checks ops (from a proving [App.Query]) against appHash, the
// AppHash of a signed block header (the header of block Height+1 of the
// response). A nil value checks that key is absent; otherwise that key maps
// to exactly value. It returns nil when the proof holds and an error wrapping
// [ErrProof] otherwise. It needs no access to the node.
func VerifyProof(appHash, key, value []byte, ops *cmtcrypto.ProofOps) error {
	if ops == nil || len(ops.Ops) != 1 {
		return fmt.Errorf("%w: want exactly one proof op", ErrProof)
	}
	op := ops.Ops[0]
	if op.Type != ProofOpType {
		return fmt.Errorf("%w: proof op type %q, want %q", ErrProof, op.Type, ProofOpType)
	}
	if !bytes.Equal(op.Key, key) {
		return fmt.Errorf("%w: proof is for key %q, not %q", ErrProof, op.Key, key)
	}
	var p ics23.CommitmentProof
	if err := p.Unmarshal(op.Data); err != nil {
		return fmt.Errorf("%w: decode proof: %v", ErrProof, err)
	}
	if value == nil {
		if !ics23.VerifyNonMembership(ics23.IavlSpec, appHash, &p, key) {
			return fmt.Errorf("%w: key %q is not proven absent", ErrProof, key)
		}
		return nil
	}
	if !ics23.VerifyMembership(ics23.IavlSpec, appHash, &p, key, value) {
		return fmt.Errorf("%w: key %q is not proven to hold the value", ErrProof, key)
	}
	return nil
}
