package wallet

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/medid/medid/credentials/emergency"
	"github.com/medid/medid/credentials/vc"
)

// Emergency card constants. An emergency card is a presentation made in
// advance for any emergency department: its audience is EmergencyAudience
// and its nonce EmergencyNoncePrefix plus the day it was made (YYYY-MM-DD),
// so a verifier without a channel to the patient can still check that the
// presentation was made as an emergency card, and how old it is. The card's
// rules are credentials/emergency's, which verifiers use too.
const (
	EmergencyAudience    = emergency.Audience
	EmergencyNoncePrefix = emergency.NoncePrefix
	// DefaultEmergencyLifetime is how long a card stays valid.
	DefaultEmergencyLifetime = 365 * 24 * time.Hour
	// DefaultEmergencyMaxBytes is what one QR code holds (version 40, level L, bytes).
	DefaultEmergencyMaxBytes = 2953
)

// EmergencyTypes are the credential types an emergency card carries by
// default, most important first: allergies, medications, blood type.
var EmergencyTypes = []string{
	"AllergyIntoleranceCredential", "AllergyCredential",
	"MedicationStatementCredential", "MedicationCredential",
	"BloodTypeCredential",
}

// EmergencyOptions tunes Wallet.EmergencyCard.
type EmergencyOptions struct {
	// Types are the credential types to include, in priority order;
	// nil means EmergencyTypes.
	Types []string
	// Lifetime is how long the card is valid; 0 means DefaultEmergencyLifetime.
	Lifetime time.Duration
	// MaxBytes bounds the presentation; 0 means DefaultEmergencyMaxBytes.
	// Fits, when set, decides instead (e.g. after compression for a QR code).
	MaxBytes int
	Fits     func(token string) bool
	// Partial makes a card with the credentials that fit when not all do
	// (the rest are in EmergencyCard.Omitted) instead of failing.
	Partial bool
	// NoRefresh skips checking the credentials' status before the card is
	// made (EmergencyCard refreshes first when Config.Verifier is set).
	NoRefresh bool
}

// LeftOut is an emergency credential kept off a card because the wallet
// knows it is no longer valid, or because the card cannot carry its format
// (an SD-JWT VC: Why is [SDJWTNotOnCard]).
type LeftOut struct {
	Credential Credential
	// Why says why, for people: "revoked", "expired on 2026-01-31", ...
	Why string
}

// EmergencyCard is a signed emergency presentation.
type EmergencyCard struct {
	// Token is the vp+jwt.
	Token string
	// Nonce is the card's nonce; Expires its expiry.
	Nonce   string
	Expires time.Time
	// Included and Omitted are the credentials on the card and the valid
	// ones that did not fit (see EmergencyOptions.Partial).
	Included, Omitted []Credential
	// LeftOut are the emergency credentials kept off the card because they
	// are revoked, suspended, expired or no longer verify: a card must not
	// show a withdrawn allergy or an old medication as current.
	LeftOut []LeftOut
	// Unchecked is why the status check before the card could not be made
	// ("" when it was, or was skipped): the card then relies on each
	// credential's status as of its StatusCheckedAt.
	Unchecked string
}

// ErrNoEmergencyCredentials is returned when the wallet holds no valid
// credential of the emergency types.
var ErrNoEmergencyCredentials = errors.New("no valid emergency credentials (allergies, medications, blood type) in the wallet")

// CardTooLargeError says that not every emergency credential fits in one
// QR code, and how many do.
type CardTooLargeError struct {
	Fit, Total, MaxBytes int
}

func (e *CardTooLargeError) Error() string {
	if e.Fit == 0 {
		return "no emergency credential fits in one QR code: even one alone is too large"
	}
	return fmt.Sprintf("only %d of the %d emergency credentials fit in one QR code: make a partial card with those %d, or choose fewer types", e.Fit, e.Total, e.Fit)
}

// EmergencyCard signs a presentation of the wallet's valid emergency
// credentials for EmergencyAudience, small enough for one QR code, and
// records it in History. With Config.Verifier set (and not
// opts.NoRefresh) it first checks every credential's status ([Refresh]);
// when that cannot be done the card is made from the last known statuses
// and EmergencyCard.Unchecked says why. Credentials the wallet knows are
// revoked, suspended, expired or no longer valid are left off, and listed
// in EmergencyCard.LeftOut. Credentials are taken in Types order, newest
// first within a type, all bound to one DID (the one with most of them).
// Errors: ErrNoEmergencyCredentials (the card would be empty; it names
// what was left out), *CardTooLargeError (unless Partial).
func (w *Wallet) EmergencyCard(ctx context.Context, opts EmergencyOptions) (*EmergencyCard, error) {
	if opts.Types == nil {
		opts.Types = EmergencyTypes
	}
	if opts.Lifetime <= 0 {
		opts.Lifetime = DefaultEmergencyLifetime
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultEmergencyMaxBytes
	}
	unchecked := ""
	if w.cfg.Verifier != nil && !opts.NoRefresh {
		_, err := w.Refresh(ctx)
		var cnc *CouldNotCheckError
		switch {
		case errors.As(err, &cnc):
			unchecked = cnc.Cause
		case err != nil:
			return nil, err
		}
	}
	all, err := w.Credentials(Filter{})
	if err != nil {
		return nil, err
	}
	now := w.cfg.now()
	var picked []Credential
	var leftOut []LeftOut
	seen := map[string]bool{}
	for _, t := range opts.Types {
		var ofType []Credential
		for _, c := range all {
			if !c.HasType(t) || seen[c.ID] {
				continue
			}
			seen[c.ID] = true
			if c.Format == FormatSDJWT {
				// The card is one vp+jwt: SD-JWT VCs cannot ride in it.
				// Say so: a patient must not believe a valid allergy is
				// on the card when it is not.
				leftOut = append(leftOut, LeftOut{Credential: c, Why: SDJWTNotOnCard})
				continue
			}
			if why := notCurrent(&c, now); why != "" {
				leftOut = append(leftOut, LeftOut{Credential: c, Why: why})
				continue
			}
			ofType = append(ofType, c)
		}
		sort.SliceStable(ofType, func(i, j int) bool { return ofType[i].ReceivedAt.After(ofType[j].ReceivedAt) })
		picked = append(picked, ofType...)
	}
	if len(picked) == 0 {
		if len(leftOut) > 0 {
			return nil, fmt.Errorf("%w: %s", ErrNoEmergencyCredentials, describeLeftOut(leftOut))
		}
		return nil, ErrNoEmergencyCredentials
	}
	// One holder signs: the DID most emergency credentials are bound to.
	count := map[string]int{}
	holder := ""
	for _, c := range picked {
		count[c.Subject]++
		if holder == "" || count[c.Subject] > count[holder] {
			holder = c.Subject
		}
	}
	var mine []Credential
	for _, c := range picked {
		if c.Subject == holder {
			mine = append(mine, c)
		}
	}

	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.use(); err != nil {
		return nil, err
	}
	k, d, err := w.keyLocked(holder)
	if err != nil {
		return nil, err
	}
	now = now.UTC()
	nonce := emergency.Nonce(now)
	tokens := make([]string, len(mine))
	for i, c := range mine {
		if tokens[i], err = w.tokenLocked(c.ID); err != nil {
			return nil, err
		}
	}
	sign := func(n int) (string, error) {
		p := &vc.Presentation{Context: []string{vc.ContextV2}, Type: []string{vc.TypePresentation}, Holder: holder, Credentials: tokens[:n]}
		return vc.SignPresentation(p, k, d.KeyID, EmergencyAudience, nonce, vc.WithIssuedAt(now), vc.WithLifetime(opts.Lifetime))
	}
	// Find the most credentials (in priority order) that fit.
	n := len(mine)
	var tok string
	for ; n > 0; n-- {
		if tok, err = sign(n); err != nil {
			return nil, fmt.Errorf("sign emergency card: %w", err)
		}
		if opts.Fits != nil && opts.Fits(tok) || opts.Fits == nil && len(tok) <= opts.MaxBytes {
			break
		}
	}
	if n == 0 || (n < len(picked) && !opts.Partial) {
		return nil, &CardTooLargeError{Fit: n, Total: len(picked), MaxBytes: opts.MaxBytes}
	}
	card := &EmergencyCard{Token: tok, Nonce: nonce, Expires: now.Add(opts.Lifetime), Included: mine[:n], LeftOut: leftOut, Unchecked: unchecked}
	inc := map[string]bool{}
	for _, c := range card.Included {
		inc[c.ID] = true
	}
	for _, c := range picked {
		if !inc[c.ID] {
			card.Omitted = append(card.Omitted, c)
		}
	}
	ev := w.newEventLocked(HistoryEntry{At: now, Kind: EventPresented, Audience: EmergencyAudience, Holder: holder})
	for i := range card.Included {
		ev.Credentials = append(ev.Credentials, shared(&card.Included[i]))
	}
	if err := w.commitLocked([]record{{historyBucket, ev.ID, ev}}); err != nil {
		return nil, err
	}
	w.history = append(w.history, ev)
	return card, nil
}

// notCurrent says why a credential must not be shown as current (revoked,
// suspended, expired, no longer valid), or "" when the wallet knows nothing
// against it.
func notCurrent(c *Credential, now time.Time) string {
	switch {
	case c.Status == StatusRevoked:
		return "revoked by its issuer"
	case c.Status == StatusSuspended:
		return "suspended by its issuer"
	case c.Status == StatusExpired || c.ValidUntil != nil && now.After(*c.ValidUntil):
		if c.ValidUntil != nil {
			return "expired on " + c.ValidUntil.UTC().Format(time.DateOnly)
		}
		return "expired"
	case c.Status == StatusInvalid:
		return "no longer valid (" + c.StatusDetail + ")"
	case c.Status != StatusValid:
		return string(c.Status)
	}
	return ""
}

// SDJWTNotOnCard is why an SD-JWT VC is left off an emergency card.
const SDJWTNotOnCard = "an SD-JWT VC, which the card (one vp+jwt) cannot carry: present it on its own"

func describeLeftOut(l []LeftOut) string {
	parts := make([]string, len(l))
	for i, x := range l {
		parts[i] = x.Credential.ID + " " + x.Why
	}
	return "left out " + strings.Join(parts, ", ")
}
