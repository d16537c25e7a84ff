package app

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/medid/medid/credentials/credtest"
	"github.com/medid/medid/credentials/delegation"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/registry/hospital/vaultapi"
	"github.com/medid/medid/wallet"
	"github.com/medid/medid/wallet/delegate"
)

// TestPeopleScreen drives the People screen against a real in-process
// registry: no tab while the wallet knows no delegation; once the patient
// has let their husband see their immunizations and their mother has let
// them act for her, the tab appears and lists both ("People who can act for
// you" with the scope, the time left and a take-back button; "People you
// act for" naming the mother and the basis, with nothing to take back);
// the patient takes the husband's delegation back through the
// confirmation dialog, the row says so, and the registry's status list
// refuses the delegation from then on. Then the patient acts for their
// mother: the acting screen replaces the window under a banner saying for
// whom; a consent given there in the mother's name opens her record to the
// doctor, shows in the list and in her access log, and taken back closes it;
// "Stop acting" returns to the patient's own screens.
func TestPeopleScreen(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a registry node")
	}
	ctx := context.Background()
	s := startVault(t)
	h := unlocked(t, func(c *Config) { c.Connect, c.Now = DefaultConnect, time.Now })
	set := h.a.main.settings
	test.Type(set.registry, s.url)
	test.Tap(set.saveReg)
	h.a.wait()
	test.Type(set.vault, s.url)
	test.Tap(set.saveVault)
	h.a.wait()
	if set.regNote.Importance == widget.DangerImportance || set.vaultNote.Importance == widget.DangerImportance {
		t.Fatalf("saving the addresses: %q / %q", set.regNote.Text, set.vaultNote.Text)
	}
	if h.a.main.items["people"] != nil {
		t.Fatal("a People tab although the wallet knows no delegation")
	}

	me := h.primary()
	w := h.a.wallet()
	carl := credtest.NewParty(t, key.Ed25519, "carl")
	granted, err := delegate.Grant(ctx, w, s.reg, delegate.Request{To: carl.DID, Name: "Carl Jones",
		Actions: []delegation.Action{delegation.ActionView}, Classes: []string{"Immunization"}, Purposes: []string{"TREAT"},
		Duration: 30 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	mother, _, err := wallet.Create(wallet.Config{Dir: filepath.Join(t.TempDir(), "mother"), KDF: fastKDF()}, []byte(testPass))
	if err != nil {
		t.Fatal(err)
	}
	defer mother.Close()
	fromMother, err := delegate.Grant(ctx, mother, s.reg, delegate.Request{To: me, Name: "Ana Silva", PatientName: "Rosa Silva",
		Relationship: "MTH", Actions: []delegation.Action{delegation.ActionView, delegation.ActionConsent, delegation.ActionTrail}, Classes: []string{delegation.AllClasses},
		Purposes: []string{"TREAT"}, Duration: 90 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	chk, err := delegation.NewChecker(delegation.CheckerConfig{Resolver: s.reg, Status: s.reg, Trust: s.reg, StatusTTL: -1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := delegate.Add(ctx, w, chk, fromMother.Token); err != nil {
		t.Fatal(err)
	}

	// The tab appears with the next screen the patient opens, before Settings.
	h.a.main.selectScreen("consent")
	h.a.wait()
	tab := h.a.main.items["people"]
	if tab == nil {
		t.Fatal("no People tab once the wallet holds delegations")
	}
	if i, j := slices.Index(h.a.main.tabs.Items, tab), slices.Index(h.a.main.tabs.Items, h.a.main.items["settings"]); i != j-1 {
		t.Errorf("People is tab %d, Settings %d: want it just before Settings", i, j)
	}
	h.a.main.selectScreen("people")
	h.a.wait()
	u := h.a.main.people
	if len(u.rows) != 1 || len(u.acting) != 1 || u.noneForMe.Visible() || u.noneIAct.Visible() {
		t.Fatalf("%d people can act for me, I act for %d: want 1 and 1", len(u.rows), len(u.acting))
	}
	r := u.rows[0]
	for _, c := range []struct{ got, want string }{
		{r.summary.Text, "Carl Jones can act for you, with your authorisation."},
		{r.scope.Text, "May see records: immunizations, for treatment."},
		{r.left.Text, "30 days left"},
		{u.acting[0].summary.Text, "You can act for Rosa Silva (your mother), with their authorisation."},
		{u.acting[0].scope.Text, "May see records, give and take back consent, read the access log: all kinds of records, for treatment."},
		{u.acting[0].left.Text, "90 days left"},
	} {
		if c.got != c.want {
			t.Errorf("got  %q\nwant %q", c.got, c.want)
		}
	}
	if r.takeBack == nil || r.takeBack.Disabled() {
		t.Fatal("no way to take Carl's delegation back")
	}
	if u.acting[0].takeBack != nil {
		t.Error("a take-back button on a delegation only its issuer can revoke")
	}

	// Keep it: nothing happens.
	test.Tap(r.takeBack)
	if r.confirm == nil || r.yes == nil {
		t.Fatal("taking it back asks nothing")
	}
	r.confirm.Hide()
	h.a.wait()
	if _, err := chk.Verify(ctx, granted.Token); err != nil {
		t.Fatalf("Carl's delegation before it was taken back: %v", err)
	}

	// Take it back.
	test.Tap(r.takeBack)
	test.Tap(r.yes)
	h.a.wait()
	if u.err.Visible() {
		t.Fatalf("taking it back: %q", u.err.Text)
	}
	r = u.rows[0]
	if !strings.HasPrefix(r.left.Text, "Taken back ") || !r.takeBack.Disabled() {
		t.Errorf("after taking it back: %q, button enabled %v", r.left.Text, !r.takeBack.Disabled())
	}
	if _, err := chk.Verify(ctx, granted.Token); !errors.Is(err, delegation.ErrRevoked) {
		t.Fatalf("Carl's delegation on the registry after it was taken back: %v, want revoked", err)
	}

	// Acting for the mother.
	rosa, err := mother.PrimaryDID()
	if err != nil {
		t.Fatal(err)
	}
	rec, err := s.hosp.Put(ctx, rosa.DID, "Immunization", []byte(`{"resourceType":"Immunization","vaccineCode":{"text":"tetanus"}}`))
	if err != nil {
		t.Fatal(err)
	}
	doc := s.provider(t)
	test.Tap(u.acting[0].act)
	x := u.actingNow
	if x == nil || len(h.a.root.Objects) != 1 || h.a.root.Objects[0] != x.content {
		t.Fatal("acting did not replace the window")
	}
	if want := "ACTING FOR Rosa Silva (your mother), with their authorisation, until " + fromMother.ValidUntil.Local().Format("2 Jan 2006"); x.banner.Text != want {
		t.Errorf("banner %q, want %q", x.banner.Text, want)
	}
	h.a.wait()
	if !x.empty.Visible() {
		t.Error("no empty state before any consent in her name")
	}
	test.Type(x.provider, doc.DID)
	x.classes.SetSelected([]string{"immunizations"})
	test.Tap(x.grant)
	h.a.wait()
	if x.err.Visible() {
		t.Fatalf("consent in her name: %q", x.err.Text)
	}
	if len(x.rows) != 1 || x.rows[0].left.Text != "30 days left" {
		t.Fatalf("%d consents in her name listed, want 1 with 30 days left", len(x.rows))
	}
	if want := whoStarts("", doc.DID) + " may see Rosa Silva's immunizations."; x.rows[0].summary.Text != want {
		t.Errorf("summary %q, want %q", x.rows[0].summary.Text, want)
	}
	test.Tap(x.rows[0].copy)
	grant := h.a.fa.Clipboard().Content()
	if body, err := doc.Get(ctx, rec.ID, "TREAT", grant, ""); err != nil || !strings.Contains(string(body), "tetanus") {
		t.Fatalf("the doctor under the consent given in her name: %q, %v", body, err)
	}
	if err := s.v.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	test.Tap(x.logBtn)
	h.a.wait()
	if x.err.Visible() {
		t.Fatalf("her access log: %q", x.err.Text)
	}
	var lines []string
	for _, o := range x.log.Objects {
		lines = append(lines, o.(*widget.Label).Text)
	}
	if log := strings.Join(lines, "\n"); !strings.Contains(log, "read Rosa Silva's immunizations, under the consent Ana Silva (with Rosa Silva's authorisation) gave") {
		t.Errorf("her access log does not show the doctor's read under the consent given in her name:\n%s", log)
	}
	test.Tap(x.rows[0].revoke)
	test.Tap(x.rows[0].yes)
	h.a.wait()
	if x.err.Visible() {
		t.Fatalf("taking it back: %q", x.err.Text)
	}
	if _, err := doc.Get(ctx, rec.ID, "TREAT", grant, ""); !errors.Is(err, vaultapi.ErrDenied) {
		t.Fatalf("the doctor after it was taken back: %v", err)
	}
	if !strings.HasPrefix(x.rows[0].left.Text, "Taken back ") || x.rows[0].revoke != nil {
		t.Errorf("after taking it back: %q", x.rows[0].left.Text)
	}
	test.Tap(x.stop)
	if h.a.root.Objects[0] != h.a.main.content {
		t.Error("stop acting did not return to the patient's own screens")
	}
}

// TestTabIconsDistinct: every tab has an icon of its own (People and
// Identities both showed Fyne's one-person icon), and the People icon is
// a picture that draws (a broken SVG shows as nothing).
func TestTabIconsDistinct(t *testing.T) {
	h, _ := nurseWallet(t) // the My licence tab
	holdDelegation(t, h, delegation.ActionView)
	h.a.main.ensurePeople(h.a, nil)
	h.a.wait()
	seen := map[string]string{}
	for _, it := range h.a.main.tabs.Items {
		if it.Icon == nil {
			t.Errorf("tab %q has no icon", it.Text)
			continue
		}
		key := string(it.Icon.Content())
		if other, ok := seen[key]; ok {
			t.Errorf("tabs %q and %q share one icon", other, it.Text)
		}
		seen[key] = it.Text
	}
	if len(seen) != 8 {
		t.Errorf("%d tabs, want 8 (People and My licence included)", len(seen))
	}
	img := canvas.NewImageFromResource(peopleIcon)
	img.SetMinSize(fyne.NewSquareSize(48))
	win := test.NewWindow(img)
	win.Resize(fyne.NewSquareSize(48))
	pic := win.Canvas().Capture()
	drawn := 0
	b := pic.Bounds()
	bg := pic.At(b.Min.X, b.Min.Y) // a corner: the icon leaves it empty
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if pic.At(x, y) != bg {
				drawn++
			}
		}
	}
	if drawn < 100 {
		t.Errorf("the People icon draws %d pixels", drawn)
	}
}
