package api

import (
	"bytes"
	"testing"

	cmtproto "github.com/cometbft/cometbft/api/cometbft/types/v1"
	"github.com/cometbft/cometbft/crypto/ed25519"
	"github.com/cometbft/cometbft/types"

	"github.com/medid/medid/registry/ledger/light"
)

// TestEncodeValidatorSetBothForms: the validator sets this API serves
// carry each key in CometBFT v1's form and in v0.38's, and a reader of
// either form alone (CometBFT v1; registry/ledger/light as a v0.38-based
// client reads it, which knows only pub_key) gets the same set, whose hash
// is the one the chain's headers commit to.
func TestEncodeValidatorSetBothForms(t *testing.T) {
	var vals []*types.Validator
	for range 4 {
		vals = append(vals, types.NewValidator(ed25519.GenPrivKey().PubKey(), 10))
	}
	set := types.NewValidatorSet(vals)
	b, err := encodeValidatorSet(set)
	if err != nil {
		t.Fatal(err)
	}
	var pb cmtproto.ValidatorSet
	if err := pb.Unmarshal(b); err != nil {
		t.Fatal(err)
	}
	for i, v := range append(pb.Validators, pb.Proposer) {
		if v.PubKeyType != ed25519.KeyType || v.PubKey == nil || !bytes.Equal(v.PubKey.GetEd25519(), v.PubKeyBytes) { //nolint:staticcheck // v0.38's form
			t.Fatalf("validator #%d: type %q, typed key %X, pub_key %v: want both forms of one Ed25519 key", i, v.PubKeyType, v.PubKeyBytes, v.PubKey) //nolint:staticcheck // v0.38's form
		}
	}
	comet, err := types.ValidatorSetFromProto(&pb)
	if err != nil {
		t.Fatalf("CometBFT v1 reads it: %v", err)
	}
	if !bytes.Equal(comet.Hash(), set.Hash()) {
		t.Fatalf("CometBFT v1 reads hash %X, want %X", comet.Hash(), set.Hash())
	}
	// A v0.38 reader does not know fields 5 and 6 (pub_key_bytes,
	// pub_key_type): it sees pub_key alone.
	for _, v := range append(pb.Validators, pb.Proposer) {
		v.PubKeyType, v.PubKeyBytes = "", nil
	}
	old, err := light.NewValidatorSet(&pb)
	if err != nil {
		t.Fatalf("pub_key alone: %v", err)
	}
	if !bytes.Equal(old.Hash(), set.Hash()) {
		t.Fatalf("pub_key alone: hash %X, want %X", old.Hash(), set.Hash())
	}
}
