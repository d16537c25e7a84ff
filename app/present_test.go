package app

import (
	"bytes"
	"fmt"
	"image/png"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/medid/medid/credentials/credtest"
	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/credentials/openid4vp"
	"github.com/medid/medid/credentials/verify"
	"github.com/medid/medid/registry/tx"
)

// TestAnswerPresentationRequest answers OpenID4VP requests from a real
// credentials/openid4vp verifier on 127.0.0.1 through the Share screen:
// the request is shown in words, the patient picks one of two matching
// records, reviews exactly what is sent, and the verifier accepts it; a
// request opened from a QR picture is declined (access_denied); a request
// for a record the wallet lacks cannot be answered; a refused answer is
// explained.
func TestAnswerPresentationRequest(t *testing.T) {
	h := unlocked(t)
	hosp := newIssuer(t, "St Mary's Hospital")
	me := h.primary()
	h.receive(hosp.Issue(t, me, []string{"AllergyIntoleranceCredential"}, allergyClaimsFHIR()))
	h.clk.Advance(time.Minute) // received later (less than the auto-lock time)
	latex := allergyClaimsFHIR()
	latex["code"] = map[string]any{"system": "http://snomed.info/sct", "code": "300916003", "display": "Latex"}
	h.receive(hosp.Issue(t, me, []string{"AllergyIntoleranceCredential"}, latex))

	var skew atomic.Int64 // the verifier's clock runs ahead by this much
	vnow := func() time.Time { return h.clk.Now().Add(time.Duration(skew.Load())) }
	vv, err := verify.New(verify.Config{Resolver: did.KeyResolver{}, Now: vnow})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(nil)
	t.Cleanup(srv.Close)
	v, err := openid4vp.New(openid4vp.Config{URL: srv.URL, Name: "City Pharmacy", Verify: vv, Now: vnow, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = v
	ask := func(q openid4vp.CredentialQuery) *openid4vp.Started {
		st, err := v.CreateRequest(openid4vp.DCQLQuery{Credentials: []openid4vp.CredentialQuery{q}})
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	u := h.a.main.share.vp
	h.a.main.selectScreen("share")

	// Not a link.
	test.Type(u.link, "https://example.org")
	test.Tap(u.open)
	if !strings.Contains(u.err.Text, "not a request for records") {
		t.Errorf("not a link: %q", u.err.Text)
	}

	// Answer: pick the second (latex) record.
	st := ask(openid4vp.NewQuery("allergy", "AllergyIntoleranceCredential", "code"))
	u.link.SetText("")
	test.Type(u.link, st.URI)
	test.Tap(u.open)
	h.a.wait()
	if u.err.Visible() || !u.panel.Visible() {
		t.Fatalf("request not shown: %q", u.err.Text)
	}
	if !strings.Contains(u.who.Text, "City Pharmacy") || !strings.Contains(u.who.Text, clientIDWords(v.ClientID())) || strings.Contains(u.who.Text, "redirect_uri") {
		t.Errorf("who asks = %q, want the name and client_id %s", u.who.Text, v.ClientID())
	}
	if u.copyID != nil {
		t.Error("an unsigned request offers to copy an identifier nobody vouches for")
	}
	if len(u.asks) != 1 || u.asks[0].what.Text != "They ask for: Allergy intolerance: what it is" || len(u.asks[0].pick.Options) != 2 {
		t.Fatalf("asks = %+v", u.asks)
	}
	a := u.asks[0]
	pick := -1
	for i, ch := range a.choices {
		if strings.Contains(disclosure("x", []*shareChoice{ch}), "Latex") {
			pick = i
		}
	}
	if pick < 0 {
		t.Fatal("the latex record is not offered")
	}
	a.pick.SetSelectedIndex(pick)
	h.a.wait() // what the chosen record sends is worked out in the background
	if !strings.Contains(a.fields.Text, "only be sent whole") {
		t.Errorf("what leaves = %q, want that the record leaves whole", a.fields.Text)
	}
	test.Tap(u.review)
	if !strings.Contains(u.summary.Text, "Latex") || strings.Contains(u.summary.Text, "Penicillin") ||
		!strings.Contains(u.summary.Text, clientIDWords(v.ClientID())) {
		t.Errorf("review = %q, want the latex record only, and the client_id", u.summary.Text)
	}
	test.Tap(u.send)
	h.a.wait()
	if u.err.Visible() || !strings.Contains(u.answer.Text, "accepted") {
		t.Fatalf("answer = %q, error %q", u.answer.Text, u.err.Text)
	}
	res, ok := v.Result(st.State)
	if !ok || res.Status != openid4vp.StatusValid || res.Holder != me {
		t.Fatalf("verifier result %+v, %v", res, ok)
	}
	if got := res.Claims["allergy"]["credentialSubject.code"]; !strings.Contains(toString(got), "Latex") {
		t.Errorf("verifier received %v, want the chosen latex record", got)
	}
	if u.panel.Visible() {
		t.Error("request still open after sending")
	}

	// Decline a request opened from a QR picture.
	st2 := ask(openid4vp.NewQuery("allergy", "AllergyIntoleranceCredential", "code"))
	img, err := qrImage(st2.URI, 600)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "request.png")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	u.qrFile(path)
	h.a.wait()
	if !u.panel.Visible() {
		t.Fatalf("QR request not shown: %q", u.err.Text)
	}
	test.Tap(u.decline)
	h.a.wait()
	if !strings.Contains(u.answer.Text, "You said no") {
		t.Errorf("after declining: %q", u.answer.Text)
	}
	if res, _ := v.Result(st2.State); res.Status != openid4vp.StatusDeclined || res.Error != openid4vp.ErrCodeAccessDenied {
		t.Errorf("verifier after decline: %+v", res)
	}

	// A record the wallet lacks: no answer possible, only no.
	st3 := ask(openid4vp.NewQuery("lic", "DrivingLicenceCredential"))
	u.link.SetText(st3.URI)
	test.Tap(u.open)
	h.a.wait()
	if !u.review.Disabled() || len(u.asks) != 0 || !u.cannot.Visible() || !strings.Contains(u.cannot.Text, "You have no such record") {
		t.Errorf("review possible without a matching record (asks %d, %q)", len(u.asks), u.cannot.Text)
	}

	// The verifier refuses (its request expired meanwhile): said in words.
	st4 := ask(openid4vp.NewQuery("allergy", "AllergyIntoleranceCredential", "code"))
	u.link.SetText(st4.URI)
	test.Tap(u.open)
	h.a.wait()
	skew.Store(int64(time.Hour))
	test.Tap(u.review)
	test.Tap(u.send)
	h.a.wait()
	if !strings.Contains(u.answer.Text, "did not accept") {
		t.Errorf("refused answer = %q (error %q)", u.answer.Text, u.err.Text)
	}
}

func toString(v any) string { return fmt.Sprint(v) }

// TestAnswerSignedVerifier: what a patient normally sees (the answer
// screenshot): a verifier that signs its request with a DID the
// directory lists is named by the directory, not by the name it gives
// itself, and said to be vouched for. Signed by a DID the directory does
// not list, or by an organisation it suspended, it is not presented as
// vouched for; unsigned it is "Unverified" (TestVerifierName,
// TestAnswerPresentationRequest).
func TestAnswerSignedVerifier(t *testing.T) {
	h := unlocked(t)
	hosp := newIssuer(t, "St Mary's Hospital")
	h.receive(hosp.Issue(t, h.primary(), []string{"AllergyIntoleranceCredential"}, allergyClaimsFHIR()))
	vv, err := verify.New(verify.Config{Resolver: did.KeyResolver{}, Now: h.clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	verifierFor := func(p credtest.Party) *openid4vp.Verifier {
		srv := httptest.NewServer(nil)
		t.Cleanup(srv.Close)
		v, err := openid4vp.New(openid4vp.Config{URL: srv.URL, Name: "Totally Real ER", DID: p.DID, Key: p.Key, KeyID: p.Kid,
			Verify: vv, Now: h.clk.Now, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		srv.Config.Handler = v
		return v
	}
	listed := credtest.NewParty(t, key.Ed25519, "City ER")
	testDirectory.Store(listed.DID, [2]string{"City ER", tx.KindEmergencyService})
	unlisted := credtest.NewParty(t, key.Ed25519, "somebody")
	suspended := credtest.NewParty(t, key.Ed25519, "Harbour ER")
	testDirectory.Store(suspended.DID, [2]string{"Harbour ER", tx.KindEmergencyService})
	testSuspended.Store(suspended.DID, true)
	u := h.a.main.share.vp
	h.a.main.selectScreen("share")
	for _, c := range []struct {
		name        string
		signer      credtest.Party
		want, never []string
	}{
		{"listed", listed, []string{"City ER (emergency service) asks for records", "the name is from the medid network's directory"},
			[]string{"Unverified", "Totally Real"}},
		{"unlisted", unlisted, []string{"Unverified", `calls itself "Totally Real ER"`, "the medid directory does not list them"},
			[]string{"the name is from"}},
		{"suspended", suspended, []string{"Harbour ER (suspended in the directory) asks for records", "the medid directory has suspended them"},
			[]string{"the name is from", "Totally Real"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			st, err := verifierFor(c.signer).CreateRequest(openid4vp.DCQLQuery{Credentials: []openid4vp.CredentialQuery{
				openid4vp.NewQuery("allergy", "AllergyIntoleranceCredential", "code")}})
			if err != nil {
				t.Fatal(err)
			}
			u.link.SetText(st.URI)
			test.Tap(u.open)
			h.a.wait()
			if u.err.Visible() || !u.panel.Visible() {
				t.Fatalf("request not shown: %q", u.err.Text)
			}
			for _, w := range c.want {
				if !strings.Contains(u.who.Text, w) {
					t.Errorf("who asks = %q, want %q in it", u.who.Text, w)
				}
			}
			for _, n := range c.never {
				if strings.Contains(u.who.Text, n) {
					t.Errorf("who asks = %q, shows %q", u.who.Text, n)
				}
			}
			if u.copyID == nil || !u.copyID.Visible() {
				t.Fatal("a signed request has no Copy their identifier button")
			}
			test.Tap(u.copyID)
			if got := h.a.fa.Clipboard().Content(); got != c.signer.DID {
				t.Errorf("Copy their identifier copied %q, want the signer %s", got, c.signer.DID)
			}
			assertPatientWords(t, "signed request, "+c.name, h.win.Canvas())
			test.Tap(u.decline)
			h.a.wait()
		})
	}
}
