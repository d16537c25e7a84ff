package machine

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"hash/maphash"
	"sync"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/tx"
)

// reader is read access to a state version: the committed view (CheckTx)
// or the working tree (FinalizeBlock).
type reader interface {
	Get(key []byte) ([]byte, error)
}

// write is one key/value the state machine will set if a transaction is
// accepted. Handlers compute all writes before any is applied, so a
// rejected transaction changes nothing.
type write struct {
	key, value []byte
}

// execEnv is the context one transaction is checked or applied in. It holds
// no clock: times come from the block header.
type execEnv struct {
	ctx    context.Context
	height int64     // block height (CheckTx: last committed + 1)
	time   time.Time // block time (CheckTx: last block time, zero if unknown)
	index  int       // position in the block
	// timeKnown is false in CheckTx before the first block after a
	// restart; checks that need the block time are then deferred to
	// FinalizeBlock.
	timeKnown bool
	// pre is the result of FinalizeBlock's parallel pre-pass (nil in
	// CheckTx).
	pre *prepared
	// layout is the state layout the transaction is checked in (CheckTx:
	// the committed state's; FinalizeBlock: the block's, which a scheduled
	// move changes at its start; see layoutmove.go), and move the move of
	// the layout under way (nil: none), which decides the layout of each
	// DID's records (didLayout).
	layout ledger.StateLayout
	move   *ledger.LayoutMove
	// protocol is the protocol version whose rules apply (see
	// protocolAtLeast).
	protocol uint64
	// block is the hash of the block (FinalizeBlock: RequestFinalizeBlock.
	// Hash, 32 bytes from protocol 5 on; CheckTx: nil, the next block has
	// none yet). From protocol 5 on a filing is named by it
	// (ledger.ProposalRecord.FilingBlock).
	block []byte
	// checkOnly is set in CheckTx: the verdict is wanted, not the writes,
	// so handlers may skip building them.
	checkOnly bool
	// origins are the per-origin quota counters the check sees (CheckTx:
	// the committed ones; FinalizeBlock: the block's), and charge is what
	// the accepted transaction adds to them (see quota.go).
	origins originCounters
	charge  *quotaCharge
}

// didLayout is the layout the records of DID id are written in.
func (env *execEnv) didLayout(id string) ledger.StateLayout {
	return ledger.LayoutOf(env.layout, env.move, id)
}

// receipt is the ExecTxResult.Data of an accepted transaction (JSON), and
// the attributes of its event.
type receipt struct {
	Type            tx.Type `json:"type"`
	DID             string  `json:"did"`
	VersionID       string  `json:"versionId,omitempty"`
	Issuer          string  `json:"issuer,omitempty"`
	AccreditationID string  `json:"accreditationId,omitempty"`
	ListID          string  `json:"listId,omitempty"`
	Version         int64   `json:"version,omitempty"`
	GrantHash       string  `json:"grantHash,omitempty"`
	// network.propose, network.approve: the proposal, and whether this
	// transaction carried it.
	ProposalID string `json:"proposalId,omitempty"`
	Executed   bool   `json:"executed,omitempty"`
	Org        string `json:"org,omitempty"`
}

// prepared is what the parallel pre-pass of FinalizeBlock learned about one
// transaction from pure computation and the committed state.
type prepared struct {
	tx  *tx.Tx
	err error // decode error: the transaction is rejected as is
	// doc, docErr: the transaction's own document (did.create,
	// did.update) parsed by the pre-pass.
	doc    *did.Document
	docErr error
}

// CheckTx validates a transaction against the last committed state with the
// same rules as FinalizeBlock. A rejected transaction gets a non-zero code
// (see [CodeOf]) and a log line saying why; nothing is written either way.
func (a *App) CheckTx(ctx context.Context, req *abci.RequestCheckTx) (*abci.ResponseCheckTx, error) {
	view, height := a.committedState()
	a.mu.RLock()
	bt, layout, move := a.lastTime, a.committedLayout, a.committedMove
	// (A release that does not know the next block's protocol checks by
	// the newest rules it has: it stops at that block anyway.)
	protocol := min(ledger.ProtocolAt(a.committedProtocol, a.committedUpgrade, height+1), a.maxProtocol)
	a.mu.RUnlock()
	t, err := a.decodeAt(req.Tx, protocol)
	if err == nil {
		env := &execEnv{ctx: ctx, height: height + 1, time: bt, timeKnown: !bt.IsZero(), checkOnly: true, layout: layout, move: move,
			protocol: protocol, origins: a.quotas.at(view, height)}
		_, _, err = a.check(view, t, env)
	}
	if err != nil {
		code := CodeOf(err)
		a.rejected.note(false, code)
		a.log.Debug("CheckTx rejected", "code", code, "err", err.Error())
		return &abci.ResponseCheckTx{Code: code, Codespace: ledger.Codespace, Log: err.Error()}, nil
	}
	return &abci.ResponseCheckTx{Code: ledger.CodeOK}, nil
}

// FinalizeBlock applies a decided block. It first decodes all transactions
// and verifies their signatures in parallel (Config.Workers goroutines) into
// the verdict cache, then checks and applies them one by one in block order
// against the working state. A rejected transaction gets a non-zero code and
// changes nothing. The returned AppHash is the working tree's root hash,
// saved by Commit.
func (a *App) FinalizeBlock(ctx context.Context, req *abci.RequestFinalizeBlock) (*abci.ResponseFinalizeBlock, error) {
	a.wmu.Lock()
	defer a.wmu.Unlock()
	want := max(a.initialHeight, 1)
	if h, _ := a.LastCommit(); h > 0 {
		want = h + 1
	}
	if req.Height != want {
		return nil, fmt.Errorf("FinalizeBlock for height %d but the state expects height %d", req.Height, want)
	}
	if a.pending != nil {
		return nil, fmt.Errorf("FinalizeBlock for height %d before Commit of height %d", req.Height, a.pending.height)
	}
	// The protocol upgrade scheduled, if any (read once for both steps).
	up, err := protocolUpgradeOf(a.tree)
	if err != nil {
		return nil, err
	}
	// From protocol 5 on the block's hash names its filings: a block
	// without one is refused before anything is written (protocol.go).
	if err := a.checkBlockHash(req, up); err != nil {
		return nil, err
	}
	// A protocol upgrade scheduled for this block is made first, or the
	// node stops here if its release does not know the version, having
	// written nothing of the block (protocol.go).
	params, err := a.upgradeProtocol(req.Height, up)
	if err != nil {
		return nil, err
	}
	bt := req.Time.UTC()
	// The index's writes of the last block were consumed by its Commit:
	// the slice is reused, not grown again from nothing each block.
	clear(a.pendingIdx)
	a.pendingIdx = a.pendingIdx[:0]
	a.pendingVals = nil
	a.pendingDir = nil
	// A move of the state layout scheduled for this block happens before
	// its transactions (layoutmove.go).
	if err := a.moveLayout(req.Height); err != nil {
		return nil, err
	}
	pre := a.prepass(req.Txs, bt)
	results := make([]*abci.ExecTxResult, len(req.Txs))
	bq := &blockQuotas{r: a.tree}
	for i := range req.Txs {
		results[i] = a.deliver(&execEnv{ctx: ctx, height: req.Height, time: bt, index: i, timeKnown: true, pre: &pre[i], origins: bq, layout: a.layout, move: a.move,
			protocol: a.protocol, block: req.Hash})
	}
	// The block's origin counters, once, after its transactions.
	qw, err := bq.writes()
	if err != nil {
		return nil, err
	}
	for _, w := range qw {
		if _, err := a.tree.Set(w.key, w.value); err != nil {
			panic(fmt.Sprintf("registry: write state at height %d: %v", req.Height, err))
		}
	}
	a.pending = &pendingBlock{height: req.Height, time: bt}
	ups := a.validatorUpdates()
	if err := a.markValidatorChange(req.Height, len(ups) > 0); err != nil {
		panic(fmt.Sprintf("registry: write state at height %d: %v", req.Height, err))
	}
	return &abci.ResponseFinalizeBlock{TxResults: results, ValidatorUpdates: ups, ConsensusParamUpdates: params, AppHash: a.tree.WorkingHash()}, nil
}

// deliver checks and applies one transaction of a block.
func (a *App) deliver(env *execEnv) *abci.ExecTxResult {
	p := env.pre
	err := p.err
	var writes []write
	var rc *receipt
	if err == nil {
		writes, rc, err = a.check(a.tree, p.tx, env)
	}
	if err == nil && needsReplayRecord(p.tx) {
		rec, merr := marshal(ledger.TxRecord{Height: env.height, Index: env.index, Hash: hex.EncodeToString(p.tx.Hash[:])})
		if merr != nil {
			err = merr
		} else {
			writes = append(writes, write{ledger.TxKey(p.tx.ReplayID), rec})
		}
	}
	var data []byte
	if err == nil {
		data, err = marshalReceipt(rc)
	}
	if err != nil {
		code := CodeOf(err)
		a.rejected.note(true, code)
		a.log.Info("transaction rejected", "height", env.height, "index", env.index, "code", code, "err", err.Error())
		return &abci.ExecTxResult{Code: code, Codespace: ledger.Codespace, Log: err.Error()}
	}
	if env.charge != nil {
		env.origins.(*blockQuotas).add(env.charge)
	}
	for _, w := range writes {
		var err error
		if w.value == nil {
			// A nil value removes the key (a governance key retired);
			// keys the latest index holds are never removed.
			_, _, err = a.tree.Remove(w.key)
		} else {
			_, err = a.tree.Set(w.key, w.value)
		}
		if err != nil {
			// A storage failure is not the sender's fault and not
			// deterministic: stop the node rather than diverge.
			panic(fmt.Sprintf("registry: write state at height %d: %v", env.height, err))
		}
		if indexed(w.key) {
			a.pendingIdx = append(a.pendingIdx, w)
		}
		if isValidatorKey(w.key) {
			a.noteValidator(w)
		}
		if isDirectoryKey(w.key) {
			a.pendingDir = append(a.pendingDir, w)
		}
	}
	return okResult(rc, data)
}

// acceptedResult is an accepted transaction's result with its event and
// the event's attributes, in one allocation instead of three.
type acceptedResult struct {
	res   abci.ExecTxResult
	event [1]abci.Event
	attrs [2]abci.EventAttribute
}

// okResult is the result of an accepted transaction with receipt rc
// (encoded as data): its log line and its one "medid" event, whose type
// and did attributes are indexed.
func okResult(rc *receipt, data []byte) *abci.ExecTxResult {
	r := &acceptedResult{attrs: [2]abci.EventAttribute{
		{Key: "type", Value: string(rc.Type), Index: true},
		{Key: "did", Value: rc.DID, Index: true},
	}}
	r.event[0] = abci.Event{Type: "medid", Attributes: r.attrs[:]}
	r.res = abci.ExecTxResult{
		Code:   ledger.CodeOK,
		Data:   data,
		Log:    string(rc.Type) + " " + rc.DID,
		Events: r.event[:],
	}
	return &r.res
}

// prepass decodes txs and verifies their signatures in parallel against the
// keys the committed state (or the transaction itself, for did.create and
// did:key signers) names, filling the verdict cache. It changes no state;
// deliver re-derives each key against the working state and only reuses a
// verdict for the same (transaction, key) pair. A did.create that will not
// fit the self-made budget at block time bt is left alone: deliver refuses
// it on its quota before parsing its document, so a block stuffed with
// large documents past the budget costs no document parses (a 60 KB
// document takes ~40 ms).
func (a *App) prepass(txs [][]byte, bt time.Time) []prepared {
	pre := make([]prepared, len(txs))
	view, height := a.committedState()
	protocol := a.protocol // the block's: an upgrade at its height was made before
	a.parallel(len(txs), func(i int) {
		pre[i].tx, pre[i].err = a.decodeAt(txs[i], protocol)
	})
	over := a.createsOverBudget(pre, a.quotas.at(view, height), bt)
	a.parallel(len(txs), func(i int) {
		p := &pre[i]
		if p.err != nil || over[i] {
			return
		}
		if p.tx.Payload.Type == tx.DIDCreate || p.tx.Payload.Type == tx.DIDUpdate {
			p.doc, p.docErr = a.parseOwnDocument(p.tx)
		}
		if pub, err := a.signingKey(view, p.tx, p); err == nil {
			a.verify(p.tx, pub) // result cached; the verdict is re-read in deliver
		}
	})
	return pre
}

// parallel runs f(0) … f(n-1) on Config.Workers goroutines.
func (a *App) parallel(n int, f func(i int)) {
	workers := min(a.cfg.Workers, n)
	var wg sync.WaitGroup
	next := make(chan int)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				f(i)
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

// createsOverBudget marks the did.create transactions of a block that would
// exceed the self-made did.create quota if every earlier one in the block
// were accepted: deliver will refuse them (or, if earlier ones fail for
// other reasons, parse them itself).
func (a *App) createsOverBudget(pre []prepared, committed originCounters, bt time.Time) []bool {
	over := make([]bool, len(pre))
	tq := a.policy.SelfMade.Type(tx.DIDCreate)
	used, err := committed.get(ledger.QuotaOriginKey(ledger.OriginSelfMade, tx.DIDCreate))
	if err != nil {
		return over
	}
	if w := a.policy.WindowStart(bt.UTC()); used.Window != w {
		used = ledger.QuotaRecord{Window: w}
	}
	for i := range pre {
		p := &pre[i]
		if p.err != nil || p.tx.Payload.Type != tx.DIDCreate {
			continue
		}
		n := int64(len(p.tx.Raw))
		if (tq.MaxTxBytes >= 0 && n > tq.MaxTxBytes) || !tq.Total.Allows(used, n) {
			over[i] = true
			continue
		}
		used.Txs++
		used.Bytes += n
	}
	return over
}

// decode is [tx.Decode] through the decoded-transaction cache: what CheckTx
// decoded, FinalizeBlock finds decoded. Only successes are cached; the
// decoded value is a pure function of the bytes. The cache is keyed by a
// maphash of the bytes and a hit counts only if the cached transaction's
// bytes are raw's, so a key collision costs a decode, never an answer;
// tx.Decode takes the one SHA-256 of the bytes a transaction needs (its
// Hash), where a SHA-256 key took one more on every call. The comparison
// is against the cached transaction's Raw, the slice CometBFT passed: its
// mempool and blocks hold the same slices and never modify them.
func (a *App) decode(raw []byte) (*tx.Tx, error) {
	if len(raw) > tx.MaxSize {
		return tx.Decode(raw)
	}
	k := maphash.Bytes(a.seed, raw)
	if t, ok := a.decoded.get(k); ok && bytes.Equal(t.Raw, raw) {
		return t, nil
	}
	t, err := tx.Decode(raw)
	if err == nil {
		a.decoded.put(k, t)
	}
	return t, err
}

// decodeAt is [App.decode] for a transaction checked or executed by the
// rules of protocol: below ledger.FilingProtocol a payload that carries
// the filing member (of any type, whatever its value) is refused as
// malformed, as the decoder of the releases before protocol 4 refused
// that unknown member: the same code, no signature check in the block's
// pre-pass (a decode error skips it), nothing recorded. So a chain below 4
// replays byte for byte. The decoded value stays in the cache: the bytes
// decode the same; only the protocol's verdict on them differs.
//
// Below ledger.FilingBlockProtocol the same holds of the filingBlock
// member, as the decoder of the releases before protocol 5 refused it. (A
// payload carrying both members below 4 is refused either way with the
// same code; only the code, never the log, enters the results hash.)
func (a *App) decodeAt(raw []byte, protocol uint64) (*tx.Tx, error) {
	t, err := a.decode(raw)
	if err != nil {
		return t, err
	}
	if len(t.Payload.FilingBlock) > 0 && protocol < ledger.FilingBlockProtocol {
		return nil, fmt.Errorf("%w: payload: unknown member %q (an approval names its filing's block from protocol %d on; this chain runs protocol %d)",
			tx.ErrMalformed, "filingBlock", ledger.FilingBlockProtocol, protocol)
	}
	if len(t.Payload.Filing) > 0 && protocol < ledger.FilingProtocol {
		return nil, fmt.Errorf("%w: payload: unknown member %q (an approval names its filing from protocol %d on; this chain runs protocol %d)",
			tx.ErrMalformed, "filing", ledger.FilingProtocol, protocol)
	}
	return t, nil
}

// verify checks t's signature under pub, once: the verdict (nil or the
// error [tx.Tx.Verify] returned, a pure function of the transaction and the
// key) is cached by (transaction hash, key), so a cached answer is the one
// a fresh check would give, to the message.
func (a *App) verify(t *tx.Tx, pub key.PublicKey) error {
	k, cacheable := newVerdictKey(t, pub)
	if cacheable {
		if err, found := a.verdicts.get(k); found {
			return err
		}
	}
	a.sigChecks.Add(1)
	err := t.Verify(pub)
	if cacheable {
		a.verdicts.put(k, err)
	}
	return err
}
