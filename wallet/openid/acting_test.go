package openid_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/medid/medid/credentials/delegation"
	"github.com/medid/medid/credentials/delegation/delegationtest"
	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/openid4vci"
	"github.com/medid/medid/credentials/openid4vp"
	"github.com/medid/medid/credentials/verify"
	"github.com/medid/medid/wallet"
	"github.com/medid/medid/wallet/delegate"
	"github.com/medid/medid/wallet/openid"
	"github.com/medid/medid/wallet/wallettest"
)

// The wallet can act for someone.
var _ openid.Representative = (*wallet.Wallet)(nil)

// TestActingFor: a parent's wallet receives her daughter's credential
// through OpenID4VCI under a guardianship with receive (issued to the
// daughter, kept apart from the parent's own), answers an OpenID4VP request
// with it under present, and the verifier says who presented for whom. A
// view-only delegation neither receives nor presents, and after the
// daughter comes of age nothing is sent.
func TestActingFor(t *testing.T) {
	ctx := context.Background()
	world := delegationtest.New(t)
	clk := world.Clock
	w := newWallet(t, clk)
	me, err := w.PrimaryDID()
	if err != nil {
		t.Fatal(err)
	}
	add := func(actions ...delegation.Action) wallet.Delegation {
		t.Helper()
		g := world.Guardianship(actions...)
		g.Representative = me.DID
		d, err := delegate.Add(ctx, w, world.Checker(), world.Sign(g, world.Registry))
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	full := add(delegation.ActionView, delegation.ActionReceive, delegation.ActionPresent)
	viewOnly := add(delegation.ActionView)

	hosp := wallettest.NewIssuer(t, "Hospital")
	isrv := httptest.NewServer(nil)
	t.Cleanup(isrv.Close)
	oi, err := openid4vci.New(openid4vci.Config{URL: isrv.URL, Key: hosp.Key, DID: hosp.DID, Kid: hosp.Kid,
		Configurations: map[string]openid4vci.Configuration{"ImmunizationCredential": openid4vci.NewConfiguration("ImmunizationCredential")},
		Resolver:       did.KeyResolver{}, Now: clk.Now, Logger: quiet(), Delegations: world.Checker()})
	if err != nil {
		t.Fatal(err)
	}
	isrv.Config.Handler = oi
	vv, err := verify.New(verify.Config{Resolver: did.KeyResolver{}, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	vsrv := httptest.NewServer(nil)
	t.Cleanup(vsrv.Close)
	v, err := openid4vp.New(openid4vp.Config{URL: vsrv.URL, Verify: vv, Now: clk.Now, Logger: quiet(), Delegations: world.Checker()})
	if err != nil {
		t.Fatal(err)
	}
	vsrv.Config.Handler = v
	offer := func() string {
		off, err := oi.CreateOffer(openid4vci.OfferRequest{ConfigurationID: "ImmunizationCredential", Claims: map[string]any{"vaccine": "MMR"}, Subject: world.Patient.DID})
		if err != nil {
			t.Fatal(err)
		}
		return off.URI
	}
	request := func() (*openid4vp.Started, string) {
		st, err := v.CreateRequest(openid4vp.DCQLQuery{Credentials: []openid4vp.CredentialQuery{openid4vp.NewQuery("imm", "ImmunizationCredential", "vaccine")}})
		if err != nil {
			t.Fatal(err)
		}
		return st, st.URI
	}

	// Receive: issued to Ana, held for her under the guardianship.
	got, err := openid.AcceptOfferFor(ctx, w, "Ana", offer(), openid.AcceptOfferOptions{})
	if err != nil || len(got) != 1 || got[0].Subject != world.Patient.DID {
		t.Fatalf("AcceptOfferFor = %+v, %v: want one credential about Ana", got, err)
	}
	if held, _ := w.HeldFor(full.Hash); len(held) != 1 || held[0].ID != got[0].ID {
		t.Fatalf("held for Ana: %+v", held)
	}
	if own, _ := w.Credentials(wallet.Filter{}); len(own) != 0 {
		t.Fatalf("the wallet's own credentials hold Ana's: %+v", own)
	}
	// The wallet's own answer does not offer Ana's credential.
	_, uri := request()
	pr, err := openid.FetchPresentationRequest(ctx, w, uri, nil, nil)
	if err != nil || len(pr.Queries[0].Candidates) != 0 {
		t.Fatalf("own request: %+v, %v: want no candidate", pr, err)
	}

	// Present for Ana.
	st, uri := request()
	pr, err = openid.FetchPresentationRequestFor(ctx, w, full.Hash, uri, nil, nil)
	if err != nil || pr.For == nil || len(pr.Queries[0].Candidates) != 1 {
		t.Fatalf("FetchPresentationRequestFor = %+v, %v", pr, err)
	}
	if err := openid.RespondPresentation(ctx, w, pr, nil, nil); err != nil {
		t.Fatal(err)
	}
	res, _ := v.Result(st.State)
	if res.Status != openid4vp.StatusValid || res.PresentedBy != "presented by Maria Silva acting for Ana Silva as parent" || res.Holder != me.DID {
		t.Fatalf("result %+v", res)
	}

	// A view-only delegation: nothing is asked for, nothing sent.
	if _, err := openid.AcceptOfferFor(ctx, w, viewOnly.Hash, offer(), openid.AcceptOfferOptions{}); !errors.Is(err, wallet.ErrNotDelegated) {
		t.Errorf("receive under view only: %v, want ErrNotDelegated", err)
	}
	if _, err := openid.FetchPresentationRequestFor(ctx, w, viewOnly.Hash, uri, nil, nil); !errors.Is(err, wallet.ErrNotDelegated) {
		t.Errorf("present under view only: %v, want ErrNotDelegated", err)
	}
	// A credential about someone else is not kept for Ana.
	ben := hosp.Issue(t, world.Other.DID, []string{"ImmunizationCredential"}, map[string]any{"vaccine": "BCG"})
	if _, err := openid.ReceiveFor(ctx, w, full.Hash, ben); !errors.Is(err, wallet.ErrNotForThisWallet) {
		t.Errorf("Ben's credential kept for Ana: %v", err)
	}
	// Ana comes of age: the wallet stops acting for her.
	clk.Advance(366 * 24 * time.Hour)
	if err := w.Unlock([]byte("correct horse battery staple")); err != nil { // it locked itself while idle
		t.Fatal(err)
	}
	if _, err := openid.AcceptOfferFor(ctx, w, full.Hash, offer(), openid.AcceptOfferOptions{}); !errors.Is(err, wallet.ErrNotDelegated) || !strings.Contains(err.Error(), "came of age") {
		t.Errorf("receive after Ana came of age: %v", err)
	}
}
