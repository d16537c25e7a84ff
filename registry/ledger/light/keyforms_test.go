package light_test

import (
	"bytes"
	"errors"
	"testing"

	cmtcrypto "github.com/cometbft/cometbft/api/cometbft/crypto/v1"
	cmtproto "github.com/cometbft/cometbft/api/cometbft/types/v1"
	"github.com/cometbft/cometbft/crypto/ed25519"
	"github.com/cometbft/cometbft/crypto/secp256k1"
	"github.com/cometbft/cometbft/types"

	"github.com/medid/medid/registry/ledger/light"
)

// TestValidatorKeyForms: a validator's key is read from CometBFT v1's
// pub_key_type and pub_key_bytes, from v0.38's pub_key, or from both when
// they agree (what registry nodes on v1 write, for light clients of either
// release); the set's hash is CometBFT's whichever form carried the keys.
func TestValidatorKeyForms(t *testing.T) {
	keys := []ed25519.PrivKey{ed25519.GenPrivKey(), ed25519.GenPrivKey()}
	var vals []*types.Validator
	for _, k := range keys {
		vals = append(vals, types.NewValidator(k.PubKey(), 10))
	}
	want := types.NewValidatorSet(vals)
	other := ed25519.GenPrivKey().PubKey().Bytes()
	legacy := func(b []byte) *cmtcrypto.PublicKey {
		return &cmtcrypto.PublicKey{Sum: &cmtcrypto.PublicKey_Ed25519{Ed25519: b}}
	}
	for _, tc := range []struct {
		name string
		edit func(v *cmtproto.Validator)
		ok   bool
	}{
		{"v1 typed form (CometBFT's ToProto)", func(*cmtproto.Validator) {}, true},
		{"v0.38 pub_key only", func(v *cmtproto.Validator) {
			v.PubKey, v.PubKeyType, v.PubKeyBytes = legacy(v.PubKeyBytes), "", nil
		}, true},
		{"both forms, same key", func(v *cmtproto.Validator) { v.PubKey = legacy(v.PubKeyBytes) }, true},
		{"both forms, different keys", func(v *cmtproto.Validator) { v.PubKey = legacy(other) }, false},
		{"typed form of another key type", func(v *cmtproto.Validator) {
			v.PubKeyType, v.PubKeyBytes = secp256k1.KeyType, secp256k1.GenPrivKey().PubKey().Bytes()
		}, false},
		{"typed bytes without a type", func(v *cmtproto.Validator) { v.PubKeyType = "" }, false},
		{"typed form too short", func(v *cmtproto.Validator) { v.PubKeyBytes = v.PubKeyBytes[:31] }, false},
		{"typed form invalid, pub_key valid (CometBFT v1 falls back; refused here)", func(v *cmtproto.Validator) {
			v.PubKey, v.PubKeyType = legacy(v.PubKeyBytes), "unknown"
		}, false},
		{"pub_key of another type", func(v *cmtproto.Validator) {
			v.PubKey, v.PubKeyType, v.PubKeyBytes = &cmtcrypto.PublicKey{Sum: &cmtcrypto.PublicKey_Secp256K1{Secp256K1: make([]byte, 33)}}, "", nil
		}, false},
		{"no key", func(v *cmtproto.Validator) { v.PubKey, v.PubKeyType, v.PubKeyBytes = nil, "", nil }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pb, err := want.ToProto()
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range append(pb.Validators, pb.Proposer) {
				tc.edit(v)
			}
			got, err := light.NewValidatorSet(pb)
			if !tc.ok {
				if err == nil || !errors.Is(err, light.ErrInvalid) {
					t.Fatalf("NewValidatorSet: %v, want ErrInvalid", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("NewValidatorSet: %v", err)
			}
			if !bytes.Equal(got.Hash(), want.Hash()) {
				t.Fatalf("hash %X, want CometBFT's %X", got.Hash(), want.Hash())
			}
		})
	}
}
