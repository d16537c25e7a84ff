package ledger

import (
	"context"
	"encoding/base64"
	"errors"
	"testing"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/medid/medid/registry/ledger/light"
)

// FuzzProof: any proof header value either fails with ErrProof or (never,
// without valid signatures) verifies; it never panics.
func FuzzProof(f *testing.F) {
	pub := ed25519.GenPrivKeyFromSecret([]byte("v")).PubKey()
	genesis := `{"genesis_time":"2026-11-01T09:00:00Z","chain_id":"medid-test","initial_height":"1",
		"validators":[{"pub_key":{"type":"tendermint/PubKeyEd25519","value":"` + encodeKey(pub.Bytes()) + `"},"power":"10"}]}`
	root, err := light.RootFromGenesis([]byte(genesis))
	if err != nil {
		f.Fatal(err)
	}
	lc, err := light.NewClient(light.Config{Root: root, Now: func() time.Time { return root.GenesisTime.Add(time.Hour) }})
	if err != nil {
		f.Fatal(err)
	}
	empty, _ := (&Proof{Height: 1, Key: []byte("did/x")}).Encode()
	f.Add(empty)
	f.Add("")
	f.Add("eyJoZWlnaHQiOjF9")
	f.Add("!!!")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := DecodeProof(s)
		if err != nil {
			if !errors.Is(err, ErrProof) {
				t.Fatalf("DecodeProof error %v does not wrap ErrProof", err)
			}
			return
		}
		err = p.Verify(context.Background(), lc)
		if err == nil {
			t.Fatalf("a fuzzed proof verified against a key nobody signed with: %q", s)
		}
		if !errors.Is(err, ErrProof) {
			t.Fatalf("Verify error %v does not wrap ErrProof", err)
		}
	})
}

func encodeKey(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
