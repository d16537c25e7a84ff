package balp

import (
	"fmt"
	"strings"

	"github.com/medid/medid/registry/hospital/fhir"
	"github.com/medid/medid/registry/hospital/trail"
)

// Trail actions the vault writes beyond those trail defines (the FHIR
// API's searches and CDS Hooks consent questions).
const (
	TrailQuery           = "query"
	TrailConsentDecision = "consent-decision"
)

// FromEntry returns the access a decrypted trail entry records, for
// [AuditEvent]: read → read, query → query, put → create, erase →
// delete, consent-decision → query (the consent question, in the query
// entity). vault is the DID of the vault that wrote the entry. An entry
// of an action this package does not know is returned with ok false.
func FromEntry(e *trail.Entry, vault string) (a Access, ok bool) {
	a = Access{Time: e.Time, Client: e.Provider, Server: vault, Patient: fhir.Patient{DID: e.Patient}, Purpose: e.Purpose,
		Granted: e.Outcome == trail.OutcomeGranted, Reason: e.Reason, BreakGlass: e.BreakGlass, Consent: e.Consent}
	if fhir.ValidID(e.ID) {
		a.ID = e.ID
	}
	if e.Unauthenticated {
		a.Client, a.ClientName = "", "unauthenticated sender"
		if e.Origin != "" {
			a.ClientName += " from " + e.Origin
		}
		if e.Count > 1 {
			a.ClientName += fmt.Sprintf(" (%d attempts)", e.Count)
		}
	}
	record := ""
	if e.Class != "" && e.Record != "" && !strings.Contains(e.Class, ",") {
		record = e.Class + "/" + e.Record
	}
	switch e.Action {
	case trail.ActionRead:
		a.Action, a.Record = ActionRead, record
	case TrailQuery:
		a.Action, a.Query = ActionQuery, "_type="+e.Class
	case trail.ActionPut:
		a.Action, a.Record = ActionCreate, record
	case trail.ActionErase:
		a.Action, a.Record = ActionDelete, record
	case trail.ActionConsentDeposit:
		a.Action, a.Record = ActionCreate, "Consent/"+e.Record
	case TrailConsentDecision:
		a.Action, a.Query = ActionQuery, "hook=patient-consent-consult&class="+e.Class
	default:
		return a, false
	}
	return a, true
}
