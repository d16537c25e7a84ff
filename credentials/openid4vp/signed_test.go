package openid4vp

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/medid/medid/credentials/credtest"
	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/credentials/verify"
)

func newSigningVerifier(t testing.TB, signer credtest.Party) (*Verifier, *httptest.Server) {
	vv, err := verify.New(verify.Config{Resolver: did.KeyResolver{}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(nil)
	t.Cleanup(srv.Close)
	v, err := New(Config{URL: srv.URL, Verify: vv, Name: "City ER", DID: signer.DID, Key: signer.Key, KeyID: signer.Kid,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = v
	return v, srv
}

func TestSignedRequest(t *testing.T) {
	ctx := context.Background()
	er := credtest.NewParty(t, key.Ed25519, "ER verifier")
	v, _ := newSigningVerifier(t, er)
	if want := PrefixDecentralizedIdentifier + er.DID; v.ClientID() != want {
		t.Fatalf("client_id %q, want %q", v.ClientID(), want)
	}
	st, err := v.CreateRequest(query())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(st.URI, "request_uri=") {
		t.Fatalf("a signed request goes by reference: %s", st.URI)
	}
	c := Client{Resolver: did.KeyResolver{}}
	req, err := c.FetchRequest(ctx, st.URI)
	if err != nil {
		t.Fatal(err)
	}
	if req.Signer != er.DID {
		t.Fatalf("Signer = %q, want %s", req.Signer, er.DID)
	}
	// Without a resolver the wallet cannot check it, and refuses.
	if _, err := (&Client{}).FetchRequest(ctx, st.URI); code(err) != ErrCodeInvalidRequest {
		t.Errorf("no resolver: %v", err)
	}
	// A request object signed by another key than the client_id's DID is refused.
	impostor := credtest.NewParty(t, key.Ed25519, "impostor")
	obj, err := signedJWT(req, impostor.Key, impostor.Kid)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.parseObject(ctx, []byte(obj), req.ClientID); code(err) != ErrCodeInvalidRequest {
		t.Errorf("kid of another DID: %v", err)
	}
	obj, err = signedJWT(req, impostor.Key, er.Kid) // right kid, wrong key
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.parseObject(ctx, []byte(obj), req.ClientID); err == nil || !strings.Contains(err.Error(), "does not verify") {
		t.Errorf("wrong key: %v", err)
	}
	// An alg none object claiming the DID prefix is refused.
	unsigned, err := unsecuredJWT(req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.parseObject(ctx, []byte(unsigned), req.ClientID); code(err) != ErrCodeInvalidClient {
		t.Errorf("unsigned decentralized_identifier request: %v", err)
	}
	// By value with the DID prefix is refused: it cannot be signed.
	if _, _, _, err := ParseURI("openid4vp://?client_id=" + PrefixDecentralizedIdentifier + er.DID + "&response_type=vp_token"); code(err) != ErrCodeInvalidRequest {
		t.Errorf("by value with a DID: %v", err)
	}
}

func TestUnsignedByValue(t *testing.T) {
	v, _ := newVerifier(t)
	st, err := v.CreateRequest(query())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(st.URI, "request_uri=") || !strings.Contains(st.URI, "dcql_query=") {
		t.Fatalf("an unsigned request goes by value: %s", st.URI)
	}
	req, err := (&Client{}).FetchRequest(context.Background(), st.URI)
	if err != nil {
		t.Fatal(err)
	}
	if req.Signer != "" || req.ClientMetadata == nil || req.ClientMetadata.ClientName != "ER" || req.Nonce == "" {
		t.Fatalf("by value: %+v", req)
	}
}
