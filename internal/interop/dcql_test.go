package interop

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
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
