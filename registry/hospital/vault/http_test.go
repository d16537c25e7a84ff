package vault

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/medid/medid/registry/hospital/vaultapi"
	"github.com/medid/medid/registry/hospital/vaultclient"
)

// The HTTP layer: a signed request only works for the record and patient
// it names, non-writers cannot store, and errors are problem objects.
func TestHTTP(t *testing.T) {
	h := newHarness(t)
	srv := httptest.NewServer(h.v.Handler())
	defer srv.Close()
	ctx := context.Background()
	hosp := &vaultclient.Client{URL: srv.URL, DID: h.hosp.DID, Key: h.hosp.Key, KeyID: h.hosp.Kid}
	m, err := hosp.Put(ctx, h.patient.DID, "AllergyIntolerance", []byte(allergy))
	if err != nil {
		t.Fatal(err)
	}
	other := h.put(h.patient, "AllergyIntolerance", allergy)
	prov := newParty(t, 30)
	grant := h.grant(h.patient, prov.DID, []string{"AllergyIntolerance"}, "TREAT", 30, false, true)
	pc := &vaultclient.Client{URL: srv.URL, DID: prov.DID, Key: prov.Key, KeyID: prov.Kid}
	if body, err := pc.Get(ctx, m.ID, "TREAT", grant, ""); err != nil || string(body) != allergy {
		t.Fatalf("Get = %q, %v", body, err)
	}

	cases := []struct {
		name   string
		method string
		path   string
		req    *vaultapi.Request
		body   string
		status int
		hosp   bool // signed by the hospital (a writer) instead of the provider
	}{
		{"request for another record", http.MethodGet, "/1.0/vault/records/" + other.ID,
			&vaultapi.Request{Op: vaultapi.OpRead, Record: m.ID, Purpose: "TREAT", Consent: grant}, "", http.StatusBadRequest, false},
		{"access log of another patient", http.MethodGet, "/1.0/vault/access-log?patient=" + prov.DID,
			&vaultapi.Request{Op: vaultapi.OpAccessLog, Patient: h.patient.DID}, "", http.StatusBadRequest, false},
		{"non-writer stores", http.MethodPost, "/1.0/vault/records",
			&vaultapi.Request{Op: vaultapi.OpPut, Owner: h.patient.DID, Class: "AllergyIntolerance"}, allergy, http.StatusForbidden, false},
		{"body does not match its hash", http.MethodPost, "/1.0/vault/records",
			&vaultapi.Request{Op: vaultapi.OpPut, Owner: h.patient.DID, Class: "AllergyIntolerance", BodyHash: strings.Repeat("0", 64)}, allergy, http.StatusBadRequest, true},
		{"unknown record", http.MethodGet, "/1.0/vault/records/r-00000000000000000000000000000000",
			&vaultapi.Request{Op: vaultapi.OpRead, Record: "r-00000000000000000000000000000000", Purpose: "TREAT", Consent: grant}, "", http.StatusNotFound, false},
		// Without a signed request the answer is 401 whether or not the
		// record exists (issue 11 item 12: 401 vs 404 was an existence
		// oracle).
		{"no signature", http.MethodGet, "/1.0/vault/records/" + m.ID, nil, "", http.StatusUnauthorized, false},
		{"no signature, unknown record", http.MethodGet, "/1.0/vault/records/r-00000000000000000000000000000000", nil, "", http.StatusUnauthorized, false},
		{"stale request, unknown record", http.MethodGet, "/1.0/vault/records/r-00000000000000000000000000000001",
			&vaultapi.Request{Op: vaultapi.OpRead, Record: "r-00000000000000000000000000000001", Purpose: "TREAT", IssuedAt: 1000}, "", http.StatusUnauthorized, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest(c.method, srv.URL+c.path, strings.NewReader(c.body))
			signer := prov
			if c.hosp {
				signer = h.hosp
			}
			if c.req != nil {
				req.Header.Set("Authorization", vaultapi.AuthScheme+" "+h.sign(signer, c.req))
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != c.status || resp.Header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("status %d %s, want %d problem+json", resp.StatusCode, resp.Header.Get("Content-Type"), c.status)
			}
		})
	}
	// The client maps answers back to the sentinels.
	if _, err := pc.Get(ctx, m.ID, "TREAT", "", ""); !errors.Is(err, vaultapi.ErrDenied) {
		t.Errorf("no consent over HTTP: %v, want vaultapi.ErrDenied", err)
	}
}
