package wallet

import (
	"path/filepath"
	"testing"
	"time"
)

func TestAttempts(t *testing.T) {
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	pol := LockoutPolicy{FreeAttempts: 3, Base: time.Minute, Max: time.Hour}
	cfg := Config{Dir: filepath.Join(t.TempDir(), "w"), KDF: KDFParams{Time: 1, MemoryKiB: 8 * 1024, Threads: 1}, Now: clock, Lockout: pol}
	good := []byte("correct horse battery staple")
	w, _, err := Create(cfg, good)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	w.Lock()
	for i, want := range []Attempts{
		{Failures: 0, Left: 3},
		{Failures: 1, Left: 2},
		{Failures: 2, Left: 1, NextLockout: time.Minute},
		{Failures: 3, Left: 0, NextLockout: 2 * time.Minute, Until: now.Add(time.Minute)},
	} {
		got, err := w.Attempts()
		if err != nil || got != want {
			t.Fatalf("after %d wrong passphrases: Attempts = %+v, %v; want %+v", i, got, err, want)
		}
		_ = w.Unlock([]byte("wrong passphrase"))
	}
	now = now.Add(time.Hour)
	if err := w.Unlock(good); err != nil {
		t.Fatal(err)
	}
	if got, _ := w.Attempts(); got != (Attempts{Left: 3}) {
		t.Errorf("after unlocking: %+v", got)
	}
}
