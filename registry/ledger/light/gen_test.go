package light_test

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"github.com/cometbft/cometbft/crypto"
	"github.com/cometbft/cometbft/crypto/ed25519"
	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"
	cmtversion "github.com/cometbft/cometbft/proto/tendermint/version"
	"github.com/cometbft/cometbft/types"

	"github.com/medid/medid/registry/ledger/light"
)

// keyring makes deterministic validator keys.
type keyring map[string]ed25519.PrivKey

func (k keyring) key(name string) ed25519.PrivKey {
	if pk, ok := k[name]; ok {
		return pk
	}
	pk := ed25519.GenPrivKeyFromSecret([]byte("light-test-" + name))
	k[name] = pk
	return pk
}

// member is one validator of a generated set.
type member struct {
	name  string
	power int64
}

func (k keyring) set(ms ...member) *types.ValidatorSet {
	vals := make([]*types.Validator, len(ms))
	for i, m := range ms {
		vals[i] = types.NewValidator(k.key(m.name).PubKey(), m.power)
	}
	return types.NewValidatorSet(vals)
}

func hash32(parts ...any) []byte {
	h := sha256.Sum256([]byte(fmt.Sprint(parts...)))
	return h[:]
}

// block is one generated block of a chain: CometBFT's own types.
type block struct {
	sh   *types.SignedHeader
	vals *types.ValidatorSet
}

// chain generates a chain whose validator set at each height is sets[h]
// (heights 1..len(sets)-1 are used), every block signed by signers(h) of
// its own set (nil: everyone), with real header hashes linking the blocks.
type chain struct {
	id      string
	genesis time.Time
	keys    keyring
	blocks  map[int64]block
}

func newChain(t testing.TB, id string, sets []*types.ValidatorSet, signers func(h int64, vals *types.ValidatorSet) []int) *chain {
	t.Helper()
	c := &chain{id: id, genesis: time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC), keys: keyring{}, blocks: map[int64]block{}}
	return c.extend(t, sets, signers)
}

func (c *chain) extend(t testing.TB, sets []*types.ValidatorSet, signers func(h int64, vals *types.ValidatorSet) []int) *chain {
	var last types.BlockID
	for h := int64(1); h < int64(len(sets)); h++ {
		vals := sets[h]
		next := vals
		if h+1 < int64(len(sets)) {
			next = sets[h+1]
		}
		hd := &types.Header{
			Version:            cmtversion.Consensus{Block: 11, App: 1},
			ChainID:            c.id,
			Height:             h,
			Time:               c.genesis.Add(time.Duration(h-1) * time.Second),
			LastBlockID:        last,
			LastCommitHash:     hash32("lc", h),
			DataHash:           hash32("data", h),
			ValidatorsHash:     vals.Hash(),
			NextValidatorsHash: next.Hash(),
			ConsensusHash:      hash32("cons"),
			AppHash:            hash32("app", h),
			LastResultsHash:    hash32("res", h),
			EvidenceHash:       hash32("ev", h),
			ProposerAddress:    vals.Validators[0].Address,
		}
		if h == 1 {
			hd.LastBlockID = types.BlockID{}
		}
		bid := types.BlockID{Hash: hd.Hash(), PartSetHeader: types.PartSetHeader{Total: 1, Hash: hash32("parts", h)}}
		who := signers(h, vals)
		if who == nil {
			who = make([]int, vals.Size())
			for i := range who {
				who[i] = i
			}
		}
		sigs := make([]types.CommitSig, vals.Size())
		for i := range sigs {
			sigs[i] = types.NewCommitSigAbsent()
		}
		commit := &types.Commit{Height: h, Round: int32(h % 3), BlockID: bid, Signatures: sigs}
		for _, i := range who {
			v := vals.Validators[i]
			pk := c.privFor(v.PubKey)
			ts := hd.Time.Add(time.Duration(i+1) * time.Millisecond)
			commit.Signatures[i] = types.CommitSig{BlockIDFlag: types.BlockIDFlagCommit, ValidatorAddress: v.Address, Timestamp: ts}
			sig, err := pk.Sign(commit.VoteSignBytes(c.id, int32(i)))
			if err != nil {
				t.Fatal(err)
			}
			commit.Signatures[i].Signature = sig
		}
		c.blocks[h] = block{sh: &types.SignedHeader{Header: hd, Commit: commit}, vals: vals}
		last = bid
	}
	return c
}

func (c *chain) privFor(pub crypto.PubKey) ed25519.PrivKey {
	for _, k := range c.keys {
		if k.PubKey().Equals(pub) {
			return k
		}
	}
	panic("no key for a validator")
}

// encode returns the protobuf encodings of a block.
func encode(t testing.TB, b block) (sh, vs []byte) {
	t.Helper()
	var err error
	if sh, err = b.sh.ToProto().Marshal(); err != nil {
		t.Fatal(err)
	}
	vp, err := b.vals.ToProto()
	if err != nil {
		t.Fatal(err)
	}
	if vs, err = vp.Marshal(); err != nil {
		t.Fatal(err)
	}
	return sh, vs
}

// ours decodes a block with this package.
func ours(t testing.TB, chainID string, b block) *light.LightBlock {
	t.Helper()
	sh, vs := encode(t, b)
	lb, err := light.DecodeLightBlock(sh, vs, chainID)
	if err != nil {
		t.Fatalf("DecodeLightBlock of a valid block %d: %v", b.sh.Height, err)
	}
	return lb
}

// seed returns deterministic bytes for fuzz mutations.
func seed(n uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], n)
	return b[:]
}

var _ = cmtproto.PrecommitType
