package app

import (
	"context"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/medid/medid/credentials/delegation"
	"github.com/medid/medid/credentials/delegation/delegationtest"
	"github.com/medid/medid/wallet"
	"github.com/medid/medid/wallet/delegate"
)

// TestStartScreens: the screens the screenshots open by name
// (Config.StartScreen, .ci/screenshots.sh) open what the README's
// pictures say they show, each in the patient's words: the licence tab
// with its code, Check a practitioner with a verified card, Choose details
// to share on an SD-JWT record (one detail ticked, a receiver named), and
// the acting screen of a delegation held.
func TestStartScreens(t *testing.T) {
	t.Run("licencecard and check", func(t *testing.T) {
		h, p := nurseWallet(t)
		p.stopCard()
		h.a.main.selectScreen("licencecard")
		h.a.wait()
		if h.a.main.tabs.Selected() != h.a.main.items["licence"] || p.cardText == "" || !p.cardBox.Visible() {
			t.Fatalf("licencecard: tab %v, code %q, err %q", h.a.main.tabs.Selected().Text, p.cardText, p.err.Text)
		}
		code := p.cardText
		h.a.main.selectScreen("check:" + code)
		h.a.wait()
		c := h.a.main.check
		if c == nil || c.result.Importance != widget.SuccessImportance || !strings.Contains(c.result.Text, "Sam Nurse is a registered nurse") {
			t.Fatalf("check: %+v", c)
		}
		assertPatientWords(t, "check from the start", h.win.Canvas())
	})
	t.Run("sharedetails", func(t *testing.T) {
		h := unlocked(t)
		hosp := newIssuer(t, "St Mary's Hospital")
		h.receiveSDJWT(hosp, "AllergyIntoleranceCredential", map[string]any{
			"criticality": "high", "code": map[string]any{"system": "http://snomed.info/sct", "code": "764146007", "display": "Penicillin"}})
		h.a.main.selectScreen("sharedetails")
		h.a.wait()
		d := h.a.main.share.details
		if d == nil || !slices.ContainsFunc(d.checks, func(c *widget.Check) bool { return c.Checked && c.Text == "What it is: Penicillin" }) || d.who.Text != "City ER" {
			t.Fatalf("sharedetails: %+v", d)
		}
		if !strings.Contains(d.preview.Text, "City ER") || !strings.Contains(d.preview.Text, "Penicillin") {
			t.Errorf("the preview does not say for whom: %q", d.preview.Text)
		}
		for _, c := range d.checks {
			if strings.Contains(c.Text, "://") {
				t.Errorf("a detail shows a web address for a coding system: %q", c.Text)
			}
		}
		assertPatientWords(t, "share details from the start", h.win.Canvas())
	})
	t.Run("acting", func(t *testing.T) {
		h := unlocked(t)
		holdDelegation(t, h, delegation.ActionView, delegation.ActionReceive)
		h.a.main.selectScreen("acting")
		h.a.wait()
		if h.a.main.people == nil || h.a.main.people.actingNow == nil || h.a.main.people.actingNow.d.Role != wallet.DelegationHeld {
			t.Fatal("acting: no acting screen")
		}
		assertPatientWords(t, "acting from the start", h.win.Canvas())
	})
}

// TestTabAppearsKeepsPlace: when the People tab appears (the wallet
// learned of a delegation) while the patient reads Settings, Settings
// stays on screen; before, the tabs kept the position and showed People
// in its place (seen on the settings screenshot).
func TestTabAppearsKeepsPlace(t *testing.T) {
	h := unlocked(t)
	h.a.main.selectScreen("settings")
	h.a.wait()
	holdDelegation(t, h, delegation.ActionView)
	h.a.main.ensurePeople(h.a, nil)
	h.a.wait()
	m := h.a.main
	if m.people == nil || !slices.Contains(m.tabs.Items, m.items["people"]) {
		t.Fatal("no People tab")
	}
	if got := m.tabs.Selected(); got != m.items["settings"] {
		t.Errorf("on screen: %q, want Settings", got.Text)
	}
}

// TestActingConsentByName: giving consent in someone's name finds the
// provider by name in the directory, as the patient's own Consent screen
// does (the box used to ask for "the provider's DID, e.g. did:medid:…",
// and its error for "their DID").
func TestActingConsentByName(t *testing.T) {
	h := unlocked(t)
	hosp := newIssuer(t, "St Bartholomew's Hospital") // listed in the test directory
	holdDelegation(t, h, delegation.ActionView, delegation.ActionConsent)
	h.a.main.selectScreen("acting")
	h.a.wait()
	x := h.a.main.people.actingNow
	if x == nil || x.provider == nil || x.pick == nil {
		t.Fatal("no consent box on the acting screen")
	}
	if m := devTerms.FindString(x.provider.PlaceHolder); m != "" {
		t.Errorf("the Who box asks for %q: %q", m, x.provider.PlaceHolder)
	}
	test.Tap(x.grant)
	if m := devTerms.FindString(x.err.Text); !x.err.Visible() || m != "" {
		t.Errorf("nothing filled in: %q (shows %q)", x.err.Text, m)
	}
	test.Type(x.provider, "bartholomew")
	test.Tap(x.pick.find)
	h.a.wait()
	if len(x.pick.found) != 1 {
		t.Fatalf("found %d (%q)", len(x.pick.found), x.pick.note.Text)
	}
	test.Tap(x.pick.found[0])
	if x.provider.Text != "St Bartholomew's Hospital" || x.pick.provider(x.provider.Text) != hosp.DID {
		t.Errorf("after picking: box %q stands for %q, want %s", x.provider.Text, x.pick.provider(x.provider.Text), hosp.DID)
	}
	assertPatientWords(t, "acting: consent by name", h.win.Canvas())
}

// holdDelegation makes the patient of h the representative of a
// guardianship allowing actions (delegationtest's world), held in h's
// wallet.
func holdDelegation(t *testing.T, h *harness, actions ...delegation.Action) {
	t.Helper()
	world := delegationtest.New(t)
	g := world.Guardianship(actions...)
	g.Representative = h.primary()
	if _, err := delegate.Add(context.Background(), h.a.wallet(), world.Checker(), world.Sign(g, world.Registry)); err != nil {
		t.Fatal(err)
	}
}
