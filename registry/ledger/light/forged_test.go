package light_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/cometbft/cometbft/types"

	"github.com/medid/medid/registry/ledger/light"
)

// servedChain is a light client's Source: whatever chain the server chose
// to serve, decoded by this package.
type servedChain struct {
	t      testing.TB
	c      *chain
	latest int64
}

func (s *servedChain) LightBlock(_ context.Context, h int64) (*light.LightBlock, error) {
	if h == 0 {
		h = s.latest
	}
	b, ok := s.c.blocks[h]
	if !ok {
		return nil, fmt.Errorf("no block %d", h)
	}
	return ours(s.t, s.c.id, b), nil
}

// TestForgedValidatorSetFromServer is the attack of the server a light
// client asks (GET /1.0/light/{height}): it serves a chain of its own,
// same chain id, every header well formed and signed by the validator set
// the header names, so each block is consistent with itself. Nothing the
// client trusts (the genesis validators, or a block it verified) signed
// it with more than a third of its power, and the client refuses the
// forged head, every block the bisection asks the server for on the way,
// and trusts nothing new. The honest chain, with its real set changes,
// verifies through the same code (so the refusals are not a client that
// refuses everything).
func TestForgedValidatorSetFromServer(t *testing.T) {
	honest := testChain(t)
	vp, err := honest.blocks[1].vals.ToProto()
	if err != nil {
		t.Fatal(err)
	}
	genesisVals, err := light.NewValidatorSet(vp)
	if err != nil {
		t.Fatal(err)
	}
	root := &light.Root{ChainID: honest.id, InitialHeight: 1, GenesisTime: honest.genesis, Validators: genesisVals}
	now := honest.genesis.Add(time.Hour)
	forge := func(signers func(h int64, vals *types.ValidatorSet) []int, members ...member) *chain {
		k := keyring{} // keys derive from names: "a" is the honest validator a's key
		set := k.set(members...)
		sets := []*types.ValidatorSet{nil}
		for range 19 {
			sets = append(sets, set)
		}
		return (&chain{id: honest.id, genesis: honest.genesis, keys: k, blocks: map[int64]block{}}).extend(t, sets, signers)
	}
	everyone := func(int64, *types.ValidatorSet) []int { return nil }
	onlyA := func(_ int64, vals *types.ValidatorSet) []int {
		for i, v := range vals.Validators {
			if v.PubKey.Equals(keyring{}.key("a").PubKey()) {
				return []int{i}
			}
		}
		t.Fatal("a is not in the set")
		return nil
	}
	for _, tc := range []struct {
		name    string
		served  *chain
		trusted int64 // an honest block the client verified first (0: the genesis only)
	}{
		{"the server's own validator set", forge(everyone, member{"m1", 10}, member{"m2", 10}, member{"m3", 10}, member{"m4", 10}), 0},
		{"one genesis validator's key and the server's", forge(everyone, member{"a", 10}, member{"m1", 10}, member{"m2", 10}, member{"m3", 10}), 0},
		{"the genesis set named, one of its keys signing", forge(onlyA, member{"a", 10}, member{"b", 10}, member{"c", 10}, member{"d", 10}), 0},
		{"the server's set above a block the client trusts", forge(everyone, member{"m1", 10}, member{"m2", 10}, member{"m3", 10}, member{"m4", 10}), 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := &servedChain{t: t, c: honest, latest: 19}
			lc, err := light.NewClient(light.Config{Root: root, Source: src, Now: func() time.Time { return now }})
			if err != nil {
				t.Fatal(err)
			}
			if tc.trusted > 0 {
				if err := lc.VerifyLightBlock(context.Background(), ours(t, honest.id, honest.blocks[tc.trusted])); err != nil {
					t.Fatalf("honest block %d: %v", tc.trusted, err)
				}
			}
			before := lc.Trusted()
			src.c = tc.served
			head := ours(t, tc.served.id, tc.served.blocks[19])
			err = lc.VerifyLightBlock(context.Background(), head)
			if err == nil {
				t.Fatal("the forged head verified")
			}
			if !errors.Is(err, light.ErrCannotTrust) && !errors.Is(err, light.ErrBadHeader) && !errors.Is(err, light.ErrInvalid) {
				t.Fatalf("the forged head: %v, want a verification refusal", err)
			}
			if _, err := lc.Update(context.Background()); err == nil {
				t.Fatal("Update took the forged head")
			}
			if got := lc.Trusted(); got != before {
				t.Fatalf("the client trusts block %d after the forged chain, it trusted %d before", heightOf(got), heightOf(before))
			}
		})
	}

	// Control: the honest chain's head (three set changes, the last
	// keeping only a) verifies through the same client, by bisection.
	lc, err := light.NewClient(light.Config{Root: root, Source: &servedChain{t: t, c: honest, latest: 19}, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lc.Update(context.Background()); err != nil {
		t.Fatalf("the honest head: %v", err)
	}
}

func heightOf(lb *light.LightBlock) int64 {
	if lb == nil {
		return 0
	}
	return lb.Height()
}
