package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/medid/medid/credentials/key"
)

// joseVersion is the exact npm jose release the interoperability test
// installs (checked with `npm view jose version`).
const joseVersion = "6.2.17"

// TestJoseInterop checks medid's vc+jwt against an independent JOSE
// implementation, the npm jose package: jose verifies credentials medid
// issued (and rejects a tampered one), and medid vc verify accepts
// credentials jose signed (and rejects one whose kid names another key).
// It needs node and npm and network access to the npm registry; it is
// skipped only when node or npm is missing.
func TestJoseInterop(t *testing.T) {
	t.Parallel() // independent of the other top-level tests: its own registry (if any) and work dirs
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed: skipping the jose interoperability test")
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		t.Skip("npm is not installed: skipping the jose interoperability test")
	}
	js := t.TempDir()
	install := exec.Command(npm, "install", "--no-audit", "--no-fund", "--no-save", "jose@"+joseVersion)
	install.Dir = js
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("npm install jose@%s: %v\n%s", joseVersion, err, out)
	}
	script, err := os.ReadFile(filepath.Join("testdata", "interop", "jose_interop.mjs"))
	if err != nil {
		t.Fatal(err)
	}
	// ESM resolves imports from the script's folder, so it sits next to node_modules.
	if err := os.WriteFile(filepath.Join(js, "jose_interop.mjs"), script, 0o644); err != nil {
		t.Fatal(err)
	}
	nodeRun := func(args ...string) (string, error) {
		cmd := exec.Command(node, append([]string{filepath.Join(js, "jose_interop.mjs")}, args...)...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		if err != nil {
			return stdout.String() + stderr.String(), err
		}
		return stdout.String(), nil
	}

	for _, alg := range []key.Alg{key.Ed25519, key.P256} {
		t.Run(string(alg), func(t *testing.T) {
			dir := t.TempDir()
			p := func(name string) string { return filepath.Join(dir, name) }
			issuer, err := key.Generate(alg)
			if err != nil {
				t.Fatal(err)
			}
			if err := key.WriteFile(p("issuer.jwk"), issuer); err != nil {
				t.Fatal(err)
			}
			pubJWK, err := issuer.Public().JWK()
			if err != nil {
				t.Fatal(err)
			}
			writeJSONFile(t, p("issuer.pub.jwk"), pubJWK)
			issuerDID := keyDID(issuer.Public())
			subject := "did:key:z6Mkr1zfC9ywvbpGfpmGGhQWWy9MRNkYwiS8ShUpJTT4VM8d"
			writeJSONFile(t, p("claims.json"), map[string]any{"type": "AllergyIntolerance", "note": "SYNTHETIC"})

			// medid issues, jose verifies.
			code, out, errOut := runMedid(t, "vc", "issue", "--key", p("issuer.jwk"), "--subject", subject,
				"--type", "AllergyIntoleranceCredential", "--claims", p("claims.json"), "--valid-for", "1h", "--out", p("medid.jwt"))
			if code != 0 {
				t.Fatalf("medid vc issue: exit %d\n%s%s", code, out, errOut)
			}
			got, err := nodeRun("verify", p("medid.jwt"), p("issuer.pub.jwk"))
			if err != nil {
				t.Fatalf("jose rejected medid's credential: %v\n%s", err, got)
			}
			var verified struct {
				Header     map[string]any `json:"header"`
				Credential map[string]any `json:"credential"`
			}
			if err := json.Unmarshal([]byte(got), &verified); err != nil {
				t.Fatalf("jose output: %v\n%s", err, got)
			}
			if verified.Header["typ"] != "vc+jwt" || verified.Header["alg"] != string(alg.JWS()) || verified.Header["kid"] != keyKID(issuer.Public()) {
				t.Errorf("header seen by jose = %v, want typ vc+jwt, alg %s, kid %s", verified.Header, alg.JWS(), keyKID(issuer.Public()))
			}
			if verified.Credential["issuer"] != issuerDID {
				t.Errorf("issuer seen by jose = %v, want %s", verified.Credential["issuer"], issuerDID)
			}
			if cs, _ := verified.Credential["credentialSubject"].(map[string]any); cs["id"] != subject || cs["note"] != "SYNTHETIC" {
				t.Errorf("credentialSubject seen by jose = %v", verified.Credential["credentialSubject"])
			}

			// jose must reject the same token with its payload changed.
			tok, _ := os.ReadFile(p("medid.jwt"))
			parts := strings.Split(strings.TrimSpace(string(tok)), ".")
			payload, err := base64.RawURLEncoding.DecodeString(parts[1])
			if err != nil || !bytes.Contains(payload, []byte("SYNTHETIC")) {
				t.Fatalf("medid token payload: %v", err)
			}
			parts[1] = base64.RawURLEncoding.EncodeToString(bytes.Replace(payload, []byte("SYNTHETIC"), []byte("SYNTHETIK"), 1))
			os.WriteFile(p("tampered.jwt"), []byte(strings.Join(parts, ".")), 0o600)
			if got, err := nodeRun("verify", p("tampered.jwt"), p("issuer.pub.jwk")); err == nil {
				t.Errorf("jose accepted a tampered medid credential:\n%s", got)
			}

			// jose signs, medid verifies.
			now := time.Now().UTC().Truncate(time.Second)
			cred := map[string]any{
				"@context":          []string{"https://www.w3.org/ns/credentials/v2"},
				"id":                "urn:uuid:0b6c2f4e-8a51-4c1e-9d0a-6a1f3f0e2d11",
				"type":              []string{"VerifiableCredential", "AllergyIntoleranceCredential"},
				"issuer":            issuerDID,
				"validFrom":         now.Format(time.RFC3339),
				"validUntil":        now.Add(time.Hour).Format(time.RFC3339),
				"credentialSubject": map[string]any{"id": subject, "type": "AllergyIntolerance", "note": "SYNTHETIC"},
			}
			writeJSONFile(t, p("cred.json"), cred)
			signed, err := nodeRun("sign", p("issuer.jwk"), keyKID(issuer.Public()), p("cred.json"))
			if err != nil {
				t.Fatalf("jose sign: %v\n%s", err, signed)
			}
			os.WriteFile(p("jose.jwt"), []byte(signed), 0o600)
			code, out, errOut = runMedid(t, "vc", "verify", "--json", p("jose.jwt"))
			if code != 0 || !strings.Contains(out, `"valid": true`) {
				t.Fatalf("medid vc verify of jose's credential: exit %d, want 0\n%s%s", code, out, errOut)
			}

			// A jose-signed credential whose kid claims another issuer's
			// key must fail in medid.
			other, _ := key.Generate(alg)
			cred["issuer"] = keyDID(other.Public())
			writeJSONFile(t, p("forged.json"), cred)
			forged, err := nodeRun("sign", p("issuer.jwk"), keyKID(other.Public()), p("forged.json"))
			if err != nil {
				t.Fatalf("jose sign: %v\n%s", err, forged)
			}
			os.WriteFile(p("forged.jwt"), []byte(forged), 0o600)
			code, out, _ = runMedid(t, "vc", "verify", "--json", p("forged.jwt"))
			if code != 1 || !strings.Contains(out, `"reason": "bad_signature"`) {
				t.Errorf("medid vc verify of a forged credential: exit %d, want 1 with bad_signature\n%s", code, out)
			}
		})
	}
}

// runMedid runs the medid command in-process and returns its exit code and output.
func runMedid(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), &env{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr, getenv: func(string) string { return "" }}, args)
	return code, stdout.String(), stderr.String()
}

func writeJSONFile(t *testing.T, path string, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
