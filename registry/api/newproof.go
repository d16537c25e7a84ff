package api

import (
	"errors"

	cmtcrypto "github.com/cometbft/cometbft/proto/tendermint/crypto"

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
	vp, err := vals.ToProto()
	if err != nil {
		return nil, err
	}
	vB, err := vp.Marshal()
	if err != nil {
		return nil, err
	}
	return &ledger.Proof{Height: height, Key: key, Value: value, ProofOps: opsB, SignedHeader: shB, ValidatorSet: vB}, nil
}
