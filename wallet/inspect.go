package wallet

import (
	"maps"
	"strings"
	"time"

	"github.com/medid/medid/credentials/sdjwt"
	"github.com/medid/medid/credentials/vc"
	"github.com/medid/medid/credentials/verify"
)

// Offered is what a credential says about itself before it is verified or
// stored, for the patient to look at before accepting it: [Wallet.Receive]
// then verifies it. NOTHING in it is checked: show the issuer by its
// directory name, marked as not yet checked.
type Offered struct {
	Token   string
	Issuer  string   // the issuer's DID, as the credential names it
	Types   []string // e.g. VerifiableCredential, AllergyIntoleranceCredential
	Subject string   // the DID it is issued to
	// Claims are the credentialSubject's claims (vc+jwt) or the disclosed
	// claims (SD-JWT VC), without the subject's id and the JWT's own.
	Claims                map[string]any
	ValidFrom, ValidUntil *time.Time
}

// sdJWTOwnClaims are an SD-JWT VC's registered claims: about the token,
// not the patient.
var sdJWTOwnClaims = []string{"iss", "sub", "vct", "cnf", "iat", "nbf", "exp", "status", "jti", "_sd_alg", "vct#integrity"}

// Inspect reads a vc+jwt or an SD-JWT VC without verifying it or storing
// anything. A token that cannot be read is a *RejectedError with reason
// "malformed", as [Wallet.Receive] reports it.
func Inspect(token string) (Offered, error) {
	token = strings.TrimSpace(token)
	if verify.DetectFormat(token) == verify.FormatSDJWT {
		h, err := sdjwt.Open(token)
		if err != nil {
			return Offered{}, &RejectedError{Reason: "malformed", Detail: err.Error()}
		}
		o := Offered{Token: token, Claims: maps.Clone(h.Claims)}
		o.Issuer, _ = h.Claims["iss"].(string)
		o.Subject, _ = h.Claims["sub"].(string)
		vct, _ := h.Claims["vct"].(string)
		o.Types = []string{sdjwt.CredentialType(vct)}
		for _, f := range [...]struct {
			name string
			dst  **time.Time
		}{{"iat", &o.ValidFrom}, {"nbf", &o.ValidFrom}, {"exp", &o.ValidUntil}} {
			if t, ok, _ := vc.NumericDate(h.Claims, f.name); ok {
				*f.dst = &t
			}
		}
		for _, k := range sdJWTOwnClaims {
			delete(o.Claims, k)
		}
		return o, nil
	}
	t, err := vc.Parse(token)
	if err != nil {
		return Offered{}, &RejectedError{Reason: "malformed", Detail: err.Error()}
	}
	c := t.Credential
	claims := maps.Clone(c.Subject)
	delete(claims, "id")
	return Offered{Token: token, Issuer: c.Issuer, Types: c.Type, Subject: c.SubjectID(), Claims: claims,
		ValidFrom: c.ValidFrom, ValidUntil: c.ValidUntil}, nil
}
