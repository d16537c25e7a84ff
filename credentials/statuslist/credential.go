package statuslist

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/medid/medid/credentials/vc"
)

// Purpose is a statusPurpose: what a set bit means.
type Purpose string

// Status purposes of Bitstring Status List v1.0. Only Revocation and
// Suspension can be checked with [Check]; Refresh and Message lists are
// accepted by [FromCredential] so that they can be read and passed on.
const (
	Revocation Purpose = "revocation"
	Suspension Purpose = "suspension"
	Refresh    Purpose = "refresh"
	Message    Purpose = "message"
)

// Names the spec gives to the credential, its subject and status entries.
const (
	TypeCredential = "BitstringStatusListCredential"
	TypeList       = "BitstringStatusList"
	TypeEntry      = vc.StatusTypeBitstring
)

// ErrListMismatch is a STATUS_VERIFICATION_ERROR: the status list credential
// is not the one the status entry names (its id differs from the entry's
// statusListCredential).
var ErrListMismatch = errors.New("status list credential is not the one the status entry names (STATUS_VERIFICATION_ERROR)")

func (p Purpose) known() bool {
	switch p {
	case Revocation, Suspension, Refresh, Message:
		return true
	}
	return false
}

// NewCredential returns the unsigned status list credential for l: @context
// VC 2.0, id, types VerifiableCredential and BitstringStatusListCredential,
// the issuer, validFrom now (UTC, whole seconds), and a credentialSubject
// {id: id+"#list", type: BitstringStatusList, statusPurpose, encodedList,
// ttl (milliseconds, only when ttl > 0)}. The issuer signs it with vc.Issue.
// id and issuer must be URLs (the issuer a DID for medid), purpose one of the
// four spec purposes, and ttl not negative.
func NewCredential(id, issuer string, purpose Purpose, l *List, ttl time.Duration) (*vc.Credential, error) {
	if id == "" || issuer == "" {
		return nil, errors.New("statuslist: a status list credential needs an id and an issuer")
	}
	if !purpose.known() {
		return nil, fmt.Errorf("statuslist: unknown status purpose %q (want revocation, suspension, refresh or message)", purpose)
	}
	if l == nil || l.Len() < MinEntries {
		return nil, fmt.Errorf("%w: cannot publish a list shorter than the minimum", ErrListLength)
	}
	if ttl < 0 {
		return nil, fmt.Errorf("statuslist: negative ttl %s", ttl)
	}
	enc, err := l.Encode()
	if err != nil {
		return nil, err
	}
	subject := map[string]any{
		"id":            id + "#list",
		"type":          TypeList,
		"statusPurpose": string(purpose),
		"encodedList":   enc,
	}
	if ttl > 0 {
		subject["ttl"] = ttl.Milliseconds()
	}
	now := time.Now().UTC().Truncate(time.Second)
	c := &vc.Credential{
		Context:   []string{vc.ContextV2},
		ID:        id,
		Type:      []string{vc.TypeCredential, TypeCredential},
		Issuer:    issuer,
		ValidFrom: &now,
		Subject:   subject,
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("statuslist: %w", err)
	}
	return c, nil
}

// Decoded is a status list credential taken apart by [FromCredential]. It is
// read only after FromCredential returns and then safe for concurrent use.
type Decoded struct {
	// List is the decoded bitstring.
	List *List
	// Purpose is the list's statusPurpose.
	Purpose Purpose
	// TTL is the subject's ttl, how long the list may be cached; 0 when the
	// credential does not say.
	TTL time.Duration
	// ID is the status list credential's id (statusListCredential in the
	// entries that point at it).
	ID string
	// Issuer is the issuer of the status list credential.
	Issuer string
}

// FromCredential decodes a status list credential. It does not check its
// signature or validity period: pass only a credential that vc.Verify
// returned. Errors wrap ErrMalformed (wrong types, missing or malformed
// statusPurpose, encodedList or ttl) or ErrListLength.
func FromCredential(c *vc.Credential) (*Decoded, error) {
	if c == nil {
		return nil, fmt.Errorf("%w: no status list credential", ErrMalformed)
	}
	if !c.HasType(TypeCredential) {
		return nil, fmt.Errorf("%w: credential %s is not a %s (type %v)", ErrMalformed, c.ID, TypeCredential, c.Type)
	}
	s := c.Subject
	if t, _ := s["type"].(string); t != TypeList {
		return nil, fmt.Errorf("%w: credentialSubject type must be %s", ErrMalformed, TypeList)
	}
	p, _ := s["statusPurpose"].(string)
	if !Purpose(p).known() {
		return nil, fmt.Errorf("%w: credentialSubject statusPurpose %q is not revocation, suspension, refresh or message", ErrMalformed, p)
	}
	enc, ok := s["encodedList"].(string)
	if !ok {
		return nil, fmt.Errorf("%w: credentialSubject has no encodedList string", ErrMalformed)
	}
	ttl, err := parseTTL(s["ttl"])
	if err != nil {
		return nil, err
	}
	l, err := Decode(enc)
	if err != nil {
		return nil, err
	}
	return &Decoded{List: l, Purpose: Purpose(p), TTL: ttl, ID: c.ID, Issuer: c.Issuer}, nil
}

// maxTTL bounds ttl so that the conversion to a Duration cannot overflow
// (about 292 years would; a year is plenty).
const maxTTL = 365 * 24 * time.Hour

func parseTTL(v any) (time.Duration, error) {
	var ms float64
	switch n := v.(type) {
	case nil:
		return 0, nil
	case json.Number:
		f, err := n.Float64()
		if err != nil {
			return 0, fmt.Errorf("%w: ttl %q is not a number", ErrMalformed, n)
		}
		ms = f
	case float64:
		ms = n
	case int64:
		ms = float64(n)
	case int:
		ms = float64(n)
	default:
		return 0, fmt.Errorf("%w: ttl must be a number of milliseconds", ErrMalformed)
	}
	if math.IsNaN(ms) || ms < 0 || ms != math.Trunc(ms) {
		return 0, fmt.Errorf("%w: ttl must be a non-negative whole number of milliseconds", ErrMalformed)
	}
	if ms > float64(maxTTL.Milliseconds()) {
		return maxTTL, nil
	}
	return time.Duration(ms) * time.Millisecond, nil
}

// Index returns the entry's statusListIndex as an int. It must be a base-10
// string of digits (errors wrap ErrMalformed); an index too large for an int
// wraps ErrRange.
func Index(entry vc.Status) (int, error) {
	s := entry.StatusListIndex
	if s == "" {
		return 0, fmt.Errorf("%w: status entry has no statusListIndex", ErrMalformed)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("%w: statusListIndex %q is not a base-10 number", ErrMalformed, clip(s))
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%w: statusListIndex %s", ErrRange, clip(s))
	}
	return n, nil
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// Check reports whether the entry's bit is set in the status list
// credential listCred (already verified by the caller): true means revoked
// or suspended, according to the purpose. See [Decoded.Check] for the
// errors. To check many entries against one list, call FromCredential once
// and Decoded.Check for each.
func Check(entry vc.Status, listCred *vc.Credential) (bool, error) {
	d, err := FromCredential(listCred)
	if err != nil {
		return false, err
	}
	return d.Check(entry)
}

// Check reports whether the entry's bit is set in d. It fails with
// ErrMalformed when the entry is not a BitstringStatusListEntry or lacks a
// value, ErrListMismatch when the entry names another list, ErrPurposeMismatch
// when the purposes differ, ErrUnsupportedPurpose for purposes other than
// revocation and suspension (or a statusSize other than 1), and ErrRange when
// the index lies outside the list.
func (d *Decoded) Check(entry vc.Status) (bool, error) {
	if entry.Type != TypeEntry {
		return false, fmt.Errorf("%w: status entry type is %q, want %s", ErrMalformed, clip(entry.Type), TypeEntry)
	}
	if entry.StatusListCredential == "" {
		return false, fmt.Errorf("%w: status entry has no statusListCredential", ErrMalformed)
	}
	if d.ID != "" && entry.StatusListCredential != d.ID {
		return false, fmt.Errorf("%w: entry names %s, the list is %s", ErrListMismatch, clip(entry.StatusListCredential), clip(d.ID))
	}
	if Purpose(entry.StatusPurpose) != d.Purpose {
		return false, fmt.Errorf("%w: entry purpose %q, list purpose %q", ErrPurposeMismatch, clip(entry.StatusPurpose), d.Purpose)
	}
	if d.Purpose != Revocation && d.Purpose != Suspension {
		return false, fmt.Errorf("%w: %q", ErrUnsupportedPurpose, d.Purpose)
	}
	if size, ok := entry.Extra["statusSize"]; ok && fmt.Sprint(size) != "1" {
		return false, fmt.Errorf("%w: statusSize %v (only 1-bit entries are supported)", ErrUnsupportedPurpose, size)
	}
	i, err := Index(entry)
	if err != nil {
		return false, err
	}
	return d.List.Get(i)
}
