package tokenstatus

import (
	"errors"
	"testing"
)

func TestApply(t *testing.T) {
	tests := []struct {
		name    string
		bits    int
		from    uint8
		change  Change
		want    uint8
		final   bool
		wantErr bool
	}{
		{"revoke valid", 2, Valid, Revoke, Invalid, false, false},
		{"revoke suspended", 2, Suspended, Revoke, Invalid, false, false},
		{"revoke twice is harmless", 2, Invalid, Revoke, Invalid, false, false},
		{"revoke in a 1-bit list", 1, Valid, Revoke, Invalid, false, false},
		{"suspend valid", 2, Valid, Suspend, Suspended, false, false},
		{"suspend in an 8-bit list", 8, Valid, Suspend, Suspended, false, false},
		{"suspend needs 2 bits", 1, Valid, Suspend, Valid, false, true},
		{"suspend revoked", 2, Invalid, Suspend, Invalid, true, true},
		{"suspend twice", 2, Suspended, Suspend, Suspended, false, true},
		{"reinstate suspended", 2, Suspended, Reinstate, Valid, false, false},
		{"reinstate revoked", 2, Invalid, Reinstate, Invalid, true, true},
		{"reinstate valid", 2, Valid, Reinstate, Valid, false, true},
		{"reinstate an application value", 4, 3, Reinstate, 3, false, true},
		{"unknown change", 2, Valid, Change("refresh"), Valid, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := New(MinEntries, tt.bits)
			if err != nil {
				t.Fatal(err)
			}
			const i = 77
			if err := l.Set(i, tt.from); err != nil {
				t.Fatal(err)
			}
			was, err := l.Apply(tt.change, i)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Apply(%s) error = %v, want error %v", tt.change, err, tt.wantErr)
			}
			var ce *ChangeError
			if err != nil && !errors.As(err, &ce) {
				t.Errorf("error %v is not a *ChangeError", err)
			}
			if got := errors.Is(err, ErrFinal); got != tt.final {
				t.Errorf("errors.Is(ErrFinal) = %v, want %v (%v)", got, tt.final, err)
			}
			if was != tt.from {
				t.Errorf("was = %s, want %s", StatusName(was), StatusName(tt.from))
			}
			if got, _ := l.Get(i); got != tt.want {
				t.Errorf("entry = %s, want %s", StatusName(got), StatusName(tt.want))
			}
			for _, n := range []int{i - 1, i + 1} {
				if got, _ := l.Get(n); got != Valid {
					t.Errorf("neighbour %d = %s, want VALID", n, StatusName(got))
				}
			}
		})
	}
	l, _ := New(MinEntries, 2)
	if _, err := l.Apply(Revoke, MinEntries); !errors.Is(err, ErrRange) {
		t.Errorf("Apply past the end: %v, want ErrRange", err)
	}
}

func TestStatusName(t *testing.T) {
	for v, want := range map[uint8]string{0: "VALID", 1: "INVALID", 2: "SUSPENDED", 3: "0x03", 0xff: "0xff"} {
		if got := StatusName(v); got != want {
			t.Errorf("StatusName(%d) = %q, want %q", v, got, want)
		}
	}
}
