package vault

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/medid/medid/internal/httpserver"
	"github.com/medid/medid/internal/tlsfiles"
	"github.com/medid/medid/registry/hospital/vaultclient"
)

// TestMethodNotAllowed: every vault route answers a wrong method with 405,
// an Allow header and the vault's problem object.
func TestMethodNotAllowed(t *testing.T) {
	h := newHarness(t)
	srv := httptest.NewServer(h.v.Handler())
	defer srv.Close()
	for _, tc := range []struct {
		method, path, allow string
		status              int
	}{
		{"POST", "/1.0/vault", "GET, HEAD, OPTIONS", 405},
		{"GET", "/1.0/vault/records", "POST, OPTIONS", 405},
		{"PUT", "/1.0/vault/records/r-1", "GET, HEAD, DELETE, OPTIONS", 405},
		{"POST", "/1.0/vault/records/r-1/events", "GET, HEAD, OPTIONS", 405},
		{"GET", "/1.0/vault/break-glass", "PUT, OPTIONS", 405},
		{"DELETE", "/1.0/vault/access-log", "GET, HEAD, OPTIONS", 405},
		{"GET", "/1.0/vault/nothing", "", 404},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, srv.URL+tc.path, nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status || resp.Header.Get("Allow") != tc.allow {
				t.Errorf("got %d Allow %q, want %d Allow %q", resp.StatusCode, resp.Header.Get("Allow"), tc.status, tc.allow)
			}
			if resp.Header.Get("Content-Type") != "application/problem+json" || !strings.Contains(string(b), "medid.dev/problems/vault") {
				t.Errorf("body %s, want the vault's problem object", b)
			}
		})
	}
}

// TestClientCertPolicy: with mutual TLS, storing and reading records needs
// a client certificate from the network's CA; the patient's routes do not.
func TestClientCertPolicy(t *testing.T) {
	h := newHarness(t)
	dir := t.TempDir()
	if _, err := tlsfiles.DevCerts(tlsfiles.DevCertConfig{Dir: dir}); err != nil {
		t.Fatal(err)
	}
	n := tlsfiles.DevCertNames
	p := func(f string) string { return filepath.Join(dir, f) }
	s, err := httpserver.New(httpserver.Config{Addr: "127.0.0.1:0", Handler: h.v.Handler(), Logger: slog.New(slog.DiscardHandler),
		TLS: tlsfiles.Server{Cert: p(n.Cert), Key: p(n.Key), ClientCA: p(n.CA)}, Limits: httpserver.Limits{MaxConns: 64}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	defer func() { cancel(); <-done }()
	client := func(c tlsfiles.Client) *http.Client {
		cfg, err := c.Config()
		if err != nil {
			t.Fatal(err)
		}
		return &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}
	}
	wallet := client(tlsfiles.Client{CA: p(n.CA)})
	hospital := client(tlsfiles.Client{CA: p(n.CA), Cert: p(n.ClientCert), Key: p(n.ClientKey)})

	hosp := &vaultclient.Client{URL: s.URL(), HTTP: hospital, DID: h.hosp.DID, Key: h.hosp.Key, KeyID: h.hosp.Kid}
	if _, err := hosp.Put(ctx, h.patient.DID, "AllergyIntolerance", []byte(allergy)); err != nil {
		t.Fatalf("hospital with a client certificate stores: %v", err)
	}
	noCert := &vaultclient.Client{URL: s.URL(), HTTP: wallet, DID: h.hosp.DID, Key: h.hosp.Key, KeyID: h.hosp.Kid}
	_, err = noCert.Put(ctx, h.patient.DID, "AllergyIntolerance", []byte(allergy))
	if pe, ok := err.(*vaultclient.ProblemError); !ok || pe.Status != http.StatusForbidden || !strings.Contains(pe.Detail, "client certificate") {
		t.Fatalf("store without a client certificate: %v, want 403 naming the client certificate", err)
	}
	for _, path := range []string{"/1.0/vault/records/r-00000000000000000000000000000000"} {
		resp, err := wallet.Get(s.URL() + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("GET %s without a certificate: %d, want 403", path, resp.StatusCode)
		}
	}
	// The patient's routes answer wallets without a certificate.
	pat := &vaultclient.Client{URL: s.URL(), HTTP: wallet, DID: h.patient.DID, Key: h.patient.Key, KeyID: h.patient.Kid}
	if _, err := pat.VaultDID(ctx); err != nil {
		t.Errorf("vault DID without a certificate: %v", err)
	}
	if _, err := pat.AccessLog(ctx); err != nil {
		t.Errorf("access log without a certificate: %v", err)
	}
}
