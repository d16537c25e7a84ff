package tokenstatus

import (
	"errors"
	"fmt"
)

// Change is a change of one entry's status by the list's owner.
type Change string

// The changes an owner makes. Revocation is final: an INVALID entry never
// changes again; a SUSPENDED one is lifted by Reinstate or made final by
// Revoke. One list of 2 or more bits carries both, where a Bitstring
// Status List needs a list per purpose.
const (
	Revoke    Change = "revoke"    // set the entry to INVALID
	Suspend   Change = "suspend"   // set a VALID entry to SUSPENDED (bits >= 2)
	Reinstate Change = "reinstate" // set a SUSPENDED entry back to VALID
)

// ErrFinal is returned by [List.Apply] for a change to an entry that is
// INVALID (revoked): revocation is final.
var ErrFinal = errors.New("revocation is final")

// ChangeError reports a change that does not apply to an entry as it is:
// suspending in a 1-bit list, reinstating an entry that is not suspended,
// an unknown change. It wraps [ErrFinal] when the entry is revoked.
type ChangeError struct {
	Change Change
	Index  int
	// Was is the entry's status; Bits the list's bits per entry.
	Was  uint8
	Bits int
}

func (e *ChangeError) Error() string {
	switch {
	case e.Was == Invalid:
		return fmt.Sprintf("index %d is INVALID (revoked): revocation is final", e.Index)
	case e.Change == Suspend && e.Bits < 2:
		return fmt.Sprintf("this list has %d bit per entry, which holds VALID and INVALID only: suspension needs a list of 2 or more bits", e.Bits)
	case e.Change == Reinstate:
		return fmt.Sprintf("index %d is %s, not SUSPENDED: only a suspension can be lifted", e.Index, StatusName(e.Was))
	case e.Change == Suspend:
		return fmt.Sprintf("index %d is %s: only a VALID entry can be suspended", e.Index, StatusName(e.Was))
	}
	return fmt.Sprintf("unknown status change %q: use revoke, suspend or reinstate", e.Change)
}

// Unwrap returns [ErrFinal] for a change to a revoked entry, else nil.
func (e *ChangeError) Unwrap() error {
	if e.Was == Invalid && (e.Change == Revoke || e.Change == Suspend || e.Change == Reinstate) {
		return ErrFinal
	}
	return nil
}

// Apply makes change c to entry i of l and returns the entry's status
// before it. Revoking an INVALID entry again is harmless (nothing
// changes, no error). Errors: one wrapping [ErrRange] for an index
// outside the list, a [*ChangeError] when c does not apply to the entry
// as it is (see [Change]); on error nothing changed.
func (l *List) Apply(c Change, i int) (was uint8, err error) {
	was, err = l.Get(i)
	if err != nil {
		return 0, err
	}
	var to uint8
	switch {
	case c == Revoke && (was == Valid || was == Suspended || was == Invalid):
		to = Invalid
	case c == Suspend && was == Valid && l.bits >= 2:
		to = Suspended
	case c == Reinstate && was == Suspended:
		to = Valid
	default:
		return was, &ChangeError{Change: c, Index: i, Was: was, Bits: l.bits}
	}
	return was, l.Set(i, to)
}

// StatusName is the name of a status value: VALID, INVALID, SUSPENDED, or
// its hexadecimal value for one this package does not name (0x03 is
// application-specific; 0x0B-0x0F are reserved).
func StatusName(v uint8) string {
	switch v {
	case Valid:
		return "VALID"
	case Invalid:
		return "INVALID"
	case Suspended:
		return "SUSPENDED"
	}
	return fmt.Sprintf("%#02x", v)
}

// SameList reports whether t and o are versions of the same list: the
// same URI (sub) and issuer, entries of the same size. A newer version
// may change any entry; the list's identity stays.
func (t *Token) SameList(o *Token) bool {
	return t != nil && o != nil && t.List != nil && o.List != nil && t.URI == o.URI && t.Issuer == o.Issuer && t.List.Bits() == o.List.Bits()
}
