package light_test

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	cmtmath "github.com/cometbft/cometbft/libs/math"
	cmtlight "github.com/cometbft/cometbft/light"
	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"
	"github.com/cometbft/cometbft/types"

	"github.com/medid/medid/registry/ledger/light"
)

// verdict is the class of a verification's outcome: what a light client
// branches on.
type verdict string

const (
	vOK          verdict = "ok"
	vCannotTrust verdict = "cannot-trust" // bisect
	vExpired     verdict = "expired"
	vInvalid     verdict = "invalid"
)

const trustingPeriod = 14 * 24 * time.Hour

// cometVerdict runs CometBFT's own decoding and light.Verify on the same
// protobuf messages.
func cometVerdict(chainID string, trusted block, shp *cmtproto.SignedHeader, vsp *cmtproto.ValidatorSet, now time.Time) (v verdict, decoded bool) {
	defer func() {
		if r := recover(); r != nil {
			v, decoded = vInvalid, false
		}
	}()
	sh, err := types.SignedHeaderFromProto(shp)
	if err != nil {
		return vInvalid, false
	}
	vals, err := types.ValidatorSetFromProto(vsp)
	if err != nil {
		return vInvalid, false
	}
	if sh.Header == nil || sh.Commit == nil || sh.ChainID != chainID {
		return vInvalid, false
	}
	err = cmtlight.Verify(trusted.sh, trusted.vals, sh, vals, trustingPeriod, now, 10*time.Second, cmtmath.Fraction{Numerator: 1, Denominator: 3})
	switch err.(type) {
	case nil:
		return vOK, true
	case cmtlight.ErrNewValSetCantBeTrusted:
		return vCannotTrust, true
	case cmtlight.ErrOldHeaderExpired:
		return vExpired, true
	}
	return vInvalid, true
}

func ourVerdict(t testing.TB, chainID string, trusted *light.LightBlock, shp *cmtproto.SignedHeader, vsp *cmtproto.ValidatorSet, now time.Time) verdict {
	sh, err := shp.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	vs, err := vsp.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	lb, err := light.DecodeLightBlock(sh, vs, chainID)
	if err != nil {
		if !errors.Is(err, light.ErrInvalid) {
			t.Fatalf("a decoding error does not wrap ErrInvalid: %v", err)
		}
		return vInvalid
	}
	return classify(light.Verify(trusted, lb, light.Options{TrustingPeriod: trustingPeriod}, now))
}

func classify(err error) verdict {
	switch {
	case err == nil:
		return vOK
	case errors.Is(err, light.ErrCannotTrust):
		return vCannotTrust
	case errors.Is(err, light.ErrExpired):
		return vExpired
	}
	return vInvalid
}

// protoOf returns fresh protobuf copies of a block to mutate.
func protoOf(t testing.TB, b block) (*cmtproto.SignedHeader, *cmtproto.ValidatorSet) {
	t.Helper()
	shb, vsb := encode(t, b)
	var shp cmtproto.SignedHeader
	var vsp cmtproto.ValidatorSet
	if err := shp.Unmarshal(shb); err != nil {
		t.Fatal(err)
	}
	if err := vsp.Unmarshal(vsb); err != nil {
		t.Fatal(err)
	}
	return &shp, &vsp
}

// testChain: four validators a-d (power 10) until height 5, then e joins
// (6-9: a-e), then b and c leave and f, g join with more power (10-14:
// a, d, e, f, g), then everyone but a is replaced (15-19).
func testChain(t testing.TB) *chain {
	k := keyring{}
	s1 := k.set(member{"a", 10}, member{"b", 10}, member{"c", 10}, member{"d", 10})
	s2 := k.set(member{"a", 10}, member{"b", 10}, member{"c", 10}, member{"d", 10}, member{"e", 10})
	s3 := k.set(member{"a", 10}, member{"d", 10}, member{"e", 10}, member{"f", 20}, member{"g", 20})
	s4 := k.set(member{"a", 10}, member{"h", 30}, member{"i", 30}, member{"j", 30})
	sets := []*types.ValidatorSet{nil}
	for h := 1; h < 20; h++ {
		switch {
		case h <= 5:
			sets = append(sets, s1)
		case h <= 9:
			sets = append(sets, s2)
		case h <= 14:
			sets = append(sets, s3)
		default:
			sets = append(sets, s4)
		}
	}
	c := &chain{id: "medid-light", genesis: time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC), keys: k, blocks: map[int64]block{}}
	return c.extend(t, sets, func(h int64, vals *types.ValidatorSet) []int {
		if h == 7 { // only just over 2/3 of a-e (4 of 5)
			return []int{0, 1, 2, 3}
		}
		return nil
	})
}

// TestHashesMatchCometBFT: header hash, validator set hash and vote sign
// bytes are CometBFT's, on every block of the test chain.
func TestHashesMatchCometBFT(t *testing.T) {
	c := testChain(t)
	for h := int64(1); h < 20; h++ {
		b := c.blocks[h]
		lb := ours(t, c.id, b)
		if got, want := lb.Hash(), b.sh.Hash(); !bytes.Equal(got, want) {
			t.Errorf("height %d: HeaderHash %X, CometBFT %X", h, got, want)
		}
		if got, want := lb.Validators.Hash(), b.vals.Hash(); !bytes.Equal(got, want) {
			t.Errorf("height %d: validator set hash %X, CometBFT %X", h, got, want)
		}
		if lb.Validators.TotalPower() != b.vals.TotalVotingPower() {
			t.Errorf("height %d: total power %d, CometBFT %d", h, lb.Validators.TotalPower(), b.vals.TotalVotingPower())
		}
		for i := range b.sh.Commit.Signatures {
			if b.sh.Commit.Signatures[i].BlockIDFlag != types.BlockIDFlagCommit {
				continue
			}
			got, err := light.VoteSignBytes(c.id, lb.Commit, i)
			if err != nil {
				t.Fatal(err)
			}
			if want := b.sh.Commit.VoteSignBytes(c.id, int32(i)); !bytes.Equal(got, want) {
				t.Errorf("height %d sig %d: vote sign bytes differ", h, i)
			}
		}
	}
	// A header with empty fields (zero height, no chain id) hashes as CometBFT's does.
	hd := *c.blocks[3].sh.Header
	hd.ChainID, hd.AppHash, hd.LastResultsHash, hd.EvidenceHash = "", nil, nil, nil
	hp := hd.ToProto()
	if got, want := light.HeaderHash(hp), hd.Hash(); !bytes.Equal(got, want) {
		t.Errorf("sparse header: HeaderHash %X, CometBFT %X", got, want)
	}
	hd.ValidatorsHash = nil
	if got := light.HeaderHash(hd.ToProto()); got != nil {
		t.Errorf("a header without validators hash hashed to %X, CometBFT: nil", got)
	}
}

// mutation changes the untrusted block's protobuf messages.
type mutation struct {
	name string
	f    func(sh *cmtproto.SignedHeader, vs *cmtproto.ValidatorSet)
}

var mutations = []mutation{
	{"none", func(*cmtproto.SignedHeader, *cmtproto.ValidatorSet) {}},
	{"first signature flipped", func(sh *cmtproto.SignedHeader, _ *cmtproto.ValidatorSet) { firstSig(sh).Signature[0] ^= 1 }},
	{"last signature flipped", func(sh *cmtproto.SignedHeader, _ *cmtproto.ValidatorSet) {
		s := sh.Commit.Signatures
		for i := len(s) - 1; i >= 0; i-- {
			if s[i].BlockIdFlag == cmtproto.BlockIDFlagCommit {
				s[i].Signature[5] ^= 0x80
				return
			}
		}
	}},
	{"signature truncated", func(sh *cmtproto.SignedHeader, _ *cmtproto.ValidatorSet) {
		firstSig(sh).Signature = firstSig(sh).Signature[:63]
	}},
	{"all but one absent", func(sh *cmtproto.SignedHeader, _ *cmtproto.ValidatorSet) {
		for i := 1; i < len(sh.Commit.Signatures); i++ {
			sh.Commit.Signatures[i] = cmtproto.CommitSig{BlockIdFlag: cmtproto.BlockIDFlagAbsent}
		}
	}},
	{"half absent", func(sh *cmtproto.SignedHeader, _ *cmtproto.ValidatorSet) {
		for i := 0; i < len(sh.Commit.Signatures); i += 2 {
			sh.Commit.Signatures[i] = cmtproto.CommitSig{BlockIdFlag: cmtproto.BlockIDFlagAbsent}
		}
	}},
	{"votes for nil", func(sh *cmtproto.SignedHeader, _ *cmtproto.ValidatorSet) {
		for i := range sh.Commit.Signatures {
			if sh.Commit.Signatures[i].BlockIdFlag == cmtproto.BlockIDFlagCommit && i%2 == 1 {
				sh.Commit.Signatures[i].BlockIdFlag = cmtproto.BlockIDFlagNil
			}
		}
	}},
	{"app hash changed", func(sh *cmtproto.SignedHeader, _ *cmtproto.ValidatorSet) { sh.Header.AppHash[0] ^= 1 }},
	{"app hash changed and block id follows", func(sh *cmtproto.SignedHeader, _ *cmtproto.ValidatorSet) {
		sh.Header.AppHash[0] ^= 1
		sh.Commit.BlockID.Hash = light.HeaderHash(sh.Header)
	}},
	{"other chain", func(sh *cmtproto.SignedHeader, _ *cmtproto.ValidatorSet) { sh.Header.ChainID = "other" }},
	{"commit height differs", func(sh *cmtproto.SignedHeader, _ *cmtproto.ValidatorSet) { sh.Commit.Height++ }},
	{"time before trusted", func(sh *cmtproto.SignedHeader, _ *cmtproto.ValidatorSet) {
		sh.Header.Time = sh.Header.Time.Add(-time.Hour)
		sh.Commit.BlockID.Hash = light.HeaderHash(sh.Header)
	}},
	{"time in the future", func(sh *cmtproto.SignedHeader, _ *cmtproto.ValidatorSet) {
		sh.Header.Time = sh.Header.Time.Add(400 * 24 * time.Hour)
		sh.Commit.BlockID.Hash = light.HeaderHash(sh.Header)
	}},
	{"validator power changed", func(_ *cmtproto.SignedHeader, vs *cmtproto.ValidatorSet) { vs.Validators[0].VotingPower++ }},
	{"validator dropped", func(_ *cmtproto.SignedHeader, vs *cmtproto.ValidatorSet) { vs.Validators = vs.Validators[1:] }},
	{"validators swapped", func(_ *cmtproto.SignedHeader, vs *cmtproto.ValidatorSet) {
		vs.Validators[0], vs.Validators[1] = vs.Validators[1], vs.Validators[0]
	}},
	{"signatures swapped", func(sh *cmtproto.SignedHeader, _ *cmtproto.ValidatorSet) {
		s := sh.Commit.Signatures
		s[0], s[1] = s[1], s[0]
	}},
	{"duplicate signer", func(sh *cmtproto.SignedHeader, _ *cmtproto.ValidatorSet) {
		s := sh.Commit.Signatures
		s[1] = s[0]
	}},
	{"proposer missing", func(_ *cmtproto.SignedHeader, vs *cmtproto.ValidatorSet) { vs.Proposer = nil }},
	{"negative power", func(_ *cmtproto.SignedHeader, vs *cmtproto.ValidatorSet) { vs.Validators[2].VotingPower = -5 }},
	{"huge power", func(_ *cmtproto.SignedHeader, vs *cmtproto.ValidatorSet) {
		vs.Validators[0].VotingPower = light.MaxTotalVotingPower
	}},
	{"address not the key's", func(_ *cmtproto.SignedHeader, vs *cmtproto.ValidatorSet) {
		vs.Validators[1].Address = vs.Validators[0].Address
	}},
	{"block protocol", func(sh *cmtproto.SignedHeader, _ *cmtproto.ValidatorSet) { sh.Header.Version.Block = 10 }},
	{"short data hash", func(sh *cmtproto.SignedHeader, _ *cmtproto.ValidatorSet) {
		sh.Header.DataHash = sh.Header.DataHash[:31]
	}},
	{"absent vote with address", func(sh *cmtproto.SignedHeader, _ *cmtproto.ValidatorSet) {
		sh.Commit.Signatures[0] = cmtproto.CommitSig{BlockIdFlag: cmtproto.BlockIDFlagAbsent, ValidatorAddress: make([]byte, 20)}
	}},
	{"unknown flag", func(sh *cmtproto.SignedHeader, _ *cmtproto.ValidatorSet) { sh.Commit.Signatures[0].BlockIdFlag = 7 }},
	{"round changed", func(sh *cmtproto.SignedHeader, _ *cmtproto.ValidatorSet) { sh.Commit.Round++ }},
	{"part set header changed", func(sh *cmtproto.SignedHeader, _ *cmtproto.ValidatorSet) { sh.Commit.BlockID.PartSetHeader.Total++ }},
}

func firstSig(sh *cmtproto.SignedHeader) *cmtproto.CommitSig {
	for i := range sh.Commit.Signatures {
		if sh.Commit.Signatures[i].BlockIdFlag == cmtproto.BlockIDFlagCommit {
			return &sh.Commit.Signatures[i]
		}
	}
	return &sh.Commit.Signatures[0]
}

// TestVerdictsMatchCometBFT: from every trusted height to every later one
// of the test chain (adjacent, skipping within a set, across one and
// several set changes, where 1/3 of the trusted set no longer signs), with
// every mutation, at a time within the trusting period and after it, this
// package and CometBFT's light.Verify reach the same verdict.
func TestVerdictsMatchCometBFT(t *testing.T) {
	c := testChain(t)
	nowIn := c.genesis.Add(time.Hour)
	nowLate := c.genesis.Add(trustingPeriod + time.Hour)
	counts := map[verdict]int{}
	for from := int64(1); from < 19; from++ {
		trusted := ours(t, c.id, c.blocks[from])
		for to := from + 1; to < 20; to++ {
			for _, m := range mutations {
				for _, now := range []time.Time{nowIn, nowLate} {
					shp, vsp := protoOf(t, c.blocks[to])
					m.f(shp, vsp)
					want, decoded := cometVerdict(c.id, c.blocks[from], shp, vsp, now)
					got := ourVerdict(t, c.id, trusted, shp, vsp, now)
					counts[want]++
					if !same(got, want, decoded) {
						t.Errorf("%d -> %d, %s, now=%s: ours %s, CometBFT %s", from, to, m.name, now.Format(time.DateOnly), got, want)
					}
				}
			}
		}
	}
	for _, v := range []verdict{vOK, vCannotTrust, vExpired, vInvalid} {
		if counts[v] == 0 {
			t.Errorf("no case ended %s: the test chain does not exercise it", v)
		}
	}
	t.Logf("verdicts compared: %v", counts)
}

// same compares verdicts: success exactly, the class of a failure when
// CometBFT decoded the block (it checks expiry before the header's
// structure, so a malformed header past the trusting period is "expired"
// there and "invalid" here: both refuse it).
func same(got, want verdict, decoded bool) bool {
	if (got == vOK) != (want == vOK) {
		return false
	}
	if !decoded || want == vExpired || got == vExpired {
		return true
	}
	return got == want
}

// TestCommitChecksMatchCometBFT: VerifyCommitLight and
// VerifyCommitLightTrusting alone, at trust levels 1/3, 1/2, 2/3 and 1,
// on every block, mutated, against every set.
func TestCommitChecksMatchCometBFT(t *testing.T) {
	c := testChain(t)
	sets := map[string]*types.ValidatorSet{}
	for h := int64(1); h < 20; h++ {
		sets[fmt.Sprintf("%X", c.blocks[h].vals.Hash())] = c.blocks[h].vals
	}
	levels := []cmtmath.Fraction{{Numerator: 1, Denominator: 3}, {Numerator: 1, Denominator: 2}, {Numerator: 2, Denominator: 3}, {Numerator: 1, Denominator: 1}}
	for h := int64(1); h < 20; h++ {
		for _, m := range mutations {
			shp, vsp := protoOf(t, c.blocks[h])
			m.f(shp, vsp)
			sh, err := types.SignedHeaderFromProto(shp)
			if err != nil || sh.Commit == nil {
				continue // structural: compared in TestVerdictsMatchCometBFT
			}
			ourCommit := shp.Commit
			for _, vals := range sets {
				vp, _ := vals.ToProto()
				ov, err := light.NewValidatorSet(vp)
				if err != nil {
					t.Fatal(err)
				}
				want := vals.VerifyCommitLight(c.id, sh.Commit.BlockID, h, sh.Commit) == nil
				bid := ourCommit.BlockID
				got := light.VerifyCommitLight(c.id, ov, &bid, h, ourCommit) == nil
				if got != want {
					t.Errorf("VerifyCommitLight height %d %s: ours %v, CometBFT %v", h, m.name, got, want)
				}
				for _, lvl := range levels {
					errW := vals.VerifyCommitLightTrusting(c.id, sh.Commit, lvl)
					errG := light.VerifyCommitLightTrusting(c.id, ov, ourCommit, light.Fraction{Numerator: lvl.Numerator, Denominator: lvl.Denominator})
					_, wantShort := errW.(types.ErrNotEnoughVotingPowerSigned)
					if (errG == nil) != (errW == nil) || errors.Is(errG, light.ErrNotEnoughPower) != wantShort {
						t.Errorf("VerifyCommitLightTrusting %d/%d height %d %s: ours %v, CometBFT %v", lvl.Numerator, lvl.Denominator, h, m.name, errG, errW)
					}
				}
			}
		}
	}
}
