package delegation

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/medid/medid/credentials/validity"
)

// Act is one thing a representative asks to do for a patient under a
// delegation.
type Act struct {
	// Representative is the DID acting (authenticated by the caller: the
	// signer of a vault request or a presentation).
	Representative string
	// Patient is the DID acted for (the owner of a record, the patient a
	// consent grant is for).
	Patient string
	Action  Action
	// Classes are the data classes the act touches (the record's class,
	// every class of a consent grant); Purposes its purposes of use. Each
	// must be covered; empty checks nothing.
	Classes  []string
	Purposes []string
	// At is when the act happens; zero means time.Now().
	At time.Time
}

// Allows reports whether d covers act, checking in this order: the
// representative ([ErrWrongRepresentative]), the patient
// ([ErrWrongPatient]), the period ([ErrNotYetValid]; [ErrExpired], or for a
// minor [ErrCameOfAge] wrapping [ErrExpired]), the action, each class and
// each purpose ([ErrOutOfScope]). It does not check who issued d, its
// signature or its status: d must come from a [Checker] (or be the caller's
// own). Safe for concurrent use.
func (d *Delegation) Allows(act Act) error {
	if err := validity.Party(ErrWrongRepresentative, "it was given to", d.Representative, act.Representative); err != nil {
		return err
	}
	if err := validity.Party(ErrWrongPatient, "it is for", d.Patient, act.Patient); err != nil {
		return err
	}
	at := act.At
	if at.IsZero() {
		at = time.Now()
	}
	if err := d.InForce(at); err != nil {
		return err
	}
	if !d.Covers(act.Action) {
		return fmt.Errorf("%w: it allows %s, not %.32s", ErrOutOfScope, actionList(d.Actions), act.Action)
	}
	for _, c := range act.Classes {
		if !d.CoversClass(c) {
			return fmt.Errorf("%w: data class %.64s is not delegated (only %v)", ErrOutOfScope, c, d.Classes)
		}
	}
	for _, p := range act.Purposes {
		if !slices.Contains(d.Purposes, p) {
			return fmt.Errorf("%w: purpose %.32s is not delegated (only %v)", ErrOutOfScope, p, d.Purposes)
		}
	}
	return nil
}

// InForce checks d's period (and its parents') at time at: [ErrNotYetValid]
// before validFrom, [ErrExpired] at or after validUntil, [ErrCameOfAge]
// (wrapping ErrExpired) when that is a minor's coming of age.
func (d *Delegation) InForce(at time.Time) error {
	for x := d; x != nil; x = x.Parent {
		err := x.period().Check(at, ErrNotYetValid, ErrExpired)
		if errors.Is(err, ErrExpired) && x.Minor {
			return fmt.Errorf("%w (%w): %s came of age on %s", ErrCameOfAge, ErrExpired, name(x.PatientName, x.Patient), x.ValidUntil.UTC().Format(time.DateOnly))
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// period is d's validity period (see [Period]).
func (d *Delegation) period() validity.Period { return Period(d.ValidFrom, d.ValidUntil) }

// Period is the validity period [from, until) of a delegation, as
// [Delegation.InForce] checks it and as a wallet shows a delegation it
// keeps. A delegation always ends: a zero until (a delegation that was
// never validated) is an end too, so such a period holds at no time.
func Period(from, until time.Time) validity.Period {
	return validity.Period{From: from, Until: &until}
}

func name(n, id string) string {
	if n != "" {
		return n
	}
	return id
}

func actionList(as []Action) string {
	s := ""
	for i, a := range as {
		if i > 0 {
			s += ","
		}
		s += string(a)
	}
	return s
}

// BasisWords says how the patient's screens introduce a representative:
// "as parent", "as guardian", "holding power of attorney", "with your
// authorisation" (or, for a sub-delegation, "authorised by <name>").
func (d *Delegation) BasisWords() string {
	if d.Parent != nil {
		return "authorised by " + name(d.Parent.RepresentativeName, d.Parent.Representative)
	}
	switch d.Basis {
	case BasisParent:
		return "as parent"
	case BasisGuardian:
		return "as guardian"
	case BasisPowerOfAttorney:
		return "holding power of attorney"
	}
	return "with your authorisation"
}

// credentialClasses maps credential types whose name is not their FHIR
// resource type plus "Credential" to the data class they carry.
var credentialClasses = map[string]string{
	"PatientIdentityCredential": "Patient",
	"PatientCredential":         "Patient",
	"AllergyCredential":         "AllergyIntolerance",
	"MedicationCredential":      "MedicationStatement",
	"LabResultCredential":       "Observation",
	"BloodTypeCredential":       "Observation",
}

// CredentialClass returns the data class a credential of types carries,
// the class a receive or present act is checked against: the FHIR
// resource type its most specific type names ("ImmunizationCredential" ->
// "Immunization"; a few older names are mapped: "AllergyCredential" ->
// "AllergyIntolerance", "PatientIdentityCredential" -> "Patient"). It
// returns "" for a credential with no type beyond VerifiableCredential,
// which only a delegation for every class ([AllClasses]) covers.
func CredentialClass(types []string) string {
	for i := len(types) - 1; i >= 0; i-- {
		t := types[i]
		if t == "VerifiableCredential" || t == "" {
			continue
		}
		if c, ok := credentialClasses[t]; ok {
			return c
		}
		if c, ok := strings.CutSuffix(t, "Credential"); ok && c != "" {
			return c
		}
		return t
	}
	return ""
}

// ActClasses is the class list of an act on credentials of types: the one
// [CredentialClass], or for a credential without one a class no
// delegation but one for every class covers.
func ActClasses(types []string) []string {
	if c := CredentialClass(types); c != "" {
		return []string{c}
	}
	return []string{"VerifiableCredential"}
}
