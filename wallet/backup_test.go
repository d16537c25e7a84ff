package wallet

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestBackupRestore(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	w, _ := newVerifyingWallet(t, clk)
	p, _ := w.PrimaryDID()
	pw, _ := w.NewDID(NewDIDOptions{Pairwise: true, Label: "Hospital A"})
	is := newIssuer(t)
	c1, err := w.Receive(ctx, is.issue(t, p.DID, "AllergyCredential", map[string]any{"allergen": "Penicillin"}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Receive(ctx, is.issue(t, pw.DID, "ImmunizationCredential", map[string]any{"vaccine": "MMR"})); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Present(ctx, PresentRequest{CredentialIDs: []string{c1.ID}, Audience: "did:web:er", Nonce: "n"}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	bpass := []byte("backup passphrase")
	if err := w.Backup(&buf, bpass); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(buf.Bytes(), []byte("Penicillin")) || bytes.Contains(buf.Bytes(), []byte(p.DID)) {
		t.Fatal("backup contains plaintext")
	}
	backup := buf.Bytes()

	cfg := testConfig(t, clk)
	cfg.Verifier = w.cfg.Verifier
	r, err := Restore(cfg, bytes.NewReader(backup), bpass, []byte("new wallet pass"))
	if err != nil {
		t.Fatalf("Restore: %v", err)
	}
	defer r.Close()
	wantD, _ := w.DIDs()
	gotD, _ := r.DIDs()
	if !slices.EqualFunc(wantD, gotD, func(a, b DID) bool { return a.DID == b.DID && a.Label == b.Label }) {
		t.Errorf("restored DIDs %v, want %v", gotD, wantD)
	}
	wantC, _ := w.Credentials(Filter{})
	gotC, _ := r.Credentials(Filter{})
	if len(gotC) != 2 || !slices.EqualFunc(wantC, gotC, func(a, b Credential) bool { return a.ID == b.ID && a.Token == b.Token }) {
		t.Errorf("restored %d credentials, want %d", len(gotC), len(wantC))
	}
	wantH, _ := w.History()
	gotH, _ := r.History()
	if len(gotH) != len(wantH) {
		t.Errorf("restored %d history entries, want %d", len(gotH), len(wantH))
	}
	// The restored wallet can present, with the same holder key.
	if _, err := r.Present(ctx, PresentRequest{CredentialIDs: []string{c1.ID}, Audience: "a", Nonce: "n"}); err != nil {
		t.Errorf("Present from the restored wallet: %v", err)
	}
	// And it opens with the new passphrase only.
	r.Close()
	if _, err := Open(cfg, pass); !errors.Is(err, ErrWrongPassphrase) {
		t.Errorf("old wallet passphrase opens the restored wallet: %v", err)
	}
	if r2, err := Open(cfg, []byte("new wallet pass")); err != nil {
		t.Errorf("new passphrase: %v", err)
	} else {
		r2.Close()
	}

	// Never overwrite: restoring onto the wallet just made fails, and the
	// wallet is unchanged.
	before := readFile(t, filepath.Join(cfg.Dir, FileName))
	if _, err := Restore(cfg, bytes.NewReader(backup), bpass, pass); !errors.Is(err, ErrExists) {
		t.Errorf("restore over an existing wallet: %v, want ErrExists", err)
	}
	if !bytes.Equal(before, readFile(t, filepath.Join(cfg.Dir, FileName))) {
		t.Error("failed restore changed the existing wallet")
	}
}

// TestRestoreBadBackups: each bad backup gives a clear error and leaves no
// wallet and no temporary folder behind.
func TestRestoreBadBackups(t *testing.T) {
	clk := newClock()
	w, _ := newVerifyingWallet(t, clk)
	bpass := []byte("backup passphrase")
	var buf bytes.Buffer
	if err := w.Backup(&buf, bpass); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	flipped := bytes.Clone(good)
	flipped[len(flipped)-20] ^= 1

	for _, tt := range []struct {
		name string
		data []byte
		pass []byte
		want error
	}{
		{"wrong passphrase", good, []byte("nope"), ErrWrongPassphrase},
		{"truncated body", good[:len(good)-10], bpass, ErrCorruptBackup},
		{"truncated header", good[:40], bpass, ErrCorruptBackup},
		{"flipped bit", flipped, bpass, ErrCorruptBackup},
		{"empty file", nil, bpass, ErrCorruptBackup},
		{"not age", []byte("{\"format\":\"medid-wallet-backup/1\"}"), bpass, ErrCorruptBackup},
	} {
		t.Run(tt.name, func(t *testing.T) {
			parent := t.TempDir()
			cfg := Config{Dir: filepath.Join(parent, "w"), Now: clk.Now, KDF: fastKDF}
			_, err := Restore(cfg, bytes.NewReader(tt.data), tt.pass, pass)
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if ents, _ := os.ReadDir(parent); len(ents) != 0 {
				t.Errorf("failed restore left %v behind", ents)
			}
		})
	}
}

// TestRecordsCannotBeSwapped moves a sealed record to another id: the
// associated data (bucket and id) makes it fail to decrypt.
func TestRecordsCannotBeSwapped(t *testing.T) {
	clk := newClock()
	w, _ := newTestWallet(t, clk)
	a, _ := w.NewDID(NewDIDOptions{Label: "a"})
	b, _ := w.NewDID(NewDIDOptions{Label: "b"})
	s := w.sealer
	ida, idb := s.fileID(didsBucket, a.DID), s.fileID(didsBucket, b.DID)
	va, _ := w.store.Get(didsBucket, ida)
	vb, _ := w.store.Get(didsBucket, idb)
	if err := w.store.Batch([]Op{{Bucket: didsBucket, ID: ida, Value: vb}, {Bucket: didsBucket, ID: idb, Value: va}}); err != nil {
		t.Fatal(err)
	}
	w.Lock()
	if err := w.Unlock(pass); !errors.Is(err, ErrCorrupt) {
		t.Errorf("unlock with swapped records: %v, want ErrCorrupt", err)
	}
	if !w.IsLocked() {
		t.Error("wallet unlocked despite corrupt records")
	}
	// Moving a record to another bucket fails the same way.
	if err := w.store.Batch([]Op{{Bucket: didsBucket, ID: ida, Value: va}, {Bucket: didsBucket, ID: idb, Value: vb},
		{Bucket: historyBucket, ID: ida, Value: va}}); err != nil {
		t.Fatal(err)
	}
	if err := w.Unlock(pass); !errors.Is(err, ErrCorrupt) {
		t.Errorf("unlock with a record moved to another bucket: %v, want ErrCorrupt", err)
	}
}

// TestCorruptStore damages the file: Open reports ErrCorrupt and writes
// nothing.
func TestCorruptStore(t *testing.T) {
	clk := newClock()
	w, _ := newTestWallet(t, clk)
	cfg := w.cfg
	w.Close()
	path := filepath.Join(cfg.Dir, FileName)
	raw := readFile(t, path)
	for _, tt := range []struct {
		name string
		mod  func([]byte) []byte
	}{
		{"meta pages zeroed", func(b []byte) []byte { clear(b[:8192]); return b }},
		{"truncated", func(b []byte) []byte { return b[:100] }},
		{"empty", func(b []byte) []byte { return nil }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			bad := tt.mod(bytes.Clone(raw))
			writeFile(t, path, bad)
			_, err := Open(cfg, pass)
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("got %v, want ErrCorrupt", err)
			}
			if !bytes.Equal(readFile(t, path), bad) {
				t.Error("failed open modified the file")
			}
		})
	}
	// A damaged header record (valid bbolt file) is reported too.
	writeFile(t, path, raw)
	st, err := OpenBoltStore(path, false)
	if err != nil {
		t.Fatal(err)
	}
	st.Put(metaBucket, []byte(headerID), []byte("{not json"))
	st.Close()
	if _, err := Open(cfg, pass); !errors.Is(err, ErrCorrupt) {
		t.Errorf("damaged header: got %v, want ErrCorrupt", err)
	}
}
