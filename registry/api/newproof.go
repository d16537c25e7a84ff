package api

import (
	"errors"

	cmtcrypto "github.com/cometbft/cometbft/api/cometbft/crypto/v1"
	cmtproto "github.com/cometbft/cometbft/api/cometbft/types/v1"
	"github.com/cometbft/cometbft/crypto/ed25519"
	"github.com/cometbft/cometbft/types"
	"github.com/medid/medid/registry/ledger"
)

// newProof assembles a proof from the parts a node returns.
func newProof(height int64, key, value []byte, ops *cmtcrypto.ProofOps, sh *types.SignedHeader, vals *types.ValidatorSet) (*ledger.Proof, error) {
	if ops == nil || sh == nil || vals == nil {
		return nil, errors.New("proof needs proof ops, a signed header and a validator set")
	}
	opsB, err := ops.Marshal()
	if err != nil {
		return nil, err
	}
	shB, err := sh.ToProto().Marshal()
	if err != nil {
		return nil, err
	}
	vB, err := encodeValidatorSet(vals)
	if err != nil {
		return nil, err
	}
	return &ledger.Proof{Height: height, Key: key, Value: value, ProofOps: opsB, SignedHeader: shB, ValidatorSet: vB}, nil
}

// encodeValidatorSet is vals as protobuf bytes, each Ed25519 key written
// in both of CometBFT's forms: v1's pub_key_type and pub_key_bytes, and
// v0.38's pub_key (deprecated in v1, field 2). Light clients built on
// either release (registry/ledger/light of medid before and after the move
// to CometBFT v1: wallets, verifiers) then verify this node's answers; the
// validator set's hash does not depend on the form (it hashes
// SimpleValidator{pub_key, voting_power}).
func encodeValidatorSet(vals *types.ValidatorSet) ([]byte, error) {
	vp, err := vals.ToProto()
	if err != nil {
		return nil, err
	}
	both := func(v *cmtproto.Validator) {
		if v != nil && v.PubKeyType == ed25519.KeyType {
			v.PubKey = &cmtcrypto.PublicKey{Sum: &cmtcrypto.PublicKey_Ed25519{Ed25519: v.PubKeyBytes}} //nolint:staticcheck // for v0.38's light clients
		}
	}
	for _, v := range vp.Validators {
		both(v)
	}
	both(vp.Proposer)
	return vp.Marshal()
}
