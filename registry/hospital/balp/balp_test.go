package balp

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/medid/medid/registry/hospital/fhir"
	"github.com/medid/medid/registry/hospital/trail"
)

const (
	patientDID = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
	clientDID  = "did:medid:ehr1"
	vaultDID   = "did:medid:stmary"
)

func access(action Action) Access {
	return Access{ID: "e1", Time: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC), Action: action, Client: clientDID, ClientName: "Ward 3 EHR",
		Server: vaultDID, ServerName: "St Mary", Patient: fhir.Patient{ID: "p1", DID: patientDID}, Record: "AllergyIntolerance/a1",
		Purpose: "TREAT", Granted: true, Consent: strings.Repeat("ab", 32)}
}

type event struct {
	Meta           struct{ Profile []string }
	Type           struct{ System, Code string }
	Subtype        []struct{ System, Code string }
	Action         string
	Outcome        string
	OutcomeDesc    string
	PurposeOfEvent []struct{ Coding []struct{ Code string } }
	Agent          []struct {
		Who       struct{ Identifier struct{ Value string } }
		Requestor bool
	}
	Entity []struct {
		What  *struct{ Reference string }
		Role  struct{ Code string }
		Query string
	}
}

func TestAuditEvent(t *testing.T) {
	for _, tc := range []struct {
		name       string
		edit       func(*Access)
		profile    string
		subtype    string
		action     string
		outcome    string
		purpose    string
		breakGlass bool
	}{
		{"read", nil, "IHE.BasicAudit.PatientRead", "read", "R", "0", "TREAT", false},
		{"read denied", func(a *Access) { a.Granted, a.Reason = false, "consent revoked" }, "IHE.BasicAudit.PatientRead", "read", "R", "4", "TREAT", false},
		{"query", func(a *Access) { a.Action, a.Record, a.Query = ActionQuery, "", "patient=Patient/p1&_count=10" }, "IHE.BasicAudit.PatientQuery", "search-type", "E", "0", "TREAT", false},
		{"create", func(a *Access) { a.Action = ActionCreate }, "IHE.BasicAudit.PatientCreate", "create", "C", "0", "TREAT", false},
		{"update", func(a *Access) { a.Action = ActionUpdate }, "IHE.BasicAudit.PatientUpdate", "update", "U", "0", "TREAT", false},
		{"delete", func(a *Access) { a.Action, a.Purpose, a.Consent = ActionDelete, "", "" }, "IHE.BasicAudit.PatientDelete", "delete", "D", "0", "", false},
		{"break-glass", func(a *Access) { a.BreakGlass, a.Purpose, a.Reason = true, "ETREAT", "unconscious in ER" }, "IHE.BasicAudit.PatientRead", "read", "R", "0", "ETREAT", true},
		{"unknown patient id", func(a *Access) { a.Patient.ID = "" }, "IHE.BasicAudit.PatientRead", "read", "R", "0", "TREAT", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := access(ActionRead)
			if tc.edit != nil {
				tc.edit(&a)
			}
			b, err := AuditEvent(a)
			if err != nil {
				t.Fatal(err)
			}
			if err := fhir.Validate(b); err != nil {
				t.Fatalf("not valid FHIR R4: %v\n%s", err, b)
			}
			var ev event
			json.Unmarshal(b, &ev)
			if ev.Meta.Profile[0] != ProfileBase+tc.profile || ev.Type.Code != "rest" || ev.Subtype[0].Code != tc.subtype || ev.Action != tc.action || ev.Outcome != tc.outcome {
				t.Errorf("shape: %s", b)
			}
			if (tc.purpose == "") != (len(ev.PurposeOfEvent) == 0) || (tc.purpose != "" && ev.PurposeOfEvent[0].Coding[0].Code != tc.purpose) {
				t.Errorf("purpose: %s", b)
			}
			if got := len(ev.Subtype) == 2 && ev.Subtype[1].Code == DCMEmergencyOverride && ev.Subtype[1].System == SystemDCM; got != tc.breakGlass {
				t.Errorf("break-glass subtype %v, want %v", got, tc.breakGlass)
			}
			if !ev.Agent[0].Requestor || ev.Agent[0].Who.Identifier.Value != clientDID || ev.Agent[1].Who.Identifier.Value != vaultDID {
				t.Errorf("agents: %s", b)
			}
			roles := map[string]bool{}
			for _, e := range ev.Entity {
				roles[e.Role.Code] = true
				if e.Role.Code == "24" {
					q, _ := base64.StdEncoding.DecodeString(e.Query)
					if string(q) != a.Query {
						t.Errorf("query %q", q)
					}
				}
			}
			if !roles["1"] || roles["13"] != (a.Consent != "") || roles["24"] != (a.Action == ActionQuery) || roles["4"] != (a.Record != "") {
				t.Errorf("entities %v: %s", roles, b)
			}
		})
	}
}

func TestAuditEventRefusesBadInput(t *testing.T) {
	for name, edit := range map[string]func(*Access){
		"no action":   func(a *Access) { a.Action = "" },
		"no client":   func(a *Access) { a.Client, a.ClientName = "", "" },
		"no patient":  func(a *Access) { a.Patient.DID = "" },
		"no time":     func(a *Access) { a.Time = time.Time{} },
		"bad id":      func(a *Access) { a.ID = "a/b" },
		"bad purpose": func(a *Access) { a.Purpose = "FUN" },
	} {
		a := access(ActionRead)
		edit(&a)
		if _, err := AuditEvent(a); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestCollection(t *testing.T) {
	var evs []json.RawMessage
	for _, act := range []Action{ActionRead, ActionQuery, ActionCreate, ActionDelete} {
		b, err := AuditEvent(access(act))
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, b)
	}
	b, err := Collection(evs, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := fhir.Validate(b); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	empty, _ := Collection(nil, time.Now())
	if err := fhir.Validate(empty); err != nil {
		t.Fatalf("empty: %v", err)
	}
}

// TestFromEntry: trail entries of every action become valid BALP
// AuditEvents; an unauthenticated attempt names its origin, never a DID.
func TestFromEntry(t *testing.T) {
	base := trail.Entry{ID: "e1", Time: time.Now(), Patient: patientDID, Provider: clientDID, Record: "r-1", Class: "AllergyIntolerance",
		Purpose: "TREAT", Outcome: trail.OutcomeGranted, Consent: strings.Repeat("ab", 32)}
	for _, tc := range []struct {
		action, profile string
	}{
		{trail.ActionRead, "PatientRead"}, {TrailQuery, "PatientQuery"}, {trail.ActionPut, "PatientCreate"},
		{trail.ActionErase, "PatientDelete"}, {TrailConsentDecision, "PatientQuery"},
		{trail.ActionConsentDeposit, "PatientCreate"},
	} {
		e := base
		e.Action = tc.action
		a, ok := FromEntry(&e, vaultDID)
		if !ok {
			t.Fatalf("%s: not mapped", tc.action)
		}
		b, err := AuditEvent(a)
		if err != nil {
			t.Fatal(err)
		}
		if err := fhir.Validate(b); err != nil || !strings.Contains(string(b), "IHE.BasicAudit."+tc.profile) {
			t.Errorf("%s: %v %s", tc.action, err, b)
		}
		if tc.action == trail.ActionConsentDeposit && !strings.Contains(string(b), `"reference":"Consent/r-1"`) {
			t.Errorf("a consent deposit does not name the Consent it created: %s", b)
		}
	}
	e := base
	e.Action, e.Provider, e.Unauthenticated, e.Origin, e.Count, e.Outcome = trail.ActionRead, "", true, "203.0.113.7", 12, trail.OutcomeDenied
	a, _ := FromEntry(&e, vaultDID)
	b, err := AuditEvent(a)
	if err != nil {
		t.Fatal(err)
	}
	if err := fhir.Validate(b); err != nil || !strings.Contains(string(b), "unauthenticated sender from 203.0.113.7 (12 attempts)") || strings.Contains(string(b), clientDID) {
		t.Errorf("unauthenticated: %v %s", err, b)
	}
	e.Action = "something-new"
	if _, ok := FromEntry(&e, vaultDID); ok {
		t.Error("an unknown action was mapped")
	}
}
