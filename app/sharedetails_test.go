package app

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/verify"
	"github.com/medid/medid/wallet"
)

// TestShareDetailsByHand: a record kept detail by detail (an SD-JWT VC)
// is shared by hand with only the details the patient ticks. The screen
// lists every detail in plain words, none ticked; the preview says
// exactly what the receiver will see (and what not) and for whom it is
// made; the code is made only once a detail is ticked and the patient
// named the receiver or said they name nobody. The shared code verifies
// for the named receiver with only the ticked detail; saved, it is a 0600
// file; unbound, it carries no key binding, and the screen says so.
func TestShareDetailsByHand(t *testing.T) {
	h := unlocked(t)
	h.win.Resize(smallWindow)
	hosp := newIssuer(t, "St Mary's Hospital")
	h.receiveSDJWT(hosp, "AllergyIntoleranceCredential", map[string]any{
		"criticality": "high", "code": map[string]any{"system": "http://snomed.info/sct", "display": "Penicillin"},
		"reaction": []any{map[string]any{"manifestation": "anaphylaxis"}}})
	s := h.a.main.share
	h.a.main.selectScreen("share")
	s.reload()
	h.a.wait()
	var ch *shareChoice
	for _, c := range s.choices {
		if c.cred.Format == wallet.FormatSDJWT {
			ch = c
		}
	}
	if ch == nil || ch.choose == nil || !ch.check.Disabled() {
		t.Fatalf("the SD-JWT VC on the Share screen: %+v", ch)
	}
	test.Tap(ch.choose)
	h.a.wait()
	d := s.details
	if d == nil {
		t.Fatal("no details screen")
	}
	var labels []string
	for _, c := range d.checks {
		labels = append(labels, c.Text)
		if c.Checked {
			t.Errorf("%q is ticked before the patient ticked it", c.Text)
		}
	}
	for _, want := range []string{"What it is: Penicillin", "Severity: high", "Reaction: anaphylaxis", "Medical coding system (what it is): SNOMED CT", "Your identifier in this wallet"} {
		if !strings.Contains(strings.Join(labels, "\n"), want) {
			t.Errorf("details %q, want %q", labels, want)
		}
	}
	if !d.make.Disabled() || !strings.Contains(d.preview.Text, "Nothing yet") {
		t.Fatalf("nothing ticked: make disabled %v, preview %q", d.make.Disabled(), d.preview.Text)
	}
	tick := func(label string) {
		t.Helper()
		for _, c := range d.checks {
			if c.Text == label {
				c.SetChecked(true)
				h.a.wait()
				return
			}
		}
		t.Fatalf("no detail %q", label)
	}
	tick("What it is: Penicillin")
	for _, want := range []string{"Who issued it: St Mary's Hospital", "Kind of record: Allergy intolerance", "Valid until:", "What it is: Penicillin\n",
		"They will not see:", "severity", "reaction", "Say who it is for"} {
		if !strings.Contains(d.preview.Text, want) {
			t.Errorf("preview %q, want %q", d.preview.Text, want)
		}
	}
	if strings.Contains(d.preview.Text, "high") || strings.Contains(d.preview.Text, "anaphylaxis") || !d.make.Disabled() {
		t.Fatalf("preview %q (make disabled %v): want no unticked value and no code before saying who", d.preview.Text, d.make.Disabled())
	}
	test.Type(d.who, "Dr Amal Haddad")
	h.a.wait()
	if d.make.Disabled() || !strings.Contains(d.preview.Text, "Made for Dr Amal Haddad only") {
		t.Fatalf("named: make disabled %v, preview %q", d.make.Disabled(), d.preview.Text)
	}
	assertPatientWords(t, "sharing details by hand", h.win.Canvas())
	fits(t, h, "sharing details by hand")

	test.Tap(d.make)
	h.a.wait()
	if d.err.Visible() || !d.result.Visible() || d.shared == nil || d.qr.Image == nil || !d.shared.Bound() {
		t.Fatalf("made: error %q, result %v, shared %+v", d.err.Text, d.result.Visible(), d.shared)
	}
	vv, err := verify.New(verify.Config{Resolver: did.KeyResolver{}, Now: h.clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	r := vv.Presentation(h.a.ctx, d.shared.Token, "Dr Amal Haddad", d.shared.Nonce)
	if !r.Valid {
		b, _ := json.Marshal(r)
		t.Fatalf("the receiver's check: %s", b)
	}
	if b, _ := json.Marshal(r.Credentials[0].SDJWT.Credential.Claims); string(b) != `{"code":{"display":"Penicillin"}}` {
		t.Errorf("the receiver sees %s", b)
	}
	file := filepath.Join(t.TempDir(), "shared.txt")
	if err := d.saveTo(file); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("saved file %v, %v: want mode 0600", fi, err)
	}
	if b, _ := os.ReadFile(file); strings.TrimSpace(string(b)) != d.shared.Token {
		t.Error("the saved file is not the shared code")
	}

	// Unbound, when the patient says so: the name goes, the code is
	// remade, and the screen says anyone can pass it on.
	d.anyone.SetChecked(true)
	h.a.wait()
	if d.who.Text != "" || !d.who.Disabled() || d.result.Visible() || !strings.Contains(d.preview.Text, "Not made for anyone in particular") {
		t.Fatalf("unbound: who %q (disabled %v), result %v, preview %q", d.who.Text, d.who.Disabled(), d.result.Visible(), d.preview.Text)
	}
	test.Tap(d.make)
	h.a.wait()
	if d.shared == nil || d.shared.Bound() || !strings.HasSuffix(d.shared.Token, "~") || !strings.Contains(d.done.Text, "Not made for anyone") {
		t.Fatalf("unbound share %+v, %q", d.shared, d.done.Text)
	}
	hist, _ := h.a.wallet().History()
	if last := hist[len(hist)-1]; last.Audience != wallet.UnboundAudience {
		t.Errorf("history %+v", last)
	}
}
