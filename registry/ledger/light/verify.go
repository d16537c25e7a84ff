package light

import (
	"bytes"
	"errors"
	"fmt"
	"time"
)

// Options are the light client's security parameters.
type Options struct {
	// TrustingPeriod is how long a verified header may be used to verify
	// newer ones: past Time + TrustingPeriod its validators may have left
	// the network and their keys no longer be guarded, so a header they
	// sign proves nothing. 0 means [DefaultTrustingPeriod].
	TrustingPeriod time.Duration
	// TrustLevel is the fraction of a trusted set that must sign a header
	// whose validators the client does not know yet; zero means
	// [DefaultTrustLevel] (1/3). It must lie within [1/3, 1].
	TrustLevel Fraction
	// MaxClockDrift is how far in the future a header's time may be;
	// 0 means [DefaultMaxClockDrift].
	MaxClockDrift time.Duration
}

// Defaults of [Options].
const (
	// DefaultTrustingPeriod: two weeks. A client that verified a header
	// within the last two weeks follows any validator set change since; one
	// that did not must be given a recent trusted height and hash again.
	DefaultTrustingPeriod = 14 * 24 * time.Hour
	// DefaultMaxClockDrift is CometBFT's default (10 s).
	DefaultMaxClockDrift = 10 * time.Second
)

func (o Options) withDefaults() (Options, error) {
	if o.TrustingPeriod == 0 {
		o.TrustingPeriod = DefaultTrustingPeriod
	}
	if o.TrustingPeriod < 0 {
		return o, fmt.Errorf("trusting period %s is negative", o.TrustingPeriod)
	}
	if o.TrustLevel == (Fraction{}) {
		o.TrustLevel = DefaultTrustLevel
	}
	if err := ValidateTrustLevel(o.TrustLevel); err != nil {
		return o, err
	}
	if o.MaxClockDrift == 0 {
		o.MaxClockDrift = DefaultMaxClockDrift
	}
	return o, nil
}

// Errors of verification. Callers branch on them with errors.Is.
var (
	// ErrExpired: the trusted header is older than the trusting period.
	ErrExpired = errors.New("trusted header expired")
	// ErrCannotTrust: too little of the trusted validator set signed the
	// new header to trust the validators it names (wraps
	// [ErrNotEnoughPower]); a header between the two may still be
	// verifiable (bisection).
	ErrCannotTrust = errors.New("new validator set cannot be trusted")
	// ErrBadHeader: the new header is not valid against the trusted one
	// (height, time, validators, signatures).
	ErrBadHeader = errors.New("invalid header")
)

// Verify checks untrusted against trusted (a header this client already
// trusts, with the validator set of its height) following CometBFT v0.38's
// light.Verify: adjacent heights need the new validators to be the ones the
// trusted header named next; otherwise (skipping) more than trustLevel of
// the trusted validators must have signed. In both cases the trusted header
// must be within the trusting period at now, the new header must be
// newer in height and time, not from the future (beyond MaxClockDrift),
// hash its validator set, and more than 2/3 of that set must have signed
// it. The error wraps [ErrExpired], [ErrCannotTrust] or [ErrBadHeader].
func Verify(trusted, untrusted *LightBlock, opts Options, now time.Time) error {
	o, err := opts.withDefaults()
	if err != nil {
		return err
	}
	if untrusted.Height() == trusted.Height()+1 {
		return verifyAdjacent(trusted, untrusted, o, now)
	}
	return verifyNonAdjacent(trusted, untrusted, o, now)
}

func expired(t time.Time, period time.Duration, now time.Time) bool {
	return !t.Add(period).After(now)
}

func verifyNonAdjacent(trusted, untrusted *LightBlock, o Options, now time.Time) error {
	if expired(trusted.Time(), o.TrustingPeriod, now) {
		return fmt.Errorf("%w: header %d of %s expired at %s", ErrExpired, trusted.Height(), trusted.Time().UTC().Format(time.RFC3339), trusted.Time().Add(o.TrustingPeriod).UTC().Format(time.RFC3339))
	}
	if err := verifyNewHeaderAndVals(trusted, untrusted, o, now); err != nil {
		return err
	}
	if err := VerifyCommitLightTrusting(trusted.Header.ChainID, trusted.Validators, untrusted.Commit, o.TrustLevel); err != nil {
		if errors.Is(err, ErrNotEnoughPower) {
			return fmt.Errorf("%w: %w", ErrCannotTrust, err)
		}
		return fmt.Errorf("%w: %w", ErrBadHeader, err)
	}
	// Last, as in CometBFT: the untrusted set may be made large to slow the
	// client down.
	if err := VerifyCommitLight(trusted.Header.ChainID, untrusted.Validators, &untrusted.Commit.BlockID, untrusted.Height(), untrusted.Commit); err != nil {
		return fmt.Errorf("%w: %w", ErrBadHeader, err)
	}
	return nil
}

func verifyAdjacent(trusted, untrusted *LightBlock, o Options, now time.Time) error {
	if expired(trusted.Time(), o.TrustingPeriod, now) {
		return fmt.Errorf("%w: header %d of %s expired at %s", ErrExpired, trusted.Height(), trusted.Time().UTC().Format(time.RFC3339), trusted.Time().Add(o.TrustingPeriod).UTC().Format(time.RFC3339))
	}
	if err := verifyNewHeaderAndVals(trusted, untrusted, o, now); err != nil {
		return err
	}
	if !bytes.Equal(untrusted.Header.ValidatorsHash, trusted.Header.NextValidatorsHash) {
		return fmt.Errorf("%w: header %d names validators %X, header %d named %X next", ErrBadHeader,
			untrusted.Height(), untrusted.Header.ValidatorsHash, trusted.Height(), trusted.Header.NextValidatorsHash)
	}
	if err := VerifyCommitLight(trusted.Header.ChainID, untrusted.Validators, &untrusted.Commit.BlockID, untrusted.Height(), untrusted.Commit); err != nil {
		return fmt.Errorf("%w: %w", ErrBadHeader, err)
	}
	return nil
}

func verifyNewHeaderAndVals(trusted, untrusted *LightBlock, o Options, now time.Time) error {
	// NewSignedHeader checked the structure for the header's own chain;
	// it must be the trusted header's chain.
	if untrusted.Header.ChainID != trusted.Header.ChainID {
		return fmt.Errorf("%w: header belongs to chain %.64q, not %q", ErrBadHeader, untrusted.Header.ChainID, trusted.Header.ChainID)
	}
	if untrusted.Height() <= trusted.Height() {
		return fmt.Errorf("%w: height %d is not above the trusted height %d", ErrBadHeader, untrusted.Height(), trusted.Height())
	}
	if !untrusted.Time().After(trusted.Time()) {
		return fmt.Errorf("%w: time %s is not after the trusted header's %s", ErrBadHeader, untrusted.Time(), trusted.Time())
	}
	if !untrusted.Time().Before(now.Add(o.MaxClockDrift)) {
		return fmt.Errorf("%w: time %s is in the future (now %s, max drift %s)", ErrBadHeader, untrusted.Time(), now, o.MaxClockDrift)
	}
	if !bytes.Equal(untrusted.Header.ValidatorsHash, untrusted.Validators.hash) {
		return fmt.Errorf("%w: header %d names validators %X, the set given hashes to %X", ErrBadHeader,
			untrusted.Height(), untrusted.Header.ValidatorsHash, untrusted.Validators.hash)
	}
	return nil
}

// VerifyBackwards checks that untrusted is the header just before trusted
// (CometBFT's light.VerifyBackwards): the trusted header's last block id is
// untrusted's hash, both are on one chain, and untrusted is older. The
// hash chain needs no signatures. The error wraps [ErrBadHeader].
func VerifyBackwards(untrusted, trusted *SignedHeader) error {
	if untrusted.Header.ChainID != trusted.Header.ChainID {
		return fmt.Errorf("%w: header belongs to another chain", ErrBadHeader)
	}
	if !untrusted.Time().Before(trusted.Time()) {
		return fmt.Errorf("%w: header %d's time %s is not before header %d's %s", ErrBadHeader, untrusted.Height(), untrusted.Time(), trusted.Height(), trusted.Time())
	}
	if !bytes.Equal(untrusted.hash, trusted.Header.LastBlockId.Hash) {
		return fmt.Errorf("%w: header %d's hash %X is not the last block id %X of header %d", ErrBadHeader, untrusted.Height(), untrusted.hash, trusted.Header.LastBlockId.Hash, trusted.Height())
	}
	return nil
}
