package wallet

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/credentials/sdjwt"
	"github.com/medid/medid/credentials/verify"
)

// TestSDJWTHoldAndPresent: the wallet holds an SD-JWT VC beside vc+jwt
// credentials, presents only the chosen claims with key binding, records
// which paths left (names only), and keeps SD-JWT VCs out of vp+jwt.
func TestSDJWTHoldAndPresent(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	cfg := testConfig(t, clk)
	vv, err := verify.New(verify.Config{Resolver: did.KeyResolver{}, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Verifier = VerifyWith(vv)
	w, me, meKey := newSDJWTHolder(t, cfg)
	is := newIssuer(t, "Hospital")
	issue := func(subject string, holder key.PublicKey) string {
		return is.IssueSDJWT(t, subject, holder, "AllergyIntoleranceCredential", clk.Now(), map[string]any{
			"criticality": "high", "code": map[string]any{"system": "http://snomed.info/sct", "display": "XYZZY-Penicillin"}})
	}
	c, err := w.Receive(ctx, issue(me.DID, meKey))
	if err != nil {
		t.Fatalf("Receive: %v", err)
	}
	if c.Format != FormatSDJWT || !c.HasType("AllergyIntoleranceCredential") || !slices.Contains(c.Attributes, "code.display") || c.ValidUntil == nil {
		t.Errorf("stored %+v", c)
	}
	// Bound to someone else's key, or to our DID with another key: refused.
	other, _ := key.Generate(key.Ed25519)
	if _, err := w.Receive(ctx, issue(me.DID, other.Public())); !errors.Is(err, ErrNotForThisWallet) {
		t.Errorf("cnf.jwk of another key: %v", err)
	}
	if _, err := w.Receive(ctx, issue(did.KeyDID(other.Public()), other.Public())); !errors.Is(err, ErrNotForThisWallet) {
		t.Errorf("another holder's credential: %v", err)
	}

	p, err := w.PresentSDJWT(ctx, PresentSDJWTRequest{CredentialID: c.ID, Disclose: []sdjwt.Path{{"code", "display"}}, Audience: "https://er.example", Nonce: "n-1"})
	if err != nil {
		t.Fatal(err)
	}
	r := vv.Presentation(ctx, p.Token, "https://er.example", "n-1")
	if !r.Valid {
		b, _ := json.Marshal(r)
		t.Fatalf("verifier: %s", b)
	}
	got, _ := json.Marshal(r.Credentials[0].SDJWT.Credential.Claims)
	if string(got) != `{"code":{"display":"XYZZY-Penicillin"}}` {
		t.Errorf("the verifier got %s", got)
	}
	h, _ := w.History()
	last := h[len(h)-1]
	if last.Kind != EventPresented || !slices.Equal(last.Credentials[0].Attributes, []string{"code", "code.display"}) {
		t.Errorf("history %+v", last)
	}
	if b, _ := json.Marshal(h); strings.Contains(string(b), "XYZZY") {
		t.Error("the history holds a claim value")
	}
	if _, err := w.PresentSDJWT(ctx, PresentSDJWTRequest{CredentialID: c.ID, Disclose: []sdjwt.Path{{"bloodType"}}, Audience: "a", Nonce: "n"}); !errors.Is(err, sdjwt.ErrNoSuchClaim) {
		t.Errorf("unknown claim: %v", err)
	}
	if _, err := w.Present(ctx, PresentRequest{CredentialIDs: []string{c.ID}, Audience: "a", Nonce: "n"}); err == nil {
		t.Error("an SD-JWT VC was put into a vp+jwt")
	}
	// Nor onto the emergency card: wallet/card's TestSDJWTNotOnCard.
}

// TestSDJWTReceiveOffline: an SD-JWT VC that cannot be checked (the
// registry or status list out of reach) is "could not check", never a
// rejection, as for vc+jwt, and nothing is stored; one that fails its
// check is a rejection.
func TestSDJWTReceiveOffline(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	cfg := testConfig(t, clk)
	var verdict Verdict
	cfg.Verifier = verdictFunc(func(string) Verdict { return verdict })
	w, me, meKey := newSDJWTHolder(t, cfg)
	tok := newIssuer(t, "Hospital").IssueSDJWT(t, me.DID, meKey, "AllergyIntoleranceCredential", clk.Now(), map[string]any{"criticality": "high"})
	verdict = Verdict{Reason: "issuer_unavailable", Detail: "connection refused", Unavailable: true}
	if _, err := w.Receive(ctx, tok); !errors.Is(err, ErrCouldNotCheck) || errors.Is(err, ErrRejected) {
		t.Errorf("Receive offline = %v, want ErrCouldNotCheck (not a rejection)", err)
	}
	verdict = Verdict{Reason: "revoked"}
	if _, err := w.Receive(ctx, tok); !errors.Is(err, ErrRejected) {
		t.Errorf("Receive of a revoked credential = %v, want ErrRejected", err)
	}
	if all, _ := w.Credentials(Filter{}); len(all) != 0 {
		t.Errorf("%d credentials stored", len(all))
	}
	verdict = Verdict{Valid: true}
	if _, err := w.Receive(ctx, tok); err != nil {
		t.Errorf("Receive: %v", err)
	}
}

// verdictFunc is a Verifier that answers every token with f's verdict.
type verdictFunc func(token string) Verdict

func (f verdictFunc) VerifyCredential(_ context.Context, token string) Verdict { return f(token) }

// newSDJWTHolder is a new wallet on cfg (closed when the test ends), its
// primary DID and that DID's key, to bind SD-JWT VCs to (cnf.jwk).
func newSDJWTHolder(t *testing.T, cfg Config) (*Wallet, DID, key.PublicKey) {
	t.Helper()
	w, _, err := Create(cfg, pass)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	me, _ := w.PrimaryDID()
	meKey, err := did.ParseKeyDID(me.DID)
	if err != nil {
		t.Fatal(err)
	}
	return w, me, meKey
}
