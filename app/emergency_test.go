package app

import (
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
)

// TestStandingEmergency pins which grants count as a standing emergency
// permission for a hospital's vault.
func TestStandingEmergency(t *testing.T) {
	const vaultDID, otherDID = "did:medid:vault", "did:medid:other"
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	year := now.Add(365 * 24 * time.Hour)
	glass := func(id, provider string, expires time.Time, revoked bool) ConsentGrant {
		return ConsentGrant{ID: id, Provider: provider, BreakGlass: true, Granted: now.Add(-time.Hour), Expires: expires, Revoked: revoked}
	}
	plain := glass("plain", vaultDID, year, false)
	plain.BreakGlass = false
	tests := []struct {
		name   string
		grants []ConsentGrant
		wantID string // "" for none
	}{
		{"no grants", nil, ""},
		{"in force", []ConsentGrant{glass("g", vaultDID, year, false)}, "g"},
		{"taken back", []ConsentGrant{glass("g", vaultDID, now.Add(-time.Minute), true)}, ""},
		{"taken back, end still ahead", []ConsentGrant{glass("g", vaultDID, year, true)}, ""},
		{"ended", []ConsentGrant{glass("g", vaultDID, now.Add(-time.Second), false)}, ""},
		{"ends exactly now", []ConsentGrant{glass("g", vaultDID, now, false)}, ""},
		{"another hospital", []ConsentGrant{glass("g", otherDID, year, false)}, ""},
		{"not break-glass", []ConsentGrant{plain}, ""},
		{"old one taken back, new one in force", []ConsentGrant{
			glass("old", vaultDID, now.Add(-time.Hour), true), glass("new", vaultDID, year, false)}, "new"},
		{"several in force: the longest", []ConsentGrant{
			glass("short", vaultDID, now.Add(time.Hour), false), glass("long", vaultDID, year, false)}, "long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, ok := standingEmergency(tt.grants, vaultDID, now)
			if got := map[bool]string{true: g.ID}[ok]; got != tt.wantID {
				t.Errorf("standingEmergency = %q (found %v), want %q", got, ok, tt.wantID)
			}
		})
	}
}

// TestSettingsEmergencyButton checks both states of the Settings button:
// it offers the permission, and once the wallet holds one it says so and
// leads to the Consent screen where it can be taken back.
func TestSettingsEmergencyButton(t *testing.T) {
	h := unlocked(t)
	u := h.a.main.settings
	u.refreshGlass() // no registry or vault: nothing to find
	h.a.wait()
	if u.glassOn || u.allowGlass.Text != allowGlassText || u.glassNote.Visible() {
		t.Fatalf("without a vault: button %q, note %v; want %q", u.allowGlass.Text, u.glassNote.Visible(), allowGlassText)
	}
	u.showGlass(true)
	if u.allowGlass.Text != glassAllowedText || !u.glassNote.Visible() {
		t.Errorf("allowed: button %q, note %v; want %q", u.allowGlass.Text, u.glassNote.Visible(), glassAllowedText)
	}
	test.Tap(u.allowGlass)
	if got := h.a.main.tabs.Selected(); got != h.a.main.items["consent"] {
		t.Errorf("tapping the allowed state opened %q, want Consent", got.Text)
	}
	u.showGlass(false)
	if u.allowGlass.Text != allowGlassText || u.glassNote.Visible() {
		t.Errorf("not allowed again: button %q, note %v", u.allowGlass.Text, u.glassNote.Visible())
	}
}
