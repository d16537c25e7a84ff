package app

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

// devTerms are words a patient should never have to read: protocol and
// data-format names, cryptographic terms, raw identifiers and the names
// of the servers behind the screens. They may appear only behind a
// "Details" tap (see details).
var devTerms = regexp.MustCompile(`\bDIDs?\b|did:|\bJWT\b|\bJWS\b|\bVP\b|\bVC\b|\bJSON\b|\bnonce\b|\bhash\b|` +
	`(?i:status list)|redirect_uri|client_id|eyJ|openid4vp|openid-credential-offer|break-glass|(?i:resource type)|` +
	`credentialSubject|\bvault\b|\bregistry\b|\btoken\b|(?i:\bpresentation\b)|\bURI\b|\bkid\b|multibase|\bissuer\b|\bverifier\b|` +
	`\bschema\b|\bpayload\b|\bendpoint\b|\bcredential\b|\b[a-z]+_[a-z_]+\b`) // the last: snake_case codes (invalid_request)

// machineCode matches the text of a licence card's QR code as pasted into
// Check a practitioner: Base45, whose random letters spell "VP" or "VC"
// now and then without being words anyone reads.
var machineCode = regexp.MustCompile(`^MEDID\d:[0-9A-Z $%*+\-./:]+$`)

// recoveryWords matches a line of the numbered recovery words.
var recoveryWords = regexp.MustCompile(`^(\s*\d+\.\s+[a-z]+)+\s*$`)

// visibleTexts collects every text drawn on c (content and overlays such
// as dialogs) that the patient sees without a "Details" tap: hidden
// objects are skipped, and of an accordion only its titles count.
func visibleTexts(c fyne.Canvas) []string {
	var out []string
	var walk func(o fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		if o == nil || !o.Visible() {
			return
		}
		switch x := o.(type) {
		case *widget.Accordion:
			for _, it := range x.Items {
				out = append(out, it.Title)
			}
		case *canvas.Text:
			out = append(out, x.Text)
		case *fyne.Container:
			for _, c := range x.Objects {
				walk(c)
			}
		case fyne.Widget:
			for _, c := range test.WidgetRenderer(x).Objects() {
				walk(c)
			}
		}
	}
	walk(c.Content())
	for _, o := range c.Overlays().List() {
		walk(o)
	}
	return out
}

// assertPatientWords fails the test for every developer term on c.
func assertPatientWords(t *testing.T, screen string, c fyne.Canvas) {
	t.Helper()
	texts := visibleTexts(c)
	if len(texts) == 0 {
		t.Fatalf("%s: no text found on the screen", screen)
	}
	for _, s := range texts {
		if recoveryWords.MatchString(s) {
			continue // the 24 words are BIP-39 words: kid, token, hash and vault are among them
		}
		if machineCode.MatchString(s) {
			continue // a pasted code, not text of the app's
		}
		if m := devTerms.FindString(s); m != "" {
			t.Errorf("%s shows %q to the patient in %q", screen, m, s)
		}
	}
}

// TestNoDeveloperTerms walks every screen a patient meets, in order, with
// real content (records, consents and accesses whose parties the
// directory does not name, so raw identifiers would show if anything
// printed them) and the dialogs they open, and fails on any developer
// term outside a "Details" tap.
func TestNoDeveloperTerms(t *testing.T) {
	t.Run("first run", func(t *testing.T) {
		h := newHarness(t, "")
		assertPatientWords(t, "welcome", h.win.Canvas())
		test.Tap(h.a.setup.createBtn)
		assertPatientWords(t, "create", h.win.Canvas())
		test.Type(h.a.setup.pass, testPass)
		test.Type(h.a.setup.pass2, testPass)
		test.Tap(h.a.setup.doCreate)
		h.a.wait()
		assertPatientWords(t, "recovery words", h.win.Canvas())
	})
	t.Run("restore", func(t *testing.T) {
		h := newHarness(t, "")
		test.Tap(h.a.setup.phraseBtn)
		assertPatientWords(t, "restore from words", h.win.Canvas())
	})
	t.Run("unlock", func(t *testing.T) {
		h := newHarness(t, prepared(t))
		assertPatientWords(t, "locked", h.win.Canvas())
		h.unlock("not the passphrase")
		assertPatientWords(t, "wrong passphrase", h.win.Canvas())
	})

	clk := newClock()
	evs := []AccessEvent{
		{At: clk.Now().Add(-3 * time.Hour), Accessor: longDID, Data: []string{"allergies"}, Purpose: "ETREAT", Outcome: OutcomePermitted, BreakGlass: true, Standing: true},
		{At: clk.Now().Add(-2 * time.Hour), Accessor: longDID, Data: []string{"allergies"}, Purpose: "ETREAT", Outcome: OutcomeDenied, BreakGlass: true},
		{At: clk.Now().Add(-time.Hour), Accessor: "Someone who could not prove who they are", Data: []string{"conditions"}, Purpose: "TREAT", Outcome: OutcomeDenied},
	}
	h := unlocked(t, withConsent(&fakeConsent{now: clk.Now}), withAccessLog(&fakeAccessLog{events: evs}))
	hosp := newIssuer(t, "St Mary's Hospital")
	me := h.primary()
	h.receive(hosp.Issue(t, me, []string{"AllergyIntoleranceCredential"}, allergyClaimsFHIR()))
	imm := hosp.Issue(t, me, []string{"ImmunizationCredential"}, immunizationClaims())
	h.receive(imm)
	h.verifier.Set(imm, "revoked")
	test.Tap(h.a.main.creds.refreshBtn)
	h.a.wait()
	if _, err := h.a.cfg.Consent.Grant(h.a.ctx, ConsentRequest{Provider: longDID, DataClasses: []string{"allergies"},
		Purpose: "TREAT", Duration: 30 * 24 * time.Hour, BreakGlass: true}); err != nil {
		t.Fatal(err)
	}

	for _, tab := range []string{"credentials", "share", "consent", "access", "identities", "settings"} {
		h.a.main.selectScreen(tab)
		h.a.wait()
		settle(h)
		assertPatientWords(t, tab, h.win.Canvas())
		// The walk reaches what the screen loaded: the unnamed party is
		// there, by its reference.
		if tab == "consent" || tab == "access" {
			if !strings.Contains(strings.Join(visibleTexts(h.win.Canvas()), "\n"), whoStarts("", longDID)) {
				t.Errorf("%s: %q not found on the screen", tab, whoStarts("", longDID))
			}
		}
	}

	// Record detail, and the delete confirmation.
	h.a.main.selectScreen("credentials")
	test.Tap(h.card("Allergy intolerance").open)
	h.a.wait()
	assertPatientWords(t, "record detail", h.win.Canvas())
	test.Tap(h.a.main.creds.detail.del)
	assertPatientWords(t, "delete confirmation", h.win.Canvas())
	test.Tap(h.a.main.creds.detail.no)

	// Adding a record that is not one.
	h.receive("hello")
	assertPatientWords(t, "add a record: not a record", h.win.Canvas())
	h.a.main.creds.recv.Hide()

	// Sharing by hand: review, then the result (the shared text itself
	// is behind Details).
	h.a.main.selectScreen("share")
	h.a.wait()
	s := h.a.main.share
	s.reload()
	h.a.wait()
	if len(s.choices) == 0 {
		t.Fatal("nothing to share")
	}
	// The revoked immunization cannot be shared: tick the allergy.
	ticked := false
	for _, c := range s.choices {
		if !c.check.Disabled() {
			c.check.SetChecked(true)
			ticked = true
			break
		}
	}
	if !ticked {
		t.Fatal("no record can be shared")
	}
	test.Type(s.audience, "https://er.example.org")
	test.Type(s.nonce, "n-1234")
	test.Tap(s.review)
	assertPatientWords(t, "share review", h.win.Canvas())
	test.Tap(s.yes)
	h.a.wait()
	if !s.result.Visible() {
		t.Fatalf("no result after sharing: %q", s.err.Text)
	}
	assertPatientWords(t, "shared", h.win.Canvas())

	// Consent: a provider the directory does not name, and taking it back.
	h.a.main.selectScreen("consent")
	h.a.wait()
	c := h.a.main.consent
	if len(c.rows) != 1 {
		t.Fatalf("%d consents, want 1", len(c.rows))
	}
	test.Tap(c.rows[0].copyDID)
	assertPatientWords(t, "consent copied", h.win.Canvas())
	test.Tap(c.rows[0].revoke)
	assertPatientWords(t, "take back consent", h.win.Canvas())
	c.rows[0].confirm.Hide()

	// Identities: the QR dialog.
	h.a.main.selectScreen("identities")
	h.a.wait()
	test.Tap(h.a.main.ids.rows[0].showQ)
	assertPatientWords(t, "identity QR code", h.win.Canvas())
	h.a.main.ids.qr.Hide()
	test.Tap(h.a.main.ids.rows[0].copy)
	assertPatientWords(t, "identity copied", h.win.Canvas())

	// The identifier is there for those who tap Details.
	r := h.a.main.ids.rows[0]
	r.more.Open(0)
	if !strings.HasPrefix(r.id.Text, "did:") || !r.id.Visible() {
		t.Errorf("identity details show %q (visible %v), want the identifier", r.id.Text, r.id.Visible())
	}
}

// TestDevTerms pins what devTerms catches and what it lets through.
func TestDevTerms(t *testing.T) {
	// A line of recovery words is skipped: kid, token, hash and vault are BIP-39 words.
	if !recoveryWords.MatchString("13. verify      14. kid         15. lawn        16. soup      ") || recoveryWords.MatchString("Paste the JWT") {
		t.Error("recoveryWords does not tell a line of recovery words from a sentence")
	}
	for _, s := range []string{"Issuer DID", "did:key:z6Mk", "Paste the JWT", "the nonce", "status list", "Resource type",
		"openid4vp://x", "it starts with eyJ", "redirect_uri:https://x", "(invalid_request)", "break-glass", "the vault address"} {
		if !devTerms.MatchString(s) {
			t.Errorf("devTerms does not catch %q", s)
		}
	}
	for _, s := range []string{"Details", "medid network", "Your identifier", "someone not in the directory (ref. 3CuyQr)", "Emergency treatment",
		"Check status", "Not checked since 14 Mar 2026 10:31 (no connection)", "https://records.hospital.example"} {
		if m := devTerms.FindString(s); m != "" {
			t.Errorf("devTerms catches %q in %q, a patient's word", m, s)
		}
	}
}
