package openid_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/openid4vp"
	"github.com/medid/medid/credentials/sdjwt"
	"github.com/medid/medid/wallet/openid"
	"github.com/medid/medid/wallet/wallettest"
	"github.com/medid/medid/wallet/wallettest/testwallet"
)

// setsRequest is a DCQL query for the substance of an allergy (SD-JWT VC,
// with the lot number preferred as an alternative claim set), one of two
// identity records (patient identity preferred, else an insurance card),
// and optionally an immunization record.
func setsRequest() openid4vp.DCQLQuery {
	no := false
	return openid4vp.DCQLQuery{
		Credentials: []openid4vp.CredentialQuery{
			{ID: "allergy", Format: openid4vp.FormatSDJWT, Meta: openid4vp.Meta{VCTValues: []string{sdjwt.VCT("AllergyIntoleranceCredential")}},
				Claims: []openid4vp.ClaimsQuery{
					{ID: "lot", Path: []any{"lotNumber"}},
					{ID: "substance", Path: []any{"code", "display"}},
					{ID: "reaction", Path: []any{"reaction", nil, "manifestation"}},
				},
				ClaimSets: [][]string{{"lot"}, {"substance"}, {"substance", "reaction"}}},
			openid4vp.NewQuery("pid", "PatientIdentityCredential", "name"),
			openid4vp.NewQuery("card", "InsuranceCardCredential"),
			openid4vp.NewQuery("vaccine", "ImmunizationCredential", "vaccine"),
		},
		CredentialSets: []openid4vp.CredentialSetQuery{
			{Options: [][]string{{"allergy"}}},
			{Options: [][]string{{"pid"}, {"card"}}},
			{Options: [][]string{{"vaccine"}}, Required: &no},
		},
	}
}

// TestCredentialSetsWays: a request with credential_sets and claim_sets is
// shown as the ways the wallet can answer it (credential-set options ×
// claim sets, in the verifier's order, without what the wallet lacks);
// Plan says exactly which fields of each record would leave and which are
// kept back; the patient answers with the second way and leaves the
// optional record out, and the verifier accepts exactly that; leaving out
// a required part, a way that does not exist, or every part is refused.
func TestCredentialSetsWays(t *testing.T) {
	ctx := context.Background()
	clk := testwallet.Clock()
	w := newWallet(t, clk)
	is := wallettest.NewIssuer(t, "Hospital")
	me, _ := w.PrimaryDID()
	holderKey, err := did.ParseKeyDID(me.DID)
	if err != nil {
		t.Fatal(err)
	}
	exp := clk.Now().Add(365 * 24 * time.Hour)
	allergy, err := sdjwt.IssueVC(&sdjwt.Credential{Issuer: is.DID, VCT: sdjwt.VCT("AllergyIntoleranceCredential"), Subject: me.DID,
		IssuedAt: clk.Now().Add(-time.Hour), Expires: &exp, Holder: holderKey, Claims: map[string]any{
			"criticality": "high", "code": map[string]any{"display": "Penicillin"},
			"reaction": []any{map[string]any{"manifestation": "anaphylaxis"}}}}, is.Key, is.Kid, sdjwt.IssueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{
		allergy,
		is.Issue(t, me.DID, []string{"PatientIdentityCredential"}, map[string]any{"name": "Ana Diaz"}),
		is.Issue(t, me.DID, []string{"InsuranceCardCredential"}, map[string]any{"number": "42"}),
		is.Issue(t, me.DID, []string{"ImmunizationCredential"}, map[string]any{"vaccine": "MMR"}),
	} {
		if _, err := w.Receive(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	v := startVerifier(t, clk)
	st, err := v.CreateRequest(setsRequest())
	if err != nil {
		t.Fatal(err)
	}
	pr, err := openid.FetchPresentationRequest(ctx, w, st.URI, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(pr.Sets) != 3 || !pr.Sets[0].Required || pr.Sets[2].Required || !pr.Sets[2].Held {
		t.Fatalf("sets %+v", pr.Sets)
	}
	// 2 claim sets the allergy answers (not the lot) × 2 identity records.
	type shape struct {
		queries  string
		claims   string
		optional []int
	}
	var got []shape
	for _, way := range pr.Ways {
		var qs, cs []string
		for _, p := range way.Parts {
			qs = append(qs, p.Query)
			cs = append(cs, strings.Join(p.Claims, "+"))
		}
		got = append(got, shape{strings.Join(qs, ","), strings.Join(cs, ","), way.Optional})
	}
	want := []shape{
		{"allergy,pid,vaccine", "code.display,credentialSubject.name,credentialSubject.vaccine", []int{2}},
		{"allergy,pid,vaccine", "code.display+reaction.*.manifestation,credentialSubject.name,credentialSubject.vaccine", []int{2}},
		{"allergy,card,vaccine", "code.display,,credentialSubject.vaccine", []int{2}},
		{"allergy,card,vaccine", "code.display+reaction.*.manifestation,,credentialSubject.vaccine", []int{2}},
	}
	if len(got) != len(want) {
		t.Fatalf("ways = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i].queries != want[i].queries || got[i].claims != want[i].claims || !slices.Equal(got[i].optional, want[i].optional) {
			t.Errorf("way %d = %+v, want %+v", i+1, got[i], want[i])
		}
	}
	if !slices.Equal(pr.Queries[0].Claims, []string{"code.display"}) {
		t.Errorf("the allergy query is shown as asking %v, want the first way's code.display", pr.Queries[0].Claims)
	}

	// What way 4 without the optional vaccine would send.
	ans := openid.Answer{Way: 3, LeaveOut: []int{2}}
	plan, err := pr.Plan(w, ans)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan) != 2 || plan[0].Part.Query != "allergy" || plan[1].Part.Query != "card" {
		t.Fatalf("plan %+v", plan)
	}
	sd := plan[0]
	if sd.Whole || sd.Credential.Token != "" {
		t.Errorf("an SD-JWT VC plan is Whole or carries the token: %+v", sd)
	}
	var fields []string
	for _, f := range sd.Disclosed {
		fields = append(fields, f.Path+"="+f.Value.(string))
	}
	if !slices.Equal(fields, []string{"code.display=Penicillin", "reaction.0.manifestation=anaphylaxis"}) {
		t.Errorf("disclosed %v", fields)
	}
	if !slices.Contains(sd.Withheld, "criticality") || slices.Contains(sd.Withheld, "code.display") {
		t.Errorf("withheld %v, want criticality and not code.display", sd.Withheld)
	}
	if !plan[1].Whole {
		t.Errorf("a vc+jwt plan is not Whole: %+v", plan[1])
	}

	for name, bad := range map[string]openid.Answer{
		"required set left out": {LeaveOut: []int{1}},
		"no such way":           {Way: 4},
		"not a candidate":       {Credentials: map[string]string{"pid": "urn:nope"}},
	} {
		if _, err := pr.Plan(w, bad); err == nil {
			t.Errorf("%s: Plan accepted %+v", name, bad)
		}
	}

	if err := openid.Respond(ctx, w, pr, ans, nil); err != nil {
		t.Fatal(err)
	}
	res, _ := v.Result(st.State)
	if res.Status != openid4vp.StatusValid || len(res.Presentations) != 2 || res.Presentations["card"] == nil || res.Presentations["vaccine"] != nil {
		t.Fatalf("verifier result %+v", res)
	}
	b, _ := json.Marshal(res.Presentations["allergy"].Credentials[0].SDJWT.Credential.Claims)
	if string(b) != `{"code":{"display":"Penicillin"},"reaction":[{"manifestation":"anaphylaxis"}]}` {
		t.Errorf("the verifier holds %s", b)
	}
}

// TestCredentialSetsCannotAnswer: without any identity record the required
// set cannot be answered: no ways, and answering is ErrNoMatch; an
// optional set the wallet cannot answer is just not offered.
func TestCredentialSetsCannotAnswer(t *testing.T) {
	ctx := context.Background()
	clk := testwallet.Clock()
	w := newWallet(t, clk)
	is := wallettest.NewIssuer(t, "Hospital")
	me, _ := w.PrimaryDID()
	if _, err := w.Receive(ctx, is.Issue(t, me.DID, []string{"InsuranceCardCredential"}, map[string]any{"number": "42"})); err != nil {
		t.Fatal(err)
	}
	v := startVerifier(t, clk)
	ask := func(q openid4vp.DCQLQuery) (*openid4vp.Started, *openid.PresentationRequest) {
		t.Helper()
		st, err := v.CreateRequest(q)
		if err != nil {
			t.Fatal(err)
		}
		pr, err := openid.FetchPresentationRequest(ctx, w, st.URI, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		return st, pr
	}
	no := false
	q := openid4vp.DCQLQuery{
		Credentials: []openid4vp.CredentialQuery{openid4vp.NewQuery("pid", "PatientIdentityCredential"), openid4vp.NewQuery("card", "InsuranceCardCredential"),
			openid4vp.NewQuery("vaccine", "ImmunizationCredential")},
		CredentialSets: []openid4vp.CredentialSetQuery{{Options: [][]string{{"pid"}, {"card"}}}, {Options: [][]string{{"vaccine"}}, Required: &no}},
	}
	st, pr := ask(q)
	if len(pr.Ways) != 1 || len(pr.Ways[0].Parts) != 1 || pr.Ways[0].Parts[0].Query != "card" || len(pr.Ways[0].Optional) != 0 || pr.Sets[1].Held {
		t.Fatalf("ways %+v, sets %+v: want the card only, the vaccine not held", pr.Ways, pr.Sets)
	}
	if err := openid.RespondPresentation(ctx, w, pr, nil, nil); err != nil {
		t.Fatal(err)
	}
	if res, _ := v.Result(st.State); res.Status != openid4vp.StatusValid || len(res.Presentations) != 1 {
		t.Fatalf("verifier result %+v", res)
	}

	// Only optional sets: leaving all out sends nothing, which is refused.
	q.CredentialSets[0].Required = &no
	_, pr = ask(q)
	if _, err := pr.Plan(w, openid.Answer{LeaveOut: []int{0}}); !errors.Is(err, openid.ErrNothingToSend) {
		t.Errorf("everything left out: Plan = %v, want ErrNothingToSend", err)
	}
	if plan, err := pr.Plan(w, openid.Answer{}); err != nil || len(plan) != 1 {
		t.Errorf("optional card sent: Plan = %v, %v", plan, err)
	}

	q.CredentialSets[0].Required = nil
	q.CredentialSets[0].Options = [][]string{{"pid"}}
	_, pr = ask(q)
	if len(pr.Ways) != 0 || pr.Sets[0].Held {
		t.Fatalf("ways %+v, want none", pr.Ways)
	}
	if err := openid.Respond(ctx, w, pr, openid.Answer{}, nil); !errors.Is(err, openid.ErrNoMatch) {
		t.Errorf("Respond = %v, want ErrNoMatch", err)
	}
}

// TestMultipleAndTrustedAuthorities: a query with multiple offers every
// matching record and sends one unless the patient chooses several
// (Answer.Several), which the verifier then receives; a query naming
// trusted authorities offers only records from those issuers, and says
// why a record from another issuer is not offered.
func TestMultipleAndTrustedAuthorities(t *testing.T) {
	ctx := context.Background()
	clk := testwallet.Clock()
	w := newWallet(t, clk)
	hosp, clinic := wallettest.NewIssuer(t, "Hospital"), wallettest.NewIssuer(t, "Clinic")
	me, _ := w.PrimaryDID()
	var ids []string
	for _, tok := range []string{
		hosp.Issue(t, me.DID, []string{"AllergyIntoleranceCredential"}, map[string]any{"allergy": "penicillin"}),
		hosp.Issue(t, me.DID, []string{"AllergyIntoleranceCredential"}, map[string]any{"allergy": "peanut"}),
		clinic.Issue(t, me.DID, []string{"AllergyIntoleranceCredential"}, map[string]any{"allergy": "latex"}),
	} {
		c, err := w.Receive(ctx, tok)
		if err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Minute) // newest first: latex, peanut, penicillin
		ids = append(ids, c.ID)
	}
	v := startVerifier(t, clk)
	q := openid4vp.NewQuery("allergies", "AllergyIntoleranceCredential", "allergy")
	q.Multiple = true
	q.TrustedAuthorities = []openid4vp.TrustedAuthority{{Type: openid4vp.AuthorityMedidIssuer, Values: []string{hosp.DID}}}
	ask := func() (*openid4vp.Started, *openid.PresentationRequest) {
		st, err := v.CreateRequest(openid4vp.DCQLQuery{Credentials: []openid4vp.CredentialQuery{q}})
		if err != nil {
			t.Fatal(err)
		}
		pr, err := openid.FetchPresentationRequest(ctx, w, st.URI, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		return st, pr
	}
	st, pr := ask()
	m := pr.Queries[0]
	if !m.Multiple || len(m.Candidates) != 2 || m.Untrusted != 1 || !strings.Contains(m.Authorities, hosp.DID) {
		t.Fatalf("query shown as %+v: want 2 candidates from the hospital, 1 untrusted", m)
	}
	if !pr.Ways[0].Parts[0].Multiple {
		t.Errorf("part %+v does not say it takes several", pr.Ways[0].Parts[0])
	}
	if plan, err := pr.Plan(w, openid.Answer{}); err != nil || len(plan) != 1 {
		t.Fatalf("default plan = %v, %v; want one record (more only by choice)", plan, err)
	}
	for name, bad := range map[string]openid.Answer{
		"untrusted issuer": {Several: map[string][]string{"allergies": {ids[0], ids[2]}}},
		"twice":            {Several: map[string][]string{"allergies": {ids[0], ids[0]}}},
	} {
		if _, err := pr.Plan(w, bad); err == nil {
			t.Errorf("%s: Plan accepted %+v", name, bad)
		}
	}
	both := openid.Answer{Several: map[string][]string{"allergies": {ids[0], ids[1]}}}
	if err := openid.Respond(ctx, w, pr, both, nil); err != nil {
		t.Fatal(err)
	}
	res, _ := v.Result(st.State)
	if res.Status != openid4vp.StatusValid || len(res.Credentials["allergies"]) != 2 {
		t.Fatalf("verifier result %s %q, %d credentials", res.Status, res.Description, len(res.Credentials["allergies"]))
	}

	// Several for a query that takes one is refused before anything leaves.
	q.Multiple = false
	_, pr = ask()
	if _, err := pr.Plan(w, both); err == nil || !strings.Contains(err.Error(), "takes one credential") {
		t.Errorf("Plan(several for one) = %v", err)
	}

	// Only the clinic's issuer is trusted... by a DID the wallet holds
	// nothing from: no candidate, and the reason names the issuers.
	q.TrustedAuthorities[0].Values = []string{"did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"}
	_, pr = ask()
	_, err := pr.Plan(w, openid.Answer{})
	if !errors.Is(err, openid.ErrNoMatch) || !strings.Contains(err.Error(), "3 held would, but the verifier accepts only credentials issued by one of the given DIDs") {
		t.Errorf("Plan = %v, want ErrNoMatch naming the accepted issuers", err)
	}
}
