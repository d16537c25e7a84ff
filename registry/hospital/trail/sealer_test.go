package trail

import (
	"bytes"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwe"

	"github.com/medid/medid/credentials/key"
)

// The Sealer's JWEs decrypt with jwx (an independent JOSE implementation)
// and with Open, for X25519 and P-256, across ephemeral-key reuse and
// renewal.
func TestSealerInterop(t *testing.T) {
	for _, alg := range []key.Alg{key.Ed25519, key.P256} {
		t.Run(string(alg), func(t *testing.T) {
			k, _ := key.Generate(alg)
			rk, err := RecipientKey(k.Public())
			if err != nil {
				t.Fatal(err)
			}
			priv, _ := DecryptionKey(k)
			s := &Sealer{MaxUses: 3}
			opener := &Opener{Key: priv}
			// A JWE made by jwx itself goes through the Opener too.
			jw, err := Seal(&Entry{ID: "jwx"}, rk)
			if err != nil {
				t.Fatal(err)
			}
			if got, err := opener.Open(jw); err != nil || got.ID != "jwx" {
				t.Fatalf("Opener on a jwx JWE = %+v, %v", got, err)
			}
			headers := map[string]bool{}
			for i := range 7 {
				e := &Entry{ID: string(rune('a' + i)), Outcome: OutcomeGranted, Reason: "entry"}
				sealed, err := s.Seal(e, rk)
				if err != nil {
					t.Fatal(err)
				}
				pt, err := jwe.Decrypt(sealed, jwe.WithKey(jwa.ECDH_ES_A256KW, priv))
				if err != nil {
					t.Fatalf("jwx cannot decrypt entry %d: %v", i, err)
				}
				got, err := Open(sealed, priv)
				if err != nil || got.ID != e.ID || len(pt) == 0 {
					t.Fatalf("Open entry %d = %+v, %v", i, got, err)
				}
				if got, err := opener.Open(sealed); err != nil || got.ID != e.ID {
					t.Fatalf("Opener entry %d = %+v, %v", i, got, err)
				}
				msg, _ := jwe.Parse(sealed)
				epk, _ := msg.ProtectedHeaders().Get("epk")
				headers[string(must(t, epk))] = true
			}
			if len(headers) != 3 {
				t.Errorf("%d distinct ephemeral keys for 7 entries at MaxUses 3, want 3", len(headers))
			}
			other, _ := key.Generate(alg)
			op, _ := DecryptionKey(other)
			sealed, _ := s.Seal(&Entry{ID: "x"}, rk)
			if _, err := Open(sealed, op); err == nil {
				t.Error("another key opened the entry")
			}
			if _, err := (&Opener{Key: op}).Open(sealed); err == nil {
				t.Error("another key's Opener opened the entry")
			}
			tampered := append([]byte(nil), sealed...)
			tampered[len(tampered)-3] ^= 1
			if _, err := opener.Open(tampered); err == nil {
				t.Error("a tampered entry opened")
			}
		})
	}
}

// Entries of one session share the ephemeral key and the wrapped content
// key and differ in their IVs; a new session has a new content key.
func TestSealerSession(t *testing.T) {
	k, _ := key.Generate(key.Ed25519)
	rk, _ := RecipientKey(k.Public())
	priv, _ := DecryptionKey(k)
	s := &Sealer{MaxUses: 4}
	var parts [][][]byte
	for i := range 8 {
		sealed, err := s.Seal(&Entry{ID: string(rune('a' + i))}, rk)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := Open(sealed, priv); err != nil || got.ID != string(rune('a'+i)) {
			t.Fatalf("Open entry %d = %+v, %v", i, got, err)
		}
		parts = append(parts, bytes.Split(sealed, []byte(".")))
	}
	ivs := map[string]bool{}
	for i, p := range parts {
		ivs[string(p[2])] = true
		first := parts[i/4*4]
		if !bytes.Equal(p[0], first[0]) || !bytes.Equal(p[1], first[1]) {
			t.Errorf("entry %d: header or wrapped key differs within its session", i)
		}
	}
	if bytes.Equal(parts[0][1], parts[4][1]) || bytes.Equal(parts[0][0], parts[4][0]) {
		t.Error("the second session reuses the first one's ephemeral or content key")
	}
	if len(ivs) != len(parts) {
		t.Errorf("%d distinct IVs for %d entries", len(ivs), len(parts))
	}
}

func must(t *testing.T, v any) []byte {
	t.Helper()
	type jsonable interface{ MarshalJSON() ([]byte, error) }
	if j, ok := v.(jsonable); ok {
		b, err := j.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	t.Fatalf("epk %T", v)
	return nil
}

func BenchmarkSeal(b *testing.B) {
	k, _ := key.Generate(key.Ed25519)
	rk, _ := RecipientKey(k.Public())
	e := &Entry{ID: "x", Patient: "did:key:z6MkpTHR8VNsBxYAAWHut2Geadd9jSwuBV8xRoAnwWsdvktH", Provider: "did:key:z6MkpTHR8VNsBxYAAWHut2Geadd9jSwuBV8xRoAnwWsdvktH",
		Record: "r-0123456789abcdef0123456789abcdef", Action: ActionRead, Purpose: "TREAT", Outcome: OutcomeGranted, Type: DCMPatientRecord}
	b.Run("jwx-per-entry", func(b *testing.B) {
		for range b.N {
			if _, err := Seal(e, rk); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("sealer", func(b *testing.B) {
		s := &Sealer{}
		for range b.N {
			if _, err := s.Seal(e, rk); err != nil {
				b.Fatal(err)
			}
		}
	})
}
