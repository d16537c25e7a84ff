package wallet

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/medid/medid/credentials/vc"
	"github.com/medid/medid/wallet/wallettest"
)

func TestReceiveListFilter(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	w, _ := newVerifyingWallet(t, clk)
	p, _ := w.PrimaryDID()
	hosp, _ := w.NewDID(NewDIDOptions{Pairwise: true, Label: "Hospital B"})
	a, b := newIssuer(t, "Hospital A"), newIssuer(t, "Hospital B")

	allergy := a.Issue(t, p.DID, []string{"AllergyCredential"}, map[string]any{"allergen": "Penicillin"})
	immun := a.Issue(t, p.DID, []string{"ImmunizationCredential"}, map[string]any{"vaccine": "MMR", "date": "2020-01-01"})
	other := b.Issue(t, hosp.DID, []string{"AllergyCredential"}, map[string]any{"allergen": "Latex"})
	var ids []string
	for _, tok := range []string{allergy, immun, other} {
		clk.Advance(time.Second)
		c, err := w.Receive(ctx, "  "+tok+"\n") // pasted tokens carry whitespace
		if err != nil {
			t.Fatalf("Receive: %v", err)
		}
		ids = append(ids, c.ID)
	}
	c, err := w.Credential(ids[1][:6])
	if err != nil {
		t.Fatalf("Credential(prefix): %v", err)
	}
	if c.Issuer != a.DID || !c.HasType("ImmunizationCredential") || c.Status != StatusValid ||
		!slices.Equal(c.Attributes, []string{"date", "vaccine"}) || c.Subject != p.DID || c.Token != immun {
		t.Errorf("stored metadata = %+v", c)
	}
	if again, err := w.Receive(ctx, allergy); err != nil || again.ID != ids[0] {
		t.Errorf("receiving the same token again: %v, %v", again.ID, err)
	}

	for _, tt := range []struct {
		name string
		f    Filter
		want []string
	}{
		{"all, newest first", Filter{}, []string{ids[2], ids[1], ids[0]}},
		{"by type", Filter{Type: "AllergyCredential"}, []string{ids[2], ids[0]}},
		{"by issuer", Filter{Issuer: a.DID}, []string{ids[1], ids[0]}},
		{"type and issuer", Filter{Type: "AllergyCredential", Issuer: b.DID}, []string{ids[2]}},
		{"no match", Filter{Type: "Nope"}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cs, err := w.Credentials(tt.f)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range cs {
				got = append(got, c.ID)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}

	if err := w.Delete(ids[1]); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Credential(ids[1]); !errors.Is(err, ErrNotFound) {
		t.Errorf("after Delete: %v, want ErrNotFound", err)
	}
	if err := w.Delete(ids[1]); !errors.Is(err, ErrNotFound) {
		t.Errorf("Delete twice: %v, want ErrNotFound", err)
	}
	// Everything survives a reopen.
	cfg := w.cfg
	w.Close()
	w, err = Open(cfg, pass)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	cs, _ := w.Credentials(Filter{})
	if len(cs) != 2 {
		t.Errorf("after reopen %d credentials, want 2", len(cs))
	}
	h, _ := w.History()
	var kinds []string
	for _, e := range h {
		kinds = append(kinds, e.Kind)
	}
	if want := []string{"received", "received", "received", "deleted"}; !slices.Equal(kinds, want) {
		t.Errorf("history kinds %v, want %v", kinds, want)
	}
}

// TestReceiveRejects: each bad credential is refused with a clear error and
// nothing changes in the wallet.
func TestReceiveRejects(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	w, _ := newVerifyingWallet(t, clk)
	p, _ := w.PrimaryDID()
	is := newIssuer(t, "Hospital")
	stranger := newIssuer(t, "Stranger") // a did:key that is not the wallet's
	good := is.Issue(t, p.DID, []string{"AllergyCredential"}, map[string]any{"allergen": "Penicillin"})
	parts := strings.Split(good, ".")
	// Tamper with the payload: swap the claim, keep the signature.
	tampered := parts[0] + "." + b64(strings.Replace(unb64(t, parts[1]), "Penicillin", "Peanuts", 1)) + "." + parts[2]
	badSig := parts[0] + "." + parts[1] + "." + b64("0123456789012345678901234567890123456789012345678901234567890123")
	expired := is.Issue(t, p.DID, []string{"AllergyCredential"}, nil, func(c *vc.Credential) {
		until := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC) // before the test clock
		c.ValidUntil = &until
	})
	noSubject := is.Issue(t, "", []string{"AllergyCredential"}, map[string]any{"allergen": "x"}, func(c *vc.Credential) { delete(c.Subject, "id") })

	for _, tt := range []struct {
		name   string
		token  string
		want   error
		reason string
	}{
		{"someone else's DID", is.Issue(t, stranger.DID, []string{"AllergyCredential"}, nil), ErrNotForThisWallet, ""},
		{"no subject id", noSubject, ErrNotForThisWallet, ""},
		{"tampered payload", tampered, ErrRejected, "bad_signature"},
		{"bad signature", badSig, ErrRejected, "bad_signature"},
		{"expired", expired, ErrRejected, "expired"},
		{"not a token", "hello", ErrRejected, "malformed"},
		{"empty", "", ErrRejected, "malformed"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := w.Receive(ctx, tt.token)
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			var re *RejectedError
			if tt.reason != "" && (!errors.As(err, &re) || re.Reason != tt.reason) {
				t.Errorf("reason: got %v, want %s", err, tt.reason)
			}
			if cs, _ := w.Credentials(Filter{}); len(cs) != 0 {
				t.Errorf("%d credentials stored after a rejection", len(cs))
			}
			if h, _ := w.History(); len(h) != 0 {
				t.Errorf("%d history entries after a rejection", len(h))
			}
		})
	}
	// Without a verifier the wallet refuses rather than store unchecked.
	w.cfg.Verifier = nil
	if _, err := w.Receive(ctx, good); !errors.Is(err, ErrNoVerifier) {
		t.Errorf("no verifier: %v", err)
	}
}

// TestOutageKeepsLastKnownState: with the registry unreachable, Refresh
// keeps every credential's last known status (a revoked one stays revoked,
// a valid one is never marked invalid), records the attempt and why it
// failed, and says it could not check; Receive refuses with "try again
// when online" and stores nothing.
func TestOutageKeepsLastKnownState(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	w, v := newVerifyingWallet(t, clk)
	if err := w.SetSettings(Settings{AutoLock: -1}); err != nil {
		t.Fatal(err)
	}
	p, _ := w.PrimaryDID()
	is := newIssuer(t, "Hospital")
	good := is.Issue(t, p.DID, []string{"AllergyCredential"}, map[string]any{"allergen": "peanut"})
	bad := is.Issue(t, p.DID, []string{"AllergyCredential"}, map[string]any{"allergen": "latex"})
	g, err := w.Receive(ctx, good)
	if err != nil {
		t.Fatal(err)
	}
	b, err := w.Receive(ctx, bad)
	if err != nil {
		t.Fatal(err)
	}
	v.Set(bad, "revoked")
	if _, err := w.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	checked := clk.Now()

	clk.Advance(time.Hour)
	v.Set("*", "issuer_unavailable")
	cs, err := w.Refresh(ctx)
	var cnc *CouldNotCheckError
	if !errors.As(err, &cnc) || !errors.Is(err, ErrCouldNotCheck) || len(cnc.IDs) != 2 || !strings.Contains(err.Error(), "try again when online") {
		t.Fatalf("Refresh offline = %v, want a CouldNotCheckError for both credentials", err)
	}
	if len(cs) != 2 {
		t.Fatalf("Refresh offline returned %d credentials, want both", len(cs))
	}
	for _, tt := range []struct {
		id   string
		want Status
	}{{g.ID, StatusValid}, {b.ID, StatusRevoked}} {
		c, err := w.Credential(tt.id)
		if err != nil {
			t.Fatal(err)
		}
		if c.Status != tt.want || !c.StatusCheckedAt.Equal(checked) || !c.StatusAttemptedAt.Equal(clk.Now()) || !strings.Contains(c.Unchecked, "connection refused") {
			t.Errorf("%s offline: status %s (want %s), checked %v (want %v), attempted %v, unchecked %q",
				tt.id, c.Status, tt.want, c.StatusCheckedAt, checked, c.StatusAttemptedAt, c.Unchecked)
		}
	}

	other := is.Issue(t, p.DID, []string{"AllergyCredential"}, map[string]any{"allergen": "egg"})
	if _, err := w.Receive(ctx, other); !errors.Is(err, ErrCouldNotCheck) || errors.Is(err, ErrRejected) || !strings.Contains(err.Error(), "try again when online") {
		t.Errorf("Receive offline = %v, want ErrCouldNotCheck (not a rejection)", err)
	}
	if all, _ := w.Credentials(Filter{}); len(all) != 2 {
		t.Errorf("Receive offline stored something: %d credentials", len(all))
	}
}

func TestRefreshMarksStatus(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	w, v := newVerifyingWallet(t, clk)
	p, _ := w.PrimaryDID()
	is := newIssuer(t, "Hospital")
	var toks []string
	var ids []string
	for _, a := range []string{"A", "B", "C", "D"} {
		tok := is.Issue(t, p.DID, []string{"AllergyCredential"}, map[string]any{"allergen": a})
		c, err := w.Receive(ctx, tok)
		if err != nil {
			t.Fatal(err)
		}
		toks, ids = append(toks, tok), append(ids, c.ID)
	}
	v.Set(toks[0], "revoked")
	v.Set(toks[1], "suspended")
	v.Set(toks[2], "status_unavailable")
	if err := w.SetSettings(Settings{AutoLock: -1}); err != nil { // never auto-lock
		t.Fatal(err)
	}
	clk.Advance(time.Hour)
	var cnc *CouldNotCheckError
	if _, err := w.Refresh(ctx); !errors.As(err, &cnc) || !slices.Equal(cnc.IDs, []string{ids[2]}) {
		t.Fatalf("Refresh with one credential unavailable: %v, want a CouldNotCheckError naming %s", err, ids[2])
	}
	want := map[string]Status{ids[0]: StatusRevoked, ids[1]: StatusSuspended, ids[2]: StatusValid, ids[3]: StatusValid}
	for id, st := range want {
		c, err := w.Credential(id)
		if err != nil {
			t.Fatalf("credential %s dropped by refresh: %v", id, err)
		}
		if c.Status != st {
			t.Errorf("%s: status %s, want %s", id, c.Status, st)
		}
	}
	unavail, _ := w.Credential(ids[2])
	if !strings.Contains(unavail.Unchecked, "connection refused") || !unavail.StatusCheckedAt.Equal(unavail.ReceivedAt) || !unavail.StatusAttemptedAt.Equal(clk.Now()) {
		t.Errorf("unavailable status: unchecked %q, checked %v, attempted %v (checked should stay at the last successful check)", unavail.Unchecked, unavail.StatusCheckedAt, unavail.StatusAttemptedAt)
	}
	ok, _ := w.Credential(ids[3])
	if !ok.StatusCheckedAt.Equal(clk.Now()) {
		t.Errorf("StatusCheckedAt = %v, want %v", ok.StatusCheckedAt, clk.Now())
	}
	revoked, _ := w.Credentials(Filter{Status: StatusRevoked})
	if len(revoked) != 1 {
		t.Errorf("filter by revoked: %d", len(revoked))
	}
	// Reinstated after suspension.
	v.Set(toks[1], "")
	v.Set(toks[2], "")
	if _, err := w.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if c, _ := w.Credential(ids[2]); c.Unchecked != "" || !c.StatusCheckedAt.Equal(clk.Now()) {
		t.Errorf("checked again: unchecked %q, checked at %v", c.Unchecked, c.StatusCheckedAt)
	}
	if c, _ := w.Credential(ids[1]); c.Status != StatusValid {
		t.Errorf("after reinstatement: %s", c.Status)
	}
}

func TestPresent(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	w, _ := newVerifyingWallet(t, clk)
	p, _ := w.PrimaryDID()
	pw, _ := w.NewDID(NewDIDOptions{Pairwise: true, Label: "ER"})
	is := newIssuer(t, "Hospital")
	var ids []string
	for _, typ := range []string{"AllergyCredential", "ImmunizationCredential", "PatientIdentityCredential"} {
		c, err := w.Receive(ctx, is.Issue(t, p.DID, []string{typ}, map[string]any{"secretValue": "XYZZY-" + typ, "name": "Jane"}))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	other, err := w.Receive(ctx, is.Issue(t, pw.DID, []string{"AllergyCredential"}, map[string]any{"allergen": "Latex"}))
	if err != nil {
		t.Fatal(err)
	}

	vp, err := w.Present(ctx, PresentRequest{CredentialIDs: ids, Audience: "did:web:er.example", Nonce: "abc123"})
	if err != nil {
		t.Fatalf("Present: %v", err)
	}
	got, err := vc.VerifyPresentation(ctx, vp, wallettest.DIDKeyFunc, vc.PresentationOptions{Audience: "did:web:er.example", Nonce: "abc123", Now: clk.Now()})
	if err != nil {
		t.Fatalf("VerifyPresentation: %v", err)
	}
	if got.Presentation.Holder != p.DID || len(got.Credentials) != 3 {
		t.Errorf("presentation holder %s with %d credentials", got.Presentation.Holder, len(got.Credentials))
	}
	if _, err := vc.VerifyPresentation(ctx, vp, wallettest.DIDKeyFunc, vc.PresentationOptions{Audience: "did:web:er.example", Nonce: "other", Now: clk.Now()}); !errors.Is(err, vc.ErrNonceMismatch) {
		t.Errorf("replayed with another nonce: %v", err)
	}
	// The pairwise credential is signed by the pairwise DID.
	vp2, err := w.Present(ctx, PresentRequest{CredentialIDs: []string{other.ID}, Audience: "did:web:er.example", Nonce: "n2"})
	if err != nil {
		t.Fatal(err)
	}
	got2, err := vc.VerifyPresentation(ctx, vp2, wallettest.DIDKeyFunc, vc.PresentationOptions{Audience: "did:web:er.example", Nonce: "n2", Now: clk.Now()})
	if err != nil || got2.Presentation.Holder != pw.DID {
		t.Errorf("pairwise presentation: %v", err)
	}

	h, _ := w.History()
	var pres []HistoryEntry
	for _, e := range h {
		if e.Kind == EventPresented {
			pres = append(pres, e)
		}
	}
	if len(pres) != 2 {
		t.Fatalf("%d presentations in history, want 2", len(pres))
	}
	e := pres[0]
	if e.Audience != "did:web:er.example" || e.Holder != p.DID || !e.At.Equal(clk.Now()) || len(e.Credentials) != 3 {
		t.Errorf("history entry = %+v", e)
	}
	if !slices.Equal(e.Credentials[0].Attributes, []string{"name", "secretValue"}) {
		t.Errorf("attributes %v, want names only", e.Credentials[0].Attributes)
	}
	if strings.Contains(strings.Join(e.Credentials[0].Attributes, " "), "XYZZY") {
		t.Error("history holds an attribute value")
	}

	for _, tt := range []struct {
		name string
		req  PresentRequest
	}{
		{"mixed holders", PresentRequest{CredentialIDs: []string{ids[0], other.ID}, Audience: "a", Nonce: "n"}},
		{"no credentials", PresentRequest{Audience: "a", Nonce: "n"}},
		{"no nonce", PresentRequest{CredentialIDs: ids[:1], Audience: "a"}},
		{"no audience", PresentRequest{CredentialIDs: ids[:1], Nonce: "n"}},
		{"unknown id", PresentRequest{CredentialIDs: []string{"ffffffffffffffff"}, Audience: "a", Nonce: "n"}},
	} {
		if _, err := w.Present(ctx, tt.req); err == nil {
			t.Errorf("%s: got nil error", tt.name)
		}
	}
	if h2, _ := w.History(); len(h2) != len(h) {
		t.Errorf("failed presentations changed the history")
	}
}

// TestConcurrentUse exercises the wallet from several goroutines (run with -race).
func TestConcurrentUse(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	w, _ := newVerifyingWallet(t, clk)
	p, _ := w.PrimaryDID()
	is := newIssuer(t, "Hospital")
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Go(func() {
			c, err := w.Receive(ctx, is.Issue(t, p.DID, []string{"AllergyCredential"}, map[string]any{"n": i}))
			if err != nil {
				t.Error(err)
				return
			}
			if _, err := w.Credentials(Filter{Type: "AllergyCredential"}); err != nil {
				t.Error(err)
			}
			if _, err := w.Present(ctx, PresentRequest{CredentialIDs: []string{c.ID}, Audience: "a", Nonce: "n"}); err != nil {
				t.Error(err)
			}
			_, _ = w.History()
			_ = w.IsLocked()
		})
	}
	wg.Wait()
	if cs, _ := w.Credentials(Filter{}); len(cs) != 6 {
		t.Errorf("%d credentials, want 6", len(cs))
	}
}

// TestPresentRefusesNotCurrent: the wallet does not present what it knows
// is revoked, suspended or expired, unless told to.
func TestPresentRefusesNotCurrent(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	w, v := newVerifyingWallet(t, clk)
	if err := w.SetSettings(Settings{AutoLock: -1}); err != nil {
		t.Fatal(err)
	}
	is := newIssuer(t, "Hospital")
	p, _ := w.PrimaryDID()
	until := clk.Now().Add(time.Hour)
	toks := map[string]string{
		"valid":     is.Issue(t, p.DID, []string{"AllergyCredential"}, map[string]any{"allergen": "a"}),
		"revoked":   is.Issue(t, p.DID, []string{"AllergyCredential"}, map[string]any{"allergen": "b"}),
		"suspended": is.Issue(t, p.DID, []string{"AllergyCredential"}, map[string]any{"allergen": "c"}),
		"expired":   is.Issue(t, p.DID, []string{"AllergyCredential"}, map[string]any{"allergen": "d"}, func(c *vc.Credential) { c.ValidUntil = &until }),
	}
	ids := map[string]string{}
	for name, tok := range toks {
		c, err := w.Receive(ctx, tok)
		if err != nil {
			t.Fatal(err)
		}
		ids[name] = c.ID
	}
	v.Set(toks["revoked"], "revoked")
	v.Set(toks["suspended"], "suspended")
	if _, err := w.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	clk.Advance(2 * time.Hour) // past validUntil; the wallet has not refreshed since
	tests := []struct {
		name, why string
	}{{"valid", ""}, {"revoked", "revoked"}, {"suspended", "suspended"}, {"expired", "expired on"}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := PresentRequest{CredentialIDs: []string{ids[tt.name]}, Audience: "https://er.example", Nonce: "n"}
			_, err := w.Present(ctx, req)
			var np *NotPresentableError
			switch {
			case tt.why == "" && err != nil:
				t.Fatalf("Present: %v", err)
			case tt.why != "" && (!errors.As(err, &np) || !errors.Is(err, ErrNotPresentable) || !strings.Contains(np.Why, tt.why) || np.ID != ids[tt.name]):
				t.Fatalf("Present = %v, want NotPresentableError %q", err, tt.why)
			}
			req.Force = true
			if _, err := w.Present(ctx, req); err != nil {
				t.Errorf("Present with Force: %v", err)
			}
		})
	}
}
