package benchbase

import (
	"testing"
	"time"
)

func TestEd25519VerifyRate(t *testing.T) {
	if r := Ed25519VerifyRate(20 * time.Millisecond); r <= 0 {
		t.Fatalf("rate = %v, want > 0", r)
	}
}
