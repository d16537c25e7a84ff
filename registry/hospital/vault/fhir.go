package vault

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/medid/medid/credentials/consent"
	"github.com/medid/medid/internal/randid"
	"github.com/medid/medid/registry/hospital/balp"
	"github.com/medid/medid/registry/hospital/cdshooks"
	"github.com/medid/medid/registry/hospital/fhir"
	"github.com/medid/medid/registry/hospital/smart"
	"github.com/medid/medid/registry/hospital/trail"
	"github.com/medid/medid/registry/hospital/vaultapi"
)

// Headers of a FHIR request that carry medid's consent inputs.
const (
	// HeaderConsent carries the patient's consent grant (its vc+jwt) for
	// the requesting client. A grant that opened a read is remembered for
	// that patient and client, so later requests and CDS Hooks questions
	// may omit it.
	HeaderConsent = "MedID-Consent"
	// HeaderBreakGlass carries the emergency reason of a break-glass read
	// (purpose ETREAT).
	HeaderBreakGlass = "MedID-Break-Glass"
)

// Trail actions of the FHIR API besides trail.ActionRead and ActionPut.
const (
	// ActionQuery is a search of a patient's records of one class.
	ActionQuery = balp.TrailQuery
	// ActionConsentDecision is a CDS Hooks consent question.
	ActionConsentDecision = balp.TrailConsentDecision
)

// FHIRWritable are the types a hospital client may create through the
// FHIR API. AuditEvent is the client's own feed and Consent the patient's
// grants: neither is written as a record.
var FHIRWritable = []string{"Patient", "AllergyIntolerance", "Immunization", "MedicationStatement", "Condition",
	"Observation", "DiagnosticReport", "DocumentReference"}

// FHIRClient is a hospital system registered for the FHIR API.
type FHIRClient struct {
	// Scopes are the SMART v2 scopes the client may be granted.
	Scopes []string `json:"scopes"`
	// Purpose is the purpose of use of the client's requests that name
	// none in a purpose parameter (default TREAT).
	Purpose string `json:"purpose,omitempty"`
	// Name is the client's display name in audit events.
	Name string `json:"name,omitempty"`
}

// FHIRConfig configures [Vault.FHIR].
type FHIRConfig struct {
	// Base is the FHIR base URL as clients reach it (…/fhir). Required.
	Base string
	// Clients maps each registered client's DID to its registration.
	// Required, non-empty.
	Clients map[string]FHIRClient
	// Name is the hospital's name (audit events, CDS Hooks cards).
	Name string
	// TokenTTL is the access tokens' lifetime (default 5 minutes).
	TokenTTL time.Duration
}

// FHIR is the vault's FHIR R4 API with its SMART Backend Services
// authorization server, CDS Hooks consent service and the clients' audit
// feed. Every read goes through the vault's one read path (readAs and
// decide): the token's scopes and the patient's consent are both checked,
// and every attempt lands in the patient's trail. It is safe for
// concurrent use.
type FHIR struct {
	v          *Vault
	cfg        FHIRConfig
	auth       *smart.Server
	pager      *fhir.Pager
	cds        *cdshooks.Handler
	capability []byte
	pidKey     []byte
	feedFile   string
	grantsFile string

	// feedMu guards feed, feedBuf, feedSpare, feedWriting and feedOut's
	// closing. It is not mu: every read audits, and an audit that held mu
	// across the feed file's write would stall every concurrent request's
	// index and grant lookups behind that syscall. It is not held across
	// the write either (see audit).
	feedMu sync.Mutex
	// feed holds each client's audit events, oldest first.
	feed map[string]feedLog
	// feedOut is the feed file, open for appending.
	feedOut *os.File
	// feedBuf holds the lines added to feed and not yet handed to
	// feedOut, in feed order; feedSpare is the buffer the last write
	// took, kept for reuse. feedWriting is set while an audit writes
	// outside feedMu; feedIdle (on feedMu) is signalled when it ends.
	feedBuf, feedSpare []byte
	feedWriting        bool
	feedIdle           *sync.Cond

	mu sync.RWMutex // guards byOwner, dids, grants
	// byOwner indexes each patient's records by last update (then id).
	byOwner map[string][]idxEntry
	// dids maps a Patient logical id to the patient's DID.
	dids map[string]string
	// pids is dids reversed: a patient's DID to their logical id, so that
	// naming the patient in every audit event costs a lookup, not an HMAC.
	pids map[string]string
	// grants maps owner+"\x00"+provider to the grant tokens that opened a
	// read, newest last, each with its consent.Hash (computed once, not
	// on every read that uses it).
	grants map[string][]remembered
}

// remembered is a grant token the vault remembers for a patient and a
// client, with its consent.Hash.
type remembered struct{ token, hash string }

// grantsJSON is f.grants as the grants file holds it (tokens only).
// The caller holds f.mu.
func (f *FHIR) grantsJSON() ([]byte, error) {
	out := make(map[string][]string, len(f.grants))
	for k, l := range f.grants {
		for _, g := range l {
			out[k] = append(out[k], g.token)
		}
	}
	return json.Marshal(out)
}

// tokensOf returns the tokens remembered for the pair key, newest last.
// The caller holds f.mu.
func (f *FHIR) tokensOf(k string) []remembered { return slices.Clone(f.grants[k]) }

type idxEntry struct {
	id, class string
	updated   time.Time
}

// feedEvent is one event of a client's feed: the access as BALP input,
// written as an AuditEvent when the feed is read (building the FHIR JSON
// is kept off the request path).
type feedEvent struct {
	At     time.Time   `json:"at"`
	Access balp.Access `json:"access"`
}

const (
	maxGrantsPerPair = 8
	maxFeedPerClient = 100000
)

// FHIR returns the vault's FHIR API. It indexes the stored records by
// patient and reloads the audit feed and the remembered grants from the
// vault's folder. Errors say which setting to fix.
func (v *Vault) FHIR(cfg FHIRConfig) (*FHIR, error) {
	if cfg.Base == "" || len(cfg.Clients) == 0 {
		return nil, errors.New("vault.FHIR: Base and Clients are required")
	}
	cfg.Base = strings.TrimSuffix(cfg.Base, "/")
	clients := map[string][]string{}
	for d, c := range cfg.Clients {
		if c.Purpose != "" && !consent.KnownPurpose(c.Purpose) {
			return nil, fmt.Errorf("vault.FHIR: client %s: purpose %q is not a PurposeOfUse code", d, c.Purpose)
		}
		clients[d] = c.Scopes
	}
	dir := filepath.Join(v.cfg.Dir, "fhir")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	// The used assertions' jtis survive a restart, as the signed
	// requests' nonces do (a replay after a restart is refused).
	auth, err := smart.New(smart.Config{TokenURL: cfg.Base + "/token", Resolver: v.cfg.Resolver, Clients: clients,
		Types: fhir.Types, TokenTTL: cfg.TokenTTL, UsedFile: filepath.Join(dir, "assertions-used"), Now: v.cfg.Now, Logger: v.cfg.Logger})
	if err != nil {
		return nil, err
	}
	derive := func(label string) []byte {
		m := hmac.New(sha256.New, v.store.master)
		m.Write([]byte(label))
		return m.Sum(nil)
	}
	pager, err := fhir.NewPager(derive("medid-fhir-cursor-key"))
	if err != nil {
		return nil, err
	}
	pager.Now = v.cfg.Now
	f := &FHIR{v: v, cfg: cfg, auth: auth, pager: pager, pidKey: derive("medid-fhir-patient-id"),
		feedFile: filepath.Join(dir, "audit.jsonl"), grantsFile: filepath.Join(dir, "grants.json"),
		byOwner: map[string][]idxEntry{}, dids: map[string]string{}, pids: map[string]string{}, grants: map[string][]remembered{}, feed: map[string]feedLog{}}
	f.feedIdle = sync.NewCond(&f.feedMu)
	metas, errs := v.store.list()
	for _, err := range errs {
		v.cfg.Logger.Error("vault: FHIR index: unreadable record", "err", err)
	}
	for _, m := range metas {
		if m.Erased == nil {
			f.index(m)
		}
	}
	if b, err := os.ReadFile(f.grantsFile); err == nil {
		var tokens map[string][]string
		if err := json.Unmarshal(b, &tokens); err != nil {
			return nil, fmt.Errorf("vault: %s: %w", f.grantsFile, err)
		}
		for k, l := range tokens {
			for _, t := range l {
				f.grants[k] = append(f.grants[k], remembered{t, consent.Hash(t)})
			}
		}
	}
	if err := f.loadFeed(); err != nil {
		return nil, err
	}
	if f.feedOut, err = os.OpenFile(f.feedFile, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600); err != nil {
		return nil, err
	}
	ti := map[string][]string{
		"AuditEvent": {fhir.InteractionSearch},
		"Consent":    {fhir.InteractionSearch, fhir.InteractionCreate},
	}
	f.capability, err = fhir.Capability(fhir.CapabilityConfig{Base: cfg.Base, Description: "medid record vault " + cfg.Name, Software: "medid",
		Date: v.cfg.Now(), Interactions: []string{fhir.InteractionRead, fhir.InteractionSearch, fhir.InteractionCreate},
		TypeInteractions: ti, Transaction: true, TokenURL: cfg.Base + "/token"})
	if err != nil {
		return nil, err
	}
	f.cds, err = cdshooks.New(cdshooks.Config{Decide: f.decideConsent, Authenticate: f.bearerClient,
		Source: cdshooks.Source{Label: "medid consent " + cfg.Name, URL: cfg.Base}, Logger: v.cfg.Logger})
	if err != nil {
		return nil, err
	}
	return f, nil
}

// Auth returns the SMART authorization server (for tests and tools).
func (f *FHIR) Auth() *smart.Server { return f.auth }

// PatientID returns the logical id of the patient's Patient resource on
// this vault: a keyed hash of the DID, so ids reveal nothing and cannot
// be guessed from a DID.
func (f *FHIR) PatientID(did string) string {
	m := hmac.New(sha256.New, f.pidKey)
	m.Write([]byte(did))
	return "p-" + hex.EncodeToString(m.Sum(nil)[:16])
}

// DIDOf implements fhir.Patients.
func (f *FHIR) DIDOf(id string) (string, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	d, ok := f.dids[id]
	return d, ok
}

// IDOf implements fhir.Patients: a patient with records here has an id.
func (f *FHIR) IDOf(did string) (string, bool) {
	f.mu.RLock()
	id, ok := f.pids[did]
	f.mu.RUnlock()
	if !ok {
		id = f.PatientID(did)
	}
	return id, ok
}

func (f *FHIR) index(m vaultapi.Meta) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.pids[m.Owner]; !ok {
		pid := f.PatientID(m.Owner)
		f.dids[pid], f.pids[m.Owner] = m.Owner, pid
	}
	l := f.byOwner[m.Owner]
	e := idxEntry{m.ID, m.Class, m.Created.UTC()}
	i := sort.Search(len(l), func(i int) bool { return !l[i].less(e) })
	l = slices.Insert(l, i, e)
	f.byOwner[m.Owner] = l
}

func (a idxEntry) less(b idxEntry) bool {
	return a.updated.Before(b.updated) || (a.updated.Equal(b.updated) && a.id < b.id)
}

func (a idxEntry) key() string { return a.updated.Format(time.RFC3339Nano) + "|" + a.id }

func (f *FHIR) unindex(owner, id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.byOwner[owner] = slices.DeleteFunc(f.byOwner[owner], func(e idxEntry) bool { return e.id == id })
}

// MountFHIR returns a handler serving the FHIR API under /fhir and the
// CDS Hooks service under /cds-services, and everything else with next.
func MountFHIR(next http.Handler, f *FHIR) http.Handler {
	h := f.Handler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if p == "/fhir" || strings.HasPrefix(p, "/fhir/") || p == "/cds-services" || strings.HasPrefix(p, "/cds-services/") {
			h.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Handler serves:
//
//	GET    /fhir/metadata                          CapabilityStatement
//	GET    /fhir/.well-known/smart-configuration   SMART configuration
//	POST   /fhir/token                             SMART Backend Services token
//	POST   /fhir                                   transaction Bundle (creates)
//	POST   /fhir/{type}                            create
//	GET    /fhir/{type}/{id}                       read (scope + consent)
//	GET    /fhir/{type}?patient=…                  search (scope + consent), paged
//	GET    /fhir/AuditEvent?…                      the client's own audit feed
//	GET    /fhir/Consent?patient=…                 the patient's grants to the client (IHE PCF)
//	POST   /fhir/Consent                           deposit a grant (PCF Consent carrying its vc+jwt)
//	DELETE /fhir/{type}/{id}                       refused: erasure is the patient's
//	GET    /cds-services, POST /cds-services/patient-consent-consult
func (f *FHIR) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /fhir/metadata", func(w http.ResponseWriter, r *http.Request) {
		writeFHIR(w, http.StatusOK, f.capability)
	})
	mux.Handle("GET /fhir/.well-known/smart-configuration", f.auth.ConfigurationHandler())
	mux.Handle("POST /fhir/token", f.auth.TokenHandler())
	mux.HandleFunc("POST /fhir", f.serveTransaction)
	mux.HandleFunc("POST /fhir/{$}", f.serveTransaction)
	mux.HandleFunc("POST /fhir/{type}", f.serveCreate)
	mux.HandleFunc("GET /fhir/{type}", f.serveSearch)
	mux.HandleFunc("GET /fhir/{type}/{id}", f.serveRead)
	mux.HandleFunc("DELETE /fhir/{type}/{id}", f.serveDelete)
	mux.HandleFunc("PUT /fhir/{type}/{id}", func(w http.ResponseWriter, r *http.Request) {
		writeOutcome(w, fhir.Errorf(http.StatusMethodNotAllowed, fhir.ErrUnsupported, fhir.IssueNotSupported, "",
			"records are immutable here: create a new resource (POST)"))
	})
	mux.Handle("/cds-services", f.cds)
	mux.Handle("/cds-services/", f.cds)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The emergency reason is shown to the patient in their trail:
		// plain text, as a signed request's must be (vaultapi). Go's server
		// refuses control characters in headers, but not a tab or bytes
		// that are not UTF-8.
		if bg := r.Header.Values(HeaderBreakGlass); len(bg) > 0 && !plainReason(bg) {
			writeOutcome(w, fhir.Errorf(http.StatusBadRequest, vaultapi.ErrBadRequest, fhir.IssueValue, HeaderBreakGlass,
				"the emergency reason must be one line of plain text (UTF-8, no control characters) of at most %d bytes", vaultapi.MaxReasonSize))
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// plainReason reports whether the values of a break-glass header are one
// reason that vaultapi.CheckReason takes (as from a signed request).
func plainReason(v []string) bool {
	return len(v) == 1 && vaultapi.CheckReason(v[0]) == nil
}

func writeFHIR(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/fhir+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func writeOutcome(w http.ResponseWriter, e *fhir.Error) {
	if e.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
	}
	writeFHIR(w, e.Status, e.Outcome())
}

// vaultOutcome maps a vault error to an OperationOutcome: the vault's
// errors are public by design (0009), 5xx ones are not repeated.
func vaultOutcome(err error) *fhir.Error {
	var fe *fhir.Error
	if errors.As(err, &fe) {
		return fe
	}
	st := vaultapi.StatusOf(err)
	if errors.Is(err, vaultapi.ErrTrailUnavailable) {
		return fhir.Errorf(http.StatusServiceUnavailable, err, "transient", "", "%s", vaultapi.ErrTrailUnavailable.Error())
	}
	code := map[int]string{400: fhir.IssueInvalid, 401: fhir.IssueLogin, 403: fhir.IssueForbidden, 404: fhir.IssueNotFound,
		409: fhir.IssueConflict, 410: fhir.IssueDeleted, 429: fhir.IssueTooCostly}[st]
	if code == "" || st >= 500 {
		return fhir.AsError(err)
	}
	return fhir.Errorf(st, err, code, "", "%s", err.Error())
}

// bearer returns the access token's grant, or a 401 outcome.
func (f *FHIR) bearer(r *http.Request) (*smart.Token, *fhir.Error) {
	s, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return nil, fhir.Errorf(http.StatusUnauthorized, smart.ErrInvalidToken, fhir.IssueLogin, "",
			"send Authorization: Bearer with an access token from %s/token (SMART Backend Services)", f.cfg.Base)
	}
	t, err := f.auth.Introspect(strings.TrimSpace(s))
	if err != nil {
		return nil, fhir.Errorf(http.StatusUnauthorized, err, fhir.IssueLogin, "", "the access token is unknown or expired: get a new one")
	}
	return t, nil
}

func (f *FHIR) bearerClient(r *http.Request) (string, error) {
	t, fe := f.bearer(r)
	if fe != nil {
		return "", fe
	}
	return t.Client, nil
}

// purpose returns the request's purpose of use: the purpose parameter,
// else the client's registered purpose, else TREAT.
func (f *FHIR) purpose(client, param string) (string, *fhir.Error) {
	if param != "" {
		if !consent.KnownPurpose(param) {
			return "", fhir.Errorf(http.StatusBadRequest, fhir.ErrInvalid, fhir.IssueValue, "purpose", "must be an HL7 v3 PurposeOfUse code such as TREAT or ETREAT")
		}
		return param, nil
	}
	if p := f.cfg.Clients[client].Purpose; p != "" {
		return p, nil
	}
	return consent.PurposeTreatment, nil
}

// request builds the vault request of a FHIR call by client for owner's
// records: the consent grant from the header or remembered for the pair.
func (f *FHIR) request(r *http.Request, client, owner, purpose string) *vaultapi.Request {
	req := &vaultapi.Request{Issuer: client, Audience: f.v.cfg.DID, Op: vaultapi.OpRead, Purpose: purpose,
		Consent: strings.TrimSpace(r.Header.Get(HeaderConsent)), BreakGlass: strings.TrimSpace(r.Header.Get(HeaderBreakGlass))}
	// The header was checked whole (plainReason: at most MaxReasonSize
	// bytes of plain text), so the patient's trail holds the reason as
	// the clinician gave it, as from a signed request: never cut.
	if req.Consent == "" {
		f.mu.RLock()
		if l := f.grants[owner+"\x00"+client]; len(l) > 0 {
			req.Consent, req.ConsentHash = l[len(l)-1].token, l[len(l)-1].hash
		}
		f.mu.RUnlock()
	}
	return req
}

// remember keeps a grant that opened a read for its patient and client.
func (f *FHIR) remember(owner, client, token string) {
	if token == "" {
		return
	}
	k := owner + "\x00" + client
	f.mu.Lock()
	l := f.grants[k]
	if len(l) > 0 && l[len(l)-1].token == token {
		f.mu.Unlock()
		return
	}
	l = append(slices.DeleteFunc(l, func(g remembered) bool { return g.token == token }), remembered{token, consent.Hash(token)})
	if len(l) > maxGrantsPerPair {
		l = l[len(l)-maxGrantsPerPair:]
	}
	f.grants[k] = l
	b, err := f.grantsJSON()
	f.mu.Unlock()
	if err == nil {
		err = writeFileSync(f.grantsFile, b)
	}
	if err != nil {
		f.v.cfg.Logger.Error("vault: remembering a consent grant", "err", err)
	}
}

// lineBufs recycles the buffers feed lines are encoded into (add copies
// the line into the feed's chunks).
var lineBufs = sync.Pool{New: func() any { return new([]byte) }}

// audit adds an event to the client's feed (memory and the feed file).
// The file is the feed's copy across restarts: a torn last line after a
// crash is skipped when it is read back.
//
// Lines reach the file in feed order, several per write: an audit that
// finds no write under way yields the CPU once, so that the other reads
// runnable add their lines, then writes every line waiting (its own and
// those added meanwhile) until none is left; one that finds a write under
// way leaves its line to that writer and returns. So a burst of reads
// released by one group commit of the trail costs a write or two, not a
// write each in turn behind the lock, and a line is handed to the file
// within a write or two of its event. A process killed at that moment can
// lose the lines not yet handed over, as it could lose the one being
// written before; the patient's trail, not this feed, is the record that
// is durable before a read is answered.
func (f *FHIR) audit(a balp.Access) {
	a.ID = auditID()
	a.Server, a.ServerName = f.v.cfg.DID, f.cfg.Name
	a.ClientName = f.cfg.Clients[a.Client].Name
	if a.Patient.ID == "" && a.Patient.DID != "" {
		a.Patient.ID, _ = f.IDOf(a.Patient.DID)
	}
	a.Time = a.Time.UTC()
	ev := feedEvent{At: a.Time, Access: a}
	bp := lineBufs.Get().(*[]byte)
	line, err := appendFeedLine((*bp)[:0], &ev)
	if err != nil {
		f.v.cfg.Logger.Error("vault: audit event", "err", err)
		return
	}
	f.feedMu.Lock()
	f.feed[a.Client] = f.feed[a.Client].add(&ev, line[:len(line)-1], maxFeedPerClient)
	f.feedBuf = append(f.feedBuf, line...)
	if cap(line) <= 64<<10 {
		*bp = line[:0]
		lineBufs.Put(bp)
	}
	if f.feedWriting {
		f.feedMu.Unlock()
		return // the writer under way writes this line too
	}
	f.feedWriting = true
	f.feedMu.Unlock()
	// Let the reads released with this one add their lines first: on a
	// busy server they are runnable now, and one write then takes them
	// all rather than each the next few.
	runtime.Gosched()
	f.feedMu.Lock()
	for len(f.feedBuf) > 0 {
		b := f.feedBuf
		f.feedBuf = f.feedSpare
		f.feedSpare = nil
		f.feedMu.Unlock()
		_, err := f.feedOut.Write(b)
		if err != nil {
			f.v.cfg.Logger.Error("vault: audit feed", "err", err)
		}
		f.feedMu.Lock()
		if cap(b) <= 1<<20 {
			f.feedSpare = b[:0]
		}
	}
	f.feedWriting = false
	f.feedIdle.Broadcast()
	f.feedMu.Unlock()
}

// Close closes the feed file, once the lines waiting are written.
func (f *FHIR) Close() error {
	f.feedMu.Lock()
	defer f.feedMu.Unlock()
	for f.feedWriting {
		f.feedIdle.Wait()
	}
	return f.feedOut.Close()
}

func (f *FHIR) loadFeed() error {
	b, err := os.ReadFile(f.feedFile)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	} else if err != nil {
		return err
	}
	for _, line := range bytes.Split(b, []byte("\n")) {
		var ev feedEvent
		if len(line) == 0 || json.Unmarshal(line, &ev) != nil {
			continue // a torn last line after a crash
		}
		f.feed[ev.Access.Client] = f.feed[ev.Access.Client].add(&ev, line, maxFeedPerClient)
	}
	return nil
}

// auditID returns a new AuditEvent id, "ae-" and 24 random hex digits
// (what "ae-" + randid.Hex(12) returns, in one allocation).
func auditID() string {
	var b [12]byte
	randid.Read(b[:])
	var out [3 + 2*len(b)]byte
	copy(out[:], "ae-")
	hex.Encode(out[3:], b[:])
	return string(out[:])
}

// access returns the BALP input of an attempt by client on owner's data.
func access(now time.Time, act balp.Action, client string, req *vaultapi.Request, owner string, err error) balp.Access {
	a := balp.Access{Time: now, Action: act, Client: client, Patient: fhir.Patient{DID: owner}, Purpose: req.Purpose,
		Granted: err == nil, BreakGlass: req.BreakGlass != ""}
	a.Consent = consentHash(req)
	if err != nil {
		a.Reason = err.Error()
	} else if a.BreakGlass {
		a.Reason = req.BreakGlass
	}
	return a
}

// record returns the record a FHIR read names (its metadata and
// ciphertext): Patient/{pid} is the patient's latest Patient record.
func (f *FHIR) record(typ, id string) (*recordFile, error) {
	if typ == "Patient" {
		owner, ok := f.DIDOf(id)
		if !ok {
			return nil, fmt.Errorf("%w: Patient/%s", vaultapi.ErrNotFound, id)
		}
		f.mu.RLock()
		l := f.byOwner[owner]
		rid := ""
		for i := len(l) - 1; i >= 0; i-- {
			if l[i].class == "Patient" {
				rid = l[i].id
				break
			}
		}
		f.mu.RUnlock()
		if rid == "" {
			return nil, fmt.Errorf("%w: Patient/%s", vaultapi.ErrNotFound, id)
		}
		id = rid
	}
	rec, err := f.v.store.get(id)
	if err != nil {
		return nil, err
	}
	if rec.Class != typ {
		return nil, fmt.Errorf("%w: %s/%s", vaultapi.ErrNotFound, typ, id)
	}
	return rec, nil
}

// release returns the check a record must pass after decryption: the
// token's category restrictions (granular SMART scopes).
func release(t *smart.Token, typ string) func([]byte) error {
	granular := false
	for _, s := range t.Scopes {
		granular = granular || s.Category != nil
	}
	if !granular {
		return nil
	}
	return func(pt []byte) error {
		var cats []smart.Category
		if r, err := fhir.ReadStored(pt); err == nil {
			for _, c := range r.Categories() {
				cats = append(cats, smart.Category{System: c.System, Code: c.Code})
			}
		}
		if !t.Scopes.Allows(typ, smart.PermRead, cats) {
			return fmt.Errorf("%w: the access token's scopes do not cover this record's category", vaultapi.ErrDenied)
		}
		return nil
	}
}

func (f *FHIR) serveRead(w http.ResponseWriter, r *http.Request) {
	typ, id := r.PathValue("type"), r.PathValue("id")
	if !fhir.Supported(typ) || typ == "AuditEvent" || typ == "Consent" {
		writeOutcome(w, fhir.Errorf(http.StatusNotFound, fhir.ErrUnsupported, fhir.IssueNotSupported, "", "read is served for %s", strings.Join(FHIRWritable, ", ")))
		return
	}
	t, fe := f.bearer(r)
	if fe != nil {
		writeOutcome(w, fe)
		return
	}
	param := ""
	if r.URL.RawQuery != "" { // a read without a query (the usual one) parses none
		param = r.URL.Query().Get("purpose")
	}
	purpose, fe := f.purpose(t.Client, param)
	if fe != nil {
		writeOutcome(w, fe)
		return
	}
	m, err := f.record(typ, id)
	if err != nil {
		writeOutcome(w, vaultOutcome(err))
		return
	}
	now := f.v.cfg.Now()
	req := f.request(r, t.Client, m.Owner, purpose)
	req.Record = m.ID
	var scopeErr error
	if !t.Scopes.Permits(typ, smart.PermRead) {
		scopeErr = fmt.Errorf("%w: the access token's scopes do not allow reading %s", vaultapi.ErrDenied, typ)
	}
	pt, err := f.v.readAs(r.Context(), req, scopeErr, m, now, release(t, typ))
	a := access(now, balp.ActionRead, t.Client, req, m.Owner, err)
	a.Record = typ + "/" + id
	f.audit(a)
	if err != nil {
		writeOutcome(w, vaultOutcome(err))
		return
	}
	if r.Header.Get(HeaderConsent) != "" {
		f.remember(m.Owner, t.Client, req.Consent)
	}
	w.Header().Set("ETag", `W/"1"`)
	w.Header().Set("Last-Modified", m.Created.UTC().Format(http.TimeFormat))
	writeFHIR(w, http.StatusOK, pt)
}

func (f *FHIR) serveDelete(w http.ResponseWriter, r *http.Request) {
	typ, id := r.PathValue("type"), r.PathValue("id")
	t, fe := f.bearer(r)
	if fe != nil {
		writeOutcome(w, fe)
		return
	}
	refusal := fhir.Errorf(http.StatusForbidden, vaultapi.ErrNotOwner, fhir.IssueForbidden, "",
		"erasure is the patient's right and act: the patient erases a record from their wallet (medid wallet erase); a hospital cannot delete it")
	m, err := f.record(typ, id)
	if err != nil {
		writeOutcome(w, refusal)
		return
	}
	now := f.v.cfg.Now()
	if err := f.v.trail(r.Context(), &trail.Entry{Time: now, Patient: m.Owner, Provider: t.Client, Record: m.ID, Class: m.Class,
		Action: trail.ActionErase, Outcome: trail.OutcomeDenied, Type: trail.DCMPatientRecord, Reason: "erasure requested through FHIR by a hospital system: only the patient may erase"}); err != nil {
		f.v.cfg.Logger.Error("vault: a refused FHIR delete is not in the trail", "record", m.ID, "err", err)
	}
	a := access(now, balp.ActionDelete, t.Client, &vaultapi.Request{}, m.Owner, refusal)
	a.Record = typ + "/" + id
	f.audit(a)
	writeOutcome(w, refusal)
}

// maxTxBody bounds a transaction or create body.
const maxTxBody = fhir.MaxBundleSize

func (f *FHIR) serveCreate(w http.ResponseWriter, r *http.Request) {
	typ := r.PathValue("type")
	if typ == "Consent" {
		t, fe := f.bearer(r)
		if fe != nil {
			writeOutcome(w, fe)
			return
		}
		f.serveConsentDeposit(w, r, t)
		return
	}
	body, fe := readBody(r, fhir.MaxResourceSize, "resource")
	if fe != nil {
		writeOutcome(w, fe)
		return
	}
	// A create is a transaction of one entry: one set of checks.
	bundle := []byte(`{"resourceType":"Bundle","type":"transaction","entry":[{"resource":` + string(bytes.TrimSpace(body)) +
		`,"request":{"method":"POST","url":` + strconv.Quote(typ) + `}}]}`)
	res, locs, fe := f.transact(r, bundle)
	if fe != nil {
		writeOutcome(w, fe)
		return
	}
	w.Header().Set("Location", f.cfg.Base+"/"+locs[0])
	w.Header().Set("ETag", `W/"1"`)
	writeFHIR(w, http.StatusCreated, res[0])
}

// readBody reads a request body of at most limit bytes; what names it in
// the OperationOutcome of one that is longer ("resource", "Bundle").
func readBody(r *http.Request, limit int, what string) ([]byte, *fhir.Error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, int64(limit)+1))
	if err != nil {
		return nil, fhir.Errorf(http.StatusBadRequest, fhir.ErrInvalid, fhir.IssueInvalid, "", "could not read the body")
	}
	if len(body) > limit {
		return nil, fhir.Errorf(http.StatusRequestEntityTooLarge, fhir.ErrTooLarge, fhir.IssueTooLong, "", "the %s is larger than %d bytes", what, limit)
	}
	return body, nil
}

func (f *FHIR) serveTransaction(w http.ResponseWriter, r *http.Request) {
	body, fe := readBody(r, maxTxBody, "Bundle")
	if fe != nil {
		writeOutcome(w, fe)
		return
	}
	_, locs, fe := f.transact(r, body)
	if fe != nil {
		writeOutcome(w, fe)
		return
	}
	now := f.v.cfg.Now()
	results := make([]fhir.EntryResult, len(locs))
	for i, l := range locs {
		results[i] = fhir.EntryResult{Status: http.StatusCreated, Location: l + "/_history/1", Version: "1", LastModified: now}
	}
	out, err := fhir.TransactionResponse(results)
	if err != nil {
		writeOutcome(w, fhir.AsError(err))
		return
	}
	writeFHIR(w, http.StatusOK, out)
}

// transact checks and stores a transaction Bundle, all entries or none.
// It returns the stored resources and their "{type}/{id}" locations.
func (f *FHIR) transact(r *http.Request, body []byte) ([][]byte, []string, *fhir.Error) {
	t, fe := f.bearer(r)
	if fe != nil {
		return nil, nil, fe
	}
	tx, err := fhir.ParseTransaction(body, f)
	if err != nil {
		return nil, nil, fhir.AsError(err)
	}
	ctx := r.Context()
	now := f.v.cfg.Now()
	owner := tx.Patient.DID
	deny := func(fe *fhir.Error, typ string) ([][]byte, []string, *fhir.Error) {
		if err := f.v.trail(ctx, &trail.Entry{Time: now, Patient: owner, Provider: t.Client, Class: typ, Action: trail.ActionPut,
			Outcome: trail.OutcomeDenied, Type: trail.DCMPatientRecord, Reason: fe.Error()}); err != nil {
			f.v.cfg.Logger.Error("vault: a refused FHIR write is not in the trail", "err", err)
		}
		f.audit(access(now, balp.ActionCreate, t.Client, &vaultapi.Request{}, owner, fe))
		return nil, nil, fe
	}
	for i, e := range tx.Entries {
		switch {
		case e.Method == fhir.MethodDelete:
			return deny(fhir.Errorf(http.StatusForbidden, vaultapi.ErrNotOwner, fhir.IssueForbidden, fmt.Sprintf("Bundle.entry[%d]", i),
				"erasure is the patient's: a hospital cannot delete a record (the patient erases it from their wallet)"), e.Type)
		case e.Method != fhir.MethodCreate:
			return deny(fhir.Errorf(http.StatusMethodNotAllowed, fhir.ErrUnsupported, fhir.IssueNotSupported, fmt.Sprintf("Bundle.entry[%d]", i),
				"records are immutable here: create a new resource (POST)"), e.Type)
		case !slices.Contains(FHIRWritable, e.Type):
			return deny(fhir.Errorf(http.StatusBadRequest, fhir.ErrUnsupported, fhir.IssueNotSupported, fmt.Sprintf("Bundle.entry[%d]", i),
				"%s is not written through FHIR here (writable: %s)", e.Type, strings.Join(FHIRWritable, ", ")), e.Type)
		case !t.Scopes.Allows(e.Type, smart.PermCreate, nil):
			return deny(fhir.Errorf(http.StatusForbidden, vaultapi.ErrDenied, fhir.IssueForbidden, fmt.Sprintf("Bundle.entry[%d]", i),
				"the access token's scopes do not allow creating %s", e.Type), e.Type)
		}
	}
	if _, err := f.v.recipient(ctx, owner); err != nil {
		return deny(fhir.Errorf(http.StatusUnprocessableEntity, fhir.ErrInvalid, fhir.IssueProcessing, "",
			"the patient's DID cannot be resolved to a key their access trail can be sealed to"), "")
	}
	// Ids first, so urn:uuid references can be rewritten to them.
	pid := f.PatientID(owner)
	ids := make([]string, len(tx.Entries))
	locs := make([]string, len(tx.Entries))
	var repl []string
	for i, e := range tx.Entries {
		rid := newRecordID()
		ids[i] = rid
		fid := rid
		if e.Type == "Patient" {
			fid = pid
		}
		locs[i] = e.Type + "/" + fid
		if e.FullURL != "" {
			repl = append(repl, strconv.Quote(e.FullURL), strconv.Quote(locs[i]))
		}
		e.Resource.SetID(fid)
		e.Resource.SetMeta("1", now)
	}
	rewrite := strings.NewReplacer(repl...)
	out := make([][]byte, len(tx.Entries))
	for i, e := range tx.Entries {
		b, err := e.Resource.JSON()
		if err != nil {
			return nil, nil, fhir.AsError(err)
		}
		if len(repl) > 0 {
			b = []byte(rewrite.Replace(string(b)))
		}
		out[i] = b
	}
	var done []*vaultapi.Meta
	undo := func() {
		// All or nothing: what this transaction stored goes.
		for _, m := range done {
			f.unindex(m.Owner, m.ID)
			if err := f.v.store.remove(m.ID); err != nil {
				f.v.cfg.Logger.Error("vault: remove a record of a failed transaction", "record", m.ID, "err", err)
			}
		}
	}
	for i, e := range tx.Entries {
		m, err := f.v.store.putWithID(ids[i], owner, e.Type, out[i], now)
		if err != nil {
			undo()
			return nil, nil, fhir.AsError(err)
		}
		if err := f.v.stored(ctx, m, t.Client, now); err != nil {
			undo()
			return nil, nil, vaultOutcome(err)
		}
		done = append(done, m)
		f.index(*m)
		a := access(now, balp.ActionCreate, t.Client, &vaultapi.Request{}, owner, nil)
		a.Record = locs[i]
		f.audit(a)
	}
	return out, locs, nil
}

func (f *FHIR) serveSearch(w http.ResponseWriter, r *http.Request) {
	typ := r.PathValue("type")
	t, fe := f.bearer(r)
	if fe != nil {
		writeOutcome(w, fe)
		return
	}
	q := r.URL.Query()
	pp := q.Get("purpose")
	q.Del("purpose")
	s, err := fhir.ParseSearch(typ, q.Encode())
	if err != nil {
		writeOutcome(w, fhir.AsError(err))
		return
	}
	purpose, fe := f.purpose(t.Client, pp)
	if fe != nil {
		writeOutcome(w, fe)
		return
	}
	after := ""
	if s.Cursor != "" {
		page, err := f.pager.Open(s.Cursor, t.Client)
		if err != nil || page.Type != typ {
			writeOutcome(w, fhir.AsError(err))
			return
		}
		if s, err = page.Search(); err != nil {
			writeOutcome(w, fhir.AsError(err))
			return
		}
		after, purpose = page.After, page.Purpose
	}
	switch typ {
	case "AuditEvent":
		f.searchFeed(w, r, t, s, after)
		return
	case "Consent":
		f.searchConsents(w, r, t, s)
		return
	}
	owner := s.Patient.DID
	if owner == "" {
		owner, _ = f.DIDOf(s.Patient.ID)
	}
	self := f.cfg.Base + "/" + typ + "?" + r.URL.RawQuery
	f.mu.RLock()
	_, known := f.byOwner[owner]
	f.mu.RUnlock()
	if owner == "" {
		// A Patient id this vault never gave out (ids are keyed hashes
		// of DIDs: nobody can make one up for a patient).
		b, _ := fhir.SearchSet(self, "", 0, f.v.cfg.Now(), nil)
		writeFHIR(w, http.StatusOK, b)
		return
	}
	// A patient the vault holds nothing of is decided like any other, so
	// the answer (a refusal without their consent) does not tell a client
	// whether this hospital has records of them; it used to be an empty
	// searchset at once, against a refusal for a patient with records.
	now := f.v.cfg.Now()
	req := f.request(r, t.Client, owner, purpose)
	// The query itself is one decision on the class, through the vault's
	// decision path, and one entry in the patient's trail.
	var derr error
	if !t.Scopes.Permits(typ, smart.PermSearch) {
		derr = fmt.Errorf("%w: the access token's scopes do not allow searching %s", vaultapi.ErrDenied, typ)
	} else {
		derr = f.v.decide(r.Context(), req, &vaultapi.Meta{Owner: owner, Class: typ}, now)
	}
	qe := &trail.Entry{Time: now, Patient: owner, Provider: t.Client, Class: typ, Action: ActionQuery, Purpose: purpose,
		Type: trail.DCMPatientRecord, Outcome: trail.OutcomeGranted}
	qe.Consent = consentHash(req)
	if req.BreakGlass != "" {
		qe.BreakGlass, qe.Type, qe.Reason = true, trail.DCMEmergencyOverride, req.BreakGlass
	}
	if derr != nil {
		qe.Outcome, qe.Reason = trail.OutcomeDenied, strings.TrimPrefix(qe.Reason+"; "+derr.Error(), "; ")
	}
	record := known
	if !known {
		// As a CDS Hooks question about them: in their trail when their
		// DID resolves (a made-up one has no trail to be in).
		_, err := f.v.recipient(r.Context(), owner)
		record = err == nil
	}
	if record {
		if err := f.v.trail(r.Context(), qe); err != nil {
			// Not recorded, so not answered.
			writeOutcome(w, vaultOutcome(fmt.Errorf("%w: %v", vaultapi.ErrTrailUnavailable, err)))
			return
		}
	}
	a := access(now, balp.ActionQuery, t.Client, req, owner, derr)
	a.Query = r.URL.RawQuery
	f.audit(a)
	if derr != nil {
		writeOutcome(w, vaultOutcome(derr))
		return
	}
	if r.Header.Get(HeaderConsent) != "" {
		f.remember(owner, t.Client, req.Consent)
	}
	// Candidates after the cursor position, newest first.
	f.mu.RLock()
	all := f.byOwner[owner]
	var cands []idxEntry
	for i := len(all) - 1; i >= 0; i-- {
		e := all[i]
		if e.class != typ || (after != "" && e.key() >= after) || !s.Match(e.updated) {
			continue
		}
		cands = append(cands, e)
		if typ == "Patient" || len(cands) > s.Count {
			break
		}
	}
	f.mu.RUnlock()
	next := ""
	if len(cands) > s.Count {
		cands = cands[:s.Count]
		lu := make([]string, len(s.LastUpdated))
		for i, d := range s.LastUpdated {
			lu[i] = d.Raw
		}
		c, err := f.pager.Seal(fhir.Page{Client: t.Client, Type: typ, PatientID: s.Patient.ID, PatientDID: s.Patient.DID, LastUpdated: lu,
			Count: s.Count, Purpose: purpose, After: cands[len(cands)-1].key()})
		if err != nil {
			writeOutcome(w, fhir.AsError(err))
			return
		}
		next = f.cfg.Base + "/" + typ + "?_cursor=" + url.QueryEscape(c)
	}
	rel := release(t, typ)
	var entries []fhir.SearchEntry
	for _, e := range cands {
		m, err := f.v.store.get(e.id)
		if err != nil || m.Erased != nil {
			continue
		}
		rreq := *req
		rreq.Record = m.ID
		pt, err := f.v.readAs(r.Context(), &rreq, nil, m, now, rel)
		if err != nil {
			continue // refused (e.g. a category outside the scope): in the trail, not in the Bundle
		}
		fid := e.id
		if typ == "Patient" {
			fid = f.PatientID(owner)
		}
		entries = append(entries, fhir.SearchEntry{FullURL: f.cfg.Base + "/" + typ + "/" + fid, Resource: pt})
	}
	b, err := fhir.SearchSet(self, next, -1, now, entries)
	if err != nil {
		writeOutcome(w, fhir.AsError(err))
		return
	}
	writeFHIR(w, http.StatusOK, b)
}

// searchFeed serves the client's own audit events.
func (f *FHIR) searchFeed(w http.ResponseWriter, r *http.Request, t *smart.Token, s *fhir.Search, after string) {
	if !t.Scopes.Permits("AuditEvent", smart.PermSearch) {
		writeOutcome(w, fhir.Errorf(http.StatusForbidden, vaultapi.ErrDenied, fhir.IssueForbidden, "", "the access token's scopes do not allow searching AuditEvent"))
		return
	}
	patient := s.Patient.DID
	if s.Patient.ID != "" {
		var ok bool
		if patient, ok = f.DIDOf(s.Patient.ID); !ok {
			patient = "\x00none"
		}
	}
	var seq int64
	if after != "" {
		seq, _ = strconv.ParseInt(after, 10, 64)
	}
	// A feed log is append-only (feedLog), so the client's copy is read
	// without the lock.
	f.feedMu.Lock()
	l := f.feed[t.Client]
	f.feedMu.Unlock()
	key := patientKey(patient)
	var entries []fhir.SearchEntry
	next := int64(-1)
	for i := l.at(seq); i < l.len(); i++ {
		if !l.mayBeFor(i, patient, key) || !s.Match(l.time(i)) {
			continue
		}
		ev, ok := l.event(i)
		if !ok || (patient != "" && ev.Access.Patient.DID != patient) {
			continue
		}
		if len(entries) == s.Count {
			next = l.seq(i)
			break
		}
		b, err := balp.AuditEvent(ev.Access)
		if err != nil {
			continue
		}
		entries = append(entries, fhir.SearchEntry{FullURL: f.cfg.Base + "/AuditEvent/" + ev.Access.ID, Resource: b})
	}
	nextURL := ""
	if next >= 0 {
		lu := make([]string, len(s.LastUpdated))
		for i, d := range s.LastUpdated {
			lu[i] = d.Raw
		}
		c, err := f.pager.Seal(fhir.Page{Client: t.Client, Type: "AuditEvent", PatientID: s.Patient.ID, PatientDID: s.Patient.DID,
			LastUpdated: lu, Count: s.Count, After: strconv.FormatInt(next, 10)})
		if err != nil {
			writeOutcome(w, fhir.AsError(err))
			return
		}
		nextURL = f.cfg.Base + "/AuditEvent?_cursor=" + url.QueryEscape(c)
	}
	b, err := fhir.SearchSet(f.cfg.Base+"/AuditEvent?"+r.URL.RawQuery, nextURL, -1, f.v.cfg.Now(), entries)
	if err != nil {
		writeOutcome(w, fhir.AsError(err))
		return
	}
	writeFHIR(w, http.StatusOK, b)
}

// searchConsents serves the patient's grants to the client that the
// vault remembers, as IHE PCF Consents with their ledger status.
func (f *FHIR) searchConsents(w http.ResponseWriter, r *http.Request, t *smart.Token, s *fhir.Search) {
	if !t.Scopes.Permits("Consent", smart.PermSearch) {
		writeOutcome(w, fhir.Errorf(http.StatusForbidden, vaultapi.ErrDenied, fhir.IssueForbidden, "", "the access token's scopes do not allow searching Consent"))
		return
	}
	owner := s.Patient.DID
	if owner == "" {
		owner, _ = f.DIDOf(s.Patient.ID)
	}
	f.mu.RLock()
	tokens := f.tokensOf(owner + "\x00" + t.Client)
	f.mu.RUnlock()
	var entries []fhir.SearchEntry
	for _, rg := range tokens {
		tok := rg.token
		g, err := consent.Parse(tok)
		if err != nil || g.Patient != owner || g.Provider != t.Client {
			continue
		}
		status := consent.StatusActive
		if _, err := f.v.cfg.Consent.CheckInForce(r.Context(), tok, consent.Request{Provider: g.Provider, Action: g.Actions[0],
			Purpose: g.Purposes[0], Class: g.Classes[0], At: f.v.cfg.Now()}); err != nil {
			status = consent.StatusInactive
		}
		h := rg.hash
		id := "c-" + h[:32]
		b, err := fhir.ConsentPCF(g, status, id, fhir.Patient{ID: f.PatientID(owner), DID: owner}, h)
		if err != nil {
			continue
		}
		if s.Match(g.Issued) || len(s.LastUpdated) == 0 {
			entries = append(entries, fhir.SearchEntry{FullURL: f.cfg.Base + "/Consent/" + id, Resource: b})
		}
		if len(entries) == s.Count {
			break
		}
	}
	b, err := fhir.SearchSet(f.cfg.Base+"/Consent?"+r.URL.RawQuery, "", -1, f.v.cfg.Now(), entries)
	if err != nil {
		writeOutcome(w, fhir.AsError(err))
		return
	}
	writeFHIR(w, http.StatusOK, b)
}

// decideConsent answers a CDS Hooks question through the vault's decision
// path with the grants the vault remembers for the patient and the actor,
// and puts the question in the patient's trail.
func (f *FHIR) decideConsent(ctx context.Context, q cdshooks.Question) (cdshooks.Decision, error) {
	now := f.v.cfg.Now()
	f.mu.RLock()
	tokens := f.tokensOf(q.Patient + "\x00" + q.Actor)
	f.mu.RUnlock()
	classes := q.Classes
	d := cdshooks.Decision{Decision: cdshooks.DecisionNoConsent, Reason: "no consent grant of the patient to this actor is known to this vault"}
	var used remembered
	for i := len(tokens) - 1; i >= 0 && d.Decision != cdshooks.DecisionPermit; i-- {
		tok := tokens[i].token
		cls := classes
		if len(cls) == 0 {
			if g, err := consent.Parse(tok); err == nil {
				cls = g.Classes[:1]
			}
		}
		var err error
		for _, c := range cls {
			req := &vaultapi.Request{Issuer: q.Actor, Purpose: q.Purpose, Consent: tok, ConsentHash: tokens[i].hash}
			if err = f.v.decide(ctx, req, &vaultapi.Meta{Owner: q.Patient, Class: c}, now); err != nil {
				break
			}
		}
		used = tokens[i]
		if err == nil {
			d = cdshooks.Decision{Decision: cdshooks.DecisionPermit, Reason: "a consent grant in force permits this access", BasedOn: "Consent/c-" + used.hash[:32]}
		} else {
			d = cdshooks.Decision{Decision: cdshooks.DecisionDeny, Reason: err.Error(), BasedOn: "Consent/c-" + used.hash[:32]}
		}
	}
	e := &trail.Entry{Time: now, Patient: q.Patient, Provider: q.Actor, Class: strings.Join(classes, ","), Action: ActionConsentDecision,
		Purpose: q.Purpose, Type: trail.DCMPatientRecord, Outcome: trail.OutcomeGranted, Reason: d.Decision + ", asked by " + q.Client}
	if d.Decision != cdshooks.DecisionPermit {
		e.Outcome, e.Reason = trail.OutcomeDenied, d.Decision+": "+d.Reason+"; asked by "+q.Client
	}
	if used.token != "" {
		e.Consent = used.hash
	}
	if _, err := f.v.recipient(ctx, q.Patient); err != nil {
		// A patient whose DID does not resolve has no trail here, and no
		// grant either: the decision stands without an entry.
		return d, nil
	}
	if err := f.v.trail(ctx, e); err != nil {
		return cdshooks.Decision{}, fmt.Errorf("%w: %v", vaultapi.ErrTrailUnavailable, err)
	}
	return d, nil
}
