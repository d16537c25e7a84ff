package consent_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"time"

	"github.com/medid/medid/credentials/consent"
	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
)

// staticLedger says every grant it was told about is anchored and in force.
type staticLedger map[string]*consent.Status

func (l staticLedger) ConsentStatus(_ context.Context, controller, hash string) (*consent.Status, error) {
	if st, ok := l[hash]; ok && st.Controller == controller {
		return st, nil
	}
	return nil, consent.ErrNotAnchored
}

// A patient grants a hospital read access to allergies and immunizations
// for treatment; the hospital's vault decides accesses with a Checker.
func Example() {
	seed := sha256.Sum256([]byte("example patient"))
	patientKey, _ := key.NewEd25519FromSeed(seed[:])
	patient := did.KeyDID(patientKey.Public())
	hospital := "did:medid:2yqQkJBPyqgZ3Zz5oAhNqc"
	// The grant's anchor DID: a did:key made for this grant alone (a wallet
	// derives it from its seed and the grant's ID), which signs the ledger
	// anchor, so the ledger never sees the patient's DID.
	aseed := sha256.Sum256([]byte("example patient: grant urn:uuid:1"))
	anchorKey, _ := key.NewEd25519FromSeed(aseed[:])
	anchor := did.KeyDID(anchorKey.Public())

	from := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	grant := &consent.Grant{
		ID: "urn:uuid:1", Patient: patient, Anchor: anchor, Provider: hospital,
		Actions:   []consent.Action{consent.ActionAccess},
		Purposes:  []string{consent.PurposeTreatment},
		Classes:   []string{"AllergyIntolerance", "Immunization"},
		ValidFrom: from, ValidUntil: from.AddDate(1, 0, 0),
	}
	token, err := consent.Issue(grant, patientKey, patient+"#"+patientKey.Public().Multikey())
	if err != nil {
		panic(err)
	}
	// The anchor key puts consent.Hash(token) in force with a consent.anchor
	// transaction; here a static ledger stands in for the registry.
	ledger := staticLedger{consent.Hash(token): {Hash: consent.Hash(token), Controller: anchor, ValidFrom: grant.ValidFrom, ValidUntil: &grant.ValidUntil}}

	checker, _ := consent.NewChecker(consent.CheckerConfig{Keys: consent.ResolverKeys(did.KeyResolver{}), Ledger: ledger})
	ctx := context.Background()
	at := from.AddDate(0, 1, 0)
	_, err = checker.CheckInForce(ctx, token, consent.Request{Provider: hospital, Action: consent.ActionAccess, Purpose: "TREAT", Class: "Immunization", At: at})
	fmt.Println("read immunizations:", err)
	_, err = checker.CheckInForce(ctx, token, consent.Request{Provider: hospital, Action: consent.ActionAccess, Purpose: "TREAT", Class: "Condition", At: at})
	fmt.Println("read conditions:", err)
	// Output:
	// read immunizations: <nil>
	// read conditions: consent does not cover this data class: "Condition"
}
