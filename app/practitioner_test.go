package app

import (
	"context"
	"errors"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/medid/medid/credentials/credtest"
	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/credentials/licence"
	"github.com/medid/medid/credentials/openid4vp"
	"github.com/medid/medid/credentials/statuslist"
	"github.com/medid/medid/credentials/vc"
	"github.com/medid/medid/credentials/verify"
	"github.com/medid/medid/registry/tx"
)

// nurseWallet is an unlocked app whose wallet holds Sam Nurse's licence
// from the Nursing Council (a licensing body of the directory), employed
// by St Mary's Hospital, with the "My licence" tab showing.
func nurseWallet(t *testing.T) (*harness, *practitionerUI) {
	t.Helper()
	h := unlocked(t)
	body := newIssuer(t, "Nursing Council")
	testDirectory.Store(body.DID, [2]string{"Nursing Council", tx.KindLicensingBody})
	hosp := newIssuer(t, "St Mary's Hospital")
	cl := licence.Claims{Name: "Sam Nurse", Profession: licence.Professions["nurse"], LicenceNumber: "NMC-1", Jurisdiction: "GB", Employer: hosp.DID}
	claims := cl.Subject(h.primary())
	delete(claims, "id")
	h.receive(body.Issue(t, h.primary(), []string{licence.Type}, claims))
	h.a.main.selectScreen("consent") // any tab change looks for a licence
	h.a.wait()
	p := h.a.main.practice
	if p == nil {
		t.Fatal("no My licence tab with a licence in the wallet")
	}
	h.a.main.selectScreen("licence")
	h.a.wait()
	return h, p
}

// TestMyLicenceTab: the tab appears only with a licence and says what the
// directory confirms.
func TestMyLicenceTab(t *testing.T) {
	h := unlocked(t)
	h.a.main.selectScreen("consent")
	h.a.wait()
	if h.a.main.practice != nil {
		t.Fatal("a My licence tab without a licence")
	}
	hn, p := nurseWallet(t)
	want := "Confirmed by the medid directory (checked " + when(hn.clk.Now()) + "): Sam Nurse, licensed by Nursing Council, at St Mary's Hospital."
	if p.summary.Text != want || p.summary.Importance != widget.SuccessImportance {
		t.Errorf("summary = %q (%v), want %q", p.summary.Text, p.summary.Importance, want)
	}
	// The licence's own page names the employer, not its identifier.
	hn.a.main.selectScreen("detail")
	hn.a.wait()
	if d := hn.a.main.creds.detail; d == nil || !slices.ContainsFunc(d.claims, func(c claim) bool { return c.Value == "St Mary's Hospital" }) {
		t.Errorf("the licence's details: %+v", d)
	}
}

// TestAnswerLicenceRequest: a hospital's record vault (a real OpenID4VP
// verifier signing its requests with its DID) asks for the licence; the
// app names the vault from the directory, its identifier one tap away,
// lists exactly what leaves, sends it, and says truthfully what came of
// it: taken; refused with the reason; not checked (the hospital's network
// failed), which is not a refusal; the hospital unreachable, which leaves
// the request open. A request for records is sent to the Share screen.
func TestAnswerLicenceRequest(t *testing.T) {
	h, p := nurseWallet(t)
	vault := credtest.NewParty(t, key.Ed25519, "st marys vault")
	testDirectory.Store(vault.DID, "St Mary's Hospital")
	vv, err := verify.New(verify.Config{Resolver: did.KeyResolver{}, Now: h.clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var refuse error // what the vault's last check says (nil: take it)
	var took string
	srv := httptest.NewServer(nil)
	defer srv.Close()
	v, err := openid4vp.New(openid4vp.Config{URL: srv.URL, Name: "record vault", DID: vault.DID, Key: vault.Key, KeyID: vault.Kid,
		Verify: vv, Now: h.clk.Now, Accept: func(_ context.Context, res *openid4vp.Result) error {
			mu.Lock()
			defer mu.Unlock()
			if refuse == nil {
				took = res.Holder
			}
			return refuse
		}})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = v
	request := func(q openid4vp.CredentialQuery) string {
		t.Helper()
		st, err := v.CreateRequest(openid4vp.DCQLQuery{Credentials: []openid4vp.CredentialQuery{q}})
		if err != nil {
			t.Fatal(err)
		}
		return st.URI
	}
	open := func(uri string) {
		t.Helper()
		test.Type(p.link, uri)
		test.Tap(p.open)
		h.a.wait()
		if p.err.Visible() || !p.panel.Visible() {
			t.Fatalf("request not shown: %q", p.err.Text)
		}
	}

	// Taken.
	open(request(openid4vp.NewQuery("licence", licence.Type)))
	if !strings.HasPrefix(p.who.Text, "St Mary's Hospital asks for your practitioner licence.\nThey signed the request") {
		t.Errorf("who asks = %q", p.who.Text)
	}
	for _, want := range []string{"Sam Nurse", "NMC-1", "Issued by: Nursing Council", "Nothing else leaves your wallet"} {
		if !strings.Contains(p.shares.Text, want) {
			t.Errorf("what leaves = %q, missing %q", p.shares.Text, want)
		}
	}
	assertPatientWords(t, "a hospital's licence request", h.win.Canvas())
	test.Tap(p.copyID)
	if got := h.a.fa.Clipboard().Content(); got != vault.DID {
		t.Errorf("copied %q, want the vault's DID", got)
	}
	test.Tap(p.send)
	h.a.wait()
	if !strings.HasPrefix(p.answer.Text, "Sent. St Mary's Hospital checked your licence and took it") || p.answer.Importance != widget.SuccessImportance || p.panel.Visible() {
		t.Errorf("taken: %q (%v)", p.answer.Text, p.answer.Importance)
	}
	if took != h.primary() {
		t.Errorf("the vault took the licence of %q", took)
	}

	for _, tc := range []struct {
		name   string
		refuse error
		want   string
		imp    widget.Importance
	}{
		{"revoked", errors.New("vault: denied: licence: practitioner licence not verified: licence revoked"),
			"St Mary's Hospital did not accept your licence: your licensing body has revoked it.", widget.DangerImportance},
		{"not a licensing body", errors.New("vault: denied: licence: practitioner licence not verified: licence issued by X, which is not a licensing body"),
			"St Mary's Hospital did not accept your licence: it was not issued by a licensing body", widget.DangerImportance},
		{"status unavailable", errors.New("vault: denied: licence: practitioner licence not verified: licence status unavailable"),
			"St Mary's Hospital could not check your licence just now", widget.MediumImportance},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mu.Lock()
			refuse = tc.refuse
			mu.Unlock()
			open(request(openid4vp.NewQuery("licence", licence.Type)))
			test.Tap(p.send)
			h.a.wait()
			if !strings.HasPrefix(p.answer.Text, tc.want) || p.answer.Importance != tc.imp {
				t.Errorf("answer = %q (%v), want %q (%v)", p.answer.Text, p.answer.Importance, tc.want, tc.imp)
			}
			if tc.imp == widget.MediumImportance && strings.Contains(strings.ToLower(p.answer.Text), "not accept") {
				t.Errorf("a check that could not be made is said as a refusal: %q", p.answer.Text)
			}
		})
	}

	// A request for records belongs on the Share screen.
	test.Type(p.link, request(openid4vp.NewQuery("allergy", "AllergyIntoleranceCredential")))
	test.Tap(p.open)
	h.a.wait()
	if !p.err.Visible() || !strings.Contains(p.err.Text, "Share screen") {
		t.Errorf("a request for records: %q", p.err.Text)
	}
	p.link.SetText("")

	// The hospital cannot be reached: not a refusal, the request stays.
	open(request(openid4vp.NewQuery("licence", licence.Type)))
	srv.Close()
	test.Tap(p.send)
	h.a.wait()
	if !strings.HasPrefix(p.answer.Text, "Could not reach St Mary's Hospital") || p.answer.Importance != widget.MediumImportance || !p.panel.Visible() {
		t.Errorf("unreachable: %q (%v), panel %v", p.answer.Text, p.answer.Importance, p.panel.Visible())
	}
}

// TestLicenceCardChecked: the nurse shows her licence as a QR code; a
// patient's "Check a practitioner" reads it and says who she is by the
// directory, her identifier one tap away; the same code once expired is
// refused with why and names nobody; a code whose licence cannot be
// checked (its status list unreachable) is "Not checked", neutral, never
// invalid; text that is not a code says so.
func TestLicenceCardChecked(t *testing.T) {
	h, p := nurseWallet(t)
	test.Tap(p.showCard)
	h.a.wait()
	if p.cardText == "" || !p.cardBox.Visible() || p.showCard.Disabled() == false {
		t.Fatalf("no code shown: %q, err %q", p.cardText, p.err.Text)
	}
	code := p.cardText
	assertPatientWords(t, "the licence code", h.win.Canvas())
	// A new code every minute while shown (renewal is asked for directly:
	// the ticker is not waited for in tests).
	h.clk.Advance(time.Second)
	p.refreshCard()
	h.a.wait()
	if p.cardText == code {
		t.Error("the code was not renewed")
	}
	test.Tap(p.hideCard)
	if p.cardBox.Visible() || p.cardText != "" {
		t.Error("the code is still shown after Hide")
	}

	test.Tap(h.a.main.checkBtn)
	c := h.a.main.check
	if c == nil {
		t.Fatal("Check a practitioner did not open")
	}
	check := func(text string) {
		t.Helper()
		c.text.SetText(text)
		test.Tap(c.check)
		h.a.wait()
	}
	check(code)
	want := "Licensed. Sam Nurse is a registered nurse at St Mary's Hospital, licensed by Nursing Council (licence NMC-1, GB)."
	if c.result.Text != want || c.result.Importance != widget.SuccessImportance || !c.copyID.Visible() {
		t.Errorf("verified: %q (%v), want %q", c.result.Text, c.result.Importance, want)
	}
	assertPatientWords(t, "a verified practitioner", h.win.Canvas())
	test.Tap(c.copyID)
	if got := h.a.fa.Clipboard().Content(); got != h.primary() {
		t.Errorf("copied %q, want the nurse's DID", got)
	}

	// Ten minutes later the same code is refused, and names nobody.
	h.clk.Advance(10 * time.Minute)
	check(code)
	if !strings.HasPrefix(c.result.Text, "Not a valid licence: this code expired at") || c.result.Importance != widget.DangerImportance ||
		strings.Contains(c.result.Text, "Sam Nurse") || c.copyID.Visible() {
		t.Errorf("expired: %q (%v)", c.result.Text, c.result.Importance)
	}

	// A licence whose status list cannot be fetched: not checked, neutral.
	body := newIssuer(t, "Midwifery Board")
	testDirectory.Store(body.DID, [2]string{"Midwifery Board", tx.KindLicensingBody})
	mw := credtest.NewParty(t, key.Ed25519, "midwife")
	from := h.clk.Now().Add(-time.Hour)
	mcl := licence.Claims{Name: "Ann Midwife", Profession: licence.Professions["midwife"], LicenceNumber: "MB-9", Jurisdiction: "GB"}
	lic, err := vc.Issue(&vc.Credential{Context: []string{vc.ContextV2}, Type: []string{vc.TypeCredential, licence.Type}, Issuer: body.DID,
		ValidFrom: &from, Subject: mcl.Subject(mw.DID),
		Status: []vc.Status{statuslist.Entry("https://registry.example/1.0/status-lists/mb", statuslist.Revocation, 1)}}, body.Key, body.Kid)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := licence.MakeCard(lic, mw.Key, mw.Kid, h.clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	check(licence.CardQRText(tok))
	if !strings.HasPrefix(c.result.Text, "Not checked: nothing was found wrong") || c.result.Importance != widget.MediumImportance ||
		strings.Contains(c.result.Text, "Ann Midwife") || !strings.Contains(c.detail.Text, "does not mean the licence is invalid") {
		t.Errorf("unchecked: %q (%v) / %q", c.result.Text, c.result.Importance, c.detail.Text)
	}
	assertPatientWords(t, "a practitioner not checked", h.win.Canvas())

	// Not a code.
	check("openid4vp://authorize?client_id=x")
	if !c.err.Visible() || !strings.Contains(c.err.Text, "not a practitioner's licence code") || c.result.Visible() {
		t.Errorf("not a code: %q", c.err.Text)
	}
}
