package app

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// TestOutageIsNotInvalid: when the registry cannot be reached, a record
// that was valid is shown "Not checked since T (no connection)" with a
// neutral badge, never red, never "Problem"; one the wallet knew was
// revoked stays revoked.
func TestOutageIsNotInvalid(t *testing.T) {
	// issuer_unavailable (the issuer's DID document could not be fetched)
	// joins this table when the wallet keeps the last known status for it
	// too (branch firsthour); today the wallet records it as invalid.
	for _, reason := range []string{"status_unavailable"} {
		t.Run(reason, func(t *testing.T) {
			h := unlocked(t)
			h.noAutoLock()
			hosp := newIssuer(t, "St Mary's Hospital")
			me := h.primary()
			allergy := hosp.Issue(t, me, []string{"AllergyIntoleranceCredential"}, allergyClaimsFHIR())
			imm := hosp.Issue(t, me, []string{"ImmunizationCredential"}, immunizationClaims())
			h.receive(allergy)
			h.receive(imm)
			checked := h.clk.Now()
			h.verifier.Set(imm, "revoked")
			u := h.a.main.creds
			test.Tap(u.refreshBtn)
			h.a.wait()

			h.clk.Advance(2 * time.Hour)
			h.verifier.Set(allergy, reason)
			h.verifier.Set(imm, reason)
			test.Tap(u.refreshBtn)
			h.a.wait()
			if u.msg.Importance == widget.DangerImportance || !strings.Contains(u.msg.Text, "Could not reach") {
				t.Errorf("refresh message = %q (importance %v), want a neutral could-not-check", u.msg.Text, u.msg.Importance)
			}
			c := h.card("Allergy intolerance")
			if c.badge.word != "Not checked" {
				t.Errorf("badge = %q, want Not checked", c.badge.word)
			}
			if fg, bg := badgeColors(c.badge.status); fg == theme.ColorNameForegroundOnError || bg == theme.ColorNameError {
				t.Error("a record that could not be checked is painted red")
			}
			if want := "Not checked since " + when(checked) + " (no connection)"; !strings.Contains(c.checked.Text, want) {
				t.Errorf("status line = %q, want %q", c.checked.Text, want)
			}
			if got := h.card("Immunization").badge.word; got != "Revoked" {
				t.Errorf("a record known revoked shows %q during an outage", got)
			}
			test.Tap(c.open)
			h.a.wait()
			if d := h.a.main.creds.detail; strings.Contains(d.checked.Text, "Problem") || strings.Contains(d.checked.Text, "safety checks") || d.status.word != "Not checked" {
				t.Errorf("detail says %q / %q", d.status.word, d.checked.Text)
			}
		})
	}
}

// TestStatusLineSaysWhen: every card says when its status was checked,
// and the Check status message says when it ran.
func TestStatusLineSaysWhen(t *testing.T) {
	h := unlocked(t)
	h.noAutoLock()
	hosp := newIssuer(t, "St Mary's Hospital")
	h.receive(hosp.Issue(t, h.primary(), []string{"AllergyIntoleranceCredential"}, allergyClaimsFHIR()))
	h.clk.Advance(3 * time.Hour)
	u := h.a.main.creds
	test.Tap(u.refreshBtn)
	h.a.wait()
	if want := "Checked at " + h.clk.Now().Format("15:04") + ": your record is valid."; u.msg.Text != want {
		t.Errorf("refresh message = %q, want %q", u.msg.Text, want)
	}
	if want := "Checked " + when(h.clk.Now()) + "."; u.items[0].checked.Text != want {
		t.Errorf("card status line = %q, want %q", u.items[0].checked.Text, want)
	}
	// The message goes when the patient leaves the screen.
	h.a.main.selectScreen("share")
	h.a.main.selectScreen("credentials")
	if u.msg.Visible() {
		t.Errorf("stale message still shown: %q", u.msg.Text)
	}
}

// TestTwoCardsOfOneType: two allergy records are told apart on the list
// by their substance.
func TestTwoCardsOfOneType(t *testing.T) {
	h := unlocked(t)
	hosp := newIssuer(t, "St Mary's Hospital")
	me := h.primary()
	h.receive(hosp.Issue(t, me, []string{"AllergyIntoleranceCredential"}, allergyClaimsFHIR()))
	h.receive(hosp.Issue(t, me, []string{"AllergyIntoleranceCredential"}, map[string]any{
		"code": map[string]any{"text": "Peanut"}, "criticality": "low"}))
	h.receive(hosp.Issue(t, me, []string{"ImmunizationCredential"}, immunizationClaims()))
	var facts []string
	for _, c := range h.a.main.creds.items {
		if !c.fact.Visible() {
			t.Errorf("card %q shows no key fact", c.title.Text)
		}
		facts = append(facts, c.fact.Text)
	}
	for _, want := range []string{"Penicillin, severity high", "Peanut, severity low", "Tetanus, diphtheria (Td), 2 October 2025"} {
		found := false
		for _, f := range facts {
			found = found || f == want
		}
		if !found {
			t.Errorf("no card shows %q; facts %q", want, facts)
		}
	}
}

// TestRevokedCannotBeShared: the Share screen does not offer a record the
// wallet knows is withdrawn.
func TestRevokedCannotBeShared(t *testing.T) {
	h := unlocked(t)
	hosp := newIssuer(t, "St Mary's Hospital")
	imm := hosp.Issue(t, h.primary(), []string{"ImmunizationCredential"}, immunizationClaims())
	h.receive(imm)
	h.verifier.Set(imm, "revoked")
	test.Tap(h.a.main.creds.refreshBtn)
	h.a.wait()
	h.a.main.selectScreen("share")
	h.a.wait()
	ch := h.a.main.share.choices[0]
	test.Tap(ch.check)
	if ch.check.Checked || !ch.check.Disabled() || !strings.Contains(ch.check.Text, "cannot be shared") {
		t.Errorf("revoked record: checked %v, disabled %v, %q", ch.check.Checked, ch.check.Disabled(), ch.check.Text)
	}
}

// TestSettingsNotesNextToControl: Settings says "Saved" right under the
// address that was saved, not at the bottom of the page, and the message
// goes when the patient edits the address again or leaves the screen.
func TestSettingsNotesNextToControl(t *testing.T) {
	h := unlocked(t)
	h.win.Resize(smallWindow)
	h.a.main.selectScreen("settings")
	u := h.a.main.settings
	u.registry.SetText("http://127.0.0.1:8080")
	test.Tap(u.saveReg)
	h.a.wait()
	if !u.regNote.Visible() || !strings.Contains(u.regNote.Text, "Saved") {
		t.Fatalf("registry note = %q (visible %v)", u.regNote.Text, u.regNote.Visible())
	}
	below(t, h.win, u.regNote, u.registry)
	u.vault.SetText("http://127.0.0.1:9")
	test.Tap(u.saveVault)
	h.a.wait()
	below(t, h.win, u.vaultNote, u.vault)
	test.Type(u.vault, "0")
	if u.vaultNote.Visible() {
		t.Error("the vault's note stays while its address is being edited")
	}
	test.Tap(u.saveVault)
	h.a.wait()
	h.a.main.selectScreen("credentials")
	h.a.main.selectScreen("settings")
	if u.vaultNote.Visible() {
		t.Error("the vault's note is still shown after leaving the screen")
	}
}

// below fails unless note is drawn right under control (within two
// paddings), so the patient sees it where they acted.
func below(t *testing.T, w fyne.Window, note, control fyne.CanvasObject) {
	t.Helper()
	relayout(w)
	d := fyne.CurrentApp().Driver()
	np, cp := d.AbsolutePositionForObject(note), d.AbsolutePositionForObject(control)
	gap := np.Y - (cp.Y + control.Size().Height)
	if gap < 0 || gap > 3*theme.Padding() || np.X > cp.X+control.Size().Width {
		t.Errorf("note at %v is not right under its control at %v (size %v): gap %.0f", np, cp, control.Size(), gap)
	}
}

// relayout lays every container of w out again (the test driver lays out
// only when sizes change), so positions are current.
func relayout(w fyne.Window) {
	s := w.Canvas().Size()
	w.Resize(s.Add(fyne.NewSize(1, 1)))
	w.Resize(s)
}
