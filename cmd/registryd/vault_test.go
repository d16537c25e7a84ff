package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/registry/client"
	"github.com/medid/medid/registry/hospital/vaultapi"
	"github.com/medid/medid/registry/hospital/vaultclient"
	"github.com/medid/medid/registry/tx"
	"github.com/medid/medid/wallet"
	"github.com/medid/medid/wallet/hospital"
)

// TestVaultMounted: with --vault DIR the registry's HTTP server also serves
// the record vault; its key and master key are created 0600, and the vault
// DID is stable across restarts.
func TestVaultMounted(t *testing.T) {
	home, vdir := t.TempDir(), filepath.Join(t.TempDir(), "vault")
	httpAddr := freeAddr(t)
	p := start(t, httpAddr, "--home", home, "--http", httpAddr, "--p2p", freeAddr(t), "--block-time", "20ms", "--vault", vdir)
	p.waitHealthy(20 * time.Second)
	vaultDID := func() string {
		resp, body := get(t, p.url+"/1.0/vault", "application/json")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /1.0/vault: %d %s", resp.StatusCode, body)
		}
		var info struct {
			DID string `json:"did"`
		}
		if err := json.Unmarshal(body, &info); err != nil || !strings.HasPrefix(info.DID, "did:key:z6Mk") {
			t.Fatalf("vault info %s: %v", body, err)
		}
		return info.DID
	}
	first := vaultDID()
	if !strings.Contains(p.out.String(), "record vault "+vdir) {
		t.Errorf("startup output does not mention the vault:\n%s", p.out.String())
	}
	for _, f := range []string{VaultKeyFile, "master.key"} {
		if st, err := os.Stat(filepath.Join(vdir, f)); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, want mode 0600", f, err)
		}
	}
	// The registry API is still served next to it.
	if resp, _ := get(t, p.url+"/healthz", ""); resp.StatusCode != http.StatusOK {
		t.Errorf("/healthz = %d", resp.StatusCode)
	}
	if err := p.stop(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	p = start(t, httpAddr, "--home", home, "--http", httpAddr, "--vault", vdir)
	p.waitHealthy(20 * time.Second)
	if got := vaultDID(); got != first {
		t.Errorf("vault DID after restart = %s, want %s", got, first)
	}
	_ = p.stop(syscall.SIGTERM)
}

// vaultActor is a vault client signing as a fresh did:key.
func vaultActor(t *testing.T, url string) *vaultclient.Client {
	t.Helper()
	k, err := key.Generate(key.Ed25519)
	if err != nil {
		t.Fatal(err)
	}
	d := did.KeyDID(k.Public())
	return &vaultclient.Client{URL: url, DID: d, Key: k, KeyID: d + "#" + k.Public().Multikey()}
}

// TestVaultRevocationIsImmediate runs the consent story against the real
// binary: a hospital (the only --vault-writers DID) stores a record for a
// patient, the patient's wallet grants consent to a provider on the
// running registry, the provider reads, the patient revokes, and the very
// next read is denied. registryd's vault reads consent status from the
// node's committed state on every decision; this guards that no cache ever
// lets a revoked grant through once the revocation is committed.
func TestVaultRevocationIsImmediate(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	hosp := vaultActor(t, "")
	httpAddr := freeAddr(t)
	p := start(t, httpAddr, "--home", t.TempDir(), "--http", httpAddr, "--p2p", freeAddr(t), "--block-time", "20ms",
		"--vault", filepath.Join(t.TempDir(), "vault"), "--vault-writers", hosp.DID)
	p.waitHealthy(20 * time.Second)
	defer func() { _ = p.stop(syscall.SIGTERM) }()
	hosp.URL = p.url
	reg, err := client.New(client.Config{URL: p.url})
	if err != nil {
		t.Fatal(err)
	}

	w, _, err := wallet.Create(wallet.Config{Dir: filepath.Join(t.TempDir(), "wallet"),
		KDF: wallet.KDFParams{Time: 1, MemoryKiB: 8 * 1024, Threads: 1}}, []byte("patient passphrase for tests"))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	patient, err := w.PrimaryDID()
	if err != nil {
		t.Fatal(err)
	}

	resource := []byte(`{"resourceType":"AllergyIntolerance","code":{"text":"penicillin"}}`)
	rec, err := hosp.Put(ctx, patient.DID, "AllergyIntolerance", resource)
	if err != nil {
		t.Fatalf("hospital put: %v", err)
	}
	// Only the configured writer may store records.
	stranger := vaultActor(t, p.url)
	if _, err := stranger.Put(ctx, patient.DID, "AllergyIntolerance", resource); !errors.Is(err, vaultapi.ErrDenied) {
		t.Errorf("put by a DID not in --vault-writers: %v, want ErrDenied", err)
	}

	prov := vaultActor(t, p.url)
	if _, err := prov.Get(ctx, rec.ID, "TREAT", "", ""); !errors.Is(err, vaultapi.ErrDenied) {
		t.Fatalf("read before any consent: %v, want ErrDenied", err)
	}
	g, err := hospital.GrantConsent(ctx, w, reg, wallet.ConsentRequest{Provider: prov.DID, Classes: []string{"AllergyIntolerance"},
		Purposes: []string{"TREAT"}, Duration: 24 * time.Hour})
	if err != nil {
		t.Fatalf("GrantConsent: %v", err)
	}
	// Read twice, so any status cache the vault might keep is warm with
	// "not revoked" before the revocation.
	for i := range 2 {
		got, err := prov.Get(ctx, rec.ID, "TREAT", g.Token, "")
		if err != nil {
			t.Fatalf("provider read %d with consent: %v", i, err)
		}
		if !bytes.Equal(got, resource) {
			t.Fatalf("provider read %d = %s, want %s", i, got, resource)
		}
	}

	c, err := hospital.RevokeConsent(ctx, w, reg, g.ID)
	if err != nil || c.Revoked == nil {
		t.Fatalf("RevokeConsent: %+v, %v", c, err)
	}
	// RevokeConsent returns once the revocation is committed: the next
	// read, with no waiting, must be refused as revoked.
	_, err = prov.Get(ctx, rec.ID, "TREAT", g.Token, "")
	var pe *vaultclient.ProblemError
	if !errors.Is(err, vaultapi.ErrDenied) || !errors.As(err, &pe) || !strings.Contains(pe.Detail, "revoked") {
		t.Fatalf("provider read right after the revocation: %v, want 403 consent revoked", err)
	}
	if st, err := reg.ConsentStatus(ctx, g.Anchor, g.ID); err != nil || !st.Revoked {
		t.Errorf("registry status of the revoked grant: %+v, %v", st, err)
	}
}

// TestVaultWriterDIDMedid: --vault-writers takes the hospital's registered
// did:medid. A request signed with the key the DID document names under
// authentication, as the did:medid, may store; the same key acting as its
// own did:key may not (it is not the writer), and neither may a did:medid
// whose document does not hold the signing key.
func TestVaultWriterDIDMedid(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	hk, err := key.Generate(key.Ed25519)
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := tx.KeyTemplate(hk.Public())
	if err != nil {
		t.Fatal(err)
	}
	hospital, doc, err := tx.BindDocument(tmpl)
	if err != nil {
		t.Fatal(err)
	}
	httpAddr := freeAddr(t)
	p := start(t, httpAddr, "--home", t.TempDir(), "--http", httpAddr, "--p2p", freeAddr(t), "--block-time", "20ms",
		"--vault", filepath.Join(t.TempDir(), "vault"), "--vault-writers", hospital)
	p.waitHealthy(20 * time.Second)
	defer func() { _ = p.stop(syscall.SIGTERM) }()
	reg, err := client.New(client.Config{URL: p.url})
	if err != nil {
		t.Fatal(err)
	}
	signed, err := tx.Sign(&tx.Payload{Type: tx.DIDCreate, DID: hospital, Nonce: "n-1", Document: doc}, hk, hospital+"#"+tx.KeyFragment)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Submit(ctx, signed); err != nil {
		t.Fatalf("register %s: %v", hospital, err)
	}
	patient := vaultActor(t, "").DID
	resource := []byte(`{"resourceType":"AllergyIntolerance","code":{"text":"peanut"}}`)

	asMedid, err := vaultclient.New(ctx, vaultclient.Config{URL: p.url, DID: hospital, Key: hk, Resolver: reg})
	if err != nil {
		t.Fatalf("vaultclient.New as %s: %v", hospital, err)
	}
	if asMedid.KeyID != hospital+"#"+tx.KeyFragment {
		t.Errorf("KeyID = %s, want the document's authentication key %s#%s", asMedid.KeyID, hospital, tx.KeyFragment)
	}
	if _, err := asMedid.Put(ctx, patient, "AllergyIntolerance", resource); err != nil {
		t.Fatalf("put as the writer %s: %v", hospital, err)
	}
	asKey, err := vaultclient.New(ctx, vaultclient.Config{URL: p.url, Key: hk})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := asKey.Put(ctx, patient, "AllergyIntolerance", resource); !errors.Is(err, vaultapi.ErrDenied) {
		t.Errorf("put as the key's own did:key %s: %v, want ErrDenied", asKey.DID, err)
	}
	other, _ := key.Generate(key.Ed25519)
	if _, err := vaultclient.New(ctx, vaultclient.Config{URL: p.url, DID: hospital, Key: other, Resolver: reg}); !errors.Is(err, did.ErrKeyNotFound) {
		t.Errorf("vaultclient.New with a key %s does not hold: %v, want did.ErrKeyNotFound", hospital, err)
	}
}
