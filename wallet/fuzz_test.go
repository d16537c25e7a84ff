package wallet

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
)

// FuzzParseBackup: the backup plaintext parser never panics, every failure
// is ErrCorruptBackup, and what it accepts survives a round trip.
func FuzzParseBackup(f *testing.F) {
	phrase := "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon " +
		"abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon art"
	seed := seedFromPhrase(phrase)
	d, _, err := newKeyDID(seed, "ed25519", 0, newClock().Now())
	if err != nil {
		f.Fatal(err)
	}
	good, _ := json.Marshal(backupDoc{Format: backupFormat, contents: contents{Phrase: phrase, DIDs: []*DID{d},
		Credentials: []*Credential{{ID: credentialID("a.b.c"), Token: "a.b.c"}},
		History:     []HistoryEntry{{ID: "01", Seq: 1, Kind: EventPresented}}}})
	f.Add(good)
	f.Add([]byte(`{"format":"medid-wallet-backup/1"}`))
	f.Add([]byte(`{"format":"medid-wallet-backup/1","phrase":"x","dids":[null]}`))
	f.Add([]byte(`{"format":"medid-wallet-backup/1","phrase":"` + phrase + `","dids":[{"did":"did:key:x","method":"key","alg":"p256","index":4294967295}]}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := parseBackup(data)
		if err != nil {
			if !errors.Is(err, ErrCorruptBackup) {
				t.Fatalf("error %v does not wrap ErrCorruptBackup", err)
			}
			return
		}
		again, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		doc2, err := parseBackup(again)
		if err != nil {
			t.Fatalf("accepted backup does not re-parse: %v", err)
		}
		again2, _ := json.Marshal(doc2)
		if !bytes.Equal(again, again2) {
			t.Fatalf("round trip changed the backup:\n%s\n%s", again, again2)
		}
	})
}

// FuzzReadBackup: arbitrary bytes as a backup file never panic and give
// ErrCorruptBackup or ErrWrongPassphrase.
func FuzzReadBackup(f *testing.F) {
	clk := newClock()
	w, _, err := Create(Config{Dir: f.TempDir() + "/w", Now: clk.Now, KDF: fastKDF, BackupWorkFactor: 2}, pass)
	if err != nil {
		f.Fatal(err)
	}
	var buf bytes.Buffer
	if err := w.Backup(&buf, []byte("p")); err != nil {
		f.Fatal(err)
	}
	w.Close()
	f.Add(buf.Bytes())
	f.Add(buf.Bytes()[:100])
	f.Add([]byte("age-encryption.org/v1\n-> scrypt AAAA 99\n"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := readBackup(bytes.NewReader(data), []byte("p"))
		if err != nil && !errors.Is(err, ErrCorruptBackup) && !errors.Is(err, ErrWrongPassphrase) {
			t.Fatalf("unexpected error class: %v", err)
		}
	})
}

// FuzzNormalizePhrase: recovery phrase input never panics and anything
// accepted is a canonical 24-word phrase that is accepted again unchanged.
func FuzzNormalizePhrase(f *testing.F) {
	f.Add("abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon art")
	f.Add("  ZOO zoo ")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		m, err := normalizePhrase(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidPhrase) {
				t.Fatalf("error %v does not wrap ErrInvalidPhrase", err)
			}
			return
		}
		if m2, err := normalizePhrase(m); err != nil || m2 != m {
			t.Fatalf("normalised phrase not stable: %q -> %q, %v", m, m2, err)
		}
	})
}
