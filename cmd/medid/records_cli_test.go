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
//
// and the commands "capture VAR REGEXP" (as in the registry scripts),
// "flush" (anchor the vault's pending trail entries now) and "staff DID…"
// (set the vault's break-glass roster, as registryd --vault-staff does).
func TestVaultScripts(t *testing.T) {
	stack := startRegistry(t)
	// An EHR registered for the vault's FHIR API (SMART Backend Services).
	ehr, err := key.Generate(key.Ed25519)
	if err != nil {
		t.Fatal(err)
	}
	ejwk, err := ehr.MarshalPrivateJWK()
	if err != nil {
		t.Fatal(err)
	}
	vs := vaulttest.Start(t, vaulttest.Options{Registry: stack, FHIRClients: map[string]vault.FHIRClient{
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
