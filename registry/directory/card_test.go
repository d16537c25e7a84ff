package directory_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/medid/medid/credentials/licence"
	"github.com/medid/medid/registry/directory"
	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/tx"
)

// TestCheckCard: a licence card shown at the bedside is verified (name,
// profession, employer, body), refused with why, or unchecked with why;
// an unchecked card is never said to be invalid, a refused one never
// names anyone.
func TestCheckCard(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, w *world) string // returns the card
		state directory.CardState
		want  string // in Sentence()
	}{
		{"verified", func(t *testing.T, w *world) string { return w.card(t, w.hospitalDID) },
			directory.CardVerified, "Dr. Jane Doe is a medical practitioner at St Mary's Hospital, licensed by General Medical Council (licence GMC-7654321, GB)"},
		{"employer not listed", func(t *testing.T, w *world) string { return w.card(t, "did:key:z6MkNotAHospital") },
			directory.CardVerified, "Dr. Jane Doe is a medical practitioner, licensed by General Medical Council"},
		{"revoked", func(t *testing.T, w *world) string {
			w.list.Set(3, true)
			w.publish(t)
			return w.card(t, w.hospitalDID)
		}, directory.CardRefused, "Not a valid licence: the licence was revoked"},
		{"status list down", func(t *testing.T, w *world) string {
			w.reg.down = true
			return w.card(t, w.hospitalDID)
		}, directory.CardUnchecked, "Could not be checked: nothing was found wrong, but whether the licence is still in force could not be checked"},
		{"card expired", func(t *testing.T, w *world) string {
			tok, err := licence.MakeCard(w.licence(t, w.doctor, w.hospitalDID, t0.Add(time.Hour)), w.doctorKey,
				w.doctor+"#"+w.doctorKey.Public().Multikey(), t0.Add(-5*time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			return tok
		}, directory.CardRefused, "Not a valid licence: this code expired at"},
		{"body not a licensing body", func(t *testing.T, w *world) string {
			w.reg.orgs[w.bodyDID].Versions[0].Entry.Kind = tx.KindHospital
			return w.card(t, w.hospitalDID)
		}, directory.CardRefused, "Not a valid licence: licence issued by General Medical Council, which is not a licensing body"},
		{"body suspended", func(t *testing.T, w *world) string {
			w.reg.orgs[w.bodyDID].Versions[0].Status = ledger.DirectorySuspended
			return w.card(t, w.hospitalDID)
		}, directory.CardRefused, "Not a valid licence: the licensing body General Medical Council is suspended"},
		{"body not accredited", func(t *testing.T, w *world) string {
			delete(w.reg.accs, w.bodyDID)
			return w.card(t, w.hospitalDID)
		}, directory.CardRefused, "Not a valid licence: its issuer is not accredited to issue licences"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			c, err := w.dir.CheckCard(ctx, tc.setup(t, w))
			if err != nil {
				t.Fatal(err)
			}
			if c.State != tc.state || !strings.Contains(c.Sentence(), tc.want) {
				t.Errorf("CheckCard = %s %q; want %s %q", c.State, c.Sentence(), tc.state, tc.want)
			}
			if c.State != directory.CardVerified && strings.Contains(c.Sentence(), "Jane Doe") {
				t.Errorf("a card that is not verified names the practitioner: %q", c.Sentence())
			}
			if c.State == directory.CardVerified {
				// Remembered: the practitioner is named from now on.
				if id, _ := w.dir.Lookup(ctx, w.doctor); !id.Verified() || id.Label() != c.Practitioner.Label() {
					t.Errorf("after the card, Lookup = %q", id.Label())
				}
			}
		})
	}
	// Not a card at all.
	w := newWorld(t)
	if _, err := w.dir.CheckCard(ctx, w.licence(t, w.doctor, w.hospitalDID, t0.Add(time.Hour))); !errors.Is(err, licence.ErrNotCard) {
		t.Errorf("a bare licence: %v", err)
	}
	// Offline: unchecked, not refused.
	off := directory.New(directory.Config{Now: func() time.Time { return t0 }})
	c, err := off.CheckCard(ctx, w.card(t, w.hospitalDID))
	if err != nil || c.State != directory.CardUnchecked || !strings.Contains(c.Why, "without the medid network") {
		t.Errorf("offline: %+v, %v", c, err)
	}
}

// card is the doctor's licence card (the licence valid a year), made at t0.
func (w *world) card(t *testing.T, employer string) string {
	t.Helper()
	tok, err := licence.MakeCard(w.licence(t, w.doctor, employer, t0.Add(365*24*time.Hour)), w.doctorKey,
		w.doctor+"#"+w.doctorKey.Public().Multikey(), t0)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
