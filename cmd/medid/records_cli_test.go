package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/registry/hospital/vault"
	"github.com/medid/medid/registry/hospital/vault/vaulttest"
	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/node/nodetest"
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
//	$WORK/governance.jwk the network's governance key (directory entries)
//	$WORK/stmary.jwk  a hospital key whose did:medid $WRITER (not yet
//	                  registered) is a vault writer
//
// and the commands "capture VAR REGEXP" (as in the registry scripts),
// "flush" (anchor the vault's pending trail entries now), "staff DID…"
// (set the vault's break-glass roster, as registryd --vault-staff does) and
// "ledgerscan DID…" (see ledgerScan).
func TestVaultScripts(t *testing.T) {
	t.Parallel() // independent of the other top-level tests: its own registry (if any) and work dirs
	stack := startRegistry(t)
	gov := governanceKey(t, stack)
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
			if err := os.WriteFile(filepath.Join(env.WorkDir, "governance.jwk"), gov, 0o600); err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(env.WorkDir, "ehr.jwk"), ejwk, 0o600); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(env.WorkDir, "hospital.jwk"), hjwk, 0o600)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"capture": captureCmd,
			"flush":   flushCmd(v),
			"staff": func(ts *testscript.TestScript, neg bool, args []string) {
				v.SetStaff(args)
			},
			"ledgerscan": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) == 0 {
					ts.Fatalf("usage: ledgerscan DID…")
				}
				msg, err := ledgerScan(stack, args)
				ts.Check(err)
				ts.Logf("%s", msg)
			},
		},
	})
}

// flushCmd is the scripts' "flush": anchor v's pending trail entries now.
func flushCmd(v *vault.Vault) func(ts *testscript.TestScript, neg bool, args []string) {
	return func(ts *testscript.TestScript, neg bool, args []string) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		ts.Check(v.Flush(ctx))
	}
}

// ledgerScan is issue 11 item 13's check: it reads every consent anchor and
// audit anchor in the registry's committed state (keys and values), and
// every consent.anchor, consent.revoke and audit.anchor transaction of every
// block (raw, and its JWS header and payload decoded), and fails if any of
// them contains one of dids (a patient's DIDs: primary and registered), in
// any case. It also fails when there is nothing to scan (no consent anchor,
// no audit anchor, no consent transaction), so a broken scan cannot pass.
func ledgerScan(stack *nodetest.Stack, dids []string) (string, error) {
	var found []string
	look := func(where string, hay []byte) {
		low := bytes.ToLower(hay)
		for _, d := range dids {
			if bytes.Contains(hay, []byte(d)) || bytes.Contains(low, []byte(strings.ToLower(d))) {
				found = append(found, fmt.Sprintf("%s names %s", where, d))
			}
		}
	}
	counts := map[string]int{}
	for _, prefix := range []string{ledger.PrefixConsent, ledger.PrefixAudit} {
		err := stack.App.Scan(prefix, func(k, v []byte) error {
			counts[prefix]++
			look(fmt.Sprintf("state record %s", k), append(append(append([]byte(nil), k...), 0), v...))
			return nil
		})
		if err != nil {
			return "", err
		}
	}
	for h := int64(1); h <= stack.Node.Height(); h++ {
		b := stack.Node.Block(h)
		if b == nil {
			continue
		}
		for i, raw := range b.Data.Txs {
			t, err := tx.Decode(raw)
			if err != nil {
				continue
			}
			switch t.Payload.Type {
			case tx.ConsentAnchor, tx.ConsentRevoke, tx.AuditAnchor:
			default:
				continue
			}
			counts[string(t.Payload.Type)]++
			hay := append([]byte(nil), raw...)
			for _, part := range bytes.Split(raw, []byte{'.'}) {
				if dec, err := base64.RawURLEncoding.DecodeString(string(part)); err == nil {
					hay = append(append(hay, 0), dec...)
				}
			}
			look(fmt.Sprintf("%s transaction %d of block %d", t.Payload.Type, i, h), hay)
		}
	}
	if counts[ledger.PrefixConsent] == 0 || counts[ledger.PrefixAudit] == 0 || counts[string(tx.ConsentAnchor)] == 0 || counts[string(tx.ConsentRevoke)] == 0 {
		return "", fmt.Errorf("ledgerscan: nothing to scan (%v): the story did not run, or the scan is broken", counts)
	}
	if len(found) > 0 {
		return "", fmt.Errorf("the ledger links the patient: %s", strings.Join(found, "; "))
	}
	return fmt.Sprintf("ledgerscan: %d consent anchors, %d audit anchors, %d consent.anchor, %d consent.revoke and %d audit.anchor transactions: none names %s",
		counts[ledger.PrefixConsent], counts[ledger.PrefixAudit], counts[string(tx.ConsentAnchor)], counts[string(tx.ConsentRevoke)],
		counts[string(tx.AuditAnchor)], strings.Join(dids, " or ")), nil
}
