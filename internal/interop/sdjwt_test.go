package interop

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/medid/medid/credentials/consent"
	"github.com/medid/medid/credentials/credtest"
	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/credentials/openid4vci"
	"github.com/medid/medid/credentials/sdjwt"
	"github.com/medid/medid/credentials/statuslist"
	"github.com/medid/medid/credentials/tokenstatus"
	"github.com/medid/medid/credentials/vc"
	"github.com/medid/medid/wallet"
)

// runScript runs testdata/sdjwt.mjs with cmd, req as JSON on stdin, and
// decodes its JSON answer into out. A non-zero exit is returned as an
// error carrying the script's stderr.
func runScript(t *testing.T, cmd string, req, out any) error {
	t.Helper()
	node, dir := nodeEnv(t)
	in, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	c := exec.Command(node, filepath.Join(dir, "sdjwt.mjs"), cmd)
	c.Dir = dir
	c.Stdin = bytes.NewReader(in)
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr
	if err := c.Run(); err != nil {
		return fmt.Errorf("node sdjwt.mjs %s: %v: %s", cmd, err, stderr.String())
	}
	if err := json.Unmarshal(stdout.Bytes(), out); err != nil {
		t.Fatalf("node sdjwt.mjs %s answered %q: %v", cmd, stdout.String(), err)
	}
	return nil
}

// actor is a did:key party (credentials/credtest) with what the npm
// implementations need of it.
type actor struct{ credtest.Party }

func (a actor) publicJWK(t *testing.T) json.RawMessage {
	t.Helper()
	j, err := a.Key.Public().JWK()
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(j)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// privateJWK is a throwaway test key, handed to the independent
// implementation so that it can sign as that party.
func (a actor) privateJWK(t *testing.T) json.RawMessage {
	t.Helper()
	b, err := a.Key.MarshalPrivateJWK()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (a actor) keys(_ context.Context, kid string) (key.PublicKey, error) {
	if kid != a.Kid {
		return key.PublicKey{}, fmt.Errorf("unknown key %s", kid)
	}
	return a.Key.Public(), nil
}

const (
	sdAudience = "https://er.hospital-b.example"
	sdNonce    = "n-4f1c2a"
	tslURI     = "https://registry.hospital-a.example/1.0/token-status-lists/7"
)

func allergyClaims() map[string]any {
	return map[string]any{
		"clinicalStatus": "active",
		"criticality":    "high",
		"code":           map[string]any{"system": "http://snomed.info/sct", "code": "764146007", "display": "Penicillin"},
		"reaction":       []any{map[string]any{"manifestation": "anaphylaxis", "severity": "severe"}},
		"note":           "SYNTHETIC TEST DATA",
	}
}

// tslToken signs a 2-bit Token Status List of iss with idx set to status.
func tslToken(t *testing.T, iss actor, idx int, status uint8) string {
	t.Helper()
	l, err := tokenstatus.New(tokenstatus.MinEntries, 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Set(idx, status); err != nil {
		t.Fatal(err)
	}
	tok, err := tokenstatus.Sign(&tokenstatus.Token{Issuer: iss.DID, URI: tslURI, IssuedAt: time.Now().Add(-time.Minute), TTL: time.Hour, List: l}, iss.Key, iss.Kid)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

type verifyAnswer struct {
	Claims map[string]any `json:"claims"`
	Typ    string         `json:"typ"`
	Kid    string         `json:"kid"`
	KB     map[string]any `json:"kb"`
	// Presented and CredentialSets are openid4vp_verifier.mjs's: the
	// claims of every credential received, by query id, and dcql-ts's
	// verdict per credential set.
	Presented map[string]map[string]any `json:"presented"`
	// Every holds the claims of every credential received per query
	// (several for a query with multiple).
	Every          map[string][]map[string]any `json:"every"`
	CredentialSets []struct {
		MatchingOptions [][]string `json:"matching_options"`
	} `json:"credential_sets"`
}

// TestSDJWTTheyVerifyOurs: @sd-jwt/sd-jwt-vc verifies medid's SD-JWT VCs
// (Ed25519 and P-256) and their presentations with a KB-JWT, including the
// Token Status List entry, and sees only the disclosed claims; a revoked
// entry and a KB-JWT for another request are refused by it.
func TestSDJWTTheyVerifyOurs(t *testing.T) {
	for _, alg := range []key.Alg{key.Ed25519, key.P256} {
		t.Run(string(alg), func(t *testing.T) {
			iss, holder := actor{credtest.NewParty(t, alg, "iss")}, actor{credtest.NewParty(t, alg, "holder")}
			issue := func(idx int) string {
				exp := time.Now().Add(24 * time.Hour)
				tok, err := sdjwt.IssueVC(&sdjwt.Credential{
					Issuer: iss.DID, VCT: sdjwt.VCT("AllergyIntoleranceCredential"), Subject: holder.DID,
					IssuedAt: time.Now().Add(-time.Minute), Expires: &exp, Holder: holder.Key.Public(),
					Status: &tokenstatus.Reference{Index: idx, URI: tslURI}, Claims: allergyClaims(),
				}, iss.Key, iss.Kid, sdjwt.IssueOptions{})
				if err != nil {
					t.Fatal(err)
				}
				return tok
			}
			present := func(tok string, nonce string, paths ...sdjwt.Path) string {
				h, err := sdjwt.Open(tok)
				if err != nil {
					t.Fatal(err)
				}
				p, err := h.Present(paths, &sdjwt.KeyBindingOptions{Key: holder.Key, Audience: sdAudience, Nonce: nonce})
				if err != nil {
					t.Fatal(err)
				}
				return p.Token
			}
			const idx = 101_234
			statusOK := tslToken(t, iss, idx, tokenstatus.Valid)
			tok := issue(idx)

			// The credential as issued: every claim.
			var full verifyAnswer
			if err := runScript(t, "verify", map[string]any{"token": tok, "issuerJwk": iss.publicJWK(t), "statusListURI": tslURI, "statusList": statusOK}, &full); err != nil {
				t.Fatal(err)
			}
			if full.Typ != sdjwt.MediaType || full.Claims["sub"] != holder.DID || !reflect.DeepEqual(full.Claims["code"], allergyClaims()["code"]) {
				t.Errorf("their view of the issued credential: %+v", full)
			}

			// A presentation of the substance only.
			var got verifyAnswer
			pres := present(tok, sdNonce, sdjwt.Path{"code", "display"})
			if err := runScript(t, "verify", map[string]any{"token": pres, "issuerJwk": iss.publicJWK(t), "statusListURI": tslURI, "statusList": statusOK, "nonce": sdNonce, "aud": sdAudience}, &got); err != nil {
				t.Fatal(err)
			}
			if want := map[string]any{"display": "Penicillin"}; !reflect.DeepEqual(got.Claims["code"], want) {
				t.Errorf("code = %v, want %v", got.Claims["code"], want)
			}
			for _, hidden := range []string{"criticality", "reaction", "note", "sub", "clinicalStatus"} {
				if _, ok := got.Claims[hidden]; ok {
					t.Errorf("%s was not disclosed but the independent verifier sees it", hidden)
				}
			}
			if got.KB["nonce"] != sdNonce || got.KB["aud"] != sdAudience {
				t.Errorf("KB-JWT = %v", got.KB)
			}

			// Refusals: a revoked entry, a replay to another request.
			revoked := tslToken(t, iss, idx, tokenstatus.Invalid)
			if err := runScript(t, "verify", map[string]any{"token": pres, "issuerJwk": iss.publicJWK(t), "statusListURI": tslURI, "statusList": revoked, "nonce": sdNonce, "aud": sdAudience}, &got); err == nil {
				t.Error("the independent verifier accepted a revoked credential")
			}
			if err := runScript(t, "verify", map[string]any{"token": pres, "issuerJwk": iss.publicJWK(t), "statusListURI": tslURI, "statusList": statusOK, "nonce": "another-request", "aud": sdAudience}, &got); err == nil {
				t.Error("the independent verifier accepted a KB-JWT made for another nonce")
			}
		})
	}
}

// TestSDJWTWeVerifyTheirs: an SD-JWT VC issued and presented (with a
// KB-JWT) by @sd-jwt/sd-jwt-vc verifies with medid's sdjwt.VerifyVC, which
// returns exactly the claims it disclosed; tampering is refused.
func TestSDJWTWeVerifyTheirs(t *testing.T) {
	for _, alg := range []key.Alg{key.Ed25519, key.P256} {
		t.Run(string(alg), func(t *testing.T) {
			iss, holder := actor{credtest.NewParty(t, alg, "iss")}, actor{credtest.NewParty(t, alg, "holder")}
			now := time.Now().Truncate(time.Second)
			claims := allergyClaims()
			claims["iss"], claims["vct"], claims["sub"] = iss.DID, sdjwt.VCT("AllergyIntoleranceCredential"), holder.DID
			claims["iat"], claims["exp"] = now.Unix(), now.Add(time.Hour).Unix()
			claims["cnf"] = map[string]any{"jwk": holder.publicJWK(t)}
			var ans struct{ Issued, Presentation string }
			err := runScript(t, "issue", map[string]any{
				"issuerJwk": iss.privateJWK(t), "holderJwk": holder.privateJWK(t), "kid": iss.Kid, "claims": claims,
				"disclosureFrame":   map[string]any{"_sd": []string{"clinicalStatus", "criticality", "code", "reaction", "note", "sub"}, "code": map[string]any{"_sd": []string{"system", "code", "display"}}, "reaction": map[string]any{"_sd": []int{0}}},
				"presentationFrame": map[string]any{"criticality": true, "code": map[string]any{"display": true}},
				"aud":               sdAudience, "nonce": sdNonce, "iat": now.Unix(),
			}, &ans)
			if err != nil {
				t.Fatal(err)
			}
			opts := sdjwt.VerifyOptions{Audience: sdAudience, Nonce: sdNonce, Now: now.Add(time.Second)}
			v, err := sdjwt.VerifyVC(context.Background(), ans.Presentation, iss.keys, opts)
			if err != nil {
				t.Fatalf("their presentation: %v", err)
			}
			want := map[string]any{"criticality": "high", "code": map[string]any{"display": "Penicillin"}}
			if !reflect.DeepEqual(v.Credential.Claims, want) {
				t.Errorf("claims = %v, want %v", v.Credential.Claims, want)
			}
			var paths []string
			for _, p := range v.Disclosed {
				paths = append(paths, p.String())
			}
			if !slices.Equal(paths, []string{"code", "code.display", "criticality"}) {
				t.Errorf("disclosed %v", paths)
			}
			if v.Credential.Subject != "" || v.KeyBinding == nil {
				t.Errorf("subject %q (not disclosed), key binding %v", v.Credential.Subject, v.KeyBinding)
			}
			// The issued form, every Disclosure, opens in our wallet and
			// re-presents to our verifier.
			h, err := sdjwt.Open(ans.Issued)
			if err != nil {
				t.Fatalf("Open(their issued SD-JWT): %v", err)
			}
			p, err := h.Present([]sdjwt.Path{{"reaction", 0, "manifestation"}}, &sdjwt.KeyBindingOptions{Key: holder.Key, Audience: sdAudience, Nonce: sdNonce, IssuedAt: now})
			if err != nil {
				t.Fatal(err)
			}
			if v, err := sdjwt.VerifyVC(context.Background(), p.Token, iss.keys, opts); err != nil || !reflect.DeepEqual(v.Credential.Claims["reaction"], []any{map[string]any{"manifestation": "anaphylaxis", "severity": "severe"}}) {
				t.Errorf("re-presented: %v, %v", err, v)
			}
			// Their presentation with a disclosure swapped for one they did
			// not send: refused.
			cut := strings.LastIndexByte(ans.Presentation, '~')
			var extra string
			for _, d := range strings.Split(strings.TrimSuffix(ans.Issued, "~"), "~")[1:] {
				if !strings.Contains(ans.Presentation, d) {
					extra = d
					break
				}
			}
			if _, err := sdjwt.VerifyVC(context.Background(), ans.Presentation[:cut]+"~"+extra+"~"+ans.Presentation[cut+1:], iss.keys, opts); sdjwt.Reason(err) != sdjwt.ReasonKBSDHash {
				t.Errorf("a Disclosure added to their presentation: %v", err)
			}
		})
	}
}

// TestRFC9901ExamplesDecodeAlike: RFC 9901's examples give the same claims
// in @sd-jwt/core and in medid's sdjwt.
func TestRFC9901ExamplesDecodeAlike(t *testing.T) {
	dir := filepath.Join("..", "..", "credentials", "sdjwt", "testdata", "rfc9901")
	jwk, err := os.ReadFile(filepath.Join(dir, "issuer-key.jwk"))
	if err != nil {
		t.Fatal(err)
	}
	pub, err := key.ParsePublicJWK(jwk)
	if err != nil {
		t.Fatal(err)
	}
	keys := func(context.Context, string) (key.PublicKey, error) { return pub, nil }
	for _, tc := range []struct{ file, typ string }{
		{"sec5-issuance.txt", "example+sd-jwt"}, {"sec5-presentation.txt", "example+sd-jwt"},
		{"a1-presentation.txt", "example+sd-jwt"}, {"a2-presentation.txt", "example+sd-jwt"},
		{"a3-issuance.txt", "dc+sd-jwt"}, {"a3-presentation.txt", "dc+sd-jwt"},
		{"a4-issuance.txt", "example+sd-jwt"}, {"a4-presentation.txt", "example+sd-jwt"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(dir, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			tok := strings.TrimSpace(string(b))
			opts := sdjwt.VerifyOptions{Typ: tc.typ, Now: time.Unix(1748536865, 0)}
			if !strings.HasSuffix(tok, "~") {
				opts.Audience, opts.Nonce = "https://verifier.example.org", "1234567890"
			}
			ours, err := sdjwt.Verify(context.Background(), tok, keys, opts)
			if err != nil {
				t.Fatal(err)
			}
			var theirs struct{ Claims, Verified map[string]any }
			if err := runScript(t, "decode", map[string]any{"token": tok, "issuerJwk": json.RawMessage(jwk)}, &theirs); err != nil {
				t.Fatal(err)
			}
			o, _ := json.Marshal(ours.Claims)
			var oursGeneric map[string]any
			json.Unmarshal(o, &oursGeneric)
			if !reflect.DeepEqual(oursGeneric, theirs.Claims) || !reflect.DeepEqual(oursGeneric, theirs.Verified) {
				th, _ := json.Marshal(theirs.Claims)
				t.Errorf("claims differ\n ours   %s\n theirs %s", o, th)
			}
		})
	}
}

// TestTokenStatusListDecodesAlike: Status List Tokens medid signs (1, 2, 4
// and 8 bits, random indexes from the Allocator) decode to the same
// statuses in @sd-jwt/jwt-status-list.
func TestTokenStatusListDecodesAlike(t *testing.T) {
	iss := actor{credtest.NewParty(t, key.Ed25519, "iss")}
	a, err := tokenstatus.NewAllocator(tokenstatus.MinEntries)
	if err != nil {
		t.Fatal(err)
	}
	for _, bits := range []int{1, 2, 4, 8} {
		l, err := tokenstatus.New(tokenstatus.MinEntries, bits)
		if err != nil {
			t.Fatal(err)
		}
		var idx []int
		var want []float64
		for i := range 40 {
			n, err := a.Allocate()
			if err != nil {
				t.Fatal(err)
			}
			v := uint8(i % (1 << bits))
			l.Set(n, v)
			idx, want = append(idx, n), append(want, float64(v))
		}
		idx, want = append(idx, 0, tokenstatus.MinEntries-1), append(want, 0, 0)
		jwt, err := tokenstatus.Sign(&tokenstatus.Token{Issuer: iss.DID, URI: tslURI, IssuedAt: time.Now(), List: l}, iss.Key, iss.Kid)
		if err != nil {
			t.Fatal(err)
		}
		var got struct {
			Statuses []float64
			Bits     int
		}
		if err := runScript(t, "statuslist", map[string]any{"jwt": jwt, "indexes": idx}, &got); err != nil {
			t.Fatal(err)
		}
		if got.Bits != bits || !slices.Equal(got.Statuses, want) {
			t.Errorf("bits %d: they read %v (bits %d), want %v", bits, got.Statuses, got.Bits, want)
		}
	}
}

// TestJSONLDSafeMode: jsonld.js in safe mode (what @digitalbazaar/vc runs)
// expands every credential type medid issues, with the VC 2.0 context and
// the medid context only; the same allergy credential with the VC 2.0
// context alone fails, so the check can fail.
func TestJSONLDSafeMode(t *testing.T) {
	patient, hospital := actor{credtest.NewParty(t, key.Ed25519, "patient")}, actor{credtest.NewParty(t, key.Ed25519, "hospital")}
	from := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	cred := func(typ string, subject map[string]any) *vc.Credential {
		subject["id"] = patient.DID
		return &vc.Credential{Context: vc.CredentialContext(), ID: "urn:uuid:0b7e6f4e-3f0a-4c7e-9d1e-5b2c8a9f1e01", Type: []string{vc.TypeCredential, typ},
			Issuer: hospital.DID, ValidFrom: &from, Subject: subject,
			Status: []vc.Status{{ID: "https://registry.example/1.0/status-lists/1#42", Type: statuslist.TypeEntry, StatusPurpose: "revocation", StatusListIndex: "42", StatusListCredential: "https://registry.example/1.0/status-lists/1"}}}
	}
	grant, err := (&consent.Grant{Patient: patient.DID, Anchor: "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp", Provider: hospital.DID, Actions: []consent.Action{"access"}, Purposes: []string{"TREAT"},
		Classes: []string{"AllergyIntolerance"}, ValidFrom: from, Issued: from}).Credential()
	if err != nil {
		t.Fatal(err)
	}
	list, _ := statuslist.New(statuslist.MinEntries)
	listCred, err := statuslist.NewCredential("https://registry.example/1.0/status-lists/1", hospital.DID, statuslist.Revocation, list, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	allergy := cred("AllergyIntoleranceCredential", map[string]any{"type": "AllergyIntolerance", "clinicalStatus": "active", "criticality": "high",
		"code": map[string]any{"system": "http://snomed.info/sct", "code": "764146007", "display": "Penicillin"}, "reaction": "anaphylaxis", "note": "SYNTHETIC"})
	creds := map[string]*vc.Credential{
		"allergy":                     allergy,
		"allergy list (wallet shape)": cred("AllergyCredential", map[string]any{"allergies": []any{map[string]any{"substance": "Penicillin", "reaction": []any{map[string]any{"manifestation": "anaphylaxis", "severity": "severe"}}}}}),
		"immunization": cred("ImmunizationCredential", map[string]any{"vaccineCode": map[string]any{"system": "http://hl7.org/fhir/sid/cvx", "code": "208", "display": "COVID-19 mRNA"},
			"occurrenceDateTime": "2026-11-02T10:00:00Z", "lotNumber": "EX123", "protocolApplied": []any{map[string]any{"doseNumberPositiveInt": 2}}}),
		"blood type":       cred("BloodTypeCredential", map[string]any{"bloodType": "O", "rhesus": "negative"}),
		"medication":       cred("MedicationStatementCredential", map[string]any{"medication": map[string]any{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "197361", "display": "Amlodipine 5 mg"}, "dosage": "once daily"}),
		"consent grant":    grant,
		"status list":      listCred,
		"free-form claims": cred("LabResultCredential", map[string]any{"anything": "an issuer adds", "panel": map[string]any{"hb": 13.5}}),
	}
	docs := map[string]json.RawMessage{}
	for name, c := range creds {
		b, err := c.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		docs[name] = b
	}
	vp, err := (&vc.Presentation{Context: []string{vc.ContextV2}, Type: []string{vc.TypePresentation}, Holder: patient.DID, Credentials: []string{"eyJ.eyJ.sig"}}).MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	docs["presentation"] = vp
	control := *allergy
	control.Context = []string{vc.ContextV2}
	cb, _ := control.MarshalJSON()
	docs["control: allergy without the medid context"] = cb

	var ctxDoc any
	if err := json.Unmarshal(vc.MedidContext(), &ctxDoc); err != nil {
		t.Fatal(err)
	}
	var got map[string]struct {
		OK    bool
		Error string
	}
	if err := runScript(t, "jsonld", map[string]any{"docs": docs, "medidContextURL": vc.ContextMedid, "medidContext": ctxDoc}, &got); err != nil {
		t.Fatal(err)
	}
	for name := range docs {
		r, ok := got[name]
		switch {
		case !ok:
			t.Errorf("%s: no answer", name)
		case strings.HasPrefix(name, "control"):
			if r.OK {
				t.Errorf("%s expanded in safe mode: the check cannot fail", name)
			}
		case !r.OK:
			t.Errorf("%s does not expand in safe mode: %s", name, r.Error)
		}
	}
}

// TestIndependentWalletSDJWT: @openid4vc/openid4vci 0.4.6 obtains a
// dc+sd-jwt credential from medid's issuer (its configuration, the jwk
// proof); jose verifies the issuer-signed JWT, sd-jwt-js verifies the whole
// SD-JWT VC, and it is bound (cnf.jwk) to the independent wallet's key.
func TestIndependentWalletSDJWT(t *testing.T) {
	node, dir := nodeEnv(t)
	iss := actor{credtest.NewParty(t, key.P256, "iss")}
	srv := httptest.NewUnstartedServer(nil)
	srv.Start()
	defer srv.Close()
	const typ = "AllergyIntoleranceCredential"
	is, err := openid4vci.New(openid4vci.Config{
		URL: srv.URL, Key: iss.Key, DID: iss.DID, Kid: iss.Kid,
		Configurations: map[string]openid4vci.Configuration{typ + ".sd": openid4vci.NewSDJWTConfiguration(typ, openid4vci.Display{Name: "Allergies"})},
		Resolver:       did.KeyResolver{}, Logger: quiet(),
	})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = is
	pubFile := filepath.Join(t.TempDir(), "issuer.pub.jwk")
	if err := os.WriteFile(pubFile, iss.publicJWK(t), 0o644); err != nil {
		t.Fatal(err)
	}
	offer, err := is.CreateOffer(openid4vci.OfferRequest{ConfigurationID: typ + ".sd", Claims: allergyClaims()})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, filepath.Join(dir, "openid4vci_client.mjs"), offer.URI, "-", pubFile, "dc+sd-jwt")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("the independent wallet failed: %v\n%s%s", err, out.String(), errb.String())
	}
	var got struct {
		Credential string          `json:"credential"`
		HolderJWK  json.RawMessage `json:"holderJwk"`
		Header     map[string]any  `json:"header"`
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("node output: %v\n%s", err, out.String())
	}
	holder, err := key.ParsePublicJWK(got.HolderJWK)
	if err != nil {
		t.Fatal(err)
	}
	v, err := sdjwt.VerifyVC(context.Background(), got.Credential, iss.keys, sdjwt.VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !v.Credential.Holder.Equal(holder) || v.Credential.VCT != sdjwt.VCT(typ) || got.Header["typ"] != sdjwt.MediaType {
		t.Errorf("credential %+v, header %v", v.Credential, got.Header)
	}
	var theirs verifyAnswer
	if err := runScript(t, "verify", map[string]any{"token": got.Credential, "issuerJwk": iss.publicJWK(t)}, &theirs); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(theirs.Claims["code"], allergyClaims()["code"]) {
		t.Errorf("sd-jwt-js sees code %v", theirs.Claims["code"])
	}
}

// TestIndependentVerifierDCQL: @openid4vc/openid4vp 0.4.6 builds a DCQL
// request for code.display of an allergy SD-JWT VC; medid's wallet shows
// that path, answers with only its Disclosures and a KB-JWT, and the
// independent verifier (oid4vc-ts response validation, sd-jwt-js) sees the
// substance and nothing else.
func TestIndependentVerifierDCQL(t *testing.T) {
	got := answerIndependentVerifier(t, `["code","display"]`, []string{"code.display"})
	if want := map[string]any{"display": "Penicillin"}; !reflect.DeepEqual(got.Claims["code"], want) {
		t.Errorf("code = %v, want %v", got.Claims["code"], want)
	}
	for _, hidden := range []string{"criticality", "reaction", "note", "sub", "clinicalStatus"} {
		if _, ok := got.Claims[hidden]; ok {
			t.Errorf("%s was not asked for, yet the independent verifier received it", hidden)
		}
	}
}

// TestIndependentVerifierByHandShare: what a patient shares by hand
// (wallet.ShareSDJWT, no verifier's request) verifies with @sd-jwt/sd-jwt-vc:
// bound to the receiver they named, with the wallet's nonce, the KB-JWT
// checks for that audience and nonce (and not for another nonce);
// unbound, it verifies with no KB-JWT at all. Both times the independent
// verifier sees exactly the wallet's preview: the chosen details and the
// always-visible claims, nothing else.
func TestIndependentVerifierByHandShare(t *testing.T) {
	ctx := context.Background()
	iw := newInteropWallet(t)
	iw.issue(t, "AllergyIntoleranceCredential", allergyClaims())
	held, err := iw.w.Credentials(wallet.Filter{})
	if err != nil || len(held) != 1 {
		t.Fatalf("held %v, %v", held, err)
	}
	choose := []sdjwt.Path{{"code", "display"}, {"reaction", 0, "manifestation"}}
	for _, tc := range []struct {
		name string
		req  wallet.ShareSDJWTRequest
	}{
		{"bound to a named receiver", wallet.ShareSDJWTRequest{CredentialID: held[0].ID, Disclose: choose, Audience: "Dr Amal Haddad, Riverside Clinic"}},
		{"unbound", wallet.ShareSDJWTRequest{CredentialID: held[0].ID, Disclose: choose, Unbound: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			preview, err := iw.w.PreviewShare(tc.req)
			if err != nil {
				t.Fatal(err)
			}
			s, err := iw.w.ShareSDJWT(ctx, tc.req)
			if err != nil {
				t.Fatal(err)
			}
			req := map[string]any{"token": s.Token, "issuerJwk": iw.iss.publicJWK(t)}
			if s.Bound() {
				req["nonce"], req["aud"] = s.Nonce, s.Audience
			}
			var got verifyAnswer
			if err := runScript(t, "verify", req, &got); err != nil {
				t.Fatal(err)
			}
			if s.Bound() != (got.KB != nil) {
				t.Fatalf("bound %v, their KB-JWT %v", s.Bound(), got.KB)
			}
			if s.Bound() && (got.KB["aud"] != tc.req.Audience || got.KB["nonce"] != s.Nonce) {
				t.Errorf("their KB-JWT %v", got.KB)
			}
			delete(got.Claims, "_sd_alg")
			theirs, _ := json.Marshal(got.Claims)
			ours, _ := json.Marshal(preview.Seen)
			if string(theirs) != string(ours) {
				t.Errorf("they see %s\nthe preview said %s", theirs, ours)
			}
			for _, hidden := range []string{"criticality", "note", "sub", "clinicalStatus", "severity", "snomed"} {
				if strings.Contains(string(theirs), hidden) {
					t.Errorf("%s was not chosen, yet they see it: %s", hidden, theirs)
				}
			}
			if s.Bound() {
				req["nonce"] = "another-nonce"
				if err := runScript(t, "verify", req, &got); err == nil {
					t.Error("they accepted the share with another nonce")
				}
			}
		})
	}
}
