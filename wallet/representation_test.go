package wallet

import (
	"testing"
	"time"

	"github.com/medid/medid/registry/hospital/trail"
	"github.com/medid/medid/registry/hospital/vaultclient"
)

// TestAccessEventSentence pins how the patient (and a representative
// reading the patient's trail) reads each kind of trail entry: who acted,
// on what authority, and what was refused.
func TestAccessEventSentence(t *testing.T) {
	names := map[string]string{"did:key:hosp": "St Mary's Hospital", "did:key:maria": "MARIA'S DIRECTORY NAME"}
	name := func(d string) string {
		if n, ok := names[d]; ok {
			return n
		}
		return d
	}
	parent := &trail.Authority{Representative: "did:key:maria", Name: "Maria Silva", Basis: "parent", Minor: true, ValidUntil: time.Now()}
	sub := &trail.Authority{Representative: "did:key:carl", Name: "Carl Jones", Basis: "authorisation", By: "Maria Silva"}
	ended := *parent
	ended.Ended = true
	tests := []struct {
		name  string
		e     AccessEvent
		whose string
		want  string
	}{
		{"provider read", event(trail.Entry{Provider: "did:key:hosp", Class: "Immunization", Action: trail.ActionRead, Outcome: trail.OutcomeGranted}),
			"", "St Mary's Hospital read your immunizations"},
		{"provider refused", event(trail.Entry{Provider: "did:key:hosp", Class: "Condition", Action: trail.ActionRead, Outcome: trail.OutcomeDenied}),
			"", "St Mary's Hospital tried to read your conditions, and was refused"},
		{"break glass", event(trail.Entry{Provider: "did:key:hosp", Class: "AllergyIntolerance", Action: trail.ActionRead, Outcome: trail.OutcomeGranted, BreakGlass: true}),
			"", "St Mary's Hospital read your allergies, in an emergency, with your standing emergency permission"},
		{"break glass under a grant", event(trail.Entry{Provider: "did:key:hosp", Class: "AllergyIntolerance", Action: trail.ActionRead, Outcome: trail.OutcomeGranted, BreakGlass: true, Consent: "ab12"}),
			"", "St Mary's Hospital read your allergies, in an emergency, with the emergency access you granted them"},
		{"consent handed in", event(trail.Entry{Provider: "did:key:hosp", Class: "AllergyIntolerance", Action: trail.ActionConsentDeposit, Outcome: trail.OutcomeGranted, Consent: "ab12"}),
			"", "St Mary's Hospital handed in the consent you gave them to see your allergies"},
		{"consent handed in, refused", event(trail.Entry{Provider: "did:key:hosp", Class: "AllergyIntolerance", Action: trail.ActionConsentDeposit, Outcome: trail.OutcomeDenied, Consent: "ab12"}),
			"", "St Mary's Hospital tried to hand in a consent to see your allergies, and was refused"},
		{"unknown class", event(trail.Entry{Provider: "did:key:hosp", Class: "Flag", Action: trail.ActionPut, Outcome: trail.OutcomeGranted}),
			"", "St Mary's Hospital stored your Flag records"},
		{"unauthenticated", event(trail.Entry{Unauthenticated: true, Origin: "192.0.2.1", Class: "Immunization", Action: trail.ActionRead, Outcome: trail.OutcomeDenied}),
			"", "Someone who did not prove who they are (192.0.2.1) tried to read your immunizations, and was refused"},
		// A representative is named as the delegation names them, not as
		// the directory does.
		{"parent read", event(trail.Entry{Provider: "did:key:maria", Class: "Immunization", Action: trail.ActionRead, Outcome: trail.OutcomeGranted, Authority: parent}),
			"", "Maria Silva, acting for you as parent, read your immunizations"},
		{"parent refused", event(trail.Entry{Provider: "did:key:maria", Class: "Immunization", Action: trail.ActionRead, Outcome: trail.OutcomeDenied, Authority: parent}),
			"", "Maria Silva, acting for you as parent, tried to read your immunizations, and was refused"},
		{"sub-delegate consent refused", event(trail.Entry{Provider: "did:key:carl", Class: "Immunization", Action: trail.ActionConsent, Outcome: trail.OutcomeDenied, Authority: sub}),
			"", "Carl Jones, acting for you, authorised by Maria Silva, tried to grant a provider access to your immunizations in your name, and was refused"},
		{"withdrawal", event(trail.Entry{Provider: "did:key:maria", Class: "Immunization", Action: trail.ActionWithdraw, Outcome: trail.OutcomeGranted, Authority: parent}),
			"", "Maria Silva, acting for you as parent, withdrew a consent to your immunizations"},
		{"trail read", event(trail.Entry{Provider: "did:key:maria", Action: trail.ActionAccessLog, Outcome: trail.OutcomeGranted, Authority: parent}),
			"", "Maria Silva, acting for you as parent, read the record of who accessed your records"},
		{"all classes", event(trail.Entry{Provider: "did:key:maria", Class: "*", Action: trail.ActionRead, Outcome: trail.OutcomeGranted, Authority: parent}),
			"", "Maria Silva, acting for you as parent, read your records"},
		// A provider acting under the consent a parent gave.
		{"under a parent's consent", event(trail.Entry{Provider: "did:key:hosp", Class: "Immunization", Action: trail.ActionRead, Outcome: trail.OutcomeGranted, Authority: parent}),
			"", "St Mary's Hospital read your immunizations, under the consent Maria Silva (as parent) gave"},
		{"after coming of age", event(trail.Entry{Provider: "did:key:hosp", Class: "Immunization", Action: trail.ActionRead, Outcome: trail.OutcomeGranted, Authority: &ended}),
			"", "St Mary's Hospital read your immunizations, under the consent Maria Silva (as parent) gave before you came of age: it holds until you confirm or withdraw it"},
		// The representative reading the patient's trail.
		{"representative's view", event(trail.Entry{Provider: "did:key:hosp", Class: "Immunization", Action: trail.ActionRead, Outcome: trail.OutcomeGranted, Authority: &ended}),
			"Ana Silva", "St Mary's Hospital read Ana Silva's immunizations, under the consent Maria Silva (as parent) gave before Ana Silva came of age: it holds until Ana Silva confirms or withdraws it"},
		{"a representative reading another's trail", event(trail.Entry{Provider: "did:key:carl", Class: "Immunization", Action: trail.ActionRead, Outcome: trail.OutcomeGranted,
			Authority: &trail.Authority{Representative: "did:key:carl", Name: "Carl Jones", Basis: "authorisation"}}),
			"Rosa Silva", "Carl Jones, acting for Rosa Silva with Rosa Silva's authorisation, read Rosa Silva's immunizations"},
		{"the patient themselves", event(trail.Entry{Provider: "did:key:ana", Patient: "did:key:ana", Class: "Immunization", Action: trail.ActionRead, Outcome: trail.OutcomeGranted}),
			"", "You read your immunizations"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.e.SentenceAbout(name, tt.whose); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
	// Without a namer DIDs show as they are.
	e := event(trail.Entry{Provider: "did:key:hosp", Class: "Immunization", Action: trail.ActionRead, Outcome: trail.OutcomeGranted})
	if got, want := e.Sentence(nil), "did:key:hosp read your immunizations"; got != want {
		t.Errorf("Sentence(nil) = %q, want %q", got, want)
	}
}

// event is an access event holding entry e, as AccessLog returns them.
func event(e trail.Entry) AccessEvent {
	return AccessEvent{VerifiedEntry: vaultclient.VerifiedEntry{Entry: e}}
}
