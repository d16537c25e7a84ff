package app

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
)

// longDID is a did:key as long as real Ed25519 ones.
const longDID = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK3CuyQr"

// TestDIDsShortenedOnConsentAndAccess checks that the Consent and Who
// looked screens name a party the directory does not list as "Unnamed
// (ref. …)", never by its DID, that the lists stay narrow, and that the
// full DID can still be copied.
func TestDIDsShortenedOnConsentAndAccess(t *testing.T) {
	clk := newClock()
	svc := &fakeConsent{now: clk.Now}
	evs := []AccessEvent{{At: clk.Now().Add(-time.Hour), Accessor: longDID, Data: []string{"allergies"},
		Purpose: "ETREAT", Outcome: OutcomePermitted, BreakGlass: true}}
	h := unlocked(t, withConsent(svc), withAccessLog(&fakeAccessLog{events: evs}))
	if _, err := svc.Grant(h.a.ctx, ConsentRequest{Provider: longDID, DataClasses: []string{"allergies"},
		Purpose: "TREAT", Duration: 30 * 24 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	short := unnamed(longDID)
	if short != "someone not in the directory (ref. 3CuyQr)" {
		t.Fatalf("unnamed(%q) = %q, want a reference to its end", longDID, short)
	}
	const maxWidth = 500

	h.a.main.selectScreen("consent")
	h.a.main.consent.reload()
	h.a.wait()
	settle(h)
	u := h.a.main.consent
	if len(u.rows) != 1 {
		t.Fatalf("%d consent rows, want 1", len(u.rows))
	}
	r := u.rows[0]
	if strings.Contains(r.summary.Text, longDID) || !strings.Contains(r.summary.Text, whoStarts("", longDID)) {
		t.Errorf("consent summary = %q, want the DID as %q", r.summary.Text, short)
	}
	if w := u.list.MinSize().Width; w > maxWidth {
		t.Errorf("consent list min width = %v, want <= %v", w, maxWidth)
	}
	if r.copyDID == nil {
		t.Fatal("no way to copy the provider's full DID")
	}
	test.Tap(r.copyDID)
	if got := h.a.fa.Clipboard().Content(); got != longDID {
		t.Errorf("copied %q, want the full DID %q", got, longDID)
	}

	h.a.main.selectScreen("access")
	h.a.main.access.reload()
	h.a.wait()
	settle(h)
	a := h.a.main.access
	if len(a.rows) != 1 {
		t.Fatalf("%d access rows, want 1", len(a.rows))
	}
	ar := a.rows[0]
	if strings.Contains(ar.what.Text, longDID) || !strings.Contains(ar.what.Text, whoStarts("", longDID)) {
		t.Errorf("access row = %q, want the DID as %q", ar.what.Text, short)
	}
	if w := a.list.MinSize().Width; w > maxWidth {
		t.Errorf("access list min width = %v, want <= %v", w, maxWidth)
	}
	h.a.fa.Clipboard().SetContent("")
	if ar.copyDID == nil {
		t.Fatal("no way to copy the accessor's full DID")
	}
	test.Tap(ar.copyDID)
	if got := h.a.fa.Clipboard().Content(); got != longDID {
		t.Errorf("copied %q, want the full DID %q", got, longDID)
	}
}
