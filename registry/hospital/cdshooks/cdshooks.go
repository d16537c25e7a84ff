// Package cdshooks is a CDS Hooks 2.0 service that answers consent
// questions: "may this actor see this patient's data of this class, for
// this purpose?" without moving any data, in the shape of the
// patient-consent-consult hook of the LEAP Consent Decision Service.
//
// The service itself decides nothing: it parses and checks the request,
// asks a [DecideFunc] (the vault's single decision path, which also puts
// the question in the patient's trail), and writes the decision as a
// card whose summary and extension.decision are CONSENT_PERMIT,
// CONSENT_DENY or NO_CONSENT, with the reason and the consent the
// decision rests on (extension.basedOn).
//
// Patients and actors are named by DID identifiers (system
// urn:ietf:rfc:3986); purposes are HL7 v3 PurposeOfUse codes; classes are
// FHIR resource types. Callers authenticate (Config.Authenticate), since
// the answer itself tells whether a patient consented to someone.
package cdshooks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/medid/medid/credentials/consent"
	"github.com/medid/medid/credentials/did"
)

// Hook and service names.
const (
	HookPatientConsentConsult = "patient-consent-consult"
	ServiceID                 = "patient-consent-consult"
)

// Decisions (the LEAP CDS consent-decision values).
const (
	DecisionPermit    = "CONSENT_PERMIT"
	DecisionDeny      = "CONSENT_DENY"
	DecisionNoConsent = "NO_CONSENT"
)

// Bounds of a request.
const (
	MaxRequestSize = 64 << 10
	MaxClasses     = 32
)

// SystemURI is the identifier system of DIDs.
const SystemURI = "urn:ietf:rfc:3986"

// ErrBadRequest reports a hook request that is malformed or asks what
// this service does not answer. The message names the member to fix and
// repeats no value.
var ErrBadRequest = errors.New("bad CDS Hooks request")

// Identifier is a FHIR Identifier's system and value.
type Identifier struct {
	System string `json:"system,omitempty"`
	Value  string `json:"value"`
}

// Coding is a FHIR Coding's system and code.
type Coding struct {
	System string `json:"system,omitempty"`
	Code   string `json:"code"`
}

// Request is a patient-consent-consult hook request.
type Request struct {
	Hook         string  `json:"hook"`
	HookInstance string  `json:"hookInstance"`
	FHIRServer   string  `json:"fhirServer,omitempty"`
	Context      Context `json:"context"`
}

// Context is the hook's context: whose consent, for whom, why, and on
// what. LEAP clients send patientId and actor as one identifier or a
// list, and purposeOfUse as one code or a list: both are accepted.
type Context struct {
	PatientID    []Identifier `json:"patientId"`
	Scope        string       `json:"scope"`
	PurposeOfUse []string     `json:"purposeOfUse"`
	Actor        []Identifier `json:"actor"`
	Class        []Coding     `json:"class,omitempty"`
}

// Question is one consent question the service asks the decision function.
type Question struct {
	// HookInstance is the caller's id of the call (for the trail).
	HookInstance string
	// Client is the authenticated caller.
	Client string
	// Patient and Actor are DIDs; Purpose an HL7 v3 PurposeOfUse code;
	// Classes FHIR resource types (empty: the question is about any data).
	Patient, Actor, Purpose string
	Classes                 []string
}

// Decision is the answer to a question.
type Decision struct {
	// Decision is DecisionPermit, DecisionDeny or DecisionNoConsent.
	Decision string
	// Reason says why, without health data ("consent revoked").
	Reason string
	// BasedOn names the consent the decision rests on, e.g. "Consent/…"
	// or the grant's hash ("" when there is none).
	BasedOn string
}

// DecideFunc answers a question. It MUST record the question in the
// patient's trail. An error means no decision could be made (503).
type DecideFunc func(ctx context.Context, q Question) (Decision, error)

// Source is the card source.
type Source struct {
	Label string `json:"label"`
	URL   string `json:"url,omitempty"`
}

// Config configures [New].
type Config struct {
	// Decide answers questions. Required.
	Decide DecideFunc
	// Authenticate returns the caller's identity (its DID) from the
	// request, e.g. from a SMART access token; an error refuses the call
	// with 401. Required.
	Authenticate func(r *http.Request) (string, error)
	// Source labels the cards (default "medid consent").
	Source Source
	Logger *slog.Logger
}

// Handler serves GET /cds-services and POST
// /cds-services/patient-consent-consult. It is safe for concurrent use.
type Handler struct {
	cfg       Config
	discovery []byte
}

// New returns a handler. Errors say which setting is missing.
func New(cfg Config) (*Handler, error) {
	if cfg.Decide == nil || cfg.Authenticate == nil {
		return nil, errors.New("cdshooks.New: Decide and Authenticate are required")
	}
	if cfg.Source.Label == "" {
		cfg.Source.Label = "medid consent"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	d, err := json.Marshal(Discovery())
	if err != nil {
		return nil, err
	}
	return &Handler{cfg: cfg, discovery: d}, nil
}

// Service is one entry of the discovery document.
type Service struct {
	Hook              string `json:"hook"`
	ID                string `json:"id"`
	Title             string `json:"title"`
	Description       string `json:"description"`
	UsageRequirements string `json:"usageRequirements,omitempty"`
}

// Discovery returns the discovery document (GET /cds-services).
func Discovery() map[string][]Service {
	return map[string][]Service{"services": {{
		Hook: HookPatientConsentConsult, ID: ServiceID, Title: "Patient consent decision",
		Description:       "Tells whether the patient's consent grant, in force on the ledger, permits an actor to access a class of their data for a purpose.",
		UsageRequirements: "Authenticate with a SMART Backend Services access token. context.patientId and context.actor are DIDs (system urn:ietf:rfc:3986), context.scope is patient-privacy, context.purposeOfUse an HL7 v3 PurposeOfUse code, context.class FHIR resource types.",
	}}}
}

// ParseRequest decodes and checks a patient-consent-consult request: hook
// patient-consent-consult, a hookInstance (1 to 128 bytes), scope
// patient-privacy, exactly one patient and one actor each named by a DID
// identifier, exactly one known purpose of use, and up to [MaxClasses]
// classes that are FHIR resource types (system
// http://hl7.org/fhir/resource-types or none). Unknown top-level members
// other than fhirAuthorization and prefetch (which this service never
// uses) are refused. Errors wrap [ErrBadRequest].
func ParseRequest(data []byte) (*Request, error) {
	bad := func(format string, args ...any) (*Request, error) {
		return nil, fmt.Errorf("%w: %s", ErrBadRequest, fmt.Sprintf(format, args...))
	}
	if len(data) > MaxRequestSize {
		return bad("%d bytes (at most %d)", len(data), MaxRequestSize)
	}
	var raw struct {
		Hook              string          `json:"hook"`
		HookInstance      string          `json:"hookInstance"`
		FHIRServer        string          `json:"fhirServer"`
		FHIRAuthorization json.RawMessage `json:"fhirAuthorization"`
		Prefetch          json.RawMessage `json:"prefetch"`
		Context           struct {
			PatientID    json.RawMessage `json:"patientId"`
			Scope        string          `json:"scope"`
			PurposeOfUse json.RawMessage `json:"purposeOfUse"`
			Actor        json.RawMessage `json:"actor"`
			Class        json.RawMessage `json:"class"`
		} `json:"context"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		return bad("not a patient-consent-consult request (hook, hookInstance, context{patientId, scope, purposeOfUse, actor, class})")
	}
	if dec.More() {
		return bad("trailing data after the request")
	}
	if raw.Hook != HookPatientConsentConsult {
		return bad("hook must be %s", HookPatientConsentConsult)
	}
	if raw.HookInstance == "" || len(raw.HookInstance) > 128 {
		return bad("hookInstance is required (1 to 128 bytes)")
	}
	r := &Request{Hook: raw.Hook, HookInstance: raw.HookInstance, FHIRServer: raw.FHIRServer}
	c := &r.Context
	c.Scope = raw.Context.Scope
	if c.Scope != "patient-privacy" {
		return bad("context.scope: this service decides patient-privacy consents only")
	}
	var err error
	if c.PatientID, err = oneOrMany[Identifier](raw.Context.PatientID, "context.patientId"); err != nil {
		return nil, err
	}
	if c.Actor, err = oneOrMany[Identifier](raw.Context.Actor, "context.actor"); err != nil {
		return nil, err
	}
	if c.PurposeOfUse, err = oneOrMany[string](raw.Context.PurposeOfUse, "context.purposeOfUse"); err != nil {
		return nil, err
	}
	if len(raw.Context.Class) > 0 && string(raw.Context.Class) != "null" {
		if err := json.Unmarshal(raw.Context.Class, &c.Class); err != nil {
			return bad("context.class must be a list of {system, code}")
		}
	}
	for _, f := range []struct {
		ids  []Identifier
		name string
	}{{c.PatientID, "context.patientId"}, {c.Actor, "context.actor"}} {
		if len(f.ids) != 1 {
			return bad("%s: exactly one identifier", f.name)
		}
		if f.ids[0].System != SystemURI {
			return bad("%s: identifier system must be %s (a DID)", f.name, SystemURI)
		}
		if _, err := did.Parse(f.ids[0].Value); err != nil {
			return bad("%s: identifier value must be a DID", f.name)
		}
	}
	if len(c.PurposeOfUse) != 1 || !consent.KnownPurpose(c.PurposeOfUse[0]) {
		return bad("context.purposeOfUse: exactly one HL7 v3 PurposeOfUse code (e.g. TREAT)")
	}
	if len(c.Class) > MaxClasses {
		return bad("context.class: at most %d classes", MaxClasses)
	}
	for i, cl := range c.Class {
		if (cl.System != "" && cl.System != consent.SystemResourceType) || !consent.KnownClass(cl.Code) {
			return bad("context.class[%d]: a FHIR resource type (system %s)", i, consent.SystemResourceType)
		}
	}
	return r, nil
}

// oneOrMany decodes a JSON value that is either one T or a list of them.
func oneOrMany[T any](raw json.RawMessage, name string) ([]T, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, fmt.Errorf("%w: %s is required", ErrBadRequest, name)
	}
	var many []T
	if err := json.Unmarshal(raw, &many); err == nil {
		return many, nil
	}
	var one T
	if err := json.Unmarshal(raw, &one); err != nil {
		return nil, fmt.Errorf("%w: %s has the wrong shape", ErrBadRequest, name)
	}
	return []T{one}, nil
}

// Question returns the question a checked request asks for client.
func (r *Request) Question(client string) Question {
	q := Question{HookInstance: r.HookInstance, Client: client, Patient: r.Context.PatientID[0].Value,
		Actor: r.Context.Actor[0].Value, Purpose: r.Context.PurposeOfUse[0]}
	for _, c := range r.Context.Class {
		q.Classes = append(q.Classes, c.Code)
	}
	return q
}

// Card is a CDS Hooks card carrying a consent decision.
type Card struct {
	Summary   string        `json:"summary"`
	Detail    string        `json:"detail,omitempty"`
	Indicator string        `json:"indicator"`
	Source    Source        `json:"source"`
	Extension CardExtension `json:"extension"`
}

// CardExtension is the LEAP consent-decision extension of a card.
type CardExtension struct {
	Decision    string `json:"decision"`
	Obligations []any  `json:"obligations"`
	BasedOn     string `json:"basedOn,omitempty"`
}

// Response is the hook response.
type Response struct {
	Cards []Card `json:"cards"`
}

// Respond writes the response for a decision: one card, indicator info
// for a permit and warning otherwise. An unknown Decision value is
// written as CONSENT_DENY.
func Respond(d Decision, src Source) Response {
	switch d.Decision {
	case DecisionPermit, DecisionNoConsent:
	default:
		d.Decision = DecisionDeny
	}
	ind := "warning"
	if d.Decision == DecisionPermit {
		ind = "info"
	}
	detail := d.Reason
	if detail == "" {
		detail = map[string]string{DecisionPermit: "A consent in force permits this access.", DecisionDeny: "The patient's consent does not permit this access.",
			DecisionNoConsent: "No consent of the patient applies to this actor."}[d.Decision]
	}
	return Response{Cards: []Card{{Summary: d.Decision, Detail: detail, Indicator: ind, Source: src,
		Extension: CardExtension{Decision: d.Decision, Obligations: []any{}, BasedOn: d.BasedOn}}}}
}

// ServeHTTP routes the discovery and the hook.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimSuffix(r.URL.Path, "/")
	switch {
	case strings.HasSuffix(path, "/cds-services"):
		if r.Method != http.MethodGet {
			w.Header().Set("Allow", "GET")
			writeError(w, http.StatusMethodNotAllowed, "GET the discovery document")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(h.discovery)
	case strings.HasSuffix(path, "/cds-services/"+ServiceID):
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST")
			writeError(w, http.StatusMethodNotAllowed, "POST the hook request")
			return
		}
		h.serveHook(w, r)
	default:
		writeError(w, http.StatusNotFound, "no such CDS service: GET /cds-services lists them")
	}
}

func (h *Handler) serveHook(w http.ResponseWriter, r *http.Request) {
	client, err := h.cfg.Authenticate(r)
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		writeError(w, http.StatusUnauthorized, "authenticate with a valid access token")
		return
	}
	body := http.MaxBytesReader(w, r.Body, MaxRequestSize)
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(body); err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the request is larger than %d bytes", MaxRequestSize))
		return
	}
	req, err := ParseRequest(buf.Bytes())
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	d, err := h.cfg.Decide(r.Context(), req.Question(client))
	if err != nil {
		h.cfg.Logger.Error("cdshooks: no decision", "hookInstance", req.HookInstance, "err", err)
		writeError(w, http.StatusServiceUnavailable, "the consent decision could not be made: retry")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(Respond(d, h.cfg.Source))
}

func writeError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": msg})
}
