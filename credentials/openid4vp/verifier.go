package openid4vp

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/medid/medid/credentials/delegation"
	"github.com/medid/medid/credentials/jose"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/credentials/sdjwt"
	"github.com/medid/medid/credentials/vc"
	"github.com/medid/medid/credentials/verify"
	"github.com/medid/medid/internal/httpserver"
	"github.com/medid/medid/internal/openid"
	"github.com/medid/medid/internal/randid"
)

// Defaults for Config.
const (
	DefaultRequestTTL = 10 * time.Minute
	DefaultMaxPending = 100_000
	// DefaultResultTTL is how long an answered request's result is kept.
	DefaultResultTTL = time.Hour
)

// Config configures a Verifier.
type Config struct {
	// URL is the verifier's base URL (https), without a trailing slash;
	// the response URI is URL+"/response" and the client_id
	// "redirect_uri:"+URL+"/response". Required.
	URL string
	// Name is shown to the holder (client_metadata.client_name). Wallets
	// treat it as the verifier's own claim: a signed request (DID, Key)
	// lets them show the directory's name instead.
	Name string
	// DID, Key and KeyID make the verifier sign its request objects
	// (client_id "decentralized_identifier:"+DID, passed by reference);
	// KeyID is a DID URL of DID naming Key's verification method. Without
	// them requests use the redirect_uri: prefix and are passed by value,
	// unsigned.
	DID   string
	Key   *key.PrivateKey
	KeyID string
	// Verify checks the presentations. Required.
	Verify *verify.Verifier
	// StatusMaxAge, when positive, makes the Verifier fetch a status list
	// again when its cached copy is older than this, whatever the list's
	// own ttl, so a revocation is seen within StatusMaxAge. Zero keeps
	// the verify.Verifier's caching.
	StatusMaxAge time.Duration
	// Accept, when set, is asked about every response that passed all
	// the checks, before it is recorded as valid: an error refuses it
	// (status invalid, error access_denied, the error's text as the
	// description the wallet is shown). A record vault uses it to check a
	// practitioner's licence against the directory and remember it.
	Accept func(ctx context.Context, res *Result) error
	// AdminToken authorises POST /requests (Authorization: Bearer). Empty
	// disables the endpoint (use CreateRequest from Go).
	AdminToken []byte
	// Delegations verifies delegation credentials (*delegation.Checker
	// does), so a representative may answer with the credentials of the
	// patient who delegated "present" to them (see [DelegationClaim]).
	// nil refuses every presentation made for someone else.
	Delegations DelegationVerifier
	// RequestTTL is how long a request can be answered; default DefaultRequestTTL.
	RequestTTL time.Duration
	// MaxPending bounds the pending requests; default DefaultMaxPending.
	MaxPending int
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Logger gets one summary line per answered request, never claim values.
	Logger *slog.Logger
}

// DelegationVerifier verifies a delegation credential: its signatures, its
// issuer's authority and its revocation status. *delegation.Checker
// implements it; it MUST be safe for concurrent use.
type DelegationVerifier interface {
	Verify(ctx context.Context, token string) (*delegation.Delegation, error)
}

// DelegationClaim is the top-level property of a vp+jwt that carries the
// delegation credential (vc+jwt) under which its holder, a representative,
// presents another person's credentials: every credential of the
// presentation must then be about the person the delegation names, and
// the delegation must let the holder present each of them (action
// present, the credential's data class, now).
const DelegationClaim = "delegation"

// Verifier is an OpenID4VP verifier: it creates requests, serves request
// objects, takes direct_post responses and keeps their results. It is an
// http.Handler, safe for concurrent use; state is in memory.
type Verifier struct {
	cfg      Config
	clientID string
	mux      *http.ServeMux
	log      *slog.Logger

	mu        sync.Mutex // guards requests, forgotAt and lastSweep
	lastSweep time.Time
	requests  map[string]*pending
	forgotAt  map[string]time.Time
}

type pending struct {
	req       *Request
	object    string
	expires   time.Time
	result    *Result
	resultKey string // reads result (GET /results/{state}); never in the request
}

// Status values of a Result.
const (
	StatusPending  = "pending"
	StatusValid    = "valid"
	StatusInvalid  = "invalid"
	StatusDeclined = "declined"
)

// Result is what became of a request.
type Result struct {
	State  string `json:"state"`
	Status string `json:"status"`
	// Error is the protocol error code when the response was refused or
	// declined.
	Error       string `json:"error,omitempty"`
	Description string `json:"error_description,omitempty"`
	// Holder is the presenting DID.
	Holder string `json:"holder,omitempty"`
	// ActingFor is set when the holder presented another person's
	// credentials under a delegation the Verifier checked; PresentedBy
	// says it for the verifier's staff ("presented by Maria Silva acting
	// for Ana Silva as parent").
	ActingFor   *ActingFor `json:"acting_for,omitempty"`
	PresentedBy string     `json:"presented_by,omitempty"`
	// Reason is a machine-readable reason for a refusal that is not a
	// presentation's own (a delegation's: delegation_revoked, …).
	Reason string `json:"reason,omitempty"`
	// Presentations are the verification results, by credential query
	// id: for a query with multiple, its first presentation's (all are in
	// Credentials).
	Presentations map[string]*verify.Result `json:"presentations,omitempty"`
	// Claims are the values of the asked claims, by query id and path
	// (for a query with multiple, its first credential's). They are
	// health data: kept for the verifier's staff, never logged.
	Claims map[string]map[string]any `json:"claims,omitempty"`
	// Credentials are, by query id, every credential received in the
	// order sent: one per query, or one or more for a query with
	// multiple. Set for a valid response.
	Credentials map[string][]Received `json:"credentials,omitempty"`
	// CredentialSets says, for a request with credential_sets, which
	// option of every set the holder answered and which optional sets they
	// left out, in the request's order; empty for a request without
	// credential_sets (every credential query was answered) and for a
	// refused response.
	CredentialSets []SetAnswer `json:"credential_sets,omitempty"`
	AnsweredAt     *time.Time  `json:"answeredAt,omitempty"`
}

// Received is one credential of a response: its presentation's
// verification and the values of the asked claims (health data).
type Received struct {
	Presentation *verify.Result `json:"presentation"`
	Claims       map[string]any `json:"claims,omitempty"`
}

// ActingFor is the delegation a representative presented under, as the
// Verifier checked it. The names are those the delegation's issuer (the
// patient, or an accredited authority) wrote, never the representative.
type ActingFor struct {
	Representative     string    `json:"representative"`
	RepresentativeName string    `json:"representative_name,omitempty"`
	Patient            string    `json:"patient"`
	PatientName        string    `json:"patient_name,omitempty"`
	Basis              string    `json:"basis"`
	Relationship       string    `json:"relationship,omitempty"`
	Delegation         string    `json:"delegation"` // the credential's id
	Type               string    `json:"type"`
	Issuer             string    `json:"issuer"`
	ValidUntil         time.Time `json:"valid_until"`
	// By is who passed the authority on, for a sub-delegation.
	By string `json:"by,omitempty"`
}

func actingFor(d *delegation.Delegation) *ActingFor {
	a := &ActingFor{Representative: d.Representative, RepresentativeName: d.RepresentativeName, Patient: d.Patient,
		PatientName: d.PatientName, Basis: string(d.Basis), Relationship: d.Relationship, Delegation: d.ID, Type: d.Type,
		Issuer: d.Issuer, ValidUntil: d.ValidUntil}
	if d.Parent != nil {
		a.By = d.Parent.RepresentativeName
		if a.By == "" {
			a.By = d.Parent.Representative
		}
	}
	return a
}

// Sentence says who presented for whom, for the verifier's staff:
// "presented by Maria Silva acting for Ana Silva as parent".
func (a *ActingFor) Sentence() string {
	rep, pat := a.RepresentativeName, a.PatientName
	if rep == "" {
		rep = a.Representative
	}
	if pat == "" {
		pat = a.Patient
	}
	basis := "with their authorisation"
	switch {
	case a.By != "":
		basis = "authorised by " + a.By
	case a.Basis == string(delegation.BasisParent):
		basis = "as parent"
	case a.Basis == string(delegation.BasisGuardian):
		basis = "as guardian"
	case a.Basis == string(delegation.BasisPowerOfAttorney):
		basis = "holding power of attorney"
	}
	return "presented by " + rep + " acting for " + pat + " " + basis
}

// New checks cfg and returns a Verifier.
func New(cfg Config) (*Verifier, error) {
	cfg.URL = strings.TrimRight(cfg.URL, "/")
	if !strings.HasPrefix(cfg.URL, "https://") && !strings.HasPrefix(cfg.URL, "http://") {
		return nil, errors.New("openid4vp: Config.URL must be the verifier's https URL")
	}
	if cfg.Verify == nil {
		return nil, errors.New("openid4vp: Config.Verify is required")
	}
	if cfg.RequestTTL <= 0 {
		cfg.RequestTTL = DefaultRequestTTL
	}
	if cfg.MaxPending <= 0 {
		cfg.MaxPending = DefaultMaxPending
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	clientID := PrefixRedirectURI + cfg.URL + "/response"
	if cfg.Key != nil || cfg.DID != "" {
		if cfg.Key == nil || !strings.HasPrefix(cfg.DID, "did:") || !strings.HasPrefix(cfg.KeyID, cfg.DID+"#") {
			return nil, errors.New("openid4vp: a signing verifier needs Config.DID, Key and KeyID (a DID URL of DID)")
		}
		clientID = PrefixDecentralizedIdentifier + cfg.DID
	}
	v := &Verifier{cfg: cfg, clientID: clientID, log: cfg.Logger,
		requests: map[string]*pending{}, forgotAt: map[string]time.Time{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /request/{state}", v.serveRequest)
	mux.HandleFunc("POST /response", v.response)
	// Creating requests and reading their results are the verifier
	// operator's routes: with mutual TLS on, only clients with a
	// certificate from the hospital's CA reach them.
	mux.Handle("GET /results/{state}", httpserver.RequireClientCert(http.HandlerFunc(v.serveResult)))
	if len(cfg.AdminToken) > 0 {
		mux.Handle("POST /requests", httpserver.RequireClientCert(http.HandlerFunc(v.adminRequest)))
	}
	httpserver.Fallback(mux, func(w http.ResponseWriter, r *http.Request, status int, detail string) {
		writeError(w, &ProtocolError{Code: ErrCodeInvalidRequest, Status: status, Description: detail})
	})
	v.mux = mux
	return v, nil
}

// ClientID returns the verifier's client identifier (the audience of the
// presentations it accepts).
func (v *Verifier) ClientID() string { return v.clientID }

// ServeHTTP serves the verifier's endpoints.
func (v *Verifier) ServeHTTP(w http.ResponseWriter, r *http.Request) { v.mux.ServeHTTP(w, r) }

// Started is a created request.
type Started struct {
	State      string    `json:"state"`
	URI        string    `json:"uri"`
	RequestURI string    `json:"request_uri"`
	ClientID   string    `json:"client_id"`
	ExpiresAt  time.Time `json:"expires_at"`
	// ResultKey reads this request's result (GET /results/{state} with
	// Authorization: Bearer ResultKey) without the admin token. Give it
	// only to the staff screen that waits for the answer: the state is in
	// the QR code and the request object, so anyone who sees the QR code
	// knows it, and must not be able to read what the holder disclosed.
	ResultKey string `json:"result_key"`
}

// CreateRequest starts a presentation request for query. The URI goes to
// the holder (as a link or QR code); Result(state) tells what came back.
// A query the verifier could not check the answer to (see
// [DCQLQuery.Checkable]: an unknown trusted authority type, holder binding
// waived) is refused with invalid_request, before anything is asked.
func (v *Verifier) CreateRequest(query DCQLQuery) (*Started, error) {
	if err := query.Checkable(); err != nil {
		return nil, &ProtocolError{Code: ErrCodeInvalidRequest, Description: err.Error(), Status: 400}
	}
	now := v.cfg.Now()
	state, nonce := randid.Hex(16), randid.Hex(16)
	req := &Request{
		ResponseType: "vp_token", ClientID: v.clientID, ResponseMode: ResponseModeDirectPost,
		ResponseURI: v.cfg.URL + "/response", Nonce: nonce, State: state, DCQLQuery: query,
		ClientMetadata: &ClientMetadata{ClientName: v.cfg.Name, VPFormatsSupported: map[string]any{
			FormatVCJWT: map[string]any{"alg_values": []string{"EdDSA", "ES256"}},
			FormatSDJWT: map[string]any{"sd-jwt_alg_values": []string{"EdDSA", "ES256"}, "kb-jwt_alg_values": []string{"EdDSA", "ES256"}},
		}},
		Audience: "https://self-issued.me/v2", IssuedAt: now.Unix(), ExpiresAt: now.Add(v.cfg.RequestTTL).Unix(),
	}
	var obj string
	var err error
	if v.cfg.Key != nil {
		obj, err = signedJWT(req, v.cfg.Key, v.cfg.KeyID)
	} else {
		obj, err = unsecuredJWT(req)
	}
	if err != nil {
		return nil, err
	}
	p := &pending{req: req, object: obj, expires: now.Add(v.cfg.RequestTTL), result: &Result{State: state, Status: StatusPending},
		resultKey: randid.Hex(16)}
	v.mu.Lock()
	v.sweepLocked(now)
	if len(v.requests) >= v.cfg.MaxPending {
		v.dropUnansweredLocked(now)
	}
	if len(v.requests) >= v.cfg.MaxPending {
		v.mu.Unlock()
		return nil, &ProtocolError{Code: ErrCodeInvalidRequest, Status: 503, Description: "too many pending requests"}
	}
	v.requests[state] = p
	v.mu.Unlock()
	ru := v.cfg.URL + "/request/" + state
	uri := URI(v.clientID, ru)
	if v.cfg.Key == nil {
		// Unsigned: by value, so no wallet fetches an alg none object.
		if uri, err = byValueURI(req); err != nil {
			return nil, err
		}
	}
	return &Started{State: state, URI: uri, RequestURI: ru, ClientID: v.clientID, ExpiresAt: p.expires, ResultKey: p.resultKey}, nil
}

// sweepLocked drops requests expired for an hour, at most once a second;
// v.mu is held.
// dropUnansweredLocked drops the requests that expired unanswered (nobody
// can answer them any more and they have no result), so that requests
// made and left, on purpose or not, block new ones for at most RequestTTL;
// v.mu is held.
func (v *Verifier) dropUnansweredLocked(now time.Time) {
	for s, p := range v.requests {
		if p.result.Status == StatusPending && now.After(p.expires) {
			delete(v.requests, s)
		}
	}
}

func (v *Verifier) sweepLocked(now time.Time) {
	if len(v.requests) < 1024 || now.Sub(v.lastSweep) < time.Second {
		return
	}
	v.lastSweep = now
	for s, p := range v.requests {
		if now.After(p.expires.Add(DefaultResultTTL)) {
			delete(v.requests, s)
		}
	}
}

// Result returns the result for state; ok is false for an unknown state.
func (v *Verifier) Result(state string) (Result, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	p, ok := v.requests[state]
	if !ok {
		return Result{}, false
	}
	return *p.result, true
}

func (v *Verifier) serveRequest(w http.ResponseWriter, r *http.Request) {
	v.mu.Lock()
	p, ok := v.requests[r.PathValue("state")]
	live := ok && p.result.Status == StatusPending && !v.cfg.Now().After(p.expires)
	v.mu.Unlock()
	if !live {
		writeError(w, &ProtocolError{Code: ErrCodeInvalidRequest, Status: http.StatusNotFound, Description: "no such pending request: it expired or was answered"})
		return
	}
	w.Header().Set("Content-Type", RequestObjectType)
	w.Header().Set("Cache-Control", "no-store")
	io.WriteString(w, p.object)
}

// serveResult answers GET /results/{state} to the bearer of the admin
// token or of the request's result key, and to nobody else: the state
// travels in the QR code, so it is not a capability. Without a valid
// bearer the answer is 401 whether or not the state exists.
func (v *Verifier) serveResult(w http.ResponseWriter, r *http.Request) {
	state := r.PathValue("state")
	bearer, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	admin := len(v.cfg.AdminToken) > 0 && subtle.ConstantTimeCompare([]byte(bearer), v.cfg.AdminToken) == 1
	v.mu.Lock()
	p, ok := v.requests[state]
	var res Result
	if ok {
		res = *p.result
		admin = admin || (bearer != "" && subtle.ConstantTimeCompare([]byte(bearer), []byte(p.resultKey)) == 1)
	}
	v.mu.Unlock()
	if !admin {
		w.Header().Set("WWW-Authenticate", `Bearer realm="openid4vp-results"`)
		writeError(w, &ProtocolError{Code: ErrCodeInvalidToken, Status: http.StatusUnauthorized,
			Description: "reading a result needs the verifier's admin token or the request's result key (Authorization: Bearer); the state alone is not enough"})
		return
	}
	if !ok {
		writeError(w, &ProtocolError{Code: ErrCodeInvalidRequest, Status: http.StatusNotFound, Description: "no such request"})
		return
	}
	openid.WriteJSON(w, http.StatusOK, res)
}

func writeError(w http.ResponseWriter, e *ProtocolError) {
	status := e.Status
	if status == 0 {
		status = http.StatusBadRequest
	}
	openid.WriteJSON(w, status, e)
}

// maxResponseBody bounds a direct_post body (presentations of a few
// credentials).
const maxResponseBody = 1 << 20

func (v *Verifier) response(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxResponseBody)
	if err := r.ParseForm(); err != nil {
		writeError(w, &ProtocolError{Code: ErrCodeInvalidRequest, Description: "the response must be application/x-www-form-urlencoded"})
		return
	}
	state := r.PostForm.Get("state")
	now := v.cfg.Now()
	// Claim the request: one response per state, so a replayed or second
	// response is refused, even while the first is being verified.
	v.mu.Lock()
	p, ok := v.requests[state]
	claimable := ok && p.result.Status == StatusPending && !now.After(p.expires)
	if claimable {
		p.result.Status = "verifying"
	}
	v.mu.Unlock()
	if !claimable {
		writeError(w, &ProtocolError{Code: ErrCodeInvalidRequest, Description: "unknown, expired or already answered state"})
		return
	}
	res := v.check(r.Context(), p.req, r.PostForm)
	res.State = state
	if res.Status == StatusValid && v.cfg.Accept != nil {
		if err := v.cfg.Accept(r.Context(), res); err != nil {
			res.Status, res.Error, res.Description = StatusInvalid, ErrCodeAccessDenied, err.Error()
		}
	}
	at := now.UTC()
	res.AnsweredAt = &at
	v.mu.Lock()
	p.result = res
	v.mu.Unlock()
	v.logResult(res)
	if res.Status == StatusInvalid {
		writeError(w, &ProtocolError{Code: res.Error, Description: res.Description, Reason: reasonOf(res)})
		return
	}
	openid.WriteJSON(w, http.StatusOK, struct{}{})
}

func reasonOf(res *Result) string {
	if res.Reason != "" {
		return res.Reason
	}
	for _, pr := range res.Presentations {
		if pr != nil && !pr.Valid {
			return pr.Reason
		}
	}
	return ""
}

// logResult writes the summary line: who, what types, verdict; no claims.
func (v *Verifier) logResult(res *Result) {
	var types []string
	for id, pr := range res.Presentations {
		for _, c := range pr.Credentials {
			types = append(types, id+"="+strings.Join(c.Types, "+"))
		}
	}
	// The holder's DID is left out: next to credential types such as
	// AllergyIntoleranceCredential it would say something about a person's
	// health in a log. The result (GET /results/{state}) carries it.
	v.log.Info("openid4vp: response", "state", res.State, "status", res.Status,
		"credentials", strings.Join(types, ","), "reason", reasonOf(res), "error", res.Error)
}

func invalid(code, format string, a ...any) *Result {
	return &Result{Status: StatusInvalid, Error: code, Description: fmt.Sprintf(format, a...)}
}

// check verifies a direct_post response against its request.
func (v *Verifier) check(ctx context.Context, req *Request, form map[string][]string) *Result {
	get := func(k string) string {
		if vs := form[k]; len(vs) == 1 {
			return vs[0]
		}
		return ""
	}
	if e := get("error"); e != "" {
		return &Result{Status: StatusDeclined, Error: e, Description: get("error_description")}
	}
	var token map[string][]string
	raw := get("vp_token")
	if raw == "" {
		return invalid(ErrCodeInvalidRequest, "the response has neither vp_token nor error")
	}
	if err := json.Unmarshal([]byte(raw), &token); err != nil {
		return invalid(ErrCodeInvalidRequest, "vp_token must be a JSON object of arrays of presentations, by credential query id")
	}
	// Which credentials came back must be what the request asks for:
	// every credential query without credential_sets, else one option of
	// each required set (and at most one of each optional set), and
	// nothing more. Checked before any signature, so an answer with a
	// credential nobody asked for is refused whatever it holds.
	ids := make([]string, 0, len(token))
	for id := range token {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	answered, err := req.DCQLQuery.Answered(ids)
	if err != nil {
		return invalid(ErrCodeInvalidRequest, "%v", err)
	}
	res := &Result{Presentations: map[string]*verify.Result{}, Claims: map[string]map[string]any{}}
	if len(req.DCQLQuery.CredentialSets) > 0 {
		res.CredentialSets = answered
	}
	seen := map[string]bool{} // each credential once, across the response
	for _, q := range req.DCQLQuery.Credentials {
		vps, asked := token[q.ID]
		if !asked {
			continue // an option not taken (CheckAnswered allowed it)
		}
		switch {
		case len(vps) == 0:
			return invalid(ErrCodeInvalidRequest, "vp_token holds no presentation for credential query %q", q.ID)
		case !q.Multiple && len(vps) != 1:
			return invalid(ErrCodeInvalidRequest, "vp_token must hold exactly one presentation for credential query %q (it does not allow multiple)", q.ID)
		case len(vps) > MaxMultiple:
			return invalid(ErrCodeInvalidRequest, "vp_token holds %d presentations for credential query %q; at most %d are accepted", len(vps), q.ID, MaxMultiple)
		}
		for n, vp := range vps {
			if r := v.checkOne(ctx, req, &q, n, vp, res, seen); r != nil {
				return r
			}
		}
	}
	res.Status = StatusValid
	return res
}

// checkOne checks the n-th presentation vp answering query q and adds
// it to res: its delegation if any, its verification for this request,
// one holder across the response, the issuer among q's trusted
// authorities, no credential sent twice, and what it answers of q (for
// dc+sd-jwt, nothing disclosed beyond one of q's claim sets). A non-nil
// Result is the refusal.
func (v *Verifier) checkOne(ctx context.Context, req *Request, q *CredentialQuery, n int, vp string, res *Result, seen map[string]bool) *Result {
	v.refreshStatus(vp)
	d, refused := v.delegated(ctx, q.ID, vp)
	if refused != nil {
		return refused
	}
	subject := ""
	if d != nil {
		subject = d.Patient
		if res.Holder != "" && res.ActingFor == nil {
			return invalid(ErrCodeInvalidRequest, "the presentations mix the holder's own credentials with credentials presented for someone else")
		}
		if res.ActingFor != nil && res.ActingFor.Patient != d.Patient {
			return invalid(ErrCodeInvalidRequest, "the presentations are made for different people")
		}
		res.ActingFor = actingFor(d)
		res.PresentedBy = res.ActingFor.Sentence()
	} else if res.ActingFor != nil {
		return invalid(ErrCodeInvalidRequest, "the presentations mix the holder's own credentials with credentials presented for someone else")
	}
	pr := v.cfg.Verify.PresentationFor(ctx, vp, req.ClientID, req.Nonce, subject)
	if n == 0 {
		res.Presentations[q.ID] = pr
	}
	which := fmt.Sprintf("%q", q.ID)
	if q.Multiple {
		which = fmt.Sprintf("%q (number %d)", q.ID, n+1)
	}
	if !pr.Valid {
		res.Status, res.Error = StatusInvalid, ErrCodeInvalidRequest
		res.Description = fmt.Sprintf("the presentation for %s is not valid: %s", which, pr.Reason)
		if f := pr.Failed(); f != nil && f.Detail != "" {
			res.Description += " (" + f.Detail + ")"
		}
		return res
	}
	if res.Holder != "" && res.Holder != pr.Holder {
		return invalid(ErrCodeInvalidRequest, "the presentations come from different holders")
	}
	res.Holder = pr.Holder
	for _, c := range pr.Credentials {
		if !q.TrustsIssuer(c.Issuer) {
			r := invalid(ErrCodeInvalidRequest, "the credential for %s is issued by %s, and %s", which, c.Issuer, q.AuthoritiesWords())
			r.Reason = ReasonUntrustedAuthority
			return r
		}
	}
	for _, k := range credentialTokens(vp) {
		if seen[k] {
			return invalid(ErrCodeInvalidRequest, "the response sends the same credential twice (for %s)", which)
		}
		seen[k] = true
	}
	var claims map[string]any
	if q.Format == FormatSDJWT {
		opt, r := v.checkSDJWT(q, pr)
		if r != nil {
			r.Presentations = res.Presentations
			return r
		}
		claims = opt.ClaimValuesSDJWT(pr.Credentials[0].SDJWT)
	} else {
		var matched *vc.Credential
		var opt CredentialQuery
	match:
		for _, c := range pr.Credentials {
			for _, o := range q.Options() {
				if c.Credential != nil && o.Matches(c.Credential) {
					matched, opt = c.Credential, o
					break match
				}
			}
		}
		if matched == nil {
			res.Status, res.Error = StatusInvalid, ErrCodeInvalidRequest
			res.Description = fmt.Sprintf("no presented credential answers query %s (type or claims missing)", which)
			return res
		}
		claims = opt.ClaimValues(matched)
	}
	if n == 0 {
		res.Claims[q.ID] = claims
	}
	if res.Credentials == nil {
		res.Credentials = map[string][]Received{}
	}
	res.Credentials[q.ID] = append(res.Credentials[q.ID], Received{Presentation: pr, Claims: claims})
	return nil
}

// credentialTokens returns the issuer-signed credentials a verified
// presentation carries: an SD-JWT's issuer-signed JWT, or a vp+jwt's
// credential tokens (the same credential presented twice, with other
// Disclosures or in another presentation, has the same one).
func credentialTokens(vp string) []string {
	if verify.DetectFormat(vp) == verify.FormatSDJWT {
		jwt, _, _ := strings.Cut(vp, "~")
		return []string{jwt}
	}
	p, _, err := vc.ParsePresentation(vp)
	if err != nil {
		return nil
	}
	return p.Credentials
}

// ReasonUntrustedAuthority is the Result.Reason of a response whose
// credential's issuer matches none of its query's trusted_authorities.
const ReasonUntrustedAuthority = "untrusted_authority"

// delegated returns the delegation a vp+jwt for query id carries
// ([DelegationClaim]) once it is verified and allows its holder to present
// every credential in it now (nil, nil for a presentation without one), or
// the refusal: no delegation support here, a delegation that does not
// verify (revoked, not trusted, forged), or an act it does not allow
// (another representative, another patient, expired or not yet valid,
// the present action or a credential's data class not delegated). The
// credentials are read here without checking their signatures, only for
// whom and what they are: the presentation's verification that follows
// checks them, bound to the delegation's patient.
func (v *Verifier) delegated(ctx context.Context, id, token string) (*delegation.Delegation, *Result) {
	if verify.DetectFormat(token) == verify.FormatSDJWT {
		return nil, nil
	}
	p, _, err := vc.ParsePresentation(token)
	if err != nil {
		return nil, nil // the verification says what is wrong with it
	}
	raw, ok := p.Extra[DelegationClaim]
	if !ok {
		return nil, nil
	}
	refuse := func(reason, format string, a ...any) *Result {
		r := invalid(ErrCodeInvalidRequest, format, a...)
		r.Reason, r.Holder = reason, p.Holder
		return r
	}
	tok, _ := raw.(string)
	if tok == "" {
		return nil, refuse(ReasonDelegationInvalid, "the presentation for %q carries a %q that is not a delegation credential", id, DelegationClaim)
	}
	if v.cfg.Delegations == nil {
		return nil, refuse(ReasonDelegationUnsupported, "this verifier does not accept presentations made for someone else: the patient must answer")
	}
	d, err := v.cfg.Delegations.Verify(ctx, tok)
	if err != nil {
		return nil, refuse(delegationReasonCode(err), "the delegation in the presentation for %q is not honoured: %s", id, delegationText(err))
	}
	if len(p.Credentials) == 0 {
		return nil, refuse(ReasonDelegationInvalid, "the presentation for %q carries a delegation and no credential", id)
	}
	now := v.cfg.Now()
	for _, ct := range p.Credentials {
		t, err := vc.Parse(ct)
		if err != nil {
			return nil, nil // the verification says what is wrong with it
		}
		act := delegation.Act{Representative: p.Holder, Patient: t.Credential.SubjectID(), Action: delegation.ActionPresent,
			Classes: delegation.ActClasses(t.Credential.Type), At: now}
		if err := d.Allows(act); err != nil {
			return nil, refuse(delegationReasonCode(err), "the delegation does not let %s present this credential: %s", p.Holder, delegationText(err))
		}
	}
	return d, nil
}

// Reasons of a refused presentation made under a delegation (Result.Reason).
const (
	ReasonDelegationUnsupported = "delegation_unsupported"
	ReasonDelegationInvalid     = "delegation_invalid"
	ReasonDelegationRevoked     = "delegation_revoked"
	ReasonDelegationExpired     = "delegation_expired"
	ReasonDelegationNotYetValid = "delegation_not_yet_valid"
	ReasonDelegationScope       = "delegation_out_of_scope"
	ReasonDelegationPatient     = "delegation_wrong_patient"
	ReasonDelegationHolder      = "delegation_wrong_representative"
	ReasonDelegationStatus      = "delegation_status_unavailable"
	ReasonDelegationIssuer      = "delegation_issuer_not_trusted"
)

// delegationReasonCode maps a delegation refusal to its reason code.
func delegationReasonCode(err error) string {
	for _, c := range []struct {
		err    error
		reason string
	}{
		{delegation.ErrRevoked, ReasonDelegationRevoked},
		{delegation.ErrExpired, ReasonDelegationExpired},
		{delegation.ErrNotYetValid, ReasonDelegationNotYetValid},
		{delegation.ErrOutOfScope, ReasonDelegationScope},
		{delegation.ErrWrongPatient, ReasonDelegationPatient},
		{delegation.ErrWrongRepresentative, ReasonDelegationHolder},
		{delegation.ErrStatusUnavailable, ReasonDelegationStatus},
		{delegation.ErrNotAccredited, ReasonDelegationIssuer},
		{delegation.ErrIssuerNotPatient, ReasonDelegationIssuer},
		{delegation.ErrSelfIssued, ReasonDelegationIssuer},
		{delegation.ErrSubDelegation, ReasonDelegationIssuer},
	} {
		if errors.Is(err, c.err) {
			return c.reason
		}
	}
	return ReasonDelegationInvalid
}

// delegationText is a delegation refusal in words fit for the answer and
// the log: the sentinel's text alone where the detail would name the
// patient or a birthday (a minor's coming of age).
func delegationText(err error) string {
	if errors.Is(err, delegation.ErrCameOfAge) {
		return delegation.ErrCameOfAge.Error()
	}
	return err.Error()
}

// checkSDJWT checks that a verified SD-JWT+KB answers one option of q (a
// claim set, see CredentialQuery.Options) and discloses nothing that
// option did not ask for, and returns the option; a non-nil Result means
// it does not.
func (v *Verifier) checkSDJWT(q *CredentialQuery, pr *verify.Result) (CredentialQuery, *Result) {
	if pr.Format != verify.FormatSDJWT || len(pr.Credentials) != 1 || pr.Credentials[0].SDJWT == nil {
		return *q, invalid(ErrCodeInvalidRequest, "query %q asks for a %s credential, and the presentation is not one", q.ID, FormatSDJWT)
	}
	sd := pr.Credentials[0].SDJWT
	var extra []sdjwt.Path
	matched := false
	for _, o := range q.Options() {
		if !o.MatchesSDJWT(sd) {
			continue
		}
		x := o.Unrequested(sd)
		if len(x) == 0 {
			return o, nil
		}
		if !matched {
			extra = x // reported against the first option it answers
		}
		matched = true
	}
	if !matched {
		return *q, invalid(ErrCodeInvalidRequest, "the %s credential for %q is not of the asked vct or lacks an asked claim", FormatSDJWT, q.ID)
	}
	names := make([]string, len(extra))
	for i, p := range extra {
		names[i] = p.String()
	}
	return *q, invalid(ErrCodeInvalidRequest, "the response for %q discloses %s, which was not asked for", q.ID, strings.Join(names, ", "))
}

// refreshStatus makes the verify.Verifier fetch the status lists of the
// presentation's credentials again when their copies are older than
// StatusMaxAge.
func (v *Verifier) refreshStatus(token string) {
	if v.cfg.StatusMaxAge <= 0 {
		return
	}
	p, _, err := vc.ParsePresentation(token)
	if err != nil {
		return
	}
	now := v.cfg.Now()
	for _, ct := range p.Credentials {
		t, err := vc.Parse(ct)
		if err != nil {
			continue
		}
		for _, st := range t.Credential.Status {
			u := st.StatusListCredential
			v.mu.Lock()
			last, seen := v.forgotAt[u]
			stale := !seen || now.Sub(last) >= v.cfg.StatusMaxAge
			if stale {
				if len(v.forgotAt) > 4096 {
					clear(v.forgotAt)
				}
				v.forgotAt[u] = now
			}
			v.mu.Unlock()
			if stale {
				v.cfg.Verify.Forget(u)
			}
		}
	}
}

func (v *Verifier) adminRequest(w http.ResponseWriter, r *http.Request) {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || subtle.ConstantTimeCompare([]byte(tok), v.cfg.AdminToken) != 1 {
		writeError(w, &ProtocolError{Code: ErrCodeInvalidToken, Status: http.StatusUnauthorized, Description: "creating requests needs the verifier's admin token"})
		return
	}
	var q DCQLQuery
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	if err := dec.Decode(&q); err != nil {
		writeError(w, &ProtocolError{Code: ErrCodeInvalidRequest, Description: "the body must be a DCQL query: " + err.Error()})
		return
	}
	st, err := v.CreateRequest(q)
	if err != nil {
		var pe *ProtocolError
		if errors.As(err, &pe) {
			writeError(w, pe)
			return
		}
		writeError(w, &ProtocolError{Code: "server_error", Status: 500})
		return
	}
	openid.WriteJSON(w, http.StatusOK, st)
}

// unsecuredJWT serialises claims as an unsecured JWT (alg "none"), the
// form of request objects with the redirect_uri: client id prefix.
func unsecuredJWT(claims any) (string, error) {
	c, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	return jose.Unsecured([]byte(`{"alg":"none","typ":"oauth-authz-req+jwt"}`), c), nil
}
