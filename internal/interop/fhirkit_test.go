package interop

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/medid/medid/credentials/consent"
	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/registry/hospital/fhir"
	"github.com/medid/medid/registry/hospital/vault"
	"github.com/medid/medid/registry/ledger"
)

// memLedger answers consent status from grants anchored in memory.
type memLedger struct {
	mu sync.Mutex
	m  map[string]*consent.Status
}

// AuditAnchor implements vault.AnchorReader: this test anchors nothing
// (its Submit accepts without recording), so no batch is found.
func (l *memLedger) AuditAnchor(context.Context, string, string) (*ledger.AuditRecord, error) {
	return nil, ledger.ErrNotFound
}

func (l *memLedger) ConsentStatus(_ context.Context, controller, hash string) (*consent.Status, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	st, ok := l.m[hash]
	if !ok || st.Controller != controller {
		return nil, fmt.Errorf("%w: %s", consent.ErrNotAnchored, hash)
	}
	c := *st
	return &c, nil
}

// TestFHIRKitClient: an EHR built on fhir-kit-client and jose obtains a
// SMART Backend Services token with an assertion signed by its DID key,
// writes a patient's allergy in a transaction, is refused a read without
// the patient's consent, deposits the patient's grant as an IHE PCF
// Consent and reads without a header, reads it with the grant, creates a
// record and pages through a search of the vault's FHIR API.
func TestFHIRKitClient(t *testing.T) {
	node, dir := nodeEnv(t)
	gen := func() (*key.PrivateKey, string, string) {
		k, err := key.Generate(key.Ed25519)
		if err != nil {
			t.Fatal(err)
		}
		d := did.KeyDID(k.Public())
		return k, d, d + "#" + k.Public().Multikey()
	}
	hk, hdid, hkid := gen()
	ek, edid, ekid := gen()
	pk, pdid, pkid := gen()
	led := &memLedger{m: map[string]*consent.Status{}}
	checker, err := consent.NewChecker(consent.CheckerConfig{Keys: consent.ResolverKeys(did.KeyResolver{}), Ledger: led, StatusTTL: -1})
	if err != nil {
		t.Fatal(err)
	}
	v, err := vault.New(vault.Config{Dir: t.TempDir(), DID: hdid, Key: hk, KeyID: hkid, Resolver: did.KeyResolver{}, Consent: checker,
		Submit: func(context.Context, []byte) error { return nil }, Anchors: led, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String() + "/fhir"
	f, err := v.FHIR(vault.FHIRConfig{Base: base, Name: "St Mary", Clients: map[string]vault.FHIRClient{
		edid: {Scopes: []string{"system/*.rs", "system/AllergyIntolerance.c", "system/Patient.c", "system/Consent.c"}, Name: "Ward 3 EHR"}}})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = f.Handler()
	srv.Start()
	defer srv.Close()

	from := time.Now().Add(-time.Minute)
	ak, err := key.Generate(key.Ed25519)
	if err != nil {
		t.Fatal(err)
	}
	anchor := did.KeyDID(ak.Public()) // the grant's own anchor key (a wallet derives one per grant)
	g := &consent.Grant{Patient: pdid, Anchor: anchor, Provider: edid, Actions: []consent.Action{consent.ActionAccess}, Purposes: []string{"TREAT"},
		Classes: []string{"AllergyIntolerance"}, ValidFrom: from, ValidUntil: from.Add(24 * time.Hour)}
	grant, err := consent.Issue(g, pk, pkid)
	if err != nil {
		t.Fatal(err)
	}
	until := g.ValidUntil.UTC().Truncate(time.Second)
	led.m[consent.Hash(grant)] = &consent.Status{Hash: consent.Hash(grant), Controller: anchor, ValidFrom: from.UTC().Truncate(time.Second), ValidUntil: &until}

	jwkFile := filepath.Join(t.TempDir(), "ehr.jwk")
	if err := key.WriteFile(jwkFile, ek); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, filepath.Join(dir, "fhir_kit_client.mjs"), base, jwkFile, ekid, pdid, grant)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the fhir-kit-client EHR failed: %v\n%s", err, out)
	}
	var got struct {
		TokenURL, Scope, FhirVersion, TxType string
		TxStatus                             []string
		DeniedStatus                         int
		DeniedOutcome                        string
		ReadID, ReadCode, ReadPatient        string
		PatientRef, CreatedID                string
		Page1, Page2                         []string
		DepositedProfile, DepositedID        string
		ReadAfterDeposit                     string
		Consents                             []string
	}
	if err := json.Unmarshal(out[strings.LastIndexByte(strings.TrimSpace(string(out)), '\n')+1:], &got); err != nil {
		t.Fatalf("output: %v\n%s", err, out)
	}
	pid := f.PatientID(pdid)
	switch {
	case got.TokenURL != base+"/token" || got.FhirVersion != "4.0.1":
		t.Errorf("discovery: %+v", got)
	case got.TxType != "transaction-response" || len(got.TxStatus) != 2 || got.TxStatus[0] != "201 Created":
		t.Errorf("transaction: %+v", got)
	case got.DeniedStatus != 403 || got.DeniedOutcome != "OperationOutcome":
		t.Errorf("read without consent: %+v", got)
	case got.DepositedProfile != fhir.ProfilePCFConsent || got.ReadAfterDeposit != "764146007" ||
		got.DepositedID != "c-"+consent.Hash(grant)[:32] || !slices.Equal(got.Consents, []string{got.DepositedID}):
		t.Errorf("consent deposit: %+v", got)
	case got.ReadCode != "764146007" || got.ReadPatient != "Patient/"+pid || got.PatientRef != "Patient/"+pid:
		t.Errorf("read with consent: %+v", got)
	case len(got.Page1) != 1 || len(got.Page2) != 1 || got.Page1[0] == got.Page2[0] ||
		!slices.Contains([]string{got.ReadID, got.CreatedID}, got.Page1[0]) || !slices.Contains([]string{got.ReadID, got.CreatedID}, got.Page2[0]):
		t.Errorf("search and next page: %+v", got)
	}
}
