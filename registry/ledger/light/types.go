package light

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"
	cmtcrypto "github.com/cometbft/cometbft/proto/tendermint/crypto"
	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"
)

// Limits CometBFT v0.38 applies to the same structures (types package).
const (
	// BlockProtocol is the block version CometBFT v0.38 writes in headers.
	BlockProtocol uint64 = 11
	// MaxChainIDLen is the longest chain id a header may carry.
	MaxChainIDLen = 50
	// MaxTotalVotingPower bounds the sum of a validator set's powers.
	MaxTotalVotingPower = int64(math.MaxInt64) / 8
	// maxSignatureSize is CometBFT's MaxSignatureSize (its largest
	// supported signature, ML-DSA-65: 3,309 bytes). Ed25519 signatures
	// are 64 bytes; longer ones are refused when verified.
	maxSignatureSize = 3309
	hashSize         = 32
	addressSize      = 20
)

// Validator is one member of a [ValidatorSet]: its Ed25519 consensus key,
// the address derived from it and its voting power.
type Validator struct {
	Address []byte
	PubKey  ed25519.PubKey
	Power   int64
}

// ValidatorSet is a validator set decoded from its protobuf form and
// checked as CometBFT checks it (ValidatorSetFromProto): every key is
// Ed25519 with the address derived from it, no power is negative, the
// total does not exceed [MaxTotalVotingPower], the set is not empty and
// names a proposer that is a member. The order is kept: it is the order
// commits sign in and the order [ValidatorSet.Hash] hashes. A
// ValidatorSet is immutable and safe for concurrent use.
//
// Only Ed25519 validators are accepted: the registry's consensus
// parameters admit no other key type, so a set with another one is
// refused rather than verified under rules this package does not have.
type ValidatorSet struct {
	vals  []Validator
	total int64
	hash  []byte
	raw   *cmtproto.ValidatorSet
}

// ErrInvalid wraps every structural error: a header, commit or validator
// set that is malformed before any signature is looked at.
var ErrInvalid = errors.New("invalid light block")

// NewValidatorSet decodes and checks a protobuf validator set (see
// [ValidatorSet]). Errors wrap [ErrInvalid].
func NewValidatorSet(pb *cmtproto.ValidatorSet) (*ValidatorSet, error) {
	if pb == nil {
		return nil, fmt.Errorf("%w: nil validator set", ErrInvalid)
	}
	vs := &ValidatorSet{raw: pb, vals: make([]Validator, len(pb.Validators))}
	for i, v := range pb.Validators {
		val, err := validatorFromProto(v)
		if err != nil {
			return nil, fmt.Errorf("%w: validator #%d: %v", ErrInvalid, i, err)
		}
		vs.vals[i] = val
	}
	if pb.Proposer == nil {
		return nil, fmt.Errorf("%w: validator set has no proposer", ErrInvalid)
	}
	prop, err := validatorFromProto(pb.Proposer)
	if err != nil {
		return nil, fmt.Errorf("%w: proposer: %v", ErrInvalid, err)
	}
	var sum int64
	for _, v := range vs.vals {
		sum = addClip(sum, v.Power)
		if sum > MaxTotalVotingPower {
			return nil, fmt.Errorf("%w: total voting power exceeds %d", ErrInvalid, MaxTotalVotingPower)
		}
	}
	vs.total = sum
	if len(vs.vals) == 0 {
		return nil, fmt.Errorf("%w: validator set is empty", ErrInvalid)
	}
	for i, v := range vs.vals {
		if v.Power < 0 {
			return nil, fmt.Errorf("%w: validator #%d has negative voting power", ErrInvalid, i)
		}
	}
	if prop.Power < 0 {
		return nil, fmt.Errorf("%w: proposer has negative voting power", ErrInvalid)
	}
	found := false
	for _, v := range vs.vals {
		if bytes.Equal(v.Address, prop.Address) {
			found = true
			break
		}
	}
	if !found {
		return nil, fmt.Errorf("%w: proposer is not in the validator set", ErrInvalid)
	}
	bzs := make([][]byte, len(vs.vals))
	for i := range vs.vals {
		bzs[i] = vs.vals[i].bytes()
	}
	vs.hash = hashFromByteSlices(bzs)
	return vs, nil
}

// DecodeValidatorSet parses a protobuf-encoded validator set and checks it
// (see [NewValidatorSet]).
func DecodeValidatorSet(b []byte) (*ValidatorSet, error) {
	var pb cmtproto.ValidatorSet
	if err := pb.Unmarshal(b); err != nil {
		return nil, fmt.Errorf("%w: validator set: %v", ErrInvalid, err)
	}
	return NewValidatorSet(&pb)
}

// validatorFromProto converts one validator; only Ed25519 keys, with the
// address derived from the key (CometBFT's Validator.ValidateBasic; the
// sign of the power is checked by the caller after the total, in
// CometBFT's order).
func validatorFromProto(v *cmtproto.Validator) (Validator, error) {
	if v == nil {
		return Validator{}, errors.New("nil validator")
	}
	pk, ok := v.PubKey.Sum.(*cmtcrypto.PublicKey_Ed25519)
	if !ok {
		return Validator{}, fmt.Errorf("validator key type %T is not Ed25519", v.PubKey.Sum)
	}
	if len(pk.Ed25519) != ed25519.PubKeySize {
		return Validator{}, fmt.Errorf("Ed25519 key is %d bytes, want %d", len(pk.Ed25519), ed25519.PubKeySize)
	}
	pub := ed25519.PubKey(bytes.Clone(pk.Ed25519))
	if !bytes.Equal(v.Address, pub.Address()) {
		return Validator{}, fmt.Errorf("address %X is not derived from the key", v.Address)
	}
	return Validator{Address: bytes.Clone(v.Address), PubKey: pub, Power: v.VotingPower}, nil
}

// bytes is what the validator set hash commits to for one validator:
// tendermint.types.SimpleValidator{pub_key, voting_power}.
func (v *Validator) bytes() []byte {
	pk := cmtcrypto.PublicKey{Sum: &cmtcrypto.PublicKey_Ed25519{Ed25519: v.PubKey}}
	sv := cmtproto.SimpleValidator{PubKey: &pk, VotingPower: v.Power}
	b, err := sv.Marshal()
	if err != nil {
		panic("light: marshal a validator: " + err.Error()) // a fixed, valid message cannot fail
	}
	return b
}

// Hash is the Merkle root CometBFT puts in a header's ValidatorsHash.
func (vs *ValidatorSet) Hash() []byte { return bytes.Clone(vs.hash) }

// TotalPower is the sum of the voting powers.
func (vs *ValidatorSet) TotalPower() int64 { return vs.total }

// Size is the number of validators.
func (vs *ValidatorSet) Size() int { return len(vs.vals) }

// Validators returns a copy of the members in set order.
func (vs *ValidatorSet) Validators() []Validator {
	out := make([]Validator, len(vs.vals))
	copy(out, vs.vals)
	return out
}

// Proto returns the protobuf form the set was decoded from.
func (vs *ValidatorSet) Proto() *cmtproto.ValidatorSet { return vs.raw }

// byAddress returns the index of the first member with address a, or -1.
func (vs *ValidatorSet) byAddress(a []byte) int {
	for i := range vs.vals {
		if bytes.Equal(vs.vals[i].Address, a) {
			return i
		}
	}
	return -1
}

// SignedHeader is a block header with the commit that signs it, checked
// as CometBFT's SignedHeader.ValidateBasic checks it for one chain: the
// header is well formed (block protocol, hash sizes, a positive height),
// the commit is well formed (every signature's flag, address and length),
// both are for the same height, and the commit signs this header's hash.
// It does not say who signed: see [VerifyCommitLight].
type SignedHeader struct {
	Header *cmtproto.Header
	Commit *cmtproto.Commit
	hash   []byte
}

// NewSignedHeader checks a protobuf signed header for chainID (see
// [SignedHeader]). Errors wrap [ErrInvalid].
func NewSignedHeader(pb *cmtproto.SignedHeader, chainID string) (*SignedHeader, error) {
	if pb == nil {
		return nil, fmt.Errorf("%w: nil signed header", ErrInvalid)
	}
	if pb.Header != nil {
		if err := validateHeader(pb.Header); err != nil {
			return nil, fmt.Errorf("%w: header: %v", ErrInvalid, err)
		}
	}
	if pb.Commit != nil {
		if err := validateCommit(pb.Commit); err != nil {
			return nil, fmt.Errorf("%w: commit: %v", ErrInvalid, err)
		}
	}
	if pb.Header == nil {
		return nil, fmt.Errorf("%w: missing header", ErrInvalid)
	}
	if pb.Commit == nil {
		return nil, fmt.Errorf("%w: missing commit", ErrInvalid)
	}
	if pb.Header.ChainID != chainID {
		return nil, fmt.Errorf("%w: header belongs to chain %.64q, not %q", ErrInvalid, pb.Header.ChainID, chainID)
	}
	if pb.Commit.Height != pb.Header.Height {
		return nil, fmt.Errorf("%w: header and commit heights differ: %d vs %d", ErrInvalid, pb.Header.Height, pb.Commit.Height)
	}
	h := HeaderHash(pb.Header)
	if !bytes.Equal(h, pb.Commit.BlockID.Hash) {
		return nil, fmt.Errorf("%w: the commit signs block %X, the header is block %X", ErrInvalid, pb.Commit.BlockID.Hash, h)
	}
	return &SignedHeader{Header: pb.Header, Commit: pb.Commit, hash: h}, nil
}

// Height is the header's height.
func (sh *SignedHeader) Height() int64 { return sh.Header.Height }

// Time is the header's block time.
func (sh *SignedHeader) Time() time.Time { return sh.Header.Time }

// Hash is the header's hash (the block id hash the commit signs).
func (sh *SignedHeader) Hash() []byte { return bytes.Clone(sh.hash) }

// AppHash is the app hash the header commits to: the state after the
// previous block.
func (sh *SignedHeader) AppHash() []byte { return bytes.Clone(sh.Header.AppHash) }

// Proto returns the protobuf signed header.
func (sh *SignedHeader) Proto() *cmtproto.SignedHeader {
	return &cmtproto.SignedHeader{Header: sh.Header, Commit: sh.Commit}
}

// LightBlock is a signed header and the validator set of its height (the
// set whose hash is the header's ValidatorsHash, once verified).
type LightBlock struct {
	*SignedHeader
	Validators *ValidatorSet
}

// DecodeLightBlock parses the protobuf-encoded signed header and
// validator set of one height for chainID and checks their structure.
// Errors wrap [ErrInvalid]. Nothing about who signed is checked yet.
func DecodeLightBlock(signedHeader, validatorSet []byte, chainID string) (*LightBlock, error) {
	var shp cmtproto.SignedHeader
	if err := shp.Unmarshal(signedHeader); err != nil {
		return nil, fmt.Errorf("%w: signed header: %v", ErrInvalid, err)
	}
	sh, err := NewSignedHeader(&shp, chainID)
	if err != nil {
		return nil, err
	}
	vs, err := DecodeValidatorSet(validatorSet)
	if err != nil {
		return nil, err
	}
	return &LightBlock{SignedHeader: sh, Validators: vs}, nil
}

// Encode returns the protobuf encodings of lb's signed header and
// validator set, the inverse of [DecodeLightBlock].
func (lb *LightBlock) Encode() (signedHeader, validatorSet []byte, err error) {
	if signedHeader, err = lb.SignedHeader.Proto().Marshal(); err != nil {
		return nil, nil, err
	}
	if validatorSet, err = lb.Validators.Proto().Marshal(); err != nil {
		return nil, nil, err
	}
	return signedHeader, validatorSet, nil
}

// validateHeader is CometBFT's Header.ValidateBasic.
func validateHeader(h *cmtproto.Header) error {
	if h.Version.Block != BlockProtocol {
		return fmt.Errorf("block protocol %d, want %d", h.Version.Block, BlockProtocol)
	}
	if len(h.ChainID) > MaxChainIDLen {
		return fmt.Errorf("chain id is %d bytes, at most %d", len(h.ChainID), MaxChainIDLen)
	}
	if h.Height <= 0 {
		return fmt.Errorf("height %d is not positive", h.Height)
	}
	if err := validateBlockID(&h.LastBlockId); err != nil {
		return fmt.Errorf("last block id: %v", err)
	}
	for _, f := range []struct {
		name string
		b    []byte
	}{{"last commit hash", h.LastCommitHash}, {"data hash", h.DataHash}, {"evidence hash", h.EvidenceHash}} {
		if err := validateHash(f.b); err != nil {
			return fmt.Errorf("%s: %v", f.name, err)
		}
	}
	if len(h.ProposerAddress) != addressSize {
		return fmt.Errorf("proposer address is %d bytes, want %d", len(h.ProposerAddress), addressSize)
	}
	for _, f := range []struct {
		name string
		b    []byte
	}{{"validators hash", h.ValidatorsHash}, {"next validators hash", h.NextValidatorsHash},
		{"consensus hash", h.ConsensusHash}, {"last results hash", h.LastResultsHash}} {
		if err := validateHash(f.b); err != nil {
			return fmt.Errorf("%s: %v", f.name, err)
		}
	}
	return nil
}

// validateCommit is CometBFT's CommitFromProto + Commit.ValidateBasic.
func validateCommit(c *cmtproto.Commit) error {
	if err := validateBlockID(&c.BlockID); err != nil {
		return fmt.Errorf("block id: %v", err)
	}
	for i := range c.Signatures {
		if err := validateCommitSig(&c.Signatures[i]); err != nil {
			return fmt.Errorf("signature #%d: %v", i, err)
		}
	}
	if c.Height < 0 {
		return errors.New("negative height")
	}
	if c.Round < 0 {
		return errors.New("negative round")
	}
	if c.Height >= 1 {
		if blockIDIsZero(&c.BlockID) {
			return errors.New("commit for a nil block")
		}
		if len(c.Signatures) == 0 {
			return errors.New("no signatures")
		}
	}
	return nil
}

// validateCommitSig is CometBFT's CommitSig.ValidateBasic.
func validateCommitSig(cs *cmtproto.CommitSig) error {
	switch cs.BlockIdFlag {
	case cmtproto.BlockIDFlagAbsent:
		if len(cs.ValidatorAddress) != 0 {
			return errors.New("absent vote with a validator address")
		}
		if !cs.Timestamp.IsZero() {
			return errors.New("absent vote with a time")
		}
		if len(cs.Signature) != 0 {
			return errors.New("absent vote with a signature")
		}
	case cmtproto.BlockIDFlagCommit, cmtproto.BlockIDFlagNil:
		if len(cs.ValidatorAddress) != addressSize {
			return fmt.Errorf("validator address is %d bytes, want %d", len(cs.ValidatorAddress), addressSize)
		}
		if len(cs.Signature) == 0 {
			return errors.New("signature is missing")
		}
		if len(cs.Signature) > maxSignatureSize {
			return fmt.Errorf("signature is longer than %d bytes", maxSignatureSize)
		}
	default:
		return fmt.Errorf("unknown block id flag %d", cs.BlockIdFlag)
	}
	return nil
}

func validateBlockID(b *cmtproto.BlockID) error {
	if err := validateHash(b.Hash); err != nil {
		return err
	}
	if err := validateHash(b.PartSetHeader.Hash); err != nil {
		return fmt.Errorf("part set header: %v", err)
	}
	return nil
}

func blockIDIsZero(b *cmtproto.BlockID) bool {
	return len(b.Hash) == 0 && b.PartSetHeader.Total == 0 && len(b.PartSetHeader.Hash) == 0
}

func blockIDEqual(a, b *cmtproto.BlockID) bool {
	return bytes.Equal(a.Hash, b.Hash) && a.PartSetHeader.Total == b.PartSetHeader.Total &&
		bytes.Equal(a.PartSetHeader.Hash, b.PartSetHeader.Hash)
}

func validateHash(h []byte) error {
	if len(h) > 0 && len(h) != hashSize {
		return fmt.Errorf("hash is %d bytes, want %d", len(h), hashSize)
	}
	return nil
}

func addClip(a, b int64) int64 {
	if b > 0 && a > math.MaxInt64-b {
		return math.MaxInt64
	}
	if b < 0 && a < math.MinInt64-b {
		return math.MinInt64
	}
	return a + b
}
