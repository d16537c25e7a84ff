package light

import (
	"errors"
	"fmt"
	"math"

	"github.com/cometbft/cometbft/crypto/ed25519"
	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"
)

// Fraction is a trust level: Numerator/Denominator of a validator set's
// voting power.
type Fraction struct {
	Numerator, Denominator uint64
}

// DefaultTrustLevel is the fraction of a trusted validator set that must
// have signed a header for the light client to trust the new set it names
// (CometBFT's default): at least one honest validator among them, if fewer
// than a third of the trusted set is faulty.
var DefaultTrustLevel = Fraction{Numerator: 1, Denominator: 3}

// ValidateTrustLevel checks lvl is within [1/3, 1], as CometBFT requires.
func ValidateTrustLevel(lvl Fraction) error {
	if lvl.Denominator == 0 || lvl.Numerator*3 < lvl.Denominator || lvl.Numerator > lvl.Denominator {
		return fmt.Errorf("trust level %d/%d is not within [1/3, 1]", lvl.Numerator, lvl.Denominator)
	}
	return nil
}

// ErrNotEnoughPower reports a commit whose valid signatures carry too
// little of a validator set's power. Errors that report it are a
// [*NotEnoughPowerError].
var ErrNotEnoughPower = errors.New("not enough voting power signed")

// NotEnoughPowerError says how much power signed and how much was needed
// (strictly more than Needed).
type NotEnoughPowerError struct {
	Got, Needed int64
}

func (e *NotEnoughPowerError) Error() string {
	return fmt.Sprintf("%v: got %d, needed more than %d", ErrNotEnoughPower, e.Got, e.Needed)
}

// Unwrap returns ErrNotEnoughPower.
func (e *NotEnoughPowerError) Unwrap() error { return ErrNotEnoughPower }

// ErrSignature reports a commit signature that does not verify, a
// signature from an address out of place, or a validator that signed twice.
var ErrSignature = errors.New("invalid commit signature")

// VerifyCommitLight checks that more than 2/3 of vals' power signed commit
// for blockID at height, as CometBFT's ValidatorSet.VerifyCommitLight does:
// the commit has one entry per member of vals, in order; only signatures
// for the block count; signatures are verified (Ed25519, ZIP-215 rules, as
// CometBFT verifies them) until more than 2/3 is reached, and not beyond.
// It returns nil, a [*NotEnoughPowerError], or an error wrapping
// [ErrSignature] or [ErrInvalid].
func VerifyCommitLight(chainID string, vals *ValidatorSet, blockID *cmtproto.BlockID, height int64, commit *cmtproto.Commit) error {
	if vals == nil {
		return fmt.Errorf("%w: nil validator set", ErrInvalid)
	}
	if commit == nil {
		return fmt.Errorf("%w: nil commit", ErrInvalid)
	}
	if vals.Size() != len(commit.Signatures) {
		return fmt.Errorf("%w: %d validators but %d commit signatures", ErrInvalid, vals.Size(), len(commit.Signatures))
	}
	if height != commit.Height {
		return fmt.Errorf("%w: commit is for height %d, want %d", ErrInvalid, commit.Height, height)
	}
	if !blockIDEqual(blockID, &commit.BlockID) {
		return fmt.Errorf("%w: commit is for another block id", ErrInvalid)
	}
	return verifyCommit(chainID, vals, commit, vals.TotalPower()*2/3, true)
}

// VerifyCommitLightTrusting checks that more than trustLevel of vals'
// power signed commit, where vals need not be the set that made the
// commit (CometBFT's ValidatorSet.VerifyCommitLightTrusting): signatures
// are matched to vals by address, those of non-members are skipped, and a
// member that signed twice is an error. It returns nil, a
// [*NotEnoughPowerError] (the caller may look for an intermediate header),
// or an error wrapping [ErrSignature] or [ErrInvalid].
func VerifyCommitLightTrusting(chainID string, vals *ValidatorSet, commit *cmtproto.Commit, trustLevel Fraction) error {
	if vals == nil {
		return fmt.Errorf("%w: nil validator set", ErrInvalid)
	}
	if trustLevel.Denominator == 0 {
		return fmt.Errorf("%w: trust level has a zero denominator", ErrInvalid)
	}
	if commit == nil {
		return fmt.Errorf("%w: nil commit", ErrInvalid)
	}
	if trustLevel.Numerator > math.MaxInt64 || trustLevel.Denominator > math.MaxInt64 {
		return fmt.Errorf("%w: trust level %d/%d out of range", ErrInvalid, trustLevel.Numerator, trustLevel.Denominator)
	}
	prod, overflow := mulInt64(vals.TotalPower(), int64(trustLevel.Numerator))
	if overflow {
		return fmt.Errorf("%w: trust level numerator %d overflows the voting power", ErrInvalid, trustLevel.Numerator)
	}
	return verifyCommit(chainID, vals, commit, prod/int64(trustLevel.Denominator), false)
}

// verifyCommit tallies the power of commit's signatures for the block
// until it exceeds needed, then verifies the signatures tallied. It keeps
// the order of CometBFT's verifyCommitBatch (two or more signatures: tally
// first, then verify, so too little power is reported before a bad
// signature) and verifyCommitSingle (one signature: verify, then tally),
// so errors fall in the same class as CometBFT's.
func verifyCommit(chainID string, vals *ValidatorSet, commit *cmtproto.Commit, needed int64, byIndex bool) error {
	type pending struct {
		idx int
		pub ed25519.PubKey
		msg []byte
	}
	batch := len(commit.Signatures) >= 2
	var (
		tally int64
		todo  []pending
		seen  = map[int]int{}
	)
	for idx := range commit.Signatures {
		cs := &commit.Signatures[idx]
		if cs.BlockIdFlag != cmtproto.BlockIDFlagCommit {
			continue
		}
		if !batch {
			if err := validateCommitSig(cs); err != nil {
				return fmt.Errorf("%w: signature #%d: %v", ErrInvalid, idx, err)
			}
		}
		var val *Validator
		if byIndex {
			val = &vals.vals[idx]
			if !bytesEqual(val.Address, cs.ValidatorAddress) {
				return fmt.Errorf("%w: signature #%d is from %X, the validator at that index is %X", ErrSignature, idx, cs.ValidatorAddress, val.Address)
			}
		} else {
			vi := vals.byAddress(cs.ValidatorAddress)
			if vi < 0 {
				continue // not a member of this set
			}
			if first, ok := seen[vi]; ok {
				return fmt.Errorf("%w: validator %X signed twice (#%d and #%d)", ErrSignature, cs.ValidatorAddress, first, idx)
			}
			seen[vi] = idx
			val = &vals.vals[vi]
		}
		msg, err := VoteSignBytes(chainID, commit, idx)
		if err != nil {
			return err
		}
		if batch {
			if len(cs.Signature) != ed25519.SignatureSize {
				return fmt.Errorf("%w: signature #%d is %d bytes", ErrSignature, idx, len(cs.Signature))
			}
			todo = append(todo, pending{idx, val.PubKey, msg})
		} else if !val.PubKey.VerifySignature(msg, cs.Signature) {
			return fmt.Errorf("%w: signature #%d does not verify", ErrSignature, idx)
		}
		tally += val.Power
		if tally > needed {
			break
		}
	}
	if tally <= needed {
		return &NotEnoughPowerError{Got: tally, Needed: needed}
	}
	for _, p := range todo {
		if !p.pub.VerifySignature(p.msg, commit.Signatures[p.idx].Signature) {
			return fmt.Errorf("%w: signature #%d does not verify", ErrSignature, p.idx)
		}
	}
	return nil
}

func bytesEqual(a, b []byte) bool { return string(a) == string(b) }

// mulInt64 is CometBFT's safeMul.
func mulInt64(a, b int64) (int64, bool) {
	if a == 0 || b == 0 {
		return 0, false
	}
	absA, absB := a, b
	if absA < 0 {
		absA = -absA
	}
	if absB < 0 {
		absB = -absB
	}
	if absA > math.MaxInt64/absB {
		return 0, true
	}
	return a * b, false
}
