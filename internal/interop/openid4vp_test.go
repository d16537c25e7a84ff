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
	k, err := key.Generate(key.Ed25519)
	if err != nil {
		t.Fatal(err)
	}
	d := did.KeyDID(k.Public())
	kid := d + "#" + k.Public().Multikey()
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
			var cfg openid4vp.Config
			if tc.signed {
				cfg.DID, cfg.Key, cfg.KeyID = d, k, kid
			}
			out, url := independentWallet(t, cfg, k, query)
			var got struct {
				Prefix, Identifier, Nonce, ResponseURI string
				DidURL                                 *string `json:"didUrl"`
				Signed                                 bool
			}
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("node output: %v\n%s", err, out)
			}
			if got.Prefix != tc.prefix || got.Signed != tc.signed || got.Nonce == "" || got.ResponseURI != url+"/response" {
				t.Fatalf("resolved %+v", got)
			}
			if tc.signed && (got.Identifier != d || got.DidURL == nil || *got.DidURL != kid) {
				t.Errorf("signed: identifier %s, didUrl %v; want %s, %s", got.Identifier, got.DidURL, d, kid)
			}
		})
	}
}

// independentWallet starts a medid OpenID4VP verifier over TLS (cfg with
// its URL, a did:key-resolving Verify, the name "City ER" and a quiet
// logger filled in), creates a request for query, has @openid4vc/openid4vp
// (testdata/openid4vp_wallet.mjs, given k's public JWK as the verifier's
// key, and args after them) resolve it, and returns what the independent
// wallet printed and the verifier's URL.
func independentWallet(t *testing.T, cfg openid4vp.Config, k *key.PrivateKey, query openid4vp.DCQLQuery, args ...string) ([]byte, string) {
	t.Helper()
	node, dir := nodeEnv(t)
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
	// The library fetches request objects from https URLs only.
	srv := httptest.NewUnstartedServer(nil)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	cfg.URL, cfg.Verify, cfg.Name, cfg.Logger = srv.URL, vv, "City ER", quiet()
	v, err := openid4vp.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = v
	st, err := v.CreateRequest(query)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, append([]string{filepath.Join(dir, "openid4vp_wallet.mjs"), st.URI, jwkFile}, args...)...)
	// The test server's certificate is self-signed.
	cmd.Env = append(os.Environ(), "NODE_TLS_REJECT_UNAUTHORIZED=0")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("@openid4vc/openid4vp refused the request: %v\n%s%s", err, out.String(), errb.String())
	}
	return out.Bytes(), srv.URL
}
