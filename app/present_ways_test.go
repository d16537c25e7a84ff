package app

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/openid4vp"
	"github.com/medid/medid/credentials/sdjwt"
	"github.com/medid/medid/credentials/verify"
	"github.com/medid/medid/wallet"
	"github.com/medid/medid/wallet/wallettest"
)

// TestAnswerWithChoices answers a request from a real credentials/openid4vp
// verifier that accepts two answers (the substance of an allergy, or the
// substance and the reactions) and would also like an immunization record
// (optional). The screen lists both ways in plain words, says for each
// record which details leave the wallet and which stay, lets the patient
// pick the second way and untick the immunization; the review says exactly
// that, and the verifier receives exactly that: the substance and the
// reaction, no severity, no immunization. Nothing on the way shows a
// developer term, and it fits an 800x600 window.
func TestAnswerWithChoices(t *testing.T) {
	h := unlocked(t)
	h.win.Resize(smallWindow)
	hosp := newIssuer(t, "St Mary's Hospital")
	me := h.primary()
	h.receiveSDJWT(hosp, "AllergyIntoleranceCredential", map[string]any{
		"criticality": "high", "code": map[string]any{"system": "http://snomed.info/sct", "code": "764146007", "display": "Penicillin"},
		"reaction": []any{map[string]any{"manifestation": "anaphylaxis"}}})
	h.receive(hosp.Issue(t, me, []string{"ImmunizationCredential"}, immunizationClaims()))
	// The SD-JWT VC's detail shows its fields (all of them: the patient
	// holds every Disclosure).
	h.a.main.selectScreen("detail")
	h.a.wait()
	if d := h.a.main.creds.detail; d == nil || len(d.claims) == 0 || !strings.Contains(fmt.Sprint(d.claims), "Penicillin") {
		t.Fatalf("the SD-JWT VC's detail: %+v", d)
	}

	// Sharing by hand would send all of it: the SD-JWT VC is listed there,
	// but cannot be ticked.
	h.a.main.selectScreen("share")
	h.a.main.share.reload()
	h.a.wait()
	sdListed := false
	for _, ch := range h.a.main.share.choices {
		if ch.cred.Format == wallet.FormatSDJWT {
			sdListed = true
			if !ch.check.Disabled() || !strings.Contains(ch.what.Text, sdjwtByHand) {
				t.Errorf("by hand, the SD-JWT VC is %q, %q (disabled %v)", ch.check.Text, ch.what.Text, ch.check.Disabled())
			}
		}
	}
	if !sdListed {
		t.Error("the SD-JWT VC is not listed for sharing by hand")
	}

	vv, err := verify.New(verify.Config{Resolver: did.KeyResolver{}, Now: h.clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(nil)
	t.Cleanup(srv.Close)
	v, err := openid4vp.New(openid4vp.Config{URL: srv.URL, Name: "City ER", Verify: vv, Now: h.clk.Now, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = v
	no := false
	st, err := v.CreateRequest(openid4vp.DCQLQuery{
		Credentials: []openid4vp.CredentialQuery{
			{ID: "allergy", Format: openid4vp.FormatSDJWT, Meta: openid4vp.Meta{VCTValues: []string{sdjwt.VCT("AllergyIntoleranceCredential")}},
				Claims:    []openid4vp.ClaimsQuery{{ID: "substance", Path: []any{"code", "display"}}, {ID: "reactions", Path: []any{"reaction", nil, "manifestation"}}},
				ClaimSets: [][]string{{"substance"}, {"substance", "reactions"}}},
			openid4vp.NewQuery("vaccine", "ImmunizationCredential", "vaccineCode"),
		},
		CredentialSets: []openid4vp.CredentialSetQuery{{Options: [][]string{{"allergy"}}}, {Options: [][]string{{"vaccine"}}, Required: &no}},
	})
	if err != nil {
		t.Fatal(err)
	}

	u := h.a.main.share.vp
	h.a.main.selectScreen("share")
	test.Type(u.link, st.URI)
	test.Tap(u.open)
	h.a.wait()
	if u.err.Visible() || !u.panel.Visible() || u.ways == nil {
		t.Fatalf("request not shown with a choice: %q", u.err.Text)
	}
	wantWays := []string{
		"1. Allergy intolerance: what it is + if you wish: Immunization: vaccine",
		"2. Allergy intolerance: what it is, reaction + if you wish: Immunization: vaccine",
	}
	if strings.Join(u.ways.Options, "\n") != strings.Join(wantWays, "\n") || u.ways.Selected != wantWays[0] {
		t.Fatalf("ways = %q (selected %q), want %q", u.ways.Options, u.ways.Selected, wantWays)
	}
	if len(u.asks) != 2 || u.asks[0].what.Text != "They ask for: Allergy intolerance: what it is" ||
		u.asks[1].what.Text != "They would also like: Immunization: vaccine" {
		t.Fatalf("asks = %q, %q", u.asks[0].what.Text, u.asks[len(u.asks)-1].what.Text)
	}
	// The first way: the substance leaves, the severity, the reaction and
	// the code stay; the immunization record leaves whole.
	for _, want := range []string{"Leaves your wallet: what it is (Penicillin).", "Stays in your wallet:", "severity", "reaction", "other details of what it is"} {
		if !strings.Contains(u.asks[0].fields.Text, want) {
			t.Errorf("way 1, allergy: %q, want %q", u.asks[0].fields.Text, want)
		}
	}
	if strings.Contains(u.asks[0].fields.Text, "anaphylaxis") || !strings.Contains(u.asks[1].fields.Text, "only be sent whole") {
		t.Errorf("way 1: %q / %q", u.asks[0].fields.Text, u.asks[1].fields.Text)
	}
	assertPatientWords(t, "a request with choices", h.win.Canvas())
	fits(t, h, "a request with choices")

	// The second way, without the immunization.
	u.ways.SetSelected(wantWays[1])
	h.a.wait()
	if u.way != 1 || !strings.Contains(u.asks[0].fields.Text, "Leaves your wallet: what it is (Penicillin), reaction (anaphylaxis).") ||
		strings.Contains(u.asks[0].fields.Text, "Stays in your wallet: reaction") {
		t.Fatalf("way 2, allergy: %q", u.asks[0].fields.Text)
	}
	opt := u.optional[1]
	if opt == nil || !opt.Checked || !strings.Contains(opt.Text, "Immunization") {
		t.Fatalf("optional part: %+v", opt)
	}
	opt.SetChecked(false)
	h.a.wait()
	if u.asks[1].fields.Text != "    Not sent." || u.review.Disabled() {
		t.Fatalf("after unticking: %q, review disabled %v", u.asks[1].fields.Text, u.review.Disabled())
	}
	test.Tap(u.review)
	for _, want := range []string{"They will see 1 record", "What it is: Penicillin", "Reaction: anaphylaxis", "Stays in your wallet, not sent: other details of what it is, severity, who it is about\n", "You chose not to send: Immunization."} {
		if !strings.Contains(u.summary.Text, want) {
			t.Errorf("review = %q, want %q", u.summary.Text, want)
		}
	}
	if strings.Contains(u.summary.Text, "high") {
		t.Errorf("review shows the severity's value: %q", u.summary.Text)
	}
	assertPatientWords(t, "the review of a choice", h.win.Canvas())
	fits(t, h, "the review of a choice")
	test.Tap(u.send)
	h.a.wait()
	if u.err.Visible() || !strings.Contains(u.answer.Text, "accepted") {
		t.Fatalf("answer = %q, error %q", u.answer.Text, u.err.Text)
	}
	res, _ := v.Result(st.State)
	if res.Status != openid4vp.StatusValid || len(res.Presentations) != 1 || res.Presentations["vaccine"] != nil {
		t.Fatalf("verifier result %+v", res)
	}
	b, _ := json.Marshal(res.Presentations["allergy"].Credentials[0].SDJWT.Credential.Claims)
	if string(b) != `{"code":{"display":"Penicillin"},"reaction":[{"manifestation":"anaphylaxis"}]}` {
		t.Errorf("the verifier holds %s", b)
	}

	// A request link as the start screen (how the screenshot is taken)
	// opens it on the Share screen, the choice shown.
	st2, err := v.CreateRequest(openid4vp.DCQLQuery{Credentials: []openid4vp.CredentialQuery{{ID: "allergy", Format: openid4vp.FormatSDJWT,
		Meta:   openid4vp.Meta{VCTValues: []string{sdjwt.VCT("AllergyIntoleranceCredential")}},
		Claims: []openid4vp.ClaimsQuery{{ID: "a", Path: []any{"code", "display"}}, {ID: "b", Path: []any{"criticality"}}}, ClaimSets: [][]string{{"a"}, {"a", "b"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	h.a.main.selectScreen(st2.URI)
	h.a.wait()
	if !u.panel.Visible() || u.ways == nil || len(u.ways.Options) != 2 || !strings.Contains(u.ways.Options[1], "what it is, severity") {
		t.Fatalf("opened from the start screen: panel %v, ways %v, error %q", u.panel.Visible(), u.ways, u.err.Text)
	}
}

// TestAnswerSeveralRecords answers a request that accepts several allergy
// records (DCQL multiple) but only from St Mary's (trusted_authorities):
// the clinic's record is not offered, the newest of St Mary's two is
// ticked and the other is not (more leaves only when the patient ticks
// it); unticking both says what to do instead of sending anything; with
// both ticked the review names both and the verifier receives both. A
// request that trusts only an issuer the patient has nothing from says so
// in words.
func TestAnswerSeveralRecords(t *testing.T) {
	h := unlocked(t)
	h.win.Resize(smallWindow)
	hosp, clinic := newIssuer(t, "St Mary's Hospital"), newIssuer(t, "Riverside Clinic")
	me := h.primary()
	h.receive(hosp.Issue(t, me, []string{"AllergyIntoleranceCredential"}, map[string]any{"code": map[string]any{"display": "Penicillin"}}))
	h.clk.Advance(time.Minute)
	h.receive(hosp.Issue(t, me, []string{"AllergyIntoleranceCredential"}, map[string]any{"code": map[string]any{"display": "Peanut"}}))
	h.clk.Advance(time.Minute)
	h.receive(clinic.Issue(t, me, []string{"AllergyIntoleranceCredential"}, map[string]any{"code": map[string]any{"display": "Latex"}}))

	vv, err := verify.New(verify.Config{Resolver: did.KeyResolver{}, Now: h.clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(nil)
	t.Cleanup(srv.Close)
	v, err := openid4vp.New(openid4vp.Config{URL: srv.URL, Name: "City ER", Verify: vv, Now: h.clk.Now, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = v
	q := openid4vp.NewQuery("allergies", "AllergyIntoleranceCredential", "code")
	q.Multiple = true
	q.TrustedAuthorities = []openid4vp.TrustedAuthority{{Type: openid4vp.AuthorityMedidIssuer, Values: []string{hosp.DID}}}
	st, err := v.CreateRequest(openid4vp.DCQLQuery{Credentials: []openid4vp.CredentialQuery{q}})
	if err != nil {
		t.Fatal(err)
	}
	u := h.a.main.share.vp
	h.a.main.selectScreen("share")
	test.Type(u.link, st.URI)
	test.Tap(u.open)
	h.a.wait()
	if u.err.Visible() || !u.panel.Visible() || len(u.asks) != 1 {
		t.Fatalf("request not shown: %q", u.err.Text)
	}
	a := u.asks[0]
	if len(a.several) != 2 || a.pick != nil {
		t.Fatalf("%d boxes, select %v: want a box for each of St Mary's two records", len(a.several), a.pick)
	}
	if !a.several[0].Checked || a.several[1].Checked || !strings.Contains(a.several[0].Text, "St Mary") || !strings.Contains(a.several[1].Text, "St Mary") {
		t.Fatalf("boxes %q (%v), %q (%v): want the newest ticked, the other not", a.several[0].Text, a.several[0].Checked, a.several[1].Text, a.several[1].Checked)
	}
	if strings.Count(a.fields.Text, "only be sent whole") != 1 {
		t.Errorf("fields with one ticked: %q", a.fields.Text)
	}
	assertPatientWords(t, "a request for several records", h.win.Canvas())
	fits(t, h, "a request for several records")

	a.several[0].SetChecked(false)
	h.a.wait()
	if !u.review.Disabled() || !u.err.Visible() || !strings.Contains(u.err.Text, "none is ticked") {
		t.Fatalf("none ticked: review disabled %v, error %q", u.review.Disabled(), u.err.Text)
	}
	a.several[0].SetChecked(true)
	a.several[1].SetChecked(true)
	h.a.wait()
	if u.review.Disabled() || !strings.HasPrefix(a.fields.Text, "    2 records.") {
		t.Fatalf("both ticked: review disabled %v, fields %q, error %q", u.review.Disabled(), a.fields.Text, u.err.Text)
	}
	test.Tap(u.review)
	for _, want := range []string{"They will see 2 records", "Penicillin", "Peanut"} {
		if !strings.Contains(u.summary.Text, want) {
			t.Errorf("review = %q, want %q", u.summary.Text, want)
		}
	}
	if strings.Contains(u.summary.Text, "Latex") {
		t.Errorf("review shows the clinic's record: %q", u.summary.Text)
	}
	test.Tap(u.send)
	h.a.wait()
	if u.err.Visible() || !strings.Contains(u.answer.Text, "accepted") {
		t.Fatalf("answer = %q, error %q", u.answer.Text, u.err.Text)
	}
	if res, _ := v.Result(st.State); res.Status != openid4vp.StatusValid || len(res.Credentials["allergies"]) != 2 {
		t.Fatalf("verifier result %s %q", res.Status, res.Description)
	}

	// Only an issuer the patient has nothing from.
	q.TrustedAuthorities[0].Values = []string{"did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"}
	st, err = v.CreateRequest(openid4vp.DCQLQuery{Credentials: []openid4vp.CredentialQuery{q}})
	if err != nil {
		t.Fatal(err)
	}
	test.Type(u.link, st.URI)
	test.Tap(u.open)
	h.a.wait()
	if u.cannot == nil || !strings.Contains(u.cannot.Text, "You have 3 records of the kind Allergy intolerance, but they accept it only from other issuers.") {
		t.Fatalf("cannot answer: %v", u.cannot)
	}
}

// receiveSDJWT issues the harness's primary identity an SD-JWT VC of type
// typ with claims from issuer iss (bound to that identity's key, valid a
// year) and receives it into the wallet.
func (h *harness) receiveSDJWT(iss wallettest.Issuer, typ string, claims map[string]any) {
	h.t.Helper()
	me := h.primary()
	meKey, err := did.ParseKeyDID(me)
	if err != nil {
		h.t.Fatal(err)
	}
	exp := h.clk.Now().Add(365 * 24 * time.Hour)
	tok, err := sdjwt.IssueVC(&sdjwt.Credential{Issuer: iss.DID, VCT: sdjwt.VCT(typ), Subject: me,
		IssuedAt: h.clk.Now().Add(-time.Minute), Expires: &exp, Holder: meKey, Claims: claims}, iss.Key, iss.Kid, sdjwt.IssueOptions{})
	if err != nil {
		h.t.Fatal(err)
	}
	if _, err := h.a.wallet().Receive(h.a.ctx, tok); err != nil {
		h.t.Fatalf("receive the SD-JWT VC: %v", err)
	}
}
