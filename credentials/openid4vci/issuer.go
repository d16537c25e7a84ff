package openid4vci

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/medid/medid/credentials/delegation"
	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/credentials/sdjwt"
	"github.com/medid/medid/credentials/tokenstatus"
	"github.com/medid/medid/credentials/vc"
	"github.com/medid/medid/internal/httpserver"
	"github.com/medid/medid/internal/ijson"
	"github.com/medid/medid/internal/openid"
	"github.com/medid/medid/internal/randid"
)

// Defaults for Config.
const (
	DefaultOfferTTL = 10 * time.Minute
	DefaultTokenTTL = 5 * time.Minute
	DefaultNonceTTL = 5 * time.Minute
	// DefaultMaxPending bounds offers, tokens and nonces held in memory.
	DefaultMaxPending = 100_000
	// MaxTxCodeAttempts is how many wrong transaction codes an offer
	// survives: a six-digit PIN must not be guessable by brute force.
	MaxTxCodeAttempts = 5
	// TxCodeLength is the number of digits of the PINs the Issuer makes.
	TxCodeLength = 6
	// DefaultRetryWindow is how long after issuing a credential the
	// Issuer answers a repeated request (same access token, same proof
	// nonce, same holder) with the same credential, for a wallet whose
	// response was lost.
	DefaultRetryWindow = time.Minute
)

// StatusAllocator hands out status list entries for new credentials.
type StatusAllocator interface {
	// Allocate returns the credentialStatus entry of a new credential. It
	// MUST never return the same entry twice and MUST be safe for
	// concurrent use.
	Allocate(ctx context.Context) (vc.Status, error)
}

// Config configures an Issuer.
type Config struct {
	// URL is the credential issuer identifier: the https URL the
	// endpoints are under, without a trailing slash. Required.
	URL string
	// Key signs credentials; DID is the issuer DID and Kid the
	// verification method (assertionMethod) holding Key. Required.
	Key      *key.PrivateKey
	DID, Kid string
	// Configurations are the credential configurations offered, by id.
	// At least one is required; see NewConfiguration.
	Configurations map[string]Configuration
	// Display is the issuer's display metadata (name, logo).
	Display []Display
	// Resolver resolves holder DIDs named in proof JWTs. Required.
	Resolver did.Resolver
	// Status allocates a status list entry for each credential; nil issues
	// credentials without credentialStatus (they cannot be revoked).
	Status StatusAllocator
	// TokenStatus allocates a Token Status List entry for each dc+sd-jwt
	// credential; nil issues them without status (they cannot be revoked).
	TokenStatus TokenStatusAllocator
	// AdminToken authorises POST /admin/offers (Authorization: Bearer).
	// Empty disables the admin endpoint.
	AdminToken []byte
	// OfferTTL, TokenTTL and NonceTTL are the lifetimes of pre-authorized
	// codes, access tokens and c_nonces. Zero means the defaults.
	OfferTTL, TokenTTL, NonceTTL time.Duration
	// RetryWindow is how long a credential request may be repeated with
	// the same access token and proof nonce after the credential was
	// issued, and gets the same credential again (not a second one):
	// access tokens and nonces are single use, and without this a wallet
	// whose response was lost on the network could never get its
	// credential. Zero means DefaultRetryWindow; negative disables retries.
	RetryWindow time.Duration
	// ValidFor, when positive, sets validUntil of issued credentials.
	ValidFor time.Duration
	// MaxPending bounds each of the in-memory tables; default DefaultMaxPending.
	MaxPending int
	// Delegations verifies delegation credentials (*delegation.Checker
	// does), so a representative may receive a credential for the patient
	// who delegated "receive" to them ([CredentialRequest].Delegation).
	// nil refuses every such request.
	Delegations DelegationVerifier
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Logger receives one record per issuance and per refused request,
	// never with claim values; default slog.Default().
	Logger *slog.Logger
}

// NewConfiguration returns the vc+jwt configuration of credential type
// credType (besides VerifiableCredential) with display metadata.
func NewConfiguration(credType string, display ...Display) Configuration {
	return Configuration{
		Format:               FormatVCJWT,
		Scope:                credType,
		CredentialDefinition: CredentialDefinition{Type: []string{vc.TypeCredential, credType}},
		BindingMethods:       []string{"did:key", "did:medid"},
		SigningAlgs:          []string{"EdDSA", "ES256"},
		ProofTypes:           map[string]ProofType{"jwt": {SigningAlgs: []string{"EdDSA", "ES256"}}},
		Display:              display,
		CredentialMetadata:   &CredentialMetadata{Display: display},
	}
}

// NewSDJWTConfiguration returns the dc+sd-jwt configuration of credential
// type credType: vct sdjwt.VCT(credType), every clinical claim selectively
// disclosable, bound to the proof's key (cnf.jwk).
func NewSDJWTConfiguration(credType string, display ...Display) Configuration {
	return Configuration{
		Format:             FormatSDJWT,
		Scope:              credType + ".sd",
		VCT:                sdjwt.VCT(credType),
		BindingMethods:     []string{"jwk", "did:key", "did:medid"},
		SigningAlgs:        []string{"EdDSA", "ES256"},
		ProofTypes:         map[string]ProofType{"jwt": {SigningAlgs: []string{"EdDSA", "ES256"}}},
		Display:            display,
		CredentialMetadata: &CredentialMetadata{Display: display},
	}
}

// DelegationVerifier verifies a delegation credential: its signatures, its
// issuer's authority (the patient, an accredited authority, a
// representative allowed to sub-delegate) and its revocation status.
// *delegation.Checker implements it; it MUST be safe for concurrent use.
type DelegationVerifier interface {
	Verify(ctx context.Context, token string) (*delegation.Delegation, error)
}

// TokenStatusAllocator hands out Token Status List entries for new SD-JWT
// VCs. It MUST never return the same entry twice (tokenstatus.Allocator
// draws them at random) and MUST be safe for concurrent use.
type TokenStatusAllocator interface {
	Allocate(ctx context.Context) (tokenstatus.Reference, error)
}

// Issuer is an OpenID4VCI credential issuer and its authorization server.
// It is an http.Handler, safe for concurrent use. Its state (offers,
// tokens, nonces) is in memory: a restart invalidates pending offers.
type Issuer struct {
	cfg  Config
	mux  *http.ServeMux
	log  *slog.Logger
	meta []byte
	as   []byte

	mu        sync.Mutex // guards offers, tokens, nonces, issued, lastSweep
	lastSweep time.Time
	offers    map[string]*offerState
	tokens    map[string]*tokenState
	nonces    map[string]time.Time
	issued    map[string]*issuedState // by access token, for retries
}

// issuedState is a credential just issued, kept for RetryWindow so that a
// repeated request gets it again.
type issuedState struct {
	configID, nonce, holder, subject string
	response                         CredentialResponse
	expires                          time.Time
}

type offerState struct {
	configID string
	subject  string
	claims   map[string]any
	txCode   string
	expires  time.Time
	attempts int
}

type tokenState struct {
	offer   *offerState
	expires time.Time
}

// New checks cfg and returns an Issuer.
func New(cfg Config) (*Issuer, error) {
	cfg.URL = strings.TrimRight(cfg.URL, "/")
	switch {
	case cfg.URL == "" || !(strings.HasPrefix(cfg.URL, "https://") || strings.HasPrefix(cfg.URL, "http://")):
		return nil, errors.New("openid4vci: Config.URL must be the issuer's https URL")
	case cfg.Key == nil || cfg.DID == "" || cfg.Kid == "":
		return nil, errors.New("openid4vci: Config.Key, DID and Kid are required")
	case len(cfg.Configurations) == 0:
		return nil, errors.New("openid4vci: Config.Configurations is empty: offer at least one credential type")
	case cfg.Resolver == nil:
		return nil, errors.New("openid4vci: Config.Resolver is required to check holder proofs")
	}
	if cfg.OfferTTL <= 0 {
		cfg.OfferTTL = DefaultOfferTTL
	}
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = DefaultTokenTTL
	}
	if cfg.NonceTTL <= 0 {
		cfg.NonceTTL = DefaultNonceTTL
	}
	if cfg.MaxPending <= 0 {
		cfg.MaxPending = DefaultMaxPending
	}
	if cfg.RetryWindow == 0 {
		cfg.RetryWindow = DefaultRetryWindow
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	is := &Issuer{cfg: cfg, log: cfg.Logger, offers: map[string]*offerState{}, tokens: map[string]*tokenState{}, nonces: map[string]time.Time{}, issued: map[string]*issuedState{}}
	var err error
	is.meta, err = json.Marshal(is.Metadata())
	if err != nil {
		return nil, err
	}
	is.as, err = json.Marshal(ASMetadata{
		Issuer: cfg.URL, TokenEndpoint: cfg.URL + "/token",
		GrantTypes: []string{GrantPreAuthorized}, PreAuthAnonymousSupported: true,
		// RFC 8414 requires the member; there is no authorization
		// endpoint, so no response type is served (not even the implicit
		// grant's "token").
		ResponseTypes: []string{},
	})
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+WellKnownIssuer, is.serveBytes(is.meta))
	mux.HandleFunc("GET "+WellKnownAS, is.serveBytes(is.as))
	mux.HandleFunc("POST /token", is.token)
	mux.HandleFunc("POST /nonce", is.nonce)
	mux.HandleFunc("POST /credential", is.credential)
	if len(cfg.AdminToken) > 0 {
		// An admin route: with mutual TLS on, only clients with a
		// certificate from the hospital's CA reach it (the admin token
		// is still required).
		mux.Handle("POST /admin/offers", httpserver.RequireClientCert(http.HandlerFunc(is.adminOffer)))
	}
	httpserver.Fallback(mux, func(w http.ResponseWriter, r *http.Request, status int, detail string) {
		is.writeError(w, r, &ProtocolError{Code: ErrCodeInvalidRequest, Status: status, Description: detail})
	})
	is.mux = mux
	return is, nil
}

// Metadata returns the credential issuer metadata.
func (is *Issuer) Metadata() IssuerMetadata {
	return IssuerMetadata{
		CredentialIssuer:   is.cfg.URL,
		CredentialEndpoint: is.cfg.URL + "/credential",
		NonceEndpoint:      is.cfg.URL + "/nonce",
		Display:            is.cfg.Display,
		Configurations:     is.cfg.Configurations,
	}
}

// ServeHTTP serves the issuer's endpoints.
func (is *Issuer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Wallets may be browser apps on other origins; nothing here relies on
	// cookies, so allowing any origin is safe.
	w.Header().Set("Access-Control-Allow-Origin", "*")
	if r.Method == http.MethodOptions {
		w.Header().Set("Access-Control-Allow-Headers", "Authorization, Content-Type, DPoP")
		w.Header().Set("Access-Control-Allow-Methods", "GET, POST")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	is.mux.ServeHTTP(w, r)
}

func (is *Issuer) serveBytes(b []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(b)
	}
}

// OfferRequest asks for a credential offer.
type OfferRequest struct {
	// ConfigurationID is the credential configuration to issue.
	ConfigurationID string `json:"credential_configuration_id"`
	// Claims become credentialSubject (the holder DID is added as id).
	Claims map[string]any `json:"claims"`
	// TxCode asks for a PIN the patient must type to redeem the offer.
	TxCode bool `json:"tx_code"`
	// Subject, when set, is the DID of the patient the credential is for:
	// it is issued only to that DID, held by the patient or received for
	// them by a representative with a delegation for them. "" issues to
	// whoever redeems the offer (the proof's holder, or the patient a
	// representative's delegation names).
	Subject string `json:"subject,omitempty"`
}

// OfferResult is a created offer.
type OfferResult struct {
	Offer     *Offer    `json:"offer"`
	URI       string    `json:"uri"`
	TxCode    string    `json:"tx_code,omitempty"`
	ExpiresAt time.Time `json:"expires_at"`
}

// CreateOffer registers an offer and returns it with its PIN (to be given
// to the patient out of band). Errors: a *ProtocolError with code
// invalid_request or unknown_credential_configuration.
func (is *Issuer) CreateOffer(req OfferRequest) (*OfferResult, error) {
	if _, ok := is.cfg.Configurations[req.ConfigurationID]; !ok {
		return nil, &ProtocolError{Code: ErrCodeUnknownConfiguration, Status: 400,
			Description: fmt.Sprintf("no credential configuration %q (offered: %s)", req.ConfigurationID, strings.Join(is.configIDs(), ", "))}
	}
	if req.Claims == nil {
		req.Claims = map[string]any{}
	}
	if _, ok := req.Claims["id"]; ok {
		return nil, &ProtocolError{Code: ErrCodeInvalidRequest, Status: 400, Description: "claims must not hold \"id\": the holder's DID becomes the subject id"}
	}
	if is.cfg.Configurations[req.ConfigurationID].Format == FormatSDJWT {
		// Refused now rather than when the wallet comes for the credential.
		for _, n := range []string{"iss", "iat", "nbf", "exp", "vct", "vct#integrity", "cnf", "status", "sub", "_sd", "_sd_alg", "..."} {
			if _, ok := req.Claims[n]; ok {
				return nil, &ProtocolError{Code: ErrCodeInvalidRequest, Status: 400, Description: fmt.Sprintf("claims must not hold %q: the issuer sets it in an SD-JWT VC", n)}
			}
		}
	}
	if req.Subject != "" {
		if _, err := did.Parse(req.Subject); err != nil {
			return nil, &ProtocolError{Code: ErrCodeInvalidRequest, Status: 400, Description: fmt.Sprintf("subject %.80q is not a DID: %v", req.Subject, err)}
		}
	}
	o := &offerState{configID: req.ConfigurationID, subject: req.Subject, claims: req.Claims, expires: is.cfg.Now().Add(is.cfg.OfferTTL)}
	code := randid.Hex(16)
	offer := &Offer{CredentialIssuer: is.cfg.URL, ConfigurationIDs: []string{req.ConfigurationID}}
	offer.Grants.PreAuthorized = &PreAuthorizedGrant{Code: code}
	if req.TxCode {
		o.txCode = randid.Digits(TxCodeLength)
		offer.Grants.PreAuthorized.TxCode = &TxCode{InputMode: "numeric", Length: TxCodeLength, Description: "The PIN the hospital gave you"}
	}
	is.mu.Lock()
	is.sweepLocked()
	if len(is.offers) >= is.cfg.MaxPending {
		is.mu.Unlock()
		return nil, &ProtocolError{Code: ErrCodeInvalidRequest, Status: 503, Description: "too many pending offers: try again later"}
	}
	is.offers[code] = o
	is.mu.Unlock()
	uri, err := offer.URI()
	if err != nil {
		return nil, err
	}
	return &OfferResult{Offer: offer, URI: uri, TxCode: o.txCode, ExpiresAt: o.expires}, nil
}

func (is *Issuer) configIDs() []string {
	ids := make([]string, 0, len(is.cfg.Configurations))
	for id := range is.cfg.Configurations {
		ids = append(ids, id)
	}
	return ids
}

// sweepLocked drops expired entries when the tables are large, at most
// once a second so that the cost stays off the hot path. is.mu is held.
func (is *Issuer) sweepLocked() {
	if len(is.offers)+len(is.tokens)+len(is.nonces)+len(is.issued) < 1024 {
		return
	}
	now := is.cfg.Now()
	if now.Sub(is.lastSweep) < time.Second {
		return
	}
	is.lastSweep = now
	for k, o := range is.offers {
		if now.After(o.expires) {
			delete(is.offers, k)
		}
	}
	for k, t := range is.tokens {
		if now.After(t.expires) {
			delete(is.tokens, k)
		}
	}
	for k, exp := range is.nonces {
		if now.After(exp) {
			delete(is.nonces, k)
		}
	}
	for k, st := range is.issued {
		if now.After(st.expires) {
			delete(is.issued, k)
		}
	}
}

// writeError sends a protocol error as JSON.
func (is *Issuer) writeError(w http.ResponseWriter, r *http.Request, e *ProtocolError) {
	status := e.Status
	if status == 0 {
		status = http.StatusBadRequest
	}
	if e.Code == ErrCodeInvalidToken {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
	}
	is.log.Info("openid4vci: refused", "path", r.URL.Path, "error", e.Code, "detail", e.Description)
	openid.WriteJSON(w, status, e)
}

// writeJSON sends a successful JSON answer.
func writeJSON(w http.ResponseWriter, v any) { openid.WriteJSON(w, http.StatusOK, v) }

// maxBody bounds request bodies.
const maxBody = 64 << 10

func (is *Issuer) token(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	if err := r.ParseForm(); err != nil {
		is.writeError(w, r, &ProtocolError{Code: ErrCodeInvalidRequest, Description: "the token request must be application/x-www-form-urlencoded"})
		return
	}
	if gt := r.PostForm.Get("grant_type"); gt != GrantPreAuthorized {
		is.writeError(w, r, &ProtocolError{Code: ErrCodeUnsupportedGrantType, Description: fmt.Sprintf("grant_type %q is not supported: use %s", gt, GrantPreAuthorized)})
		return
	}
	code := r.PostForm.Get("pre-authorized_code")
	if code == "" {
		is.writeError(w, r, &ProtocolError{Code: ErrCodeInvalidRequest, Description: "pre-authorized_code is missing"})
		return
	}
	txCode := r.PostForm.Get("tx_code")
	now := is.cfg.Now()
	is.mu.Lock()
	o, ok := is.offers[code]
	var perr *ProtocolError
	switch {
	case !ok:
		perr = &ProtocolError{Code: ErrCodeInvalidGrant, Description: "the pre-authorized code is unknown or was already used"}
	case now.After(o.expires):
		delete(is.offers, code)
		perr = &ProtocolError{Code: ErrCodeInvalidGrant, Description: "the credential offer has expired: ask the issuer for a new one"}
	case o.txCode != "" && txCode == "":
		perr = &ProtocolError{Code: ErrCodeInvalidRequest, Description: "this offer requires a tx_code (the PIN the issuer gave you)"}
	case o.txCode == "" && txCode != "":
		perr = &ProtocolError{Code: ErrCodeInvalidRequest, Description: "this offer does not use a tx_code"}
	case o.txCode != "" && subtle.ConstantTimeCompare([]byte(o.txCode), []byte(txCode)) != 1:
		o.attempts++
		if o.attempts >= MaxTxCodeAttempts {
			delete(is.offers, code)
			perr = &ProtocolError{Code: ErrCodeInvalidGrant, Description: "wrong tx_code, too many times: the offer is withdrawn, ask the issuer for a new one"}
		} else {
			perr = &ProtocolError{Code: ErrCodeInvalidGrant, Description: fmt.Sprintf("wrong tx_code (%d attempts left)", MaxTxCodeAttempts-o.attempts)}
		}
	case len(is.tokens) >= is.cfg.MaxPending:
		perr = &ProtocolError{Code: ErrCodeInvalidRequest, Status: 503, Description: "issuer busy: try again later"}
	}
	if perr != nil {
		is.mu.Unlock()
		is.writeError(w, r, perr)
		return
	}
	// A pre-authorized code is good for one token.
	delete(is.offers, code)
	at, nonce := randid.Hex(16), randid.Hex(16)
	is.tokens[at] = &tokenState{offer: o, expires: now.Add(is.cfg.TokenTTL)}
	is.nonces[nonce] = now.Add(is.cfg.NonceTTL)
	is.mu.Unlock()
	writeJSON(w, TokenResponse{AccessToken: at, TokenType: "Bearer", ExpiresIn: int(is.cfg.TokenTTL / time.Second), CNonce: nonce})
}

func (is *Issuer) nonce(w http.ResponseWriter, r *http.Request) {
	n := randid.Hex(16)
	is.mu.Lock()
	is.sweepLocked()
	if len(is.nonces) >= is.cfg.MaxPending {
		is.mu.Unlock()
		is.writeError(w, r, &ProtocolError{Code: ErrCodeInvalidRequest, Status: 503, Description: "issuer busy: try again later"})
		return
	}
	is.nonces[n] = is.cfg.Now().Add(is.cfg.NonceTTL)
	is.mu.Unlock()
	writeJSON(w, NonceResponse{CNonce: n})
}

// bearer returns the access token of an Authorization header.
func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !(strings.EqualFold(scheme, "Bearer") || strings.EqualFold(scheme, "DPoP")) {
		return ""
	}
	return strings.TrimSpace(tok)
}

func (is *Issuer) credential(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	at := bearer(r)
	now := is.cfg.Now()
	is.mu.Lock()
	t, ok := is.tokens[at]
	if ok && now.After(t.expires) {
		delete(is.tokens, at)
		ok = false
	}
	// A used access token may be a retry of a request whose response was lost.
	var retry *issuedState
	if st := is.issued[at]; !ok && at != "" && st != nil && !now.After(st.expires) {
		retry = st
	}
	is.mu.Unlock()
	if !ok && retry == nil {
		is.writeError(w, r, &ProtocolError{Code: ErrCodeInvalidToken, Status: http.StatusUnauthorized, Description: "no valid access token: it is missing, unknown, expired or already used"})
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		is.writeError(w, r, &ProtocolError{Code: ErrCodeInvalidCredentialRequest, Description: "the credential request must be application/json"})
		return
	}
	var req CredentialRequest
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err == nil {
		err = ijson.Unmarshal(body, &req, 0)
	}
	if err != nil {
		is.writeError(w, r, &ProtocolError{Code: ErrCodeInvalidCredentialRequest, Description: "the credential request is not a JSON object: " + err.Error()})
		return
	}
	granted, offerSubject := "", ""
	if retry != nil {
		granted = retry.configID
	} else {
		granted, offerSubject = t.offer.configID, t.offer.subject
	}
	configID, perr := is.requestedConfig(&req, granted)
	if perr != nil {
		is.writeError(w, r, perr)
		return
	}
	jwt, perr := req.proofJWT()
	if perr != nil {
		is.writeError(w, r, perr)
		return
	}
	p, err := verifyProof(ctx, jwt, is.cfg.URL, is.cfg.Resolver, now, is.cfg.NonceTTL)
	if err != nil {
		var pe *ProtocolError
		if errors.As(err, &pe) {
			is.writeError(w, r, pe)
			return
		}
		is.writeError(w, r, proofError("%v", err))
		return
	}
	if retry != nil {
		// The same request again (same token, nonce, holder and
		// delegation): the same credential, never a second one. Anything
		// else is a reuse.
		subject := p.holder
		if req.Delegation != "" {
			if d, err := delegation.Parse(req.Delegation); err == nil {
				subject = d.Patient
			}
		}
		if subtle.ConstantTimeCompare([]byte(p.nonce), []byte(retry.nonce)) != 1 || p.holder != retry.holder || subject != retry.subject {
			is.writeError(w, r, &ProtocolError{Code: ErrCodeInvalidToken, Status: http.StatusUnauthorized, Description: "the access token was already used (a retry must repeat the same proof nonce and key)"})
			return
		}
		is.log.Info("openid4vci: credential sent again to a retrying wallet", "config", configID, "holder", p.holder)
		writeJSON(w, retry.response)
		return
	}
	// Whom the credential is for: the proof's holder, or the patient a
	// representative's delegation names. Decided before anything is
	// consumed, so a refused representative leaves the offer as it was.
	subject, perr := is.subjectFor(ctx, &req, configID, offerSubject, p, now)
	if perr != nil {
		is.writeError(w, r, perr)
		return
	}
	// The nonce and the access token are consumed together, so neither a
	// replayed proof nor a second credential for one offer gets through.
	is.mu.Lock()
	exp, nonceOK := is.nonces[p.nonce]
	nonceOK = nonceOK && p.nonce != "" && !now.After(exp)
	_, tokenOK := is.tokens[at]
	if nonceOK && tokenOK {
		delete(is.nonces, p.nonce)
		delete(is.tokens, at)
	}
	is.mu.Unlock()
	if !tokenOK {
		is.writeError(w, r, &ProtocolError{Code: ErrCodeInvalidToken, Status: http.StatusUnauthorized, Description: "the access token was already used"})
		return
	}
	if !nonceOK {
		is.writeError(w, r, &ProtocolError{Code: ErrCodeInvalidNonce, Description: "the proof's nonce is not a current c_nonce of this issuer: get one from the nonce endpoint"})
		return
	}
	token, ctype, err := is.issue(ctx, configID, t.offer.claims, p, subject)
	if err != nil {
		is.log.Error("openid4vci: issuing failed", "config", configID, "err", err)
		is.writeError(w, r, &ProtocolError{Code: "server_error", Status: http.StatusInternalServerError, Description: "the credential could not be issued"})
		return
	}
	is.log.Info("openid4vci: credential issued", "type", ctype, "holder", p.holder, "representative", subject != p.holder)
	resp := CredentialResponse{Credentials: []IssuedCredential{{Credential: token}}}
	if is.cfg.RetryWindow > 0 {
		is.mu.Lock()
		if len(is.issued) < is.cfg.MaxPending {
			is.issued[at] = &issuedState{configID: configID, nonce: p.nonce, holder: p.holder, subject: subject, response: resp, expires: now.Add(is.cfg.RetryWindow)}
		}
		is.mu.Unlock()
	}
	writeJSON(w, resp)
}

// requestedConfig finds the configuration a request asks for and checks
// it is the one the access token was granted for.
func (is *Issuer) requestedConfig(req *CredentialRequest, granted string) (string, *ProtocolError) {
	id := req.ConfigurationID
	if id == "" {
		// Draft 13: by format and credential_definition.type.
		if req.Format == "" {
			return "", &ProtocolError{Code: ErrCodeInvalidCredentialRequest, Description: "credential_configuration_id is missing"}
		}
		if req.Format == FormatSDJWT {
			for cid, c := range is.cfg.Configurations {
				if c.Format == FormatSDJWT && c.VCT == req.VCT && req.VCT != "" {
					id = cid
					break
				}
			}
			if id == "" {
				return "", &ProtocolError{Code: ErrCodeUnsupportedType, Description: fmt.Sprintf("vct %q is not issued here", req.VCT)}
			}
			return is.granted(id, granted)
		}
		if req.Format == FormatJWTVC {
			return "", &ProtocolError{Code: ErrCodeUnsupportedFormat, Description: fmt.Sprintf("format %s is VC 1.1; this issuer issues VC 2.0 credentials as %s", FormatJWTVC, FormatVCJWT)}
		}
		if req.Format != FormatVCJWT || req.CredentialDefinition == nil {
			return "", &ProtocolError{Code: ErrCodeUnsupportedFormat, Description: fmt.Sprintf("format %q is not issued here (only %s with credential_definition)", req.Format, FormatVCJWT)}
		}
		for cid, c := range is.cfg.Configurations {
			if c.Format == FormatVCJWT && sameTypes(c.CredentialDefinition.Type, req.CredentialDefinition.Type) {
				id = cid
				break
			}
		}
		if id == "" {
			return "", &ProtocolError{Code: ErrCodeUnsupportedType, Description: fmt.Sprintf("credential type %v is not issued here", req.CredentialDefinition.Type)}
		}
	} else if _, ok := is.cfg.Configurations[id]; !ok {
		return "", &ProtocolError{Code: ErrCodeUnknownConfiguration, Description: fmt.Sprintf("no credential configuration %q", id)}
	}
	return is.granted(id, granted)
}

// granted checks that configuration id is the one the token was granted for.
func (is *Issuer) granted(id, granted string) (string, *ProtocolError) {
	if id != granted {
		return "", &ProtocolError{Code: ErrCodeInvalidCredentialRequest, Description: fmt.Sprintf("the access token was granted for %q, not %q", granted, id)}
	}
	return id, nil
}

func sameTypes(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	set := map[string]bool{}
	for _, t := range a {
		set[t] = true
	}
	for _, t := range b {
		if !set[t] {
			return false
		}
	}
	return true
}

// proofJWT returns the one jwt proof of a request (1.0 proofs or draft proof).
func (req *CredentialRequest) proofJWT() (string, *ProtocolError) {
	switch {
	case req.Proofs != nil && req.Proof != nil:
		return "", &ProtocolError{Code: ErrCodeInvalidCredentialRequest, Description: "give proofs or proof, not both"}
	case req.Proofs != nil:
		if len(req.Proofs) != 1 || len(req.Proofs["jwt"]) != 1 {
			return "", &ProtocolError{Code: ErrCodeInvalidProof, Description: "proofs must hold exactly one jwt proof"}
		}
		return req.Proofs["jwt"][0], nil
	case req.Proof != nil:
		if req.Proof.ProofType != "jwt" || req.Proof.JWT == "" {
			return "", &ProtocolError{Code: ErrCodeInvalidProof, Description: fmt.Sprintf("proof_type %q is not supported (jwt)", req.Proof.ProofType)}
		}
		return req.Proof.JWT, nil
	}
	return "", &ProtocolError{Code: ErrCodeInvalidProof, Description: "the request has no proof of possession of the holder key"}
}

// denied makes a credential_request_denied error (403).
func denied(format string, a ...any) *ProtocolError {
	return &ProtocolError{Code: ErrCodeRequestDenied, Status: http.StatusForbidden, Description: fmt.Sprintf(format, a...)}
}

// subjectFor decides whom a credential request is answered for. Without a
// delegation it is the proof's holder, who must be the offer's subject
// when the offer names one. With one, the representative must be the
// proof's holder and the delegation, verified by Config.Delegations, must
// let them receive, now, a credential of this configuration's data class
// (delegation.CredentialClass) for the patient it names, who must be the
// offer's subject when the offer names one: the credential is then issued
// to that patient. A dc+sd-jwt cannot be received for someone else: its
// key binding would be the representative's key.
func (is *Issuer) subjectFor(ctx context.Context, req *CredentialRequest, configID, offerSubject string, p *verifiedProof, now time.Time) (string, *ProtocolError) {
	if req.Delegation == "" {
		if offerSubject != "" && p.holder != offerSubject {
			return "", denied("this offer is for %s, and the proof is by %s: redeem it with that DID, or as their representative with a delegation", offerSubject, p.holder)
		}
		return p.holder, nil
	}
	if is.cfg.Delegations == nil {
		return "", denied("this issuer does not issue credentials to representatives: the patient must redeem the offer")
	}
	conf := is.cfg.Configurations[configID]
	if conf.Format == FormatSDJWT {
		return "", denied("a %s credential is bound to its holder's key and cannot be received for someone else: ask for the %s credential", FormatSDJWT, FormatVCJWT)
	}
	d, err := is.cfg.Delegations.Verify(ctx, req.Delegation)
	if err != nil {
		return "", denied("the delegation is not honoured: %s", delegationReason(err))
	}
	patient := d.Patient
	if offerSubject != "" {
		patient = offerSubject
	}
	act := delegation.Act{Representative: p.holder, Patient: patient, Action: delegation.ActionReceive,
		Classes: delegation.ActClasses(conf.CredentialDefinition.Type), At: now}
	if err := d.Allows(act); err != nil {
		return "", denied("the delegation does not let %s receive this credential for %s: %s", p.holder, patient, delegationReason(err))
	}
	return d.Patient, nil
}

// delegationReason is a delegation refusal in words fit for the answer
// and the log: the sentinel's text alone where the detail would name the
// patient or a birthday (a minor's coming of age).
func delegationReason(err error) string {
	if errors.Is(err, delegation.ErrCameOfAge) {
		return delegation.ErrCameOfAge.Error()
	}
	return err.Error()
}

// issue signs the credential for subject (the holder's DID, or the patient
// a representative receives it for).
func (is *Issuer) issue(ctx context.Context, configID string, claims map[string]any, p *verifiedProof, subject string) (string, string, error) {
	conf := is.cfg.Configurations[configID]
	holder := subject
	if conf.Format == FormatSDJWT {
		return is.issueSDJWT(ctx, conf, claims, p)
	}
	subj := make(map[string]any, len(claims)+1)
	for k, v := range claims {
		subj[k] = v
	}
	subj["id"] = holder
	now := is.cfg.Now().UTC().Truncate(time.Second)
	c := &vc.Credential{
		Context:   vc.CredentialContext(),
		ID:        randid.URN(),
		Type:      append([]string(nil), conf.CredentialDefinition.Type...),
		Issuer:    is.cfg.DID,
		ValidFrom: &now,
		Subject:   subj,
	}
	if is.cfg.ValidFor > 0 {
		u := now.Add(is.cfg.ValidFor)
		c.ValidUntil = &u
	}
	if is.cfg.Status != nil {
		st, err := is.cfg.Status.Allocate(ctx)
		if err != nil {
			return "", "", fmt.Errorf("allocate a status entry: %w", err)
		}
		c.Status = []vc.Status{st}
	}
	tok, err := vc.Issue(c, is.cfg.Key, is.cfg.Kid)
	ctype := c.Type[len(c.Type)-1]
	return tok, ctype, err
}

// issueSDJWT signs an SD-JWT VC bound to the proof's key.
func (is *Issuer) issueSDJWT(ctx context.Context, conf Configuration, claims map[string]any, p *verifiedProof) (string, string, error) {
	now := is.cfg.Now().UTC().Truncate(time.Second)
	c := &sdjwt.Credential{Issuer: is.cfg.DID, VCT: conf.VCT, Subject: p.holder, IssuedAt: now, Holder: p.key, Claims: claims}
	if is.cfg.ValidFor > 0 {
		u := now.Add(is.cfg.ValidFor)
		c.Expires = &u
	}
	if is.cfg.TokenStatus != nil {
		ref, err := is.cfg.TokenStatus.Allocate(ctx)
		if err != nil {
			return "", "", fmt.Errorf("allocate a token status list entry: %w", err)
		}
		c.Status = &ref
	}
	tok, err := sdjwt.IssueVC(c, is.cfg.Key, is.cfg.Kid, sdjwt.IssueOptions{})
	return tok, sdjwt.CredentialType(conf.VCT), err
}

func (is *Issuer) adminOffer(w http.ResponseWriter, r *http.Request) {
	tok := bearer(r)
	if tok == "" || subtle.ConstantTimeCompare([]byte(tok), is.cfg.AdminToken) != 1 {
		is.writeError(w, r, &ProtocolError{Code: ErrCodeInvalidToken, Status: http.StatusUnauthorized, Description: "the admin endpoint needs the issuer's admin token"})
		return
	}
	var req OfferRequest
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err == nil {
		err = ijson.Unmarshal(body, &req, 0)
	}
	if err != nil {
		is.writeError(w, r, &ProtocolError{Code: ErrCodeInvalidRequest, Description: "the offer request is not a JSON object: " + err.Error()})
		return
	}
	res, err := is.CreateOffer(req)
	if err != nil {
		var pe *ProtocolError
		if errors.As(err, &pe) {
			is.writeError(w, r, pe)
			return
		}
		is.writeError(w, r, &ProtocolError{Code: "server_error", Status: 500, Description: "could not create the offer"})
		return
	}
	is.log.Info("openid4vci: offer created", "config", req.ConfigurationID, "tx_code", req.TxCode, "expires", res.ExpiresAt)
	writeJSON(w, res)
}
