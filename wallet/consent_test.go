package wallet

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/medid/medid/credentials/consent"
)

// TestConsentStatusAtEdges: the wallet reads a grant's period as its token
// does (validity.Period, a zero end open-ended), so what the patient sees
// is what vaults enforce: an absent or zero end is in force; the end
// instant itself is past (half-open); revoked and legacy win over time.
func TestConsentStatusAtEdges(t *testing.T) {
	from := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	end := from.Add(time.Hour)
	revoked := from
	var zero time.Time
	tests := []struct {
		name string
		c    Consent
		at   time.Time
		want string
	}{
		{"empty end (absent in the record)", Consent{Anchor: "did:key:a", ValidFrom: from}, from.AddDate(50, 0, 0), ConsentActive},
		{"zero end", Consent{Anchor: "did:key:a", ValidFrom: from, ValidUntil: zero}, from.AddDate(50, 0, 0), ConsentActive},
		{"open-ended, not yet", Consent{Anchor: "did:key:a", ValidFrom: from}, from.Add(-time.Second), ConsentPending},
		{"at start", Consent{Anchor: "did:key:a", ValidFrom: from, ValidUntil: end}, from, ConsentActive},
		{"just before end", Consent{Anchor: "did:key:a", ValidFrom: from, ValidUntil: end}, end.Add(-time.Nanosecond), ConsentActive},
		{"end == now", Consent{Anchor: "did:key:a", ValidFrom: from, ValidUntil: end}, end, ConsentExpired},
		{"after end", Consent{Anchor: "did:key:a", ValidFrom: from, ValidUntil: end}, end.Add(time.Hour), ConsentExpired},
		{"revoked, open-ended", Consent{Anchor: "did:key:a", ValidFrom: from, Revoked: &revoked}, from, ConsentRevoked},
		{"legacy, open-ended", Consent{ValidFrom: from}, from, ConsentLegacy},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.c.StatusAt(tt.at); got != tt.want {
				t.Errorf("StatusAt(%v) = %q, want %q", tt.at, got, tt.want)
			}
			// A JSON round trip (the wallet's record) keeps the reading.
			raw, err := json.Marshal(tt.c)
			if err != nil {
				t.Fatal(err)
			}
			var back Consent
			if err := json.Unmarshal(raw, &back); err != nil {
				t.Fatal(err)
			}
			if got := back.StatusAt(tt.at); got != tt.want {
				t.Errorf("after a round trip StatusAt(%v) = %q, want %q", tt.at, got, tt.want)
			}
		})
	}
}

// TestSaveConsentChecksID: the store keeps a grant under the hash of its
// token (the id the ledger anchors and revokes) and refuses anything else,
// storing nothing.
func TestSaveConsentChecksID(t *testing.T) {
	clk := newClock()
	w, _ := newTestWallet(t, clk)
	good := signedConsent(t, w, "did:web:gp.example")
	wrong := good
	wrong.ID = strings.Repeat("ab", 32)
	for name, c := range map[string]*Consent{"nil": nil, "no token": {ID: good.ID}, "id not the token's hash": &wrong} {
		if err := w.SaveConsent(c); err == nil {
			t.Errorf("%s: stored", name)
		}
	}
	if cs, _ := w.Consents(); len(cs) != 0 {
		t.Fatalf("%d grants stored after refusals", len(cs))
	}
	if err := w.SaveConsent(&good); err != nil {
		t.Fatal(err)
	}
	if cs, err := w.Consents(); err != nil || len(cs) != 1 || cs[0].ID != good.ID || cs[0].Token != good.Token {
		t.Errorf("Consents = %+v, %v", cs, err)
	}
}

// TestConsentStatusAgreesWithGrant: for real grants (issued, signed and
// parsed back, one of them open-ended), the wallet shows "active" exactly
// when the grant itself permits an access (consent.Grant.Permits, what a
// vault checks): one period rule, read the same way on both sides.
func TestConsentStatusAgreesWithGrant(t *testing.T) {
	clk := newClock()
	w, _ := newTestWallet(t, clk)
	me, _ := w.PrimaryDID()
	k, kid, err := w.SignerFor(me.DID)
	if err != nil {
		t.Fatal(err)
	}
	from := clk.Now().UTC().Truncate(time.Second)
	for i, until := range []time.Time{{}, from.Add(time.Hour)} {
		id := fmt.Sprintf("urn:uuid:00000000-0000-4000-8000-%012d", i)
		ak, anchor, _, err := w.anchorKey(id)
		if err != nil {
			t.Fatal(err)
		}
		ak.Destroy()
		tok, err := consent.Issue(&consent.Grant{ID: id, Patient: me.DID, Anchor: anchor, Provider: "did:web:gp.example",
			Actions: []consent.Action{consent.ActionAccess}, Purposes: []string{"TREAT"}, Classes: []string{"Condition"},
			ValidFrom: from, ValidUntil: until, Issued: from}, k, kid)
		if err != nil {
			t.Fatalf("issue (until %v): %v", until, err)
		}
		g, err := consent.Parse(tok)
		if err != nil {
			t.Fatal(err)
		}
		c := Consent{ID: g.Hash(), Token: tok, Anchor: g.Anchor, ValidFrom: g.ValidFrom, ValidUntil: g.ValidUntil}
		for _, at := range []time.Time{from.Add(-time.Second), from, from.Add(time.Hour - time.Nanosecond), from.Add(time.Hour), from.AddDate(30, 0, 0)} {
			permitted := g.Permits(consent.Request{Provider: "did:web:gp.example", Action: consent.ActionAccess, Purpose: "TREAT", Class: "Condition", At: at}) == nil
			if active := c.StatusAt(at) == ConsentActive; active != permitted {
				t.Errorf("until %v, at %v: wallet active = %v, grant permits = %v", until, at, active, permitted)
			}
		}
	}
}
