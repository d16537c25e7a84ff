package vaultapi

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

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
	// BreakGlass is the emergency reason of a break-glass read.
	BreakGlass string `json:"breakGlass,omitempty"`
	// Owner, Class and BodyHash describe a put: the record's owner DID,
	// its FHIR resource type and the hex SHA-256 of the request body.
	Owner    string `json:"owner,omitempty"`
	Class    string `json:"class,omitempty"`
	BodyHash string `json:"bodyHash,omitempty"`
	// Patient is whose trail an access-log request asks for.
	Patient string `json:"patient,omitempty"`
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
	if err := ijson.Unmarshal(j.Header, &h, ijson.Known); err != nil || h.Typ != RequestType || (h.Alg != "EdDSA" && h.Alg != "ES256") {
		return nil, fmt.Errorf("%w: header must be {alg: EdDSA|ES256, typ: %s, kid}", ErrBadRequest, RequestType)
	}
	p := &ParsedRequest{Kid: h.Kid, Alg: h.Alg, SigningInput: []byte(j.SigningInput), Sig: j.Signature}
	if err := ijson.Unmarshal(j.Payload, &p.Request, ijson.Known); err != nil {
		return nil, fmt.Errorf("%w: payload: %v", ErrBadRequest, err)
	}
	r := &p.Request
	if d, frag, ok := strings.Cut(h.Kid, "#"); !ok || frag == "" || d != r.Issuer {
		return nil, fmt.Errorf("%w: kid must be a DID URL of iss", ErrBadRequest)
	}
	if r.Nonce == "" || len(r.Nonce) > 128 || r.Op == "" || r.IssuedAt == 0 {
		return nil, fmt.Errorf("%w: op, nonce (1 to 128 bytes) and iat are required", ErrBadRequest)
	}
	return p, nil
}
