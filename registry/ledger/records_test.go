package ledger

import (
	"testing"
	"time"
)

// TestAccreditationStateAt: the one rule of an accreditation's state at a
// time, at each edge, and ActiveAt agreeing with it.
func TestAccreditationStateAt(t *testing.T) {
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	until := from.AddDate(1, 0, 0)
	revoked := from.AddDate(0, 6, 0)
	open := Accreditation{CredentialTypes: []string{"X"}, ValidFrom: from}
	ending := Accreditation{CredentialTypes: []string{"X"}, ValidFrom: from, ValidUntil: &until}
	rev := ending
	rev.Revocation = &Revocation{EffectiveAt: revoked}
	for _, tc := range []struct {
		name      string
		a         Accreditation
		at        time.Time
		wantState string
		wantSince time.Time
	}{
		{"before it starts", open, from.Add(-time.Second), AccreditationNotYet, from},
		{"at its start", open, from, AccreditationInForce, from},
		{"open-ended, years later", open, from.AddDate(30, 0, 0), AccreditationInForce, from},
		{"just before its end", ending, until.Add(-time.Second), AccreditationInForce, from},
		{"at its end", ending, until, AccreditationEnded, until},
		{"just before the revocation", rev, revoked.Add(-time.Second), AccreditationInForce, from},
		{"at the revocation", rev, revoked, AccreditationRevoked, revoked},
		{"revoked and ended: revoked", rev, until.AddDate(1, 0, 0), AccreditationRevoked, revoked},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, since := tc.a.StateAt(tc.at)
			if st != tc.wantState || !since.Equal(tc.wantSince) {
				t.Errorf("StateAt = %s since %s, want %s since %s", st, since, tc.wantState, tc.wantSince)
			}
			if got, want := tc.a.ActiveAt("X", tc.at), st == AccreditationInForce; got != want {
				t.Errorf("ActiveAt = %v, StateAt says %s", got, st)
			}
			if tc.a.ActiveAt("Y", tc.at) {
				t.Error("active for a type it does not list")
			}
		})
	}
}
