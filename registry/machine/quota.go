package machine

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/tx"
)

// Write quotas (docs/design/0005, "Write quotas"). Every transaction from a
// non-governance signer is charged, once accepted, against two counters of
// the current window of block time: its signer's (quota/did/<did>, written
// with the transaction) and its origin's for its type
// (quota/origin/<origin>/<type>, summed over the block and written once at
// its end, in key order, so a block of ten thousand did.create pays one
// write). Both are read from state only: CheckTx reads the committed state,
// FinalizeBlock the working state, so every validator reaches the same
// verdict. A transaction that does not fit is rejected with
// ledger.ErrQuotaExceeded before its signature is checked.

// quotaCharge is what accepting one transaction adds to the counters.
type quotaCharge struct {
	origin ledger.Origin
	typ    tx.Type
	bytes  int64
	window int64
	// did is the signer whose counter didRec (after this transaction) is
	// written; "" for a did.create (the DID is new: its own counter starts
	// with its next transaction).
	did    string
	didRec ledger.QuotaRecord
}

// originCounters reads the per-origin counters a check sees.
type originCounters interface {
	get(k []byte) (ledger.QuotaRecord, error)
}

// quotaCheck decides whether t fits the quotas of its signer's origin at
// env's block time and returns what accepting it charges (nil when nothing
// is limited: a governance signer, or CheckTx before the block time is known
// after a restart, when FinalizeBlock alone decides). It reads state r for
// the origin and the signer's counter, and env.origins for the origin's.
func (a *App) quotaCheck(r reader, t *tx.Tx, env *execEnv) (*quotaCharge, error) {
	if !env.timeKnown || env.origins == nil {
		return nil, nil
	}
	origin, err := originOf(r, t, env.time)
	if err != nil {
		return nil, err
	}
	pol := a.policy.Origin(origin)
	if pol == nil {
		return nil, nil
	}
	typ := t.Payload.Type
	tq := pol.Type(typ)
	n := int64(len(t.Raw))
	if tq.MaxTxBytes >= 0 && n > tq.MaxTxBytes {
		return nil, fmt.Errorf("%w: a %s from a %s signer is at most %d bytes; this one is %d", ledger.ErrQuotaExceeded, typ, origin, tq.MaxTxBytes, n)
	}
	w := a.policy.WindowStart(env.time)
	c := &quotaCharge{origin: origin, typ: typ, bytes: n, window: w}
	if typ != tx.DIDCreate {
		used, err := counter(r, ledger.QuotaDIDKey(t.Payload.DID), w)
		if err != nil {
			return nil, err
		}
		if !pol.PerDID.Allows(used, n) {
			return nil, fmt.Errorf("%w: %s sent %d transactions (%d bytes) in this window; a %s signer may send %s per %s; the window ends at %s (block time)",
				ledger.ErrQuotaExceeded, t.Payload.DID, used.Txs, used.Bytes, origin, limitText(pol.PerDID), a.policy.Window, a.windowEnd(w))
		}
		c.did = t.Payload.DID
		c.didRec = ledger.QuotaRecord{Window: w, Txs: used.Txs + 1, Bytes: used.Bytes + n}
	}
	used, err := env.origins.get(ledger.QuotaOriginKey(origin, typ))
	if err != nil {
		return nil, err
	}
	if used.Window != w {
		used = ledger.QuotaRecord{Window: w}
	}
	if !tq.Total.Allows(used, n) {
		return nil, fmt.Errorf("%w: %s signers together sent their budget of %s transactions in this window (%s per %s); the window ends at %s (block time)",
			ledger.ErrQuotaExceeded, origin, typ, limitText(tq.Total), a.policy.Window, a.windowEnd(w))
	}
	return c, nil
}

// windowEnd is when the window starting at w ends, for messages.
func (a *App) windowEnd(w int64) string {
	return time.Unix(w, 0).Add(a.policy.Window.Duration).UTC().Format(time.RFC3339)
}

func limitText(l ledger.Limit) string {
	f := func(n int64, unit string) string {
		if n < 0 {
			return "any number of " + unit
		}
		return fmt.Sprintf("%d %s", n, unit)
	}
	return f(l.Txs, "transactions") + " and " + f(l.Bytes, "bytes")
}

// originOf classifies t's signer from state r at block time at: a new DID
// (did.create) is self-made; a governance did:key is governance; a DID the
// governance vouched for (an accreditation in force at, an active directory
// organisation, or a DID an active organisation lists for one of its roles)
// is vouched; anyone else is self-made.
func originOf(r reader, t *tx.Tx, at time.Time) (ledger.Origin, error) {
	if t.Payload.Type == tx.DIDCreate {
		return ledger.OriginSelfMade, nil
	}
	d := t.Payload.DID
	if strings.HasPrefix(d, "did:key:") {
		g, err := r.Get(ledger.GovernanceKey(d))
		if err != nil {
			return "", fmt.Errorf("%w: read governance: %v", ledger.ErrInternal, err)
		}
		if g != nil {
			return ledger.OriginGovernance, nil
		}
	}
	rec, err := getJSON[ledger.IssuerRecord](r, ledger.IssuerKey(d))
	switch {
	case err == nil && rec.InForceAt(at):
		return ledger.OriginVouched, nil
	case err != nil && !errors.Is(err, ledger.ErrNotFound):
		return "", err
	}
	listed, err := inDirectory(r, d, at)
	if err != nil || !listed {
		return ledger.OriginSelfMade, err
	}
	return ledger.OriginVouched, nil
}

// inDirectory reports whether did is, at block time at, an active
// organisation of the directory or a DID an active organisation lists for
// one of its roles.
func inDirectory(r reader, did string, at time.Time) (bool, error) {
	org := did
	alias, err := getJSON[ledger.DirectoryAlias](r, ledger.DirectoryAliasKey(did))
	switch {
	case err == nil:
		org = alias.Org
	case !errors.Is(err, ledger.ErrNotFound):
		return false, err
	}
	rec, err := getJSON[ledger.DirectoryRecord](r, ledger.DirectoryKey(org))
	switch {
	case errors.Is(err, ledger.ErrNotFound):
		return false, nil
	case err != nil:
		return false, err
	}
	v := rec.At(at)
	return v.Active() && (org == did || v.ListsDID(did)), nil
}

// counter reads the quota record at k from r, as counted in window w (a
// record of an earlier window counts nothing).
func counter(r reader, k []byte, w int64) (ledger.QuotaRecord, error) {
	rec, err := readQuota(r, k)
	if err == nil && rec.Window != w {
		rec = ledger.QuotaRecord{Window: w}
	}
	return rec, err
}

// readQuota reads the quota record at k from r (the zero record when there
// is none).
func readQuota(r reader, k []byte) (ledger.QuotaRecord, error) {
	rec, err := getJSON[ledger.QuotaRecord](r, k)
	switch {
	case errors.Is(err, ledger.ErrNotFound):
		return ledger.QuotaRecord{}, nil
	case err != nil:
		return ledger.QuotaRecord{}, err
	}
	return *rec, nil
}

// blockQuotas are the origin counters of the block FinalizeBlock is
// applying: read from the working state on first use, summed in memory,
// written by flush.
type blockQuotas struct {
	r     reader
	recs  map[string]ledger.QuotaRecord
	dirty map[string]bool // keys add changed
}

func (b *blockQuotas) get(k []byte) (ledger.QuotaRecord, error) {
	if rec, ok := b.recs[string(k)]; ok {
		return rec, nil
	}
	rec, err := readQuota(b.r, k)
	if err != nil {
		return rec, err
	}
	if b.recs == nil {
		b.recs = map[string]ledger.QuotaRecord{}
	}
	b.recs[string(k)] = rec
	return rec, nil
}

// add charges an accepted transaction (whose check read its counter, so it
// is in recs).
func (b *blockQuotas) add(c *quotaCharge) {
	k := string(ledger.QuotaOriginKey(c.origin, c.typ))
	rec := b.recs[k]
	if rec.Window != c.window {
		rec = ledger.QuotaRecord{Window: c.window}
	}
	rec.Txs++
	rec.Bytes += c.bytes
	b.recs[k] = rec
	if b.dirty == nil {
		b.dirty = map[string]bool{}
	}
	b.dirty[k] = true
}

// writes returns the changed counters in key order (IAVL's shape depends on
// the order of writes, so it must be the same on every validator).
func (b *blockQuotas) writes() ([]write, error) {
	keys := make([]string, 0, len(b.dirty))
	for k := range b.dirty {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]write, 0, len(keys))
	for _, k := range keys {
		v, err := marshal(b.recs[k])
		if err != nil {
			return nil, err
		}
		out = append(out, write{[]byte(k), v})
	}
	return out, nil
}

// committedQuotas caches the origin counters of the latest committed state
// for CheckTx: they change once per block, and a did.create's check would
// otherwise walk the tree for the same key every time.
type committedQuotas struct {
	mu     sync.Mutex // guards the fields below
	height int64
	view   reader
	recs   map[string]ledger.QuotaRecord
}

// at returns the counters of the committed state view at height.
func (c *committedQuotas) at(view reader, height int64) originCounters {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.recs == nil || c.height != height {
		c.height, c.view, c.recs = height, view, map[string]ledger.QuotaRecord{}
	}
	return c
}

func (c *committedQuotas) get(k []byte) (ledger.QuotaRecord, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if rec, ok := c.recs[string(k)]; ok {
		return rec, nil
	}
	rec, err := readQuota(c.view, k)
	if err != nil {
		return rec, err
	}
	c.recs[string(k)] = rec
	return rec, nil
}

// loadPolicy reads the quota policy from state r: the one genesis wrote, or
// the default on a chain started before quotas existed.
func loadPolicy(r reader) (ledger.QuotaPolicy, error) {
	v, err := r.Get([]byte(ledger.QuotaPolicyKey))
	if err != nil {
		return ledger.QuotaPolicy{}, fmt.Errorf("read quota policy: %w", err)
	}
	if v == nil {
		return ledger.DefaultQuotaPolicy().Effective()
	}
	var p ledger.QuotaPolicy
	if err := json.Unmarshal(v, &p); err != nil {
		return ledger.QuotaPolicy{}, fmt.Errorf("decode the stored quota policy: %w", err)
	}
	return p.Effective()
}
