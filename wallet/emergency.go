package wallet

import (
	"context"
	"errors"
	"fmt"
	"sort"
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
}

// EmergencyCard is a signed emergency presentation.
type EmergencyCard struct {
	// Token is the vp+jwt.
	Token string
	// Nonce is the card's nonce; Expires its expiry.
	Nonce   string
	Expires time.Time
	// Included and Omitted are the credentials on and left off the card.
	Included, Omitted []Credential
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
// records it in History. Credentials are taken in Types order, newest first
// within a type, all bound to one DID (the one with most of them). Errors:
// ErrNoEmergencyCredentials, *CardTooLargeError (unless Partial).
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
	all, err := w.Credentials(Filter{Status: StatusValid})
	if err != nil {
		return nil, err
	}
	var picked []Credential
	seen := map[string]bool{}
	for _, t := range opts.Types {
		var ofType []Credential
		for _, c := range all {
			// The card is one vp+jwt: SD-JWT VCs cannot ride in it.
			if c.HasType(t) && !seen[c.ID] && c.Format != FormatSDJWT {
				ofType = append(ofType, c)
				seen[c.ID] = true
			}
		}
		sort.SliceStable(ofType, func(i, j int) bool { return ofType[i].ReceivedAt.After(ofType[j].ReceivedAt) })
		picked = append(picked, ofType...)
	}
	if len(picked) == 0 {
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
	now := w.cfg.now().UTC()
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
	card := &EmergencyCard{Token: tok, Nonce: nonce, Expires: now.Add(opts.Lifetime), Included: mine[:n]}
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
