package ledger

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/medid/medid/registry/tx"
)

// Write quotas bound what each kind of signer can add to the ledger per
// window of block time, so nobody with a self-made identity can fill every
// validator's disk for free. The policy comes from genesis (app_state
// "quotas", defaults when absent), is stored in the state under
// [QuotaPolicyKey], and is enforced by the state machine in CheckTx and in
// FinalizeBlock from state alone. See docs/design/0005-ledger-state.md,
// "Write quotas".

// Quota state keys.
const (
	// QuotaPolicyKey holds the network's QuotaPolicy (written at genesis).
	QuotaPolicyKey = "quota/policy"
	// PrefixQuotaDID keys per-signer counters: quota/did/<did> -> QuotaRecord.
	PrefixQuotaDID = "quota/did/"
	// PrefixQuotaOrigin keys per-origin, per-type counters:
	// quota/origin/<origin>/<type> -> QuotaRecord.
	PrefixQuotaOrigin = "quota/origin/"
)

// QuotaDIDKey returns the state key of a signer's quota counter.
func QuotaDIDKey(did string) []byte { return []byte(PrefixQuotaDID + did) }

// QuotaOriginKey returns the state key of the counter of all transactions of
// type t from signers of origin o.
func QuotaOriginKey(o Origin, t tx.Type) []byte {
	return []byte(PrefixQuotaOrigin + string(o) + "/" + string(t))
}

// Origin is the class of a transaction's signer, decided from state alone.
type Origin string

// The origins.
const (
	// OriginGovernance: a governance did:key from genesis. Its writes are
	// not limited: the governance keys are the network's operators.
	OriginGovernance Origin = "governance"
	// OriginVouched: a DID the network's governance vouched for, at the
	// block time: an issuer with an accreditation in force, an organisation
	// active in the directory, or a DID an active organisation lists for
	// one of its roles (a hospital, its vault's did:key).
	OriginVouched Origin = "vouched"
	// OriginSelfMade: any other signer (a did:key anyone can make, a
	// did:medid anyone can register, a new DID being created). Its writes
	// share one budget per transaction type.
	OriginSelfMade Origin = "self-made"
)

// QuotaRecord counts what one signer, or one origin's transactions of one
// type, wrote in the window that starts at Window (Unix seconds of block
// time): transactions and their encoded bytes.
type QuotaRecord struct {
	Window int64 `json:"window"`
	Txs    int64 `json:"txs"`
	Bytes  int64 `json:"bytes"`
}

// Limit bounds transactions and bytes per window. In a policy as written in
// genesis, 0 (or absent) means the default and -1 means no bound; in an
// effective policy (see [QuotaPolicy.Effective]) every field is positive
// or -1.
type Limit struct {
	Txs   int64 `json:"txs,omitempty"`
	Bytes int64 `json:"bytes,omitempty"`
}

// Allows reports whether a transaction of n bytes still fits in l after
// used.
func (l Limit) Allows(used QuotaRecord, n int64) bool {
	return (l.Txs < 0 || used.Txs+1 <= l.Txs) && (l.Bytes < 0 || used.Bytes+n <= l.Bytes)
}

// TypeQuota is one origin's policy for one transaction type.
type TypeQuota struct {
	// MaxTxBytes bounds one encoded transaction (-1: up to tx.MaxSize).
	MaxTxBytes int64 `json:"maxTxBytes,omitempty"`
	// Total bounds all transactions of this type from this origin per
	// window, whoever signs them.
	Total Limit `json:"total,omitzero"`
}

// OriginQuota is the policy for one origin.
type OriginQuota struct {
	// PerDID bounds each signer per window, all types together.
	PerDID Limit `json:"perDID,omitzero"`
	// Types holds the policy per transaction type; Other applies to the
	// types not listed (and to types added after the policy was written).
	Types map[tx.Type]TypeQuota `json:"types,omitempty"`
	Other TypeQuota             `json:"other,omitzero"`
}

// Type returns the policy for transaction type t.
func (o OriginQuota) Type(t tx.Type) TypeQuota {
	if q, ok := o.Types[t]; ok {
		return q
	}
	return o.Other
}

// QuotaPolicy is the network's write policy (genesis app_state "quotas").
// Governance signers are not limited.
type QuotaPolicy struct {
	// Window is the counting period in block time (whole seconds, at least
	// a minute). Windows are aligned to the Unix epoch: a transaction at
	// block time T counts in the window starting at T - T mod Window.
	Window   Duration    `json:"window,omitzero"`
	SelfMade OriginQuota `json:"selfMade,omitzero"`
	Vouched  OriginQuota `json:"vouched,omitzero"`
}

// Origin returns the policy of origin o, nil for governance (not limited).
func (p *QuotaPolicy) Origin(o Origin) *OriginQuota {
	switch o {
	case OriginSelfMade:
		return &p.SelfMade
	case OriginVouched:
		return &p.Vouched
	}
	return nil
}

// WindowStart returns the start (Unix seconds) of the window holding block
// time at.
func (p QuotaPolicy) WindowStart(at time.Time) int64 {
	w := int64(p.Window.Duration / time.Second)
	s := at.Unix()
	return s - ((s%w)+w)%w
}

// Duration is a time.Duration written in JSON as a Go duration string
// ("1h", "30m").
type Duration struct{ time.Duration }

// MarshalJSON writes d as a duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads a duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return errors.New("a duration is a string such as \"1h\" or \"30m\"")
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration %q: %v", s, err)
	}
	d.Duration = v
	return nil
}

const (
	kib = 1 << 10
	mib = 1 << 20
)

// DefaultQuotaPolicy returns the policy a network runs when its genesis sets
// none, sized for a network of hospitals (docs/design/0005, "Write quotas"):
// in one hour all self-made signers together may write at most 18,600
// transactions and 25.5 MiB (sum over the types), each of them at most 4,000
// transactions and 4 MiB (an unvouched vault anchoring its trail every
// second fits); a vouched signer (an accredited issuer, a directory
// organisation or role DID) 20,000 transactions and 256 MiB, of any size up
// to tx.MaxSize.
func DefaultQuotaPolicy() QuotaPolicy {
	return QuotaPolicy{
		Window: Duration{time.Hour},
		SelfMade: OriginQuota{
			PerDID: Limit{Txs: 4000, Bytes: 4 * mib},
			Types: map[tx.Type]TypeQuota{
				tx.DIDCreate:         {MaxTxBytes: 16 * kib, Total: Limit{Txs: 1000, Bytes: 4 * mib}},
				tx.DIDUpdate:         {MaxTxBytes: 16 * kib, Total: Limit{Txs: 1000, Bytes: 4 * mib}},
				tx.DIDDeactivate:     {MaxTxBytes: 4 * kib, Total: Limit{Txs: 1000, Bytes: 1 * mib}},
				tx.StatusListPublish: {MaxTxBytes: 32 * kib, Total: Limit{Txs: 200, Bytes: 2 * mib}},
				tx.ConsentAnchor:     {MaxTxBytes: 2 * kib, Total: Limit{Txs: 6000, Bytes: 6 * mib}},
				tx.ConsentRevoke:     {MaxTxBytes: 2 * kib, Total: Limit{Txs: 2000, Bytes: 2 * mib}},
				tx.AuditAnchor:       {MaxTxBytes: 2 * kib, Total: Limit{Txs: 7200, Bytes: 6 * mib}},
			},
			Other: TypeQuota{MaxTxBytes: 4 * kib, Total: Limit{Txs: 200, Bytes: 512 * kib}},
		},
		Vouched: OriginQuota{
			PerDID: Limit{Txs: 20000, Bytes: 256 * mib},
			Other:  TypeQuota{MaxTxBytes: -1, Total: Limit{Txs: -1, Bytes: -1}},
		},
	}
}

// Effective returns p with every unset (zero) field taken from
// [DefaultQuotaPolicy], field by field, and checks it: a window of whole
// seconds between a minute and 30 days, limits positive or -1, MaxTxBytes
// at most tx.MaxSize. Errors name the field to fix.
func (p QuotaPolicy) Effective() (QuotaPolicy, error) {
	d := DefaultQuotaPolicy()
	out := QuotaPolicy{Window: p.Window}
	if out.Window.Duration == 0 {
		out.Window = d.Window
	}
	if w := out.Window.Duration; w < time.Minute || w > 30*24*time.Hour || w%time.Second != 0 {
		return QuotaPolicy{}, fmt.Errorf("quotas.window %s: use whole seconds between 1m and 720h", w)
	}
	var err error
	if out.SelfMade, err = p.SelfMade.merge(d.SelfMade, "quotas.selfMade"); err != nil {
		return QuotaPolicy{}, err
	}
	if out.Vouched, err = p.Vouched.merge(d.Vouched, "quotas.vouched"); err != nil {
		return QuotaPolicy{}, err
	}
	return out, nil
}

func (o OriginQuota) merge(d OriginQuota, at string) (OriginQuota, error) {
	out := OriginQuota{Types: map[tx.Type]TypeQuota{}}
	var err error
	if out.PerDID, err = o.PerDID.merge(d.PerDID, at+".perDID"); err != nil {
		return out, err
	}
	if out.Other, err = o.Other.merge(d.Other, at+".other"); err != nil {
		return out, err
	}
	types := map[tx.Type]bool{}
	for t := range d.Types {
		types[t] = true
	}
	for t := range o.Types {
		if !tx.KnownType(t) {
			return out, fmt.Errorf("%s.types: unknown transaction type %.64q", at, t)
		}
		types[t] = true
	}
	keys := make([]string, 0, len(types))
	for t := range types {
		keys = append(keys, string(t))
	}
	sort.Strings(keys)
	for _, k := range keys {
		t := tx.Type(k)
		def, ok := d.Types[t]
		if !ok {
			def = out.Other
		}
		if out.Types[t], err = o.Types[t].merge(def, at+".types."+k); err != nil {
			return out, err
		}
	}
	return out, nil
}

func (q TypeQuota) merge(d TypeQuota, at string) (TypeQuota, error) {
	out := TypeQuota{MaxTxBytes: q.MaxTxBytes}
	if out.MaxTxBytes == 0 {
		out.MaxTxBytes = d.MaxTxBytes
	}
	if out.MaxTxBytes < -1 || out.MaxTxBytes > tx.MaxSize {
		return out, fmt.Errorf("%s.maxTxBytes %d: use 1 to %d, or -1 for no bound below the transaction limit", at, out.MaxTxBytes, tx.MaxSize)
	}
	var err error
	out.Total, err = q.Total.merge(d.Total, at+".total")
	return out, err
}

func (l Limit) merge(d Limit, at string) (Limit, error) {
	out := l
	if out.Txs == 0 {
		out.Txs = d.Txs
	}
	if out.Bytes == 0 {
		out.Bytes = d.Bytes
	}
	if out.Txs < -1 || out.Bytes < -1 || out.Txs == 0 || out.Bytes == 0 {
		return out, fmt.Errorf("%s: txs %d, bytes %d: use positive numbers, or -1 for no bound", at, out.Txs, out.Bytes)
	}
	return out, nil
}
