package vault

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/medid/medid/credentials/consent"
	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/internal/randid"
	"github.com/medid/medid/registry/hospital/batch"
	"github.com/medid/medid/registry/hospital/trail"
	"github.com/medid/medid/registry/hospital/vaultapi"
	"github.com/medid/medid/registry/tx"
)

// ConsentChecker decides whether a consent grant token is valid and in force
// for a request: its signature by the grant's patient, Grant.Permits, and the
// ledger status of its hash. *consent.Checker implements it.
type ConsentChecker interface {
	CheckInForce(ctx context.Context, token string, req consent.Request) (*consent.Grant, error)
}

// maxCache bounds the vault's in-memory maps of open break-glass windows
// and patients' key-agreement keys.
const maxCache = 100000

// Defaults of [Config].
const (
	DefaultBreakGlassWindow = time.Hour
	DefaultMaxSkew          = 2 * time.Minute
)

// Config configures [New].
type Config struct {
	// Dir holds the master key, the records, the wrapped data keys, the
	// trail batches and the standing break-glass grants. Required.
	Dir string
	// DID is the vault's (the hospital's) DID: the audience of requests,
	// the signer of audit anchors, and the provider named in a patient's
	// standing break-glass grant. Key signs audit anchors; KeyID is its
	// DID URL (under authentication). Required.
	DID   string
	Key   *key.PrivateKey
	KeyID string
	// Resolver resolves the DIDs of requesters and owners. Required.
	Resolver did.Resolver
	// Consent checks grants against the ledger. Required.
	Consent ConsentChecker
	// Submit sends a signed registry transaction (audit.anchor) and returns
	// once it is committed. Required.
	Submit func(ctx context.Context, signedTx []byte) error
	// Writers are the DIDs allowed to store records besides DID itself.
	Writers []string
	// BreakGlassWindow is how long one break-glass opening lasts
	// (default 1 h). MaxSkew is how far a request's time may be from the
	// vault's clock (default 2 min).
	BreakGlassWindow time.Duration
	MaxSkew          time.Duration
	// BatchInterval and MaxBatch tune trail anchoring (see batch.Config).
	BatchInterval time.Duration
	MaxBatch      int
	// Now is the clock (default time.Now).
	Now    func() time.Time
	Logger *slog.Logger
}

// Vault is a hospital's record vault. It is safe for concurrent use.
type Vault struct {
	cfg    Config
	store  *store
	auth   *authenticator
	log    *batch.Log
	sealer *trail.Sealer

	mu sync.Mutex // guards standing, sessions and recipients
	// standing maps a patient DID to their standing break-glass grant.
	standing map[string]string
	// sessions maps provider+"\x00"+owner to the end of a break-glass
	// opening.
	sessions   map[string]time.Time
	recipients map[string]any
}

// New opens (creating) a vault in cfg.Dir.
func New(cfg Config) (*Vault, error) {
	if cfg.Dir == "" || cfg.DID == "" || cfg.Key == nil || cfg.KeyID == "" || cfg.Resolver == nil || cfg.Consent == nil || cfg.Submit == nil {
		return nil, errors.New("vault.New: Dir, DID, Key, KeyID, Resolver, Consent and Submit are required")
	}
	if cfg.BreakGlassWindow <= 0 {
		cfg.BreakGlassWindow = DefaultBreakGlassWindow
	}
	if cfg.MaxSkew <= 0 {
		cfg.MaxSkew = DefaultMaxSkew
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	st, err := openStore(cfg.Dir)
	if err != nil {
		return nil, err
	}
	v := &Vault{cfg: cfg, store: st, sealer: &trail.Sealer{}, standing: map[string]string{}, sessions: map[string]time.Time{}, recipients: map[string]any{},
		auth: &authenticator{aud: cfg.DID, resolver: cfg.Resolver, skew: cfg.MaxSkew}}
	v.log, err = batch.OpenLog(batch.Config{Dir: filepath.Join(cfg.Dir, "trail"), Anchor: v.anchor,
		MaxBatch: cfg.MaxBatch, Interval: cfg.BatchInterval, Logger: cfg.Logger})
	if err != nil {
		return nil, err
	}
	if b, err := os.ReadFile(v.standingPath()); err == nil {
		if err := json.Unmarshal(b, &v.standing); err != nil {
			return nil, fmt.Errorf("vault: %s: %w", v.standingPath(), err)
		}
	}
	return v, nil
}

// DID returns the vault's DID.
func (v *Vault) DID() string { return v.cfg.DID }

// Run anchors the trail every BatchInterval until ctx is done, then flushes.
func (v *Vault) Run(ctx context.Context) { v.log.Run(ctx) }

// Flush anchors every pending trail entry now.
func (v *Vault) Flush(ctx context.Context) error { return v.log.Flush(ctx) }

func (v *Vault) standingPath() string { return filepath.Join(v.cfg.Dir, "breakglass.json") }

// anchor signs and submits one audit.anchor transaction.
func (v *Vault) anchor(ctx context.Context, a batch.Anchor) error {
	raw, err := tx.Sign(&tx.Payload{Type: tx.AuditAnchor, DID: v.cfg.DID, Nonce: randid.Hex(12),
		BatchID: a.BatchID, Root: hex.EncodeToString(a.Root[:]), Count: int64(a.Count)}, v.cfg.Key, v.cfg.KeyID)
	if err != nil {
		return err
	}
	return v.cfg.Submit(ctx, raw)
}

// recordEvent is the public leaf anchoring a record's existence or erasure:
// its hash, owner and class, never its content.
type recordEvent struct {
	Type   string    `json:"type"` // "record.put" or "record.erase"
	Record string    `json:"record"`
	Hash   string    `json:"hash"`
	Owner  string    `json:"owner,omitempty"`
	Class  string    `json:"class,omitempty"`
	Time   time.Time `json:"time"`
}

// RecordSubject is the trail subject under which a record's public events
// (put, erase) are indexed.
func RecordSubject(id string) string { return "record:" + id }

// Put stores a FHIR resource (JSON) for the owner named in the signed put
// request. The request's issuer must be the vault DID or one of
// Config.Writers, and its bodyHash the SHA-256 of resource.
func (v *Vault) Put(ctx context.Context, token string, resource []byte) (*vaultapi.Meta, error) {
	now := v.cfg.Now()
	r, err := v.auth.authenticate(ctx, token, now)
	if err != nil {
		return nil, err
	}
	if r.Op != vaultapi.OpPut {
		return nil, fmt.Errorf("%w: op %q, want %q", vaultapi.ErrBadRequest, r.Op, vaultapi.OpPut)
	}
	if r.Issuer != v.cfg.DID && !slices.Contains(v.cfg.Writers, r.Issuer) {
		return nil, fmt.Errorf("%w: %s may not store records in this vault", vaultapi.ErrDenied, r.Issuer)
	}
	if len(resource) > vaultapi.MaxRecordSize {
		return nil, fmt.Errorf("%w: record of %d bytes exceeds %d", vaultapi.ErrBadRequest, len(resource), vaultapi.MaxRecordSize)
	}
	sum := sha256.Sum256(resource)
	if r.BodyHash != hex.EncodeToString(sum[:]) {
		return nil, fmt.Errorf("%w: the body does not match the signed bodyHash", vaultapi.ErrBadRequest)
	}
	if _, err := did.Parse(r.Owner); err != nil {
		return nil, fmt.Errorf("%w: owner must be a DID", vaultapi.ErrBadRequest)
	}
	if !consent.KnownClass(r.Class) {
		return nil, fmt.Errorf("%w: class %.64q is not a FHIR R4 resource type", vaultapi.ErrBadRequest, r.Class)
	}
	var shape struct {
		ResourceType string `json:"resourceType"`
	}
	if err := json.Unmarshal(resource, &shape); err != nil || (shape.ResourceType != r.Class && shape.ResourceType != "Bundle") {
		return nil, fmt.Errorf("%w: the body must be a FHIR %s resource or a Bundle of them", vaultapi.ErrBadRequest, r.Class)
	}
	if _, err := v.recipient(ctx, r.Owner); err != nil {
		return nil, fmt.Errorf("%w: owner %s: %v", vaultapi.ErrBadRequest, r.Owner, err)
	}
	m, err := v.store.put(r.Owner, r.Class, resource, now)
	if err != nil {
		return nil, err
	}
	ev, _ := json.Marshal(recordEvent{Type: "record.put", Record: m.ID, Hash: m.Hash, Owner: m.Owner, Class: m.Class, Time: m.Created})
	if err := v.log.Append(RecordSubject(m.ID), ev); err != nil {
		return nil, err
	}
	v.trail(ctx, &trail.Entry{Time: now, Patient: m.Owner, Provider: r.Issuer, Record: m.ID, Class: m.Class,
		Action: trail.ActionPut, Outcome: trail.OutcomeGranted, Type: trail.DCMPatientRecord})
	return m, nil
}

// Read decides a signed read request and returns the record only when it
// is granted: a consent grant in force for the requester, the record's
// class and the purpose, made by the record's owner; or a break-glass
// opening the owner allows (see the package documentation). Every attempt
// on an existing record, granted or not, goes to the owner's trail. A
// refusal wraps [ErrDenied] (or [ErrUnauthenticated], [ErrReplay]) and
// releases nothing.
func (v *Vault) Read(ctx context.Context, token string) ([]byte, *vaultapi.Meta, error) {
	now := v.cfg.Now()
	r, authErr := v.auth.authenticate(ctx, token, now)
	if r == nil {
		return nil, nil, authErr
	}
	if r.Op != vaultapi.OpRead {
		return nil, nil, fmt.Errorf("%w: op %q, want %q", vaultapi.ErrBadRequest, r.Op, vaultapi.OpRead)
	}
	m, err := v.store.meta(r.Record)
	if err != nil {
		return nil, nil, err
	}
	e := &trail.Entry{Time: now, Patient: m.Owner, Provider: r.Issuer, Record: m.ID, Class: m.Class,
		Action: trail.ActionRead, Purpose: r.Purpose, Type: trail.DCMPatientRecord}
	if r.Consent != "" {
		e.Consent = consent.Hash(r.Consent)
	}
	if r.BreakGlass != "" {
		e.BreakGlass, e.Type, e.Reason = true, trail.DCMEmergencyOverride, r.BreakGlass
	}
	err = authErr
	if err == nil && m.Erased != nil {
		err = fmt.Errorf("%w: record %s", vaultapi.ErrErased, m.ID)
	}
	if err == nil {
		err = v.decide(ctx, r, m, now)
	}
	if err != nil {
		e.Outcome = trail.OutcomeDenied
		if e.Reason != "" {
			e.Reason += "; "
		}
		e.Reason += err.Error()
		v.trail(ctx, e)
		return nil, m, err
	}
	pt, err := v.store.read(m.ID)
	if err != nil {
		e.Outcome, e.Reason = trail.OutcomeDenied, err.Error()
		v.trail(ctx, e)
		return nil, m, err
	}
	e.Outcome = trail.OutcomeGranted
	v.trail(ctx, e)
	return pt, m, nil
}

// Decide runs the access decision of a verified read request r on record m
// at time now without reading or logging anything. It returns nil when the
// access is granted and an error wrapping [ErrDenied] otherwise. Read calls
// it; it is exported for benchmarks and dry runs.
func (v *Vault) Decide(ctx context.Context, r *vaultapi.Request, m *vaultapi.Meta, now time.Time) error {
	return v.decide(ctx, r, m, now)
}

func (v *Vault) decide(ctx context.Context, r *vaultapi.Request, m *vaultapi.Meta, now time.Time) error {
	if r.BreakGlass != "" {
		return v.breakGlass(ctx, r, m, now)
	}
	if r.Consent == "" {
		return fmt.Errorf("%w: %w", vaultapi.ErrDenied, vaultapi.ErrNoConsent)
	}
	g, err := v.cfg.Consent.CheckInForce(ctx, r.Consent, consent.Request{Provider: r.Issuer, Action: consent.ActionAccess,
		Purpose: r.Purpose, Class: m.Class, At: now})
	if err != nil {
		return fmt.Errorf("%w: %w", vaultapi.ErrDenied, err)
	}
	if g.Patient != m.Owner {
		return fmt.Errorf("%w: %w: the grant is by %s", vaultapi.ErrDenied, vaultapi.ErrNotOwner, g.Patient)
	}
	return nil
}

// breakGlass decides an emergency override. It needs purpose ETREAT and
// either an open break-glass window of this provider for this patient, the
// provider's own grant with break-glass allowed, or the patient's standing
// break-glass grant (made to the vault's DID, deposited with
// [Vault.AllowBreakGlass]); the grant is checked in force on the ledger.
// A granted override opens a window of Config.BreakGlassWindow.
func (v *Vault) breakGlass(ctx context.Context, r *vaultapi.Request, m *vaultapi.Meta, now time.Time) error {
	if r.Purpose != consent.PurposeEmergencyTreatment {
		return fmt.Errorf("%w: %w: break-glass needs purpose %s", vaultapi.ErrDenied, consent.ErrWrongPurpose, consent.PurposeEmergencyTreatment)
	}
	sk := r.Issuer + "\x00" + m.Owner
	v.mu.Lock()
	until, open := v.sessions[sk]
	standing := v.standing[m.Owner]
	v.mu.Unlock()
	if open && now.Before(until) {
		return nil
	}
	token, provider := r.Consent, r.Issuer
	if token == "" {
		token, provider = standing, v.cfg.DID
	}
	if token == "" {
		return fmt.Errorf("%w: %w", vaultapi.ErrDenied, vaultapi.ErrBreakGlassForbidden)
	}
	g, err := v.cfg.Consent.CheckInForce(ctx, token, consent.Request{Provider: provider, Action: consent.ActionAccess,
		Purpose: consent.PurposeEmergencyTreatment, Class: m.Class, At: now, BreakGlass: true})
	if err != nil {
		if provider == v.cfg.DID {
			return fmt.Errorf("%w: %w: standing grant: %w", vaultapi.ErrDenied, vaultapi.ErrBreakGlassForbidden, err)
		}
		return fmt.Errorf("%w: %w", vaultapi.ErrDenied, err)
	}
	if g.Patient != m.Owner {
		return fmt.Errorf("%w: %w: the grant is by %s", vaultapi.ErrDenied, vaultapi.ErrNotOwner, g.Patient)
	}
	v.mu.Lock()
	if len(v.sessions) >= maxCache {
		for k, until := range v.sessions {
			if !now.Before(until) {
				delete(v.sessions, k)
			}
		}
	}
	v.sessions[sk] = now.Add(v.cfg.BreakGlassWindow)
	v.mu.Unlock()
	return nil
}

// AllowBreakGlass deposits a patient's standing break-glass grant: a
// consent grant by the request's issuer to the vault's DID with break-glass
// allowed, anchored and in force. The patient withdraws it by revoking the
// grant on the ledger.
func (v *Vault) AllowBreakGlass(ctx context.Context, token string) error {
	now := v.cfg.Now()
	r, err := v.auth.authenticate(ctx, token, now)
	if err != nil {
		return err
	}
	if r.Op != vaultapi.OpBreakGlass || r.Consent == "" {
		return fmt.Errorf("%w: op %q with a consent grant, want %q", vaultapi.ErrBadRequest, r.Op, vaultapi.OpBreakGlass)
	}
	g, err := consent.Parse(r.Consent)
	if err != nil {
		return fmt.Errorf("%w: %v", vaultapi.ErrBadRequest, err)
	}
	if g.Patient != r.Issuer {
		return fmt.Errorf("%w: the grant is by %s, not the requester", vaultapi.ErrNotOwner, g.Patient)
	}
	if g.Provider != v.cfg.DID || !g.BreakGlass || len(g.Classes) == 0 {
		return fmt.Errorf("%w: a standing break-glass grant must be made to this vault (%s) with break-glass allowed", vaultapi.ErrBadRequest, v.cfg.DID)
	}
	if _, err := v.cfg.Consent.CheckInForce(ctx, r.Consent, consent.Request{Provider: v.cfg.DID, Action: consent.ActionAccess,
		Purpose: consent.PurposeEmergencyTreatment, Class: g.Classes[0], At: now, BreakGlass: true}); err != nil {
		return fmt.Errorf("%w: %w", vaultapi.ErrDenied, err)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	v.standing[g.Patient] = r.Consent
	b, err := json.Marshal(v.standing)
	if err != nil {
		return err
	}
	return writeFileSync(v.standingPath(), b)
}

// Erase crypto-shreds a record on its owner's signed request: the data key
// is overwritten and deleted, the ciphertext dropped, and the erasure
// (record id and hash) anchored through the trail. The record can never be
// read again.
func (v *Vault) Erase(ctx context.Context, token string) (*vaultapi.Meta, error) {
	now := v.cfg.Now()
	r, err := v.auth.authenticate(ctx, token, now)
	if err != nil {
		return nil, err
	}
	if r.Op != vaultapi.OpErase {
		return nil, fmt.Errorf("%w: op %q, want %q", vaultapi.ErrBadRequest, r.Op, vaultapi.OpErase)
	}
	m, err := v.store.meta(r.Record)
	if err != nil {
		return nil, err
	}
	e := &trail.Entry{Time: now, Patient: m.Owner, Provider: r.Issuer, Record: m.ID, Class: m.Class,
		Action: trail.ActionErase, Type: trail.DCMPatientRecord}
	if r.Issuer != m.Owner {
		e.Outcome, e.Reason = trail.OutcomeDenied, vaultapi.ErrNotOwner.Error()
		v.trail(ctx, e)
		return nil, fmt.Errorf("%w: only the owner may erase record %s", vaultapi.ErrNotOwner, m.ID)
	}
	m, err = v.store.erase(m.ID, now)
	if err != nil {
		return nil, err
	}
	ev, _ := json.Marshal(recordEvent{Type: "record.erase", Record: m.ID, Hash: m.Hash, Time: *m.Erased})
	if err := v.log.Append(RecordSubject(m.ID), ev); err != nil {
		return nil, err
	}
	e.Outcome = trail.OutcomeGranted
	v.trail(ctx, e)
	return m, nil
}

// AccessLog returns the trail of the patient who signed the request, each
// entry sealed to them and with its inclusion proof. Entries appear once
// their batch is anchored.
func (v *Vault) AccessLog(ctx context.Context, token string) ([]trail.Proved, error) {
	r, err := v.auth.authenticate(ctx, token, v.cfg.Now())
	if err != nil {
		return nil, err
	}
	if r.Op != vaultapi.OpAccessLog {
		return nil, fmt.Errorf("%w: op %q, want %q", vaultapi.ErrBadRequest, r.Op, vaultapi.OpAccessLog)
	}
	if r.Patient != r.Issuer {
		return nil, fmt.Errorf("%w: a patient reads only their own trail", vaultapi.ErrDenied)
	}
	return v.log.Entries(r.Patient), nil
}

// RecordEvents returns the anchored public events (put, erase) of a record
// with their inclusion proofs.
func (v *Vault) RecordEvents(id string) []trail.Proved { return v.log.Entries(RecordSubject(id)) }

// Meta returns a record's metadata (also of an erased record).
func (v *Vault) Meta(id string) (*vaultapi.Meta, error) { return v.store.meta(id) }

// trail seals e to its patient and queues it. A failure is logged, not
// returned: the access decision stands, and the entry's absence is visible
// to nobody but the operator, so it is logged at error level.
func (v *Vault) trail(ctx context.Context, e *trail.Entry) {
	e.ID = randid.Hex(12)
	e.Time = e.Time.UTC()
	rk, err := v.recipient(ctx, e.Patient)
	if err == nil {
		var sealed []byte
		if sealed, err = v.sealer.Seal(e, rk); err == nil {
			err = v.log.Append(e.Patient, sealed)
		}
	}
	if err != nil {
		v.cfg.Logger.Error("vault: trail entry lost", "record", e.Record, "err", err)
	}
}

// recipient returns the key-agreement key of a patient: from the first
// authentication key of their DID document (see trail.RecipientKey).
func (v *Vault) recipient(ctx context.Context, patient string) (any, error) {
	v.mu.Lock()
	rk, ok := v.recipients[patient]
	v.mu.Unlock()
	if ok {
		return rk, nil
	}
	res, err := v.cfg.Resolver.Resolve(ctx, patient)
	if err != nil {
		return nil, err
	}
	pub, err := PatientKey(res.Document)
	if err != nil {
		return nil, err
	}
	if rk, err = trail.RecipientKey(pub); err != nil {
		return nil, err
	}
	v.mu.Lock()
	if len(v.recipients) >= maxCache {
		clear(v.recipients) // a cache: refilled from the resolver
	}
	v.recipients[patient] = rk
	v.mu.Unlock()
	return rk, nil
}

// PatientKey returns the key whose key-agreement counterpart trail entries
// are sealed to: the first authentication key of the patient's DID
// document. The wallet decrypts with the matching private key.
func PatientKey(doc *did.Document) (key.PublicKey, error) {
	for _, ref := range doc.Authentication {
		if pub, err := doc.Key(ref, did.Authentication); err == nil {
			return pub, nil
		}
	}
	return key.PublicKey{}, fmt.Errorf("%w: %s has no usable authentication key", trail.ErrNoKeyAgreement, doc.ID)
}

// Close releases the trail's write-ahead file. Pending entries stay in it
// and are anchored by the next vault opened on the folder; call Flush (or
// let Run end) first to anchor them now.
func (v *Vault) Close() error { return v.log.Close() }
