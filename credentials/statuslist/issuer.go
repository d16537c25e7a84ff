package statuslist

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/credentials/vc"
)

// The issuer's side of a status list's life: sign a version ([Sign]), read
// back one's own list ([ParseToken]), give a new credential its entry
// ([Entry], [Decoded.EntryFor], [FileAllocator]) and change an entry
// ([Decoded.Apply]). Publishing a version on the registry is the registry
// client's job (registry/client: PlanStatusListPublish).

// ClockSkew is how far [Sign] backdates a status list credential's
// validFrom.
const ClockSkew = time.Minute

// Sign signs the status list credential c (from [NewCredential]) as a
// vc+jwt with k, kid naming k under the issuer's assertionMethod, after
// moving its validFrom back by [ClockSkew]. The registry checks validFrom
// against the block time and verifiers against their own clocks; both can
// trail the signer's by a little, and a list that is "not yet valid" for
// them is worse than useless. Backdating is harmless: a status list states
// what the bits are, not when they changed. c is modified. Errors are
// vc.Issue's, wrapped.
func Sign(c *vc.Credential, k *key.PrivateKey, kid string) (string, error) {
	if c == nil || c.ValidFrom == nil {
		return "", errors.New("statuslist: sign: no credential (use NewCredential)")
	}
	from := c.ValidFrom.Add(-ClockSkew)
	c.ValidFrom = &from
	tok, err := vc.Issue(c, k, kid)
	if err != nil {
		return "", fmt.Errorf("sign status list: %w", err)
	}
	return tok, nil
}

// ParseToken decodes a status list credential token WITHOUT checking its
// signature or validity period: for the list's owner, who reads back the
// list it signed (to change an entry, to allocate entries), never for a
// verifier, who goes through credentials/verify. Errors wrap vc's parse
// errors or those of [FromCredential].
func ParseToken(token string) (*Decoded, error) {
	t, err := vc.Parse(token)
	if err != nil {
		return nil, err
	}
	return FromCredential(t.Credential)
}

// Entry returns the credentialStatus entry that points at index of the
// status list credential listID with the given purpose:
// {id: listID#index, type: BitstringStatusListEntry, statusPurpose,
// statusListIndex, statusListCredential: listID}. It does not check the
// index against the list's length: see [Decoded.EntryFor].
func Entry(listID string, purpose Purpose, index int) vc.Status {
	i := strconv.Itoa(index)
	return vc.Status{ID: listID + "#" + i, Type: TypeEntry, StatusPurpose: string(purpose), StatusListIndex: i, StatusListCredential: listID}
}

// ErrNotOwner reports a status list whose issuer is not the issuer of the
// credentials that would point at it: verifiers only trust a status list
// signed by a credential's own issuer.
var ErrNotOwner = errors.New("status list belongs to another issuer")

// OwnerError is [ErrNotOwner] with the evidence.
type OwnerError struct {
	// List is the list's id, Owner its issuer, Issuer the would-be user.
	List, Owner, Issuer string
}

func (e *OwnerError) Error() string {
	return fmt.Sprintf("status list %s belongs to %s, not to the issuer %s: verifiers would refuse it", e.List, e.Owner, e.Issuer)
}

// Unwrap returns [ErrNotOwner].
func (e *OwnerError) Unwrap() error { return ErrNotOwner }

// EntryFor returns the entry for index of d for a credential issued by
// issuer (see [Entry]). Errors: an [*OwnerError] when d was issued by
// someone else, an error wrapping [ErrRange] when index lies outside the
// list.
func (d *Decoded) EntryFor(issuer string, index int) (vc.Status, error) {
	if d.Issuer != issuer {
		return vc.Status{}, &OwnerError{List: d.ID, Owner: d.Issuer, Issuer: issuer}
	}
	if index < 0 || index >= d.List.Len() {
		return vc.Status{}, rangeError(index, d.List.Len())
	}
	return Entry(d.ID, d.Purpose, index), nil
}

// Op is a change of one entry's status by the list's owner.
type Op string

// The changes an owner makes. Revocation is final: a revocation list's
// bits are only ever set; a suspension is lifted by Reinstate.
const (
	Revoke    Op = "revoke"    // set a bit of a revocation list
	Suspend   Op = "suspend"   // set a bit of a suspension list
	Reinstate Op = "reinstate" // clear a bit of a suspension list
)

// Purpose returns the status purpose of the lists op applies to, and the
// value it gives the entry's bit. ok is false for an unknown op.
func (op Op) Purpose() (p Purpose, value, ok bool) {
	switch op {
	case Revoke:
		return Revocation, true, true
	case Suspend:
		return Suspension, true, true
	case Reinstate:
		return Suspension, false, true
	}
	return "", false, false
}

// OpError reports an [Op] applied to a list of another purpose (which
// includes lifting a revocation: revocation is final).
type OpError struct {
	Op Op
	// Want is the purpose Op needs, Got the list's.
	Want, Got Purpose
}

func (e *OpError) Error() string {
	if e.Op == Reinstate && e.Got == Revocation {
		return "revocation is final; only a suspension can be lifted"
	}
	if e.Want == "" {
		return fmt.Sprintf("unknown status change %q: use revoke, suspend or reinstate", e.Op)
	}
	return fmt.Sprintf("%s needs a %s list, this is a %s list", e.Op, e.Want, e.Got)
}

// Apply makes op's change to entry index of d's list and returns the bit's
// previous value. d's list is changed in memory only: sign a new version
// with [NewCredential] and [Sign]. Errors: an [*OpError] when op does not
// apply to d's purpose, an error wrapping [ErrRange] for an index outside
// the list; on error nothing changed.
func (d *Decoded) Apply(op Op, index int) (was bool, err error) {
	want, value, ok := op.Purpose()
	if !ok || d.Purpose != want {
		return false, &OpError{Op: op, Want: want, Got: d.Purpose}
	}
	was, err = d.List.Get(index)
	if err != nil {
		return false, err
	}
	if err := d.List.Set(index, value); err != nil {
		return false, err
	}
	return was, nil
}

// SameList reports whether d and o are versions of one status list: the
// same credential id, issuer and purpose (the three a list keeps for life;
// the registry refuses a version that changes them). An owner checks it
// before replacing its copy with a version read from elsewhere.
func (d *Decoded) SameList(o *Decoded) bool {
	return d != nil && o != nil && d.ID == o.ID && d.Issuer == o.Issuer && d.Purpose == o.Purpose
}
