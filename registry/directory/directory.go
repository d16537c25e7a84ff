// Package directory answers "who is this DID?" for people: an
// organisation from the registry's directory (its governance-written
// entry, never a name the DID gave itself), a practitioner from a verified
// licence credential issued by a licensing body in the directory (with
// their employer), or unknown. Every screen and command that shows a
// hospital, a doctor, a verifier or a vault shows [Identity.Label].
//
// A [Directory] reads the registry through a [Source] (a
// registry/client.Client, with proofs when it is configured so), keeps
// answers in a cache for Config.TTL, and can save and load an offline
// snapshot of what it learned, which the wallet keeps so names still show
// with no network (marked as from the snapshot, with its date).
//
// Lookups never fail for an unknown DID: the answer is an Identity of
// KindUnknown, and the label says so plainly ("someone not in the
// directory (ref. 2doK3C)"; see [Identity.Label] for the whole rule).
// A self-asserted name (an issuer's "name" property, a verifier's
// client_name) is never an Identity's name.
package directory

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/medid/medid/credentials/licence"
	"github.com/medid/medid/credentials/vc"
	"github.com/medid/medid/credentials/verify"
	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/tx"
)

// Source is the registry as the directory reads it; *client.Client
// implements it. Errors wrap ledger.ErrNotFound for what is not there.
type Source interface {
	Directory(ctx context.Context, did string) (*ledger.DirectoryRecord, error)
	DirectoryRole(ctx context.Context, did string) (*ledger.DirectoryAlias, error)
	Accreditations(ctx context.Context, did string) (*ledger.IssuerRecord, error)
}

// Kind says what a DID was found to be.
type Kind string

// Kinds of [Identity].
const (
	KindOrganisation Kind = "organisation"
	KindPractitioner Kind = "practitioner"
	KindUnknown      Kind = "unknown"
)

// Organisation is an organisation as the directory has it now.
type Organisation struct {
	DID     string            `json:"did"`
	Entry   tx.DirectoryEntry `json:"entry"`
	Status  string            `json:"status"` // ledger.DirectoryActive, …
	Reason  string            `json:"reason,omitempty"`
	Version int64             `json:"version"`
	// Since is when the current version was recorded; Listed when the
	// organisation was first added.
	Since  time.Time `json:"since"`
	Listed time.Time `json:"listed"`
	// Accreditations are the issuer accreditations in force now.
	Accreditations []ledger.Accreditation `json:"accreditations,omitempty"`
}

// Active reports whether the organisation is in force (not suspended).
func (o *Organisation) Active() bool { return o != nil && o.Status == ledger.DirectoryActive }

// AccreditedFor returns the accreditation in force for credType, or nil.
func (o *Organisation) AccreditedFor(credType string, at time.Time) *ledger.Accreditation {
	if o == nil {
		return nil
	}
	for i := range o.Accreditations {
		if o.Accreditations[i].ActiveAt(credType, at) {
			return &o.Accreditations[i]
		}
	}
	return nil
}

// Practitioner is a person in their professional capacity, from a
// verified licence.
type Practitioner struct {
	licence.Claims
	// Body is the licensing body that issued the licence.
	Body *Organisation `json:"body"`
	// EmployerOrg is the employer from the directory (nil when the
	// licence names none, or one that is not an active organisation).
	EmployerOrg *Organisation `json:"employerOrg,omitempty"`
	LicenceID   string        `json:"licenceId"`
	ValidUntil  *time.Time    `json:"validUntil,omitempty"`
}

// Identity is the answer to "who is this DID?".
type Identity struct {
	DID  string `json:"did"`
	Kind Kind   `json:"kind"`
	// Organisation: the organisation itself, or the one that lists DID as
	// the DID of Role (a vault's did:key).
	Organisation *Organisation `json:"organisation,omitempty"`
	Role         string        `json:"role,omitempty"`
	Practitioner *Practitioner `json:"practitioner,omitempty"`
	// Problem says why a DID that was found is not trusted as named (a
	// suspended organisation, a revoked licence, a body that is not a
	// licensing body), or why nothing could be checked.
	Problem string `json:"problem,omitempty"`
	// Source is where the answer came from: "registry", "registry
	// (proven)" or "snapshot of <date>".
	Source  string    `json:"source"`
	Checked time.Time `json:"checked"`
	// Saved is set when the answer came from the wallet's saved copy of
	// the directory (the offline snapshot, see [Directory.LoadSnapshot])
	// because the registry was not asked or did not answer: the time the
	// registry last gave it. [Identity.Label] then says the name is as
	// the directory was on that date. Zero for an answer from the registry.
	Saved time.Time `json:"saved,omitzero"`
}

// Verified reports whether the identity is a name to show as verified: an
// active organisation, or a practitioner with a valid licence from an
// active licensing body.
func (i *Identity) Verified() bool {
	if i == nil || i.Problem != "" {
		return false
	}
	switch i.Kind {
	case KindOrganisation:
		return i.Organisation.Active()
	case KindPractitioner:
		return i.Practitioner != nil && i.Practitioner.Body.Active()
	}
	return false
}

// Name is the verified name ("" when there is none).
func (i *Identity) Name() string {
	if !i.Verified() {
		return ""
	}
	if i.Kind == KindPractitioner {
		return i.Practitioner.Name
	}
	return i.Organisation.Entry.DisplayName
}

// roleWords are how labels say a role DID.
var roleWords = map[string]string{
	tx.RoleVaultOperator: "record vault", tx.RoleVerifier: "verifier", tx.RoleIssuer: "issuer", tx.RoleValidator: "validator",
}

// ShortDID abbreviates a DID for display: did:key:z6Mkabc…wxyz.
func ShortDID(d string) string {
	if len(d) <= 28 || !strings.HasPrefix(d, "did:") {
		return d
	}
	return d[:18] + "…" + d[len(d)-6:]
}

// The naming rule. Every command and screen that names a party (an
// issuer, a verifier, a vault, a provider in a consent or an access)
// names it with [Identity.Label], so the CLI and the app say the same
// thing:
//
//   - verified: its directory name, with its kind when the name does not
//     say it ("St Mary's Hospital", "Boots (pharmacy)", "St Mary's
//     Hospital (record vault)"); a practitioner by their licence, with
//     their employer ("Dr. Jane Doe (St Mary's Hospital)");
//   - an organisation the directory lists but has suspended: its name,
//     flagged ("St Mary's Hospital (suspended in the directory)");
//   - found but not trusted: "someone not verified (licence revoked; ref.
//     2doK3C)";
//   - not in the directory: "someone not in the directory (ref. 2doK3C)";
//   - a name from the wallet's saved copy of the directory (no registry
//     at hand): the name with the copy's date, as the directory had it
//     then ("St Mary's Hospital (directory as saved on 3 Dec 2026)",
//     "Boots (pharmacy; directory as saved on 3 Dec 2026)", "St Jude's
//     Hospital (suspended in the directory as saved on 3 Dec 2026)").
//
// Every label reads the same alone ("Issued by: …") and inside a
// sentence ("… read your allergies"): a name, then what qualifies it in
// one pair of brackets, never a dash or capitals that break the sentence.
//
// A DID is never shown as if it were a name, and a name a DID gives
// itself never appears. The reference ([Ref]) is the end of the DID, so
// two unnamed parties on one screen are told apart and a person can match
// it against the identifier they were given; the full DID is always one
// step away (the CLI's --dids, the app's "Copy their identifier").
// A label may start a sentence: capitalise its first letter there
// ([Capitalize]).

// Ref is the short reference to did that labels carry: the last six
// characters of its method-specific identifier ("2doK3C").
func Ref(did string) string {
	ref := did[strings.LastIndexByte(did, ':')+1:]
	if n := len(ref); n > 6 {
		ref = ref[n-6:]
	}
	return ref
}

// Unlisted is the label of a DID nothing is known of (no lookup made, or
// no directory at hand): "someone not in the directory (ref. 2doK3C)".
func Unlisted(did string) string {
	return "someone not in the directory (ref. " + Ref(did) + ")"
}

// kindWords are how labels say an organisation's kind.
var kindWords = map[string]string{
	tx.KindHospital: "hospital", tx.KindClinic: "clinic", tx.KindPharmacy: "pharmacy", tx.KindLaboratory: "laboratory",
	tx.KindLicensingBody: "licensing body", tx.KindInsurer: "insurer", tx.KindEmergencyService: "emergency service",
	tx.KindResearch: "research organisation",
}

// KindWords is an organisation kind in words ("licensing body"); the kind
// itself when it has none.
func KindWords(kind string) string {
	if w, ok := kindWords[kind]; ok {
		return w
	}
	return kind
}

// Capitalize upper-cases the first letter of a label that starts a
// sentence ("Someone not in the directory …"); a DID is left as it is.
func Capitalize(s string) string {
	if s == "" || strings.HasPrefix(s, "did:") {
		return s
	}
	r := []rune(s)
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}

// Label is how people see the DID, by the naming rule above.
func (i *Identity) Label() string {
	if i == nil {
		return "someone not in the directory"
	}
	name, notes := i.labelParts()
	if len(notes) == 0 {
		return name
	}
	return name + " (" + strings.Join(notes, "; ") + ")"
}

// SavedWords says where a name from the wallet's saved copy of the
// directory comes from, "directory as saved on 3 Dec 2026"; "" for an
// answer from the registry.
func (i *Identity) SavedWords() string {
	if i == nil || i.Saved.IsZero() {
		return ""
	}
	return "directory as saved on " + i.Saved.Format("2 Jan 2006")
}

// SuspendedWords are what the label of a suspended organisation says
// after its name, in brackets ("St Jude's Hospital (suspended in the
// directory)").
const SuspendedWords = "suspended in the directory"

// Suspended reports whether i is an organisation that the directory
// lists but has suspended (its label names it, flagged).
func (i *Identity) Suspended() bool {
	return i != nil && i.Kind == KindOrganisation && i.Organisation != nil && i.Organisation.Status == ledger.DirectorySuspended
}

// labelParts is a label's name and what qualifies it (said in brackets).
func (i *Identity) labelParts() (string, []string) {
	var name string
	var notes []string
	switch {
	case i.Verified() && i.Kind == KindPractitioner:
		p := i.Practitioner
		name = p.Name
		if p.EmployerOrg.Active() {
			notes = append(notes, p.EmployerOrg.Entry.DisplayName)
		} else {
			notes = append(notes, "licensed by "+p.Body.Entry.DisplayName)
		}
	case i.Verified():
		name = i.Organisation.Entry.DisplayName
		if w := roleWords[i.Role]; w != "" && i.DID != i.Organisation.DID {
			notes = append(notes, w)
		} else if w := KindWords(i.Organisation.Entry.Kind); w != "" && !strings.Contains(strings.ToLower(name), w) {
			notes = append(notes, w)
		}
	case i.Suspended():
		name = i.Organisation.Entry.DisplayName
		if s := i.SavedWords(); s != "" {
			// "suspended in the directory as saved on …": one note.
			return name, []string{"suspended in the " + s}
		}
		return name, []string{SuspendedWords}
	case i.Problem != "":
		return "someone not verified", []string{i.Problem, "ref. " + Ref(i.DID)}
	default:
		return "someone not in the directory", []string{"ref. " + Ref(i.DID)}
	}
	if s := i.SavedWords(); s != "" {
		notes = append(notes, s)
	}
	return name, notes
}

// Config configures [New].
type Config struct {
	// Source is the registry; nil means offline: only a loaded snapshot
	// and did:key DIDs answer.
	Source Source
	// Licences verifies licence credentials (signature, status,
	// accreditation of the body for licence.Type); nil means no
	// practitioner can be verified.
	Licences *verify.Verifier
	// Proven says Source checks proofs (shown in Identity.Source).
	Proven bool
	// TTL is how long an answer is kept (default 10 minutes; unknown DIDs
	// one minute).
	TTL time.Duration
	// MaxEntries bounds the cache (default 10,000).
	MaxEntries int
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Directory looks DIDs up. It is safe for concurrent use.
type Directory struct {
	cfg Config

	mu       sync.RWMutex      // guards cache, licences and snap
	cache    map[string]cached // by DID
	licences map[string]string // practitioner DID -> licence token
	snap     map[string]*Identity
	snapAt   time.Time
}

type cached struct {
	id      *Identity
	expires time.Time
}

// New returns a Directory.
func New(cfg Config) *Directory {
	if cfg.TTL <= 0 {
		cfg.TTL = 10 * time.Minute
	}
	if cfg.MaxEntries <= 0 {
		cfg.MaxEntries = 10_000
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Directory{cfg: cfg, cache: map[string]cached{}, licences: map[string]string{}, snap: map[string]*Identity{}}
}

// ProblemUnreachable is the Problem of an identity the directory could
// not be asked about (no registry at hand, or it did not answer) and the
// saved copy does not hold: "someone not verified (the directory could
// not be reached; ref. 2doK3C)", never "not in the directory", which
// only the registry can say.
const ProblemUnreachable = "the directory could not be reached"

// Lookup answers who did is. It returns an error only when the registry
// could not be asked and nothing is known (then the Identity is unknown
// with Problem saying so, and is usable as is). The returned Identity is
// shared: callers MUST NOT modify it.
func (d *Directory) Lookup(ctx context.Context, did string) (*Identity, error) {
	now := d.cfg.Now()
	d.mu.RLock()
	c, ok := d.cache[did]
	d.mu.RUnlock()
	if ok && now.Before(c.expires) {
		return c.id, nil
	}
	if d.cfg.Source == nil {
		d.mu.RLock()
		s := d.snap[did]
		d.mu.RUnlock()
		if s != nil {
			return s, nil
		}
		// Offline, "not in the directory" cannot be known: the label says
		// the name could not be checked, as when the registry is down.
		return &Identity{DID: did, Kind: KindUnknown, Source: "offline", Problem: ProblemUnreachable, Checked: now}, nil
	}
	id, err := d.lookup(ctx, did, now)
	if err != nil {
		d.mu.RLock()
		s := d.snap[did]
		d.mu.RUnlock()
		if s != nil {
			return s, nil
		}
		return &Identity{DID: did, Kind: KindUnknown, Problem: ProblemUnreachable, Checked: now}, err
	}
	ttl := d.cfg.TTL
	if id.Kind == KindUnknown {
		ttl = min(ttl, time.Minute)
	}
	d.put(did, id, now.Add(ttl))
	return id, nil
}

func (d *Directory) put(did string, id *Identity, expires time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.cache) >= d.cfg.MaxEntries {
		for k, c := range d.cache { // drop the expired, else anything
			if !d.cfg.Now().Before(c.expires) || len(d.cache) >= d.cfg.MaxEntries {
				delete(d.cache, k)
			}
			if len(d.cache) < d.cfg.MaxEntries*3/4 {
				break
			}
		}
	}
	d.cache[did] = cached{id, expires}
}

func (d *Directory) source() string {
	if d.cfg.Proven {
		return "registry (proven)"
	}
	return "registry"
}

// lookup asks the registry.
func (d *Directory) lookup(ctx context.Context, did string, now time.Time) (*Identity, error) {
	src := d.cfg.Source
	if src == nil {
		return nil, errors.New("offline: no registry configured")
	}
	id := &Identity{DID: did, Kind: KindUnknown, Source: d.source(), Checked: now}
	org, err := d.organisation(ctx, did, now)
	switch {
	case err == nil:
		id.Kind, id.Organisation = KindOrganisation, org
		if org.Status == ledger.DirectoryRemoved {
			id.Kind, id.Problem = KindUnknown, "removed from the directory"
		}
		return id, nil
	case !errors.Is(err, ledger.ErrNotFound):
		return nil, err
	}
	al, err := src.DirectoryRole(ctx, did)
	switch {
	case err == nil:
		org, err := d.organisation(ctx, al.Org, now)
		if err != nil && !errors.Is(err, ledger.ErrNotFound) {
			return nil, err
		}
		if org != nil && org.Status != ledger.DirectoryRemoved {
			for _, r := range org.Entry.Roles {
				if r.DID == did {
					id.Kind, id.Organisation, id.Role = KindOrganisation, org, r.Role
					return id, nil
				}
			}
		}
	case !errors.Is(err, ledger.ErrNotFound):
		return nil, err
	}
	d.mu.RLock()
	tok := d.licences[did]
	d.mu.RUnlock()
	if tok != "" {
		return d.verifyLicence(ctx, tok, did, now)
	}
	return id, nil
}

// organisation reads an organisation and its accreditations in force.
func (d *Directory) organisation(ctx context.Context, did string, now time.Time) (*Organisation, error) {
	rec, err := d.cfg.Source.Directory(ctx, did)
	if err != nil {
		return nil, err
	}
	cur := rec.Current()
	if cur == nil {
		return nil, fmt.Errorf("%w: empty directory record of %s", ledger.ErrNotFound, did)
	}
	o := &Organisation{DID: did, Entry: cur.Entry, Status: cur.Status, Reason: cur.Reason, Version: cur.Version, Since: cur.Recorded, Listed: rec.Versions[0].Recorded}
	acc, err := d.cfg.Source.Accreditations(ctx, did)
	switch {
	case err == nil:
		for _, a := range acc.Accreditations {
			if a.Revocation == nil || now.Before(a.Revocation.EffectiveAt) {
				if a.ValidUntil == nil || now.Before(*a.ValidUntil) {
					o.Accreditations = append(o.Accreditations, a)
				}
			}
		}
	case !errors.Is(err, ledger.ErrNotFound):
		return nil, err
	}
	return o, nil
}

// ErrLicence reports a licence that is not valid, or not issued by an
// active licensing body of the directory.
var ErrLicence = errors.New("practitioner licence not verified")

// AddLicence verifies a practitioner licence credential (vc+jwt) and, when
// it holds, remembers it: lookups of its subject then answer with the
// practitioner. The licence must verify (signature, validity, status, the
// issuer accredited for licence.Type), its issuer must be an active
// organisation of kind licensing-body in the directory, and its claims
// well formed. The answer says the employer only when it is an active
// organisation. Errors wrap [ErrLicence]; the Identity then says why.
func (d *Directory) AddLicence(ctx context.Context, token string) (*Identity, error) {
	t, err := vc.Parse(token)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrLicence, err)
	}
	l, err := licence.FromCredential(t.Credential)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrLicence, err)
	}
	now := d.cfg.Now()
	id, err := d.verifyLicence(ctx, token, l.Practitioner, now)
	if err != nil {
		return nil, err
	}
	if id.Kind != KindPractitioner {
		return id, fmt.Errorf("%w: %s", ErrLicence, id.Problem)
	}
	d.mu.Lock()
	if len(d.licences) >= d.cfg.MaxEntries {
		clear(d.licences)
	}
	d.licences[l.Practitioner] = token
	d.mu.Unlock()
	d.put(l.Practitioner, id, now.Add(d.cfg.TTL))
	return id, nil
}

// verifyLicence checks token as the licence of did.
func (d *Directory) verifyLicence(ctx context.Context, token, did string, now time.Time) (*Identity, error) {
	id := &Identity{DID: did, Kind: KindUnknown, Source: d.source(), Checked: now}
	if d.cfg.Licences == nil || d.cfg.Source == nil {
		id.Problem = "licences cannot be checked offline"
		return id, nil
	}
	res := d.cfg.Licences.Credential(ctx, token)
	if !res.Valid {
		id.Problem = "licence " + strings.ReplaceAll(res.Reason, "_", " ")
		return id, nil
	}
	l, err := licence.FromCredential(res.Credential)
	if err != nil {
		id.Problem = "not a licence"
		return id, nil
	}
	if l.Practitioner != did {
		id.Problem = "the licence is someone else's"
		return id, nil
	}
	body, err := d.organisation(ctx, l.Issuer, now)
	switch {
	case errors.Is(err, ledger.ErrNotFound):
		id.Problem = "licence issuer is not in the directory"
		return id, nil
	case err != nil:
		return nil, err
	case body.Entry.Kind != tx.KindLicensingBody:
		id.Problem = "licence issued by " + body.Entry.DisplayName + ", which is not a licensing body"
		return id, nil
	case !body.Active():
		id.Problem = "the licensing body " + body.Entry.DisplayName + " is " + body.Status
		return id, nil
	}
	p := &Practitioner{Claims: l.Claims, Body: body, LicenceID: l.ID, ValidUntil: res.ValidUntil}
	if l.Employer != "" {
		if emp, err := d.organisation(ctx, l.Employer, now); err == nil && emp.Active() {
			p.EmployerOrg = emp
		} else if err != nil && !errors.Is(err, ledger.ErrNotFound) {
			return nil, err
		}
	}
	id.Kind, id.Practitioner = KindPractitioner, p
	return id, nil
}

// snapshot is the saved form of what a Directory learned.
type snapshot struct {
	Format     int                  `json:"format"`
	Taken      time.Time            `json:"taken"`
	Identities map[string]*Identity `json:"identities"`
	Licences   map[string]string    `json:"licences,omitempty"`
}

// Snapshot returns what the directory knows now (organisations,
// practitioners and their licences, not the unknown), to keep for offline
// use with [Directory.LoadSnapshot]. It holds no health data: names of
// organisations and practitioners in their public capacity, DIDs and
// licence credentials.
func (d *Directory) Snapshot() ([]byte, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	s := snapshot{Format: 1, Taken: d.cfg.Now().UTC(), Identities: map[string]*Identity{}, Licences: d.licences}
	for k, c := range d.cache {
		if c.id.Kind != KindUnknown {
			s.Identities[k] = c.id
		}
	}
	for k, id := range d.snap { // keep older knowledge not refreshed since
		if _, ok := s.Identities[k]; !ok {
			s.Identities[k] = id
		}
	}
	return json.Marshal(s)
}

// MaxSnapshot bounds a snapshot's size.
const MaxSnapshot = 16 << 20

// LoadSnapshot loads a snapshot made by [Directory.Snapshot]: its answers
// are used when the registry cannot be reached, marked as from the
// snapshot with its date, and its licences are checked again at the next
// lookup that reaches the registry.
func (d *Directory) LoadSnapshot(b []byte) error {
	if len(b) > MaxSnapshot {
		return fmt.Errorf("directory snapshot of %d bytes exceeds %d", len(b), MaxSnapshot)
	}
	var s snapshot
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("directory snapshot: %w", err)
	}
	if s.Format != 1 {
		return fmt.Errorf("directory snapshot format %d is not supported", s.Format)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for k, id := range s.Identities {
		if id == nil || id.DID != k || (id.Kind == KindOrganisation && id.Organisation == nil) || (id.Kind == KindPractitioner && (id.Practitioner == nil || id.Practitioner.Body == nil)) {
			continue
		}
		// The date the registry last gave this answer: a snapshot keeps
		// answers not refreshed since an older one, so the snapshot's own
		// date would make them look newer than they are.
		id.Saved = s.Taken
		if !id.Checked.IsZero() && id.Checked.Before(s.Taken) {
			id.Saved = id.Checked
		}
		id.Source = "snapshot of " + id.Saved.Format("2 Jan 2006")
		d.snap[k] = id
	}
	for k, tok := range s.Licences {
		if len(d.licences) < d.cfg.MaxEntries {
			d.licences[k] = tok
		}
	}
	d.snapAt = s.Taken
	return nil
}
