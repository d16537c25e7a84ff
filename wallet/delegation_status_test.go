package wallet

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/medid/medid/credentials/delegation"
)

// TestDelegationStatusAtEdges: the wallet reads a delegation's period as
// its credential does (delegation.Period: half-open, a zero end is an
// end), revoked outranks time, and a minor's guardianship past its end
// ended because they came of age.
func TestDelegationStatusAtEdges(t *testing.T) {
	from := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	end := from.Add(24 * time.Hour)
	revoked := from
	tests := []struct {
		name string
		d    Delegation
		at   time.Time
		want string
	}{
		{"before start", Delegation{ValidFrom: from, ValidUntil: end}, from.Add(-time.Second), DelegationNotYet},
		{"at start", Delegation{ValidFrom: from, ValidUntil: end}, from, DelegationActive},
		{"just before end", Delegation{ValidFrom: from, ValidUntil: end}, end.Add(-time.Nanosecond), DelegationActive},
		{"end == now", Delegation{ValidFrom: from, ValidUntil: end}, end, DelegationExpired},
		{"after end", Delegation{ValidFrom: from, ValidUntil: end}, end.Add(time.Hour), DelegationExpired},
		{"zero end is an end", Delegation{ValidFrom: from}, from, DelegationExpired},
		{"minor at end", Delegation{ValidFrom: from, ValidUntil: end, Minor: true}, end, DelegationCameOfAge},
		{"minor before end", Delegation{ValidFrom: from, ValidUntil: end, Minor: true}, from, DelegationActive},
		{"minor, not yet", Delegation{ValidFrom: from, ValidUntil: end, Minor: true}, from.Add(-time.Second), DelegationNotYet},
		{"revoked in force", Delegation{ValidFrom: from, ValidUntil: end, Revoked: &revoked}, from, DelegationRevoked},
		{"revoked after end", Delegation{ValidFrom: from, ValidUntil: end, Minor: true, Revoked: &revoked}, end, DelegationRevoked},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.d.StatusAt(tt.at); got != tt.want {
				t.Errorf("StatusAt(%v) = %q, want %q", tt.at, got, tt.want)
			}
			raw, err := json.Marshal(tt.d)
			if err != nil {
				t.Fatal(err)
			}
			var back Delegation
			if err := json.Unmarshal(raw, &back); err != nil {
				t.Fatal(err)
			}
			if got := back.StatusAt(tt.at); got != tt.want {
				t.Errorf("after a round trip StatusAt(%v) = %q, want %q", tt.at, got, tt.want)
			}
		})
	}
}

// TestDelegationStatusAgreesWithInForce: for delegations as the wallet
// keeps them (DelegationOf), the status says active exactly when the
// credential's own check (delegation.Delegation.InForce, what a vault or
// verifier runs) passes, "not yet" when it says not yet valid, and "came
// of age" when it says so: one period rule, read the same way on both
// sides.
func TestDelegationStatusAgreesWithInForce(t *testing.T) {
	from := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, minor := range []bool{false, true} {
		for _, until := range []time.Time{{}, from.Add(time.Hour)} {
			x := &delegation.Delegation{ID: "urn:uuid:x", Type: delegation.TypeDelegation, Patient: "did:key:p", Representative: "did:key:r",
				Minor: minor, ValidFrom: from, ValidUntil: until}
			d := DelegationOf(x, DelegationHeld)
			for _, at := range []time.Time{from.Add(-time.Second), from, from.Add(time.Hour - time.Nanosecond), from.Add(time.Hour), from.AddDate(30, 0, 0)} {
				err, st := x.InForce(at), d.StatusAt(at)
				var want string
				switch {
				case err == nil:
					want = DelegationActive
				case errors.Is(err, delegation.ErrNotYetValid):
					want = DelegationNotYet
				case errors.Is(err, delegation.ErrCameOfAge):
					want = DelegationCameOfAge
				case errors.Is(err, delegation.ErrExpired):
					want = DelegationExpired
				default:
					t.Fatalf("InForce: %v", err)
				}
				if st != want {
					t.Errorf("minor %v, until %v, at %v: wallet %q, credential %v", minor, until, at, st, err)
				}
			}
		}
	}
}
