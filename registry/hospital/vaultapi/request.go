package vaultapi

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/medid/medid/credentials/jose"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/internal/ijson"
	"github.com/medid/medid/internal/randid"
)

// RequestType is the JWS typ of a signed vault request.
const RequestType = "medid-vault-req+jwt"

// MaxRequestSize bounds an encoded request (it may carry a consent grant).
const MaxRequestSize = 32 << 10

// Request operations.
const (
	OpPut        = "put"        // a hospital writer stores a record
	OpRead       = "read"       // a provider reads a record
	OpErase      = "erase"      // the owner erases a record
	OpAccessLog  = "access-log" // the patient fetches their trail
	OpBreakGlass = "break-glass"
	OpEvents     = "events"  // the owner (or a writer) reads a record's anchored events
	OpLicence    = "licence" // a practitioner presents their licence
	// OpConsent: a representative registers a consent grant they made for
	// the patient (Consent, Delegation, AnchorSeal); OpWithdraw: a grant
	// made by a representative is withdrawn at this vault (by the patient,
	// or a representative with a delegation).
	OpConsent  = "consent"
	OpWithdraw = "consent-withdraw"
)

// Bounds on the fields of a request, checked by [ParseSigned] so that
// nothing a requester chooses can make the trail entry the vault writes
// for the request too large to write (an entry the trail cannot hold is an
// access it cannot record, and the vault then releases nothing).
const (
	MaxReasonSize = 500 // bytes of a break-glass reason
	MaxDIDSize    = 256 // bytes of a DID (iss, aud, owner, patient)
	MaxIDSize     = 128 // bytes of a record id or a nonce
	MaxConsent    = 16 << 10
	// MaxLicence bounds a practitioner licence (vc+jwt): it rides in every
	// trail entry of the practitioner, which must fit trail.MaxEntrySize.
	MaxLicence = 6 << 10
	// MaxDelegation bounds a delegation token (a chain of three fits).
	MaxDelegation = 12 << 10
	// MaxAnchorSeal bounds a sealed anchor key (a compact JWE of 32 bytes).
	MaxAnchorSeal = 1 << 10
)

// Request is the signed body of every vault call: who asks (Issuer, whose
// DID key signs it), for which vault (Audience: the vault's DID, so a
// request cannot be replayed at another hospital), what, and a Nonce and
// IssuedAt so it cannot be replayed at this one: the vault accepts a request
// only within MaxSkew of its clock and only once.
type Request struct {
	Issuer   string `json:"iss"`
	Audience string `json:"aud"`
	Op       string `json:"op"`
	Nonce    string `json:"nonce"`
	IssuedAt int64  `json:"iat"`

	// Record is the record id (read, erase).
	Record string `json:"record,omitempty"`
	// Purpose is the HL7 v3 PurposeOfUse of a read (ETREAT for break-glass).
	Purpose string `json:"purpose,omitempty"`
	// Consent is the consent grant token presented with a read, or the
	// standing break-glass grant deposited with OpBreakGlass.
	Consent string `json:"consent,omitempty"`
	// ConsentHash is consent.Hash(Consent), filled by the server the first
	// time it needs it (the trail entry and the audit event of one read
	// both name the grant by its hash). It is never on the wire; whoever
	// changes Consent after it was filled must clear it.
	ConsentHash string `json:"-"`
	// BreakGlass is the emergency reason of a break-glass read.
	BreakGlass string `json:"breakGlass,omitempty"`
	// Owner, Class and BodyHash describe a put: the record's owner DID,
	// its FHIR resource type and the hex SHA-256 of the request body.
	Owner    string `json:"owner,omitempty"`
	Class    string `json:"class,omitempty"`
	BodyHash string `json:"bodyHash,omitempty"`
	// Patient is whose trail an access-log request asks for.
	Patient string `json:"patient,omitempty"`
	// Licence is the practitioner licence credential (vc+jwt) a licence
	// request presents; the request's signature by the licence subject's
	// key proves possession.
	Licence string `json:"licence,omitempty"`
	// Delegation is the delegation credential (vc+jwt) a representative
	// acts under: with a read (view), an access-log request for another
	// patient (trail), a consent registration or withdrawal (consent).
	// The request's signature by the representative's key proves they are
	// its subject.
	Delegation string `json:"delegation,omitempty"`
	// AnchorSeal is the anchor key of a consent grant a representative
	// registers, sealed to the patient (see trail.Entry.AnchorSeal).
	AnchorSeal string `json:"anchorSeal,omitempty"`
}

type reqHeader struct {
	Alg string `json:"alg"`
	Typ string `json:"typ"`
	Kid string `json:"kid"`
}

// SignRequest signs r with k as a compact JWS; kid is a DID URL of r.Issuer
// naming k under authentication. A missing Nonce or IssuedAt is filled in
// (random 128 bits, now).
func SignRequest(r *Request, k *key.PrivateKey, kid string) (string, error) {
	if r.Nonce == "" {
		r.Nonce = randid.Hex(16)
	}
	if r.IssuedAt == 0 {
		r.IssuedAt = time.Now().Unix()
	}
	if d, _, ok := strings.Cut(kid, "#"); !ok || d != r.Issuer {
		return "", fmt.Errorf("vault: kid %q must be a DID URL of the issuer %q", kid, r.Issuer)
	}
	hb, err := json.Marshal(reqHeader{Alg: string(k.Alg().JWS()), Typ: RequestType, Kid: kid})
	if err != nil {
		return "", err
	}
	pb, err := json.Marshal(r)
	if err != nil {
		return "", err
	}
	return jose.Sign(hb, pb, k)
}

// ParsedRequest is a decoded, NOT yet verified request with what a
// verifier needs: the signing key's DID URL and algorithm, the JWS signing
// input and the signature.
type ParsedRequest struct {
	Request
	Kid, Alg     string
	SigningInput []byte
	Sig          []byte
}

// ParseRequest decodes a signed request WITHOUT verifying it. Errors wrap
// [ErrBadRequest].
func ParseRequest(token string) (*Request, error) {
	p, err := ParseSigned(token)
	if err != nil {
		return nil, err
	}
	return &p.Request, nil
}

// ParseSigned decodes a signed request WITHOUT verifying its signature,
// returning what a verifier needs to check it. The token must be a compact
// JWS under credentials/jose's policy of at most [MaxRequestSize] bytes,
// with a header of exactly alg (EdDSA or ES256), typ [RequestType] and kid,
// and a payload with no member [Request] does not name (internal/ijson's
// policy: no duplicates, no case variants). Errors wrap [ErrBadRequest].
func ParseSigned(token string) (*ParsedRequest, error) {
	j, err := jose.Split(token, MaxRequestSize)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadRequest, err)
	}
	if len(j.Signature) == 0 {
		return nil, fmt.Errorf("%w: unsigned request", ErrBadRequest)
	}
	var h reqHeader
	if err := ijson.UnmarshalString(j.Header, &h, ijson.Known); err != nil || h.Typ != RequestType || (h.Alg != "EdDSA" && h.Alg != "ES256") {
		return nil, fmt.Errorf("%w: header must be {alg: EdDSA|ES256, typ: %s, kid}", ErrBadRequest, RequestType)
	}
	p := &ParsedRequest{Kid: h.Kid, Alg: h.Alg, SigningInput: []byte(j.SigningInput), Sig: j.Signature}
	if err := ijson.UnmarshalString(j.Payload, &p.Request, ijson.Known); err != nil {
		return nil, fmt.Errorf("%w: payload: %v", ErrBadRequest, err)
	}
	r := &p.Request
	if d, frag, ok := strings.Cut(h.Kid, "#"); !ok || frag == "" || d != r.Issuer {
		return nil, fmt.Errorf("%w: kid must be a DID URL of iss", ErrBadRequest)
	}
	if r.Nonce == "" || len(r.Nonce) > MaxIDSize || r.Op == "" || r.IssuedAt == 0 {
		return nil, fmt.Errorf("%w: op, nonce (1 to %d bytes) and iat are required", ErrBadRequest, MaxIDSize)
	}
	if err := r.checkBounds(); err != nil {
		return nil, err
	}
	return p, nil
}

// checkBounds refuses fields that are too long or not what they claim to
// be, with an error that says which field and what is allowed.
func (r *Request) checkBounds() error {
	switch r.Op {
	case OpPut, OpRead, OpErase, OpAccessLog, OpBreakGlass, OpEvents, OpLicence, OpConsent, OpWithdraw:
	default:
		return fmt.Errorf("%w: op %.32q is not one of put, read, erase, access-log, break-glass, events, licence, consent, consent-withdraw", ErrBadRequest, r.Op)
	}
	for _, f := range []struct{ name, v string }{{"iss", r.Issuer}, {"aud", r.Audience}, {"owner", r.Owner}, {"patient", r.Patient}} {
		if len(f.v) > MaxDIDSize {
			return fmt.Errorf("%w: %s is %d bytes; a DID here may have at most %d", ErrBadRequest, f.name, len(f.v), MaxDIDSize)
		}
	}
	if len(r.Record) > MaxIDSize || !printableASCII(r.Record) {
		return fmt.Errorf("%w: record must be a record id of at most %d printable ASCII characters", ErrBadRequest, MaxIDSize)
	}
	if len(r.Purpose) > 32 || !printableASCII(r.Purpose) || len(r.Class) > 64 || !printableASCII(r.Class) {
		return fmt.Errorf("%w: purpose and class must be codes (a PurposeOfUse code, a FHIR resource type)", ErrBadRequest)
	}
	if len(r.BodyHash) > 64 {
		return fmt.Errorf("%w: bodyHash must be a hex SHA-256", ErrBadRequest)
	}
	if len(r.Licence) > MaxLicence {
		return fmt.Errorf("%w: the licence is %d bytes, at most %d are accepted", ErrBadRequest, len(r.Licence), MaxLicence)
	}
	if len(r.Consent) > MaxConsent {
		return fmt.Errorf("%w: the consent grant is %d bytes, at most %d are accepted", ErrBadRequest, len(r.Consent), MaxConsent)
	}
	if len(r.Delegation) > MaxDelegation || !printableASCII(r.Delegation) {
		return fmt.Errorf("%w: the delegation must be a vc+jwt of at most %d bytes", ErrBadRequest, MaxDelegation)
	}
	if len(r.AnchorSeal) > MaxAnchorSeal || !printableASCII(r.AnchorSeal) {
		return fmt.Errorf("%w: anchorSeal must be a compact JWE of at most %d bytes", ErrBadRequest, MaxAnchorSeal)
	}
	return CheckReason(r.BreakGlass)
}

// CheckReason checks an emergency (break-glass) reason as every way into
// the vault takes it: plain text (valid UTF-8, no control characters) of
// at most MaxReasonSize bytes, since it is shown to the patient in their
// trail. Errors wrap ErrBadRequest.
func CheckReason(reason string) error {
	if len(reason) > MaxReasonSize {
		return fmt.Errorf("%w: the emergency reason is %d bytes; say it in at most %d (it is shown to the patient)", ErrBadRequest, len(reason), MaxReasonSize)
	}
	if !utf8.ValidString(reason) || strings.ContainsFunc(reason, unicode.IsControl) {
		return fmt.Errorf("%w: the emergency reason must be plain text (valid UTF-8, no control characters)", ErrBadRequest)
	}
	return nil
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
