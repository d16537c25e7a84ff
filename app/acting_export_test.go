package app

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/medid/medid/credentials/credtest"
	"github.com/medid/medid/credentials/delegation"
	"github.com/medid/medid/credentials/delegation/delegationtest"
	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/openid4vci"
	"github.com/medid/medid/internal/qr"
	"github.com/medid/medid/wallet"
	"github.com/medid/medid/wallet/delegate"
)

// TestGiveRecordToPerson: a parent receives a hospital's record for her
// daughter Ana while acting for her, then gives it to Ana from the acting
// screen ("Give to Ana Silva…"): a QR code that holds exactly the record,
// a file only she can read (0600), a copy; Ana's own app adds it from the
// code under My records, as hers. The dialog speaks without developer
// terms, and the parent keeps her copy.
func TestGiveRecordToPerson(t *testing.T) {
	ctx := context.Background()
	ana := newHarness(t, preparedFrom(t, anaPhrase)) // Ana's own wallet
	ana.unlock(testPass)
	k, _, err := ana.a.wallet().SignerFor(ana.primary())
	if err != nil {
		t.Fatal(err)
	}
	world := delegationtest.New(t)
	world.Patient = credtest.PartyOf(k)

	h := unlocked(t) // the parent's
	w := h.a.wallet()
	g := world.Guardianship(delegation.ActionView, delegation.ActionReceive, delegation.ActionPresent)
	g.Representative = h.primary()
	if _, err := delegate.Add(ctx, w, world.Checker(), world.Sign(g, world.Registry)); err != nil {
		t.Fatal(err)
	}
	hosp := newIssuer(t, "St Mary's Hospital")
	srv := httptest.NewServer(nil)
	t.Cleanup(srv.Close)
	oi, err := openid4vci.New(openid4vci.Config{URL: srv.URL, Key: hosp.Key, DID: hosp.DID, Kid: hosp.Kid,
		Configurations: map[string]openid4vci.Configuration{"ImmunizationCredential": openid4vci.NewConfiguration("ImmunizationCredential")},
		Resolver:       did.KeyResolver{}, Now: h.clk.Now, Delegations: world.Checker()})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = oi
	off, err := oi.CreateOffer(openid4vci.OfferRequest{ConfigurationID: "ImmunizationCredential",
		Claims: immunizationClaims(), Subject: world.Patient.DID})
	if err != nil {
		t.Fatal(err)
	}
	h.a.main.selectScreen("consent")
	h.a.wait()
	h.a.main.selectScreen("people")
	h.a.wait()
	test.Tap(h.a.main.people.acting[0].act)
	h.a.wait()
	x := h.a.main.people.actingNow
	x.offer.SetText(off.URI)
	test.Tap(x.receive)
	h.a.wait()
	if x.err.Visible() || len(x.heldGive) != 1 {
		t.Fatalf("receiving for Ana: %q, %d give buttons", x.err.Text, len(x.heldGive))
	}
	held, _ := w.HeldFor(x.d.Hash)

	test.Tap(x.heldGive[0])
	e := x.export
	if e == nil || e.img == nil || e.code == "" {
		t.Fatalf("no code to give: %+v", e)
	}
	assertPatientWords(t, "the give-it dialog", h.win.Canvas())
	// The code holds exactly the record.
	got, err := decodeQRImage(e.img.Image)
	if err == nil {
		got, err = qr.Expand(got)
	}
	if err != nil || got != held[0].Token {
		t.Fatalf("the code holds %.40q (%v), want the record", got, err)
	}
	// A file only the parent's account can read, holding the record.
	path := filepath.Join(t.TempDir(), "ana.txt")
	e.saved(path, e.saveTo(path))
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("saved file: %v, %v", fi, err)
	}
	if b, _ := os.ReadFile(path); strings.TrimSpace(string(b)) != held[0].Token || !strings.HasPrefix(e.done.Text, "Saved to "+path) {
		t.Errorf("saved %q; note %q", b, e.done.Text)
	}
	test.Tap(e.copy)
	if h.a.fa.Clipboard().Content() != held[0].Token {
		t.Error("Copy did not copy the record")
	}
	if still, _ := w.HeldFor(x.d.Hash); len(still) != 1 {
		t.Errorf("the parent's copy: %d held", len(still))
	}

	// Ana adds it from the code in her own app, as hers; a compacted code
	// (a record too large for a plain one) is read the same way.
	for _, code := range []string{e.code, qr.Compact(held[0].Token)} {
		ana.receive(code)
		own, err := ana.a.wallet().Credentials(wallet.Filter{})
		if err != nil || len(own) != 1 || own[0].Subject != ana.primary() {
			t.Fatalf("Ana's records after adding %.12q: %+v, %v (%q)", code, own, err, ana.a.main.creds.recvErr.Text)
		}
	}
}

// anaPhrase is another valid recovery phrase (a BIP-39 test vector), so
// that a second wallet in a test has DIDs of its own.
const anaPhrase = "zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo vote"

// preparedFrom is prepared with phrase instead of fixedPhrase.
func preparedFrom(t *testing.T, phrase string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "wallet")
	w, err := wallet.Recover(wallet.Config{Dir: dir, KDF: fastKDF(), Now: newClock().Now}, []byte(testPass), phrase, wallet.RecoverOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := markConfirmed(w); err != nil {
		t.Fatal(err)
	}
	w.Close()
	return dir
}
