package interop

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/credentials/openid4vci"
	"github.com/medid/medid/credentials/vc"
	"github.com/medid/medid/credentials/verify"
	"github.com/medid/medid/wallet"
	"github.com/medid/medid/wallet/openid"
)

// Exact npm versions (checked with `npm view NAME version`).
var npmPackages = []string{
	"@openid4vc/openid4vci@0.4.6",
	"@openid4vc/openid4vp@0.4.6",
	"@openid4vc/oauth2@0.4.6",
	"@openid4vc/utils@0.4.6",
	"@openid4vc/openid4vp@0.4.6",
	"jose@6.2.17",
	"fhir@4.12.0",
	"fhir-kit-client@2.0.3",
	// SD-JWT VC, Token Status List and JSON-LD checks (sdjwt_test.go);
	// 0.20.0 of @sd-jwt/* does not install (a dependency is not served).
	"@sd-jwt/sd-jwt-vc@0.19.0",
	"@sd-jwt/core@0.19.0",
	"@sd-jwt/crypto-nodejs@0.19.0",
	"@sd-jwt/decode@0.19.0",
	"@sd-jwt/jwt-status-list@0.19.0",
	"jsonld@9.0.0",
	"@digitalbazaar/credentials-context@3.2.0",
	// DCQL (OpenWallet Foundation dcql-ts): credential_sets and claim_sets
	// checked on the npm side (dcql_test.go).
	"dcql@3.0.0",
}

var (
	installOnce sync.Once
	installDir  string
	installErr  error
)

// nodeEnv installs the npm packages once per test binary and copies the
// scripts next to node_modules (ESM resolves imports from there).
func nodeEnv(t *testing.T) (node, dir string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed: skipping the interoperability tests")
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		t.Skip("npm is not installed: skipping the interoperability tests")
	}
	installOnce.Do(func() {
		installDir, installErr = os.MkdirTemp("", "medid-interop-")
		if installErr != nil {
			return
		}
		cmd := exec.Command(npm, append([]string{"install", "--no-audit", "--no-fund", "--no-save"}, npmPackages...)...)
		cmd.Dir = installDir
		if out, err := cmd.CombinedOutput(); err != nil {
			installErr = err
			installDir = string(out)
			return
		}
		scripts, _ := filepath.Glob(filepath.Join("testdata", "*.mjs"))
		for _, s := range scripts {
			b, err := os.ReadFile(s)
			if err != nil {
				installErr = err
				return
			}
			if installErr = os.WriteFile(filepath.Join(installDir, filepath.Base(s)), b, 0o644); installErr != nil {
				return
			}
		}
	})
	if installErr != nil {
		t.Fatalf("npm install %s: %v\n%s", strings.Join(npmPackages, " "), installErr, installDir)
	}
	return node, installDir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if installDir != "" && installErr == nil {
		os.RemoveAll(installDir)
	}
	os.Exit(code)
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// TestIndependentWallet: the @openid4vc/openid4vci client obtains a
// credential from medid's issuer (pre-authorized code with a PIN, nonce
// endpoint, jwt proof with a jwk), jose verifies it, and it is bound to the
// client's key; a wrong PIN is refused with invalid_grant.
func TestIndependentWallet(t *testing.T) {
	node, dir := nodeEnv(t)
	issKey, err := key.Generate(key.Ed25519)
	if err != nil {
		t.Fatal(err)
	}
	issDID := did.KeyDID(issKey.Public())
	srv := httptest.NewUnstartedServer(nil)
	srv.Start()
	defer srv.Close()
	const typ = "AllergyIntoleranceCredential"
	is, err := openid4vci.New(openid4vci.Config{
		URL: srv.URL, Key: issKey, DID: issDID, Kid: issDID + "#" + issKey.Public().Multikey(),
		Configurations: map[string]openid4vci.Configuration{typ: openid4vci.NewConfiguration(typ, openid4vci.Display{Name: "Allergies"})},
		Display:        []openid4vci.Display{{Name: "St Mary", Logo: &openid4vci.Logo{URI: "https://hospital.example/logo.png"}}},
		Resolver:       did.KeyResolver{}, Logger: quiet(),
	})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = is
	pub, err := issKey.Public().JWK()
	if err != nil {
		t.Fatal(err)
	}
	pubFile := filepath.Join(t.TempDir(), "issuer.pub.jwk")
	b, _ := json.Marshal(pub)
	if err := os.WriteFile(pubFile, b, 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(uri, pin string) (string, error) {
		cmd := exec.Command(node, filepath.Join(dir, "openid4vci_client.mjs"), uri, pin, pubFile)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		return out.String() + errb.String(), err
	}

	offer, err := is.CreateOffer(openid4vci.OfferRequest{ConfigurationID: typ, Claims: map[string]any{"allergy": "penicillin"}, TxCode: true})
	if err != nil {
		t.Fatal(err)
	}
	out, err := run(offer.URI, offer.TxCode)
	if err != nil {
		t.Fatalf("the independent wallet failed: %v\n%s", err, out)
	}
	var got struct {
		Credential string          `json:"credential"`
		HolderJWK  json.RawMessage `json:"holderJwk"`
		Payload    map[string]any  `json:"payload"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("node output: %v\n%s", err, out)
	}
	holder, err := key.ParsePublicJWK(got.HolderJWK)
	if err != nil {
		t.Fatal(err)
	}
	c, err := vc.Verify(context.Background(), got.Credential, func(context.Context, string) (key.PublicKey, error) { return issKey.Public(), nil }, vc.VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if want := did.KeyDID(holder); c.SubjectID() != want {
		t.Errorf("credentialSubject.id = %s, want the wallet's key %s", c.SubjectID(), want)
	}
	if subj, _ := got.Payload["credentialSubject"].(map[string]any); subj["allergy"] != "penicillin" {
		t.Errorf("jose saw credentialSubject %v", got.Payload["credentialSubject"])
	}

	offer2, _ := is.CreateOffer(openid4vci.OfferRequest{ConfigurationID: typ, TxCode: true})
	wrong := "000000"
	if offer2.TxCode == wrong {
		wrong = "111111"
	}
	out, err = run(offer2.URI, wrong)
	if err == nil || !strings.Contains(out, "invalid_grant") {
		t.Errorf("wrong PIN: got %v, want the wallet to report invalid_grant\n%s", err, out)
	}
}

// TestIndependentIssuer: medid's wallet redeems an offer made by an issuer
// built on @openid4vc/openid4vci and @openid4vc/oauth2 (metadata, offer,
// token with tx_code, nonce, proof verification by the library), and
// stores the credential after verifying it.
func TestIndependentIssuer(t *testing.T) {
	node, dir := nodeEnv(t)
	issKey, err := key.Generate(key.Ed25519)
	if err != nil {
		t.Fatal(err)
	}
	issDID := did.KeyDID(issKey.Public())
	jwkFile := filepath.Join(t.TempDir(), "issuer.jwk")
	if err := key.WriteFile(jwkFile, issKey); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, filepath.Join(dir, "openid4vci_issuer.mjs"), jwkFile, issDID, issDID+"#"+issKey.Public().Multikey())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	var started struct {
		Offer  string `json:"offer"`
		TxCode string `json:"txCode"`
	}
	if err := json.NewDecoder(stdout).Decode(&started); err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("the independent issuer did not start: %v\n%s", err, stderr.String())
	}

	vv, err := verify.New(verify.Config{Resolver: did.KeyResolver{}})
	if err != nil {
		t.Fatal(err)
	}
	kdf := wallet.DefaultKDF()
	kdf.Time, kdf.MemoryKiB = 1, 8*1024
	w, _, err := wallet.Create(wallet.Config{Dir: filepath.Join(t.TempDir(), "w"), KDF: kdf, Verifier: wallet.VerifyWith(vv)}, []byte("patient passphrase for tests"))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	ctx := context.Background()

	// A wrong PIN: the library's token endpoint refuses with invalid_grant.
	_, err = openid.AcceptOffer(ctx, w, started.Offer, openid.AcceptOfferOptions{TxCode: func(*openid4vci.TxCode) (string, error) { return "0000", nil }})
	var pe *openid4vci.ProtocolError
	if started.TxCode != "0000" && (!errors.As(err, &pe) || pe.Code != openid4vci.ErrCodeInvalidGrant) {
		t.Errorf("wrong PIN: got %v, want invalid_grant", err)
	}
	got, err := openid.AcceptOffer(ctx, w, started.Offer, openid.AcceptOfferOptions{TxCode: func(tc *openid4vci.TxCode) (string, error) {
		if tc.Length != 4 {
			t.Errorf("tx_code length %d, want 4", tc.Length)
		}
		return started.TxCode, nil
	}})
	if err != nil {
		t.Fatalf("accepting the independent issuer's offer: %v\n%s", err, stderr.String())
	}
	p, _ := w.PrimaryDID()
	if len(got) != 1 || got[0].Issuer != issDID || got[0].Subject != p.DID || !got[0].HasType("AllergyIntoleranceCredential") {
		t.Errorf("stored %+v, want one allergy credential from %s bound to %s", got, issDID, p.DID)
	}
}
