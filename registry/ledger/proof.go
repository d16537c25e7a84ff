package ledger

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"

	cmtcrypto "github.com/cometbft/cometbft/proto/tendermint/crypto"

	"github.com/medid/medid/registry/ledger/light"
)

// ProofHeader is the HTTP response header that carries a [Proof] (as
// base64url, no padding, of its JSON) when a GET asks for ?proof=true.
const ProofHeader = "Registry-Proof"

// Proof lets a client check a value read from the registry without trusting
// the node that served it. The value is state key Key at state version
// Height; the app hash of that version is in the header of block Height+1,
// which more than 2/3 of the voting power of a validator set signed that a
// light client reached from the genesis (package registry/ledger/light).
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

// HeaderVerifier establishes that a light block (a signed header and its
// validator set) belongs to the chain it follows. A *light.Client is one:
// it verifies from the validators it already trusts, following
// validator-set changes (see package registry/ledger/light).
type HeaderVerifier interface {
	// ChainID is the chain the verifier follows.
	ChainID() string
	// VerifyLightBlock returns nil when lb is trusted.
	VerifyLightBlock(ctx context.Context, lb *light.LightBlock) error
}

// Verify checks p light-client style:
//
//  1. the signed header and validator set are well formed, for the
//     verifier's chain, at height Height+1, and the commit is for that
//     header;
//  2. the verifier trusts that light block: more than 2/3 of the set that
//     the header names signed it, and that set is one the verifier reached
//     from what it trusted before (across validator-set changes; see
//     [light.Client.VerifyLightBlock]);
//  3. the ICS-23 proof proves exactly (Key, Value), or Key's absence when
//     Value is nil, against the header's app hash.
//
// It returns nil when all hold, and an error wrapping ErrProof otherwise
// (and the light package's sentinel, e.g. light.ErrExpired, when trust
// could not be established).
func (p *Proof) Verify(ctx context.Context, v HeaderVerifier) error {
	if v == nil {
		return fmt.Errorf("%w: no header verifier configured", ErrProof)
	}
	lb, err := light.DecodeLightBlock(p.SignedHeader, p.ValidatorSet, v.ChainID())
	if err != nil {
		return fmt.Errorf("%w: %w", ErrProof, err)
	}
	if lb.Height() != p.Height+1 {
		return fmt.Errorf("%w: header is for height %d, want %d (state version + 1)", ErrProof, lb.Height(), p.Height+1)
	}
	if err := v.VerifyLightBlock(ctx, lb); err != nil {
		return fmt.Errorf("%w: %w", ErrProof, err)
	}
	var ops cmtcrypto.ProofOps
	if err := ops.Unmarshal(p.ProofOps); err != nil {
		return fmt.Errorf("%w: proof ops: %v", ErrProof, err)
	}
	if err := VerifyProof(lb.AppHash(), p.Key, p.Value, &ops); err != nil {
		return fmt.Errorf("%w: %v", ErrProof, err)
	}
	return nil
}

// LightBlock is the body of GET /1.0/light/{height}: what a light client
// needs to verify the header of one height (see package
// registry/ledger/light). Both byte fields are protobuf messages, base64 in
// JSON.
type LightBlock struct {
	ChainID string `json:"chainId"`
	Height  int64  `json:"height"`
	// SignedHeader is tendermint.types.SignedHeader (header and commit).
	SignedHeader []byte `json:"signedHeader"`
	// ValidatorSet is tendermint.types.ValidatorSet: the validators of
	// this height, whose hash is the header's ValidatorsHash.
	ValidatorSet []byte `json:"validatorSet"`
}
