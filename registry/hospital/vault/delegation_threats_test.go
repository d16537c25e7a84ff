package vault_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/medid/medid/credentials/credtest"
	"github.com/medid/medid/credentials/delegation"
	"github.com/medid/medid/credentials/vc"
	"github.com/medid/medid/registry/hospital/trail"
	"github.com/medid/medid/registry/hospital/vaultapi"
)

// expectRefused runs act and checks what the vault must do with an act
// outside a delegation: refuse it with a reason containing want, add one
// denied entry saying so to p's trail, and nothing else.
func (w *delegationWorld) expectRefused(t *testing.T, p credtest.Party, want string, act func() error) {
	t.Helper()
	before := len(w.trailOf(p))
	err := act()
	if !errors.Is(err, vaultapi.ErrDenied) || !strings.Contains(err.Error(), want) {
		t.Fatalf("got %v, want a refusal saying %q", err, want)
	}
	es := w.trailOf(p)
	if len(es) != before+1 {
		t.Fatalf("trail grew by %d entries, want 1", len(es)-before)
	}
	if e := es[len(es)-1].Entry; e.Outcome != trail.OutcomeDenied || !strings.Contains(e.Reason, want) {
		t.Fatalf("trail entry: %s %q, want denied saying %q", e.Outcome, e.Reason, want)
	}
}

// issueUnder signs d as a sub-delegation under the token parentTok by
// issuer, past the library's own checks (which refuse what the vault must
// refuse too): the credential is built under looksLike, a parent it fits,
// and then carries parentTok instead.
func (w *delegationWorld) issueUnder(d *delegation.Delegation, parentTok string, issuer credtest.Party, looksLike *delegation.Delegation) string {
	w.t.Helper()
	fake := *looksLike
	// A root the patient signed: a parent Validate accepts on its own.
	fake.Parent, fake.Token, fake.Issuer, fake.Type, fake.Basis = nil, "placeholder", fake.Patient, delegation.TypeDelegation, delegation.BasisAuthorisation
	d.Parent = &fake
	c, err := d.Credential()
	if err != nil {
		w.t.Fatal(err)
	}
	c.Extra["parentDelegation"] = parentTok
	tok, err := vc.Issue(c, issuer.Key, issuer.Kid)
	if err != nil {
		w.t.Fatal(err)
	}
	return tok
}

// subDelegation is a sub-delegation by rep of parent to to: view
// Immunization for TREAT over parent's period, passed on further if pass.
func (w *delegationWorld) subDelegation(parent *delegation.Delegation, rep credtest.Party, to credtest.Party, name string, pass bool) *delegation.Delegation {
	d := w.carerDelegation()
	d.Issuer, d.Representative, d.RepresentativeName, d.Parent = rep.DID, to.DID, name, parent
	d.ValidFrom, d.ValidUntil, d.SubDelegation = parent.ValidFrom, parent.ValidUntil, pass
	d.Status = w.entry(rep)
	return d
}

// TestDelegationThreats is docs/design/0020's threat list through the real
// vault and registry: a representative exceeding their scope, a delegation
// revoked in the middle of a representative's session, and chains of
// sub-delegations (within and beyond their parents, too long, cut in the
// middle). Every refusal carries its reason, is a denied entry in the
// patient's trail, and changes nothing.
func TestDelegationThreats(t *testing.T) {
	w := newDelegationWorld(t)
	ctx := w.ctx

	// Ana lets her carer view immunizations and manage consent to them for
	// treatment, and pass (part of) it on.
	carer := w.carerDelegation()
	carer.Actions = []delegation.Action{delegation.ActionView, delegation.ActionConsent}
	carer.SubDelegation = true
	carerTok := w.Sign(carer, w.Patient)
	if _, err := w.client(w.Carer).GetFor(ctx, w.immunAna.ID, "TREAT", carerTok); err != nil {
		t.Fatalf("carer's read within scope: %v", err)
	}

	t.Run("a representative exceeding scope", func(t *testing.T) {
		wide, wideSeal := w.grantFor(w.Carer, carer, w.paed.DID, "Immunization", "Condition")
		research, researchSeal := w.grantForPurpose(w.Carer, carer, w.paed.DID, "HRESCH", "Immunization")
		for _, tc := range []struct {
			name, want string
			act        func() error
		}{
			{"a consent wider than the delegated classes", "data class Condition is not delegated", func() error {
				return w.client(w.Carer).RegisterConsent(ctx, wide, carerTok, wideSeal)
			}},
			{"a consent for a purpose not delegated", "purpose HRESCH is not delegated", func() error {
				return w.client(w.Carer).RegisterConsent(ctx, research, carerTok, researchSeal)
			}},
			{"reading a class not delegated", "data class Condition is not delegated", func() error {
				_, err := w.client(w.Carer).GetFor(ctx, w.condAna.ID, "TREAT", carerTok)
				return err
			}},
			{"reading for a purpose not delegated", "purpose ETREAT is not delegated", func() error {
				_, err := w.client(w.Carer).GetFor(ctx, w.immunAna.ID, "ETREAT", carerTok)
				return err
			}},
			{"reading the trail without the trail action", delegation.ErrOutOfScope.Error(), func() error {
				_, err := w.client(w.Carer).AccessLogFor(ctx, w.Patient.DID, carerTok)
				return err
			}},
		} {
			t.Run(tc.name, func(t *testing.T) { w.expectRefused(t, w.Patient, tc.want, tc.act) })
		}
		// Nothing changed: neither refused grant opens anything.
		for _, g := range []struct{ tok, purpose string }{{wide, "TREAT"}, {research, "HRESCH"}} {
			if _, err := w.client(w.paed).Get(ctx, w.immunAna.ID, g.purpose, g.tok, ""); !errors.Is(err, vaultapi.ErrDenied) ||
				!strings.Contains(err.Error(), "not registered") {
				t.Fatalf("a refused registration took effect: %v", err)
			}
		}
		// A delegation never makes its holder the owner: the carer cannot
		// erase Ana's record (erasure is hers alone).
		if _, err := w.client(w.Carer).Erase(ctx, w.immunAna.ID); !errors.Is(err, vaultapi.ErrDenied) {
			t.Fatalf("carer erased Ana's record: %v", err)
		}
		if _, err := w.client(w.Carer).GetFor(ctx, w.immunAna.ID, "TREAT", carerTok); err != nil {
			t.Fatalf("the record is gone after a refused erasure: %v", err)
		}
	})

	t.Run("sub-delegation chains", func(t *testing.T) {
		// carer -> stranger -> paediatrician: a chain of three, each link
		// within the one above and allowed to pass it on.
		sub := w.subDelegation(carer, w.Carer, w.Stranger, "Sam Substitute", true)
		subTok := w.Sign(sub, w.Carer)
		subsub := w.subDelegation(sub, w.Stranger, w.paed, "Dr Paula Paed", true)
		subsubTok := w.Sign(subsub, w.Stranger)
		for _, c := range []struct {
			who credtest.Party
			tok string
			by  string
		}{{w.Stranger, subTok, "Carl Carer"}, {w.paed, subsubTok, "Sam Substitute"}} {
			if _, err := w.client(c.who).GetFor(ctx, w.immunAna.ID, "TREAT", c.tok); err != nil {
				t.Fatalf("a read within a chain: %v", err)
			}
			if e := w.lastEntry(w.Patient); e.Authority == nil || e.Authority.Representative != c.who.DID || e.Authority.By != c.by {
				t.Fatalf("Ana's trail does not say who passed it on: %+v", e.Authority)
			}
		}

		// A view-only sub-delegate cannot consent, though the carer above could.
		g, seal := w.grantFor(w.Stranger, sub, w.paed.DID, "Immunization")
		w.expectRefused(t, w.Patient, delegation.ErrOutOfScope.Error(), func() error {
			return w.client(w.Stranger).RegisterConsent(ctx, g, subTok, seal)
		})

		// A link wider than the one above (another class), and one under a
		// link that does not allow passing it on.
		wider := w.subDelegation(carer, w.Carer, w.Parent, "Maria Wider", false)
		wider.Classes = []string{"Immunization", "Condition"}
		looks := *carer
		looks.Classes = wider.Classes
		widerTok := w.issueUnder(wider, carerTok, w.Carer, &looks)
		w.expectRefused(t, w.Patient, delegation.ErrSubDelegation.Error(), func() error {
			_, err := w.client(w.Parent).GetFor(ctx, w.condAna.ID, "TREAT", widerTok)
			return err
		})
		// A fourth link, otherwise within the third: refused for the length.
		under := w.subDelegation(subsub, w.paed, w.Parent, "Maria Under", false)
		underTok := w.issueUnder(under, subsubTok, w.paed, subsub)
		w.expectRefused(t, w.Patient, "chain", func() error {
			_, err := w.client(w.Parent).GetFor(ctx, w.immunAna.ID, "TREAT", underTok)
			return err
		})

		// Cut in the middle: the carer revokes Sam's link; Sam and the
		// paediatrician under him stop, the carer goes on.
		w.Revoke(sub)
		for _, c := range []struct {
			who credtest.Party
			tok string
		}{{w.Stranger, subTok}, {w.paed, subsubTok}} {
			w.expectRefused(t, w.Patient, delegation.ErrRevoked.Error(), func() error {
				_, err := w.client(c.who).GetFor(ctx, w.immunAna.ID, "TREAT", c.tok)
				return err
			})
		}
		if _, err := w.client(w.Carer).GetFor(ctx, w.immunAna.ID, "TREAT", carerTok); err != nil {
			t.Fatalf("the carer after revoking a link below: %v", err)
		}
	})

	t.Run("a delegation revoked mid-session", func(t *testing.T) {
		// The carer is in the middle of things: reads, then grants the
		// paediatrician access in Ana's name, who reads.
		g, seal := w.grantFor(w.Carer, carer, w.paed.DID, "Immunization")
		if err := w.client(w.Carer).RegisterConsent(ctx, g, carerTok, seal); err != nil {
			t.Fatal(err)
		}
		if _, err := w.client(w.paed).Get(ctx, w.immunAna.ID, "TREAT", g, ""); err != nil {
			t.Fatalf("paediatrician under the carer's grant: %v", err)
		}
		// Ana takes the delegation back. The very next request of the
		// session is refused, and so is every grant made under it.
		w.Revoke(carer)
		w.expectRefused(t, w.Patient, delegation.ErrRevoked.Error(), func() error {
			_, err := w.client(w.Carer).GetFor(ctx, w.immunAna.ID, "TREAT", carerTok)
			return err
		})
		w.expectRefused(t, w.Patient, delegation.ErrRevoked.Error(), func() error {
			_, err := w.client(w.paed).Get(ctx, w.immunAna.ID, "TREAT", g, "")
			return err
		})
		late, lateSeal := w.grantFor(w.Carer, carer, w.Parent.DID, "Immunization")
		w.expectRefused(t, w.Patient, delegation.ErrRevoked.Error(), func() error {
			return w.client(w.Carer).RegisterConsent(ctx, late, carerTok, lateSeal)
		})
		w.expectRefused(t, w.Patient, delegation.ErrRevoked.Error(), func() error {
			return w.client(w.Carer).WithdrawConsent(ctx, g, carerTok)
		})
	})
}
