package app

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/medid/medid/credentials/licence"
	"github.com/medid/medid/registry/directory"
	"github.com/medid/medid/registry/hospital/trail"
	"github.com/medid/medid/registry/hospital/vaultclient"
	rledger "github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/tx"
	"github.com/medid/medid/wallet"
	"github.com/medid/medid/wallet/delegate"
)

// TestWhoLookedRepresentative: a read by someone acting for the patient is
// shown on "Who looked" in the wallet's own words (wallet.AccessEvent.
// Describe, the sentence the CLI prints too), naming the representative
// by their verified name and saying on what authority they acted; one
// the directory does not know is named as their delegation names them.
func TestWhoLookedRepresentative(t *testing.T) {
	clk := newClock()
	const (
		doctor   = "did:key:z6MkrFf5rpTMrSgkyQGdxf8zUyDDWYJWCM5kNQHBpyixhwhP"
		maria    = "did:key:z6MkecFy6hVwFHir8fRKacN3x3ZXcMcrtoBZ1W2ixGyhRN6P"
		stMarys  = "did:medid:StMarys"
		gmc      = "did:medid:GMC"
		patient  = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK3CuyQr"
		hospital = "did:medid:Hospital"
	)
	// The directory knows Dr. Jane Doe by her licence (here from the
	// wallet's offline snapshot), not Maria.
	org := func(did, name, kind string) *directory.Organisation {
		return &directory.Organisation{DID: did, Entry: tx.DirectoryEntry{DisplayName: name, Kind: kind}, Status: rledger.DirectoryActive}
	}
	snap, err := json.Marshal(map[string]any{"format": 1, "taken": clk.Now(), "identities": map[string]*directory.Identity{
		doctor: {DID: doctor, Kind: directory.KindPractitioner, Practitioner: &directory.Practitioner{
			Claims: licence.Claims{Name: "Dr. Jane Doe"}, Body: org(gmc, "General Medical Council", tx.KindLicensingBody),
			EmployerOrg: org(stMarys, "St Mary's Hospital", tx.KindHospital)}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	names := directory.New(directory.Config{Now: clk.Now})
	if err := names.LoadSnapshot(snap); err != nil {
		t.Fatal(err)
	}
	svc := &WalletServices{Names: func() *directory.Directory { return names }}
	at := clk.Now().Add(-time.Hour)
	evs := svc.reads(context.Background(), []wallet.AccessEvent{
		trailEvent(trail.Entry{Time: at, Patient: patient, Provider: doctor, Class: "Immunization", Action: trail.ActionRead, Purpose: "TREAT", Outcome: trail.OutcomeGranted,
			Authority: &trail.Authority{Representative: doctor, Name: "Jane", Basis: "authorisation"}}),
		trailEvent(trail.Entry{Time: at.Add(time.Minute), Patient: patient, Provider: maria, Class: "Immunization", Action: trail.ActionRead, Purpose: "TREAT", Outcome: trail.OutcomeGranted,
			Authority: &trail.Authority{Representative: maria, Name: "Maria Silva", Basis: "parent"}}),
		trailEvent(trail.Entry{Time: at.Add(2 * time.Minute), Patient: patient, Provider: hospital, Class: "Immunization", Action: trail.ActionRead, Purpose: "TREAT", Outcome: trail.OutcomeGranted,
			Authority: &trail.Authority{Representative: maria, Name: "Maria Silva", Basis: "parent"}}),
		trailEvent(trail.Entry{Time: at, Patient: patient, Provider: maria, Action: trail.ActionConsent, Outcome: trail.OutcomeGranted}), // not a read: not on this screen
	}, clk.Now().Add(-24*time.Hour))
	if len(evs) != 3 {
		t.Fatalf("%d reads, want 3", len(evs))
	}

	h := unlocked(t, withAccessLog(&fakeAccessLog{events: evs}))
	h.a.wait()
	u := h.a.main.access
	if len(u.rows) != 3 {
		t.Fatalf("%d rows, want 3", len(u.rows))
	}
	byWho := map[string]string{}
	for _, r := range u.rows {
		byWho[r.event.Accessor] = r.what.Text
	}
	for _, tt := range []struct{ who, want string }{
		// From the saved copy, so with its date, inside the sentence.
		{doctor, "Dr. Jane Doe (St Mary's Hospital; directory as saved on 14 Mar 2026), acting for you with your authorisation, read your immunizations (for treatment)."},
		{maria, "Maria Silva, acting for you as parent, read your immunizations (for treatment)."},
		// Not in the saved copy, and offline: not "not in the directory",
		// which only the registry can say.
		{hospital, "Someone not verified (the directory could not be reached; ref. spital) read your immunizations, under the consent Maria Silva (as parent) gave (for treatment)."},
	} {
		got := byWho[tt.who]
		if !strings.HasSuffix(got, " — "+tt.want) {
			t.Errorf("row for %s = %q, want it to end %q", tt.who, got, tt.want)
		}
	}
	// The words are the wallet's: the CLI prints the same sentence.
	e := trailEvent(trail.Entry{Patient: patient, Provider: maria, Class: "Immunization", Action: trail.ActionRead, Outcome: trail.OutcomeGranted,
		Authority: &trail.Authority{Representative: maria, Name: "Maria Silva", Basis: "parent"}})
	if want := e.Sentence(nil); !strings.Contains(byWho[maria], want) {
		t.Errorf("row %q does not carry the wallet's sentence %q", byWho[maria], want)
	}
	assertPatientWords(t, "access", h.win.Canvas())
}

// TestPeopleNamesTheAuthority: a guardianship over the patient, learned
// from their trail, says who set it by the directory's name (a registry
// office listed there), not as someone unknown.
func TestPeopleNamesTheAuthority(t *testing.T) {
	h := unlocked(t)
	const office = "did:medid:LisbonRegistryOffice"
	testDirectory.Store(office, "Lisbon Civil Registry Hospital")
	t.Cleanup(func() { testDirectory.Delete(office) })
	me := h.primary()
	w := h.a.wallet()
	until := h.clk.Now().Add(365 * 24 * time.Hour)
	maria := "did:key:z6MkecFy6hVwFHir8fRKacN3x3ZXcMcrtoBZ1W2ixGyhRN6P"
	if n, _, err := delegate.LearnFromTrail(w, []wallet.AccessEvent{trailEvent(trail.Entry{Time: h.clk.Now().Add(-time.Hour), Patient: me, Provider: maria, Class: "Immunization",
		Action: trail.ActionRead, Outcome: trail.OutcomeGranted, Authority: &trail.Authority{Delegation: strings.Repeat("ab", 32), ID: "urn:uuid:1",
			Type: "GuardianshipCredential", Issuer: office, Representative: maria, Name: "Maria Silva", Basis: "parent", Minor: true, ValidUntil: until}})},
		"https://vault.example"); err != nil || n != 1 {
		t.Fatalf("LearnFromTrail: %d, %v", n, err)
	}
	h.a.main.selectScreen("consent")
	h.a.wait()
	h.a.main.selectScreen("people")
	h.a.wait()
	u := h.a.main.people
	if u == nil || len(u.rows) != 1 {
		t.Fatalf("people screen rows: %v", u)
	}
	if got, want := u.rows[0].summary.Text, "(set by Lisbon Civil Registry Hospital: only they can end it)"; !strings.Contains(got, want) {
		t.Errorf("summary = %q, want it to contain %q", got, want)
	}
	assertPatientWords(t, "people", h.win.Canvas())
}

// trailEvent is a verified trail entry as the wallet returns it.
func trailEvent(e trail.Entry) wallet.AccessEvent {
	return wallet.AccessEvent{VerifiedEntry: vaultclient.VerifiedEntry{Entry: e}}
}
