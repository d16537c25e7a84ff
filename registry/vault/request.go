package vault

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
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

var b64 = base64.RawURLEncoding

// SignRequest signs r with k as a compact JWS; kid is a DID URL of r.Issuer
// naming k under authentication. A missing Nonce or IssuedAt is filled in
// (random 128 bits, now).
func SignRequest(r *Request, k *key.PrivateKey, kid string) (string, error) {
	if r.Nonce == "" {
		var n [16]byte
		if _, err := rand.Read(n[:]); err != nil {
			return "", err
		}
		r.Nonce = hex.EncodeToString(n[:])
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
	input := b64.EncodeToString(hb) + "." + b64.EncodeToString(pb)
	sig, err := k.Sign([]byte(input))
	if err != nil {
		return "", err
	}
	return input + "." + b64.EncodeToString(sig), nil
}

// parsedRequest is a decoded, not yet verified request.
type parsedRequest struct {
	Request
	kid, alg     string
	signingInput []byte
	sig          []byte
}

// ParseRequest decodes a signed request WITHOUT verifying it. Errors wrap
// [ErrBadRequest].
func ParseRequest(token string) (*Request, error) {
	p, err := parseRequest(token)
	if err != nil {
		return nil, err
	}
	return &p.Request, nil
}

func parseRequest(token string) (*parsedRequest, error) {
	if len(token) > MaxRequestSize {
		return nil, fmt.Errorf("%w: request of %d bytes", ErrBadRequest, len(token))
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("%w: want a compact JWS", ErrBadRequest)
	}
	hb, err1 := b64.DecodeString(parts[0])
	pb, err2 := b64.DecodeString(parts[1])
	sig, err3 := b64.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil || len(sig) == 0 {
		return nil, fmt.Errorf("%w: bad base64url in the JWS", ErrBadRequest)
	}
	var h reqHeader
	dec := json.NewDecoder(bytes.NewReader(hb))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&h); err != nil || h.Typ != RequestType || (h.Alg != "EdDSA" && h.Alg != "ES256") {
		return nil, fmt.Errorf("%w: header must be {alg: EdDSA|ES256, typ: %s, kid}", ErrBadRequest, RequestType)
	}
	p := &parsedRequest{kid: h.Kid, alg: h.Alg, signingInput: []byte(parts[0] + "." + parts[1]), sig: sig}
	dec = json.NewDecoder(bytes.NewReader(pb))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p.Request); err != nil {
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

// authenticator verifies requests: signature by the issuer's DID key,
// audience, freshness and single use.
type authenticator struct {
	aud      string
	resolver did.Resolver
	skew     time.Duration

	mu     sync.Mutex // guards nonces and sweep
	nonces map[string]time.Time
	sweep  time.Time
}

// authenticate returns the verified request or an error wrapping
// [ErrUnauthenticated], [ErrReplay] or [ErrBadRequest].
func (a *authenticator) authenticate(ctx context.Context, token string, now time.Time) (*Request, error) {
	p, err := parseRequest(token)
	if err != nil {
		return nil, err
	}
	r := &p.Request
	if r.Audience != a.aud {
		return r, fmt.Errorf("%w: the request is for %.128q, this vault is %s", ErrUnauthenticated, r.Audience, a.aud)
	}
	at := time.Unix(r.IssuedAt, 0)
	if at.Before(now.Add(-a.skew)) || at.After(now.Add(a.skew)) {
		return r, fmt.Errorf("%w: request time %s is more than %s from the vault's clock", ErrUnauthenticated, at.UTC().Format(time.RFC3339), a.skew)
	}
	res, err := a.resolver.Resolve(ctx, r.Issuer)
	if err != nil {
		return r, fmt.Errorf("%w: resolve %.128s: %v", ErrUnauthenticated, r.Issuer, err)
	}
	pub, err := res.Document.Key(p.kid, did.Authentication)
	if err != nil {
		return r, fmt.Errorf("%w: %v", ErrUnauthenticated, err)
	}
	if string(pub.Alg().JWS()) != p.alg || !pub.Verify(p.signingInput, p.sig) {
		return r, fmt.Errorf("%w: bad signature by %s", ErrUnauthenticated, p.kid)
	}
	// Single use: remember (issuer, nonce) until the request is stale anyway.
	nk := r.Issuer + "\x00" + r.Nonce
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.nonces == nil {
		a.nonces = map[string]time.Time{}
	}
	if now.Sub(a.sweep) > a.skew {
		for k, exp := range a.nonces {
			if now.After(exp) {
				delete(a.nonces, k)
			}
		}
		a.sweep = now
	}
	if _, seen := a.nonces[nk]; seen {
		return r, fmt.Errorf("%w: nonce %.32q of %s was used", ErrReplay, r.Nonce, r.Issuer)
	}
	a.nonces[nk] = at.Add(a.skew)
	return r, nil
}
