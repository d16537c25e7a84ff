package ledger

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"

	cmtmath "github.com/cometbft/cometbft/libs/math"
	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"

	cmtcrypto "github.com/cometbft/cometbft/proto/tendermint/crypto"
	"github.com/cometbft/cometbft/types"
)

// ProofHeader is the HTTP response header that carries a [Proof] (as
// base64url, no padding, of its JSON) when a GET asks for ?proof=true.
const ProofHeader = "Registry-Proof"

// Proof lets a client check a value read from the registry without trusting
// the node that served it. The value is state key Key at state version
// Height; the app hash of that version is in the header of block Height+1,
// which more than 2/3 of the voting power of a trusted validator set signed.
type Proof struct {
	// Height is the state version the value was read at.
	Height int64 `json:"height"`
	// Key is the state key (see the key helpers of this package).
	Key []byte `json:"key"`
	// Value is the stored record; nil means the proof shows Key is absent.
	Value []byte `json:"value,omitempty"`
	// ProofOps is the protobuf tendermint.crypto.ProofOps: one ICS-23
	// commitment proof of Key in the IAVL tree whose root is the app hash.
	ProofOps []byte `json:"proofOps"`
	// SignedHeader is the protobuf tendermint.types.SignedHeader (header and
	// commit) of block Height+1.
	SignedHeader []byte `json:"signedHeader"`
	// ValidatorSet is the protobuf tendermint.types.ValidatorSet that
	// signed block Height+1.
	ValidatorSet []byte `json:"validatorSet"`
}

// Encode returns the header value form of p.
func (p *Proof) Encode() (string, error) {
	b, err := json.Marshal(p)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// DecodeProof parses a [ProofHeader] value. Errors wrap ErrProof.
func DecodeProof(s string) (*Proof, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: proof header is not base64url: %v", ErrProof, err)
	}
	var p Proof
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("%w: proof header JSON: %v", ErrProof, err)
	}
	return &p, nil
}

// Verify checks p light-client style:
//
//  1. the signed header is for chainID at height Height+1 and the commit is
//     for that header (its block id hash is the header's hash);
//  2. the validator set hashes to the header's validators hash, and more
//     than 2/3 of ITS voting power signed the commit;
//  3. more than 2/3 of the voting power of trusted (the validator set the
//     caller trusts, e.g. from the genesis file) signed the commit;
//  4. the ICS-23 proof proves exactly (Key, Value), or Key's absence when
//     Value is nil, against the header's app hash.
//
// It returns nil when all hold, and an error wrapping ErrProof otherwise.
func (p *Proof) Verify(chainID string, trusted *types.ValidatorSet) error {
	if trusted == nil || trusted.Size() == 0 {
		return fmt.Errorf("%w: no trusted validator set configured", ErrProof)
	}
	var shp cmtproto.SignedHeader
	if err := shp.Unmarshal(p.SignedHeader); err != nil {
		return fmt.Errorf("%w: signed header: %v", ErrProof, err)
	}
	sh, err := types.SignedHeaderFromProto(&shp)
	if err != nil {
		return fmt.Errorf("%w: signed header: %v", ErrProof, err)
	}
	if err := sh.ValidateBasic(chainID); err != nil {
		return fmt.Errorf("%w: signed header: %v", ErrProof, err)
	}
	if sh.Height != p.Height+1 {
		return fmt.Errorf("%w: header is for height %d, want %d (state version + 1)", ErrProof, sh.Height, p.Height+1)
	}
	var vp cmtproto.ValidatorSet
	if err := vp.Unmarshal(p.ValidatorSet); err != nil {
		return fmt.Errorf("%w: validator set: %v", ErrProof, err)
	}
	vals, err := types.ValidatorSetFromProto(&vp)
	if err != nil {
		return fmt.Errorf("%w: validator set: %v", ErrProof, err)
	}
	if !bytes.Equal(vals.Hash(), sh.ValidatorsHash) {
		return fmt.Errorf("%w: validator set does not match the header's validators hash", ErrProof)
	}
	// SignedHeader.ValidateBasic checked that the commit's block id is the
	// header's hash; the validator set signs that block id.
	if err := vals.VerifyCommitLight(chainID, sh.Commit.BlockID, sh.Height, sh.Commit); err != nil {
		return fmt.Errorf("%w: commit: %v", ErrProof, err)
	}
	if bytes.Equal(trusted.Hash(), vals.Hash()) {
		// Same set: the check above already counted >2/3 of its power.
	} else if err := trusted.VerifyCommitLightTrusting(chainID, sh.Commit, cmtmath.Fraction{Numerator: 2, Denominator: 3}); err != nil {
		return fmt.Errorf("%w: not signed by more than 2/3 of the trusted validators: %v", ErrProof, err)
	}
	var ops cmtcrypto.ProofOps
	if err := ops.Unmarshal(p.ProofOps); err != nil {
		return fmt.Errorf("%w: proof ops: %v", ErrProof, err)
	}
	if err := VerifyProof(sh.AppHash, p.Key, p.Value, &ops); err != nil {
		return fmt.Errorf("%w: %v", ErrProof, err)
	}
	return nil
}
