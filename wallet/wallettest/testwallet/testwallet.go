// Package testwallet makes real wallets for the tests of the packages
// above wallet/ (wallet/openid, wallet/card, wallet/hospital, app): a
// wallet on a test clock with cheap key derivation, and a verifier that
// checks vc+jwt signatures and validity for real and answers status from
// a table the test controls (wallettest.Verifier), SD-JWT VCs through the
// real verification pipeline.
//
// It imports wallet/, so wallet's own (internal) tests cannot use it; they
// use wallettest, which this package builds on.
package testwallet

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/medid/medid/credentials/credtest"
	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/verify"
	"github.com/medid/medid/wallet"
	"github.com/medid/medid/wallet/wallettest"
)

// Pass is the passphrase of every test wallet.
var Pass = []byte("correct horse battery staple")

// FastKDF keeps tests quick; real wallets use wallet.DefaultKDF.
var FastKDF = wallet.KDFParams{Time: 1, MemoryKiB: 8 * 1024, Threads: 1}

// Clock is the settable clock the wallet's tests start at: 1 March 2026,
// 09:00 UTC.
func Clock() *credtest.Clock {
	return credtest.NewClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
}

// Config is a wallet in a fresh temporary folder on clk, with [FastKDF].
func Config(t testing.TB, clk *credtest.Clock) wallet.Config {
	t.Helper()
	return wallet.Config{Dir: filepath.Join(t.TempDir(), "wallet"), Now: clk.Now, KDF: FastKDF}
}

// New creates the wallet cfg describes with [Pass], closes it when the
// test ends, and returns it with its recovery phrase.
func New(t testing.TB, cfg wallet.Config) (*wallet.Wallet, string) {
	t.Helper()
	w, phrase, err := wallet.Create(cfg, Pass)
	if err != nil {
		t.Fatalf("testwallet: create: %v", err)
	}
	t.Cleanup(func() { w.Close() })
	return w, phrase
}

// Verifying is a new wallet on clk whose credentials are checked by a
// [Verifier] the test controls (and with cheap backups).
func Verifying(t testing.TB, clk *credtest.Clock) (*wallet.Wallet, Verifier) {
	t.Helper()
	v := Verifier{wallettest.NewVerifier(clk.Now)}
	cfg := Config(t, clk)
	cfg.Verifier = v
	cfg.BackupWorkFactor = 10
	w, _ := New(t, cfg)
	return w, v
}

// Verifier is wallettest's verifier as a wallet.Verifier: vc+jwt
// credentials by wallettest.Verifier.Verdict (status from the test's
// table), SD-JWT VCs by the real pipeline (did:key issuers, no status
// list).
type Verifier struct{ *wallettest.Verifier }

// VerifyCredential implements wallet.Verifier.
func (v Verifier) VerifyCredential(ctx context.Context, token string) wallet.Verdict {
	if verify.DetectFormat(token) == verify.FormatSDJWT {
		vv, err := verify.New(verify.Config{Resolver: did.KeyResolver{}, Now: v.Now})
		if err != nil {
			return wallet.Verdict{Reason: "malformed", Detail: err.Error()}
		}
		return wallet.VerifyWith(vv).VerifyCredential(ctx, token)
	}
	ok, reason, detail, unavailable := v.Verdict(ctx, token)
	return wallet.Verdict{Valid: ok, Reason: reason, Detail: detail, Unavailable: unavailable}
}
