package app

import (
	"context"
	"errors"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/medid/medid/credentials/delegation"
	"github.com/medid/medid/wallet/wallettest"
)

// goErrorWords are the marks of a Go or protocol error string that
// escaped friendly (the one place errors become sentences): network
// errors, HTTP status codes and wrapped-error chains.
var goErrorWords = regexp.MustCompile(`dial tcp|connection refused|no such host|i/o timeout|deadline exceeded|\bEOF\b|` +
	`\bHTTP\b|\b(?:400|401|403|404|409|410|429|500|502|503|504)\b|x509|\btls\b|` +
	`unexpected end|invalid character|\b[a-z0-9]+: [a-z0-9 ]+: `)

// alarmWords are what a record or a party that could not be checked must
// never be called: it was not checked and found wanting.
var alarmWords = regexp.MustCompile(`(?i)\binvalid\b|\bfailed\b|not valid|problem|no longer passes|safety checks|\berror\b|\bdenied\b|does not accredit|not in the (?:medid )?directory`)

// reassuranceWords are what must not be said of something that could not
// be read: that there is nothing there, or that everything is fine.
var reassuranceWords = regexp.MustCompile(`(?i)nobody has|not given anyone|all (?:\d+ |your )?records? (?:is|are) valid`)

// validWord finds a statement that something is valid ("Valid", "your
// records are valid"), not "valid until …", "valid for 2 minutes" or
// "not valid".
var validWord = regexp.MustCompile(`(?i)(?:^|[^t] )valid\b(?: *[.:)]|$| *\(| and| but|,)|^valid$`)

// when marks: a clock time or a date in words ("checked 14 Mar 2026 10:30").
var whenWords = regexp.MustCompile(`(?i)checked|\d{1,2}:\d{2}|\d{1,2} (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)`)

// assertTruthful is assertPatientWords and more: no Go error string, and
// when the screen's data could not be checked (offline), no alarm word;
// and nowhere a "valid" without when it was checked (on the badge's
// card, in the same sentence).
func assertTruthful(t *testing.T, state, screen string, c fyne.Canvas, offline bool) {
	t.Helper()
	where := state + ": " + screen
	assertPatientWords(t, where, c)
	texts := visibleTexts(c)
	all := strings.Join(texts, "\n")
	if os.Getenv("APP_DUMP") != "" {
		t.Logf("=== %s\n%s", where, all)
	}
	for _, s := range texts {
		if recoveryWords.MatchString(s) || machineCode.MatchString(s) {
			continue
		}
		if m := goErrorWords.FindString(s); m != "" {
			t.Errorf("%s shows an error string %q in %q", where, m, s)
		}
		if offline {
			if m := alarmWords.FindString(s); m != "" {
				t.Errorf("%s: nothing could be checked, yet it says %q in %q", where, m, s)
			}
			if m := reassuranceWords.FindString(s); m != "" {
				t.Errorf("%s: nothing could be read, yet it says %q in %q", where, m, s)
			}
		}
		if validWord.MatchString(s) && !whenWords.MatchString(s) {
			// A badge ("Valid") sits on a card that says when it was checked.
			if s != "Valid" || !strings.Contains(all, "Checked ") {
				t.Errorf("%s says %q without when it was checked", where, s)
			}
		}
	}
}

// nameRule is how a party must be named on every screen of a state:
// every text that names it (contains name) also says must (the saved
// copy's date, its suspension), and the screens in on name it.
type nameRule struct {
	name, must string
	on         []string // screens (tab names, "record …", "offer preview") that must name it
}

// walkScreens visits every tab (People when there), every record's page,
// the offer preview and the emergency card, checking each with
// assertTruthful, and the names on them with rules.
func walkScreens(t *testing.T, h *harness, state string, offline bool, rules ...nameRule) {
	t.Helper()
	m := h.a.main
	seen := map[string]map[string]bool{} // rule name -> screens naming it
	check := func(screen string) {
		t.Helper()
		assertTruthful(t, state, screen, h.win.Canvas(), offline)
		for _, r := range rules {
			for _, s := range visibleTexts(h.win.Canvas()) {
				if !strings.Contains(s, r.name) || strings.Contains(s, "e.g. "+r.name) { // not a field's example
					continue
				}
				if seen[r.name] == nil {
					seen[r.name] = map[string]bool{}
				}
				seen[r.name][screen] = true
				if !strings.Contains(s, r.must) {
					t.Errorf("%s: %s names %s without %q: %q", state, screen, r.name, r.must, s)
				}
			}
		}
	}
	for _, it := range m.tabs.Items {
		m.tabs.Select(it)
		h.a.wait()
		settle(h)
		check(it.Text)
	}
	m.selectScreen("credentials")
	h.a.wait()
	for i := range m.creds.items {
		c := m.creds.items[i]
		title := c.title.Text
		test.Tap(c.open)
		h.a.wait()
		check("record " + title)
		test.Tap(m.creds.detail.back)
		h.a.wait()
	}
	if len(m.creds.items) > 0 {
		m.selectScreen("preview") // the first record, as an offer is shown before it is added
		h.a.wait()
		check("offer preview")
		m.creds.recv.Hide()
	}
	m.selectScreen("emergency")
	h.a.wait()
	check("emergency card")
	for _, r := range rules {
		for _, on := range r.on {
			if !seen[r.name][on] {
				t.Errorf("%s: %s does not name %s (named on %v)", state, on, r.name, seen[r.name])
			}
		}
	}
}

// named wraps the fake consent and access services to name providers and
// accessors by the app's directory, as the wallet's own services do
// (WalletServices.label), so the walk sees the names a patient sees.
type named struct {
	ConsentService
	AccessLogService
	a *App // set once the app exists
}

func (n *named) List(ctx context.Context) ([]ConsentGrant, error) {
	gs, err := n.ConsentService.List(ctx)
	for i := range gs {
		if n.a != nil {
			gs[i].ProviderName = n.a.nameOf(ctx, gs[i].Provider)
		}
	}
	return gs, err
}

func (n *named) Accesses(ctx context.Context, since time.Time) ([]AccessEvent, error) {
	evs, err := n.AccessLogService.Accesses(ctx, since)
	for i := range evs {
		if n.a != nil && isDID(evs[i].Accessor) {
			evs[i].AccessorName = n.a.nameOf(ctx, evs[i].Accessor)
		}
	}
	return evs, err
}

// namedHarness is unlocked with consent c and access log l named by the
// app's directory.
func namedHarness(t *testing.T, c ConsentService, l AccessLogService) *harness {
	t.Helper()
	n := &named{ConsentService: c, AccessLogService: l}
	h := unlocked(t, withConsent(n), withAccessLog(n))
	n.a = h.a
	return h
}

// offlineConsent and offlineAccess are the wallet's consent and access log
// with the registry and vault unreachable.
type offlineConsent struct{ fakeConsent }

func (*offlineConsent) List(context.Context) ([]ConsentGrant, error) { return nil, unreachableErr() }

type offlineAccess struct{}

func (offlineAccess) Accesses(context.Context, time.Time) ([]AccessEvent, error) {
	return nil, unreachableErr()
}

func unreachableErr() error {
	return &url.Error{Op: "Get", URL: "http://127.0.0.1:8080/1.0/vault/trail", Err: errors.New("dial tcp 127.0.0.1:8080: connect: connection refused")}
}

// TestEveryScreenEveryState walks every screen a patient (and a
// representative) meets, in every state its data can be in, and reads the
// rendered text as the patient would: no developer term, no raw
// identifier shown as a name, no Go error string; no alarm where the
// truth is "could not check"; no "valid" without when it was checked.
// The states: checked just now; could not check (registry, directory,
// vault all unreachable) after a good check; stale (checked days ago);
// records revoked and suspended; the issuing hospital suspended in the
// directory; institutions the directory does not know; acting for
// someone.
func TestEveryScreenEveryState(t *testing.T) {
	// records gives the patient an allergy and an immunization from iss
	// (a blood type too, for the emergency card), checked now.
	records := func(h *harness, iss wallettest.Issuer) (allergy, imm string) {
		me := h.primary()
		allergy = iss.Issue(t, me, []string{"AllergyIntoleranceCredential"}, allergyClaimsFHIR())
		imm = iss.Issue(t, me, []string{"ImmunizationCredential"}, immunizationClaims())
		h.receive(allergy)
		h.receive(imm)
		h.receive(iss.Issue(t, me, []string{"BloodTypeCredential"}, map[string]any{"bloodType": "O+"}))
		return allergy, imm
	}
	accesses := func(now time.Time, who string) []AccessEvent {
		return []AccessEvent{
			{At: now.Add(-3 * time.Hour), Accessor: who, Data: []string{"allergies"}, Purpose: "ETREAT", Outcome: OutcomePermitted, BreakGlass: true, Standing: true},
			{At: now.Add(-2 * time.Hour), Accessor: who, Data: []string{"allergies"}, Purpose: "ETREAT", Outcome: OutcomeDenied, BreakGlass: true},
			{At: now.Add(-time.Hour), Accessor: who, Data: []string{"immunizations"}, Purpose: "TREAT", Outcome: OutcomePermitted},
		}
	}
	grant := func(h *harness, provider string) {
		t.Helper()
		if _, err := h.a.cfg.Consent.Grant(h.a.ctx, ConsentRequest{Provider: provider, DataClasses: []string{"allergies"},
			Purpose: "TREAT", Duration: 30 * 24 * time.Hour}); err != nil {
			t.Fatal(err)
		}
	}
	refresh := func(h *harness) {
		test.Tap(h.a.main.creds.refreshBtn)
		h.a.wait()
	}

	t.Run("checked", func(t *testing.T) {
		clk := newClock()
		hosp := newIssuer(t, "St Mary's Hospital")
		h := namedHarness(t, &fakeConsent{now: clk.Now}, &fakeAccessLog{events: accesses(clk.Now(), hosp.DID)})
		h.noAutoLock()
		records(h, hosp)
		grant(h, hosp.DID)
		refresh(h)
		walkScreens(t, h, "checked", false)
	})

	t.Run("could not check", func(t *testing.T) {
		clk := newClock()
		hosp := newIssuer(t, "St Mary's Hospital")
		h := namedHarness(t, &offlineConsent{fakeConsent{now: clk.Now}}, offlineAccess{})
		h.noAutoLock()
		allergy, imm := records(h, hosp)
		refresh(h)
		h.clk.Advance(2 * time.Hour)
		h.verifier.Set(allergy, "status_unavailable")
		h.verifier.Set(imm, "issuer_unavailable")
		h.registry.setDown(true)
		h.a.namesC = namesCache{} // a new start: nothing cached but the wallet's snapshot
		refresh(h)
		if !strings.Contains(h.a.main.creds.msg.Text, "2 records could not be checked (no connection)") {
			t.Errorf("refresh says %q", h.a.main.creds.msg.Text)
		}
		walkScreens(t, h, "could not check", true)
	})

	t.Run("names from the saved copy", func(t *testing.T) {
		// The registry stops answering after a good check: every screen
		// names the hospital from the wallet's saved copy of the
		// directory, and says the copy's date wherever it does.
		clk := newClock()
		hosp := newIssuer(t, "St Mary's Hospital")
		h := namedHarness(t, &fakeConsent{now: clk.Now}, &fakeAccessLog{events: accesses(clk.Now(), hosp.DID)})
		h.noAutoLock()
		records(h, hosp)
		grant(h, hosp.DID)
		refresh(h)
		saved := h.clk.Now().Format("2 Jan 2006")
		h.clk.Advance(26 * time.Hour)
		h.registry.setDown(true)
		h.a.namesC = namesCache{} // a new start: nothing cached but the wallet's snapshot
		h.a.main.rebuildServices()
		h.a.main.creds.reload()
		h.a.wait()
		walkScreens(t, h, "names from the saved copy", false,
			nameRule{name: "St Mary's Hospital", must: saved,
				on: []string{"My records", "Consent", "Who looked", "record Allergy intolerance", "offer preview"}})
	})

	t.Run("stale", func(t *testing.T) {
		clk := newClock()
		hosp := newIssuer(t, "St Mary's Hospital")
		h := namedHarness(t, &fakeConsent{now: clk.Now}, &fakeAccessLog{events: accesses(clk.Now(), hosp.DID)})
		h.noAutoLock()
		records(h, hosp)
		refresh(h)
		h.clk.Advance(72 * time.Hour)
		h.a.main.selectScreen("settings")
		h.a.main.selectScreen("credentials")
		h.a.wait()
		for _, c := range h.a.main.creds.items {
			if !strings.Contains(c.checked.Text, when(h.clk.Now().Add(-72*time.Hour))) {
				t.Errorf("card %q: %q, want when it was checked, three days ago", c.title.Text, c.checked.Text)
			}
		}
		walkScreens(t, h, "stale", false)
	})

	t.Run("revoked and suspended", func(t *testing.T) {
		clk := newClock()
		hosp := newIssuer(t, "St Mary's Hospital")
		h := namedHarness(t, &fakeConsent{now: clk.Now}, &fakeAccessLog{events: accesses(clk.Now(), hosp.DID)})
		h.noAutoLock()
		allergy, imm := records(h, hosp)
		h.verifier.Set(allergy, "suspended")
		h.verifier.Set(imm, "revoked")
		refresh(h)
		walkScreens(t, h, "revoked and suspended", false)
	})

	t.Run("hospital suspended in the directory", func(t *testing.T) {
		clk := newClock()
		hosp := newIssuer(t, "St Jude's Hospital")
		testSuspended.Store(hosp.DID, true)
		h := namedHarness(t, &fakeConsent{now: clk.Now}, &fakeAccessLog{events: accesses(clk.Now(), hosp.DID)})
		h.noAutoLock()
		records(h, hosp)
		grant(h, hosp.DID)
		refresh(h)
		// Named, flagged, in words that read inside the sentence.
		h.a.main.selectScreen("access")
		h.a.wait()
		settle(h)
		all := strings.Join(visibleTexts(h.win.Canvas()), "\n")
		if !strings.Contains(all, "St Jude's Hospital (suspended in the directory) read your immunizations") {
			t.Errorf("Who looked does not say who read the immunizations in a sentence:\n%s", all)
		}
		if strings.Contains(all, "SUSPENDED") {
			t.Errorf("the suspension breaks the sentence:\n%s", all)
		}
		// And so wherever it appears.
		walkScreens(t, h, "suspended in the directory", false,
			nameRule{name: "St Jude's Hospital", must: "St Jude's Hospital (suspended in the directory)",
				on: []string{"My records", "Consent", "Who looked", "record Allergy intolerance", "offer preview"}})
	})

	t.Run("unknown institutions", func(t *testing.T) {
		clk := newClock()
		stranger := wallettest.NewIssuer(t, "Self-Named Hospital") // in no directory
		h := namedHarness(t, &fakeConsent{now: clk.Now}, &fakeAccessLog{events: accesses(clk.Now(), longDID)})
		h.noAutoLock()
		records(h, stranger)
		grant(h, longDID)
		refresh(h)
		walkScreens(t, h, "unknown institutions", false)
		if all := strings.Join(visibleTexts(h.win.Canvas()), "\n"); strings.Contains(all, "Self-Named") {
			t.Error("an issuer's name for itself is shown")
		}
	})

	t.Run("acting for someone", func(t *testing.T) {
		clk := newClock()
		h := namedHarness(t, &fakeConsent{now: clk.Now}, &fakeAccessLog{events: accesses(clk.Now(), longDID)})
		holdDelegation(t, h, delegation.ActionView, delegation.ActionReceive, delegation.ActionConsent, delegation.ActionTrail)
		h.a.main.ensurePeople(h.a, nil)
		h.a.wait()
		walkScreens(t, h, "acting (the patient's own screens)", false)
		h.a.main.selectScreen("acting")
		h.a.wait()
		if h.a.main.people == nil || h.a.main.people.actingNow == nil {
			t.Fatal("no acting screen")
		}
		settle(h)
		assertTruthful(t, "acting for someone", "acting screen", h.win.Canvas(), false)
	})
}

// TestOfferedByLine: who offers a record, in each state the directory's
// answer can be in; with the directory out of reach the line never says
// the issuer is unlisted or not accredited (it may be both or neither).
func TestOfferedByLine(t *testing.T) {
	since := time.Date(2026, 3, 3, 9, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name  string
		f     offeredFrom
		want  string
		never string
	}{
		{"accredited", offeredFrom{name: "St Mary's Hospital", accredited: true, since: since},
			"Offered by St Mary's Hospital, accredited in the medid directory to issue this kind of record since 3 Mar 2026.", ""},
		{"not accredited", offeredFrom{name: "St Mary's Hospital"}, "which the medid directory does not accredit", ""},
		{"not listed", offeredFrom{}, "Offered by someone not in the directory (ref. 3CuyQr), not in the medid directory.", ""},
		{"from the snapshot, accredited", offeredFrom{name: "St Mary's Hospital", accredited: true, since: since, asOf: "12 Mar 2026"},
			"as the directory said on 12 Mar 2026 (it could not be reached just now)", ""},
		{"from the snapshot, no accreditation known", offeredFrom{name: "St Mary's Hospital", asOf: "12 Mar 2026"},
			"could not be checked just now", "does not accredit"},
		{"unreachable, never seen", offeredFrom{unreachable: true}, "Who offers this could not be checked", "not in the"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := offeredByLine(c.f, longDID).Text
			if !strings.Contains(got, c.want) || (c.never != "" && strings.Contains(got, c.never)) {
				t.Errorf("got %q, want %q in it (never %q)", got, c.want, c.never)
			}
			if m := devTerms.FindString(got); m != "" || strings.Contains(got, "did:") {
				t.Errorf("%q shows %q", got, m)
			}
		})
	}
}
