package light

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"
	cmtcrypto "github.com/cometbft/cometbft/proto/tendermint/crypto"
	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"
)

// Root is where trust starts for a client that has verified nothing yet:
// the chain's genesis validator set, genesis time and initial height, from
// the genesis file every member of the network holds. It stands for a
// trusted header just below the initial height whose next validators are
// the genesis set, and expires like one: TrustingPeriod after the genesis
// time. Past that, a client needs a recent trusted light block instead
// ([Config.Store], or [TrustedAt] with a height and hash an operator vouches
// for).
type Root struct {
	ChainID       string
	InitialHeight int64
	GenesisTime   time.Time
	Validators    *ValidatorSet
}

// RootFromGenesis reads a CometBFT genesis file (JSON): chain_id,
// genesis_time, initial_height and validators (Ed25519 keys only). The
// validators are ordered as CometBFT orders a set (power descending, then
// address ascending), so their hash is the first header's ValidatorsHash.
func RootFromGenesis(genesisJSON []byte) (*Root, error) {
	var g struct {
		GenesisTime   time.Time `json:"genesis_time"`
		ChainID       string    `json:"chain_id"`
		InitialHeight string    `json:"initial_height"`
		Validators    []struct {
			Address string `json:"address"`
			PubKey  struct {
				Type  string `json:"type"`
				Value string `json:"value"`
			} `json:"pub_key"`
			Power string `json:"power"`
		} `json:"validators"`
	}
	if err := json.Unmarshal(genesisJSON, &g); err != nil {
		return nil, fmt.Errorf("genesis: %w", err)
	}
	if g.ChainID == "" || len(g.ChainID) > MaxChainIDLen {
		return nil, fmt.Errorf("genesis: chain_id %.64q must be 1 to %d bytes", g.ChainID, MaxChainIDLen)
	}
	if g.GenesisTime.IsZero() {
		return nil, errors.New("genesis: genesis_time is missing")
	}
	initial := int64(1)
	if g.InitialHeight != "" {
		h, err := strconv.ParseInt(g.InitialHeight, 10, 64)
		if err != nil || h < 0 {
			return nil, fmt.Errorf("genesis: initial_height %.32q is not a height", g.InitialHeight)
		}
		initial = max(h, 1)
	}
	if len(g.Validators) == 0 {
		return nil, errors.New("genesis: no validators (a light client needs the genesis validator set)")
	}
	pb := &cmtproto.ValidatorSet{}
	for i, v := range g.Validators {
		if v.PubKey.Type != ed25519.PubKeyName {
			return nil, fmt.Errorf("genesis: validator #%d key type %.64q is not %s", i, v.PubKey.Type, ed25519.PubKeyName)
		}
		key, err := base64.StdEncoding.DecodeString(v.PubKey.Value)
		if err != nil || len(key) != ed25519.PubKeySize {
			return nil, fmt.Errorf("genesis: validator #%d key is not a base64 Ed25519 key", i)
		}
		power, err := strconv.ParseInt(v.Power, 10, 64)
		if err != nil || power <= 0 {
			return nil, fmt.Errorf("genesis: validator #%d power %.32q must be a positive integer", i, v.Power)
		}
		addr := ed25519.PubKey(key).Address()
		if v.Address != "" {
			if a, err := hex.DecodeString(v.Address); err != nil || !bytes.Equal(a, addr) {
				return nil, fmt.Errorf("genesis: validator #%d address %.64s is not derived from its key", i, v.Address)
			}
		}
		pb.Validators = append(pb.Validators, &cmtproto.Validator{Address: addr, VotingPower: power,
			PubKey: cmtcrypto.PublicKey{Sum: &cmtcrypto.PublicKey_Ed25519{Ed25519: key}}})
	}
	SortValidators(pb.Validators)
	pb.Proposer = pb.Validators[0]
	vs, err := NewValidatorSet(pb)
	if err != nil {
		return nil, fmt.Errorf("genesis: %w", err)
	}
	return &Root{ChainID: g.ChainID, InitialHeight: initial, GenesisTime: g.GenesisTime.UTC(), Validators: vs}, nil
}

// SortValidators orders vals as CometBFT orders a validator set: voting
// power descending, then address ascending.
func SortValidators(vals []*cmtproto.Validator) {
	slices.SortStableFunc(vals, func(a, b *cmtproto.Validator) int {
		if a.VotingPower != b.VotingPower {
			if a.VotingPower > b.VotingPower {
				return -1
			}
			return 1
		}
		return bytes.Compare(a.Address, b.Address)
	})
}

// Source fetches the light block (signed header and validator set) of a
// height from a node; height 0 asks for the latest. What it returns is
// untrusted: the client verifies it. The registry's HTTP client
// (registry/client) is one, over GET /1.0/light/{height}.
type Source interface {
	LightBlock(ctx context.Context, height int64) (*LightBlock, error)
}

// Store keeps the newest light block a client has verified, so a restart
// (or the next run of a command) continues from it instead of the genesis.
// Load returns nil and no error when nothing is stored yet.
type Store interface {
	Load() (*LightBlock, error)
	Save(*LightBlock) error
}

// Config configures [NewClient].
type Config struct {
	// Root is the genesis trust anchor. Required: it names the chain, and
	// it is the fallback when nothing newer is trusted.
	Root *Root
	// Source fetches the intermediate light blocks skipping verification
	// needs when too much of the validator set changed at once (bisection)
	// and the headers below the trusted ones when an older block must be
	// verified. nil: only what the caller hands in is verified.
	Source Source
	// Store persists the newest verified light block (nil: memory only).
	Store Store
	// Options are the security parameters (zero: CometBFT's defaults, a
	// trusting period of two weeks).
	Options Options
	// Now is the clock (nil: time.Now).
	Now func() time.Time
	// MaxBackwards bounds how many headers the client walks back through
	// to verify a block older than every block it trusts (0 = 1,000).
	MaxBackwards int
}

// Client verifies light blocks the way CometBFT's light client does and
// follows validator-set changes: every block it verifies becomes trusted,
// and the newest one is saved in the Store. Safe for concurrent use
// (verifications are serialised).
type Client struct {
	root     *Root
	src      Source
	store    Store
	opts     Options
	now      func() time.Time
	maxBack  int
	mu       sync.Mutex // guards trusted and saved
	trusted  []*LightBlock
	savedTop int64
}

// maxTrusted bounds how many verified light blocks a client remembers.
const maxTrusted = 128

// NewClient returns a client that trusts cfg.Root and, if cfg.Store holds
// one for the same chain, the light block stored there.
func NewClient(cfg Config) (*Client, error) {
	if cfg.Root == nil || cfg.Root.Validators == nil {
		return nil, errors.New("light.Config.Root is required (see RootFromGenesis)")
	}
	o, err := cfg.Options.withDefaults()
	if err != nil {
		return nil, err
	}
	c := &Client{root: cfg.Root, src: cfg.Source, store: cfg.Store, opts: o, now: cfg.Now, maxBack: cfg.MaxBackwards}
	if c.now == nil {
		c.now = time.Now
	}
	if c.maxBack <= 0 {
		c.maxBack = 1000
	}
	if c.store != nil {
		lb, err := c.store.Load()
		if err != nil {
			return nil, fmt.Errorf("load the trusted light block: %w", err)
		}
		if lb != nil {
			if lb.Header.ChainID != c.root.ChainID {
				return nil, fmt.Errorf("the stored trusted light block is for chain %q, not %q", lb.Header.ChainID, c.root.ChainID)
			}
			if !bytes.Equal(lb.Header.ValidatorsHash, lb.Validators.hash) {
				return nil, errors.New("the stored trusted light block's validator set does not match its header")
			}
			c.trusted = []*LightBlock{lb}
			c.savedTop = lb.Height()
		}
	}
	return c, nil
}

// TrustedAt makes a light block a client may start from out of a height
// and header hash the caller trusts (e.g. read off a node the operator
// runs, or published by the network's governance): it fetches the block
// from src and checks its hash, and that more than 2/3 of its own
// validators signed it. Save it in the client's Store before NewClient.
func TrustedAt(ctx context.Context, src Source, chainID string, height int64, hash []byte) (*LightBlock, error) {
	if height <= 0 || len(hash) != hashSize {
		return nil, fmt.Errorf("a trusted height must be positive and its hash %d bytes", hashSize)
	}
	lb, err := src.LightBlock(ctx, height)
	if err != nil {
		return nil, err
	}
	if lb.Header.ChainID != chainID || lb.Height() != height {
		return nil, fmt.Errorf("%w: the source answered for chain %q height %d", ErrBadHeader, lb.Header.ChainID, lb.Height())
	}
	if !bytes.Equal(lb.hash, hash) {
		return nil, fmt.Errorf("%w: header %d has hash %X, not the trusted %X", ErrBadHeader, height, lb.hash, hash)
	}
	if !bytes.Equal(lb.Header.ValidatorsHash, lb.Validators.hash) {
		return nil, fmt.Errorf("%w: the validator set does not match header %d", ErrBadHeader, height)
	}
	if err := VerifyCommitLight(chainID, lb.Validators, &lb.Commit.BlockID, height, lb.Commit); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadHeader, err)
	}
	return lb, nil
}

// ChainID is the chain the client follows.
func (c *Client) ChainID() string { return c.root.ChainID }

// Trusted returns the newest light block the client trusts, or nil when it
// trusts only the genesis root.
func (c *Client) Trusted() *LightBlock {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.trusted) == 0 {
		return nil
	}
	return c.trusted[len(c.trusted)-1]
}

// VerifyLightBlock establishes that lb is a block of the chain: from the
// newest trusted block below it (skipping verification, with bisection
// through the Source when too much of the set changed), from the trusted
// block just above it (walking the hash chain back through the Source), or
// from the genesis root. On success lb, and every block verified on the
// way, is trusted from then on and the newest is saved in the Store. The
// error wraps [ErrExpired], [ErrCannotTrust], [ErrBadHeader] or
// [ErrInvalid], or is the Source's.
func (c *Client) VerifyLightBlock(ctx context.Context, lb *LightBlock) error {
	if lb == nil {
		return fmt.Errorf("%w: nil light block", ErrInvalid)
	}
	if lb.Header.ChainID != c.root.ChainID {
		return fmt.Errorf("%w: header belongs to chain %.64q, not %q", ErrBadHeader, lb.Header.ChainID, c.root.ChainID)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	i, found := c.find(lb.Height())
	if found {
		t := c.trusted[i]
		if !bytes.Equal(t.hash, lb.hash) {
			return fmt.Errorf("%w: header %d has hash %X, the trusted header at that height is %X (a fork or a lying node)", ErrBadHeader, lb.Height(), lb.hash, t.hash)
		}
		if !bytes.Equal(lb.Header.ValidatorsHash, lb.Validators.hash) {
			return fmt.Errorf("%w: the validator set given for header %d does not match it", ErrBadHeader, lb.Height())
		}
		return nil
	}
	// i is where lb would go: trusted[i-1] is below it, trusted[i] above.
	var err error
	switch {
	case i > 0 && !expired(c.trusted[i-1].Time(), c.opts.TrustingPeriod, now):
		err = c.skipping(ctx, anchor{lb: c.trusted[i-1]}, lb, now)
	case i < len(c.trusted):
		err = c.backwards(ctx, c.trusted[i], lb)
	case i > 0:
		// Only expired blocks below: say so rather than fall back to
		// the (older still) genesis.
		t := c.trusted[i-1]
		err = fmt.Errorf("%w: the newest trusted header (%d, %s) is older than the trusting period %s: give the client a recent trusted height and hash",
			ErrExpired, t.Height(), t.Time().UTC().Format(time.RFC3339), c.opts.TrustingPeriod)
	default:
		err = c.skipping(ctx, anchor{root: c.root}, lb, now)
	}
	if err != nil {
		return err
	}
	return c.save()
}

// anchor is what verification starts from: a trusted light block, or the
// genesis root.
type anchor struct {
	lb   *LightBlock
	root *Root
}

func (a anchor) height() int64 {
	if a.lb != nil {
		return a.lb.Height()
	}
	return a.root.InitialHeight - 1
}

// step verifies target from a.
func (c *Client) step(a anchor, target *LightBlock, now time.Time) error {
	if a.lb != nil {
		return Verify(a.lb, target, c.opts, now)
	}
	r := a.root
	if expired(r.GenesisTime, c.opts.TrustingPeriod, now) {
		return fmt.Errorf("%w: the genesis (%s) is older than the trusting period %s: give the client a recent trusted height and hash",
			ErrExpired, r.GenesisTime.Format(time.RFC3339), c.opts.TrustingPeriod)
	}
	if target.Height() < r.InitialHeight {
		return fmt.Errorf("%w: height %d is below the initial height %d", ErrBadHeader, target.Height(), r.InitialHeight)
	}
	// The first block carries the genesis time itself.
	if target.Time().Before(r.GenesisTime) {
		return fmt.Errorf("%w: time %s is before the genesis time %s", ErrBadHeader, target.Time(), r.GenesisTime)
	}
	if !target.Time().Before(now.Add(c.opts.MaxClockDrift)) {
		return fmt.Errorf("%w: time %s is in the future (now %s)", ErrBadHeader, target.Time(), now)
	}
	if !bytes.Equal(target.Header.ValidatorsHash, target.Validators.hash) {
		return fmt.Errorf("%w: header %d names validators %X, the set given hashes to %X", ErrBadHeader, target.Height(), target.Header.ValidatorsHash, target.Validators.hash)
	}
	if target.Height() == r.InitialHeight {
		if !bytes.Equal(target.Validators.hash, r.Validators.hash) {
			return fmt.Errorf("%w: the first block's validators are not the genesis validators", ErrBadHeader)
		}
	} else if err := VerifyCommitLightTrusting(r.ChainID, r.Validators, target.Commit, c.opts.TrustLevel); err != nil {
		if errors.Is(err, ErrNotEnoughPower) {
			return fmt.Errorf("%w: %w", ErrCannotTrust, err)
		}
		return fmt.Errorf("%w: %w", ErrBadHeader, err)
	}
	if err := VerifyCommitLight(r.ChainID, target.Validators, &target.Commit.BlockID, target.Height(), target.Commit); err != nil {
		return fmt.Errorf("%w: %w", ErrBadHeader, err)
	}
	return nil
}

// skipping is CometBFT's verifySkipping: try target from the anchor; when
// the anchor's validators cannot vouch for it, fetch the block halfway and
// try that first.
func (c *Client) skipping(ctx context.Context, from anchor, target *LightBlock, now time.Time) error {
	verified := from
	cache := []*LightBlock{target}
	depth := 0
	for {
		err := c.step(verified, cache[depth], now)
		switch {
		case err == nil:
			c.add(cache[depth])
			if depth == 0 {
				return nil
			}
			verified = anchor{lb: cache[depth]}
			cache = cache[:depth]
			depth = 0
		case errors.Is(err, ErrCannotTrust):
			if depth == len(cache)-1 {
				lo, hi := verified.height(), cache[depth].Height()
				pivot := lo + (hi-lo)/2
				if c.src == nil || pivot <= lo || pivot >= hi {
					return err
				}
				mid, ferr := c.src.LightBlock(ctx, pivot)
				if ferr != nil {
					return fmt.Errorf("fetch light block %d to bisect: %w", pivot, ferr)
				}
				if mid.Height() != pivot {
					return fmt.Errorf("%w: asked for light block %d, got %d", ErrBadHeader, pivot, mid.Height())
				}
				cache = append(cache, mid)
			}
			depth++
		default:
			return err
		}
	}
}

// backwards verifies target, below the trusted block above, through the
// hash chain of the headers between them.
func (c *Client) backwards(ctx context.Context, above, target *LightBlock) error {
	if n := above.Height() - target.Height(); n > int64(c.maxBack) {
		return fmt.Errorf("%w: header %d is %d blocks below the oldest trusted one; the client walks back at most %d", ErrBadHeader, target.Height(), n, c.maxBack)
	}
	cur := above.SignedHeader
	for h := above.Height() - 1; h > target.Height(); h-- {
		if c.src == nil {
			return fmt.Errorf("%w: header %d is below every trusted header and the client has no source to walk back", ErrBadHeader, target.Height())
		}
		lb, err := c.src.LightBlock(ctx, h)
		if err != nil {
			return fmt.Errorf("fetch light block %d: %w", h, err)
		}
		if lb.Height() != h {
			return fmt.Errorf("%w: asked for light block %d, got %d", ErrBadHeader, h, lb.Height())
		}
		if err := VerifyBackwards(lb.SignedHeader, cur); err != nil {
			return err
		}
		cur = lb.SignedHeader
	}
	if err := VerifyBackwards(target.SignedHeader, cur); err != nil {
		return err
	}
	if !bytes.Equal(target.Header.ValidatorsHash, target.Validators.hash) {
		return fmt.Errorf("%w: the validator set given for header %d does not match it", ErrBadHeader, target.Height())
	}
	c.add(target)
	return nil
}

// find returns the index of height in trusted and whether it is there
// (else where it would be inserted).
func (c *Client) find(height int64) (int, bool) {
	return slices.BinarySearchFunc(c.trusted, height, func(lb *LightBlock, h int64) int {
		switch {
		case lb.Height() < h:
			return -1
		case lb.Height() > h:
			return 1
		}
		return 0
	})
}

// add trusts lb, dropping the oldest block beyond maxTrusted.
func (c *Client) add(lb *LightBlock) {
	i, found := c.find(lb.Height())
	if found {
		return
	}
	c.trusted = slices.Insert(c.trusted, i, lb)
	if len(c.trusted) > maxTrusted {
		c.trusted = c.trusted[len(c.trusted)-maxTrusted:]
	}
}

// save stores the newest trusted block if it is newer than the one saved.
func (c *Client) save() error {
	if c.store == nil || len(c.trusted) == 0 {
		return nil
	}
	top := c.trusted[len(c.trusted)-1]
	if top.Height() <= c.savedTop {
		return nil
	}
	if err := c.store.Save(top); err != nil {
		return fmt.Errorf("save the trusted light block: %w", err)
	}
	c.savedTop = top.Height()
	return nil
}

// Update verifies the source's latest light block, so the client's trust
// moves forward even when it reads nothing (call it more often than the
// trusting period).
func (c *Client) Update(ctx context.Context) (*LightBlock, error) {
	if c.src == nil {
		return nil, errors.New("light client has no source")
	}
	lb, err := c.src.LightBlock(ctx, 0)
	if err != nil {
		return nil, err
	}
	if err := c.VerifyLightBlock(ctx, lb); err != nil {
		return nil, err
	}
	return lb, nil
}
