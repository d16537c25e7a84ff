package app

import (
	"context"
	"time"
)

// ConsentGrant is a consent the patient gave: which provider may read
// which classes of data, for what purpose, until when. It has the shape of
// a FHIR R4 Consent provision (actor, class, purpose, period).
type ConsentGrant struct {
	ID       string
	Provider string // the provider's DID
	// ProviderName is who the provider is, from the registry's directory
	// ("Dr. Jane Doe (St Mary's Hospital)", "Not verified (licence revoked): Unnamed (ref. …)"); ""
	// when the service cannot say.
	ProviderName string
	DataClasses  []string // e.g. "allergies", "immunizations"
	Purpose      string   // a purpose code, see [Purposes]
	BreakGlass   bool     // emergency access without asking allowed
	Granted      time.Time
	Expires      time.Time // when it ends (ended): its end, or when it was revoked
	Revoked      bool      // taken back by the patient
	// Token is the signed grant to hand to the provider (they show it to
	// the hospital's vault); "" when the service has none to hand over.
	Token string
	// MadeBy names who gave this consent in the patient's name and on
	// what authority ("Maria Silva, as parent"); "" for the patient's own.
	MadeBy string
	// Awaiting marks a consent made in the patient's name under an
	// authority that has ended (they came of age): it stays in force only
	// until the patient keeps it ([ConsentConfirmer].Confirm) or withdraws
	// it (Revoke). Confirmed: the patient kept it as their own.
	Awaiting, Confirmed bool
}

// ConsentConfirmer is implemented by a [ConsentService] that holds
// consents a representative made in the patient's name: Confirm keeps one
// as the patient's own (docs/design/0020-delegation.md, coming of age);
// Revoke withdraws it. Implementations MUST be safe for concurrent use.
type ConsentConfirmer interface {
	Confirm(ctx context.Context, id string) error
}

// ConsentRequest is what the patient asks [ConsentService.Grant] for.
type ConsentRequest struct {
	Provider    string
	DataClasses []string
	Purpose     string
	Duration    time.Duration
	BreakGlass  bool
}

// ConsentService manages consent grants. [WalletServices] implements it
// over the wallet and the registry. Implementations MUST be safe for
// concurrent use: the app calls them from background goroutines.
type ConsentService interface {
	// Grant records a consent and returns it with its id and period.
	Grant(ctx context.Context, req ConsentRequest) (ConsentGrant, error)
	// List returns the grants, expired ones included.
	List(ctx context.Context) ([]ConsentGrant, error)
	// Revoke ends a grant now.
	Revoke(ctx context.Context, id string) error
}

// Access outcomes.
const (
	OutcomePermitted = "permitted"
	OutcomeDenied    = "denied"
)

// AccessEvent is one access (or attempt) to the patient's records, as the
// registry's audit trail records it (FHIR AuditEvent shape).
type AccessEvent struct {
	At       time.Time
	Accessor string // who: the provider's DID
	// AccessorName is who that is, from the registry's directory (""
	// when the service cannot say).
	AccessorName string
	Data         []string // what: data classes
	Purpose      string   // why: a purpose code, see [Purposes]
	Outcome      string   // OutcomePermitted or OutcomeDenied
	BreakGlass   bool     // an emergency override ("break-glass")
	// Standing marks an emergency override made under the patient's
	// standing emergency permission (given in Settings to the hospital),
	// as opposed to one under a consent given to the provider themselves.
	Standing bool
	// StandingSince is when the patient gave that standing permission
	// (zero when the wallet does not hold the grant).
	StandingSince time.Time
	// Sentence is what happened in words, as the wallet says it
	// (wallet.AccessEvent.Describe: "Maria Silva, acting for you as
	// parent, read your immunizations"), with parties named from the
	// directory. "" lets the screen make it from the fields above, with
	// the same wallet wording.
	Sentence string
}

// AccessLogService reads the access log. Implementations MUST be safe for
// concurrent use.
type AccessLogService interface {
	// Accesses returns the events at or after since, in any order.
	Accesses(ctx context.Context, since time.Time) ([]AccessEvent, error)
}

// Purposes maps purpose-of-use codes (HL7 v3 PurposeOfUse) to words.
var Purposes = map[string]string{
	"TREAT":   "Treatment",
	"ETREAT":  "Emergency treatment",
	"HRESCH":  "Research",
	"HPAYMT":  "Payment",
	"PATRQT":  "At my request",
	"CAREMGT": "Care coordination",
}

// DataClasses are the data classes the Consent screen offers, in order.
var DataClasses = []string{"allergies", "immunizations", "medications", "conditions", "lab results", "identity"}

func purposeText(code string) string {
	if t, ok := Purposes[code]; ok {
		return t
	}
	return code
}
