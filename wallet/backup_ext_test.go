package wallet_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/medid/medid/wallet"
	"github.com/medid/medid/wallet/hospital"
	"github.com/medid/medid/wallet/wallettest"
	"github.com/medid/medid/wallet/wallettest/testwallet"
)

// TestBackupRestore: a backup carries the whole wallet (identities,
// credentials, history, consent grants made with wallet/hospital, revoked
// ones included) and restores into a wallet that can still present and
// revoke; a restore never overwrites a wallet.
func TestBackupRestore(t *testing.T) {
	ctx := context.Background()
	clk := testwallet.Clock()
	w, v := testwallet.Verifying(t, clk)
	p, _ := w.PrimaryDID()
	pw, _ := w.NewDID(wallet.NewDIDOptions{Pairwise: true, Label: "Hospital A"})
	is := wallettest.Issuer{Party: wallettest.NewIssuer(t, "Hospital").Party}
	c1, err := w.Receive(ctx, is.Issue(t, p.DID, []string{"AllergyCredential"}, map[string]any{"allergen": "Penicillin"}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Receive(ctx, is.Issue(t, pw.DID, []string{"ImmunizationCredential"}, map[string]any{"vaccine": "MMR"})); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Present(ctx, wallet.PresentRequest{CredentialIDs: []string{c1.ID}, Audience: "did:web:er", Nonce: "n"}); err != nil {
		t.Fatal(err)
	}
	// Three grants: one active, one revoked, one (from the pairwise wallet.DID)
	// active and break-glass.
	led := wallettest.NewLedger()
	var grants []wallet.Consent
	for _, req := range []wallet.ConsentRequest{
		{Provider: "did:web:gp.example", Classes: []string{"AllergyIntolerance"}, Purposes: []string{"TREAT"}, Duration: 30 * 24 * time.Hour},
		{Provider: "did:web:lab.example", Classes: []string{"Observation"}, Purposes: []string{"TREAT"}, Duration: time.Hour},
		{DID: pw.DID, Provider: "did:web:er.example", Classes: []string{"AllergyIntolerance"}, Purposes: []string{"ETREAT"},
			Duration: 365 * 24 * time.Hour, BreakGlass: true},
	} {
		g, err := hospital.GrantConsent(ctx, w, led, req)
		if err != nil {
			t.Fatal(err)
		}
		grants = append(grants, g)
		clk.Advance(time.Second) // distinct ValidFrom: a stable newest-first order
	}
	if _, err := hospital.RevokeConsent(ctx, w, led, grants[1].ID); err != nil {
		t.Fatal(err)
	}
	wantG, err := w.Consents()
	if err != nil || len(wantG) != 3 {
		t.Fatalf("Consents before backup = %d, %v", len(wantG), err)
	}
	var buf bytes.Buffer
	bpass := []byte("backup passphrase")
	if err := w.Backup(&buf, bpass); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(buf.Bytes(), []byte("Penicillin")) || bytes.Contains(buf.Bytes(), []byte(p.DID)) ||
		bytes.Contains(buf.Bytes(), []byte("did:web:gp.example")) {
		t.Fatal("backup contains plaintext")
	}
	backup := buf.Bytes()

	cfg := testwallet.Config(t, clk)
	cfg.Verifier = v
	walletFile := func() []byte {
		b, err := os.ReadFile(filepath.Join(cfg.Dir, wallet.FileName))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	r, err := wallet.Restore(cfg, bytes.NewReader(backup), bpass, []byte("new wallet pass"))
	if err != nil {
		t.Fatalf("Restore: %v", err)
	}
	defer r.Close()
	wantD, _ := w.DIDs()
	gotD, _ := r.DIDs()
	if !slices.EqualFunc(wantD, gotD, func(a, b wallet.DID) bool { return a.DID == b.DID && a.Label == b.Label }) {
		t.Errorf("restored DIDs %v, want %v", gotD, wantD)
	}
	wantC, _ := w.Credentials(wallet.Filter{})
	gotC, _ := r.Credentials(wallet.Filter{})
	if len(gotC) != 2 || !slices.EqualFunc(wantC, gotC, func(a, b wallet.Credential) bool { return a.ID == b.ID && a.Token == b.Token }) {
		t.Errorf("restored %d credentials, want %d", len(gotC), len(wantC))
	}
	wantH, _ := w.History()
	gotH, _ := r.History()
	if len(gotH) != len(wantH) {
		t.Errorf("restored %d history entries, want %d", len(gotH), len(wantH))
	}
	// The consent grants come back with the same tokens and statuses.
	gotG, err := r.Consents()
	if err != nil {
		t.Fatalf("Consents of the restored wallet: %v", err)
	}
	sameGrant := func(a, b wallet.Consent) bool {
		return a.ID == b.ID && a.Token == b.Token && a.Patient == b.Patient && a.Anchor == b.Anchor && a.GrantID == b.GrantID && a.Provider == b.Provider &&
			slices.Equal(a.Classes, b.Classes) && slices.Equal(a.Purposes, b.Purposes) && a.BreakGlass == b.BreakGlass &&
			a.ValidFrom.Equal(b.ValidFrom) && a.ValidUntil.Equal(b.ValidUntil) &&
			(a.Revoked == nil) == (b.Revoked == nil) && (a.Revoked == nil || a.Revoked.Equal(*b.Revoked)) &&
			a.StatusAt(clk.Now()) == b.StatusAt(clk.Now())
	}
	if !slices.EqualFunc(wantG, gotG, sameGrant) {
		t.Errorf("restored consents:\n got %+v\nwant %+v", gotG, wantG)
	}
	for i, want := range []string{wallet.ConsentActive, wallet.ConsentRevoked, wallet.ConsentActive} {
		if g, err := hospital.FindConsent(r, grants[i].ID); err != nil || g.StatusAt(clk.Now()) != want {
			t.Errorf("restored grant %d: status %q, %v; want %q", i, g.StatusAt(clk.Now()), err, want)
		}
	}
	// The grants are sealed in the consent bucket like every record: the
	// file holds neither a provider nor a token in the clear.
	raw := walletFile()
	if bytes.Contains(raw, []byte("did:web:gp.example")) || bytes.Contains(raw, []byte(grants[0].Token[:40])) {
		t.Error("restored wallet file holds a consent grant in the clear")
	}
	// The restored wallet can still revoke a grant made before the backup
	// (it re-derives the grant's anchor key from the seed and the grant's
	// ID).
	if c, err := hospital.RevokeConsent(ctx, r, led, grants[2].ID); err != nil || c.StatusAt(clk.Now()) != wallet.ConsentRevoked {
		t.Errorf("RevokeConsent from the restored wallet: %+v, %v", c, err)
	}
	// The restored wallet can present, with the same holder key.
	if _, err := r.Present(ctx, wallet.PresentRequest{CredentialIDs: []string{c1.ID}, Audience: "a", Nonce: "n"}); err != nil {
		t.Errorf("Present from the restored wallet: %v", err)
	}
	// And it opens with the new passphrase only.
	r.Close()
	if _, err := wallet.Open(cfg, testwallet.Pass); !errors.Is(err, wallet.ErrWrongPassphrase) {
		t.Errorf("old wallet passphrase opens the restored wallet: %v", err)
	}
	if r2, err := wallet.Open(cfg, []byte("new wallet pass")); err != nil {
		t.Errorf("new passphrase: %v", err)
	} else {
		r2.Close()
	}

	// Never overwrite: restoring onto the wallet just made fails, and the
	// wallet is unchanged.
	before := walletFile()
	if _, err := wallet.Restore(cfg, bytes.NewReader(backup), bpass, testwallet.Pass); !errors.Is(err, wallet.ErrExists) {
		t.Errorf("restore over an existing wallet: %v, want ErrExists", err)
	}
	if !bytes.Equal(before, walletFile()) {
		t.Error("failed restore changed the existing wallet")
	}
}
