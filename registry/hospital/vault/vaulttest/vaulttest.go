// Package vaulttest runs a record vault mounted on a complete in-process
// registry, for tests of the packages that use one (the vault itself, the
// wallet, the medid CLI, the GUI). Everything stops when the test ends.
package vaulttest

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/medid/medid/credentials/consent"
	"github.com/medid/medid/credentials/credtest"
	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/registry/client"
	"github.com/medid/medid/registry/hospital/vault"
	"github.com/medid/medid/registry/hospital/vaultclient"
	"github.com/medid/medid/registry/node/nodetest"
)

// Options configure [Start]. The zero value starts a fresh registry with a
// vault whose key is random.
type Options struct {
	// Registry is the registry to mount the vault on; nil starts one.
	Registry *nodetest.Stack
	// Key is the vault's (the hospital's) key; nil generates an Ed25519 key.
	Key *key.PrivateKey
	// BatchInterval is passed to vault.Config (0: the vault's default).
	BatchInterval time.Duration
	// Staff is the vault's break-glass roster (vault.Config.Staff).
	Staff []string
	// FHIRClients, when set, also serves the vault's FHIR API (/fhir,
	// /cds-services) to these SMART clients.
	FHIRClients map[string]vault.FHIRClient
}

// Stack is a running registry with a vault on the same HTTP server.
type Stack struct {
	Registry *nodetest.Stack
	Client   *client.Client // a registry client for URL
	Vault    *vault.Vault
	// FHIR is the vault's FHIR API (nil unless Options.FHIRClients).
	FHIR  *vault.FHIR
	URL   string // the registry API and the vault (/1.0/vault) together
	Key   *key.PrivateKey
	DID   string // the vault's did:key
	KeyID string
}

// Start mounts a vault on a registry. Consent status is read from the ledger
// on every decision (no cache), as registryd does.
func Start(tb testing.TB, o Options) *Stack {
	tb.Helper()
	reg := o.Registry
	if reg == nil {
		reg = nodetest.Start(tb, nodetest.Options{})
	}
	c, err := client.New(client.Config{URL: reg.URL})
	if err != nil {
		tb.Fatal(err)
	}
	k := o.Key
	if k == nil {
		if k, err = key.Generate(key.Ed25519); err != nil {
			tb.Fatal(err)
		}
	}
	id := did.KeyDID(k.Public())
	kid := id + "#" + k.Public().Multikey()
	checker, err := consent.NewChecker(consent.CheckerConfig{Keys: consent.ResolverKeys(c), Ledger: c, StatusTTL: -1})
	if err != nil {
		tb.Fatal(err)
	}
	v, err := vault.New(vault.Config{Dir: tb.TempDir(), DID: id, Key: k, KeyID: kid, Resolver: c, Consent: checker,
		Submit:  func(ctx context.Context, raw []byte) error { _, err := c.Submit(ctx, raw); return err },
		Anchors: c, Staff: o.Staff, BatchInterval: o.BatchInterval})
	if err != nil {
		tb.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(nil)
	h := vault.Mount(reg.API, v)
	var f *vault.FHIR
	if o.FHIRClients != nil {
		if f, err = v.FHIR(vault.FHIRConfig{Base: "http://" + srv.Listener.Addr().String() + "/fhir", Clients: o.FHIRClients, Name: "vaulttest"}); err != nil {
			tb.Fatal(err)
		}
		h = vault.MountFHIR(h, f)
		tb.Cleanup(func() { f.Close() })
	}
	srv.Config.Handler = h
	srv.Start()
	tb.Cleanup(srv.Close)
	return &Stack{Registry: reg, Client: c, Vault: v, FHIR: f, URL: srv.URL, Key: k, DID: id, KeyID: kid}
}

// Hospital is a vault client acting as the vault's own DID (a writer).
func (s *Stack) Hospital() *vaultclient.Client {
	return &vaultclient.Client{URL: s.URL, DID: s.DID, Key: s.Key, KeyID: s.KeyID}
}

// As is a vault client acting as p (a provider, a patient, ER staff).
func (s *Stack) As(p credtest.Party) *vaultclient.Client {
	return &vaultclient.Client{URL: s.URL, DID: p.DID, Key: p.Key, KeyID: p.Kid}
}
