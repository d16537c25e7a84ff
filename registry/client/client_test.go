package client_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"
	cmtcrypto "github.com/cometbft/cometbft/proto/tendermint/crypto"
	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/statuslist"
	"github.com/medid/medid/credentials/vc"
	"github.com/medid/medid/credentials/verify"
	"github.com/medid/medid/registry/client"
	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/ledger/light"
	"github.com/medid/medid/registry/node/nodetest"
	"github.com/medid/medid/registry/tx"
)

func newClients(t testing.TB, s *nodetest.Stack) (plain, proving *client.Client) {
	t.Helper()
	plain, err := client.New(client.Config{URL: s.URL})
	if err != nil {
		t.Fatal(err)
	}
	chainID, vals, err := client.TrustFromGenesis(s.Genesis)
	if err != nil {
		t.Fatal(err)
	}
	proving, err = client.New(client.Config{URL: s.URL, VerifyProofs: true, ChainID: chainID, TrustedValidators: vals})
	if err != nil {
		t.Fatal(err)
	}
	return plain, proving
}

// TestDIDLifecycle runs on a chain of each state layout (docs/design/0021,
// "State layout"): the same reads, with proofs, give the same records.
func TestDIDLifecycle(t *testing.T) {
	for _, l := range []ledger.StateLayout{ledger.LayoutRecordsOnce, ledger.LayoutEveryVersion} {
		t.Run(fmt.Sprintf("layout %d", l), func(t *testing.T) { testDIDLifecycle(t, l) })
	}
}

func testDIDLifecycle(t *testing.T, layout ledger.StateLayout) {
	s := nodetest.Start(t, nodetest.Options{StateLayout: layout})
	plain, proving := newClients(t, s)
	ctx := context.Background()
	id := nodetest.NewIdentity(t, "alice")
	// A fresh chain has no signed header over its state until the first
	// block after a state change; give it one.
	if _, err := plain.Submit(ctx, nodetest.NewIdentity(t, "carol").CreateTx(t)); err != nil {
		t.Fatal(err)
	}

	for name, c := range map[string]*client.Client{"plain": plain, "proving": proving} {
		if _, err := c.Resolve(ctx, id.DID); !errors.Is(err, did.ErrNotFound) {
			t.Errorf("%s: resolve before create: err = %v, want did.ErrNotFound", name, err)
		}
	}
	res, err := plain.Submit(ctx, id.CreateTx(t))
	if err != nil {
		t.Fatalf("Submit(did.create): %v", err)
	}
	if res.Code != 0 || res.Height < 1 || len(res.Hash) != 64 {
		t.Fatalf("Submit result = %+v", res)
	}
	for name, c := range map[string]*client.Client{"plain": plain, "proving": proving} {
		r, err := c.Resolve(ctx, id.DID)
		if err != nil {
			t.Fatalf("%s: Resolve: %v", name, err)
		}
		if r.Document.ID != id.DID || r.Metadata.VersionID != "1" || r.Metadata.Created == nil {
			t.Errorf("%s: resolved id %s version %q created %v", name, r.Document.ID, r.Metadata.VersionID, r.Metadata.Created)
		}
		if _, err := r.Document.Key(id.KID(), did.Authentication); err != nil {
			t.Errorf("%s: key %s: %v", name, id.KID(), err)
		}
	}
	// The chain is in the layout asked for: version 1 is under didv/
	// from the create on in layout 1 only.
	versions := 0
	if err := s.App.Scan(ledger.PrefixDIDVersion+id.DID+"/", func(_, _ []byte) error { versions++; return nil }); err != nil {
		t.Fatal(err)
	}
	if want := map[ledger.StateLayout]int{ledger.LayoutEveryVersion: 1, ledger.LayoutRecordsOnce: 0}[layout]; versions != want {
		t.Errorf("after did.create: %d records under didv/, want %d in layout %d", versions, want, layout)
	}
	// A replay of the same bytes and a resubmission of the same payload
	// are both refused.
	if _, err := plain.Submit(ctx, id.CreateTx(t)); err == nil {
		t.Errorf("second did.create succeeded")
	}
	if _, err := plain.Submit(ctx, id.DeactivateTx(t, "1")); err != nil {
		t.Fatalf("Submit(did.deactivate): %v", err)
	}
	for name, c := range map[string]*client.Client{"plain": plain, "proving": proving} {
		r, err := c.Resolve(ctx, id.DID)
		if !errors.Is(err, did.ErrDeactivated) || r == nil || !r.Metadata.Deactivated {
			t.Errorf("%s: resolve after deactivate: res %v err %v, want deactivated", name, r, err)
		}
		r, err = c.ResolveWith(ctx, id.DID, ledger.ResolveOptions{VersionID: "1"})
		if err != nil || r.Metadata.VersionID != "1" || r.Metadata.NextVersionID != "2" {
			t.Errorf("%s: versionId=1: %+v, %v; want version 1 with next 2", name, r, err)
		}
		at := time.Now().Add(time.Hour)
		r, err = c.ResolveWith(ctx, id.DID, ledger.ResolveOptions{VersionTime: &at})
		if !errors.Is(err, did.ErrDeactivated) || r == nil || r.Metadata.VersionID != "2" {
			t.Errorf("%s: versionTime=now+1h: %+v, %v; want version 2, deactivated", name, r, err)
		}
		r, err = c.ResolveWith(ctx, id.DID, ledger.ResolveOptions{VersionID: "2"})
		if !errors.Is(err, did.ErrDeactivated) || r == nil || r.Metadata.VersionID != "2" || r.Metadata.NextVersionID != "" {
			t.Errorf("%s: versionId=2 (the current version): %+v, %v; want version 2, deactivated", name, r, err)
		}
		before := time.Now().Add(-time.Hour)
		if _, err := c.ResolveWith(ctx, id.DID, ledger.ResolveOptions{VersionTime: &before}); !errors.Is(err, did.ErrNotFound) {
			t.Errorf("%s: versionTime before the DID: err %v, want not found", name, err)
		}
		for _, v := range []string{"3", "9"} {
			if _, err := c.ResolveWith(ctx, id.DID, ledger.ResolveOptions{VersionID: v}); !errors.Is(err, did.ErrNotFound) {
				t.Errorf("%s: versionId=%s: err %v, want not found", name, v, err)
			}
		}
		if _, err := c.ResolveWith(ctx, nodetest.NewIdentity(t, "nobody").DID, ledger.ResolveOptions{VersionID: "1"}); !errors.Is(err, did.ErrNotFound) {
			t.Errorf("%s: versionId=1 of an unknown DID: err %v, want not found", name, err)
		}
		if _, err := c.Resolve(ctx, "did:web:example.com"); !errors.Is(err, did.ErrMethodNotSupported) && name == "plain" {
			t.Errorf("%s: did:web: err %v, want method not supported", name, err)
		}
	}
}

func TestSubmitRejections(t *testing.T) {
	s := nodetest.Start(t, nodetest.Options{})
	plain, _ := newClients(t, s)
	ctx := context.Background()
	alice := nodetest.NewIdentity(t, "alice")
	mallory := nodetest.NewIdentity(t, "mallory")

	// did.create of alice's DID signed by mallory's key under alice's kid.
	create, _, err := tx.NewKeyDIDCreate(alice.Key.Public())
	if err != nil {
		t.Fatal(err)
	}
	forged := nodetest.Sign(t, create, mallory.Key, alice.KID())
	_, err = plain.Submit(ctx, forged)
	var pe *client.ProblemError
	if !errors.As(err, &pe) || !errors.Is(err, ledger.ErrBadSignature) || pe.Status != http.StatusBadRequest {
		t.Errorf("forged create: err = %v, want a 400 problem wrapping ledger.ErrBadSignature", err)
	}
	_, err = plain.Submit(ctx, []byte("not a jws"))
	if !errors.Is(err, ledger.ErrMalformed) {
		t.Errorf("garbage: err = %v, want ledger.ErrMalformed", err)
	}
	_, err = plain.Submit(ctx, []byte(strings.Repeat("a", tx.MaxSize+10)))
	if !errors.As(err, &pe) || pe.Status != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized: err = %v, want 413", err)
	}
	// A governance action signed by a non-governance key.
	acc := nodetest.Sign(t, nodetest.Must(t)(tx.NewIssuerAccredit(alice.DID, tx.Accreditation{Issuer: mallory.DID, ID: "a1",
		Types: []string{"X"}, From: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)})), alice.Key, alice.KID())
	if _, err := plain.Submit(ctx, acc); !errors.Is(err, ledger.ErrUnauthorized) && !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("accredit by non-governance: err = %v, want unauthorized", err)
	}
}

func TestAccreditationsAndStatusLists(t *testing.T) {
	s := nodetest.Start(t, nodetest.Options{})
	plain, proving := newClients(t, s)
	ctx := context.Background()
	hosp := nodetest.NewIdentity(t, "hospital")
	if _, err := plain.Submit(ctx, hosp.CreateTx(t)); err != nil {
		t.Fatal(err)
	}
	from := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	acc := nodetest.Sign(t, nodetest.Must(t)(tx.NewIssuerAccredit(s.GovernanceDID, tx.Accreditation{Issuer: hosp.DID, ID: "acc-1",
		Types: []string{"AllergyCredential"}, From: from})), s.Governance, s.GovernanceKID())
	if _, err := plain.Submit(ctx, acc); err != nil {
		t.Fatalf("accredit: %v", err)
	}
	l, _ := statuslist.New(statuslist.MinEntries)
	_ = l.Set(7, true)
	listID := hosp.DID + ":hosp-rev"
	listURL := s.URL + "/1.0/status-lists/" + listID
	cred, err := statuslist.NewCredential(listURL, hosp.DID, statuslist.Revocation, l, 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	// Block times trail the wall clock a little: date the list back.
	vf := time.Now().Add(-time.Minute).UTC().Truncate(time.Second)
	cred.ValidFrom = &vf
	tok, err := vc.Issue(cred, hosp.Key, hosp.KID())
	if err != nil {
		t.Fatal(err)
	}
	pub := nodetest.Sign(t, nodetest.Must(t)(tx.NewStatusListPublish(hosp.DID, listID, 1, tok)), hosp.Key, hosp.KID())
	if _, err := plain.Submit(ctx, pub); err != nil {
		t.Fatalf("publish: %v", err)
	}
	for name, c := range map[string]*client.Client{"plain": plain, "proving": proving} {
		for _, tc := range []struct {
			typ  string
			at   time.Time
			want bool
		}{
			{"AllergyCredential", from.Add(time.Hour), true},
			{"AllergyCredential", from.Add(-time.Hour), false},
			{"LicenceCredential", from.Add(time.Hour), false},
		} {
			got, err := c.Accredited(ctx, hosp.DID, tc.typ, tc.at)
			if err != nil || got != tc.want {
				t.Errorf("%s: Accredited(%s, %s) = %v, %v; want %v", name, tc.typ, tc.at, got, err, tc.want)
			}
		}
		if got, err := c.Accredited(ctx, "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK", "AllergyCredential", from); got || err != nil {
			t.Errorf("%s: never-accredited issuer = %v, %v; want false, nil", name, got, err)
		}
		rec, err := c.Accreditations(ctx, hosp.DID)
		if err != nil || len(rec.Accreditations) != 1 || rec.Accreditations[0].GrantedBy != s.GovernanceDID {
			t.Errorf("%s: Accreditations = %+v, %v", name, rec, err)
		}
		for _, ref := range []string{listURL, listID, listURL + "?version=1"} {
			got, err := c.FetchStatusList(ctx, ref)
			if err != nil || got != tok {
				t.Errorf("%s: FetchStatusList(%s) = %.20q…, %v; want the published token", name, ref, got, err)
			}
		}
		if _, err := c.FetchStatusList(ctx, "nope"); !errors.Is(err, ledger.ErrNotFound) {
			t.Errorf("%s: unknown list: err = %v, want ledger.ErrNotFound", name, err)
		}
	}
	// Cache headers follow the list's ttl and version.
	resp, err := http.Get(listURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("Cache-Control"); got != "max-age=600" {
		t.Errorf("Cache-Control = %q, want max-age=600", got)
	}
	if got := resp.Header.Get("ETag"); got != `"1"` {
		t.Errorf("ETag = %q, want \"1\"", got)
	}
	if got := resp.Header.Get("Content-Type"); got != "application/vc+jwt" {
		t.Errorf("Content-Type = %q", got)
	}
	req, _ := http.NewRequest(http.MethodGet, listURL, nil)
	req.Header.Set("If-None-Match", `"1"`)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match: status %d, want 304", resp.StatusCode)
	}
}

// fetchProof reads the proof of a GET.
func fetchProof(t *testing.T, u string) *ledger.Proof {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	p, err := ledger.DecodeProof(resp.Header.Get(ledger.ProofHeader))
	if err != nil {
		t.Fatalf("proof header of %s: %v", u, err)
	}
	return p
}

func TestProofTampering(t *testing.T) {
	s := nodetest.Start(t, nodetest.Options{})
	plain, _ := newClients(t, s)
	ctx := context.Background()
	id := nodetest.NewIdentity(t, "bob")
	if _, err := plain.Submit(ctx, id.CreateTx(t)); err != nil {
		t.Fatal(err)
	}
	chainID, trusted, err := client.TrustFromGenesis(s.Genesis)
	if err != nil {
		t.Fatal(err)
	}
	// A fresh light client per check, so nothing one check verified is
	// trusted by the next.
	lc := func(root *light.Root) *light.Client {
		c, err := light.NewClient(light.Config{Root: root})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	good := fetchProof(t, s.URL+"/1.0/identifiers/"+id.DID+"?proof=true")
	if err := good.Verify(ctx, lc(trusted)); err != nil {
		t.Fatalf("untampered proof: %v", err)
	}
	absent := fetchProof(t, s.URL+"/1.0/identifiers/did:medid:nobody?proof=true")
	if absent.Value != nil {
		t.Fatalf("proof for an unknown DID carries a value")
	}
	if err := absent.Verify(ctx, lc(trusted)); err != nil {
		t.Fatalf("absence proof: %v", err)
	}
	other := *trusted
	otherVals := &cmtproto.ValidatorSet{Validators: []*cmtproto.Validator{{
		Address: ed25519.GenPrivKey().PubKey().Address(), VotingPower: 10}}}
	pk := ed25519.GenPrivKey().PubKey()
	otherVals.Validators[0].Address = pk.Address()
	otherVals.Validators[0].PubKey = cmtcrypto.PublicKey{Sum: &cmtcrypto.PublicKey_Ed25519{Ed25519: pk.Bytes()}}
	otherVals.Proposer = otherVals.Validators[0]
	if other.Validators, err = light.NewValidatorSet(otherVals); err != nil {
		t.Fatal(err)
	}
	otherChain := *trusted
	otherChain.ChainID = "medid-other"

	clone := func() *ledger.Proof { c := *good; return &c }
	for _, tc := range []struct {
		name   string
		mutate func(p *ledger.Proof) *light.Root
	}{
		{"tampered value", func(p *ledger.Proof) *light.Root {
			v := []byte(strings.Replace(string(p.Value), `"versionId":"1"`, `"versionId":"7"`, 1))
			if string(v) == string(p.Value) {
				t.Fatal("value has no versionId to tamper with")
			}
			p.Value = v
			return trusted
		}},
		{"value claimed absent", func(p *ledger.Proof) *light.Root { p.Value = nil; return trusted }},
		{"other key", func(p *ledger.Proof) *light.Root {
			p.Key = ledger.DIDKey("did:medid:someoneelse")
			return trusted
		}},
		{"tampered proof", func(p *ledger.Proof) *light.Root {
			b := append([]byte(nil), p.ProofOps...)
			b[len(b)-3] ^= 0x01
			p.ProofOps = b
			return trusted
		}},
		{"tampered header", func(p *ledger.Proof) *light.Root {
			b := append([]byte(nil), p.SignedHeader...)
			b[len(b)/3] ^= 0x01
			p.SignedHeader = b
			return trusted
		}},
		{"wrong height", func(p *ledger.Proof) *light.Root { p.Height++; return trusted }},
		{"untrusted validator set", func(p *ledger.Proof) *light.Root { return &other }},
		{"other chain", func(p *ledger.Proof) *light.Root { return &otherChain }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := clone()
			root := tc.mutate(p)
			if err := p.Verify(ctx, lc(root)); !errors.Is(err, ledger.ErrProof) {
				t.Errorf("Verify = %v, want ledger.ErrProof", err)
			}
		})
	}

	// The proving client rejects a node that serves a doctored proof.
	_, vals, _ := client.TrustFromGenesis(s.Genesis)
	liar, err := client.New(client.Config{URL: s.URL, VerifyProofs: true, ChainID: chainID, TrustedValidators: vals,
		HTTPClient: &http.Client{Transport: tamperTransport{}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := liar.Resolve(ctx, id.DID); !errors.Is(err, ledger.ErrProof) {
		t.Errorf("Resolve through a tampering transport: err = %v, want ledger.ErrProof", err)
	}
	// And a client trusting another validator set rejects the real node.
	stranger, _ := client.New(client.Config{URL: s.URL, VerifyProofs: true, ChainID: chainID, TrustedValidators: &other})
	if _, err := stranger.Resolve(ctx, id.DID); !errors.Is(err, ledger.ErrProof) {
		t.Errorf("Resolve with an untrusted validator set: err = %v, want ledger.ErrProof", err)
	}
}

// tamperTransport rewrites the proven value in the proof header, as a
// malicious node would to change a DID document.
type tamperTransport struct{}

func (tamperTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	h := resp.Header.Get(ledger.ProofHeader)
	if h == "" {
		return resp, nil
	}
	b, _ := base64.RawURLEncoding.DecodeString(h)
	var p map[string]any
	_ = json.Unmarshal(b, &p)
	v, _ := base64.StdEncoding.DecodeString(p["value"].(string))
	var rec map[string]any
	_ = json.Unmarshal(v, &rec)
	rec["metadata"].(map[string]any)["versionId"] = "2"
	v, _ = json.Marshal(rec)
	p["value"] = base64.StdEncoding.EncodeToString(v)
	b, _ = json.Marshal(p)
	resp.Header.Set(ledger.ProofHeader, base64.RawURLEncoding.EncodeToString(b))
	return resp, nil
}

// TestConflictingWritesAnswerPromptly: of two deactivations of the same
// version sent at once, one commits and the other is refused (in its block,
// or when the mempool re-checks it after the first commits); neither waits
// for the commit timeout.
func TestConflictingWritesAnswerPromptly(t *testing.T) {
	s := nodetest.Start(t, nodetest.Options{BlockTime: 50 * time.Millisecond})
	plain, _ := newClients(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for round := 0; round < 3; round++ {
		id := nodetest.NewIdentity(t, "conflict-"+string(rune('a'+round)))
		if _, err := plain.Submit(ctx, id.CreateTx(t)); err != nil {
			t.Fatal(err)
		}
		errs := make(chan error, 2)
		for i := 0; i < 2; i++ {
			go func() {
				_, err := plain.Submit(ctx, id.DeactivateTx(t, "1"))
				errs <- err
			}()
		}
		var ok, refused int
		for i := 0; i < 2; i++ {
			err := <-errs
			switch {
			case err == nil:
				ok++
			case errors.Is(err, ledger.ErrStaleVersion), errors.Is(err, ledger.ErrDeactivated):
				refused++
			default:
				t.Errorf("round %d: unexpected error %v", round, err)
			}
		}
		if ok != 1 || refused != 1 {
			t.Errorf("round %d: %d committed, %d refused; want 1 and 1", round, ok, refused)
		}
	}
}

// TestVerifyPipeline runs credentials/verify against a real registry
// through this client (proofs on): an accredited hospital's credential
// verifies, the same credential fails once its status bit is published,
// and an unaccredited credential type is refused.
func TestVerifyPipeline(t *testing.T) {
	s := nodetest.Start(t, nodetest.Options{})
	plain, proving := newClients(t, s)
	ctx := context.Background()
	hosp := nodetest.NewIdentity(t, "verify-hospital")
	patient := nodetest.NewIdentity(t, "verify-patient")
	if _, err := plain.Submit(ctx, hosp.CreateTx(t)); err != nil {
		t.Fatal(err)
	}
	from := time.Now().Add(-24 * time.Hour).UTC().Truncate(time.Second)
	acc := nodetest.Sign(t, nodetest.Must(t)(tx.NewIssuerAccredit(s.GovernanceDID, tx.Accreditation{Issuer: hosp.DID, ID: "acc-v",
		Types: []string{"AllergyCredential"}, From: from})), s.Governance, s.GovernanceKID())
	if _, err := plain.Submit(ctx, acc); err != nil {
		t.Fatal(err)
	}
	listID := hosp.DID + ":verify-rev"
	listURL := s.URL + "/1.0/status-lists/" + listID
	publish := func(version int64, revoked bool) {
		t.Helper()
		l, _ := statuslist.New(statuslist.MinEntries)
		_ = l.Set(42, revoked)
		c, err := statuslist.NewCredential(listURL, hosp.DID, statuslist.Revocation, l, 0)
		if err != nil {
			t.Fatal(err)
		}
		vf := time.Now().Add(-time.Minute).UTC().Truncate(time.Second)
		c.ValidFrom = &vf
		tok, err := vc.Issue(c, hosp.Key, hosp.KID())
		if err != nil {
			t.Fatal(err)
		}
		p := nodetest.Sign(t, nodetest.Must(t)(tx.NewStatusListPublish(hosp.DID, listID, version, tok)), hosp.Key, hosp.KID())
		if _, err := plain.Submit(ctx, p); err != nil {
			t.Fatalf("publish v%d: %v", version, err)
		}
	}
	publish(1, false)
	issue := func(typ string) string {
		t.Helper()
		vf := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
		c := &vc.Credential{
			Context:   []string{vc.ContextV2},
			Type:      []string{"VerifiableCredential", typ},
			Issuer:    hosp.DID,
			ValidFrom: &vf,
			Subject:   map[string]any{"id": patient.DID, "allergy": "none recorded"},
			Status: []vc.Status{{ID: listURL + "#42", Type: "BitstringStatusListEntry", StatusPurpose: "revocation",
				StatusListIndex: "42", StatusListCredential: listURL}},
		}
		tok, err := vc.Issue(c, hosp.Key, hosp.KID())
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	newVerifier := func() *verify.Verifier {
		v, err := verify.New(verify.Config{
			Resolver:   did.NewRouter(map[string]did.Resolver{"medid": proving, "key": did.KeyResolver{}}),
			NoDIDCache: true,
			Status:     proving,
			Trust:      proving,
		})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	allergy := issue("AllergyCredential")
	if r := newVerifier().Credential(ctx, allergy); !r.Valid {
		t.Fatalf("accredited, unrevoked credential: %+v", r)
	}
	if r := newVerifier().Credential(ctx, issue("LicenceCredential")); r.Valid || r.Reason != "issuer_not_accredited" {
		t.Errorf("unaccredited type: valid=%v reason=%q, want issuer_not_accredited", r.Valid, r.Reason)
	}
	publish(2, true)
	if r := newVerifier().Credential(ctx, allergy); r.Valid || r.Reason != "revoked" {
		t.Errorf("after revocation: valid=%v reason=%q, want revoked", r.Valid, r.Reason)
	}
}
