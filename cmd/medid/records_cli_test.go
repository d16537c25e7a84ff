package main

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/medid/medid/credentials/consent"
	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/registry/client"
	"github.com/medid/medid/registry/vault"
)

// TestVaultScripts runs testdata/vault/*.txtar against a registry started
// in-process with a record vault mounted in its HTTP server, as
// "registryd --vault DIR" serves it. Each script gets:
//
//	$MEDID_REGISTRY   the registry's URL (also the vault's)
//	$VAULT            the same URL, for --vault
//	$WORK/hospital.jwk the vault's own key (a writer)
//	$WORK/genesis.json the network's genesis, for --genesis
//
// and the commands "capture VAR REGEXP" (as in the registry scripts) and
// "flush" (anchor the vault's pending trail entries now).
func TestVaultScripts(t *testing.T) {
	stack := startRegistry(t)
	reg, err := client.New(client.Config{URL: stack.URL})
	if err != nil {
		t.Fatal(err)
	}
	hk, err := key.Generate(key.Ed25519)
	if err != nil {
		t.Fatal(err)
	}
	hdid := did.KeyDID(hk.Public())
	checker, err := consent.NewChecker(consent.CheckerConfig{Keys: consent.ResolverKeys(reg), Ledger: reg, StatusTTL: -1})
	if err != nil {
		t.Fatal(err)
	}
	v, err := vault.New(vault.Config{Dir: t.TempDir(), DID: hdid, Key: hk, KeyID: hdid + "#" + hk.Public().Multikey(), Resolver: reg,
		Consent: checker, Submit: func(ctx context.Context, raw []byte) error { _, err := reg.Submit(ctx, raw); return err }})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(vault.Mount(stack.API, v))
	t.Cleanup(srv.Close)
	hjwk, err := hk.MarshalPrivateJWK()
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir: filepath.Join("testdata", "vault"),
		Setup: func(env *testscript.Env) error {
			env.Setenv("MEDID_REGISTRY", srv.URL)
			env.Setenv("VAULT", srv.URL)
			if err := os.WriteFile(filepath.Join(env.WorkDir, "genesis.json"), stack.Genesis, 0o644); err != nil {
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
		},
	})
}
