package app

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/medid/medid/credentials/consent"
	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/registry/client"
	"github.com/medid/medid/registry/hospital/vault"
	"github.com/medid/medid/registry/hospital/vault/vaulttest"
	"github.com/medid/medid/registry/hospital/vaultapi"
	"github.com/medid/medid/registry/hospital/vaultclient"
	"github.com/medid/medid/wallet/hospital"
)

// vaultStack is an in-process registry with a hospital vault mounted in
// its HTTP server, as "registryd --vault DIR" serves it.
type vaultStack struct {
	url  string
	reg  *client.Client
	v    *vault.Vault
	hosp *vaultclient.Client // the hospital itself (writes records)
}

func startVault(t *testing.T) *vaultStack {
	t.Helper()
	vs := vaulttest.Start(t, vaulttest.Options{})
	return &vaultStack{url: vs.URL, reg: vs.Client, v: vs.Vault, hosp: vs.Hospital()}
}

// provider is a doctor with a did:key reading from the vault.
func (s *vaultStack) provider(t *testing.T) *vaultclient.Client {
	t.Helper()
	k, err := key.Generate(key.Ed25519)
	if err != nil {
		t.Fatal(err)
	}
	d := did.KeyDID(k.Public())
	return &vaultclient.Client{URL: s.url, DID: d, Key: k, KeyID: d + "#" + k.Public().Multikey()}
}

// TestConsentAndAccessLogEndToEnd drives the Consent and Who-looked screens
// against a real in-process registry with a vault. Without addresses both
// screens ask for the hospital's address; once the patient saves the
// registry and vault addresses in Settings they are wired to the wallet:
// the patient grants a doctor consent in the GUI, sees it listed with its time left, the doctor reads and another
// provider is refused, the access log lists both (the refusal flagged),
// the patient takes the consent back, and the doctor is refused from then
// on.
func TestConsentAndAccessLogEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a registry node")
	}
	ctx := context.Background()
	s := startVault(t)
	h := unlocked(t, func(c *Config) { c.Connect, c.Now = DefaultConnect, time.Now })
	if h.a.main.consent.none == nil || h.a.main.access.none == nil {
		t.Fatal("without addresses the screens must ask for them")
	}
	set := h.a.main.settings
	test.Type(set.registry, s.url)
	test.Tap(set.saveReg)
	h.a.wait()
	if h.a.main.access.none == nil {
		t.Error("access log wired without a vault address")
	}
	test.Type(set.vault, s.url)
	test.Tap(set.saveVault)
	h.a.wait()
	if set.regNote.Importance == widget.DangerImportance || set.vaultNote.Importance == widget.DangerImportance {
		t.Fatalf("saving the addresses: %q / %q", set.regNote.Text, set.vaultNote.Text)
	}
	me := h.primary()
	rec, err := s.hosp.Put(ctx, me, "AllergyIntolerance", []byte(`{"resourceType":"AllergyIntolerance","code":{"text":"penicillin"}}`))
	if err != nil {
		t.Fatal(err)
	}
	doc, other := s.provider(t), s.provider(t)

	u := h.a.main.consent
	if u.svc == nil || u.grant == nil {
		t.Fatal("Consent screen not wired to the wallet although a registry is configured")
	}
	h.a.main.selectScreen("consent")
	h.a.wait()
	if !u.empty.Visible() {
		t.Error("no empty state before any consent")
	}
	// A name is not enough: consent goes to a DID the vault can check.
	test.Type(u.provider, "Dr Jones")
	u.classes.SetSelected([]string{"allergies"})
	test.Tap(u.grant)
	h.a.wait()
	if !u.err.Visible() || !strings.Contains(u.err.Text, "identifier") || strings.Contains(u.err.Text, "DID") {
		t.Errorf("grant to a name: error %q, want it to ask for their identifier, in words", u.err.Text)
	}
	u.provider.SetText("")
	test.Type(u.provider, doc.DID)
	u.purpose.SetSelected("Treatment")
	u.duration.SetSelected("1 week")
	test.Tap(u.grant)
	h.a.wait()
	if u.err.Visible() {
		t.Fatalf("grant failed: %q", u.err.Text)
	}
	if len(u.rows) != 1 {
		t.Fatalf("%d consents listed, want 1", len(u.rows))
	}
	r := u.rows[0]
	if want := whoStarts("", doc.DID) + " may see your allergies, for treatment."; r.summary.Text != want {
		t.Errorf("summary = %q, want %q", r.summary.Text, want)
	}
	if r.left.Text != "7 days left" && r.left.Text != "6 days left" {
		t.Errorf("time left = %q, want 7 days", r.left.Text)
	}
	grant := r.grant

	// The patient copies the grant for the doctor, who reads with it;
	// another provider is refused.
	if r.copy == nil {
		t.Fatal("no way to hand the consent to the doctor")
	}
	test.Tap(r.copy)
	tok := h.a.fa.Clipboard().Content()
	if tok != consentToken(t, h, grant.ID) || !r.note.Visible() || !strings.Contains(r.note.Text, "Copied") {
		t.Fatalf("copied %q, want the grant's token", tok)
	}
	if _, err := doc.Get(ctx, rec.ID, "TREAT", tok, ""); err != nil {
		t.Fatalf("doctor's read with consent: %v", err)
	}
	if _, err := other.Get(ctx, rec.ID, "TREAT", tok, ""); !errors.Is(err, vaultapi.ErrDenied) {
		t.Fatalf("other provider's read: %v, want denied", err)
	}

	// Emergency access at the hospital, allowed in Settings: an ER doctor
	// without consent opens the record (break-glass).
	er := s.provider(t)
	s.v.SetStaff([]string{er.DID}) // on the hospital's break-glass roster
	if _, err := er.Get(ctx, rec.ID, "ETREAT", "", "unconscious"); !errors.Is(err, vaultapi.ErrDenied) {
		t.Fatalf("break-glass before it is allowed: %v, want denied", err)
	}
	test.Tap(set.allowGlass)
	test.Tap(set.glassYes)
	h.a.wait()
	if set.glassMsg.Importance == widget.DangerImportance {
		t.Fatalf("allowing emergency access: %q", set.glassMsg.Text)
	}
	if len(u.rows) != 2 {
		t.Fatalf("%d consents listed after allowing emergency access, want 2", len(u.rows))
	}
	glass := u.rows[0]
	if glass.grant.ID == grant.ID {
		glass = u.rows[1]
	}
	if !glass.glass.Visible() || glass.grant.Provider != s.hosp.DID {
		t.Errorf("emergency permission row: provider %s, glass %v", glass.grant.Provider, glass.glass.Visible())
	}
	if _, err := er.Get(ctx, rec.ID, "ETREAT", "", "unconscious"); err != nil {
		t.Fatalf("break-glass once allowed: %v", err)
	}
	if set.allowGlass.Text != glassAllowedText || !set.glassNote.Visible() {
		t.Errorf("Settings after allowing emergency access: button %q, note shown %v; want %q",
			set.allowGlass.Text, set.glassNote.Visible(), glassAllowedText)
	}
	h.a.main.selectScreen("settings")
	h.a.wait()
	test.Tap(set.allowGlass)
	h.a.wait()
	if h.a.main.tabs.Selected() != h.a.main.items["consent"] {
		t.Errorf("the allowed-emergency-access button opens %q, want the Consent screen", h.a.main.tabs.Selected().Text)
	}
	if err := s.v.Flush(ctx); err != nil {
		t.Fatal(err)
	}

	a := h.a.main.access
	if a.svc == nil {
		t.Fatal("access log not wired although a registry and a vault are configured")
	}
	h.a.main.selectScreen("access")
	h.a.wait()
	if a.err.Visible() {
		t.Fatalf("access log: %q", a.err.Text)
	}
	var granted, denied, emergency *accessRow
	for _, r := range a.rows {
		switch {
		case r.event.Accessor == doc.DID:
			granted = r
		case r.event.Accessor == other.DID:
			denied = r
		case r.event.Accessor == er.DID && r.event.Outcome == OutcomePermitted:
			emergency = r
		}
	}
	if emergency == nil || emergency.highlight != "break-glass" || !a.alert.Visible() {
		t.Errorf("the emergency opening does not stand out (row %v, alert %q)", emergency != nil, a.alert.Text)
	}
	// The ER doctor's attempt before emergency access was allowed is a
	// refusal, not an emergency access; the one after says it went through
	// the standing permission; the banner counts only what happened.
	for _, r := range a.rows {
		if r.event.Accessor == er.DID && r.event.Outcome == OutcomeDenied &&
			(r.highlight != "denied" || strings.Contains(r.flag.Text, "EMERGENCY ACCESS") || !strings.Contains(r.flag.Text, "REFUSED")) {
			t.Errorf("refused emergency attempt shown as %q (highlight %q)", r.flag.Text, r.highlight)
		}
	}
	if emergency != nil && (!strings.Contains(emergency.flag.Text, "standing emergency permission of ") || emergency.event.StandingSince.IsZero() ||
		!strings.HasSuffix(emergency.flag.Text, emergency.event.StandingSince.Local().Format("2 Jan 2006"))) {
		t.Errorf("emergency access under the standing permission: flag %q (given %v)", emergency.flag.Text, emergency.event.StandingSince)
	}
	if !strings.HasPrefix(a.alert.Text, "Someone opened your records in an emergency,") {
		t.Errorf("alert = %q, want one emergency access counted", a.alert.Text)
	}
	if granted == nil || denied == nil {
		t.Fatalf("access log rows: %d, want the doctor's read and the refused one", len(a.rows))
	}
	if granted.highlight != "" || granted.event.Outcome != OutcomePermitted || !strings.Contains(granted.what.Text, "read your allergies") {
		t.Errorf("granted row: %q, highlight %q, outcome %q", granted.what.Text, granted.highlight, granted.event.Outcome)
	}
	if denied.highlight != "denied" || !denied.flag.Visible() || !strings.Contains(denied.flag.Text, "REFUSED") ||
		!strings.Contains(denied.what.Text, "tried to read") {
		t.Errorf("denied row does not stand out: %q / %q, highlight %q", denied.flag.Text, denied.what.Text, denied.highlight)
	}

	// Take the consent back in the GUI.
	h.a.main.selectScreen("consent")
	h.a.wait()
	test.Tap(u.rows[0].revoke)
	test.Tap(u.rows[0].yes)
	h.a.wait()
	if u.err.Visible() {
		t.Fatalf("revoke failed: %q", u.err.Text)
	}
	var taken *consentRow
	for _, r := range u.rows {
		if r.grant.ID == grant.ID {
			taken = r
		}
	}
	if taken == nil || !strings.HasPrefix(taken.left.Text, "Taken back") || !taken.revoke.Disabled() || u.rows[len(u.rows)-1] != taken {
		t.Fatalf("after taking back: %+v, want it marked taken back and listed last", taken)
	}
	if taken.copy != nil {
		t.Error("a taken-back consent can still be copied")
	}
	pg, err := consent.Parse(grant.Token)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := s.reg.ConsentStatus(ctx, pg.Anchor, grant.ID); err != nil || !st.Revoked {
		t.Errorf("ledger status after taking back: %+v, %v", st, err)
	}
	if _, err := doc.Get(ctx, rec.ID, "TREAT", tok, ""); !errors.Is(err, vaultapi.ErrDenied) {
		t.Errorf("doctor's read after consent was taken back: %v, want denied", err)
	}
	h.a.main.selectScreen("settings")
	h.a.wait()
	if set.allowGlass.Text != glassAllowedText {
		t.Errorf("Settings after taking back the doctor's consent: button %q, want %q", set.allowGlass.Text, glassAllowedText)
	}

	// Take the emergency permission back: Settings offers it again.
	h.a.main.selectScreen("consent")
	h.a.wait()
	var perm *consentRow
	for _, r := range u.rows {
		if r.grant.Provider == s.hosp.DID && r.grant.BreakGlass {
			perm = r
		}
	}
	if perm == nil {
		t.Fatal("the emergency permission is not listed on the Consent screen")
	}
	test.Tap(perm.revoke)
	test.Tap(perm.yes)
	h.a.wait()
	if u.err.Visible() {
		t.Fatalf("taking back emergency access: %q", u.err.Text)
	}
	if set.allowGlass.Text != allowGlassText || set.glassNote.Visible() {
		t.Errorf("Settings after taking back emergency access: button %q, note shown %v; want %q",
			set.allowGlass.Text, set.glassNote.Visible(), allowGlassText)
	}
}

// consentToken is the grant's token, which the patient hands the doctor
// (the Consent screen shows the grant; the token travels with the
// referral).
func consentToken(t *testing.T, h *harness, id string) string {
	t.Helper()
	c, err := hospital.FindConsent(h.a.wallet(), id)
	if err != nil {
		t.Fatal(err)
	}
	return c.Token
}

// TestNoHospitalAddress shows the patient-friendly empty states when no
// registry and vault are configured.
func TestNoHospitalAddress(t *testing.T) {
	h := unlocked(t)
	if u := h.a.main.consent; u.none == nil || !strings.Contains(u.none.Text, "Add your hospital's address in Settings to manage consent") {
		t.Fatal("Consent screen without a registry must ask for the hospital's address")
	}
	if u := h.a.main.access; u.none == nil || !strings.Contains(u.none.Text, "Add your hospital's address in Settings") {
		t.Fatal("access log without a vault must ask for the hospital's address")
	}
}
