package ledger

import (
	"errors"
	"testing"

	"github.com/cometbft/cometbft/crypto/ed25519"
	"github.com/cometbft/cometbft/types"
)

// FuzzProof: any proof header value either fails with ErrProof or (never,
// without valid signatures) verifies; it never panics.
func FuzzProof(f *testing.F) {
	trusted := types.NewValidatorSet([]*types.Validator{types.NewValidator(ed25519.GenPrivKeyFromSecret([]byte("v")).PubKey(), 10)})
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
		if err := p.Verify("medid-test", trusted); err == nil {
			t.Fatalf("a fuzzed proof verified against a key nobody signed with: %q", s)
		}
	})
}
