package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/registry/hospital/vault"
	"github.com/medid/medid/registry/hospital/vault/vaulttest"
	"github.com/medid/medid/registry/tx"
)

// TestVaultScripts runs testdata/vault/*.txtar against a registry started
// in-process with a record vault mounted in its HTTP server, as
// "registryd --vault DIR" serves it. Each script gets:
//
//	$MEDID_REGISTRY   the registry's URL (also the vault's)
//	$VAULT            the same URL, for --vault
//	$FHIR             the vault's FHIR base URL ($VAULT/fhir)
//	$WORK/ehr.jwk     the key of an EHR registered for the FHIR API
//	$WORK/hospital.jwk the vault's own key (a writer)
//	$WORK/genesis.json the network's genesis, for --genesis
//	$WORK/stmary.jwk  a hospital key whose did:medid $WRITER (not yet
//	                  registered) is a vault writer
//
// and the commands "capture VAR REGEXP" (as in the registry scripts),
// "flush" (anchor the vault's pending trail entries now) and "staff DID…"
// (set the vault's break-glass roster, as registryd --vault-staff does).
func TestVaultScripts(t *testing.T) {
	t.Parallel() // independent of the other top-level tests: its own registry (if any) and work dirs
	stack := startRegistry(t)
	// A hospital whose registered did:medid (not its key's did:key) is the
	// vault's writer, as "registryd --vault-writers did:medid:…" says; the
	// scripts register it from $WORK/stmary.jwk.
	wk, err := key.Generate(key.Ed25519)
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := tx.KeyTemplate(wk.Public())
	if err != nil {
		t.Fatal(err)
	}
	writer, err := tx.DeriveDID(tmpl)
	if err != nil {
		t.Fatal(err)
	}
	wjwk, err := wk.MarshalPrivateJWK()
	if err != nil {
		t.Fatal(err)
	}
	// An EHR registered for the vault's FHIR API (SMART Backend Services).
	ehr, err := key.Generate(key.Ed25519)
	if err != nil {
		t.Fatal(err)
	}
	ejwk, err := ehr.MarshalPrivateJWK()
	if err != nil {
		t.Fatal(err)
	}
	vs := vaulttest.Start(t, vaulttest.Options{Registry: stack, Writers: []string{writer}, FHIRClients: map[string]vault.FHIRClient{
		did.KeyDID(ehr.Public()): {Scopes: []string{"system/*.rs", "system/AllergyIntolerance.c", "system/Patient.c"}, Name: "Ward 3 EHR"}}})
	srv, v, hk := vs, vs.Vault, vs.Key
	hjwk, err := hk.MarshalPrivateJWK()
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir: filepath.Join("testdata", "vault"),
		Setup: func(env *testscript.Env) error {
			env.Setenv("MEDID_REGISTRY", srv.URL)
			env.Setenv("VAULT", srv.URL)
			env.Setenv("FHIR", srv.URL+"/fhir")
			env.Setenv("WRITER", writer)
			if err := os.WriteFile(filepath.Join(env.WorkDir, "stmary.jwk"), wjwk, 0o600); err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(env.WorkDir, "genesis.json"), stack.Genesis, 0o644); err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(env.WorkDir, "ehr.jwk"), ejwk, 0o600); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(env.WorkDir, "hospital.jwk"), hjwk, 0o600)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"capture": captureCmd,
			"flush": func(ts *testscript.TestScript, neg bool, args []string) {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				ts.Check(v.Flush(ctx))
			},
			"staff": func(ts *testscript.TestScript, neg bool, args []string) {
				v.SetStaff(args)
			},
		},
	})
}
