package app

import (
	"os"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
)

func TestMain(m *testing.M) {
	time.Local = time.UTC // renderings show local times
	os.Exit(m.Run())
}

// TestGolden renders the main screens with the test theme and compares
// them with testdata/*.xml. To update after an intended change, delete the
// file, run the test, and move testdata/failed/NAME.xml into testdata/
// after looking at it.
func TestGolden(t *testing.T) {
	t.Run("welcome", func(t *testing.T) {
		h := newHarness(t, "")
		test.AssertRendersToMarkup(t, "welcome.xml", h.win.Canvas())
	})
	t.Run("unlock", func(t *testing.T) {
		h := newHarness(t, prepared(t))
		test.AssertRendersToMarkup(t, "unlock.xml", h.win.Canvas())
	})

	t.Run("consent-none", func(t *testing.T) {
		h := unlocked(t)
		h.a.main.selectScreen("consent")
		h.a.wait()
		settle(h)
		test.AssertRendersToMarkup(t, "consent-none.xml", h.win.Canvas())
	})

	clk := newClock()
	h := unlocked(t, withConsent(&fakeConsent{now: clk.Now}), withAccessLog(&fakeAccessLog{events: sampleAccesses(clk.Now())}))
	hosp := newIssuer(t, "St Mary's Hospital")
	me := h.primary()
	h.receive(hosp.Issue(t, me, []string{"AllergyIntoleranceCredential"}, allergyClaimsFHIR()))
	h.clk.Advance(time.Minute)
	imm := hosp.Issue(t, me, []string{"ImmunizationCredential"}, immunizationClaims())
	h.receive(imm)
	h.verifier.Set(imm, "revoked")
	test.Tap(h.a.main.creds.refreshBtn)
	h.a.wait()
	test.Tap(h.a.main.ids.rows[0].copy)
	test.Type(h.a.main.ids.label, "St Mary's Hospital")
	test.Tap(h.a.main.ids.newPairwise)
	h.a.wait()
	svc := h.a.cfg.Consent
	if _, err := svc.Grant(h.a.ctx, ConsentRequest{Provider: "St Mary's Hospital", DataClasses: []string{"allergies"},
		Purpose: "TREAT", Duration: 30 * 24 * time.Hour, BreakGlass: true}); err != nil {
		t.Fatal(err)
	}

	screens := []struct{ name, tab string }{
		{"credentials", "credentials"}, {"share", "share"}, {"consent", "consent"},
		{"access", "access"}, {"identities", "identities"}, {"settings", "settings"},
	}
	for _, s := range screens {
		t.Run(s.name, func(t *testing.T) {
			h.a.main.selectScreen(s.tab)
			h.a.wait()
			settle(h)
			test.AssertRendersToMarkup(t, s.name+".xml", h.win.Canvas())
		})
	}
	t.Run("detail", func(t *testing.T) {
		h.a.main.selectScreen("credentials")
		test.Tap(h.card("Allergy intolerance").open)
		h.a.wait()
		settle(h)
		test.AssertRendersToMarkup(t, "detail.xml", h.win.Canvas())
	})
}

// settle lays the whole window out again (content loaded in the
// background changes sizes that the test canvas does not propagate up by
// itself): a resize to another width and back re-lays every container.
func settle(h *harness) {
	h.win.Resize(fyne.NewSize(900, 600))
	h.win.Resize(fyne.NewSize(960, 680))
}
