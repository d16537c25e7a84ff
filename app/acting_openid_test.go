package app

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/medid/medid/credentials/delegation"
	"github.com/medid/medid/credentials/delegation/delegationtest"
	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/openid4vci"
	"github.com/medid/medid/credentials/openid4vp"
	"github.com/medid/medid/credentials/verify"
	"github.com/medid/medid/wallet"
	"github.com/medid/medid/wallet/delegate"
)

// TestActingReceives: a parent acting for her daughter in the app pastes a
// hospital's offer for the daughter; the hospital's issuer (a real
// credentials/openid4vci service) checks the guardianship, which allows
// receive, and issues the record to the daughter; the acting screen lists
// it under "Records you hold for Ana Silva", and the parent's own records
// do not; a used offer is refused on the screen. Then a pharmacy's
// verifier asks for an immunization record: she checks what would leave
// and sends Ana's, and the verifier says who presented for whom.
func TestActingReceivesAndPresents(t *testing.T) {
	ctx := context.Background()
	h := unlocked(t)
	world := delegationtest.New(t)
	w := h.a.wallet()
	me := h.primary()
	add := func(actions ...delegation.Action) {
		t.Helper()
		g := world.Guardianship(actions...)
		g.Representative = me
		if _, err := delegate.Add(ctx, w, world.Checker(), world.Sign(g, world.Registry)); err != nil {
			t.Fatal(err)
		}
	}
	add(delegation.ActionView, delegation.ActionReceive, delegation.ActionPresent)

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
		Claims: map[string]any{"vaccineCode": "MMR"}, Subject: world.Patient.DID})
	if err != nil {
		t.Fatal(err)
	}

	h.a.main.selectScreen("consent")
	h.a.wait()
	h.a.main.selectScreen("people")
	h.a.wait()
	p := h.a.main.people
	if p == nil || len(p.acting) != 1 {
		t.Fatalf("people screen: %v", p)
	}
	test.Tap(p.acting[0].act)
	h.a.wait()
	x := p.actingNow
	if x == nil || x.offer == nil || !x.heldNone.Visible() {
		t.Fatalf("acting screen without an offer field or with records already: %+v", x)
	}
	x.offer.SetText(off.URI)
	test.Tap(x.receive)
	h.a.wait()
	if x.err.Visible() {
		t.Fatalf("receiving for Ana: %q", x.err.Text)
	}
	if len(x.heldRows) != 1 || !strings.Contains(x.heldRows[0].Text, "from St Mary's Hospital") || x.heldNone.Visible() {
		t.Fatalf("records held for Ana: %d rows %v", len(x.heldRows), x.heldRows)
	}
	held, err := w.HeldFor("Ana")
	if err != nil || len(held) != 1 || held[0].Subject != world.Patient.DID {
		t.Fatalf("held for Ana: %+v, %v", held, err)
	}
	if own, _ := w.Credentials(wallet.Filter{}); len(own) != 0 {
		t.Errorf("the parent's own records hold Ana's: %d", len(own))
	}
	// The same offer again: used, refused, said on the screen.
	x.offer.SetText(off.URI)
	test.Tap(x.receive)
	h.a.wait()
	if !x.err.Visible() || len(x.heldRows) != 1 {
		t.Errorf("a used offer: error %q, %d rows", x.err.Text, len(x.heldRows))
	}
	x.offer.SetText("")

	// A pharmacy's verifier (a real credentials/openid4vp service that
	// checks delegations) asks for an immunization record; the parent
	// shows Ana's, checking first what leaves.
	vv, err := verify.New(verify.Config{Resolver: did.KeyResolver{}, Now: h.clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	vsrv := httptest.NewServer(nil)
	t.Cleanup(vsrv.Close)
	v, err := openid4vp.New(openid4vp.Config{URL: vsrv.URL, Verify: vv, Now: h.clk.Now, Name: "Corner Pharmacy", Delegations: world.Checker()})
	if err != nil {
		t.Fatal(err)
	}
	vsrv.Config.Handler = v
	st, err := v.CreateRequest(openid4vp.DCQLQuery{Credentials: []openid4vp.CredentialQuery{openid4vp.NewQuery("imm", "ImmunizationCredential", "vaccineCode")}})
	if err != nil {
		t.Fatal(err)
	}
	x.request.SetText(st.URI)
	test.Tap(x.showBtn)
	h.a.wait()
	if x.err.Visible() || x.reviewText == nil || !strings.Contains(x.reviewText.Text, "asks for Ana Silva's records. You would show, as parent:") ||
		!strings.Contains(x.reviewText.Text, "from St Mary's Hospital") {
		t.Fatalf("before sending: error %q, review %v", x.err.Text, x.reviewText)
	}
	test.Tap(x.send)
	h.a.wait()
	if x.err.Visible() || !x.answer.Visible() || !strings.Contains(x.answer.Text, "Sent.") {
		t.Fatalf("after sending: error %q, answer %q", x.err.Text, x.answer.Text)
	}
	res, _ := v.Result(st.State)
	if res.Status != openid4vp.StatusValid || res.PresentedBy != "presented by Maria Silva acting for Ana Silva as parent" {
		t.Fatalf("the pharmacy's result: %s %q (%s)", res.Status, res.PresentedBy, res.Description)
	}
	assertPatientWords(t, "acting", h.win.Canvas())
}
