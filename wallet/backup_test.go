package wallet

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/medid/medid/credentials/consent"
)

// sealBackup encrypts a hand-made backup plaintext as Backup would.
func sealBackup(t *testing.T, doc any, pass []byte) []byte {
	t.Helper()
	plain, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	rcp, err := age.NewScryptRecipient(string(pass))
	if err != nil {
		t.Fatal(err)
	}
	rcp.SetWorkFactor(10)
	var buf bytes.Buffer
	enc, err := age.Encrypt(&buf, rcp)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := enc.Write(plain); err != nil {
		t.Fatal(err)
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestRestoreOldBackup restores a backup written before consent grants were
// backed up (no "consents" field): it restores, with no grants.
func TestRestoreOldBackup(t *testing.T) {
	clk := newClock()
	w, _ := newVerifyingWallet(t, clk)
	var buf bytes.Buffer
	bpass := []byte("backup passphrase")
	if err := w.Backup(&buf, bpass); err != nil {
		t.Fatal(err)
	}
	doc, err := readBackup(bytes.NewReader(buf.Bytes()), bpass)
	if err != nil {
		t.Fatal(err)
	}
	// The backup document as it was before consents were added.
	old := struct {
		Format  string    `json:"format"`
		Created time.Time `json:"created"`
		contents
	}{doc.Format, doc.Created, doc.contents}
	plain, _ := json.Marshal(old)
	if bytes.Contains(plain, []byte("consents")) {
		t.Fatalf("old-style backup mentions consents: %s", plain)
	}
	cfg := testConfig(t, clk)
	r, err := Restore(cfg, bytes.NewReader(sealBackup(t, old, bpass)), bpass, pass)
	if err != nil {
		t.Fatalf("Restore of an old backup: %v", err)
	}
	defer r.Close()
	if cs, err := r.Consents(); err != nil || len(cs) != 0 {
		t.Errorf("Consents = %v, %v; want none", cs, err)
	}
	wantD, _ := w.DIDs()
	if gotD, _ := r.DIDs(); len(gotD) != len(wantD) {
		t.Errorf("restored %d DIDs, want %d", len(gotD), len(wantD))
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
	doc, err := readBackup(bytes.NewReader(good), bpass)
	if err != nil {
		t.Fatal(err)
	}
	g := signedConsent(t, w, "did:web:gp.example")
	withConsents := func(cs ...*Consent) []byte {
		d := *doc
		d.Consents = cs
		return sealBackup(t, d, bpass)
	}
	wrongID := g
	wrongID.ID = consent.Hash(g.Token + "x")

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
		{"consent id not its hash", withConsents(&wrongID), bpass, ErrCorruptBackup},
		{"duplicate consent", withConsents(&g, &g), bpass, ErrCorruptBackup},
		{"null consent", withConsents(nil), bpass, ErrCorruptBackup},
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

// signedConsent is a grant by w's primary DID to provider, as a backup
// holds it (its id the hash of its token); it is neither anchored nor
// stored (wallet/hospital.GrantConsent does both).
func signedConsent(t *testing.T, w *Wallet, provider string) Consent {
	t.Helper()
	p, _ := w.PrimaryDID()
	k, kid, err := w.SignerFor(p.DID)
	if err != nil {
		t.Fatal(err)
	}
	now := w.cfg.now().UTC().Truncate(time.Second)
	ak, anchor, _, err := w.anchorKey("urn:uuid:00000000-0000-4000-8000-000000000000")
	if err != nil {
		t.Fatal(err)
	}
	ak.Destroy()
	tok, err := consent.Issue(&consent.Grant{ID: "urn:uuid:00000000-0000-4000-8000-000000000000", Patient: p.DID, Anchor: anchor, Provider: provider,
		Actions: []consent.Action{consent.ActionAccess}, Purposes: []string{"TREAT"}, Classes: []string{"Condition"},
		ValidFrom: now, ValidUntil: now.Add(time.Hour), Issued: now}, k, kid)
	if err != nil {
		t.Fatal(err)
	}
	return Consent{ID: consent.Hash(tok), Token: tok, Patient: p.DID, Anchor: anchor, Provider: provider}
}
