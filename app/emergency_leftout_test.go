package app

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/medid/medid/credentials/did"
)

// TestEmergencyCardSaysWhatItLeavesOut: an allergy the wallet holds as an
// SD-JWT VC cannot ride on the card (one presentation), and a revoked
// medication must not: the card screen names both, in the patient's words,
// so they know what a reader will not see.
func TestEmergencyCardSaysWhatItLeavesOut(t *testing.T) {
	h := unlocked(t)
	hosp := newIssuer(t, "St Mary's Hospital")
	me := h.primary()
	meKey, err := did.ParseKeyDID(me)
	if err != nil {
		t.Fatal(err)
	}
	// On the card: a blood type.
	h.receive(hosp.Issue(t, me, []string{"BloodTypeCredential"}, map[string]any{"bloodType": "O+"}))
	// Held as an SD-JWT VC: kept off.
	tok := hosp.IssueSDJWT(t, me, meKey, "AllergyIntoleranceCredential", h.clk.Now(), map[string]any{
		"criticality": "high", "code": map[string]any{"display": "Penicillin"}})
	if _, err := h.a.wallet().Receive(h.a.ctx, tok); err != nil {
		t.Fatalf("receive the SD-JWT VC: %v", err)
	}
	u := h.a.main.share
	test.Tap(u.emergencyBtn)
	h.a.wait()
	e := u.emergency
	if e == nil {
		t.Fatalf("no emergency card: %q", u.err.Text)
	}
	if len(e.leftOut) != 1 || !strings.HasPrefix(e.leftOut[0], "Allergy intolerance (kept in a form this card cannot carry") {
		t.Errorf("left out = %q, want the SD-JWT allergy named", e.leftOut)
	}
	if !strings.Contains(e.info.Text, "Not on this card, so a reader will not see it: Allergy intolerance (") {
		t.Errorf("card info = %q", e.info.Text)
	}
	assertPatientWords(t, "emergency card", h.win.Canvas())
	scanCard(t, h, e, 1)
	test.Tap(e.close)
}
