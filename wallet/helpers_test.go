package wallet

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/credentials/vc"
)

// issuer is a test hospital with a did:key.
type issuer struct {
	k   *key.PrivateKey
	did string
	kid string
}

func newIssuer(t testing.TB) issuer {
	t.Helper()
	k, err := key.Generate(key.Ed25519)
	if err != nil {
		t.Fatal(err)
	}
	id := did.KeyDID(k.Public())
	return issuer{k: k, did: id, kid: id + "#" + k.Public().Multikey()}
}

// issue signs a credential of type typ for subject with the given claims.
func (is issuer) issue(t testing.TB, subject, typ string, claims map[string]any, mod ...func(*vc.Credential)) string {
	t.Helper()
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	subj := map[string]any{"id": subject}
	for k, v := range claims {
		subj[k] = v
	}
	c := &vc.Credential{
		Context:   []string{vc.ContextV2},
		Type:      []string{vc.TypeCredential, typ},
		Issuer:    is.did,
		ValidFrom: &from,
		Subject:   subj,
	}
	for _, m := range mod {
		m(c)
	}
	tok, err := vc.Issue(c, is.k, is.kid)
	if err != nil {
		t.Fatalf("issue: %v", err)
	}
	return tok
}

// didKeyFunc resolves did:key kids, the way verifiers do for did:key.
func didKeyFunc(_ context.Context, kid string) (key.PublicKey, error) {
	d, _, _ := strings.Cut(kid, "#")
	return did.ParseKeyDID(d)
}

// testVerifier verifies signatures and validity with the vc package and
// did:key, and answers status from a table the test controls.
type testVerifier struct {
	now    func() time.Time
	mu     sync.Mutex
	status map[string]string // token (or "*": every token) -> reason ("revoked", "status_unavailable", ...)
}

func (v *testVerifier) setStatus(token, reason string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.status == nil {
		v.status = map[string]string{}
	}
	v.status[token] = reason
}

func (v *testVerifier) VerifyCredential(ctx context.Context, token string) Verdict {
	_, err := vc.Verify(ctx, token, didKeyFunc, vc.VerifyOptions{Now: v.now()})
	switch {
	case errors.Is(err, vc.ErrExpired):
		return Verdict{Reason: "expired"}
	case errors.Is(err, vc.ErrBadSignature):
		return Verdict{Reason: "bad_signature"}
	case err != nil:
		return Verdict{Reason: "malformed", Detail: err.Error()}
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if r := v.status["*"]; r != "" && strings.HasSuffix(r, "_unavailable") {
		return Verdict{Reason: r, Unavailable: true, Detail: "dial tcp 127.0.0.1:8080: connection refused"}
	}
	if r := v.status[token]; strings.HasSuffix(r, "_unavailable") {
		return Verdict{Reason: r, Unavailable: true, Detail: "dial tcp 127.0.0.1:8080: connection refused"}
	} else if r != "" {
		return Verdict{Reason: r}
	}
	return Verdict{Valid: true}
}

// newVerifyingWallet is a new wallet with a test verifier on the clock.
func newVerifyingWallet(t *testing.T, clk *fakeClock) (*Wallet, *testVerifier) {
	t.Helper()
	v := &testVerifier{now: clk.Now}
	cfg := testConfig(t, clk)
	cfg.Verifier = v
	cfg.BackupWorkFactor = 10
	w, _, err := Create(cfg, pass)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w, v
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func unb64(t testing.TB, s string) string {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
