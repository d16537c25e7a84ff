package directory

import (
	"context"
	"errors"
	"time"

	"github.com/medid/medid/registry/ledger"
)

// A practitioner may show their licence to a patient directly (a consent
// request carrying it, see credentials/consent.Proposal.Licence): the
// patient's wallet checks it here before the patient consents, and says
// in one line what it verified, or that it is unverified and why.

// ShownLicence checks a licence (vc+jwt) that holder showed, as
// [Directory.AddLicence] does (signature, validity, revocation, the body
// an active licensing body accredited for licences), and that it is
// holder's. It never fails: an identity whose Problem says why it is not
// verified (including "could not be checked: …" when the registry did not
// answer) is the answer then. A verified licence is remembered, so later
// lookups of holder name them.
func (d *Directory) ShownLicence(ctx context.Context, token, holder string) *Identity {
	id, err := d.AddLicence(ctx, token)
	switch {
	case id == nil && errors.Is(err, ErrLicence):
		return &Identity{DID: holder, Kind: KindUnknown, Problem: "not a licence", Source: d.source(), Checked: d.cfg.Now()}
	case id == nil && err != nil:
		return &Identity{DID: holder, Kind: KindUnknown, Problem: "licence could not be checked: " + err.Error(), Source: d.source(), Checked: d.cfg.Now()}
	case id == nil:
		return &Identity{DID: holder, Kind: KindUnknown, Problem: "no licence", Source: d.source(), Checked: d.cfg.Now()}
	case id.DID != holder:
		return &Identity{DID: holder, Kind: KindUnknown, Problem: "the licence is someone else's", Source: d.source(), Checked: d.cfg.Now()}
	}
	return id
}

// Licensed says in one line what a practitioner's checked licence
// verifies, for a patient deciding whether to trust them: "Dr. Jane Doe,
// licensed by General Medical Council, at St Mary's Hospital" (the
// employer only when it is an active organisation of the directory), and
// true; or "unverified (licence revoked)" and false, never a name the
// licence gives that could not be verified.
func (i *Identity) Licensed() (string, bool) {
	if i.Verified() && i.Kind == KindPractitioner {
		p := i.Practitioner
		s := p.Name + ", licensed by " + p.Body.Entry.DisplayName
		if p.EmployerOrg.Active() {
			s += ", at " + p.EmployerOrg.Entry.DisplayName
		}
		return s, true
	}
	why := "not a practitioner's licence"
	if i != nil && i.Problem != "" {
		why = i.Problem
	}
	return "unverified (" + why + ")", false
}

// Accredited returns the accreditation in force at at under which the
// organisation i names (itself, or the one listing i's DID under a role)
// may issue credType, or nil: for an unverified or suspended identity, a
// practitioner, or no such accreditation. A wallet shows it before the
// patient accepts a credential offer.
func (i *Identity) Accredited(credType string, at time.Time) *ledger.Accreditation {
	if !i.Verified() || i.Kind != KindOrganisation {
		return nil
	}
	return i.Organisation.AccreditedFor(credType, at)
}
