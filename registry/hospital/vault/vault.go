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
	"strings"
	"sync"
	"time"

	"github.com/medid/medid/credentials/consent"
	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/credentials/openid4vp"
	"github.com/medid/medid/credentials/verify"
	"github.com/medid/medid/internal/randid"
	"github.com/medid/medid/registry/hospital/batch"
	"github.com/medid/medid/registry/hospital/trail"
	"github.com/medid/medid/registry/hospital/vaultapi"
	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/tx"
)

// ConsentChecker decides whether a consent grant token is valid and in force
// for a request: its signature by the grant's patient, Grant.Permits, and the
// ledger status of its hash. *consent.Checker implements it.
type ConsentChecker interface {
	CheckInForce(ctx context.Context, token string, req consent.Request) (*consent.Grant, error)
}

// AnchorReader reads back what the ledger anchored for a batch of a vault's
// trail; *registry/client.Client implements it, and registryd reads its own
// state.
type AnchorReader interface {
	AuditAnchor(ctx context.Context, vault, batchID string) (*ledger.AuditRecord, error)
}

// maxCache bounds the vault's in-memory maps of patients' key-agreement
// keys and of origins of unauthenticated requests.
const maxCache = 100000

// Defaults of [Config].
const (
	DefaultMaxSkew = 2 * time.Minute
	// DefaultUnauthenticatedPerMinute is how many unauthenticated attempts
	// from one origin are written to trails per minute, each on its own;
	// the rest are counted and reported in one entry per patient a minute.
	DefaultUnauthenticatedPerMinute = 10
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
	// once it is committed; a rejection MUST wrap the registry/ledger
	// sentinel of its code (ledger.ErrorOf), so an anchor the ledger holds
	// already is recognised. Required.
	Submit func(ctx context.Context, signedTx []byte) error
	// Anchors reads back anchored trail batches, to repair a flush a crash
	// interrupted. Required.
	Anchors AnchorReader
	// Writers are the DIDs allowed to store records besides DID itself.
	Writers []string
	// Delegations decides acts under delegations (representatives acting
	// for patients: see delegation.go); nil refuses every such act with
	// vaultapi.ErrDelegationsOff.
	Delegations DelegationChecker
	// Licences checks a practitioner licence presented to the vault and
	// returns the practitioner's DID (see licence.go); nil refuses them.
	Licences func(ctx context.Context, licence string) (practitioner string, err error)
	// PublicURL is the vault's base URL as practitioners' wallets reach
	// it (https://hospital.example, without /1.0/vault). With
	// Presentations it makes the vault an OpenID4VP verifier for licences
	// (licence_vp.go); "" leaves only PUT /1.0/vault/licence.
	PublicURL string
	// Presentations verifies presented licences (signatures, holder
	// binding, validity, status, the body's accreditation for licences).
	Presentations *verify.Verifier
	// Staff are the DIDs the hospital vouches for in an emergency: only
	// they may read a record under a patient's standing break-glass
	// permission (made to the vault's DID). A provider the patient named
	// in a grant with break-glass allowed needs no roster entry.
	Staff []string
	// MaxSkew is how far a request's time may be from the vault's clock
	// (default 2 min).
	MaxSkew time.Duration
	// UnauthenticatedPerMinute caps the unauthenticated attempts per
	// origin written to trails one by one (default 10); see
	// [DefaultUnauthenticatedPerMinute].
	UnauthenticatedPerMinute int
	// BatchInterval and MaxBatch tune trail anchoring, MaxCommitDelay the
	// trail's group commit (see batch.Config).
	BatchInterval  time.Duration
	MaxBatch       int
	MaxCommitDelay time.Duration
	// AfterTrailStep is batch.Config.AfterStep, for crash tests; nil in
	// production.
	AfterTrailStep func(step string)
	// TrailCompactAbove is batch.Config.CompactAbove, for crash tests; 0
	// (one 16 MiB chunk) in production.
	TrailCompactAbove int64
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

	vp *openid4vp.Verifier // takes licences over OpenID4VP; nil without Config.PublicURL

	mu sync.Mutex // guards standing, recipients, staff and licences
	// standing maps a patient DID to their standing break-glass grant.
	standing   map[string]string
	recipients map[string]any
	staff      []string

	unauth *originLimiter
	del    *delegated
	// licences maps a practitioner DID to the licence they presented.
	licences map[string]string
}

// New opens (creating) a vault in cfg.Dir.
func New(cfg Config) (*Vault, error) {
	if cfg.Dir == "" || cfg.DID == "" || cfg.Key == nil || cfg.KeyID == "" || cfg.Resolver == nil || cfg.Consent == nil || cfg.Submit == nil || cfg.Anchors == nil {
		return nil, errors.New("vault.New: Dir, DID, Key, KeyID, Resolver, Consent, Submit and Anchors are required")
	}
	if cfg.UnauthenticatedPerMinute <= 0 {
		cfg.UnauthenticatedPerMinute = DefaultUnauthenticatedPerMinute
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
	v := &Vault{cfg: cfg, store: st, sealer: &trail.Sealer{}, standing: map[string]string{}, recipients: map[string]any{}, licences: map[string]string{},
		unauth: newOriginLimiter(cfg.UnauthenticatedPerMinute), staff: slices.Clone(cfg.Staff)}
	if v.del, err = openDelegated(filepath.Join(cfg.Dir, "delegated")); err != nil {
		return nil, err
	}
	if v.auth, err = openAuthenticator(cfg.Dir, cfg.DID, cfg.Resolver, cfg.MaxSkew, cfg.Now()); err != nil {
		return nil, err
	}
	v.log, err = batch.OpenLog(batch.Config{Dir: filepath.Join(cfg.Dir, "trail"), Anchor: v.anchor, Lookup: v.lookupAnchor,
		MaxBatch: cfg.MaxBatch, Interval: cfg.BatchInterval, MaxCommitDelay: cfg.MaxCommitDelay, Logger: cfg.Logger, AfterStep: cfg.AfterTrailStep,
		CompactAbove: cfg.TrailCompactAbove})
	if err != nil {
		return nil, err
	}
	// From here a failure closes what is open (the log runs a committer).
	if err := v.loadLicences(); err != nil {
		v.Close()
		return nil, err
	}
	if v.vp, err = v.newLicenceVerifier(); err != nil {
		v.Close()
		return nil, err
	}
	if b, err := os.ReadFile(v.standingPath()); err == nil {
		if err := json.Unmarshal(b, &v.standing); err != nil {
			v.Close()
			return nil, fmt.Errorf("vault: %s: %w", v.standingPath(), err)
		}
	}
	return v, nil
}

// SetStaff replaces the break-glass roster (Config.Staff): the DIDs the
// hospital vouches for in an emergency. Safe for concurrent use; it takes
// effect for the next request.
func (v *Vault) SetStaff(dids []string) {
	v.mu.Lock()
	v.staff = slices.Clone(dids)
	v.mu.Unlock()
}

// DID returns the vault's DID.
func (v *Vault) DID() string { return v.cfg.DID }

// Run anchors the trail every BatchInterval until ctx is done, then
// flushes; once a minute it writes the tallies of unauthenticated attempts
// beyond the per-origin cap to the patients' trails.
func (v *Vault) Run(ctx context.Context) {
	go func() {
		t := time.NewTicker(time.Minute)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				v.reportSuppressed(ctx, v.cfg.Now())
			}
		}
	}()
	v.log.Run(ctx)
}

// Backlog returns how many trail entries are not yet anchored, and the
// error that stops the trail from recording accesses (nil when it can):
// what a readiness check reports.
func (v *Vault) Backlog() (int, error) { return v.log.Pending(), v.log.Healthy() }

// Flush anchors every pending trail entry now.
func (v *Vault) Flush(ctx context.Context) error { return v.log.Flush(ctx) }

func (v *Vault) standingPath() string { return filepath.Join(v.cfg.Dir, "breakglass.json") }

// anchor signs and submits one audit.anchor transaction.
func (v *Vault) anchor(ctx context.Context, a batch.Anchor) error {
	p, err := tx.NewAuditAnchor(v.cfg.DID, a.BatchID, a.Root, a.Count)
	if err != nil {
		return err
	}
	raw, err := tx.Sign(p, v.cfg.Key, v.cfg.KeyID)
	if err != nil {
		return err
	}
	err = v.cfg.Submit(ctx, raw)
	if errors.Is(err, ledger.ErrExists) {
		return fmt.Errorf("%w: %w", batch.ErrAnchorExists, err)
	}
	return err
}

// lookupAnchor reads back what the ledger anchored for one of this vault's
// batch ids.
func (v *Vault) lookupAnchor(ctx context.Context, batchID string) (*batch.Anchor, error) {
	rec, err := v.cfg.Anchors.AuditAnchor(ctx, v.cfg.DID, batchID)
	if errors.Is(err, ledger.ErrNotFound) {
		return nil, fmt.Errorf("%w: %w", batch.ErrNotAnchored, err)
	}
	if err != nil {
		return nil, err
	}
	a := &batch.Anchor{BatchID: rec.BatchID, Count: int(rec.Count)}
	b, err := hex.DecodeString(rec.Root)
	if err != nil || len(b) != len(a.Root) {
		return nil, fmt.Errorf("vault: the ledger's root of batch %s is not a hex SHA-256", batchID)
	}
	copy(a.Root[:], b)
	return a, nil
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
// Config.Writers, its bodyHash the SHA-256 of resource, and the resource of
// the class it is filed under (a Bundle only when every entry is): a
// grant for a class opens exactly that class. The record's existence and
// the put are in the trail (durably) before Put returns; when they cannot
// be recorded the record is removed and an error wrapping
// [vaultapi.ErrTrailUnavailable] returned.
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
	if err := checkClass(resource, r.Class); err != nil {
		return nil, fmt.Errorf("%w: %w", vaultapi.ErrBadRequest, err)
	}
	if _, err := v.recipient(ctx, r.Owner); err != nil {
		return nil, fmt.Errorf("%w: owner %s: %v", vaultapi.ErrBadRequest, r.Owner, err)
	}
	m, err := v.store.put(r.Owner, r.Class, resource, now)
	if err != nil {
		return nil, err
	}
	if err := v.stored(ctx, m, r.Issuer, now); err != nil {
		return nil, err
	}
	return m, nil
}

// stored anchors a new record's public event and puts the write in its
// owner's trail, durably: every write path ends here. When they cannot be
// recorded the record is removed (not acknowledged, so not kept: the
// writer retries) and the error wraps [vaultapi.ErrTrailUnavailable].
func (v *Vault) stored(ctx context.Context, m *vaultapi.Meta, writer string, now time.Time) error {
	ev, _ := json.Marshal(recordEvent{Type: "record.put", Record: m.ID, Hash: m.Hash, Owner: m.Owner, Class: m.Class, Time: m.Created})
	err := v.log.Append(RecordSubject(m.ID), ev)
	if err == nil {
		err = v.trail(ctx, &trail.Entry{Time: now, Patient: m.Owner, Provider: writer, Record: m.ID, Class: m.Class,
			Action: trail.ActionPut, Outcome: trail.OutcomeGranted, Type: trail.DCMPatientRecord})
	}
	if err != nil {
		if rerr := v.store.remove(m.ID); rerr != nil {
			v.cfg.Logger.Error("vault: remove an unrecorded record", "record", m.ID, "err", rerr)
		}
		return fmt.Errorf("%w: %v", vaultapi.ErrTrailUnavailable, err)
	}
	return nil
}

// Read decides a signed read request and returns the record only when it
// is granted: a consent grant in force for the requester, the record's
// class and the purpose, made by the record's owner; or a break-glass
// access the owner allows (see the package documentation). Every attempt
// on an existing record, granted or not, goes to the owner's trail, and a
// record is released only after its trail entry is durable: when the entry
// cannot be written the answer is an error wrapping
// [vaultapi.ErrTrailUnavailable] and nothing is released (fail closed).
//
// A request that does not authenticate (bad signature, stale, replayed,
// for another vault) is recorded as what it is: an unauthenticated attempt
// from the origin in ctx ([WithOrigin]), never attributed to the DID it
// claims, without the text it carries, and at most
// Config.UnauthenticatedPerMinute per origin one by one (the rest are
// counted into one entry per patient a minute). It gets the same error
// whether or not the record exists, so it learns nothing.
func (v *Vault) Read(ctx context.Context, token string) ([]byte, *vaultapi.Meta, error) {
	now := v.cfg.Now()
	r, authErr := v.auth.authenticate(ctx, token, now)
	if r == nil {
		return nil, nil, authErr
	}
	if authErr != nil {
		if m, err := v.store.meta(r.Record); err == nil && m.Erased == nil {
			v.unauthenticated(ctx, m, now)
		}
		return nil, nil, authErr
	}
	if r.Op != vaultapi.OpRead {
		return nil, nil, fmt.Errorf("%w: op %q, want %q", vaultapi.ErrBadRequest, r.Op, vaultapi.OpRead)
	}
	rec, err := v.store.get(r.Record)
	if err != nil {
		return nil, nil, err
	}
	pt, err := v.readAs(ctx, r, nil, rec, now, nil)
	return pt, &rec.Meta, err
}

// readAs decides a read of record m by the authenticated requester r
// (refused with authErr when it is not nil, e.g. a scope the FHIR layer
// found missing), decrypts the record when it is granted and release
// (optional) accepts it, and puts the attempt in the owner's trail either
// way, durably, before anything is released. It is the one read path: the
// signed-request API and the FHIR API both come through here, and through
// [Vault.decide].
func (v *Vault) readAs(ctx context.Context, r *vaultapi.Request, authErr error, rec *recordFile, now time.Time, release func([]byte) error) ([]byte, error) {
	m := &rec.Meta
	e := &trail.Entry{Time: now, Patient: m.Owner, Provider: r.Issuer, Record: m.ID, Class: m.Class,
		Action: trail.ActionRead, Purpose: r.Purpose, Type: trail.DCMPatientRecord}
	e.Consent = consentHash(r)
	if r.BreakGlass != "" {
		e.BreakGlass, e.Type, e.Reason = true, trail.DCMEmergencyOverride, r.BreakGlass
		// A break-glass attempt, granted or not, reaches the patient at
		// once rather than at the next batch.
		defer v.log.Kick()
	}
	err := authErr
	if err == nil && m.Erased != nil {
		err = fmt.Errorf("%w: record %s", vaultapi.ErrErased, m.ID)
	}
	if err == nil {
		var d decision
		d, err = v.decideWith(ctx, r, m, now)
		e.Authority = d.authority
		if d.standing != "" {
			// Name the permission that let the hospital in: the
			// patient's standing grant, by its hash.
			e.Standing, e.Consent = true, consent.Hash(d.standing)
		}
	}
	var pt []byte
	if err == nil {
		if pt, err = v.store.open(rec); err == nil {
			if cerr := v.store.checkedClass(rec, pt); cerr != nil {
				pt, err = nil, fmt.Errorf("%w: %w", vaultapi.ErrDenied, cerr)
			} else if release != nil {
				if rerr := release(pt); rerr != nil {
					clear(pt)
					pt, err = nil, rerr
				}
			}
		}
	}
	if err != nil {
		e.Outcome = trail.OutcomeDenied
		if e.Reason != "" {
			e.Reason += "; "
		}
		e.Reason += err.Error()
		if terr := v.trail(ctx, e); terr != nil {
			return nil, fmt.Errorf("%w (%v); the refusal itself: %w", vaultapi.ErrTrailUnavailable, terr, err)
		}
		return nil, err
	}
	e.Outcome = trail.OutcomeGranted
	if err := v.trail(ctx, e); err != nil {
		clear(pt)
		return nil, fmt.Errorf("%w: %v", vaultapi.ErrTrailUnavailable, err)
	}
	return pt, nil
}

// consentHash returns consent.Hash of r's grant ("" without one), computed
// once per request (r.ConsentHash).
func consentHash(r *vaultapi.Request) string {
	if r.Consent == "" {
		return ""
	}
	if r.ConsentHash == "" {
		r.ConsentHash = consent.Hash(r.Consent)
	}
	return r.ConsentHash
}

// Decide runs the access decision of a verified read request r on record m
// at time now without reading or logging anything. It returns nil when the
// access is granted and an error wrapping [vaultapi.ErrDenied] otherwise. Read calls
// it; it is exported for benchmarks and dry runs.
func (v *Vault) Decide(ctx context.Context, r *vaultapi.Request, m *vaultapi.Meta, now time.Time) error {
	return v.decide(ctx, r, m, now)
}

func (v *Vault) decide(ctx context.Context, r *vaultapi.Request, m *vaultapi.Meta, now time.Time) error {
	_, err := v.decideWith(ctx, r, m, now)
	return err
}

// decision is what an access decision rests on, for the trail entry.
type decision struct {
	// authority is the delegation a representative acted on (nil for a
	// provider under the patient's own grant).
	authority *trail.Authority
	// standing is the patient's standing break-glass grant (the token)
	// when it let an emergency read in; "" otherwise.
	standing string
}

// decideWith is decide, returning what the decision rested on for the
// trail entry.
func (v *Vault) decideWith(ctx context.Context, r *vaultapi.Request, m *vaultapi.Meta, now time.Time) (decision, error) {
	if r.BreakGlass != "" {
		standing, err := v.breakGlass(ctx, r, m, now)
		return decision{standing: standing}, err
	}
	a, err := v.decideGrant(ctx, r, m, now)
	return decision{authority: a}, err
}

// decideGrant decides a read under a consent grant or a delegation.
func (v *Vault) decideGrant(ctx context.Context, r *vaultapi.Request, m *vaultapi.Meta, now time.Time) (*trail.Authority, error) {
	if r.Delegation != "" {
		if r.Consent != "" {
			return nil, fmt.Errorf("%w: a read presents a consent grant (a provider) or a delegation (a representative), not both", vaultapi.ErrBadRequest)
		}
		return v.asRepresentative(ctx, r, m, now)
	}
	if r.Consent == "" {
		return nil, fmt.Errorf("%w: %w", vaultapi.ErrDenied, vaultapi.ErrNoConsent)
	}
	g, err := v.cfg.Consent.CheckInForce(ctx, r.Consent, consent.Request{Provider: r.Issuer, Action: consent.ActionAccess,
		Purpose: r.Purpose, Class: m.Class, At: now})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", vaultapi.ErrDenied, err)
	}
	if g.OnBehalfOf != "" {
		return v.delegatedGrant(ctx, g, m, now)
	}
	if g.Patient != m.Owner {
		return nil, fmt.Errorf("%w: %w: the grant is by %s", vaultapi.ErrDenied, vaultapi.ErrNotOwner, g.Patient)
	}
	return nil, nil
}

// breakGlass decides an emergency override. It needs purpose ETREAT, a
// class the patient allowed, and either the provider's own grant with
// break-glass allowed, or the patient's standing break-glass grant (made
// to the vault's DID, deposited with [Vault.AllowBreakGlass]) used by a
// member of the hospital's staff roster (Config.Staff). The grant is
// checked in force on the ledger at every read, so a revocation closes
// emergency access as soon as the consent checker sees it (at the next
// block in registryd, which reads its own committed state every time).
// It returns the standing grant's token when that grant let the read in
// ("" under the provider's own grant), for the trail entry.
func (v *Vault) breakGlass(ctx context.Context, r *vaultapi.Request, m *vaultapi.Meta, now time.Time) (standing string, err error) {
	if r.Purpose != consent.PurposeEmergencyTreatment {
		return "", fmt.Errorf("%w: %w: break-glass needs purpose %s", vaultapi.ErrDenied, consent.ErrWrongPurpose, consent.PurposeEmergencyTreatment)
	}
	token, provider := r.Consent, r.Issuer
	if token == "" {
		v.mu.Lock()
		token = v.standing[m.Owner]
		v.mu.Unlock()
		if token == "" {
			return "", fmt.Errorf("%w: %w", vaultapi.ErrDenied, vaultapi.ErrBreakGlassForbidden)
		}
		v.mu.Lock()
		onRoster := slices.Contains(v.staff, r.Issuer)
		v.mu.Unlock()
		if !onRoster {
			return "", fmt.Errorf("%w: %w: %s is not on this hospital's staff roster", vaultapi.ErrDenied, vaultapi.ErrNotStaff, r.Issuer)
		}
		provider, standing = v.cfg.DID, token
	}
	g, err := v.cfg.Consent.CheckInForce(ctx, token, consent.Request{Provider: provider, Action: consent.ActionAccess,
		Purpose: consent.PurposeEmergencyTreatment, Class: m.Class, At: now, BreakGlass: true})
	if err != nil {
		if provider == v.cfg.DID {
			return "", fmt.Errorf("%w: %w: standing grant: %w", vaultapi.ErrDenied, vaultapi.ErrBreakGlassForbidden, err)
		}
		return "", fmt.Errorf("%w: %w", vaultapi.ErrDenied, err)
	}
	if g.Patient != m.Owner {
		return "", fmt.Errorf("%w: %w: the grant is by %s", vaultapi.ErrDenied, vaultapi.ErrNotOwner, g.Patient)
	}
	return standing, nil
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
		if err := v.trail(ctx, e); err != nil {
			return nil, fmt.Errorf("%w: %v", vaultapi.ErrTrailUnavailable, err)
		}
		return nil, fmt.Errorf("%w: only the owner may erase record %s", vaultapi.ErrNotOwner, m.ID)
	}
	m, err = v.store.erase(m.ID, now)
	if err != nil {
		return nil, err
	}
	// The erasure happened (the key is gone); its record must reach the
	// trail. If it cannot now, the owner is told, and a retry finds the
	// record erased and records that.
	ev, _ := json.Marshal(recordEvent{Type: "record.erase", Record: m.ID, Hash: m.Hash, Time: *m.Erased})
	err = v.log.Append(RecordSubject(m.ID), ev)
	if err == nil {
		e.Outcome = trail.OutcomeGranted
		err = v.trail(ctx, e)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", vaultapi.ErrTrailUnavailable, err)
	}
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
		return v.representativeLog(ctx, r, v.cfg.Now())
	}
	return v.log.Entries(r.Patient), nil
}

// RecordEvents returns the anchored public events (put, erase) of a record
// with their inclusion proofs.
func (v *Vault) RecordEvents(id string) []trail.Proved { return v.log.Entries(RecordSubject(id)) }

// Events answers a signed events request: the anchored put and erase events
// of a record, for its owner, the vault or a writer. Anyone else, signed or
// not, gets an error that says nothing about whether the record exists
// (wrapping [vaultapi.ErrUnauthenticated] when the request does not
// authenticate, [vaultapi.ErrNotFound] otherwise).
func (v *Vault) Events(ctx context.Context, token string) ([]trail.Proved, error) {
	r, err := v.auth.authenticate(ctx, token, v.cfg.Now())
	if err != nil {
		return nil, err
	}
	if r.Op != vaultapi.OpEvents {
		return nil, fmt.Errorf("%w: op %q, want %q", vaultapi.ErrBadRequest, r.Op, vaultapi.OpEvents)
	}
	m, err := v.store.meta(r.Record)
	if err != nil || (r.Issuer != m.Owner && r.Issuer != v.cfg.DID && !slices.Contains(v.cfg.Writers, r.Issuer)) {
		return nil, fmt.Errorf("%w: no record %.128q of yours", vaultapi.ErrNotFound, r.Record)
	}
	return v.RecordEvents(m.ID), nil
}

// Meta returns a record's metadata (also of an erased record).
func (v *Vault) Meta(id string) (*vaultapi.Meta, error) { return v.store.meta(id) }

// trail seals e to its patient and appends it to the trail, durably: when
// it returns nil the entry survives a crash, and the caller may release
// what it records. An error means the access is not recorded; the caller
// MUST then release nothing. A reason too long for a trail entry (all
// request fields are bounded at the edge, so only a bug could produce one)
// is cut rather than losing the entry.
func (v *Vault) trail(ctx context.Context, e *trail.Entry) error {
	e.ID = randid.Hex(12)
	e.Time = e.Time.UTC()
	if e.Licence == "" {
		e.Licence = v.licenceOf(e.Provider)
	}
	rk, err := v.recipient(ctx, e.Patient)
	if err != nil {
		return fmt.Errorf("patient key for the trail: %w", err)
	}
	for {
		sealed, err := v.sealer.Seal(e, rk)
		if err != nil {
			return err
		}
		if len(sealed) <= trail.MaxEntrySize || len(e.Reason) < 64 {
			// sealed is this entry's alone: the log keeps it uncopied.
			if err := v.log.AppendOwned(e.Patient, sealed); err != nil {
				v.cfg.Logger.Error("vault: cannot record an access; refusing it", "record", e.Record, "err", err)
				return err
			}
			v.copyToRepresentatives(ctx, e)
			return nil
		}
		e.Reason = strings.ToValidUTF8(e.Reason[:len(e.Reason)/2], "") + " [cut]"
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
func PatientKey(doc *did.Document) (key.PublicKey, error) { return trail.PatientKey(doc) }

// unauthenticated records an attempt on m that did not authenticate, as
// such: no claimed identity, no requester text, the origin from ctx; at
// most Config.UnauthenticatedPerMinute per origin one by one, the rest
// tallied for [Vault.reportSuppressed]. A failure to record it is logged:
// nothing is released either way.
func (v *Vault) unauthenticated(ctx context.Context, m *vaultapi.Meta, now time.Time) {
	origin := Origin(ctx)
	if !v.unauth.allow(origin, m.Owner, now) {
		return
	}
	e := &trail.Entry{Time: now, Patient: m.Owner, Record: m.ID, Class: m.Class, Action: trail.ActionRead,
		Outcome: trail.OutcomeDenied, Type: trail.DCMPatientRecord, Unauthenticated: true, Origin: origin,
		Reason: "the request did not prove who sent it (bad or missing signature, replayed, stale, or for another hospital)"}
	if err := v.trail(ctx, e); err != nil {
		v.cfg.Logger.Error("vault: cannot record an unauthenticated attempt", "err", err)
	}
}

// reportSuppressed writes one entry per patient for the unauthenticated
// attempts over the per-origin cap since the last report.
func (v *Vault) reportSuppressed(ctx context.Context, now time.Time) {
	for _, s := range v.unauth.drain(now) {
		e := &trail.Entry{Time: now, Patient: s.patient, Action: trail.ActionRead, Outcome: trail.OutcomeDenied,
			Type: trail.DCMPatientRecord, Unauthenticated: true, Origin: s.origin, Count: s.count,
			Reason: fmt.Sprintf("%d more unauthenticated attempts from this origin in the last minute", s.count)}
		if err := v.trail(ctx, e); err != nil {
			v.cfg.Logger.Error("vault: cannot record suppressed unauthenticated attempts", "err", err)
		}
	}
}

// Close releases the trail's write-ahead file. Pending entries stay in it
// and are anchored by the next vault opened on the folder; call Flush (or
// let Run end) first to anchor them now.
func (v *Vault) Close() error { return errors.Join(v.auth.close(), v.log.Close()) }
