package openid4vci

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/credentials/sdjwt"
	"github.com/medid/medid/credentials/tokenstatus"
)

type tslAlloc struct{ a *tokenstatus.Allocator }

func (t tslAlloc) Allocate(context.Context) (tokenstatus.Reference, error) {
	i, err := t.a.Allocate()
	return tokenstatus.Reference{Index: i, URI: "https://registry.example/1.0/token-status-lists/1"}, err
}

// TestSDJWTIssuance: a wallet obtains a dc+sd-jwt credential through the
// pre-authorized flow; it is an SD-JWT VC bound to the proof's key, with a
// random Token Status List entry, every clinical claim disclosable.
func TestSDJWTIssuance(t *testing.T) {
	issKey, _ := key.Generate(key.P256)
	holder, _ := key.Generate(key.Ed25519)
	issDID := did.KeyDID(issKey.Public())
	issKid := issDID + "#" + issKey.Public().Multikey()
	hKid := did.KeyDID(holder.Public()) + "#" + holder.Public().Multikey()
	alloc, err := tokenstatus.NewAllocator(tokenstatus.MinEntries)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(nil)
	srv.Start()
	defer srv.Close()
	is, err := New(Config{
		URL: srv.URL, Key: issKey, DID: issDID, Kid: issKid, Resolver: did.KeyResolver{},
		Configurations: map[string]Configuration{testType + ".sd": NewSDJWTConfiguration(testType, Display{Name: "Allergies"})},
		TokenStatus:    tslAlloc{alloc}, ValidFor: 24 * time.Hour,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = is
	if conf := is.Metadata().Configurations[testType+".sd"]; conf.Format != FormatSDJWT || conf.VCT != sdjwt.VCT(testType) || len(conf.CredentialDefinition.Type) != 0 {
		t.Fatalf("configuration %+v", conf)
	}
	claims := map[string]any{"criticality": "high", "code": map[string]any{"system": "http://snomed.info/sct", "code": "764146007", "display": "Penicillin"}}
	res, err := is.CreateOffer(OfferRequest{ConfigurationID: testType + ".sd", Claims: claims})
	if err != nil {
		t.Fatal(err)
	}
	var c Client
	acc, err := c.Accept(context.Background(), AcceptRequest{Offer: res.Offer, Key: holder, Kid: hKid})
	if err != nil {
		t.Fatal(err)
	}
	keys := func(_ context.Context, kid string) (key.PublicKey, error) { return issKey.Public(), nil }
	v, err := sdjwt.VerifyVC(context.Background(), acc.Credentials[0], keys, sdjwt.VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cr := v.Credential
	if !cr.Holder.Equal(holder.Public()) || cr.Subject != did.KeyDID(holder.Public()) || cr.VCT != sdjwt.VCT(testType) || cr.Status == nil || cr.Expires == nil {
		t.Errorf("credential %+v", cr)
	}
	if !alloc.Taken(cr.Status.Index) {
		t.Errorf("status index %d was not allocated", cr.Status.Index)
	}
	h, err := sdjwt.Open(acc.Credentials[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Paths) != 6 { // sub, criticality, code, code.system, code.code, code.display
		t.Errorf("disclosable paths %v", h.Paths)
	}
	if _, err := is.CreateOffer(OfferRequest{ConfigurationID: testType + ".sd", Claims: map[string]any{"cnf": "x"}}); protoCode(err) != ErrCodeInvalidRequest {
		t.Errorf("offer with a reserved claim: %v", err)
	}
}
