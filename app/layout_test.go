package app

import (
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
)

// smallWindow is the smallest window the screens are laid out for.
var smallWindow = fyne.NewSize(800, 600)

// fits fails the test when the window's content needs more than
// smallWindow: on a desktop the window would then grow by itself (moving
// buttons under the patient's cursor).
func fits(t *testing.T, h *harness, what string) {
	t.Helper()
	min := h.win.Content().MinSize().Add(fyne.NewSquareSize(2 * theme.Padding()))
	if min.Width > smallWindow.Width || min.Height > smallWindow.Height {
		t.Errorf("%s needs %.0fx%.0f, more than an %.0fx%.0f window", what, min.Width, min.Height, smallWindow.Width, smallWindow.Height)
	}
	t.Logf("%s: %.0fx%.0f", what, min.Width, min.Height)
	if top := h.win.Canvas().Overlays().Top(); top != nil {
		if m := top.MinSize(); m.Width > smallWindow.Width || m.Height > smallWindow.Height {
			t.Errorf("%s: the dialog needs %.0fx%.0f", what, m.Width, m.Height)
		}
	}
	if got := h.win.Canvas().Size(); got.Width > smallWindow.Width+1 || got.Height > smallWindow.Height+1 {
		t.Errorf("%s: the window grew to %.0fx%.0f", what, got.Width, got.Height)
	}
}

// populated is an unlocked app in an 800x600 window with two records of
// one type, a consent and an access log.
func populated(t *testing.T) *harness {
	t.Helper()
	clk := newClock()
	h := unlocked(t, withConsent(&fakeConsent{now: clk.Now}), withAccessLog(&fakeAccessLog{events: sampleAccesses(clk.Now())}))
	h.win.Resize(smallWindow)
	hosp := newIssuer(t, "St Mary's Hospital")
	me := h.primary()
	h.receive(hosp.Issue(t, me, []string{"AllergyIntoleranceCredential"}, allergyClaimsFHIR()))
	h.clk.Advance(time.Minute)
	h.receive(hosp.Issue(t, me, []string{"ImmunizationCredential"}, immunizationClaims()))
	if _, err := h.a.cfg.Consent.Grant(h.a.ctx, ConsentRequest{Provider: "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
		DataClasses: DataClasses, Purpose: "TREAT", Duration: 30 * 24 * time.Hour, BreakGlass: true}); err != nil {
		t.Fatal(err)
	}
	return h
}

func TestLayoutFits800x600(t *testing.T) {
	h := populated(t)
	for _, tab := range []string{"credentials", "share", "consent", "access", "identities", "settings", "detail"} {
		h.a.main.selectScreen(tab)
		h.a.wait()
		fits(t, h, tab)
	}
	// Saving Settings rebuilds the Consent and Who-looked screens: the
	// window keeps its size (it grew from 960 to 1015 px before).
	h.a.main.selectScreen("settings")
	set := h.a.main.settings
	set.registry.SetText("http://127.0.0.1:8080")
	test.Tap(set.saveReg)
	h.a.wait()
	fits(t, h, "settings after saving")
	h.a.main.selectScreen("credentials")
	test.Tap(h.a.main.creds.addBtn)
	fits(t, h, "the Add a record dialog")
}

// TestPractitionerWalletFits: a practitioner's wallet (a licence held,
// the My licence tab with its code on screen) fits an 800x600 window in
// the app's own theme. The Share screen listed the licence in a check
// box as "Practitioner licence: Employer: did:key:… — From Nursing
// Council", one line that cannot wrap, and every tab is as wide as the
// widest: the window opened 1126 px wide (licence.png) and showed a raw
// identifier as the licence's key fact.
func TestPractitionerWalletFits(t *testing.T) {
	h, p := nurseWallet(t)
	h.a.fa.Settings().SetTheme(medidTheme{})
	h.win.Resize(smallWindow)
	h.a.main.selectScreen("licencecard")
	h.a.wait()
	if p.cardText == "" {
		t.Fatalf("no licence card on screen: %q", p.err.Text)
	}
	for _, it := range h.a.main.tabs.Items {
		h.a.main.tabs.Select(it)
		h.a.wait()
		fits(t, h, it.Text)
		assertPatientWords(t, it.Text, h.win.Canvas())
	}
	var fact string
	for _, ch := range h.a.main.share.choices {
		fact = ch.check.Text
	}
	if want := "Practitioner licence: Sam Nurse, Registered nurse"; fact != want {
		t.Errorf("the licence on the Share screen reads %q, want %q", fact, want)
	}
}
