package interop

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/medid/medid/credentials/credtest"
	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/credentials/openid4vp"
	"github.com/medid/medid/credentials/sdjwt"
	"github.com/medid/medid/credentials/verify"
	"github.com/medid/medid/wallet"
	"github.com/medid/medid/wallet/openid"
)

// TestIndependentVerifierClaimSets: @openid4vc/openid4vp builds a DCQL
// request with claim_sets (a lot number and the first reaction, or else
// the substance and the first reaction) and an array index path; medid's
// wallet, whose allergy has no lot number, answers with the second set
// only, and the independent verifier (oid4vc-ts, sd-jwt-js) receives the
// substance and the first reaction's manifestation, nothing else.
func TestIndependentVerifierClaimSets(t *testing.T) {
	query := `{"claims":[{"id":"lot","path":["lotNumber"]},{"id":"first","path":["reaction",0,"manifestation"]},{"id":"substance","path":["code","display"]}],` +
		`"claim_sets":[["lot","first"],["substance","first"]]}`
	got := answerIndependentVerifier(t, query, []string{"code.display", "reaction.0.manifestation"})
	if want := map[string]any{"display": "Penicillin"}; !reflect.DeepEqual(got.Claims["code"], want) {
		t.Errorf("code = %v, want %v", got.Claims["code"], want)
	}
	if want := []any{map[string]any{"manifestation": "anaphylaxis"}}; !reflect.DeepEqual(got.Claims["reaction"], want) {
		t.Errorf("reaction = %v, want %v (no severity)", got.Claims["reaction"], want)
	}
	for _, hidden := range []string{"criticality", "note", "sub", "clinicalStatus"} {
		if _, ok := got.Claims[hidden]; ok {
			t.Errorf("%s was not asked for, yet the independent verifier received it", hidden)
		}
	}
}

// answerIndependentVerifier gives a new medid wallet an allergy SD-JWT VC
// (allergyClaims), starts the independent verifier
// (testdata/openid4vp_verifier.mjs) with query (a claims path, or an
// object with claims and claim_sets), checks that the wallet shows the
// request as asking for shown, answers it, and returns what the
// independent verifier received.
func answerIndependentVerifier(t *testing.T, query string, shown []string) verifyAnswer {
	t.Helper()
	ctx := context.Background()
	iw := newInteropWallet(t)
	iw.issue(t, "AllergyIntoleranceCredential", allergyClaims())
	uri, result := iw.theirVerifier(t, sdjwt.VCT("AllergyIntoleranceCredential"), query)
	pr, err := openid.FetchPresentationRequest(ctx, iw.w, uri, nil, nil)
	if err != nil {
		t.Fatalf("FetchPresentationRequest(%s): %v", uri, err)
	}
	if len(pr.Queries) != 1 || !slices.Equal(pr.Queries[0].Claims, shown) || len(pr.Queries[0].Candidates) != 1 {
		t.Fatalf("the request as the wallet shows it: %+v", pr.Queries)
	}
	if err := openid.RespondPresentation(ctx, iw.w, pr, nil, nil); err != nil {
		t.Fatalf("RespondPresentation: %v", err)
	}
	return result()
}

// interopWallet is a new medid wallet, an issuer whose SD-JWT VCs it
// holds, and the issuer's public JWK in a file for the npm side.
type interopWallet struct {
	w         *wallet.Wallet
	me        string
	holderKey key.PublicKey
	iss       actor
	pubFile   string
	node, dir string
}

func newInteropWallet(t *testing.T) *interopWallet {
	t.Helper()
	node, dir := nodeEnv(t)
	iss := actor{credtest.NewParty(t, key.Ed25519, "iss")}
	vv, err := verify.New(verify.Config{Resolver: did.KeyResolver{}})
	if err != nil {
		t.Fatal(err)
	}
	w, _, err := wallet.Create(wallet.Config{Dir: filepath.Join(t.TempDir(), "wallet"), Verifier: wallet.VerifyWith(vv),
		KDF: wallet.KDFParams{Time: 1, MemoryKiB: 8 * 1024, Threads: 1}}, []byte("correct horse battery staple"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	me, err := w.PrimaryDID()
	if err != nil {
		t.Fatal(err)
	}
	holderKey, err := did.ParseKeyDID(me.DID)
	if err != nil {
		t.Fatal(err)
	}
	pubFile := filepath.Join(t.TempDir(), "issuer.pub.jwk")
	if err := os.WriteFile(pubFile, iss.publicJWK(t), 0o644); err != nil {
		t.Fatal(err)
	}
	return &interopWallet{w: w, me: me.DID, holderKey: holderKey, iss: iss, pubFile: pubFile, node: node, dir: dir}
}

// issue stores an SD-JWT VC of credType with claims in the wallet.
func (iw *interopWallet) issue(t *testing.T, credType string, claims map[string]any) {
	t.Helper()
	exp := time.Now().Add(24 * time.Hour)
	tok, err := sdjwt.IssueVC(&sdjwt.Credential{Issuer: iw.iss.DID, VCT: sdjwt.VCT(credType), Subject: iw.me, IssuedAt: time.Now().Add(-time.Minute),
		Expires: &exp, Holder: iw.holderKey, Claims: claims}, iw.iss.Key, iw.iss.Kid, sdjwt.IssueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := iw.w.Receive(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
}

// theirVerifier starts the independent verifier
// (testdata/openid4vp_verifier.mjs) with query (see the script) and
// returns its request URI and a func that waits for what it received.
func (iw *interopWallet) theirVerifier(t *testing.T, vct, query string) (string, func() verifyAnswer) {
	t.Helper()
	cmd := exec.Command(iw.node, filepath.Join(iw.dir, "openid4vp_verifier.mjs"), iw.pubFile, vct, query)
	cmd.Dir = iw.dir
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &bytes.Buffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	lines := bufio.NewScanner(stdout)
	lines.Buffer(make([]byte, 1<<16), 1<<20)
	if !lines.Scan() {
		t.Fatalf("the independent verifier printed no request: %s", stderr.String())
	}
	return lines.Text(), func() verifyAnswer {
		t.Helper()
		if !lines.Scan() {
			t.Fatalf("the independent verifier gave no result: %s", stderr.String())
		}
		var got verifyAnswer
		if err := json.Unmarshal(lines.Bytes(), &got); err != nil {
			t.Fatalf("result %q: %v", lines.Text(), err)
		}
		if err := cmd.Wait(); err != nil {
			t.Fatalf("the independent verifier failed: %v\n%s", err, stderr.String())
		}
		return got
	}
}

// TestIndependentVerifierCredentialSets: @openid4vc/openid4vp builds a
// DCQL request with credential_sets (an allergy by its SNOMED code or else
// by its substance, and optionally an immunization); medid's wallet offers
// the patient both ways, and answers once with the verifier's preferred
// way and the optional immunization, once with the second way and the
// immunization left out. Each time the independent verifier (oid4vc-ts,
// sd-jwt-js for the KB-JWTs, dcql-ts for the credential sets) accepts
// exactly the credentials and claims of the chosen way.
func TestIndependentVerifierCredentialSets(t *testing.T) {
	ctx := context.Background()
	iw := newInteropWallet(t)
	iw.issue(t, "AllergyIntoleranceCredential", allergyClaims())
	iw.issue(t, "ImmunizationCredential", map[string]any{"vaccineCode": map[string]any{"display": "MMR"}, "lotNumber": "AB12"})
	allergy, vaccine := sdjwt.VCT("AllergyIntoleranceCredential"), sdjwt.VCT("ImmunizationCredential")
	query := `{"credentials":[` +
		`{"id":"snomed","format":"dc+sd-jwt","meta":{"vct_values":["` + allergy + `"]},"claims":[{"path":["code","code"]}]},` +
		`{"id":"substance","format":"dc+sd-jwt","meta":{"vct_values":["` + allergy + `"]},"claims":[{"path":["code","display"]}]},` +
		`{"id":"vaccine","format":"dc+sd-jwt","meta":{"vct_values":["` + vaccine + `"]},"claims":[{"path":["vaccineCode","display"]}]}],` +
		`"credential_sets":[{"options":[["snomed"],["substance"]]},{"options":[["vaccine"]],"required":false}]}`
	for _, tc := range []struct {
		name    string
		answer  openid.Answer
		want    map[string]any // what each presented credential disclosed beyond the always-visible claims
		matched [][]string     // dcql-ts's matching options of the two sets
	}{
		{"preferred way with the optional part", openid.Answer{},
			map[string]any{"snomed": map[string]any{"code": map[string]any{"code": "764146007"}}, "vaccine": map[string]any{"vaccineCode": map[string]any{"display": "MMR"}}},
			[][]string{{"snomed"}, {"vaccine"}}},
		{"second way, optional left out", openid.Answer{Way: 1, LeaveOut: []int{1}},
			map[string]any{"substance": map[string]any{"code": map[string]any{"display": "Penicillin"}}},
			[][]string{{"substance"}, nil}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			uri, result := iw.theirVerifier(t, "", query)
			pr, err := openid.FetchPresentationRequest(ctx, iw.w, uri, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(pr.Ways) != 2 || len(pr.Sets) != 2 || pr.Sets[1].Required || !slices.Equal(pr.Ways[0].Optional, []int{1}) {
				t.Fatalf("ways %+v, sets %+v: want two ways (snomed, substance), each with the optional vaccine", pr.Ways, pr.Sets)
			}
			if err := openid.Respond(ctx, iw.w, pr, tc.answer, nil); err != nil {
				t.Fatalf("Respond: %v", err)
			}
			got := result()
			if len(got.Presented) != len(tc.want) {
				t.Fatalf("they received %v, want %v", got.Presented, tc.want)
			}
			for id, want := range tc.want {
				claims := got.Presented[id]
				for _, visible := range []string{"iss", "iat", "exp", "vct", "cnf", "_sd_alg"} {
					delete(claims, visible)
				}
				if !reflect.DeepEqual(map[string]any(claims), want) {
					t.Errorf("%s: they received %v, want %v", id, claims, want)
				}
			}
			if len(got.CredentialSets) != 2 {
				t.Fatalf("dcql-ts credential sets %+v", got.CredentialSets)
			}
			for i, want := range tc.matched {
				var flat []string
				for _, o := range got.CredentialSets[i].MatchingOptions {
					flat = append(flat, o...)
				}
				if !slices.Equal(flat, want) {
					t.Errorf("dcql-ts: set %d matched %v, want %v", i+1, got.CredentialSets[i].MatchingOptions, want)
				}
			}
		})
	}
}

// TestIndependentWalletReadsClaimSets: @openid4vc/openid4vp reads a medid
// verifier's request, and dcql-ts parses and validates its DCQL query: a
// dc+sd-jwt query with claim_sets and an array index path, and
// credential_sets (an allergy, and optionally an immunization). They read
// the same query.
func TestIndependentWalletReadsClaimSets(t *testing.T) {
	k, err := key.Generate(key.Ed25519)
	if err != nil {
		t.Fatal(err)
	}
	q := openid4vp.CredentialQuery{ID: "allergy", Format: openid4vp.FormatSDJWT, Meta: openid4vp.Meta{VCTValues: []string{sdjwt.VCT("AllergyIntoleranceCredential")}},
		Claims: []openid4vp.ClaimsQuery{
			{ID: "substance", Path: []any{"code", "display"}},
			{ID: "first", Path: []any{"reaction", 0.0, "manifestation"}},
			{ID: "all", Path: []any{"reaction", nil, "manifestation"}},
		},
		ClaimSets: [][]string{{"substance", "first"}, {"all"}},
	}
	vq, err := openid4vp.NewSDJWTQuery("vaccine", sdjwt.VCT("ImmunizationCredential"), "vaccineCode.display")
	if err != nil {
		t.Fatal(err)
	}
	no := false
	query := openid4vp.DCQLQuery{Credentials: []openid4vp.CredentialQuery{q, vq},
		CredentialSets: []openid4vp.CredentialSetQuery{{Options: [][]string{{"allergy"}}}, {Options: [][]string{{"vaccine"}}, Required: &no}}}
	out, _ := independentWallet(t, openid4vp.Config{}, k, query, "dcql")
	var got struct {
		DCQL openid4vp.DCQLQuery `json:"dcql"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("node output: %v\n%s", err, out)
	}
	if len(got.DCQL.Credentials) != 2 || len(got.DCQL.CredentialSets) != 2 {
		t.Fatalf("they read %s", out)
	}
	theirs := got.DCQL.Credentials[0]
	if !reflect.DeepEqual(theirs.ClaimSets, q.ClaimSets) || !reflect.DeepEqual(theirs.Claims, q.Claims) {
		t.Errorf("they read claims %v, claim_sets %v; want %v, %v", theirs.Claims, theirs.ClaimSets, q.Claims, q.ClaimSets)
	}
	for i, want := range query.CredentialSets {
		if s := got.DCQL.CredentialSets[i]; !reflect.DeepEqual(s.Options, want.Options) || s.IsRequired() != want.IsRequired() {
			t.Errorf("they read credential set %d as %+v (required %v), want %+v (required %v)", i+1, s.Options, s.IsRequired(), want.Options, want.IsRequired())
		}
	}
}

// TestIndependentVerifierMultiple: @openid4vc/openid4vp asks for allergy
// SD-JWT VCs with multiple; medid's wallet, holding two, offers both,
// sends one by default and both when the patient chooses; the independent
// verifier (sd-jwt-js for each KB-JWT, dcql-ts for the query) accepts
// both, each disclosing only the substance.
func TestIndependentVerifierMultiple(t *testing.T) {
	ctx := context.Background()
	iw := newInteropWallet(t)
	iw.issue(t, "AllergyIntoleranceCredential", allergyClaims())
	peanut := allergyClaims()
	peanut["code"] = map[string]any{"display": "Peanut"}
	iw.issue(t, "AllergyIntoleranceCredential", peanut)
	allergy := sdjwt.VCT("AllergyIntoleranceCredential")
	query := `{"credentials":[{"id":"allergies","format":"dc+sd-jwt","multiple":true,"meta":{"vct_values":["` + allergy + `"]},"claims":[{"path":["code","display"]}]}]}`
	uri, result := iw.theirVerifier(t, "", query)
	pr, err := openid.FetchPresentationRequest(ctx, iw.w, uri, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	m := pr.Queries[0]
	if !m.Multiple || len(m.Candidates) != 2 {
		t.Fatalf("the wallet shows %+v: want two candidates of a multiple query", m)
	}
	if plan, err := pr.Plan(iw.w, openid.Answer{}); err != nil || len(plan) != 1 {
		t.Fatalf("default plan %v, %v: want one credential unless chosen", plan, err)
	}
	both := openid.Answer{Several: map[string][]string{"allergies": {m.Candidates[0].ID, m.Candidates[1].ID}}}
	if err := openid.Respond(ctx, iw.w, pr, both, nil); err != nil {
		t.Fatalf("Respond: %v", err)
	}
	got := result()
	every := got.Every["allergies"]
	if len(every) != 2 {
		t.Fatalf("they received %d credentials, want 2: %v", len(every), got.Every)
	}
	var subs []string
	for _, claims := range every {
		code, _ := claims["code"].(map[string]any)
		subs = append(subs, fmt.Sprint(code["display"]))
		for _, hidden := range []string{"criticality", "reaction", "note", "clinicalStatus"} {
			if _, ok := claims[hidden]; ok {
				t.Errorf("%s was not asked for, yet they received it", hidden)
			}
		}
		if _, ok := code["code"]; ok {
			t.Errorf("code.code was not asked for, yet they received it")
		}
	}
	slices.Sort(subs)
	if !slices.Equal(subs, []string{"Peanut", "Penicillin"}) {
		t.Errorf("substances received %v", subs)
	}
}

// TestIndependentVerifierTrustedAuthorities: @openid4vc/openid4vp asks for
// an allergy SD-JWT VC from an X.509 authority (trusted_authorities aki);
// medid's credentials carry no X.509 chain, so medid's wallet offers
// nothing and says why (it does not ignore the constraint), and dcql-ts
// agrees that the credential does not satisfy the query.
func TestIndependentVerifierTrustedAuthorities(t *testing.T) {
	ctx := context.Background()
	iw := newInteropWallet(t)
	iw.issue(t, "AllergyIntoleranceCredential", allergyClaims())
	allergy := sdjwt.VCT("AllergyIntoleranceCredential")
	q := `{"credentials":[{"id":"allergy","format":"dc+sd-jwt","meta":{"vct_values":["` + allergy + `"]},"claims":[{"path":["code","display"]}],` +
		`"trusted_authorities":[{"type":"aki","values":["s9tIpPmhxdiuNkHMEWNpYim8S8Y"]}]}]}`
	uri, _ := iw.theirVerifier(t, "", q)
	pr, err := openid.FetchPresentationRequest(ctx, iw.w, uri, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	m := pr.Queries[0]
	if len(m.Candidates) != 0 || m.Untrusted != 1 || !strings.Contains(m.Authorities, "carry no X.509 chain") || len(pr.Ways) != 0 {
		t.Fatalf("the wallet shows %+v, %d ways: want no candidate, one untrusted, and why", m, len(pr.Ways))
	}
	if _, err := pr.Plan(iw.w, openid.Answer{}); !errors.Is(err, openid.ErrNoMatch) {
		t.Errorf("Plan = %v, want ErrNoMatch", err)
	}
	got := dcqlCheck(t, dcqlCase{Query: json.RawMessage(q), Presentation: map[string][]map[string]any{
		"allergy": {{"vct": allergy, "code": map[string]any{"display": "Penicillin"}}}}})
	if !got.OK || got.Satisfied {
		t.Errorf("dcql-ts: %+v; want the query read and the credential (no authority) not satisfying it", got)
	}
}

// dcqlCase is one line for testdata/dcql_check.mjs.
type dcqlCase struct {
	Query        json.RawMessage             `json:"query"`
	Presentation map[string][]map[string]any `json:"presentation,omitempty"`
}

// dcqlVerdict is dcql_check.mjs's answer.
type dcqlVerdict struct {
	OK        bool   `json:"ok"`
	Error     string `json:"error"`
	Multiple  []bool `json:"multiple"`
	Satisfied bool   `json:"satisfied"`
}

// dcqlCheck asks dcql-ts about each case.
func dcqlCheck(t *testing.T, cases ...dcqlCase) dcqlVerdict {
	t.Helper()
	out := dcqlCheckAll(t, cases)
	return out[0]
}

func dcqlCheckAll(t *testing.T, cases []dcqlCase) []dcqlVerdict {
	t.Helper()
	node, dir := nodeEnv(t)
	var in bytes.Buffer
	for _, c := range cases {
		b, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		in.Write(append(b, '\n'))
	}
	cmd := exec.Command(node, filepath.Join(dir, "dcql_check.mjs"))
	cmd.Dir, cmd.Stdin = dir, &in
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("dcql_check.mjs: %v", err)
	}
	var out []dcqlVerdict
	for _, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		var v dcqlVerdict
		if err := json.Unmarshal(line, &v); err != nil {
			t.Fatalf("dcql_check.mjs said %q: %v", line, err)
		}
		out = append(out, v)
	}
	if len(out) != len(cases) {
		t.Fatalf("dcql_check.mjs answered %d of %d cases", len(out), len(cases))
	}
	return out
}

// TestDCQLReadsAgree: medid (openid4vp.DCQLQuery as a wallet reads it)
// and dcql-ts read the same queries the same way: multiple, the standard
// trusted authority types, credential sets with a purpose; both refuse
// malformed ones. Two differences are deliberate, and asserted so a change
// is noticed: medid refuses claims "values" (it does not match claim
// values, and a constraint it cannot honour is refused, never ignored)
// and reads its own medid_issuer type, which dcql-ts refuses (so a medid
// verifier asks with it only when medid wallets answer). And the queries
// a medid verifier makes with multiple are read by dcql-ts as multiple.
func TestDCQLReadsAgree(t *testing.T) {
	vct := sdjwt.VCT("AllergyIntoleranceCredential")
	cq := func(extra string) string {
		return `{"credentials":[{"id":"a","format":"dc+sd-jwt","meta":{"vct_values":["` + vct + `"]},"claims":[{"path":["code","display"]}]` + extra + `}]}`
	}
	for _, tc := range []struct {
		name        string
		query       string
		medid, ours bool // medid reads it; dcql-ts reads it
	}{
		{"multiple", cq(`,"multiple":true`), true, true},
		{"aki", cq(`,"trusted_authorities":[{"type":"aki","values":["s9tIpPmhxdiuNkHMEWNpYim8S8Y"]}]`), true, true},
		{"etsi_tl", cq(`,"trusted_authorities":[{"type":"etsi_tl","values":["https://lotl.example.com"]}]`), true, true},
		{"openid_federation", cq(`,"trusted_authorities":[{"type":"openid_federation","values":["https://ta.example.com"]}]`), true, true},
		{"holder binding waived", cq(`,"require_cryptographic_holder_binding":false`), true, true},
		{"set purpose", `{"credentials":[{"id":"a","format":"dc+sd-jwt","meta":{"vct_values":["` + vct + `"]},"claims":[{"path":["x"]}]}],"credential_sets":[{"options":[["a"]],"purpose":"treatment"}]}`, true, true},
		{"empty authorities", cq(`,"trusted_authorities":[]`), false, false},
		{"authority without values", cq(`,"trusted_authorities":[{"type":"aki","values":[]}]`), false, false},
		{"multiple not a boolean", cq(`,"multiple":"yes"`), false, false},
		{"claim values (medid stricter)", `{"credentials":[{"id":"a","format":"dc+sd-jwt","meta":{"vct_values":["` + vct + `"]},"claims":[{"path":["x"],"values":["y"]}]}]}`, false, true},
		{"medid_issuer (medid's own)", cq(`,"trusted_authorities":[{"type":"medid_issuer","values":["did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"]}]`), true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var q openid4vp.DCQLQuery
			err := json.Unmarshal([]byte(tc.query), &q)
			if err == nil {
				err = q.Validate()
			}
			if (err == nil) != tc.medid {
				t.Errorf("medid reads it: %v (err %v), want %v", err == nil, err, tc.medid)
			}
			got := dcqlCheck(t, dcqlCase{Query: json.RawMessage(tc.query)})
			if got.OK != tc.ours {
				t.Errorf("dcql-ts reads it: %v (%s), want %v", got.OK, got.Error, tc.ours)
			}
			if got.OK && err == nil && len(got.Multiple) == 1 && got.Multiple[0] != q.Credentials[0].Multiple {
				t.Errorf("multiple: dcql-ts %v, medid %v", got.Multiple[0], q.Credentials[0].Multiple)
			}
		})
	}
	// What a medid verifier asks with multiple, as JSON on the wire.
	mq, err := openid4vp.NewSDJWTQuery("allergies", vct, "code.display")
	if err != nil {
		t.Fatal(err)
	}
	mq.Multiple = true
	b, _ := json.Marshal(openid4vp.DCQLQuery{Credentials: []openid4vp.CredentialQuery{mq}})
	two := map[string][]map[string]any{"allergies": {{"vct": vct, "code": map[string]any{"display": "Penicillin"}}, {"vct": vct, "code": map[string]any{"display": "Peanut"}}}}
	got := dcqlCheck(t, dcqlCase{Query: b, Presentation: two})
	if !got.OK || len(got.Multiple) != 1 || !got.Multiple[0] || !got.Satisfied {
		t.Errorf("dcql-ts on medid's multiple query %s: %+v; want read as multiple, two credentials satisfying it", b, got)
	}
	mq.Multiple = false
	b, _ = json.Marshal(openid4vp.DCQLQuery{Credentials: []openid4vp.CredentialQuery{mq}})
	if got := dcqlCheck(t, dcqlCase{Query: b, Presentation: two}); !got.OK || got.Satisfied {
		t.Errorf("dcql-ts on a query without multiple answered twice: %+v; want not satisfied (as medid's verifier refuses it)", got)
	}
}
