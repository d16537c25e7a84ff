// Package wallettest is the test kit of the holder side (wallet/ and app/):
// a test hospital that issues real vc+jwt credentials, and a verifier that
// checks signatures and validity for real but answers status from a table
// the test controls.
//
// It does not import wallet/, so that the wallet's own tests can use it;
// a test adapts [Verifier.Check] to the wallet.Verifier interface in one
// line (wallet.Verdict{Valid: reason == "", Reason: reason, Detail: detail}).
package wallettest

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/medid/medid/credentials/credtest"
	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/credentials/sdjwt"
	"github.com/medid/medid/credentials/vc"
)

// IssuedAt is the validFrom of every credential an [Issuer] issues.
var IssuedAt = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

// Issuer is a test hospital: a did:key party derived from its name.
type Issuer struct {
	credtest.Party
	// Name is written as the credential's issuer.name when not empty.
	Name string
}

// NewIssuer returns the hospital called name; the same name gives the same
// DID on every run.
func NewIssuer(t testing.TB, name string) Issuer {
	t.Helper()
	return Issuer{Party: credtest.NewParty(t, key.Ed25519, name), Name: name}
}

// Issue signs a VC 2.0 credential of the given types (VerifiableCredential
// comes first) about subject with claims as its credentialSubject (subject
// is its id), valid from [IssuedAt]; each mod changes it before signing.
func (is Issuer) Issue(t testing.TB, subject string, types []string, claims map[string]any, mod ...func(*vc.Credential)) string {
	t.Helper()
	from := IssuedAt
	subj := map[string]any{"id": subject}
	for k, v := range claims {
		subj[k] = v
	}
	c := &vc.Credential{
		Context:   []string{vc.ContextV2},
		Type:      append([]string{vc.TypeCredential}, types...),
		Issuer:    is.DID,
		ValidFrom: &from,
		Subject:   subj,
	}
	if is.Name != "" {
		c.IssuerProperties = map[string]any{"name": is.Name}
	}
	for _, m := range mod {
		m(c)
	}
	tok, err := vc.Issue(c, is.Key, is.Kid)
	if err != nil {
		t.Fatalf("wallettest: issue: %v", err)
	}
	return tok
}

// DIDKeyFunc resolves the kid of any did:key, the way verifiers do for
// did:key issuers and holders.
func DIDKeyFunc(_ context.Context, kid string) (key.PublicKey, error) {
	d, _, _ := strings.Cut(kid, "#")
	return did.ParseKeyDID(d)
}

// Verifier checks a credential's signature (did:key issuers) and validity
// at Now with credentials/vc, then answers its status from a table the test
// sets. It is safe for concurrent use.
type Verifier struct {
	// Now is the clock validity is checked at.
	Now func() time.Time

	mu     sync.Mutex        // guards status
	status map[string]string // token -> reason ("revoked", "suspended", "status_unavailable", ...)
}

// NewVerifier returns a verifier on the clock now.
func NewVerifier(now func() time.Time) *Verifier {
	return &Verifier{Now: now, status: map[string]string{}}
}

// Set makes Check answer reason for token from now on ("" for valid);
// token "*" answers reason for every token that passes the signature and
// validity checks (a registry outage: "status_unavailable").
func (v *Verifier) Set(token, reason string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.status[token] = reason
}

// Check verifies token and returns "" if it is valid, or the verify
// package's reason code and a detail: "expired", "bad_signature",
// "malformed" (with the error), or the reason Set gave the token.
func (v *Verifier) Check(ctx context.Context, token string) (reason, detail string) {
	_, err := vc.Verify(ctx, token, DIDKeyFunc, vc.VerifyOptions{Now: v.Now()})
	switch {
	case errors.Is(err, vc.ErrExpired):
		return "expired", ""
	case errors.Is(err, vc.ErrBadSignature):
		return "bad_signature", ""
	case err != nil:
		return "malformed", err.Error()
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if r := v.status["*"]; r != "" {
		return r, ""
	}
	return v.status[token], ""
}

// Unavailable is the detail [Verifier.Verdict] gives when the status
// source does not answer: what a verifier says when the registry is down.
const Unavailable = "dial tcp 127.0.0.1:8080: connection refused"

// Verdict is Check as a wallet takes it: valid when the reason is "";
// unavailable (the credential could not be checked, with the [Unavailable]
// detail) when the reason ends in "_unavailable".
func (v *Verifier) Verdict(ctx context.Context, token string) (valid bool, reason, detail string, unavailable bool) {
	reason, detail = v.Check(ctx, token)
	if strings.HasSuffix(reason, "_unavailable") {
		return false, reason, Unavailable, true
	}
	return reason == "", reason, detail, false
}

// IssueSDJWT signs an SD-JWT VC (dc+sd-jwt) of type typ (its vct is
// sdjwt.VCT(typ)) about subject, bound to holder's key (cnf.jwk), issued a
// minute before now and valid for a year from it, every claim selectively
// disclosable.
func (is Issuer) IssueSDJWT(t testing.TB, subject string, holder key.PublicKey, typ string, now time.Time, claims map[string]any) string {
	t.Helper()
	exp := now.Add(365 * 24 * time.Hour)
	tok, err := sdjwt.IssueVC(&sdjwt.Credential{Issuer: is.DID, VCT: sdjwt.VCT(typ), Subject: subject,
		IssuedAt: now.Add(-time.Minute), Expires: &exp, Holder: holder, Claims: claims}, is.Key, is.Kid, sdjwt.IssueOptions{})
	if err != nil {
		t.Fatalf("wallettest: issue SD-JWT VC: %v", err)
	}
	return tok
}
