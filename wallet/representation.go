package wallet

import (
	"fmt"
	"sort"
	"time"

	"github.com/medid/medid/credentials/delegation"
	"github.com/medid/medid/registry/hospital/trail"
)

// LearnFromTrail takes in what a verified trail of the wallet's owner says
// was done in their name: every delegation someone acted under for them
// (stored as over them, so "People who can act for you" lists a
// guardianship the owner never held a copy of, and its end) and every
// consent grant a representative made for them (stored as an inherited
// grant, see [Consent.Inherited]), with vaultURL as where it is
// registered. It returns how many delegations and grants were new. Events
// of another patient are ignored.
func (w *Wallet) LearnFromTrail(events []AccessEvent, vaultURL string) (delegations, grants int, err error) {
	known := map[string]bool{}
	ds, err := w.Delegations()
	if err != nil {
		return 0, 0, err
	}
	for _, d := range ds {
		known[d.Hash] = true
	}
	for _, e := range events {
		if _, _, err := w.SignerFor(e.Patient); err != nil {
			continue
		}
		a := e.Authority
		if a == nil || a.Delegation == "" || known[a.Delegation] || a.Representative == e.Patient || e.Outcome != trail.OutcomeGranted {
			continue
		}
		d := &Delegation{ID: a.ID, Hash: a.Delegation, Role: DelegationOverMe, Type: a.Type, Issuer: a.Issuer,
			Representative: a.Representative, RepresentativeName: a.Name, Patient: e.Patient, Basis: a.Basis, By: a.By,
			Minor: a.Minor, ValidUntil: a.ValidUntil, ValidFrom: e.At}
		if err := w.putDelegation(d); err != nil {
			return delegations, grants, err
		}
		known[a.Delegation] = true
		delegations++
	}
	n, err := w.learnGrants(events, vaultURL)
	return delegations, grants + n, err
}

// Notice is something the wallet must tell its owner about the people who
// act, or acted, for them.
type Notice struct {
	Delegation Delegation
	// Text is the notice in a sentence or two.
	Text string
	// Awaiting are the consent grants made in the owner's name under the
	// delegation that await their decision (confirm or withdraw).
	Awaiting []Consent
}

// Notices returns what the wallet must tell its owner now: a guardianship
// over them that ended because they came of age (they act for themselves
// now, and the consents their representative made stay in force until they
// confirm or withdraw each), oldest first.
func (w *Wallet) Notices() ([]Notice, error) {
	ds, err := w.Delegations()
	if err != nil {
		return nil, err
	}
	cs, err := w.Consents()
	if err != nil {
		return nil, err
	}
	now := w.cfg.now()
	var out []Notice
	for _, d := range ds {
		if d.Role != DelegationOverMe || d.StatusAt(now) != DelegationCameOfAge {
			continue
		}
		n := Notice{Delegation: d}
		for _, c := range cs {
			if c.Inherited && c.MadeUnder == d.Hash && c.Revoked == nil && c.Confirmed == nil && c.StatusAt(now) == ConsentActive {
				n.Awaiting = append(n.Awaiting, c)
			}
		}
		who := d.RepresentativeName
		if who == "" {
			who = d.Representative
		}
		n.Text = fmt.Sprintf("You came of age on %s: %s (%s) no longer acts for you.", d.ValidUntil.UTC().Format(time.DateOnly), who,
			(&delegation.Delegation{Basis: delegation.Basis(d.Basis)}).BasisWords())
		switch len(n.Awaiting) {
		case 0:
		case 1:
			n.Text += " One consent they made in your name stays in force until you confirm or withdraw it."
		default:
			n.Text += fmt.Sprintf(" %d consents they made in your name stay in force until you confirm or withdraw them.", len(n.Awaiting))
		}
		out = append(out, n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Delegation.ValidUntil.Before(out[j].Delegation.ValidUntil) })
	return out, nil
}
