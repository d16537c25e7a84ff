package main

import (
	"testing"

	"github.com/medid/medid/registry/hospital/trail"
	"github.com/medid/medid/wallet"
)

// TestAccessSentence: the access log says in words what happened, and a
// granted emergency read names the patient's permission that allowed it
// (the vault grants none without one), never "without your consent".
func TestAccessSentence(t *testing.T) {
	read := func(mod func(*wallet.AccessEvent)) wallet.AccessEvent {
		var e wallet.AccessEvent
		e.Action, e.Outcome, e.Class = trail.ActionRead, trail.OutcomeGranted, "AllergyIntolerance"
		mod(&e)
		return e
	}
	tests := []struct {
		name, who string
		e         wallet.AccessEvent
		want      string
	}{
		{"read", "Dr. Jane Doe (St Mary's Hospital)", read(func(*wallet.AccessEvent) {}), "Dr. Jane Doe (St Mary's Hospital) read your allergies"},
		{"refused", "someone not in the directory (ref. 2doK3C)", read(func(e *wallet.AccessEvent) { e.Outcome = trail.OutcomeDenied }), "Someone not in the directory (ref. 2doK3C) tried to read your allergies, and was refused"},
		{"standing emergency permission", "Dr. A", read(func(e *wallet.AccessEvent) { e.BreakGlass, e.Standing, e.Consent = true, true, "cd34" }), "Dr. A read your allergies, in an emergency, with your standing emergency permission"},
		{"standing, from a vault before the flag", "Dr. A", read(func(e *wallet.AccessEvent) { e.BreakGlass = true }), "Dr. A read your allergies, in an emergency, with your standing emergency permission"},
		{"emergency grant presented", "Dr. A", read(func(e *wallet.AccessEvent) { e.BreakGlass, e.Consent = true, "ab12" }), "Dr. A read your allergies, in an emergency, with the emergency access you granted them"},
		{"refused emergency attempt", "Dr. B", read(func(e *wallet.AccessEvent) { e.BreakGlass, e.Outcome = true, trail.OutcomeDenied }), "Dr. B tried to read your allergies, and was refused"},
		{"the patient erased", "You", read(func(e *wallet.AccessEvent) { e.Action = trail.ActionErase }), "You erased your allergies"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.e.Sentence(func(string) string { return tt.who }); got != tt.want {
				t.Errorf("Sentence = %q, want %q", got, tt.want)
			}
		})
	}
}
