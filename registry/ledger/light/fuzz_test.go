package light_test

import (
	"bytes"
	"testing"
	"time"

	cmtproto "github.com/cometbft/cometbft/api/cometbft/types/v1"

	"github.com/medid/medid/registry/ledger/light"
)

// FuzzVerifyMatchesCometBFT: for any bytes offered as the signed header
// and validator set of a block of the test chain, verified from any
// trusted block of it, this package never panics, and reaches CometBFT's
// verdict whenever CometBFT can read the bytes (see same). The seeds are
// real blocks: adjacent, skipping, across validator-set changes.
func FuzzVerifyMatchesCometBFT(f *testing.F) {
	c := testChain(f)
	for _, p := range [][2]int64{{1, 2}, {1, 5}, {3, 8}, {5, 11}, {1, 16}, {9, 10}, {12, 19}} {
		sh, vs := encode(f, c.blocks[p[1]])
		f.Add(uint8(p[0]), sh, vs, false)
	}
	trusted := map[int64]*light.LightBlock{}
	for h := int64(1); h < 20; h++ {
		trusted[h] = ours(f, c.id, c.blocks[h])
	}
	f.Fuzz(func(t *testing.T, from uint8, sh, vs []byte, late bool) {
		h := int64(from)%19 + 1
		now := c.genesis.Add(time.Hour)
		if late {
			now = c.genesis.Add(trustingPeriod + time.Hour)
		}
		lb, err := light.DecodeLightBlock(sh, vs, c.id)
		var got verdict
		if err != nil {
			got = vInvalid
		} else {
			got = classify(light.Verify(trusted[h], lb, light.Options{TrustingPeriod: trustingPeriod}, now))
		}
		var shp cmtproto.SignedHeader
		var vsp cmtproto.ValidatorSet
		if shp.Unmarshal(sh) != nil || vsp.Unmarshal(vs) != nil {
			if got != vInvalid {
				t.Fatalf("bytes protobuf cannot read verified: %s", got)
			}
			return
		}
		for _, v := range vsp.Validators {
			if v != nil && !isEd25519(v) {
				// Another key type: CometBFT may accept it, this package
				// refuses every non-Ed25519 set by design.
				if got == vOK {
					t.Fatal("a set with a non-Ed25519 key verified")
				}
				return
			}
		}
		if namesAnotherValidator(&shp, &vsp) {
			// CometBFT v1 no longer checks that a commit signature names the
			// validator at its index (v0.38 did; the signature is checked
			// against that validator's key either way, and an honest
			// commit never differs): this package keeps v0.38's check.
			if got == vOK {
				t.Fatal("a commit whose signature names another validator than the one at its index verified")
			}
			return
		}
		want, decoded := cometVerdict(c.id, c.blocks[h], &shp, &vsp, now)
		if !same(got, want, decoded) {
			t.Fatalf("from %d: ours %s, CometBFT %s", h, got, want)
		}
	})
}

// FuzzDecodeLightBlock: decoding arbitrary bytes never panics, and what
// decodes encodes back to bytes that decode to the same header hash.
func FuzzDecodeLightBlock(f *testing.F) {
	c := testChain(f)
	sh, vs := encode(f, c.blocks[6])
	f.Add(sh, vs)
	f.Add([]byte{}, []byte{})
	f.Fuzz(func(t *testing.T, sh, vs []byte) {
		lb, err := light.DecodeLightBlock(sh, vs, c.id)
		if err != nil {
			return
		}
		sh2, vs2, err := lb.Encode()
		if err != nil {
			t.Fatal(err)
		}
		lb2, err := light.DecodeLightBlock(sh2, vs2, c.id)
		if err != nil {
			t.Fatalf("re-encoded block does not decode: %v", err)
		}
		if string(lb2.Hash()) != string(lb.Hash()) || string(lb2.Validators.Hash()) != string(lb.Validators.Hash()) {
			t.Fatal("re-encoded block hashes differently")
		}
	})
}

// isEd25519 reports whether v carries its key in a form this package
// accepts: an Ed25519 key as v1's pub_key_type and pub_key_bytes, as
// v0.38's pub_key, or as both naming the same key. CometBFT v1 is looser
// (it falls back to pub_key when the typed form does not decode, and
// ignores pub_key when it does); such sets must not verify here.
func isEd25519(v *cmtproto.Validator) bool {
	var legacy []byte
	if v.PubKey != nil { //nolint:staticcheck // v0.38's form
		legacy = v.PubKey.GetEd25519() //nolint:staticcheck // v0.38's form
		if legacy == nil {
			return false
		}
	}
	if v.PubKeyType != "" || len(v.PubKeyBytes) > 0 {
		return v.PubKeyType == "ed25519" && (v.PubKey == nil || bytes.Equal(legacy, v.PubKeyBytes)) //nolint:staticcheck // v0.38's form
	}
	return v.PubKey != nil //nolint:staticcheck // v0.38's form
}

// namesAnotherValidator reports whether the commit carries, at some index,
// a signature (not absent) naming another address than the validator at
// that index of vs, while commit and set correspond one to one (as
// CometBFT checks a commit against its own block's set).
func namesAnotherValidator(sh *cmtproto.SignedHeader, vs *cmtproto.ValidatorSet) bool {
	if sh.Commit == nil || len(sh.Commit.Signatures) != len(vs.Validators) {
		return false
	}
	for i, cs := range sh.Commit.Signatures {
		v := vs.Validators[i]
		if cs.BlockIdFlag != cmtproto.BlockIDFlagAbsent && v != nil && !bytes.Equal(cs.ValidatorAddress, v.Address) {
			return true
		}
	}
	return false
}
