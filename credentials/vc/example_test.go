package vc_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/credentials/vc"
)

// didKey returns a deterministic Ed25519 key with its did:key DID and kid.
func didKey(seed string) (*key.PrivateKey, string, string) {
	s := sha256.Sum256([]byte(seed))
	k, err := key.NewEd25519FromSeed(s[:])
	if err != nil {
		panic(err)
	}
	mk := k.Public().Multikey()
	return k, "did:key:" + mk, "did:key:" + mk + "#" + mk
}

// ExampleIssue issues an allergy credential as a vc+jwt and verifies it.
func ExampleIssue() {
	hospital, hospitalDID, hospitalKid := didKey("general-hospital")
	_, patientDID, _ := didKey("patient")

	from := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	cred := &vc.Credential{
		Context:   []string{vc.ContextV2},
		Type:      []string{"VerifiableCredential", "AllergyCredential"},
		Issuer:    hospitalDID,
		ValidFrom: &from,
		Subject: map[string]any{
			"id":        patientDID,
			"allergies": []any{"penicillin"},
		},
	}
	token, err := vc.Issue(cred, hospital, hospitalKid)
	if err != nil {
		panic(err)
	}
	t, _ := vc.Parse(token)
	fmt.Println("typ:", t.Header.Typ, "alg:", t.Header.Alg)

	// A verifier finds keys through DID resolution; here the one key is known.
	keys := func(_ context.Context, kid string) (key.PublicKey, error) {
		if kid != hospitalKid {
			return key.PublicKey{}, errors.New("unknown key")
		}
		return hospital.Public(), nil
	}
	got, err := vc.Verify(context.Background(), token, keys, vc.VerifyOptions{Now: from.Add(time.Hour)})
	if err != nil {
		panic(err)
	}
	fmt.Println("subject is the patient:", got.SubjectID() == patientDID)

	_, err = vc.Verify(context.Background(), token, keys, vc.VerifyOptions{Now: from.Add(-time.Hour)})
	fmt.Println("before validFrom:", errors.Is(err, vc.ErrNotYetValid))
	// Output:
	// typ: vc+jwt alg: EdDSA
	// subject is the patient: true
	// before validFrom: true
}

// ExampleSignPresentation presents a credential to one verifier for one
// request; the same presentation is refused for another nonce.
func ExampleSignPresentation() {
	hospital, hospitalDID, hospitalKid := didKey("general-hospital")
	patient, patientDID, patientKid := didKey("patient")
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

	token, err := vc.Issue(&vc.Credential{
		Context: []string{vc.ContextV2},
		Type:    []string{"VerifiableCredential"},
		Issuer:  hospitalDID,
		Subject: map[string]any{"id": patientDID},
	}, hospital, hospitalKid)
	if err != nil {
		panic(err)
	}
	vp, err := vc.SignPresentation(&vc.Presentation{
		Context:     []string{vc.ContextV2},
		Type:        []string{"VerifiablePresentation"},
		Holder:      patientDID,
		Credentials: []string{token},
	}, patient, patientKid, "https://er.example", "n-4711", vc.WithIssuedAt(now))
	if err != nil {
		panic(err)
	}

	keys := func(_ context.Context, kid string) (key.PublicKey, error) {
		switch kid {
		case hospitalKid:
			return hospital.Public(), nil
		case patientKid:
			return patient.Public(), nil
		}
		return key.PublicKey{}, errors.New("unknown key")
	}
	res, err := vc.VerifyPresentation(context.Background(), vp, keys,
		vc.PresentationOptions{Audience: "https://er.example", Nonce: "n-4711", Now: now.Add(time.Minute)})
	if err != nil {
		panic(err)
	}
	fmt.Println("credentials:", len(res.Credentials))

	_, err = vc.VerifyPresentation(context.Background(), vp, keys,
		vc.PresentationOptions{Audience: "https://er.example", Nonce: "n-4712", Now: now.Add(time.Minute)})
	fmt.Println("replayed:", errors.Is(err, vc.ErrNonceMismatch))
	// Output:
	// credentials: 1
	// replayed: true
}
