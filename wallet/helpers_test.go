package wallet

import (
	"context"
	"encoding/base64"
	"testing"

	"github.com/medid/medid/credentials/credtest"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/wallet/wallettest"
)

// newIssuer is a test hospital whose did:key comes from seed. It has no
// display name: the emergency card tests count the bytes of its credentials.
func newIssuer(t testing.TB, seed string) wallettest.Issuer {
	return wallettest.Issuer{Party: credtest.NewParty(t, key.Ed25519, seed)}
}

// testVerifier is wallettest's verifier as a wallet Verifier.
type testVerifier struct{ *wallettest.Verifier }

func (v testVerifier) VerifyCredential(ctx context.Context, token string) Verdict {
	ok, reason, detail, unavailable := v.Verdict(ctx, token)
	return Verdict{Valid: ok, Reason: reason, Detail: detail, Unavailable: unavailable}
}

// newVerifyingWallet is a new wallet with a test verifier on the clock.
func newVerifyingWallet(t *testing.T, clk *credtest.Clock) (*Wallet, testVerifier) {
	t.Helper()
	v := testVerifier{wallettest.NewVerifier(clk.Now)}
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
