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
	node, dir := nodeEnv(t)
	ctx := context.Background()
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
	defer w.Close()
	me, err := w.PrimaryDID()
	if err != nil {
		t.Fatal(err)
	}
	holderKey, err := did.ParseKeyDID(me.DID)
	if err != nil {
		t.Fatal(err)
	}
	exp := time.Now().Add(24 * time.Hour)
	vct := sdjwt.VCT("AllergyIntoleranceCredential")
	tok, err := sdjwt.IssueVC(&sdjwt.Credential{Issuer: iss.DID, VCT: vct, Subject: me.DID, IssuedAt: time.Now().Add(-time.Minute),
		Expires: &exp, Holder: holderKey, Claims: allergyClaims()}, iss.Key, iss.Kid, sdjwt.IssueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Receive(ctx, tok); err != nil {
		t.Fatal(err)
	}
	pubFile := filepath.Join(t.TempDir(), "issuer.pub.jwk")
	if err := os.WriteFile(pubFile, iss.publicJWK(t), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, filepath.Join(dir, "openid4vp_verifier.mjs"), pubFile, vct, query)
	cmd.Dir = dir
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := bufio.NewScanner(stdout)
	lines.Buffer(make([]byte, 1<<16), 1<<20)
	if !lines.Scan() {
		t.Fatalf("the independent verifier printed no request: %s", stderr.String())
	}
	uri := lines.Text()
	pr, err := openid.FetchPresentationRequest(ctx, w, uri, nil, nil)
	if err != nil {
		t.Fatalf("FetchPresentationRequest(%s): %v", uri, err)
	}
	if len(pr.Queries) != 1 || !slices.Equal(pr.Queries[0].Claims, shown) || len(pr.Queries[0].Candidates) != 1 {
		t.Fatalf("the request as the wallet shows it: %+v", pr.Queries)
	}
	if err := openid.RespondPresentation(ctx, w, pr, nil, nil); err != nil {
		t.Fatalf("RespondPresentation: %v\n%s", err, stderr.String())
	}
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

// TestIndependentWalletReadsClaimSets: @openid4vc/openid4vp (with its DCQL
// parser) reads a medid verifier's request whose dc+sd-jwt query has
// claim_sets and an array index path, and sees the same query.
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
	out, _ := independentWallet(t, openid4vp.Config{}, k, openid4vp.DCQLQuery{Credentials: []openid4vp.CredentialQuery{q}})
	var got struct {
		DCQL openid4vp.DCQLQuery `json:"dcql"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("node output: %v\n%s", err, out)
	}
	if len(got.DCQL.Credentials) != 1 {
		t.Fatalf("they read %s", out)
	}
	theirs := got.DCQL.Credentials[0]
	if !reflect.DeepEqual(theirs.ClaimSets, q.ClaimSets) || !reflect.DeepEqual(theirs.Claims, q.Claims) {
		t.Errorf("they read claims %v, claim_sets %v; want %v, %v", theirs.Claims, theirs.ClaimSets, q.Claims, q.ClaimSets)
	}
}
