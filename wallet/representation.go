package wallet

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/medid/medid/credentials/consent"
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
			Minor: a.Minor, ValidUntil: a.ValidUntil, ValidFrom: e.Time}
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

// Sentence says an access event in words for the patient, naming DIDs
// with name (the directory's label, say; nil shows them as they are):
// "Dr. Jane Doe (St Mary's Hospital) read your allergies", "Maria Silva,
// acting for you as parent, granted St Mary's Hospital access to your
// immunizations", "St Mary's Hospital read your immunizations, under the
// consent Maria Silva (as parent) gave". A representative is named as
// their delegation names them (see [AccessEvent.Describe] to name them by
// a verified name instead).
func (e *AccessEvent) Sentence(name func(did string) string) string {
	return e.Describe(Naming{Label: name}, "")
}

// SentenceAbout is [AccessEvent.Sentence] for someone reading another
// person's trail (a representative): whose is that person's name ("Ana
// Silva"); "" means the reader is the patient.
func (e *AccessEvent) SentenceAbout(name func(did string) string, whose string) string {
	return e.Describe(Naming{Label: name}, whose)
}

// Naming is how [AccessEvent.Describe] names the parties of a sentence.
// The zero value shows DIDs as they are.
type Naming struct {
	// Label names any DID: the directory's label (registry/directory's
	// naming rule), "someone not in the directory (ref. …)" for a DID it
	// does not list. nil: the DID as it is.
	Label func(did string) string
	// Verified is a DID's verified name ("Dr. Jane Doe (St Mary's
	// Hospital)"), "" when it has none; nil: no verified names. A
	// representative with one is named by it ("Dr. Jane Doe (St Mary's
	// Hospital), acting for you with your authorisation, …"), else by the
	// name their delegation gives them, which its issuer (the patient,
	// or an accredited authority) wrote, never the representative.
	Verified func(did string) string
}

// Describe says an access event in words, the one wording every screen
// and command uses (see [AccessEvent.Sentence]); whose is as for
// [AccessEvent.SentenceAbout]. The sentence starts with a capital letter
// and has no final full stop.
func (e *AccessEvent) Describe(n Naming, whose string) string {
	return capitalize(e.describe(n, whose))
}

func (e *AccessEvent) describe(n Naming, whose string) string {
	name := n.Label
	if name == nil {
		name = func(d string) string { return d }
	}
	your, you := "your", "you"
	if whose != "" {
		your, you = whose+"'s", whose
	}
	who := name(e.Provider)
	if e.Provider != "" && e.Provider == e.Patient {
		who = strings.ToUpper(you[:1]) + you[1:]
	}
	if e.Unauthenticated {
		who = "someone who did not prove who they are (" + e.Origin + ")"
	}
	a := e.Authority
	acting := a != nil && a.Representative == e.Provider
	if acting {
		rep := name0(a)
		if n.Verified != nil {
			if v := n.Verified(a.Representative); v != "" {
				rep = v
			}
		}
		sep := " "
		if a.By != "" {
			sep = ", " // "acting for you, authorised by Maria Silva,"
		}
		who = rep + ", acting for " + you + sep + basisWords(a, whose) + ","
	}
	refused := e.Outcome != trail.OutcomeGranted
	what := your + " " + classWords(e.Class)
	switch e.Action {
	case trail.ActionConsent:
		provider := "a provider"
		if g, err := parseGrant(e.Grant); err == nil {
			provider = name(g.Provider)
		}
		if refused {
			return who + " tried to grant " + provider + " access to " + what + " in " + your + " name, and was refused"
		}
		return who + " granted " + provider + " access to " + what
	case trail.ActionWithdraw:
		if refused {
			return who + " tried to withdraw a consent to " + what + ", and was refused"
		}
		return who + " withdrew a consent to " + what
	case trail.ActionConsentDeposit:
		if refused {
			return who + " tried to hand in a consent to see " + what + ", and was refused"
		}
		return who + " handed in the consent " + you + " gave them to see " + what
	case trail.ActionAccessLog:
		if refused {
			return who + " tried to read the record of who accessed " + your + " records, and was refused"
		}
		return who + " read the record of who accessed " + your + " records"
	}
	done, try := map[string]string{trail.ActionRead: "read", trail.ActionPut: "stored", trail.ActionErase: "erased"}[e.Action],
		map[string]string{trail.ActionRead: "read", trail.ActionPut: "store", trail.ActionErase: "erase"}[e.Action]
	if done == "" {
		done, try = e.Action, e.Action
	}
	if refused {
		return who + " tried to " + try + " " + what + ", and was refused"
	}
	s := who + " " + done + " " + what
	switch {
	case e.BreakGlass && e.UnderStanding():
		s += ", in an emergency, with " + your + " standing emergency permission"
	case e.BreakGlass:
		s += ", in an emergency, with the emergency access " + you + " granted them"
	}
	if a != nil && !acting {
		s += ", under the consent " + name0(a) + " (" + basisWords(a, whose) + ") gave"
		if a.Ended {
			verbs := " confirm or withdraw it"
			if whose != "" {
				verbs = " confirms or withdraws it"
			}
			s += " before " + you + " came of age: it holds until " + you + verbs
		}
	}
	return s
}

// UnderStanding reports whether a granted emergency read was let in by
// the patient's standing emergency permission (the grant deposited with
// the hospital's vault) rather than a grant to the provider themselves.
// The vault records it (Standing, with the standing grant's hash in
// Consent); an entry from a vault that predates that field carries no
// grant hash, which meant the same (such a vault granted break-glass only
// under a grant the request carried, or the standing one).
func (e *AccessEvent) UnderStanding() bool {
	return e.BreakGlass && (e.Standing || e.Consent == "")
}

// capitalize upper-cases the first letter of a sentence that starts with
// a label ("someone not in the directory …"); a bare DID stays as it is.
func capitalize(s string) string {
	if s == "" || strings.HasPrefix(s, "did:") {
		return s
	}
	r := []rune(s)
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}

func name0(a *trail.Authority) string {
	if a.Name != "" {
		return a.Name
	}
	return a.Representative
}

// basisWords is the legal basis of a's delegation as the patient reads it
// ("as parent", "with your authorisation"), or someone reading whose trail
// ("with Rosa Silva's authorisation").
func basisWords(a *trail.Authority, whose string) string {
	if a.By != "" {
		return "authorised by " + a.By
	}
	if whose != "" && a.Basis == string(delegation.BasisAuthorisation) {
		return "with " + whose + "'s authorisation"
	}
	return (&delegation.Delegation{Basis: delegation.Basis(a.Basis)}).BasisWords()
}

// ClassWords is the everyday words for data classes: "immunizations and
// Condition records"; "records" for none or all ("*").
func ClassWords(classes ...string) string { return classWords(strings.Join(classes, ",")) }

// classWords is the everyday word for one or more FHIR resource types
// ("immunizations", "Condition records").
func classWords(classes string) string {
	if classes == "" {
		return "records"
	}
	var out []string
	for _, c := range strings.Split(classes, ",") {
		if c == delegation.AllClasses {
			out = append(out, "records")
		} else if w := LabelForClass(c); w != "" {
			out = append(out, w)
		} else {
			out = append(out, c+" records")
		}
	}
	return strings.Join(out, " and ")
}

func parseGrant(tok string) (*consent.Grant, error) {
	if tok == "" {
		return nil, errors.New("no grant")
	}
	return consent.Parse(tok)
}

// BasisText is how a legal basis reads after a name: "as parent",
// "holding power of attorney", "with your authorisation".
func BasisText(basis string) string {
	return (&delegation.Delegation{Basis: delegation.Basis(basis)}).BasisWords()
}

// RepresentativeNames maps the DID of everyone the owner let act for them
// (a delegation they granted) to the name the owner gave them, so the
// owner's screens can name them in trail entries the vault wrote without a
// verified authority (an attempt under a delegation since revoked). The
// name is the owner's own, never one the vault or the representative
// supplied.
func (w *Wallet) RepresentativeNames() (map[string]string, error) {
	ds, err := w.Delegations()
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, d := range ds {
		if d.Role == DelegationGranted && d.RepresentativeName != "" {
			out[d.Representative] = d.RepresentativeName
		}
	}
	return out, nil
}
