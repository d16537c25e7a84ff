package wallet

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/medid/medid/credentials/credtest"
	"github.com/medid/medid/credentials/key"
)

// fastKDF keeps tests quick; real wallets use DefaultKDF.
var fastKDF = KDFParams{Time: 1, MemoryKiB: 8 * 1024, Threads: 1}

// newClock is the settable clock of lockout, auto-lock and validity tests.
func newClock() *credtest.Clock {
	return credtest.NewClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
}

func testConfig(t *testing.T, clk *credtest.Clock) Config {
	t.Helper()
	return Config{Dir: filepath.Join(t.TempDir(), "wallet"), Now: clk.Now, KDF: fastKDF}
}

var pass = []byte("correct horse battery staple")

func newTestWallet(t *testing.T, clk *credtest.Clock) (*Wallet, string) {
	t.Helper()
	w, phrase, err := Create(testConfig(t, clk), pass)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	t.Cleanup(func() { w.Close() })
	return w, phrase
}

func writeFile(t *testing.T, p string, b []byte) {
	t.Helper()
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCreateOpen(t *testing.T) {
	clk := newClock()
	w, phrase := newTestWallet(t, clk)
	if n := len(strings.Fields(phrase)); n != 24 {
		t.Fatalf("recovery phrase has %d words, want 24", n)
	}
	primary, err := w.PrimaryDID()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(primary.DID, "did:key:z6Mk") || primary.Alg != key.Ed25519 || primary.Index != 0 {
		t.Errorf("primary DID = %+v, want an Ed25519 did:key at index 0", primary)
	}
	if primary.KeyID != primary.DID+"#"+strings.TrimPrefix(primary.DID, "did:key:") {
		t.Errorf("key id = %q", primary.KeyID)
	}
	cfg := w.cfg
	w.Close()

	// The folder holds only the database, private to the user.
	st, err := os.Stat(filepath.Join(cfg.Dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("wallet file mode %v, want 0600", st.Mode().Perm())
	}

	w2, err := Open(cfg, pass)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer w2.Close()
	got, err := w2.PrimaryDID()
	if err != nil || got.DID != primary.DID {
		t.Errorf("after reopen primary = %v, %v; want %s", got.DID, err, primary.DID)
	}

	// Never overwrite: Create into an existing wallet folder fails.
	if _, _, err := Create(cfg, pass); !errors.Is(err, ErrExists) {
		t.Errorf("Create over an existing wallet: got %v, want ErrExists", err)
	}
}

func TestOpenErrors(t *testing.T) {
	clk := newClock()
	cfg := testConfig(t, clk)
	if _, err := Open(cfg, pass); !errors.Is(err, ErrNoWallet) {
		t.Errorf("Open(no wallet): got %v, want ErrNoWallet", err)
	}
	if _, err := Open(Config{}, pass); err == nil {
		t.Errorf("Open(empty Dir): got nil error")
	}
	if _, _, err := Create(cfg, nil); err == nil {
		t.Errorf("Create with an empty passphrase: got nil error")
	}
}

func TestWrongPassphraseLockout(t *testing.T) {
	clk := newClock()
	w, _ := newTestWallet(t, clk)
	addTestSecrets(t, w)
	cfg := w.cfg
	before := sealedRecords(t, w.store)
	w.Close()

	wrong := []byte("wrong")
	for i := 1; i <= 4; i++ {
		_, err := Open(cfg, wrong)
		if !errors.Is(err, ErrWrongPassphrase) || errors.Is(err, ErrLockedOut) {
			t.Fatalf("attempt %d: got %v, want ErrWrongPassphrase without lockout", i, err)
		}
	}
	// Wrong passphrases change nothing but the clear lockout counter.
	st, err := OpenBoltStore(filepath.Join(cfg.Dir, FileName), false)
	if err != nil {
		t.Fatal(err)
	}
	if after := sealedRecords(t, st); after != before {
		t.Error("wrong passphrases changed sealed records")
	}
	st.Close()
	// The fifth failure starts a one-minute lockout.
	_, err = Open(cfg, wrong)
	var lo *LockedOutError
	if !errors.Is(err, ErrWrongPassphrase) || !errors.As(err, &lo) || lo.Left != time.Minute {
		t.Fatalf("attempt 5: got %v, want wrong passphrase with a 1m lockout", err)
	}
	// During the lockout even the right passphrase is refused, and the
	// counter survives reopening the file.
	clk.Advance(30 * time.Second)
	_, err = Open(cfg, pass)
	if !errors.As(err, &lo) || lo.Left != 30*time.Second || lo.Failures != 5 {
		t.Fatalf("during lockout: got %v, want LockedOutError with 30s left", err)
	}
	// After it, a further failure doubles the lockout.
	clk.Advance(31 * time.Second)
	_, err = Open(cfg, wrong)
	if !errors.As(err, &lo) || lo.Left != 2*time.Minute {
		t.Fatalf("attempt 6: got %v, want a 2m lockout", err)
	}
	clk.Advance(2 * time.Minute)
	w, err = Open(cfg, pass)
	if err != nil {
		t.Fatalf("right passphrase after the lockout: %v", err)
	}
	w.Close()
	// Success reset the counter: four failures are free again.
	for i := 1; i <= 4; i++ {
		if _, err := Open(cfg, wrong); errors.Is(err, ErrLockedOut) {
			t.Fatalf("after reset, attempt %d locked out", i)
		}
	}
}

func TestLockoutPolicyDelay(t *testing.T) {
	p := DefaultLockout
	for _, c := range []struct {
		failures int
		want     time.Duration
	}{{0, 0}, {4, 0}, {5, time.Minute}, {6, 2 * time.Minute}, {7, 4 * time.Minute}, {40, 24 * time.Hour}} {
		if got := p.delay(c.failures); got != c.want {
			t.Errorf("delay(%d) = %v, want %v", c.failures, got, c.want)
		}
	}
}

func TestLockUnlockAutoLock(t *testing.T) {
	clk := newClock()
	w, _ := newTestWallet(t, clk)
	if w.IsLocked() {
		t.Fatal("new wallet is locked")
	}
	w.Lock()
	if !w.IsLocked() {
		t.Fatal("Lock did not lock")
	}
	if _, err := w.DIDs(); !errors.Is(err, ErrLocked) {
		t.Errorf("DIDs while locked: got %v, want ErrLocked", err)
	}
	if err := w.Unlock([]byte("nope")); !errors.Is(err, ErrWrongPassphrase) {
		t.Errorf("Unlock(wrong): got %v", err)
	}
	if err := w.Unlock(pass); err != nil {
		t.Fatalf("Unlock: %v", err)
	}
	if err := w.SetSettings(Settings{AutoLock: 2 * time.Minute}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute)
	if _, err := w.DIDs(); err != nil { // activity resets the idle timer
		t.Fatalf("DIDs after 1m: %v", err)
	}
	clk.Advance(90 * time.Second)
	if w.LockIfIdle() {
		t.Fatal("locked after 90s idle with a 2m auto-lock")
	}
	clk.Advance(31 * time.Second)
	if !w.LockIfIdle() {
		t.Fatal("not locked after 2m01s idle")
	}
	if _, err := w.DIDs(); !errors.Is(err, ErrLocked) {
		t.Errorf("after auto-lock: got %v, want ErrLocked", err)
	}
	// Settings persist, encrypted, across unlocks.
	if err := w.Unlock(pass); err != nil {
		t.Fatal(err)
	}
	if s, _ := w.Settings(); s.AutoLock != 2*time.Minute {
		t.Errorf("AutoLock after unlock = %v", s.AutoLock)
	}
}

func TestChangePassphrase(t *testing.T) {
	clk := newClock()
	w, _ := newTestWallet(t, clk)
	if err := w.ChangePassphrase([]byte("bad"), []byte("new")); !errors.Is(err, ErrWrongPassphrase) {
		t.Errorf("ChangePassphrase with wrong old: %v", err)
	}
	if err := w.ChangePassphrase(pass, []byte("a brand new passphrase")); err != nil {
		t.Fatal(err)
	}
	cfg := w.cfg
	w.Close()
	if _, err := Open(cfg, pass); !errors.Is(err, ErrWrongPassphrase) {
		t.Errorf("old passphrase after change: %v", err)
	}
	w, err := Open(cfg, []byte("a brand new passphrase"))
	if err != nil {
		t.Fatalf("new passphrase: %v", err)
	}
	w.Close()
}

func TestDerivationDeterministic(t *testing.T) {
	// Fixed phrase (the BIP-39 test vector entropy 0x00..00, 24 words).
	phrase := strings.TrimSpace(strings.Repeat("abandon ", 23)) + " art"
	seed := seedFromPhrase(phrase)
	a, err := deriveKey(seed, key.Ed25519, 0)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := deriveKey(seed, key.Ed25519, 0)
	c, _ := deriveKey(seed, key.Ed25519, 1)
	p, err := deriveKey(seed, key.P256, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !a.Equal(b) {
		t.Error("same phrase and index gave different keys")
	}
	if a.Equal(c) {
		t.Error("indices 0 and 1 gave the same key")
	}
	if p.Alg() != key.P256 {
		t.Errorf("P-256 derivation gave %s", p.Alg())
	}
	// Pin the derivation: changing it would strand every patient's
	// identity. The wanted values were computed independently with Python
	// (hashlib PBKDF2 for the BIP-39 seed, an HMAC-SHA256 HKDF, and the
	// cryptography package's Ed25519 and P-256).
	for _, c := range []struct {
		k    *key.PrivateKey
		want string
	}{
		{a, "did:key:z6MkghamTr9TzCxvRsp7y4UHxnSCCR8e99aaVQRCHUs31Csf"},
		{p, "did:key:zDnaerDHrrxxC5Zqv2V8g5NWzi14R5Pmau2GBVT4Z7iTMf3hd"},
	} {
		if id, _ := keyDID(c.k.Public()); id != c.want {
			t.Errorf("did for abandon…art/%s/0 = %s, want %s", c.k.Alg(), id, c.want)
		}
	}
}

func TestNewDIDPairwise(t *testing.T) {
	clk := newClock()
	w, _ := newTestWallet(t, clk)
	h1, err := w.NewDID(NewDIDOptions{Pairwise: true, Label: "Hospital A"})
	if err != nil {
		t.Fatal(err)
	}
	h2, err := w.NewDID(NewDIDOptions{Pairwise: true, Label: "Hospital B"})
	if err != nil {
		t.Fatal(err)
	}
	again, _ := w.NewDID(NewDIDOptions{Pairwise: true, Label: "Hospital A"})
	p, _ := w.PrimaryDID()
	if h1.DID == h2.DID || h1.DID == p.DID || h2.DID == p.DID {
		t.Errorf("pairwise DIDs not distinct: %s %s %s", p.DID, h1.DID, h2.DID)
	}
	if again.DID != h1.DID {
		t.Errorf("asking again for Hospital A gave %s, want %s", again.DID, h1.DID)
	}
	if h1.Index != 1 || h2.Index != 2 {
		t.Errorf("indices %d, %d; want 1, 2", h1.Index, h2.Index)
	}
	ec, err := w.NewDID(NewDIDOptions{Alg: key.P256})
	if err != nil || !strings.HasPrefix(ec.DID, "did:key:zDn") || ec.Index != 0 {
		t.Errorf("P-256 DID = %+v, %v", ec, err)
	}
	if _, err := w.NewDID(NewDIDOptions{Pairwise: true}); err == nil {
		t.Error("pairwise DID without a label: got nil error")
	}
	ds, _ := w.DIDs()
	if len(ds) != 4 {
		t.Errorf("%d DIDs, want 4", len(ds))
	}
	// The DIDs survive a reopen and derive the same keys.
	k1, kid, err := w.SignerFor(h1.DID)
	if err != nil || kid != h1.KeyID {
		t.Fatal(err)
	}
	pub1 := k1.Public().Bytes() // k1 is destroyed by Close
	cfg := w.cfg
	w.Close()
	w, err = Open(cfg, pass)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	k1b, _, err := w.SignerFor(h1.DID)
	if err != nil || !bytes.Equal(pub1, k1b.Public().Bytes()) {
		t.Errorf("key of %s changed across reopen (%v)", h1.Label, err)
	}
}

func TestRecoverFromPhrase(t *testing.T) {
	clk := newClock()
	w, phrase := newTestWallet(t, clk)
	h, _ := w.NewDID(NewDIDOptions{Pairwise: true, Label: "Hospital A"})
	ec, _ := w.NewDID(NewDIDOptions{Alg: key.P256})
	p, _ := w.PrimaryDID()

	cfg := testConfig(t, clk)
	// Spacing and case do not matter.
	r, err := Recover(cfg, []byte("another wallet passphrase"), "  "+strings.ToUpper(phrase)+"\n", RecoverOptions{Ed25519: 2, P256: 1})
	if err != nil {
		t.Fatalf("Recover: %v", err)
	}
	defer r.Close()
	ds, _ := r.DIDs()
	got := map[string]bool{}
	for _, d := range ds {
		got[d.DID] = true
	}
	for _, want := range []string{p.DID, h.DID, ec.DID} {
		if !got[want] {
			t.Errorf("recovered wallet lacks %s (has %v)", want, got)
		}
	}
	rp, _ := r.PrimaryDID()
	if rp.DID != p.DID {
		t.Errorf("recovered primary %s, want %s", rp.DID, p.DID)
	}

	for name, bad := range map[string]string{
		"12 words":     strings.Join(strings.Fields(phrase)[:12], " "),
		"bad word":     strings.Replace(phrase, strings.Fields(phrase)[3], "notaword", 1),
		"bad checksum": strings.Join(append(strings.Fields(phrase)[1:], strings.Fields(phrase)[0]), " "),
	} {
		if _, err := Recover(testConfig(t, clk), pass, bad, RecoverOptions{}); !errors.Is(err, ErrInvalidPhrase) {
			t.Errorf("%s: got %v, want ErrInvalidPhrase", name, err)
		}
	}
}

// TestNoPlaintextOnDisk scans the raw wallet file for anything readable:
// DIDs, labels, the phrase's words, the public keys.
func TestNoPlaintextOnDisk(t *testing.T) {
	clk := newClock()
	w, phrase := newTestWallet(t, clk)
	h, _ := w.NewDID(NewDIDOptions{Pairwise: true, Label: "Saint Elsewhere Hospital"})
	p, _ := w.PrimaryDID()
	addTestSecrets(t, w)
	needles := []string{p.DID, strings.TrimPrefix(p.DID, "did:key:"), h.DID, "Saint Elsewhere", "primary", "pairwise"}
	needles = append(needles, testSecretNeedles...)
	// The clear header names its fields (memoryKiB, version, …): a phrase
	// word that is also in an empty wallet made from another phrase is
	// structure, not a leak.
	other, _ := newTestWallet(t, clk)
	other.Close()
	structure := readFile(t, filepath.Join(other.cfg.Dir, FileName))
	// So are the bucket names: a phrase word such as "history" names one
	// that an empty wallet has not made yet.
	for _, b := range []string{metaBucket, keysBucket, didsBucket, credsBucket, bodiesBucket, historyBucket, consentBucket, settingsBucket, delegationsBucket} {
		structure = append(structure, " "+b+" "...)
	}
	for _, word := range strings.Fields(phrase) {
		// Short words occur by chance in random bytes and bbolt's structure.
		if len(word) >= 6 && !bytes.Contains(structure, []byte(word)) {
			needles = append(needles, word)
		}
	}
	w.Close()
	raw := readFile(t, filepath.Join(w.cfg.Dir, FileName))
	for _, n := range needles {
		if bytes.Contains(raw, []byte(n)) {
			t.Errorf("wallet file contains %q in the clear", n)
		}
	}
}

// sealedRecords renders every record outside the meta bucket, for
// before/after comparisons.
func sealedRecords(t *testing.T, st Store) string {
	t.Helper()
	var b strings.Builder
	for _, bucket := range []string{keysBucket, didsBucket, credsBucket, bodiesBucket, historyBucket, settingsBucket, consentBucket} {
		if err := st.List(bucket, func(id, v []byte) error {
			fmt.Fprintf(&b, "%s/%x=%x\n", bucket, id, v)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	if b.Len() == 0 {
		t.Fatal("no sealed records")
	}
	return b.String()
}
