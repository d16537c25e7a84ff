package trail

import (
	"errors"
	"testing"

	"github.com/medid/medid/credentials/key"
)

func TestSealOpen(t *testing.T) {
	for _, alg := range []key.Alg{key.Ed25519, key.P256} {
		t.Run(string(alg), func(t *testing.T) {
			k, err := key.Generate(alg)
			if err != nil {
				t.Fatal(err)
			}
			rk, err := RecipientKey(k.Public())
			if err != nil {
				t.Fatal(err)
			}
			e := &Entry{ID: "e1", Patient: "did:key:zP", Provider: "did:key:zD", Record: "r1", Action: ActionRead,
				Purpose: "ETREAT", Outcome: OutcomeGranted, Type: DCMEmergencyOverride, BreakGlass: true}
			sealed, err := Seal(e, rk)
			if err != nil {
				t.Fatal(err)
			}
			dk, err := DecryptionKey(k)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Open(sealed, dk)
			if err != nil {
				t.Fatal(err)
			}
			if got.Provider != e.Provider || !got.BreakGlass || got.Type != DCMEmergencyOverride {
				t.Errorf("got %+v, want %+v", got, e)
			}
			other, _ := key.Generate(alg)
			odk, _ := DecryptionKey(other)
			if _, err := Open(sealed, odk); !errors.Is(err, ErrDecrypt) {
				t.Errorf("another key opened the entry: %v", err)
			}
		})
	}
}
