package wallet

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/medid/medid/credentials/key"
)

// FileName is the name of the database file inside a wallet folder.
const FileName = "wallet.db"

// Buckets of the store. Records in metaBucket are in the clear; every other
// bucket holds only sealed records under HMAC ids.
const (
	metaBucket     = "meta"
	keysBucket     = "keys"
	didsBucket     = "dids"
	credsBucket    = "credentials" // credential metadata, loaded at unlock
	bodiesBucket   = "bodies"      // credential tokens, read on demand
	historyBucket  = "history"
	consentBucket  = "consent" // reserved for consent grants (a later issue)
	settingsBucket = "settings"
)

// Natural ids of singleton records.
const (
	headerID   = "header"
	lockoutID  = "lockout"
	rootID     = "root"
	settingsID = "settings"
)

// formatVersion is the wallet file format written by this package.
const formatVersion = 1

// Config says where a wallet lives and how it behaves. Only Dir is required.
type Config struct {
	// Dir is the wallet folder; it holds FileName.
	Dir string
	// Now is the clock; nil means time.Now. Tests inject a fake one.
	Now func() time.Time
	// KDF are the Argon2id parameters for a new wallet (Create, Recover,
	// Restore); the zero value means DefaultKDF(). Existing wallets use the
	// parameters stored in their header.
	KDF KDFParams
	// Lockout is the wrong-passphrase policy; the zero value means
	// DefaultLockout.
	Lockout LockoutPolicy
	// Verifier checks credentials on receipt and refresh. Required by
	// Receive and Refresh only.
	Verifier Verifier
	// BackupWorkFactor is the scrypt log2(N) for backups (age); 0 means
	// age's default (18, about a second). Tests lower it.
	BackupWorkFactor int
	// Logger receives operational events (never contents); nil discards.
	Logger *slog.Logger
	// HTTPClient makes the wallet's requests to vaults, issuers and
	// verifiers when a call's options name no client of their own: set it
	// to trust a private CA or present a client certificate (https URLs
	// with other roots than the system's). nil = a client with a 30 s
	// timeout and the system's roots.
	HTTPClient *http.Client
}

// client returns hc, else the configured client, else the default.
func (c Config) client(hc *http.Client) *http.Client {
	if hc != nil {
		return hc
	}
	if c.HTTPClient != nil {
		return c.HTTPClient
	}
	return defaultHTTPClient
}

// HTTPClient is the client the wallet makes its requests with
// (Config.HTTPClient, else the default), for callers that reach the same
// services on the wallet's behalf.
func (w *Wallet) HTTPClient() *http.Client { return w.cfg.client(nil) }

// defaultHTTPClient is used when neither a call nor the Config names one.
var defaultHTTPClient = &http.Client{Timeout: 30 * time.Second}

// Now is the wallet's clock (Config.Now, else the system clock), for
// workflows that run on the wallet's behalf (wallet/openid).
func (w *Wallet) Now() time.Time { return w.cfg.now() }

// Logger is the wallet's logger (Config.Logger, else one that discards),
// for workflows that run on the wallet's behalf. It never gets health
// data or key material.
func (w *Wallet) Logger() *slog.Logger { return w.cfg.log() }

func (c Config) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c Config) validate() error {
	if c.Dir == "" {
		return errors.New("wallet config: Dir is empty: say where the wallet folder is")
	}
	return nil
}

// LockoutPolicy escalates the delay after wrong passphrases: the first
// FreeAttempts failures cost nothing; the next one locks the wallet for
// Base, and each further one doubles the lockout, up to Max.
type LockoutPolicy struct {
	FreeAttempts int
	Base         time.Duration
	Max          time.Duration
}

// DefaultLockout: 5 free attempts, then 1 minute, doubling, at most a day.
var DefaultLockout = LockoutPolicy{FreeAttempts: 5, Base: time.Minute, Max: 24 * time.Hour}

func (p LockoutPolicy) orDefault() LockoutPolicy {
	if p.FreeAttempts <= 0 || p.Base <= 0 {
		return DefaultLockout
	}
	if p.Max <= 0 {
		p.Max = DefaultLockout.Max
	}
	return p
}

// delay is the lockout after the given number of consecutive failures.
func (p LockoutPolicy) delay(failures int) time.Duration {
	if failures < p.FreeAttempts {
		return 0
	}
	d := p.Base
	for i := p.FreeAttempts; i < failures && d < p.Max; i++ {
		d *= 2
	}
	return min(d, p.Max)
}

// Settings are the patient's preferences, stored encrypted in the wallet.
type Settings struct {
	// AutoLock locks the wallet after this much idle time; 0 means the
	// default (5 minutes); negative means never.
	AutoLock time.Duration `json:"autoLock"`
	// Registry is the base URL of the registry for did:medid and status.
	Registry string `json:"registry,omitempty"`
	// Vault is the base URL of the patient's hospital vault (access log,
	// standing break-glass permission); "" means none.
	Vault string `json:"vault,omitempty"`
	// PhraseConfirmed records that the patient gave back words of the
	// recovery phrase (or restored from it): until then the app asks.
	PhraseConfirmed bool `json:"phraseConfirmed,omitempty"`
	// EmergencyContact is who to call in an emergency, as the patient
	// wrote it (a name and a phone number): shown on the emergency card,
	// marked as the patient's own words (nobody verified it).
	EmergencyContact string `json:"emergencyContact,omitempty"`
	// AccessSeen is the time of the newest access the patient has seen in
	// the access log (the app's "Who looked"); newer accesses are
	// announced (EHDS Art. 9: the patient is told of every access). Zero
	// means none seen yet.
	AccessSeen time.Time `json:"accessSeen,omitzero"`
}

// DefaultAutoLock is the idle time after which a wallet locks itself unless
// Settings.AutoLock says otherwise.
const DefaultAutoLock = 5 * time.Minute

func (s Settings) autoLock() time.Duration {
	if s.AutoLock == 0 {
		return DefaultAutoLock
	}
	return s.AutoLock
}

// header is the clear-text record that lets a passphrase open the wallet.
type header struct {
	Version    int       `json:"version"`
	KDF        KDFParams `json:"kdf"`
	WrappedDEK []byte    `json:"wrappedDEK"`
	Created    time.Time `json:"created"`
}

// lockout is the clear-text failure counter. Its integrity does not matter:
// an attacker holding the file can reset it, but can also run Argon2id
// offline, which is what the KDF parameters are for. The counter only slows
// guessing through this program.
type lockout struct {
	Failures int       `json:"failures"`
	Until    time.Time `json:"until,omitzero"`
}

// root is the sealed record holding the recovery phrase.
type root struct {
	Phrase string `json:"phrase"`
}

// Wallet is an open wallet. Make one with [Create], [Recover], [Restore],
// [Open] or [Load]. All methods are safe for concurrent use. Methods that
// need the keys or the contents return [ErrLocked] while locked.
type Wallet struct {
	cfg   Config
	store Store
	hdr   header

	mu sync.Mutex // guards every field below and serialises operations
	// Unlocked state; all nil/empty while locked.
	sealer   *sealer
	seed     []byte
	keys     map[string]*key.PrivateKey // by DID
	dids     map[string]*DID            // by DID string
	creds    map[string]*Credential     // by credential id; metadata only (Token "")
	history  []HistoryEntry
	settings Settings
	lastUsed time.Time
	closed   bool
}

func (c Config) log() *slog.Logger {
	if c.Logger != nil {
		return c.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// Load opens the wallet in cfg.Dir without unlocking it. It returns
// [ErrNoWallet] if there is none and [ErrCorrupt] if the file is damaged.
// The caller MUST Close the wallet.
func Load(cfg Config) (*Wallet, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	st, err := OpenBoltStore(filepath.Join(cfg.Dir, FileName), false)
	if err != nil {
		return nil, err
	}
	w, err := loadStore(cfg, st)
	if err != nil {
		st.Close()
		return nil, err
	}
	return w, nil
}

// Open opens and unlocks the wallet in cfg.Dir. Errors: [ErrNoWallet],
// [ErrCorrupt], [ErrWrongPassphrase], [ErrLockedOut] (a [*LockedOutError]).
// The caller MUST Close the wallet.
func Open(cfg Config, passphrase []byte) (*Wallet, error) {
	w, err := Load(cfg)
	if err != nil {
		return nil, err
	}
	if err := w.Unlock(passphrase); err != nil {
		w.Close()
		return nil, err
	}
	return w, nil
}

// loadStore reads the header of st. st belongs to the wallet afterwards.
func loadStore(cfg Config, st Store) (*Wallet, error) {
	raw, err := st.Get(metaBucket, []byte(headerID))
	if errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("%w: the wallet file has no header", ErrCorrupt)
	}
	if err != nil {
		return nil, err
	}
	var h header
	if err := json.Unmarshal(raw, &h); err != nil {
		return nil, fmt.Errorf("%w: unreadable header", ErrCorrupt)
	}
	if h.Version != formatVersion {
		return nil, fmt.Errorf("%w: wallet format version %d, this program reads %d", ErrCorrupt, h.Version, formatVersion)
	}
	if err := h.KDF.validate(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	return &Wallet{cfg: cfg, store: st, hdr: h}, nil
}

// Close locks the wallet and releases the file. Using it afterwards returns
// [ErrClosed]. Close is idempotent.
func (w *Wallet) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	w.lockLocked()
	w.closed = true
	return w.store.Close()
}

// Dir returns the wallet folder.
func (w *Wallet) Dir() string { return w.cfg.Dir }

// KDF returns the Argon2id parameters of this wallet (the salt included;
// it is not secret).
func (w *Wallet) KDF() KDFParams { return w.hdr.KDF }

// IsLocked reports whether the wallet is locked, locking it first if it has
// been idle longer than its auto-lock time.
func (w *Wallet) IsLocked() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.lockIfIdleLocked()
	return w.sealer == nil
}

// LockIfIdle locks the wallet if it has been idle longer than its auto-lock
// time and reports whether it is locked. A GUI calls it from a ticker so the
// keys leave memory even if nobody touches the wallet.
func (w *Wallet) LockIfIdle() bool { return w.IsLocked() }

// Lock forgets the keys and every decrypted record. It is idempotent.
func (w *Wallet) Lock() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.lockLocked()
}

func (w *Wallet) lockLocked() {
	if w.sealer != nil {
		w.sealer.destroy()
	}
	for _, k := range w.keys {
		k.Destroy()
	}
	clear(w.seed)
	w.sealer, w.seed, w.keys, w.dids, w.creds, w.history = nil, nil, nil, nil, nil, nil
	w.settings = Settings{}
}

func (w *Wallet) lockIfIdleLocked() {
	if w.sealer == nil {
		return
	}
	if d := w.settings.autoLock(); d > 0 && w.cfg.now().Sub(w.lastUsed) >= d {
		w.cfg.log().Info("wallet auto-locked after idle time", "idle", d)
		w.lockLocked()
	}
}

// use is called with w.mu held at the start of every operation that needs
// the wallet unlocked: it applies auto-lock and records the activity.
func (w *Wallet) use() error {
	if w.closed {
		return ErrClosed
	}
	w.lockIfIdleLocked()
	if w.sealer == nil {
		return ErrLocked
	}
	w.lastUsed = w.cfg.now()
	return nil
}

func (w *Wallet) readLockout() (lockout, error) {
	var lo lockout
	raw, err := w.store.Get(metaBucket, []byte(lockoutID))
	if errors.Is(err, ErrNotFound) {
		return lo, nil
	}
	if err != nil {
		return lo, err
	}
	if json.Unmarshal(raw, &lo) != nil {
		// A damaged counter is not worth refusing the patient over: start
		// again (the counter is not a security boundary, see lockout).
		return lockout{}, nil
	}
	return lo, nil
}

func (w *Wallet) writeLockout(lo lockout) error {
	raw, err := json.Marshal(lo)
	if err != nil {
		return err
	}
	return w.store.Put(metaBucket, []byte(lockoutID), raw)
}

// Unlock derives the key from passphrase and decrypts the wallet's index.
// A wrong passphrase returns [ErrWrongPassphrase] and counts a failure (the
// count survives restarts); while locked out it returns a [*LockedOutError]
// without trying the passphrase. Unlocking an unlocked wallet checks the
// passphrase again.
func (w *Wallet) Unlock(passphrase []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	now := w.cfg.now()
	lo, err := w.readLockout()
	if err != nil {
		return err
	}
	if now.Before(lo.Until) {
		return &LockedOutError{Until: lo.Until, Left: lo.Until.Sub(now), Failures: lo.Failures}
	}
	kek := w.hdr.KDF.derive(passphrase)
	dek, err := unwrapDEK(kek, w.hdr.WrappedDEK, w.hdr.KDF)
	clear(kek)
	if err != nil {
		lo.Failures++
		pol := w.cfg.Lockout.orDefault()
		if d := pol.delay(lo.Failures); d > 0 {
			lo.Until = now.Add(d)
		}
		if err := w.writeLockout(lo); err != nil {
			return fmt.Errorf("record failed attempt: %w", err)
		}
		w.cfg.log().Warn("wrong wallet passphrase", "failures", lo.Failures)
		if !lo.Until.IsZero() && now.Before(lo.Until) {
			return fmt.Errorf("%w: %w", ErrWrongPassphrase, &LockedOutError{Until: lo.Until, Left: lo.Until.Sub(now), Failures: lo.Failures})
		}
		return fmt.Errorf("%w (failed attempt %d; after %d the wallet locks for a while)", ErrWrongPassphrase, lo.Failures, pol.FreeAttempts)
	}
	if lo.Failures != 0 || !lo.Until.IsZero() {
		if err := w.writeLockout(lockout{}); err != nil {
			clear(dek)
			return fmt.Errorf("reset failed attempts: %w", err)
		}
	}
	if w.sealer != nil { // already unlocked: the passphrase was right, nothing to do
		clear(dek)
		w.lastUsed = now
		return nil
	}
	s, err := newSealer(dek)
	clear(dek)
	if err != nil {
		return err
	}
	if err := w.loadIndex(s); err != nil {
		s.destroy()
		w.lockLocked()
		return err
	}
	w.lastUsed = now
	return nil
}

// ChangePassphrase rewraps the data-encryption key under a new passphrase
// (with fresh Argon2id salt). The old passphrase MUST be given again.
func (w *Wallet) ChangePassphrase(old, new []byte) error {
	if err := w.Unlock(old); err != nil {
		return err
	}
	if err := CheckPassphrase(new); err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.use(); err != nil {
		return err
	}
	kek := w.hdr.KDF.derive(old)
	dek, err := unwrapDEK(kek, w.hdr.WrappedDEK, w.hdr.KDF)
	clear(kek)
	if err != nil {
		return ErrWrongPassphrase
	}
	defer clear(dek)
	h := w.hdr
	h.KDF.Salt = randomBytes(16)
	nk := h.KDF.derive(new)
	defer clear(nk)
	if h.WrappedDEK, err = wrapDEK(nk, dek, h.KDF); err != nil {
		return err
	}
	raw, err := json.Marshal(h)
	if err != nil {
		return err
	}
	if err := w.store.Put(metaBucket, []byte(headerID), raw); err != nil {
		return err
	}
	w.hdr = h
	return nil
}

// loadIndex decrypts every record into memory, so listing and filtering
// never touch the disk or the AEAD again while unlocked.
func (w *Wallet) loadIndex(s *sealer) error {
	var r root
	if err := getSealed(w.store, s, keysBucket, rootID, &r); err != nil {
		return fmt.Errorf("%w: the wallet has no readable root key: %v", ErrCorrupt, err)
	}
	phrase, err := normalizePhrase(r.Phrase)
	if err != nil {
		return fmt.Errorf("%w: stored recovery phrase: %v", ErrCorrupt, err)
	}
	dids := map[string]*DID{}
	if err := listSealed(w.store, s, didsBucket, func(d *DID) { dids[d.DID] = d }); err != nil {
		return err
	}
	creds := map[string]*Credential{}
	if err := listSealed(w.store, s, credsBucket, func(c *Credential) { creds[c.ID] = c }); err != nil {
		return err
	}
	var hist []HistoryEntry
	if err := listSealed(w.store, s, historyBucket, func(h *HistoryEntry) { hist = append(hist, *h) }); err != nil {
		return err
	}
	sortHistory(hist)
	var set Settings
	if err := getSealed(w.store, s, settingsBucket, settingsID, &set); err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	w.sealer, w.seed = s, seedFromPhrase(phrase)
	w.dids, w.creds, w.history, w.settings = dids, creds, hist, set
	w.keys = map[string]*key.PrivateKey{}
	return nil
}

// The plaintext of every sealed record is framed as
// uvarint(len(id)) || id || data: the natural id travels inside, since the
// file only has its HMAC. data is JSON, or raw bytes for credential bodies.
func frame(id string, data []byte) []byte {
	b := binary.AppendUvarint(make([]byte, 0, binary.MaxVarintLen64+len(id)+len(data)), uint64(len(id)))
	return append(append(b, id...), data...)
}

func unframe(pt []byte, bucket string) (string, []byte, error) {
	n, k := binary.Uvarint(pt)
	if k <= 0 || n > uint64(len(pt)-k) {
		return "", nil, fmt.Errorf("%w: record in %s", ErrCorrupt, bucket)
	}
	return string(pt[k : k+int(n)]), pt[k+int(n):], nil
}

// sealRecord seals v (JSON, or []byte as is) as the record id of bucket.
func sealRecord(s *sealer, bucket, id string, v any) (Op, error) {
	data, ok := v.([]byte)
	if !ok {
		var err error
		if data, err = json.Marshal(v); err != nil {
			return Op{}, err
		}
	}
	fid := s.fileID(bucket, id)
	ct, err := s.seal(bucket, fid, frame(id, data))
	if err != nil {
		return Op{}, err
	}
	return Op{Bucket: bucket, ID: fid, Value: ct}, nil
}

func deleteRecord(s *sealer, bucket, id string) Op {
	return Op{Bucket: bucket, ID: s.fileID(bucket, id), Delete: true}
}

// getSealed reads record id of bucket into v (JSON), or into *[]byte as is.
func getSealed(st Store, s *sealer, bucket, id string, v any) error {
	fid := s.fileID(bucket, id)
	ct, err := st.Get(bucket, fid)
	if err != nil {
		return err
	}
	pt, err := s.open(bucket, fid, ct)
	if err != nil {
		return err
	}
	got, data, err := unframe(pt, bucket)
	if err != nil || got != id {
		return fmt.Errorf("%w: record in %s", ErrCorrupt, bucket)
	}
	if raw, ok := v.(*[]byte); ok {
		*raw = data
		return nil
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%w: record in %s", ErrCorrupt, bucket)
	}
	return nil
}

// listSealed decrypts and decodes every record of bucket and calls fn with
// each, in file order. Decoding is spread over the available cores: with
// thousands of credentials it is most of an unlock after Argon2id.
func listSealed[T any](st Store, s *sealer, bucket string, fn func(*T)) error {
	type rec struct{ fid, ct []byte }
	var recs []rec
	if err := st.List(bucket, func(fid, ct []byte) error {
		recs = append(recs, rec{fid, ct})
		return nil
	}); err != nil {
		return err
	}
	out := make([]T, len(recs))
	errs := make([]error, len(recs))
	workers := min(runtime.GOMAXPROCS(0), max(1, len(recs)/256))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(recs); i += workers {
				pt, err := s.open(bucket, recs[i].fid, recs[i].ct)
				if err != nil {
					errs[i] = err
					continue
				}
				_, data, err := unframe(pt, bucket)
				if err == nil && json.Unmarshal(data, &out[i]) != nil {
					err = fmt.Errorf("%w: record in %s", ErrCorrupt, bucket)
				}
				errs[i] = err
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err // the first damaged record, in file order
		}
	}
	for i := range out {
		fn(&out[i])
	}
	return nil
}

// Settings returns the wallet's settings.
func (w *Wallet) Settings() (Settings, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.use(); err != nil {
		return Settings{}, err
	}
	return w.settings, nil
}

// SetSettings stores new settings; they apply at once.
func (w *Wallet) SetSettings(s Settings) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.use(); err != nil {
		return err
	}
	op, err := sealRecord(w.sealer, settingsBucket, settingsID, s)
	if err != nil {
		return err
	}
	if err := w.store.Batch([]Op{op}); err != nil {
		return err
	}
	w.settings = s
	return nil
}

// dirFree reports an error unless dir is missing or an empty folder.
func dirFree(dir string) error {
	ents, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return err
	case len(ents) > 0:
		return fmt.Errorf("%w: %s is not empty", ErrExists, dir)
	}
	return nil
}

// contents is everything a wallet holds, in the clear: what a new wallet is
// built from (Create, Recover, Restore) and what a backup carries.
type contents struct {
	Phrase      string         `json:"phrase"`
	DIDs        []*DID         `json:"dids"`
	Credentials []*Credential  `json:"credentials"`
	History     []HistoryEntry `json:"history"`
	Settings    Settings       `json:"settings"`
}

// build writes a complete new wallet into cfg.Dir, which must not exist or
// be empty. It builds the wallet in a temporary sibling folder and renames
// it into place, so a crash or an error never leaves half a wallet, and an
// existing wallet is never overwritten. It returns the open, unlocked wallet.
func build(cfg Config, passphrase []byte, c *contents) (*Wallet, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if len(passphrase) == 0 {
		return nil, errors.New("empty passphrase: choose a passphrase for the wallet")
	}
	dir := filepath.Clean(cfg.Dir)
	if err := dirFree(dir); err != nil {
		return nil, err
	}
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o700); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".new-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp) // no-op once renamed
	st, err := OpenBoltStore(filepath.Join(tmp, FileName), true)
	if err != nil {
		return nil, err
	}
	kdf := cfg.KDF
	if kdf.Time == 0 {
		kdf = DefaultKDF()
	} else if len(kdf.Salt) == 0 {
		kdf.Salt = randomBytes(16)
	}
	if err := kdf.validate(); err != nil {
		st.Close()
		return nil, fmt.Errorf("wallet config: %w", err)
	}
	dek := randomBytes(32)
	defer clear(dek)
	kek := kdf.derive(passphrase)
	wrapped, err := wrapDEK(kek, dek, kdf)
	clear(kek)
	if err != nil {
		st.Close()
		return nil, err
	}
	h := header{Version: formatVersion, KDF: kdf, WrappedDEK: wrapped, Created: cfg.now().UTC()}
	if err := writeContents(st, h, dek, c); err != nil {
		st.Close()
		return nil, err
	}
	if err := st.Close(); err != nil {
		return nil, err
	}
	if err := syncDir(tmp); err != nil {
		return nil, err
	}
	// Re-check just before the rename: rename(2) replaces an empty folder,
	// and fails on a non-empty one, so a wallet created meanwhile survives.
	if err := dirFree(dir); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp, dir); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrExists, err)
	}
	if err := syncDir(parent); err != nil {
		return nil, err
	}
	st2, err := OpenBoltStore(filepath.Join(dir, FileName), false)
	if err != nil {
		return nil, err
	}
	w, err := loadStore(cfg, st2)
	if err != nil {
		st2.Close()
		return nil, err
	}
	s, err := newSealer(dek)
	if err != nil {
		w.Close()
		return nil, err
	}
	// w is not shared yet: no need for w.mu.
	if err := w.loadIndex(s); err != nil {
		w.Close()
		return nil, err
	}
	w.lastUsed = cfg.now()
	return w, nil
}

func writeContents(st Store, h header, dek []byte, c *contents) error {
	s, err := newSealer(dek)
	if err != nil {
		return err
	}
	defer s.destroy()
	raw, err := json.Marshal(h)
	if err != nil {
		return err
	}
	ops := []Op{{Bucket: metaBucket, ID: []byte(headerID), Value: raw}}
	add := func(bucket, id string, v any) error {
		op, err := sealRecord(s, bucket, id, v)
		ops = append(ops, op)
		return err
	}
	if err := add(keysBucket, rootID, root{Phrase: c.Phrase}); err != nil {
		return err
	}
	if err := add(settingsBucket, settingsID, c.Settings); err != nil {
		return err
	}
	for _, d := range c.DIDs {
		if err := add(didsBucket, d.DID, d); err != nil {
			return err
		}
	}
	for _, cr := range c.Credentials {
		if err := add(credsBucket, cr.ID, credMeta(cr)); err != nil {
			return err
		}
		if err := add(bodiesBucket, cr.ID, []byte(cr.Token)); err != nil {
			return err
		}
	}
	for _, e := range c.History {
		if err := add(historyBucket, e.ID, e); err != nil {
			return err
		}
	}
	return st.Batch(ops)
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
