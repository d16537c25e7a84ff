package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/png"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/emergency"
	"github.com/medid/medid/credentials/openid4vci"
	"github.com/medid/medid/credentials/vc"
	"github.com/medid/medid/internal/qr"
	"github.com/medid/medid/wallet"
	"github.com/medid/medid/wallet/wallettest"
)

func TestCreateWalletFlow(t *testing.T) {
	h := newHarness(t, "")
	s := h.a.setup
	if s == nil {
		t.Fatal("no first-run screen for an empty folder")
	}
	test.Tap(s.createBtn)

	// Strength feedback, and Create stays off until strong enough and repeated.
	test.Type(s.pass, "abc")
	if !s.doCreate.Disabled() {
		t.Error("Create enabled for a 3-character passphrase")
	}
	if !strings.Contains(s.strengthMsg.Text, "Too short") {
		t.Errorf("strength message = %q, want it to say too short", s.strengthMsg.Text)
	}
	s.pass.SetText("")
	test.Type(s.pass, testPass)
	if !strings.Contains(s.strengthMsg.Text, "trong") {
		t.Errorf("strength message for %q = %q, want strong", testPass, s.strengthMsg.Text)
	}
	test.Type(s.pass2, "correct horse battery")
	if !s.doCreate.Disabled() {
		t.Error("Create enabled while the passphrases differ")
	}
	test.Type(s.pass2, " staple")
	if s.doCreate.Disabled() {
		t.Fatal("Create disabled with a strong passphrase typed twice")
	}
	test.Tap(s.doCreate)
	h.a.wait()

	// The 24 words are shown; Continue waits for the tick.
	if len(s.phrase) != 24 {
		t.Fatalf("phrase has %d words, want 24", len(s.phrase))
	}
	phrase := append([]string(nil), s.phrase...)
	for i, w := range phrase {
		if !strings.Contains(s.words.Text, fmt.Sprintf("%d. %s", i+1, w)) {
			t.Fatalf("word %d (%s) not shown in %q", i+1, w, s.words.Text)
		}
	}
	if !s.toConfirm.Disabled() {
		t.Error("Continue enabled before the patient ticked that the words are written down")
	}
	test.Tap(s.wroteIt)
	test.Tap(s.toConfirm)

	// A wrong word is rejected and names the position.
	for i, p := range s.confirmPos {
		test.Type(s.confirm[i], phrase[p])
	}
	s.confirm[1].SetText("zzzz")
	test.Tap(s.confirmBtn)
	if h.a.main != nil {
		t.Fatal("main screen reached with a wrong word")
	}
	if !s.confirmErr.Visible() || !strings.Contains(s.confirmErr.Text, fmt.Sprint(s.confirmPos[1]+1)) {
		t.Errorf("error = %q (visible %v), want it to name word %d", s.confirmErr.Text, s.confirmErr.Visible(), s.confirmPos[1]+1)
	}
	s.confirm[1].SetText(" " + strings.ToUpper(phrase[s.confirmPos[1]]) + " ")
	test.Tap(s.confirmBtn)
	h.a.wait()
	if h.a.main == nil {
		t.Fatalf("not on the main screen after the right words; error %q", s.confirmErr.Text)
	}
	if s.phrase != nil {
		t.Error("the phrase is still held after confirmation")
	}
	// The wallet exists and opens with the passphrase.
	if dids, err := h.a.wallet().DIDs(); err != nil || len(dids) != 1 {
		t.Errorf("DIDs = %v, %v; want the primary one", dids, err)
	}
}

// fixedPrimary is the primary DID of fixedPhrase.
func fixedPrimary(t *testing.T) string {
	t.Helper()
	w, err := wallet.Recover(wallet.Config{Dir: filepath.Join(t.TempDir(), "w"), KDF: fastKDF()}, []byte(testPass), fixedPhrase, wallet.RecoverOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	d, _ := w.PrimaryDID()
	return d.DID
}

func TestUnlockLockoutAndAutoLock(t *testing.T) {
	h := newHarness(t, prepared(t))
	u := h.a.unlock
	if u == nil || h.a.setup != nil {
		t.Fatal("an existing wallet must open on the unlock screen")
	}
	h.unlock("wrong passphrase one")
	if h.a.main != nil || !strings.Contains(u.err.Text, "passphrase is not right") {
		t.Fatalf("wrong passphrase: main=%v error=%q", h.a.main != nil, u.err.Text)
	}
	h.unlock("wrong passphrase two") // the second failure starts a 1-minute lockout
	if !strings.Contains(u.err.Text, "locked for 1 minute") {
		t.Errorf("lockout error = %q, want the time left", u.err.Text)
	}
	if !u.wait.Visible() || u.wait.Text != "You can try again in 1 minute." {
		t.Errorf("countdown = %q (visible %v)", u.wait.Text, u.wait.Visible())
	}
	if !u.btn.Disabled() || !u.pass.Disabled() {
		t.Error("unlocking still possible during the lockout")
	}
	h.clk.Advance(30 * time.Second)
	u.tick()
	if u.wait.Text != "You can try again in 30 seconds." {
		t.Errorf("countdown after 30 s = %q", u.wait.Text)
	}
	h.clk.Advance(31 * time.Second)
	if !u.tick() || u.btn.Disabled() || u.wait.Visible() {
		t.Fatal("still locked out after the lockout ended")
	}
	h.unlock(testPass)
	if h.a.main == nil {
		t.Fatalf("right passphrase refused: %q", u.err.Text)
	}

	// Auto-lock: idle longer than the default 5 minutes.
	h.clk.Advance(4 * time.Minute)
	h.a.checkIdle()
	h.a.wait()
	if h.a.main == nil {
		t.Fatal("locked before the auto-lock time")
	}
	h.clk.Advance(2 * time.Minute)
	h.a.checkIdle()
	h.a.wait()
	if h.a.main != nil || h.a.unlock == nil {
		t.Fatal("not locked after idle time")
	}
	h.unlock(testPass)
	test.Tap(h.a.main.lockBtn)
	if h.a.main != nil || !h.a.wallet().IsLocked() {
		t.Error("the Lock button did not lock")
	}
}

func TestReceiveDetailDelete(t *testing.T) {
	h := unlocked(t)
	hosp := newIssuer(t, "St Mary's Hospital")
	me := h.primary()
	u := h.a.main.creds
	if !u.empty.Visible() {
		t.Error("no empty-state text for an empty wallet")
	}

	allergy := hosp.Issue(t, me, []string{"AllergyIntoleranceCredential"}, allergyClaimsFHIR())
	h.receive(allergy)
	if u.recvErr.Visible() {
		t.Fatalf("receive failed: %q", u.recvErr.Text)
	}
	c := h.card("Allergy intolerance")
	if c.issuer.Text != "From St Mary's Hospital" || c.badge.status != wallet.StatusValid || c.date.Text != "Issued 5 Jan 2026" {
		t.Errorf("card = %q / %q / %s", c.issuer.Text, c.date.Text, c.badge.status)
	}
	if c.badge.word != "Valid" {
		t.Errorf("badge text = %q", c.badge.word)
	}

	// Rejections come back as sentences, and nothing is added.
	cases := []struct{ name, input, want string }{
		{"someone else's", hosp.Issue(t, newIssuer(t, "other").DID, []string{"AllergyIntoleranceCredential"}, allergyClaimsFHIR()), "issued to someone else"},
		{"garbage", "hello", "not a record the wallet can read"},
		{"tampered", allergy[:len(allergy)-4] + "AAAA", "changed or damaged"},
		{"empty", "   ", "Nothing was entered"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h.receive(tc.input)
			if !u.recvErr.Visible() || !strings.Contains(u.recvErr.Text, tc.want) {
				t.Errorf("error = %q (visible %v), want %q", u.recvErr.Text, u.recvErr.Visible(), tc.want)
			}
			u.recv.Hide()
		})
	}
	if len(u.items) != 1 {
		t.Fatalf("%d cards after rejections, want 1", len(u.items))
	}

	// Detail renders the allergy as substance, reaction, severity.
	test.Tap(h.card("Allergy intolerance").open)
	h.a.wait()
	d := u.detail
	want := []claim{{"Substance", "Penicillin"}, {"Reaction", "anaphylaxis"}, {"Severity", "high"}}
	if fmt.Sprint(d.claims) != fmt.Sprint(want) {
		t.Errorf("claims = %v, want %v", d.claims, want)
	}
	if len(d.form.Items) != 3 || d.form.Items[0].Text != "Substance" || d.form.Items[0].Widget.(*widget.Label).Text != "Penicillin" {
		t.Errorf("form does not show the substance first: %d items", len(d.form.Items))
	}

	// Delete asks first; "Keep it" keeps it.
	test.Tap(d.del)
	test.Tap(d.no)
	if n, _ := h.a.wallet().Credentials(wallet.Filter{}); len(n) != 1 {
		t.Fatal("deleted although the patient chose to keep it")
	}
	test.Tap(d.del)
	test.Tap(d.yes)
	h.a.wait()
	if n, _ := h.a.wallet().Credentials(wallet.Filter{}); len(n) != 0 {
		t.Fatal("not deleted after confirmation")
	}
	if u.detail != nil || len(u.items) != 0 || !u.empty.Visible() {
		t.Error("the list is not back, empty, after deleting")
	}
}

func TestStatusBadges(t *testing.T) {
	h := unlocked(t)
	if err := h.a.wallet().SetSettings(wallet.Settings{AutoLock: -1}); err != nil {
		t.Fatal(err)
	}
	hosp := newIssuer(t, "St Mary's Hospital")
	me := h.primary()
	until := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	toks := map[string]string{
		"Allergy":      hosp.Issue(t, me, []string{"AllergyCredential"}, allergyClaimsFHIR()),
		"Immunization": hosp.Issue(t, me, []string{"ImmunizationCredential"}, immunizationClaims()),
		"Insurance":    hosp.Issue(t, me, []string{"InsuranceCredential"}, map[string]any{"memberNumber": "123"}),
		"Blood type":   hosp.Issue(t, me, []string{"BloodTypeCredential"}, map[string]any{"bloodType": "O+"}, func(c *vc.Credential) { c.ValidUntil = &until }),
	}
	for _, tok := range toks {
		h.receive(tok)
		h.clk.Advance(time.Second)
	}
	h.verifier.Set(toks["Immunization"], "revoked")
	h.verifier.Set(toks["Insurance"], "suspended")
	u := h.a.main.creds
	test.Tap(u.refreshBtn)
	h.a.wait()
	if !strings.Contains(u.msg.Text, "2 records need attention") {
		t.Errorf("refresh message = %q", u.msg.Text)
	}
	h.clk.Advance(30 * 24 * time.Hour) // past the blood type's validUntil
	u.reload()
	h.a.wait()
	want := map[string]string{"Allergy": "Valid", "Immunization": "Revoked", "Insurance": "Suspended", "Blood type": "Expired"}
	for title, badge := range want {
		if got := h.card(title).badge.word; got != badge {
			t.Errorf("%s badge = %q, want %q", title, got, badge)
		}
	}
}

func TestShareProducesVerifiablePresentation(t *testing.T) {
	h := unlocked(t)
	hosp := newIssuer(t, "St Mary's Hospital")
	me := h.primary()
	h.receive(hosp.Issue(t, me, []string{"AllergyIntoleranceCredential"}, allergyClaimsFHIR()))
	h.clk.Advance(time.Second)
	h.receive(hosp.Issue(t, me, []string{"ImmunizationCredential"}, immunizationClaims()))
	h.a.main.selectScreen("share")
	h.a.wait()
	u := h.a.main.share
	if len(u.choices) != 2 {
		t.Fatalf("%d records to choose from, want 2", len(u.choices))
	}

	// Nothing chosen: a sentence, no dialog.
	test.Tap(u.review)
	if !strings.Contains(u.err.Text, "Choose at least one") {
		t.Errorf("error = %q", u.err.Text)
	}
	var allergy *shareChoice
	for _, c := range u.choices {
		if kindOf(c.cred.Types) == "allergy" {
			allergy = c
		}
	}
	if !strings.Contains(allergy.what.Text, "substance, reaction, severity") {
		t.Errorf("claims listed = %q", allergy.what.Text)
	}
	test.Tap(allergy.check)
	test.Type(u.audience, "https://er.example.org")
	test.Tap(u.review)
	if !strings.Contains(u.err.Text, "request code") {
		t.Errorf("missing nonce error = %q", u.err.Text)
	}
	test.Type(u.nonce, "n-0S6_WzA2Mj")
	test.Tap(u.review)

	// The summary says who gets what, values included, and only that.
	for _, want := range []string{"https://er.example.org", "Allergy intolerance", "Substance: Penicillin", "Severity: high", "1 record"} {
		if !strings.Contains(u.summary.Text, want) {
			t.Errorf("summary lacks %q:\n%s", want, u.summary.Text)
		}
	}
	if strings.Contains(u.summary.Text, "Td") {
		t.Errorf("summary mentions the immunization, which was not chosen:\n%s", u.summary.Text)
	}
	if u.result.Visible() {
		t.Fatal("a presentation was produced before confirming")
	}
	test.Tap(u.yes)
	h.a.wait()
	if !u.result.Visible() {
		t.Fatalf("no result: %q", u.err.Text)
	}
	vp, err := vc.VerifyPresentation(context.Background(), u.token.Text, wallettest.DIDKeyFunc,
		vc.PresentationOptions{Audience: "https://er.example.org", Nonce: "n-0S6_WzA2Mj", Now: h.clk.Now()})
	if err != nil {
		t.Fatalf("VerifyPresentation: %v", err)
	}
	if len(vp.Credentials) != 1 || vp.Credentials[0].Subject["code"].(map[string]any)["display"] != "Penicillin" {
		t.Errorf("presented %d credentials: %+v", len(vp.Credentials), vp.Credentials)
	}
	path := filepath.Join(t.TempDir(), "vp.jwt")
	if err := u.saveTo(path); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); strings.TrimSpace(string(b)) != u.token.Text {
		t.Error("saved file differs from the presentation")
	}
	test.Tap(u.copyBtn)
	if got := h.a.fa.Clipboard().Content(); got != u.token.Text {
		t.Errorf("clipboard has %d bytes, want the presentation", len(got))
	}
	hist, _ := h.a.wallet().History()
	if last := hist[len(hist)-1]; last.Kind != wallet.EventPresented || last.Audience != "https://er.example.org" {
		t.Errorf("history = %+v", last)
	}
}

func TestEmergencyCard(t *testing.T) {
	h := unlocked(t)
	hosp := newIssuer(t, "St Mary's Hospital")
	me := h.primary()
	u := h.a.main.share
	test.Tap(u.emergencyBtn)
	h.a.wait()
	if u.emergency != nil || !strings.Contains(u.err.Text, "no valid allergy, medication or blood type") {
		t.Fatalf("emergency card without records: %q", u.err.Text)
	}
	h.receive(hosp.Issue(t, me, []string{"AllergyIntoleranceCredential"}, allergyClaimsFHIR()))
	h.receive(hosp.Issue(t, me, []string{"InsuranceCredential"}, map[string]any{"memberNumber": "123"}))
	set, err := h.a.wallet().Settings()
	if err != nil {
		t.Fatal(err)
	}
	set.EmergencyContact = "Sam Doe, +44 20 7946 0000"
	if err := h.a.wallet().SetSettings(set); err != nil {
		t.Fatal(err)
	}
	test.Tap(u.emergencyBtn)
	h.a.wait()
	e := u.emergency
	if e == nil {
		t.Fatalf("no emergency card: %q", u.err.Text)
	}
	// For people: the essentials in large type, who they are from and
	// when checked, and the emergency contact; no developer terms.
	if len(e.facts) != 1 || e.facts[0].Text != "Allergy intolerance: Penicillin, severity high" || e.facts[0].SizeName != theme.SizeNameSubHeadingText {
		t.Errorf("essentials = %v", e.facts)
	}
	if shown := strings.Join(visibleTexts(h.win.Canvas()), "\n"); !strings.Contains(shown, "From St Mary's Hospital, checked ") {
		t.Errorf("the card does not say who the allergy is from and when it was checked:\n%s", shown)
	}
	if e.contact == nil || !strings.Contains(e.contact.Text, "Sam Doe, +44 20 7946 0000") {
		t.Errorf("emergency contact not on the card")
	}
	assertPatientWords(t, "emergency card", h.win.Canvas())
	pic := filepath.Join(t.TempDir(), "card.png")
	if err := e.saveTo(pic); err != nil {
		t.Fatalf("save as a picture: %v", err)
	}
	if f, err := os.Open(pic); err != nil {
		t.Error(err)
	} else {
		cfg, err := png.DecodeConfig(f)
		f.Close()
		if err != nil || cfg.Width < 400 {
			t.Errorf("saved card: %+v, %v", cfg, err)
		}
	}
	if !h.win.FullScreen() {
		t.Error("the emergency card is not full screen")
	}
	// What a verifier scans: the compacted card, which expands to a
	// presentation for the emergency audience.
	vp := scanCard(t, h, e, 1)
	if !vp.Credentials[0].HasType("AllergyIntoleranceCredential") {
		t.Errorf("emergency card carries %v; want the allergy only", vp.Credentials[0].Type)
	}
	test.Tap(e.close)
	if h.win.FullScreen() || u.emergency != nil || h.win.Content() != h.a.root {
		t.Error("closing the card did not restore the window")
	}

	// More than one QR code holds: the records left out are named.
	h.receive(hosp.Issue(t, me, []string{"BloodTypeCredential"}, map[string]any{"bloodType": "O+"}))
	h.clk.Advance(time.Second)
	h.receive(hosp.Issue(t, me, []string{"MedicationStatementCredential"}, map[string]any{"medication": "x", "note": incompressible(6000)}))
	test.Tap(u.emergencyBtn)
	h.a.wait()
	if e = u.emergency; e == nil {
		t.Fatalf("no emergency card: %q", u.err.Text)
	}
	if !slices.Contains(e.left, "Medication statement") || !strings.Contains(e.info.Text, "Not on this card (too much for one code): Medication statement") {
		t.Errorf("left out %v; info %q", e.left, e.info.Text)
	}
	scanCard(t, h, e, 3-len(e.left))
	test.Tap(e.close)
}

// scanCard decodes the card's QR code as a verifier would and verifies
// the presentation in it, which must carry n credentials.
func scanCard(t *testing.T, h *harness, e *emergencyCard, n int) *vc.VerifiedPresentation {
	t.Helper()
	text, err := decodeQRImage(e.qr.Image)
	if err != nil || text != e.payload {
		t.Fatalf("QR decodes to %d bytes (%v), want the card", len(text), err)
	}
	tok, err := qr.Expand(text)
	if err != nil || tok != e.token {
		t.Fatalf("expand: %v", err)
	}
	vp, err := vc.VerifyPresentation(context.Background(), tok, wallettest.DIDKeyFunc,
		vc.PresentationOptions{Audience: emergency.Audience, Nonce: e.nonce, Now: h.clk.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if len(vp.Credentials) != n {
		t.Fatalf("the card carries %d credentials, want %d", len(vp.Credentials), n)
	}
	return vp
}

// incompressible is n characters that DEFLATE cannot shrink much.
func incompressible(n int) string {
	var b strings.Builder
	x := uint32(2463534242)
	for b.Len() < n {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b.WriteByte("abcdefghijklmnopqrstuvwxyz0123456789"[x%36])
	}
	return b.String()
}

func TestIdentities(t *testing.T) {
	h := unlocked(t)
	u := h.a.main.ids
	if len(u.rows) != 1 || u.rows[0].kind.Text != "Main identity" || u.rows[0].did.DID != fixedPrimary(t) {
		t.Fatalf("rows = %d, first %q", len(u.rows), u.rows[0].kind.Text)
	}
	test.Tap(u.rows[0].copy)
	if h.a.fa.Clipboard().Content() != u.rows[0].did.DID {
		t.Error("Copy did not copy the DID")
	}
	test.Tap(u.rows[0].showQ)
	if got, err := decodeQRImage(u.qrImg.Image); err != nil || got != u.rows[0].did.DID {
		t.Errorf("QR = %q, %v", got, err)
	}
	u.qr.Hide()

	test.Tap(u.newPairwise)
	if !strings.Contains(u.err.Text, "Type who") {
		t.Errorf("no label: error %q", u.err.Text)
	}
	test.Type(u.label, "St Mary's Hospital")
	test.Tap(u.newPairwise)
	h.a.wait()
	if len(u.rows) != 2 || u.rows[1].kind.Text != "Private identity for St Mary's Hospital" || !u.rows[1].did.Pairwise {
		t.Fatalf("after new pairwise: %d rows", len(u.rows))
	}

	test.Type(u.label, "City ER")
	test.Tap(u.register)
	h.a.wait()
	if u.err.Visible() {
		t.Fatalf("register: %q", u.err.Text)
	}
	if len(u.rows) != 3 || u.rows[2].did.Method != wallet.MethodMedid || !strings.HasPrefix(u.rows[2].did.DID, "did:medid:") {
		t.Fatalf("after register: %d rows", len(u.rows))
	}
	if !strings.Contains(u.rows[2].kind.Text, "registered on the medid network") || !strings.Contains(u.status.Text, "Registered on the medid network") || strings.Contains(u.status.Text, "did:") {
		t.Errorf("row %q, status %q", u.rows[2].kind.Text, u.status.Text)
	}

	h.registry.fail = errors.New("connection refused")
	test.Tap(u.register)
	h.a.wait()
	if !u.err.Visible() || len(u.rows) != 3 {
		t.Errorf("failed registration: error %q, %d rows", u.err.Text, len(u.rows))
	}
	if u.register.Disabled() || u.progress.Visible() {
		t.Error("progress still showing (or Register still off) after the failure")
	}
	if !strings.Contains(u.err.Text, "connection refused") && !strings.Contains(u.err.Text, "Something went wrong") {
		t.Errorf("failure text = %q", u.err.Text)
	}
}

func TestSettingsBackupRestores(t *testing.T) {
	h := unlocked(t)
	hosp := newIssuer(t, "St Mary's Hospital")
	h.receive(hosp.Issue(t, h.primary(), []string{"AllergyIntoleranceCredential"}, allergyClaimsFHIR()))
	u := h.a.main.settings
	path := filepath.Join(t.TempDir(), "backup.age")
	test.Type(u.backupPath, path)
	test.Type(u.backupPass, "purple elephant dancing slowly")
	test.Type(u.backupPass2, "purple elephant dancing quickly")
	test.Tap(u.backupBtn)
	if !strings.Contains(u.backupNote.Text, "different") {
		t.Errorf("mismatch error = %q", u.backupNote.Text)
	}
	u.backupPass2.SetText("purple elephant dancing slowly")
	test.Tap(u.backupBtn)
	h.a.wait()
	if u.backupNote.Importance != widget.SuccessImportance || !strings.Contains(u.backupNote.Text, "Backup saved") {
		t.Fatalf("backup: %q", u.backupNote.Text)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("backup file: %v, %v", fi, err)
	}
	cfg := wallet.Config{Dir: filepath.Join(t.TempDir(), "restored"), KDF: fastKDF()}
	f, _ := os.Open(path)
	defer f.Close()
	w, err := wallet.Restore(cfg, f, []byte("purple elephant dancing slowly"), []byte(testPass))
	if err != nil {
		t.Fatalf("Restore: %v", err)
	}
	defer w.Close()
	if creds, _ := w.Credentials(wallet.Filter{}); len(creds) != 1 {
		t.Errorf("restored %d credentials, want 1", len(creds))
	}

	// The same file restores through the first-run screen too.
	h2 := newHarness(t, "")
	s := h2.a.setup
	test.Tap(s.backupBtn)
	test.Type(s.backupFile, path)
	test.Type(s.backupPass, "wrong backup passphrase")
	test.Type(s.backupNewPass, testPass)
	test.Type(s.backupNew2, testPass)
	test.Tap(s.doRestoreBackup)
	h2.a.wait()
	if !strings.Contains(s.restoreBackupErr.Text, "passphrase is not right") {
		t.Errorf("wrong backup passphrase: %q", s.restoreBackupErr.Text)
	}
	s.backupPass.SetText("purple elephant dancing slowly")
	test.Tap(s.doRestoreBackup)
	h2.a.wait()
	if h2.a.main == nil || len(h2.a.main.creds.items) != 1 {
		t.Fatalf("restore from backup: %q", s.restoreBackupErr.Text)
	}
	// The restored statuses are as old as the backup: they are checked
	// again at once, and the card says when.
	h2.a.wait()
	if m := h2.a.main.creds.msg.Text; !strings.Contains(m, "Checked at") {
		t.Errorf("after restoring a backup: %q, want the records checked again", m)
	}
	if c := h2.a.main.creds.items[0]; !strings.Contains(c.checked.Text, "Checked "+when(h2.clk.Now())) {
		t.Errorf("restored record's status line = %q, want checked now", c.checked.Text)
	}
}

func TestSettingsRegistryAutoLockTheme(t *testing.T) {
	h := unlocked(t)
	var urls []string
	h.a.cfg.Connect = func(u string, _ func() time.Time) (wallet.Verifier, wallet.Registry, error) {
		urls = append(urls, u)
		return h.verifier, h.registry, nil
	}
	u := h.a.main.settings
	u.registry.SetText("not a url")
	test.Tap(u.saveReg)
	if !strings.Contains(u.regNote.Text, "not a web address") {
		t.Errorf("bad URL error = %q", u.regNote.Text)
	}
	u.registry.SetText("http://127.0.0.1:8080")
	test.Tap(u.saveReg)
	h.a.wait()
	if s, _ := h.a.wallet().Settings(); s.Registry != "http://127.0.0.1:8080" || h.a.registryURL() != "http://127.0.0.1:8080" {
		t.Errorf("registry not saved: %q / %q", s.Registry, h.a.registryURL())
	}
	if fmt.Sprint(urls) != "[http://127.0.0.1:8080]" {
		t.Errorf("connected to %v", urls)
	}

	u.autoLock.SetSelected("1 minute")
	h.a.wait()
	if s, _ := h.a.wallet().Settings(); s.AutoLock != time.Minute {
		t.Errorf("auto-lock = %v", s.AutoLock)
	}
	h.clk.Advance(61 * time.Second)
	h.a.checkIdle()
	h.a.wait()
	if h.a.main != nil {
		t.Error("not locked after the chosen 1 minute")
	}
	h.unlock(testPass)
	u = h.a.main.settings
	if u.autoLock.Selected != "1 minute" {
		t.Errorf("auto-lock shows %q after unlocking", u.autoLock.Selected)
	}

	u.theme.SetSelected(ThemeDark)
	if h.a.fa.Settings().Theme().(medidTheme).variant != theme.VariantDark {
		t.Error("dark theme not applied")
	}
	u.theme.SetSelected(ThemeLight)
	if h.a.fa.Settings().Theme().(medidTheme).variant != theme.VariantLight {
		t.Error("light theme not applied")
	}
	u.theme.SetSelected(ThemeDark)
	if got := h.a.fa.Preferences().String(themePref); got != ThemeDark {
		t.Errorf("theme preference = %q", got)
	}
	h.a.fa.Settings().SetTheme(theme.DefaultTheme())
	applyThemePref(h.a.fa) // as at the next start
	if h.a.fa.Settings().Theme().(medidTheme).variant != theme.VariantDark {
		t.Error("the chosen theme is not applied at start")
	}
}

func TestConsentScreen(t *testing.T) {
	t.Run("no service", func(t *testing.T) {
		h := unlocked(t)
		u := h.a.main.consent
		if u.none == nil || u.none.Text != NoConsentText || u.grant != nil {
			t.Fatal("without a ConsentService the screen must say consent arrives later")
		}
	})
	t.Run("fake service", func(t *testing.T) {
		clk := newClock()
		svc := &fakeConsent{now: clk.Now}
		h := unlocked(t, withConsent(svc))
		h.clk = clk
		h.a.cfg.Now = clk.Now
		u := h.a.main.consent
		h.a.wait()
		if !u.empty.Visible() {
			t.Error("no empty state")
		}
		test.Tap(u.grant)
		if !strings.Contains(u.err.Text, "Say who") {
			t.Errorf("incomplete grant: %q", u.err.Text)
		}
		test.Type(u.provider, "St Mary's Hospital")
		u.classes.SetSelected([]string{"allergies", "immunizations"})
		u.purpose.SetSelected("Emergency treatment")
		u.duration.SetSelected("1 week")
		test.Tap(u.breakGlass)
		test.Tap(u.grant)
		h.a.wait()
		if len(svc.grants) != 1 {
			t.Fatalf("%d grants", len(svc.grants))
		}
		g := svc.grants[0]
		if g.Purpose != "ETREAT" || !g.BreakGlass || g.Expires.Sub(g.Granted) != 7*24*time.Hour {
			t.Errorf("grant = %+v", g)
		}
		if len(u.rows) != 1 {
			t.Fatalf("%d rows", len(u.rows))
		}
		r := u.rows[0]
		if r.left.Text != "7 days left" || !r.glass.Visible() ||
			r.summary.Text != "St Mary's Hospital may see your allergies, immunizations, for emergency treatment." {
			t.Errorf("row: %q / %q / glass %v", r.summary.Text, r.left.Text, r.glass.Visible())
		}
		clk.Advance(5 * 24 * time.Hour)
		u.reload()
		h.a.wait()
		if u.rows[0].left.Text != "2 days left" {
			t.Errorf("time left after 5 days = %q", u.rows[0].left.Text)
		}
		test.Tap(u.rows[0].revoke)
		test.Tap(u.rows[0].yes)
		h.a.wait()
		if !strings.HasPrefix(u.rows[0].left.Text, "Ended") || !u.rows[0].revoke.Disabled() {
			t.Errorf("after revoke: %q", u.rows[0].left.Text)
		}
	})
}

func TestAccessLogScreen(t *testing.T) {
	t.Run("no service", func(t *testing.T) {
		h := unlocked(t)
		if u := h.a.main.access; u.none == nil || u.none.Text != NoAccessLogText {
			t.Fatal("without an AccessLogService the screen must say the log arrives later")
		}
	})
	t.Run("fake service", func(t *testing.T) {
		clk := newClock()
		h := unlocked(t, withAccessLog(&fakeAccessLog{events: sampleAccesses(clk.Now())}))
		h.a.wait()
		u := h.a.main.access
		if len(u.rows) != 4 {
			t.Fatalf("%d rows, want 4", len(u.rows))
		}
		if u.rows[0].event.Accessor != "St Mary's Hospital" || u.rows[3].event.Accessor != "St Mary's Hospital" {
			t.Error("not newest first")
		}
		byWho := map[string]*accessRow{}
		for _, r := range u.rows {
			byWho[r.event.Accessor] = r
		}
		glass, denied, normal := byWho["City ER"], byWho["Acme Insurance"], u.rows[0]
		if glass.highlight != "break-glass" || !glass.flag.Visible() || !strings.Contains(glass.flag.Text, "EMERGENCY ACCESS") ||
			glass.flag.Importance != widget.DangerImportance {
			t.Errorf("break-glass row not highlighted: %q %q", glass.highlight, glass.flag.Text)
		}
		if denied.highlight != "denied" || !strings.Contains(denied.what.Text, "tried to read") {
			t.Errorf("denied row: %q %q", denied.highlight, denied.what.Text)
		}
		if normal.highlight != "" || normal.flag.Visible() {
			t.Error("an ordinary access is highlighted")
		}
		if glass.bg.FillColor == normal.bg.FillColor {
			t.Error("break-glass row has the ordinary background")
		}
		if !u.alert.Visible() || !strings.Contains(u.alert.Text, "in an emergency") {
			t.Errorf("alert = %q", u.alert.Text)
		}
		if !strings.Contains(normal.what.Text, "for treatment") || !strings.Contains(glass.what.Text, "for emergency treatment") {
			t.Errorf("why not said: %q / %q", normal.what.Text, glass.what.Text)
		}
		// The chart: one bar per day, today last; the break-glass day red.
		c := u.chart
		if len(c.bars) != chartDays {
			t.Fatalf("%d bars", len(c.bars))
		}
		counts := make([]int, chartDays)
		for i, d := range c.counts {
			counts[i] = d.total
		}
		if fmt.Sprint(counts[chartDays-3:]) != "[1 1 2]" {
			t.Errorf("last three days = %v, want [1 1 2]", counts[chartDays-3:])
		}
		c.content.Resize(c.content.MinSize())
		if c.bars[chartDays-1].Size().Height <= c.bars[chartDays-2].Size().Height || c.bars[0].Size().Height != 0 {
			t.Error("bar heights do not follow the counts")
		}
		if c.bars[chartDays-2].FillColor == c.bars[chartDays-1].FillColor {
			t.Error("the break-glass day is not drawn differently")
		}
	})
}

func TestQRRoundTrip(t *testing.T) {
	hosp := newIssuer(t, "St Mary's Hospital")
	tok := hosp.Issue(t, "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK", []string{"AllergyIntoleranceCredential"}, allergyClaimsFHIR())
	img, err := qrImage(tok, 800)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "qr.png")
	os.WriteFile(path, buf.Bytes(), 0o600)

	// Through the receive dialog: the picture's credential is added.
	h := unlocked(t)
	other := hosp.Issue(t, h.primary(), []string{"AllergyIntoleranceCredential"}, allergyClaimsFHIR())
	img, _ = qrImage(other, 800)
	buf.Reset()
	png.Encode(&buf, img)
	os.WriteFile(path, buf.Bytes(), 0o600)
	test.Tap(h.a.main.creds.addBtn)
	h.a.main.creds.recvFile(path)
	h.a.wait()
	test.Tap(h.a.main.creds.recvAccept)
	h.a.wait()
	if len(h.a.main.creds.items) != 1 {
		t.Fatalf("QR picture not received: %q", h.a.main.creds.recvErr.Text)
	}
	// A picture without a code.
	blank := filepath.Join(t.TempDir(), "blank.png")
	img, _ = qrImage("x", 100)
	var b2 bytes.Buffer
	png.Encode(&b2, img)
	os.WriteFile(blank, b2.Bytes()[:len(b2.Bytes())/2], 0o600)
	test.Tap(h.a.main.creds.addBtn)
	h.a.main.creds.recvFile(blank)
	if !strings.Contains(h.a.main.creds.recvErr.Text, "No QR code") {
		t.Errorf("broken picture: %q", h.a.main.creds.recvErr.Text)
	}
	if got, err := decodeQR(&buf); err != nil || got != other {
		t.Errorf("decodeQR: %v", err)
	}
}

// TestSlowRegistryDoesNotFreeze: while a registration waits on the
// network, the progress shows and the rest of the app keeps working.
func TestSlowRegistryDoesNotFreeze(t *testing.T) {
	h := unlocked(t)
	h.registry.gate = make(chan struct{})
	u := h.a.main.ids
	test.Tap(u.register)
	if !u.progress.Visible() || !u.register.Disabled() || !strings.Contains(u.status.Text, "Registering") {
		t.Fatal("no progress shown while registering")
	}
	// The UI goroutine is free: other screens work meanwhile. (Wallet
	// operations themselves wait: RegisterDID holds the wallet until the
	// registry commits.)
	h.a.main.selectScreen("share")
	test.Type(h.a.main.share.audience, "https://er.example.org")
	if h.a.main.share.audience.Text != "https://er.example.org" {
		t.Error("typing does not work during a registration")
	}
	h.a.main.selectScreen("identities")
	if !u.progress.Visible() {
		t.Fatal("registration finished before the network answered")
	}
	close(h.registry.gate)
	h.a.wait()
	if u.progress.Visible() || u.register.Disabled() || len(u.rows) != 2 {
		t.Errorf("after the answer: progress %v, %d rows, error %q", u.progress.Visible(), len(u.rows), u.err.Text)
	}
}

// TestAcceptOffer receives through OpenID4VCI from a real issuer service
// (credentials/openid4vci) with a PIN.
func TestAcceptOffer(t *testing.T) {
	h := unlocked(t)
	hosp := newIssuer(t, "St Mary's Hospital")
	testAccredited.Store(hosp.DID, []string{"AllergyIntoleranceCredential"})
	srv := httptest.NewServer(nil)
	t.Cleanup(srv.Close)
	oi, err := openid4vci.New(openid4vci.Config{
		URL: srv.URL, Key: hosp.Key, DID: hosp.DID, Kid: hosp.Kid,
		Configurations: map[string]openid4vci.Configuration{"AllergyIntoleranceCredential": openid4vci.NewConfiguration("AllergyIntoleranceCredential")},
		Resolver:       did.KeyResolver{}, Now: h.clk.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = oi
	off, err := oi.CreateOffer(openid4vci.OfferRequest{ConfigurationID: "AllergyIntoleranceCredential",
		Claims: map[string]any{"allergy": "penicillin", "reaction": "rash", "severity": "mild"}, TxCode: true})
	if err != nil {
		t.Fatal(err)
	}
	u := h.a.main.creds
	offer := func(pin string) {
		if u.recv != nil {
			u.recv.Hide() // the patient closes the dialog before trying again
		}
		test.Tap(u.addBtn)
		u.recvText.SetText(off.URI)
		test.Type(u.recvPIN, pin)
		test.Tap(u.recvBtn)
		h.a.wait()
	}
	offer("")
	if !strings.Contains(u.recvErr.Text, "needs the code") {
		t.Errorf("no PIN: %q", u.recvErr.Text)
	}
	offer("0000000")
	if !strings.Contains(u.recvErr.Text, "code is not right") || len(u.items) != 0 {
		t.Errorf("wrong PIN: %q, %d cards", u.recvErr.Text, len(u.items))
	}
	offer(off.TxCode)
	if u.recvErr.Visible() {
		t.Fatalf("right PIN: %q", u.recvErr.Text)
	}
	// A preview of what is offered, before anything is stored: what it
	// is, from whom (by the directory's name) and whether the directory
	// accredits them for it, its fields.
	if !u.preview.Visible() || len(u.items) != 0 {
		t.Fatalf("no preview before storing (%d cards)", len(u.items))
	}
	shown := strings.Join(visibleTexts(h.win.Canvas()), "\n")
	since := accreditedSince.Local().Format("2 Jan 2006")
	for _, want := range []string{"Allergy intolerance", "Offered by St Mary's Hospital, accredited in the medid directory to issue this kind of record since " + since + ".",
		"penicillin", "Add to my wallet", "Don't add"} {
		if !strings.Contains(shown, want) {
			t.Errorf("preview lacks %q:\n%s", want, shown)
		}
	}
	if len(u.issuerLines) != 1 || u.issuerLines[0].Importance != widget.SuccessImportance {
		t.Errorf("the accredited issuer's line is not marked good")
	}
	assertPatientWords(t, "offer preview", h.win.Canvas())
	test.Tap(u.recvAccept)
	h.a.wait()
	c := h.card("Allergy intolerance")
	if c.badge.status != wallet.StatusValid || c.cred.Subject != h.primary() || u.msg.Text != "Added: Allergy intolerance." {
		t.Errorf("card %s for %s, message %q", c.badge.status, c.cred.Subject, u.msg.Text)
	}
}
