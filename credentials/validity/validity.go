// Package validity holds the checks every authorisation medid decides on
// shares, whatever its credential: a consent grant (credentials/consent), a
// delegation (credentials/delegation), the ledger's record of either. Three
// rules, written once so that the packages cannot drift apart:
//
//   - the party: the DID that acts is the one the authorisation names
//     ([Party]);
//   - the period: an authorisation holds from its start up to, not
//     including, its end, and one without an end never ends ([Period]);
//   - a revocation: it takes effect at the time recorded for it, and one
//     recorded without a time counts from the beginning ([RevokedAt]).
//
// Each caller keeps its own sentinel errors (consent.ErrConsentExpired,
// delegation.ErrExpired, …): the functions here wrap the ones they are
// given, so errors.Is keeps working and the messages stay each package's.
package validity

import (
	"fmt"
	"time"
)

// Period is a half-open validity period [From, Until). A nil Until means
// the period never ends; a set Until ends it, whatever its value (the
// ledger's records keep a zero time they were given as an end, and such a
// period holds at no time). Whether a start or an end is required is the
// caller's rule (see [Period.Valid]).
type Period struct {
	From  time.Time
	Until *time.Time
}

// End is the Until of a Period for an end kept as a time.Time whose zero
// value means open-ended (as consent.Grant and delegation.Delegation keep
// it): nil for the zero time, else &t.
func End(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// Contains reports whether at lies in p: not before From, and before Until
// when Until is set.
func (p Period) Contains(at time.Time) bool {
	return !at.Before(p.From) && (p.Until == nil || at.Before(*p.Until))
}

// Check returns nil when at lies in p. Before From it returns an error
// wrapping notYet ("<notYet>: valid from <From>"); at or after a set Until
// one wrapping expired ("<expired>: valid until <Until>"); times in UTC,
// RFC 3339.
func (p Period) Check(at time.Time, notYet, expired error) error {
	if at.Before(p.From) {
		return fmt.Errorf("%w: valid from %s", notYet, p.From.UTC().Format(time.RFC3339))
	}
	if p.Until != nil && !at.Before(*p.Until) {
		return fmt.Errorf("%w: valid until %s", expired, p.Until.UTC().Format(time.RFC3339))
	}
	return nil
}

// Valid returns an error when p has an Until that is not after From
// ("validUntil <Until> is not after validFrom <From>"): such a period holds
// at no time.
func (p Period) Valid() error {
	if p.Until != nil && !p.Until.After(p.From) {
		return fmt.Errorf("validUntil %s is not after validFrom %s", p.Until.UTC().Format(time.RFC3339), p.From.UTC().Format(time.RFC3339))
	}
	return nil
}

// Party returns nil when got, the DID that acts, is want, the DID the
// authorisation names. Otherwise it returns an error wrapping err:
// "<err>: <names> <want>, not <got>", with got (which comes from the
// request, not from a signed credential) cut to 128 bytes. names says what
// the authorisation does with want, e.g. "the grant is for".
func Party(err error, names, want, got string) error {
	if got == want {
		return nil
	}
	return fmt.Errorf("%w: %s %s, not %.128s", err, names, want, got)
}

// RevokedAt reports whether a revocation has taken effect at time at:
// revoked is whether there was one, when its effective time (nil when none
// was recorded: then it counts from the beginning, the safe reading).
func RevokedAt(revoked bool, when *time.Time, at time.Time) bool {
	return revoked && (when == nil || !at.Before(*when))
}
