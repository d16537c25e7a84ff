// Package card makes the patient's emergency card over a [Holder] (a
// *wallet.Wallet): a presentation signed in advance for any emergency
// department, of the wallet's current emergency credentials (allergies,
// medications, blood type), small enough for one QR code.
//
// The card's rules (its audience, its dated nonce, how a verifier checks
// it) are credentials/emergency's, which verifiers use too; what is here is
// the holder's side: which credentials go on it, which are left off and
// why, and what the patient's history records. It uses only the holder's
// public API, so the wallet stays the store.
package card

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/medid/medid/credentials/emergency"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/credentials/vc"
	"github.com/medid/medid/wallet"
)

// Holder is what a card needs of a wallet; *wallet.Wallet implements it.
// Implementations MUST be safe for concurrent use.
type Holder interface {
	// Refresh checks every credential's status; it returns
	// wallet.ErrNoVerifier when the holder has no verifier (the card is
	// then made from the last known statuses).
	Refresh(ctx context.Context) ([]wallet.Credential, error)
	// Credentials lists the held credentials (without tokens); Credential
	// returns one with its token.
	Credentials(f wallet.Filter) ([]wallet.Credential, error)
	Credential(id string) (wallet.Credential, error)
	// SignerFor gives the key the card is signed with.
	SignerFor(did string) (*key.PrivateKey, string, error)
	// RecordPresented records the card in the holder's history.
	RecordPresented(at time.Time, audience, holder string, ids []string) error
	// Now is the holder's clock.
	Now() time.Time
}

// Card constants. A card's audience is Audience and its nonce NoncePrefix
// plus the day it was made (YYYY-MM-DD), so a verifier without a channel to
// the patient can still check that the presentation was made as an
// emergency card, and how old it is (credentials/emergency).
const (
	Audience    = emergency.Audience
	NoncePrefix = emergency.NoncePrefix
	// DefaultLifetime is how long a card stays valid.
	DefaultLifetime = 365 * 24 * time.Hour
	// DefaultMaxBytes is what one QR code holds (version 40, level L, bytes).
	DefaultMaxBytes = 2953
)

// Types are the credential types a card carries by default, most
// important first: allergies, medications, blood type.
var Types = []string{
	"AllergyIntoleranceCredential", "AllergyCredential",
	"MedicationStatementCredential", "MedicationCredential",
	"BloodTypeCredential",
}

// Options tunes [Make].
type Options struct {
	// Types are the credential types to include, in priority order;
	// nil means [Types].
	Types []string
	// Lifetime is how long the card is valid; 0 means DefaultLifetime.
	Lifetime time.Duration
	// MaxBytes bounds the presentation; 0 means DefaultMaxBytes.
	// Fits, when set, decides instead (e.g. after compression for a QR code).
	MaxBytes int
	Fits     func(token string) bool
	// Partial makes a card with the credentials that fit when not all do
	// (the rest are in Card.Omitted) instead of failing.
	Partial bool
	// NoRefresh skips checking the credentials' status before the card is
	// made (Make refreshes first when the holder has a verifier).
	NoRefresh bool
}

// LeftOut is an emergency credential kept off a card because the wallet
// knows it is no longer valid, or because the card cannot carry its format
// (an SD-JWT VC: Why is [SDJWTNotOnCard]).
type LeftOut struct {
	Credential wallet.Credential
	// Why says why, for people: "revoked", "expired on 2026-01-31", ...
	Why string
}

// Card is a signed emergency presentation.
type Card struct {
	// Token is the vp+jwt.
	Token string
	// Nonce is the card's nonce; Expires its expiry.
	Nonce   string
	Expires time.Time
	// Included and Omitted are the credentials on the card and the valid
	// ones that did not fit (see Options.Partial).
	Included, Omitted []wallet.Credential
	// LeftOut are the emergency credentials kept off the card because they
	// are revoked, suspended, expired or no longer verify: a card must not
	// show a withdrawn allergy or an old medication as current.
	LeftOut []LeftOut
	// Unchecked is why the status check before the card could not be made
	// ("" when it was, or was skipped): the card then relies on each
	// credential's status as of its StatusCheckedAt.
	Unchecked string
}

// ErrNoCredentials is returned when the wallet holds no valid credential
// of the emergency types.
var ErrNoCredentials = errors.New("no valid emergency credentials (allergies, medications, blood type) in the wallet")

// TooLargeError says that not every emergency credential fits in one QR
// code, and how many do.
type TooLargeError struct {
	Fit, Total, MaxBytes int
}

func (e *TooLargeError) Error() string {
	if e.Fit == 0 {
		return "no emergency credential fits in one QR code: even one alone is too large"
	}
	return fmt.Sprintf("only %d of the %d emergency credentials fit in one QR code: make a partial card with those %d, or choose fewer types", e.Fit, e.Total, e.Fit)
}

// SDJWTNotOnCard is why an SD-JWT VC is left off an emergency card.
const SDJWTNotOnCard = "an SD-JWT VC, which the card (one vp+jwt) cannot carry: present it on its own"

// Make signs a presentation of the holder's valid emergency credentials
// for [Audience], small enough for one QR code, and records it in the
// holder's history before returning it. Unless opts.NoRefresh, it first
// checks every credential's status (Holder.Refresh); when that cannot be
// done the card is made from the last known statuses and Card.Unchecked
// says why. Credentials the wallet knows are revoked, suspended, expired or
// no longer valid are left off, and listed in Card.LeftOut. Credentials are
// taken in Types order, newest first within a type, all bound to one DID
// (the one with most of them). Errors: [ErrNoCredentials] (the card would
// be empty; it names what was left out), [*TooLargeError] (unless Partial).
func Make(ctx context.Context, h Holder, opts Options) (*Card, error) {
	if opts.Types == nil {
		opts.Types = Types
	}
	if opts.Lifetime <= 0 {
		opts.Lifetime = DefaultLifetime
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	unchecked := ""
	if !opts.NoRefresh {
		_, err := h.Refresh(ctx)
		var cnc *wallet.CouldNotCheckError
		switch {
		case errors.Is(err, wallet.ErrNoVerifier):
			// Nothing to check with: the last known statuses stand.
		case errors.As(err, &cnc):
			unchecked = cnc.Cause
		case err != nil:
			return nil, err
		}
	}
	all, err := h.Credentials(wallet.Filter{})
	if err != nil {
		return nil, err
	}
	now := h.Now()
	var picked []wallet.Credential
	var leftOut []LeftOut
	seen := map[string]bool{}
	for _, t := range opts.Types {
		var ofType []wallet.Credential
		for _, c := range all {
			if !c.HasType(t) || seen[c.ID] {
				continue
			}
			seen[c.ID] = true
			if c.Format == wallet.FormatSDJWT {
				// The card is one vp+jwt: SD-JWT VCs cannot ride in it.
				// Say so: a patient must not believe a valid allergy is
				// on the card when it is not.
				leftOut = append(leftOut, LeftOut{Credential: c, Why: SDJWTNotOnCard})
				continue
			}
			if why := c.NotCurrent(now); why != "" {
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
			return nil, fmt.Errorf("%w: %s", ErrNoCredentials, describeLeftOut(leftOut))
		}
		return nil, ErrNoCredentials
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
	var mine []wallet.Credential
	for _, c := range picked {
		if c.Subject == holder {
			mine = append(mine, c)
		}
	}

	k, kid, err := h.SignerFor(holder)
	if err != nil {
		return nil, err
	}
	now = now.UTC()
	nonce := emergency.Nonce(now)
	tokens := make([]string, len(mine))
	for i, c := range mine {
		full, err := h.Credential(c.ID)
		if err != nil {
			return nil, err
		}
		tokens[i] = full.Token
	}
	sign := func(n int) (string, error) {
		p := &vc.Presentation{Context: []string{vc.ContextV2}, Type: []string{vc.TypePresentation}, Holder: holder, Credentials: tokens[:n]}
		return vc.SignPresentation(p, k, kid, Audience, nonce, vc.WithIssuedAt(now), vc.WithLifetime(opts.Lifetime))
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
		return nil, &TooLargeError{Fit: n, Total: len(picked), MaxBytes: opts.MaxBytes}
	}
	card := &Card{Token: tok, Nonce: nonce, Expires: now.Add(opts.Lifetime), Included: mine[:n], LeftOut: leftOut, Unchecked: unchecked}
	inc := map[string]bool{}
	ids := make([]string, len(card.Included))
	for i, c := range card.Included {
		inc[c.ID] = true
		ids[i] = c.ID
	}
	for _, c := range picked {
		if !inc[c.ID] {
			card.Omitted = append(card.Omitted, c)
		}
	}
	// The card is handed out only once the patient's record of what it
	// shares is durable.
	if err := h.RecordPresented(now, Audience, holder, ids); err != nil {
		return nil, err
	}
	return card, nil
}

func describeLeftOut(l []LeftOut) string {
	parts := make([]string, len(l))
	for i, x := range l {
		parts[i] = x.Credential.ID + " " + x.Why
	}
	return "left out " + strings.Join(parts, ", ")
}
