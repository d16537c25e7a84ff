package interop

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/credentials/openid4vp"
	"github.com/medid/medid/credentials/verify"
)

// TestIndependentWalletReadsSignedRequest: @openid4vc/openid4vp resolves
// medid's signed request object (client_id decentralized_identifier:DID,
// kid a DID URL of it, typ oauth-authz-req+jwt, by reference) and its
// unsigned request passed by value (redirect_uri:), which it refused when
// it came by reference as an alg "none" object.
func TestIndependentWalletReadsSignedRequest(t *testing.T) {
	node, dir := nodeEnv(t)
	k, err := key.Generate(key.Ed25519)
	if err != nil {
		t.Fatal(err)
	}
	d := did.KeyDID(k.Public())
	kid := d + "#" + k.Public().Multikey()
	vv, err := verify.New(verify.Config{Resolver: did.KeyResolver{}})
	if err != nil {
		t.Fatal(err)
	}
	pub, err := k.Public().JWK()
	if err != nil {
		t.Fatal(err)
	}
	jwkFile := filepath.Join(t.TempDir(), "verifier.jwk")
	b, _ := json.Marshal(pub)
	if err := os.WriteFile(jwkFile, b, 0o644); err != nil {
		t.Fatal(err)
	}
	query := openid4vp.DCQLQuery{Credentials: []openid4vp.CredentialQuery{openid4vp.NewQuery("allergies", "AllergyIntoleranceCredential", "code")}}
	for _, tc := range []struct {
		name   string
		signed bool
		prefix string
	}{
		{"signed by the verifier's DID, by reference", true, "decentralized_identifier"},
		{"unsigned, by value", false, "redirect_uri"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The library fetches request objects from https URLs only.
			srv := httptest.NewUnstartedServer(nil)
			srv.StartTLS()
			defer srv.Close()
			cfg := openid4vp.Config{URL: srv.URL, Verify: vv, Name: "City ER", Logger: quiet()}
			if tc.signed {
				cfg.DID, cfg.Key, cfg.KeyID = d, k, kid
			}
			v, err := openid4vp.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			srv.Config.Handler = v
			st, err := v.CreateRequest(query)
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(node, filepath.Join(dir, "openid4vp_wallet.mjs"), st.URI, jwkFile)
			// The test server's certificate is self-signed.
			cmd.Env = append(os.Environ(), "NODE_TLS_REJECT_UNAUTHORIZED=0")
			var out, errb bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errb
			if err := cmd.Run(); err != nil {
				t.Fatalf("@openid4vc/openid4vp refused the request: %v\n%s%s", err, out.String(), errb.String())
			}
			var got struct {
				Prefix, Identifier, Nonce, ResponseURI string
				DidURL                                 *string `json:"didUrl"`
				Signed                                 bool
			}
			if err := json.Unmarshal(out.Bytes(), &got); err != nil {
				t.Fatalf("node output: %v\n%s", err, out.String())
			}
			if got.Prefix != tc.prefix || got.Signed != tc.signed || got.Nonce == "" || got.ResponseURI != srv.URL+"/response" {
				t.Fatalf("resolved %+v", got)
			}
			if tc.signed && (got.Identifier != d || got.DidURL == nil || *got.DidURL != kid) {
				t.Errorf("signed: identifier %s, didUrl %v; want %s, %s", got.Identifier, got.DidURL, d, kid)
			}
		})
	}
}
