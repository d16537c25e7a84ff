package app

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/medid/medid/credentials/openid4vp"
	"github.com/medid/medid/wallet/openid"
)

// TestWhoLookedNames: the "Who looked" screen says who read the records
// by the directory's name, says "unknown" for a DID nobody named, and
// keeps the full DID one tap away.
func TestWhoLookedNames(t *testing.T) {
	clk := newClock()
	jane := "did:key:z6MkrFf5rpTMrSgkyQGdxf8zUyDDWYJWCM5kNQHBpyixhwhP"
	stranger := "did:key:z6MkecFy6hVwFHir8fRKacN3x3ZXcMcrtoBZ1W2ixGyhRN6P"
	h := unlocked(t, withAccessLog(&fakeAccessLog{events: []AccessEvent{
		{At: clk.Now().Add(-2 * time.Hour), Accessor: jane, AccessorName: "Dr. Jane Doe (St Mary's Hospital)", Data: []string{"allergies"}, Purpose: "TREAT", Outcome: OutcomePermitted},
		{At: clk.Now().Add(-time.Hour), Accessor: stranger, Data: []string{"allergies"}, Purpose: "TREAT", Outcome: OutcomeDenied},
	}}))
	h.a.wait()
	u := h.a.main.access
	if len(u.rows) != 2 {
		t.Fatalf("%d rows", len(u.rows))
	}
	named, unknown := u.rows[1], u.rows[0]
	if !strings.Contains(named.what.Text, "Dr. Jane Doe (St Mary's Hospital) read your allergies") {
		t.Errorf("named row: %q", named.what.Text)
	}
	if !strings.Contains(unknown.what.Text, whoStarts("", stranger)+" tried to read your allergies") {
		t.Errorf("unknown row: %q", unknown.what.Text)
	}
	if named.copyDID == nil {
		t.Fatal("no way to see the full DID")
	}
	test.Tap(named.copyDID)
	if got := h.a.fa.Clipboard().Content(); got != jane {
		t.Errorf("copied %q, want the full DID", got)
	}
}

// TestVerifierName: a signed request shows the directory's name; an
// unsigned one shows "Unverified" with the address and the name it gives
// itself marked as such.
func TestVerifierName(t *testing.T) {
	req := &openid4vp.Request{ClientID: "redirect_uri:https://er.example/response"}
	unsigned := &openid.PresentationRequest{Request: req, Verifier: "er.example", Name: "City ER"}
	if got := verifierName(unsigned, ""); got != `Unverified: er.example (calls itself "City ER")` {
		t.Errorf("unsigned: %q", got)
	}
	signed := &openid.PresentationRequest{Request: req, Verifier: "er.example", Name: "Best ER", Signer: "did:medid:CityER"}
	if got := verifierName(signed, "City ER"); got != "City ER" {
		t.Errorf("signed: %q", got)
	}
}
