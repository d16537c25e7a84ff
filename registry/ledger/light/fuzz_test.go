package light_test

import (
	"testing"
	"time"

	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"

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
			if v != nil && v.PubKey.GetEd25519() == nil {
				// Another key type: CometBFT may accept it, this package
				// refuses every non-Ed25519 set by design.
				if got == vOK {
					t.Fatal("a set with a non-Ed25519 key verified")
				}
				return
			}
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
