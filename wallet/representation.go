package wallet

import (
	"errors"
	"strings"
	"unicode"

	"github.com/medid/medid/credentials/consent"
	"github.com/medid/medid/credentials/delegation"
	"github.com/medid/medid/registry/hospital/trail"
)

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
