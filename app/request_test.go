package app

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/medid/medid/credentials/consent"
	"github.com/medid/medid/credentials/credtest"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/credentials/licence"
	"github.com/medid/medid/credentials/vc"
	"github.com/medid/medid/registry/tx"
	"github.com/medid/medid/wallet"
	"github.com/medid/medid/wallet/wallettest"
)

// TestConsentRequest: a provider's consent request link is opened on the
// Consent screen, shows who asks (unnamed here: not in the directory),
// what, why and for how long and the provider's own words; the patient
// gives less than was asked (one kind of record, a week, no emergency
// access) and exactly that is granted to the provider's DID, which the
// patient never typed. Declining grants nothing; a forged, expired or
// garbled request is refused with a sentence.
func TestConsentRequest(t *testing.T) {
	clk := newClock()
	svc := &fakeConsent{now: clk.Now}
	h := unlocked(t, withConsent(svc))
	doc := credtest.NewParty(t, key.Ed25519, "Dr Jones")
	issue := func(p *consent.Proposal) string {
		t.Helper()
		p.Provider = doc.DID
		tok, err := consent.IssueProposal(p, doc.Key, doc.Kid, h.clk.Now())
		if err != nil {
			t.Fatal(err)
		}
		return consent.ProposalURI(tok)
	}
	asked := func() *consent.Proposal {
		return &consent.Proposal{Purposes: []string{consent.PurposeTreatment}, Classes: []string{"AllergyIntolerance", "Immunization"},
			Duration: 30 * 24 * time.Hour, BreakGlass: true, Note: "Before your knee operation on 3 May"}
	}
	link := issue(asked())

	h.a.main.selectScreen("consent")
	h.a.wait()
	u := h.a.main.consent.ask
	open := func(text string) {
		t.Helper()
		u.link.SetText("")
		test.Type(u.link, text)
		test.Tap(u.open)
		h.a.wait()
	}
	open(link)
	if u.err.Visible() || !u.panel.Visible() {
		t.Fatalf("request not shown: %q", u.err.Text)
	}
	for _, want := range []string{whoStarts("", doc.DID) + " asks for your consent to see your allergies, immunizations, for treatment, for 30 days.",
		"does not know them"} {
		if !strings.Contains(u.who.Text, want) {
			t.Errorf("who asks = %q, want %q", u.who.Text, want)
		}
	}
	if !u.note.Visible() || !strings.Contains(u.note.Text, "Before your knee operation") {
		t.Errorf("their words = %q (visible %v)", u.note.Text, u.note.Visible())
	}
	if got := u.classes.Selected(); len(got) != 2 {
		t.Errorf("ticked = %v, want both kinds asked for", got)
	}
	if !u.glass.Visible() || !u.glass.Checked || u.duration.Selected != "30 days (as asked)" {
		t.Errorf("emergency access box visible %v ticked %v, duration %q", u.glass.Visible(), u.glass.Checked, u.duration.Selected)
	}
	for _, o := range u.duration.Options {
		if o == "1 year" {
			t.Error("a longer consent than asked is offered")
		}
	}
	assertPatientWords(t, "consent request", h.win.Canvas())

	// Give less than asked.
	test.Tap(u.classes.check("immunizations"))
	u.duration.SetSelected("1 week")
	test.Tap(u.glass)
	test.Tap(u.approve)
	h.a.wait()
	if len(svc.grants) != 1 {
		t.Fatalf("%d grants, want 1 (%q)", len(svc.grants), u.done.Text)
	}
	g := svc.grants[0]
	if g.Provider != doc.DID || len(g.DataClasses) != 1 || g.DataClasses[0] != "allergies" || g.Purpose != "TREAT" ||
		g.BreakGlass || g.Expires.Sub(g.Granted) != 7*24*time.Hour {
		t.Errorf("granted %+v, want allergies for a week to %s, no emergency access", g, doc.DID)
	}
	if u.panel.Visible() || !strings.Contains(u.done.Text, "Consent given to "+unnamed(doc.DID)) {
		t.Errorf("after giving consent: panel %v, note %q", u.panel.Visible(), u.done.Text)
	}
	if rows := h.a.main.consent.rows; len(rows) != 1 {
		t.Errorf("%d consents listed, want 1", len(rows))
	}

	// Nothing ticked: nothing granted, and the patient is told why.
	open(link)
	for _, l := range u.classes.Selected() {
		test.Tap(u.classes.check(l))
	}
	test.Tap(u.approve)
	h.a.wait()
	if len(svc.grants) != 1 || !strings.Contains(u.done.Text, "Tick at least one") {
		t.Errorf("approve with nothing ticked: %d grants, note %q", len(svc.grants), u.done.Text)
	}

	// The same request from a picture of its QR code.
	img, err := qrImage(link, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	pic := filepath.Join(t.TempDir(), "request.png")
	if err := os.WriteFile(pic, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	u.qrFile(pic)
	h.a.wait()
	if !u.panel.Visible() || u.err.Visible() {
		t.Fatalf("request from a QR picture not shown: %q", u.err.Text)
	}

	// Decline.
	test.Tap(u.decline)
	if len(svc.grants) != 1 || u.panel.Visible() || !strings.Contains(u.done.Text, "Declined. Nothing was sent") {
		t.Errorf("decline: %d grants, panel %v, note %q", len(svc.grants), u.panel.Visible(), u.done.Text)
	}

	// Refusals, in sentences.
	mallory := credtest.NewParty(t, key.Ed25519, "Mallory")
	other, err := consent.IssueProposal(&consent.Proposal{Provider: mallory.DID, Purposes: []string{"TREAT"}, Classes: []string{"Condition"},
		Duration: 24 * time.Hour}, mallory.Key, mallory.Kid, h.clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	good, _ := consent.ParseProposalURI(link)
	for _, c := range []struct{ name, in, want string }{
		{"not a link", "https://example.org", "not a consent request"},
		{"forged", consent.ProposalURI(good[:strings.LastIndexByte(good, '.')] + other[strings.LastIndexByte(other, '.'):]), "not signed by the one it names"},
	} {
		t.Run(c.name, func(t *testing.T) {
			open(c.in)
			if !u.err.Visible() || !strings.Contains(u.err.Text, c.want) || u.panel.Visible() {
				t.Errorf("error %q (visible %v), panel %v; want %q", u.err.Text, u.err.Visible(), u.panel.Visible(), c.want)
			}
		})
	}
	h.noAutoLock()
	h.clk.Advance(consent.ProposalLifetime + time.Minute)
	open(link)
	if !strings.Contains(u.err.Text, "expired") {
		t.Errorf("expired request: %q", u.err.Text)
	}
	if len(svc.grants) != 1 {
		t.Errorf("%d grants after the refusals, want 1", len(svc.grants))
	}
}

// TestPickProviderByName: on the Consent screen the patient types part of
// a hospital's name, picks it from the medid directory, and the consent
// goes to its DID, which the patient never saw; editing the name drops
// the pick (a name alone is refused).
func TestPickProviderByName(t *testing.T) {
	clk := newClock()
	svc := &fakeConsent{now: clk.Now}
	h := unlocked(t, withConsent(svc))
	hosp := newIssuer(t, "St Bartholomew's Hospital") // listed in the test directory
	h.a.main.selectScreen("consent")
	h.a.wait()
	u := h.a.main.consent
	test.Type(u.provider, "bartholomew")
	test.Tap(u.pick.find)
	h.a.wait()
	if len(u.pick.found) != 1 || !strings.HasPrefix(u.pick.found[0].Text, "St Bartholomew's Hospital") {
		t.Fatalf("found %d (%q)", len(u.pick.found), u.pick.note.Text)
	}
	assertPatientWords(t, "consent: directory results", h.win.Canvas())
	test.Tap(u.pick.found[0])
	if u.provider.Text != "St Bartholomew's Hospital" || !strings.Contains(u.pick.note.Text, "Consent will go to St Bartholomew's Hospital") {
		t.Errorf("after picking: box %q, note %q", u.provider.Text, u.pick.note.Text)
	}
	test.Tap(u.classes.check("allergies"))
	test.Tap(u.grant)
	h.a.wait()
	if len(svc.grants) != 1 || svc.grants[0].Provider != hosp.DID {
		t.Fatalf("grants %+v (error %q), want one to %s", svc.grants, u.err.Text, hosp.DID)
	}

	// Edited after the pick: no longer the directory's provider (the
	// wallet refuses a name that is not a DID: ErrNeedProviderDID).
	test.Type(u.provider, "bartholomew")
	test.Tap(u.pick.find)
	h.a.wait()
	test.Tap(u.pick.found[0])
	test.Type(u.provider, "x")
	if got := u.pick.provider(u.provider.Text); got == hosp.DID {
		t.Errorf("the Who box edited after the pick still stands for %s", got)
	}

	// Nobody by that name.
	u.provider.SetText("")
	test.Type(u.provider, "Nowhere Clinic")
	test.Tap(u.pick.find)
	h.a.wait()
	if len(u.pick.found) != 0 || !strings.Contains(u.pick.note.Text, "Nobody by that name") {
		t.Errorf("no match: %d results, note %q", len(u.pick.found), u.pick.note.Text)
	}
}

// TestWhoLookedNews: accesses newer than the ones the patient has seen
// put a count on the Who looked tab and raise one desktop notification
// (emergency ones named); opening Who looked marks them seen, in the
// wallet, so the next unlock announces nothing old.
func TestWhoLookedNews(t *testing.T) {
	clk := newClock()
	log := &fakeAccessLog{events: sampleAccesses(clk.Now())}
	h := unlocked(t, withAccessLog(log))
	h.a.wait()
	tab := h.a.main.items["access"]
	if tab.Text != "Who looked (4 new)" {
		t.Errorf("tab = %q, want 4 new", tab.Text)
	}
	want := fyne.NewNotification("medid wallet: who looked at your records",
		"4 accesses to your records since you last looked, 1 in an emergency. Open Who looked in your wallet to see who.")
	test.AssertNotificationSent(t, want, func() {
		h.a.main.access.notified = time.Time{}
		h.a.main.access.reload()
		h.a.wait()
	})
	// Announced once: a reload without news sends nothing.
	test.AssertNotificationSent(t, nil, func() {
		h.a.main.access.reload()
		h.a.wait()
	})

	h.a.main.selectScreen("access")
	h.a.wait()
	h.a.wait()
	if tab.Text != "Who looked" {
		t.Errorf("tab after looking = %q", tab.Text)
	}
	s, err := h.a.wallet().Settings()
	if err != nil || !s.AccessSeen.Equal(clk.Now().Add(-2*time.Hour)) {
		t.Errorf("seen up to %v (%v), want the newest access", s.AccessSeen, err)
	}

	// A new access while elsewhere: 1 new.
	h.a.main.selectScreen("credentials")
	log.mu.Lock()
	log.events = append(log.events, AccessEvent{At: clk.Now().Add(-time.Hour), Accessor: "St Mary's Hospital",
		Data: []string{"allergies"}, Purpose: "TREAT", Outcome: OutcomePermitted})
	log.mu.Unlock()
	test.AssertNotificationSent(t, fyne.NewNotification("medid wallet: who looked at your records",
		"1 access to your records since you last looked. Open Who looked in your wallet to see who."), func() {
		h.a.main.access.reload()
		h.a.wait()
	})
	if tab.Text != "Who looked (1 new)" {
		t.Errorf("tab = %q, want 1 new", tab.Text)
	}
}

// TestPreviewBeforeStoring: a pasted record is shown (what it is, who
// offers it, its fields) and nothing is stored until Add to my wallet;
// Don't add stores nothing.
func TestPreviewBeforeStoring(t *testing.T) {
	h := unlocked(t)
	hosp := newIssuer(t, "St Mary's Hospital")
	tok := hosp.Issue(t, h.primary(), []string{"AllergyIntoleranceCredential"}, allergyClaimsFHIR())
	u := h.a.main.creds
	test.Tap(u.addBtn)
	u.recvText.SetText(tok)
	test.Tap(u.recvBtn)
	h.a.wait()
	if !u.preview.Visible() || u.recvInput.Visible() {
		t.Fatalf("no preview (error %q)", u.recvErr.Text)
	}
	if n, _ := h.a.wallet().Credentials(wallet.Filter{}); len(n) != 0 {
		t.Fatalf("%d records stored before the patient accepted", len(n))
	}
	shown := strings.Join(visibleTexts(h.win.Canvas()), "\n")
	// St Mary's is in the directory but not accredited for allergies.
	for _, want := range []string{"Allergy intolerance", "Offered by St Mary's Hospital, which the medid directory does not accredit to issue this kind of record.",
		"Penicillin", "high"} {
		if !strings.Contains(shown, want) {
			t.Errorf("preview lacks %q", want)
		}
	}
	if len(u.issuerLines) != 1 || u.issuerLines[0].Importance != widget.WarningImportance {
		t.Errorf("the unaccredited issuer's line is not a warning")
	}
	assertPatientWords(t, "record preview", h.win.Canvas())
	test.Tap(u.recvReject)
	h.a.wait()
	if n, _ := h.a.wallet().Credentials(wallet.Filter{}); len(n) != 0 || !strings.Contains(u.msg.Text, "Not added") {
		t.Errorf("Don't add: %d records, message %q", len(n), u.msg.Text)
	}
	h.receive(tok)
	if len(u.items) != 1 {
		t.Errorf("%d cards after accepting, want 1", len(u.items))
	}
	// The screenshot screen "preview" shows the same preview of a held record.
	u.recv.Hide()
	h.a.main.selectScreen("preview")
	h.a.wait()
	if !u.preview.Visible() || len(u.previewed) != 1 {
		t.Errorf("preview screen: visible %v, %d offered", u.preview.Visible(), len(u.previewed))
	}
}

// TestConsentRequestWithLicence: a practitioner shows their licence with
// the consent request; the Consent screen checks it before the patient
// answers and names them by it, with their licensing body and employer;
// a licence the directory cannot verify is said to be unverified, with
// the reason, and its name is not shown.
func TestConsentRequestWithLicence(t *testing.T) {
	clk := newClock()
	h := unlocked(t, withConsent(&fakeConsent{now: clk.Now}))
	doc := credtest.NewParty(t, key.Ed25519, "Dr Licensed")
	gmc := credtest.NewParty(t, key.Ed25519, "Medical Council")
	quack := credtest.NewParty(t, key.Ed25519, "Quack Board")
	hosp := credtest.NewParty(t, key.Ed25519, "Licence Hospital")
	testDirectory.Store(gmc.DID, [2]string{"General Medical Council", tx.KindLicensingBody})
	testDirectory.Store(hosp.DID, "Riverside Hospital")
	link := func(body credtest.Party) string {
		t.Helper()
		from := h.clk.Now().Add(-time.Hour)
		cl := licence.Claims{Name: "Dr. Jane Doe", Profession: licence.Professions["doctor"], LicenceNumber: "GMC-1", Jurisdiction: "GB", Employer: hosp.DID}
		lic, err := vc.Issue(&vc.Credential{Context: []string{vc.ContextV2}, Type: []string{vc.TypeCredential, licence.Type},
			Issuer: body.DID, ValidFrom: &from, Subject: cl.Subject(doc.DID)}, body.Key, body.Kid)
		if err != nil {
			t.Fatal(err)
		}
		tok, err := consent.IssueProposal(&consent.Proposal{Provider: doc.DID, Purposes: []string{consent.PurposeTreatment},
			Classes: []string{"AllergyIntolerance"}, Duration: 7 * 24 * time.Hour, Licence: lic}, doc.Key, doc.Kid, h.clk.Now())
		if err != nil {
			t.Fatal(err)
		}
		return consent.ProposalURI(tok)
	}
	h.a.main.selectScreen("consent")
	h.a.wait()
	u := h.a.main.consent.ask
	open := func(text string) {
		t.Helper()
		u.link.SetText("")
		test.Type(u.link, text)
		test.Tap(u.open)
		h.a.wait()
		if u.err.Visible() || !u.panel.Visible() {
			t.Fatalf("request not shown: %q", u.err.Text)
		}
	}

	// From a body the directory does not list: unverified, not named.
	open(link(quack))
	if !u.licence.Visible() || u.licence.Importance != widget.WarningImportance ||
		!strings.Contains(u.licence.Text, "unverified (licence issuer is not in the directory)") || strings.Contains(u.who.Text, "Jane Doe") {
		t.Errorf("unverified licence: %q (who: %q)", u.licence.Text, u.who.Text)
	}
	// From the licensing body: checked, named, with body and employer.
	open(link(gmc))
	want := "Licence checked: Dr. Jane Doe, licensed by General Medical Council, at Riverside Hospital."
	if !u.licence.Visible() || u.licence.Text != want || u.licence.Importance != widget.SuccessImportance {
		t.Errorf("licence = %q, want %q", u.licence.Text, want)
	}
	if !strings.HasPrefix(u.who.Text, "Dr. Jane Doe (Riverside Hospital) asks for your consent") || strings.Contains(u.who.Text, "does not know them") {
		t.Errorf("who asks = %q", u.who.Text)
	}
	// A request without a licence shows no licence line.
	tok, err := consent.IssueProposal(&consent.Proposal{Provider: hosp.DID, Purposes: []string{consent.PurposeTreatment},
		Classes: []string{"AllergyIntolerance"}, Duration: 24 * time.Hour}, hosp.Key, hosp.Kid, h.clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	open(consent.ProposalURI(tok))
	if u.licence.Visible() {
		t.Errorf("no licence shown, yet the screen says %q", u.licence.Text)
	}
}

// TestPreviewUnlistedIssuer: a record from an issuer the directory does
// not list says so, as a warning, before the patient adds it.
func TestPreviewUnlistedIssuer(t *testing.T) {
	h := unlocked(t)
	is := wallettest.NewIssuer(t, "Self-named Clinic") // not in the directory
	tok := is.Issue(t, h.primary(), []string{"AllergyIntoleranceCredential"}, allergyClaimsFHIR())
	u := h.a.main.creds
	test.Tap(u.addBtn)
	u.recvText.SetText(tok)
	test.Tap(u.recvBtn)
	h.a.wait()
	if len(u.issuerLines) != 1 {
		t.Fatalf("no preview (error %q)", u.recvErr.Text)
	}
	l := u.issuerLines[0]
	if want := "Offered by " + unnamed(is.DID) + ", not in the medid directory."; l.Text != want || l.Importance != widget.WarningImportance {
		t.Errorf("issuer line %q (importance %v), want the warning %q", l.Text, l.Importance, want)
	}
	if strings.Contains(strings.Join(visibleTexts(h.win.Canvas()), "\n"), "Self-named Clinic") {
		t.Error("the issuer's own name is shown")
	}
}

// testLogoPNG is a small PNG and the tx.Logo naming it.
func testLogoPNG(t *testing.T, shade uint8) ([]byte, *tx.Logo) {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	img.Set(2, 2, color.RGBA{shade, 90, 160, 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b.Bytes())
	return b.Bytes(), &tx.Logo{SHA256: hex.EncodeToString(sum[:]), MediaType: "image/png"}
}

// TestLogosOnlyWhenTheyMatch: the offer preview and a consent request
// show an organisation's logo beside its name only when the image the
// registry serves is the one the directory names (its SHA-256); another
// image is never shown.
func TestLogosOnlyWhenTheyMatch(t *testing.T) {
	h := unlocked(t, withConsent(&fakeConsent{now: newClock().Now}))
	good := newIssuer(t, "Logo Hospital")
	bad := newIssuer(t, "Swapped Logo Hospital")
	img, named := testLogoPNG(t, 10)
	other, _ := testLogoPNG(t, 200)
	testLogos.Store(good.DID, servedLogo{named: named, served: img})
	_, badNamed := testLogoPNG(t, 50)
	testLogos.Store(bad.DID, servedLogo{named: badNamed, served: other})

	u := h.a.main.creds
	for _, tc := range []struct {
		is   wallettest.Issuer
		logo bool
	}{{good, true}, {bad, false}} {
		if u.recv != nil {
			u.recv.Hide()
		}
		test.Tap(u.addBtn)
		u.recvText.SetText(tc.is.Issue(t, h.primary(), []string{"AllergyIntoleranceCredential"}, allergyClaimsFHIR()))
		test.Tap(u.recvBtn)
		h.a.wait()
		if len(u.issuerLines) != 1 {
			t.Fatalf("no preview (error %q)", u.recvErr.Text)
		}
		if got := len(u.issuerLogos) == 1; got != tc.logo {
			t.Errorf("%s: logo shown %v, want %v", tc.is.Name, got, tc.logo)
		}
	}
	u.recv.Hide()

	// A consent request from the hospital: its logo beside who asks.
	tok, err := consent.IssueProposal(&consent.Proposal{Provider: good.DID, Purposes: []string{consent.PurposeTreatment},
		Classes: []string{"AllergyIntolerance"}, Duration: 24 * time.Hour}, good.Key, good.Kid, h.clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	h.a.main.selectScreen("consent")
	h.a.wait()
	ask := h.a.main.consent.ask
	test.Type(ask.link, consent.ProposalURI(tok))
	test.Tap(ask.open)
	h.a.wait()
	if ask.logo == nil || !strings.HasPrefix(ask.who.Text, "Logo Hospital asks") {
		t.Errorf("consent request: logo %v, who %q", ask.logo != nil, ask.who.Text)
	}
}
