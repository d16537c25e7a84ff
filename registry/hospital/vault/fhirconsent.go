package vault

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/medid/medid/credentials/consent"
	"github.com/medid/medid/registry/hospital/balp"
	"github.com/medid/medid/registry/hospital/fhir"
	"github.com/medid/medid/registry/hospital/smart"
	"github.com/medid/medid/registry/hospital/trail"
	"github.com/medid/medid/registry/hospital/vaultapi"
)

// MediaTypeGrant is the contentType of a Consent's sourceAttachment that
// carries a consent grant (VC-JOSE, typ vc+jwt).
const MediaTypeGrant = "application/vc+jwt"

// serveConsentDeposit is POST /fhir/Consent: a provider deposits a
// patient's consent grant as an IHE PCF Consent whose sourceAttachment
// carries the grant's vc+jwt (what the MedID-Consent header carries).
// The signed grant is the consent; the rest of the resource must be
// valid FHIR R4 and name the grant's patient, and is otherwise not
// trusted. The grant is checked as a header's grant is (signature,
// period, ledger status), must be to the depositing client, and is then
// remembered for the patient and client as a header's grant that opened
// a read is: later reads need no header, and it is listed by GET
// /fhir/Consent?patient=…. Nothing is stored on a refusal.
func (f *FHIR) serveConsentDeposit(w http.ResponseWriter, r *http.Request, t *smart.Token) {
	if !t.Scopes.Permits("Consent", smart.PermCreate) {
		writeOutcome(w, fhir.Errorf(http.StatusForbidden, vaultapi.ErrDenied, fhir.IssueForbidden, "", "the access token's scopes do not allow creating Consent (ask for system/Consent.c)"))
		return
	}
	body, fe := readBody(r, fhir.MaxResourceSize, "resource")
	if fe != nil {
		writeOutcome(w, fe)
		return
	}
	if err := fhir.Validate(body); err != nil {
		writeOutcome(w, fhir.AsError(err))
		return
	}
	var c struct {
		ResourceType string `json:"resourceType"`
		Patient      *struct {
			Reference  string `json:"reference"`
			Identifier *struct {
				System string `json:"system"`
				Value  string `json:"value"`
			} `json:"identifier"`
		} `json:"patient"`
		SourceAttachment *struct {
			ContentType string `json:"contentType"`
			Data        string `json:"data"`
		} `json:"sourceAttachment"`
	}
	if err := json.Unmarshal(body, &c); err != nil || c.ResourceType != "Consent" {
		writeOutcome(w, fhir.Errorf(http.StatusBadRequest, fhir.ErrInvalid, fhir.IssueInvalid, "resourceType", "POST /fhir/Consent takes a Consent resource"))
		return
	}
	if c.SourceAttachment == nil || c.SourceAttachment.ContentType != MediaTypeGrant || c.SourceAttachment.Data == "" {
		writeOutcome(w, fhir.Errorf(http.StatusUnprocessableEntity, fhir.ErrInvalid, fhir.IssueRequired, "Consent.sourceAttachment",
			"carry the patient's consent grant as sourceAttachment with contentType %s and the token base64 in data", MediaTypeGrant))
		return
	}
	raw, err := base64.StdEncoding.DecodeString(c.SourceAttachment.Data)
	tok := strings.TrimSpace(string(raw))
	if err != nil || tok == "" || len(tok) > 64<<10 {
		writeOutcome(w, fhir.Errorf(http.StatusUnprocessableEntity, fhir.ErrInvalid, fhir.IssueValue, "Consent.sourceAttachment.data", "is not base64 of a consent grant token"))
		return
	}
	g, err := consent.Parse(tok)
	if err != nil || len(g.Actions) == 0 || len(g.Purposes) == 0 || len(g.Classes) == 0 {
		writeOutcome(w, fhir.Errorf(http.StatusUnprocessableEntity, fhir.ErrInvalid, fhir.IssueValue, "Consent.sourceAttachment.data", "is not a consent grant token"))
		return
	}
	// The resource must name the grant's patient, by DID or by this
	// vault's Patient id for that DID, and name no one else.
	named := false
	if p := c.Patient; p != nil && (p.Identifier != nil || p.Reference != "") {
		named = true
		if p.Identifier != nil && (p.Identifier.System != fhir.SystemURI || p.Identifier.Value != g.Patient) {
			named = false
		}
		if p.Reference != "" && p.Reference != "Patient/"+f.PatientID(g.Patient) {
			named = false
		}
	}
	now := f.v.cfg.Now()
	h := consent.Hash(tok)
	id := "c-" + h[:32]
	a := balp.Access{Time: now, Action: balp.ActionCreate, Client: t.Client, Patient: fhir.Patient{DID: g.Patient}, Record: "Consent/" + id, Consent: h}
	// The patient's trail gets the deposit, refused or not, before
	// anything is remembered (nothing is, if the entry cannot be written).
	// A patient whose DID does not resolve has no trail here (and the grant
	// cannot be checked either).
	record := func(granted bool, reason string) error {
		if _, err := f.v.recipient(r.Context(), g.Patient); err != nil {
			return nil
		}
		e := &trail.Entry{Time: now, Patient: g.Patient, Provider: t.Client, Record: id, Class: strings.Join(g.Classes, ","),
			Action: trail.ActionConsentDeposit, Outcome: trail.OutcomeDenied, Type: trail.DCMPatientRecord, Consent: h, Reason: reason}
		if granted {
			e.Outcome = trail.OutcomeGranted
		}
		return f.v.trail(r.Context(), e)
	}
	refuse := func(fe *fhir.Error) {
		a.Reason = fe.Error()
		if err := record(false, a.Reason); err != nil {
			f.v.cfg.Logger.Error("vault: a refused consent deposit is not in the trail", "err", err)
		}
		f.audit(a)
		writeOutcome(w, fe)
	}
	switch {
	case !named:
		refuse(fhir.Errorf(http.StatusUnprocessableEntity, fhir.ErrInvalid, fhir.IssueValue, "Consent.patient", "must name the grant's patient (a DID identifier, system %s, or Patient/{id} of this server)", fhir.SystemURI))
		return
	case g.Provider != t.Client:
		refuse(fhir.Errorf(http.StatusForbidden, vaultapi.ErrDenied, fhir.IssueForbidden, "Consent.sourceAttachment", "the grant is to another provider: a client deposits only grants made to it"))
		return
	}
	if _, err := f.v.cfg.Consent.CheckInForce(r.Context(), tok, consent.Request{Provider: g.Provider, Action: g.Actions[0],
		Purpose: g.Purposes[0], Class: g.Classes[0], At: now}); err != nil {
		refuse(fhir.Errorf(http.StatusForbidden, err, fhir.IssueForbidden, "Consent.sourceAttachment", "the grant is not in force: %v", err))
		return
	}
	out, err := fhir.ConsentPCF(g, consent.StatusActive, id, fhir.Patient{ID: f.PatientID(g.Patient), DID: g.Patient}, h)
	if err != nil {
		writeOutcome(w, fhir.AsError(err))
		return
	}
	if err := record(true, ""); err != nil {
		writeOutcome(w, vaultOutcome(fmt.Errorf("%w: %v", vaultapi.ErrTrailUnavailable, err)))
		return
	}
	f.remember(g.Patient, t.Client, tok)
	a.Granted = true
	f.audit(a)
	w.Header().Set("Location", f.cfg.Base+"/Consent/"+id+"/_history/1")
	writeFHIR(w, http.StatusCreated, out)
}
