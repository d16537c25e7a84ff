package directory

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/medid/medid/credentials/licence"
	"github.com/medid/medid/credentials/verify"
)

// A practitioner can show a licence card (credentials/licence: a
// short-lived presentation of their licence, in a QR code) to anyone, a
// patient at the bedside included, who checks it here: the card itself
// (signature, freshness, the licence's status and the body's
// accreditation, the holder being the licence's subject), then the body
// and employer in the directory. The answer is one of three: verified,
// refused (something was checked and found wrong), or unchecked (nothing
// was found wrong, but something could not be checked: offline, the
// registry did not answer). An unchecked card is never said to be invalid.

// CardState is what checking a licence card came to.
type CardState string

// The three answers of [Directory.CheckCard].
const (
	CardVerified  CardState = "verified"
	CardRefused   CardState = "refused"
	CardUnchecked CardState = "unchecked"
)

// CardCheck is the answer of [Directory.CheckCard].
type CardCheck struct {
	State CardState
	// Practitioner is the verified practitioner (State CardVerified only).
	Practitioner *Identity
	// Why says, for a refused or unchecked card, what was wrong or what
	// could not be checked, in words ("the licence was revoked").
	Why string
	// Made and Expires are the card's times; Holder the DID that signed it.
	Made, Expires time.Time
	Holder        string
}

// Sentence says the answer in one line, the same in the CLI and the app:
// "Sam Nurse is a registered nurse at St Mary's Hospital, licensed by
// Nursing Council (licence NMC-1, GB)"; "Not a valid licence: the licence
// was revoked"; "Could not be checked: …". A name is only ever said for a
// verified card.
func (c *CardCheck) Sentence() string {
	switch c.State {
	case CardVerified:
		p := c.Practitioner.Practitioner
		s := p.Name + " is " + article(strings.ToLower(p.Profession.Display))
		if p.Specialty != nil {
			s += " (" + strings.ToLower(p.Specialty.Display) + ")"
		}
		if p.EmployerOrg.Active() {
			s += " at " + p.EmployerOrg.Entry.DisplayName
		}
		return s + ", licensed by " + p.Body.Entry.DisplayName + " (licence " + p.LicenceNumber + ", " + p.Jurisdiction + ")"
	case CardRefused:
		return "Not a valid licence: " + c.Why
	}
	return "Could not be checked: " + c.Why
}

// article puts "a" or "an" before a noun phrase.
func article(s string) string {
	if s != "" && strings.ContainsRune("aeiou", rune(s[0])) {
		return "an " + s
	}
	return "a " + s
}

// CheckCard checks a licence card token (see credentials/licence.ReadCard;
// a scanned text goes through licence.CardFromText first) with
// Config.Licences and the directory. It fails only for a token that is not
// a licence card (errors wrap licence.ErrNotCard); every other outcome is
// in the answer: verified (the card and licence verify, the body is an
// active licensing body of the directory; the employer is named only when
// it is an active organisation), refused with why, or unchecked with why
// (no registry configured, a status list or the directory not answering).
// A verified practitioner is remembered, as [Directory.AddLicence] does.
func (d *Directory) CheckCard(ctx context.Context, token string) (*CardCheck, error) {
	now := d.cfg.Now()
	if d.cfg.Licences == nil || d.cfg.Source == nil {
		_, made, exp, _, err := licence.ReadCard(token)
		if err != nil {
			return nil, err
		}
		return &CardCheck{State: CardUnchecked, Made: made, Expires: exp,
			Why: "licences cannot be checked without the medid network (set the registry's address)"}, nil
	}
	c, err := licence.VerifyCard(ctx, d.cfg.Licences, token)
	if err != nil {
		return nil, err
	}
	out := &CardCheck{Made: c.Made, Expires: c.Expires, Holder: c.Holder}
	r := c.Result
	switch {
	case r.Valid:
	case r.Unavailable:
		out.State, out.Why = CardUnchecked, "nothing was found wrong, but "+unavailableWords(r)
		return out, nil
	case cardExpired(r) || !now.Before(c.Expires):
		out.State, out.Why = CardRefused, fmt.Sprintf("this code expired at %s (a code lasts %d minutes): ask them to show a fresh one",
			c.Expires.Local().Format("15:04"), int(licence.CardLifetime/time.Minute))
		return out, nil
	default:
		out.State, out.Why = CardRefused, reasonWords(r)
		return out, nil
	}
	id, err := d.verifyLicence(ctx, c.Token, c.Holder, now)
	if err != nil {
		out.State, out.Why = CardUnchecked, "the medid directory could not be read: "+err.Error()
		return out, nil
	}
	if id.Kind != KindPractitioner || !id.Verified() {
		out.State, out.Why = CardRefused, id.Problem
		if out.Why == "" {
			out.Why = "not a practitioner's licence"
		}
		return out, nil
	}
	d.mu.Lock()
	if len(d.licences) >= d.cfg.MaxEntries {
		clear(d.licences)
	}
	d.licences[c.Holder] = c.Token
	d.mu.Unlock()
	d.put(c.Holder, id, now.Add(d.cfg.TTL))
	out.State, out.Practitioner = CardVerified, id
	return out, nil
}

// cardExpired reports whether the card itself (the presentation, not the
// licence in it) failed its validity check.
func cardExpired(r *verify.Result) bool {
	for _, c := range r.Checks {
		if c.Name == verify.CheckValidity && !c.OK && c.Reason == verify.ReasonExpired {
			return true
		}
	}
	return false
}

// unavailableWords says what could not be checked.
func unavailableWords(r *verify.Result) string {
	switch r.Reason {
	case verify.ReasonStatusUnavailable:
		return "whether the licence is still in force could not be checked (the medid network did not answer): try again when online"
	}
	if r.Cause != "" {
		return "it could not be checked: " + r.Cause
	}
	return "it could not be checked (the medid network did not answer): try again when online"
}

// reasonWords says why a card was refused.
func reasonWords(r *verify.Result) string {
	switch r.Reason {
	case verify.ReasonRevoked:
		return "the licence was revoked"
	case verify.ReasonSuspended:
		return "the licence is suspended"
	case verify.ReasonExpired:
		return "the licence has expired"
	case verify.ReasonHolderMismatch:
		return "the person showing it is not the one the licence was issued to"
	case verify.ReasonBadSignature:
		return "the code was altered or was not made by the licence's holder"
	case verify.ReasonUnknownIssuer:
		return "its issuer is not known to the medid network"
	case verify.ReasonIssuerNotAccredited:
		return "its issuer is not accredited to issue licences"
	}
	return "it failed the check (" + strings.ReplaceAll(r.Reason, "_", " ") + ")"
}
