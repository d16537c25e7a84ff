package validity

import (
	"errors"
	"testing"
	"time"
)

var (
	errNotYet  = errors.New("not yet")
	errExpired = errors.New("expired")
	errParty   = errors.New("wrong party")
)

func TestPeriodCheck(t *testing.T) {
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	until := from.Add(24 * time.Hour)
	var zero time.Time
	tests := []struct {
		name    string
		p       Period
		at      time.Time
		wantErr error
		wantMsg string
	}{
		{"at start", Period{From: from, Until: &until}, from, nil, ""},
		{"inside", Period{From: from, Until: &until}, from.Add(time.Hour), nil, ""},
		{"before start", Period{From: from, Until: &until}, from.Add(-time.Second), errNotYet, "not yet: valid from 2026-01-01T00:00:00Z"},
		{"at end (half-open)", Period{From: from, Until: &until}, until, errExpired, "expired: valid until 2026-01-02T00:00:00Z"},
		{"after end", Period{From: from, Until: &until}, until.Add(time.Hour), errExpired, "expired: valid until 2026-01-02T00:00:00Z"},
		{"open-ended", Period{From: from}, from.AddDate(100, 0, 0), nil, ""},
		{"a zero end is an end", Period{Until: &zero}, from, errExpired, "expired: valid until 0001-01-01T00:00:00Z"},
		{"other zone reported in UTC", Period{From: from.In(time.FixedZone("X", 3600))}, from.Add(-time.Hour), errNotYet, "not yet: valid from 2026-01-01T00:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.p.Check(tt.at, errNotYet, errExpired)
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("Check(%v) = %v, want %v", tt.at, err, tt.wantErr)
			}
			if err != nil && err.Error() != tt.wantMsg {
				t.Errorf("Check(%v) = %q, want %q", tt.at, err, tt.wantMsg)
			}
			if got, want := tt.p.Contains(tt.at), tt.wantErr == nil; got != want {
				t.Errorf("Contains(%v) = %v, want %v", tt.at, got, want)
			}
		})
	}
}

func TestPeriodValid(t *testing.T) {
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	later, same, earlier := from.Add(time.Second), from, from.Add(-time.Second)
	tests := []struct {
		name string
		p    Period
		want string
	}{
		{"open-ended", Period{From: from}, ""},
		{"end after start", Period{From: from, Until: &later}, ""},
		{"end at start", Period{From: from, Until: &same}, "validUntil 2026-01-01T00:00:00Z is not after validFrom 2026-01-01T00:00:00Z"},
		{"end before start", Period{From: from, Until: &earlier}, "validUntil 2025-12-31T23:59:59Z is not after validFrom 2026-01-01T00:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.p.Valid()
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("Valid() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestEnd(t *testing.T) {
	if got := End(time.Time{}); got != nil {
		t.Errorf("End(zero) = %v, want nil (open-ended)", *got)
	}
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if got := End(at); got == nil || !got.Equal(at) {
		t.Errorf("End(%v) = %v, want %v", at, got, at)
	}
}

func TestParty(t *testing.T) {
	long := "did:key:" + string(make([]byte, 200))
	tests := []struct {
		name, want, got, wantMsg string
	}{
		{"same", "did:key:a", "did:key:a", ""},
		{"other", "did:key:a", "did:key:b", "wrong party: the grant is for did:key:a, not did:key:b"},
		{"empty", "did:key:a", "", "wrong party: the grant is for did:key:a, not "},
		{"request value cut", "did:key:a", long, "wrong party: the grant is for did:key:a, not " + long[:128]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Party(errParty, "the grant is for", tt.want, tt.got)
			if tt.wantMsg == "" {
				if err != nil {
					t.Fatalf("Party = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, errParty) || err.Error() != tt.wantMsg {
				t.Errorf("Party = %q, want %q wrapping errParty", err, tt.wantMsg)
			}
		})
	}
}

func TestRevokedAt(t *testing.T) {
	when := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		revoked bool
		when    *time.Time
		at      time.Time
		want    bool
	}{
		{"not revoked", false, nil, when, false},
		{"not revoked, time ignored", false, &when, when.Add(time.Hour), false},
		{"before it takes effect", true, &when, when.Add(-time.Second), false},
		{"when it takes effect", true, &when, when, true},
		{"after", true, &when, when.Add(time.Hour), true},
		{"no time recorded: from the beginning", true, nil, time.Time{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RevokedAt(tt.revoked, tt.when, tt.at); got != tt.want {
				t.Errorf("RevokedAt(%v, %v, %v) = %v, want %v", tt.revoked, tt.when, tt.at, got, tt.want)
			}
		})
	}
}
