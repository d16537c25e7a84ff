package wallet

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"filippo.io/age"

	"github.com/medid/medid/credentials/consent"
	"github.com/medid/medid/credentials/delegation"
)

// backupFormat names the plaintext inside a backup file.
const backupFormat = "medid-wallet-backup/1"

// maxBackupSize bounds what Restore reads, so a hostile file cannot exhaust
// memory: 1 GiB is about a million credentials.
const maxBackupSize = 1 << 30

// backupDoc is the plaintext of a backup: everything the wallet holds.
type backupDoc struct {
	Format  string    `json:"format"`
	Created time.Time `json:"created"`
	contents
	// Consents are the grants the patient made, with their revocation
	// times. Backups written before consents were backed up have none, and
	// restore as wallets without grants.
	Consents []*Consent `json:"consents,omitempty"`
	// Delegations are the wallet's delegations (granted, held, over the
	// owner); older backups have none.
	Delegations []*Delegation `json:"delegations,omitempty"`
}

// Backup writes the whole wallet (recovery phrase, DIDs, credentials,
// history, settings and consent grants, revoked ones included) to out as
// one age file encrypted to the backup passphrase with age's scrypt
// recipient. The backup passphrase is independent of the wallet
// passphrase. out receives nothing on error before encryption starts; a
// failed write leaves a truncated file that [Restore] rejects.
func (w *Wallet) Backup(out io.Writer, passphrase []byte) error {
	if len(passphrase) == 0 {
		return errors.New("backup: empty backup passphrase")
	}
	w.mu.Lock()
	if err := w.use(); err != nil {
		w.mu.Unlock()
		return err
	}
	var r root
	err := getSealed(w.store, w.sealer, keysBucket, rootID, &r)
	doc := backupDoc{Format: backupFormat, Created: w.cfg.now().UTC(), contents: contents{Phrase: r.Phrase, Settings: w.settings}}
	for _, d := range w.dids {
		doc.DIDs = append(doc.DIDs, d)
	}
	for id, c := range w.creds {
		if err != nil {
			break
		}
		full := *c
		full.Token, err = w.tokenLocked(id)
		doc.Credentials = append(doc.Credentials, &full)
	}
	doc.History = slices.Clone(w.history)
	if err == nil {
		err = listSealed(w.store, w.sealer, consentBucket, func(c *Consent) { doc.Consents = append(doc.Consents, c) })
	}
	if err == nil {
		err = listSealed(w.store, w.sealer, delegationsBucket, func(d *Delegation) { doc.Delegations = append(doc.Delegations, d) })
	}
	w.mu.Unlock()
	if err != nil {
		return fmt.Errorf("backup: read the wallet: %w", err)
	}
	plain, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	defer clear(plain)

	rcp, err := age.NewScryptRecipient(string(passphrase))
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if w.cfg.BackupWorkFactor > 0 {
		rcp.SetWorkFactor(w.cfg.BackupWorkFactor)
	}
	enc, err := age.Encrypt(out, rcp)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if _, err := enc.Write(plain); err != nil {
		return fmt.Errorf("backup: write: %w", err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("backup: write: %w", err)
	}
	return nil
}

// Restore makes a new wallet in cfg.Dir from a backup read from in,
// protected from now on by walletPassphrase. cfg.Dir must not exist or be
// empty ([ErrExists]): a restore never overwrites a wallet. The wallet,
// consent grants included (sealed like every record), is built in a
// temporary folder and renamed into place only when complete, so a bad
// backup or a failed write touches nothing. Errors: [ErrWrongPassphrase]
// when backupPassphrase does not open the file, [ErrCorruptBackup] when it
// is truncated, damaged or not a medid wallet backup.
func Restore(cfg Config, in io.Reader, backupPassphrase, walletPassphrase []byte) (*Wallet, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if err := CheckPassphrase(walletPassphrase); err != nil {
		return nil, err
	}
	if err := dirFree(cfg.Dir); err != nil {
		return nil, err
	}
	doc, err := readBackup(in, backupPassphrase)
	if err != nil {
		return nil, err
	}
	return restore(cfg, walletPassphrase, doc)
}

// restore writes doc as a new wallet in cfg.Dir. build writes the contents
// shared with Create and Recover; the consent grants are added to that
// wallet while it is still in a private staging folder, which is renamed
// to cfg.Dir only once both are written. The record key is carried over
// from the staged wallet, so the passphrase is not stretched twice.
func restore(cfg Config, walletPassphrase []byte, doc *backupDoc) (*Wallet, error) {
	dir := filepath.Clean(cfg.Dir)
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o700); err != nil {
		return nil, err
	}
	stage, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".restore-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(stage) // empty, or holding a failed wallet, by then
	staged := cfg
	staged.Dir = filepath.Join(stage, "w")
	w, err := build(staged, walletPassphrase, &doc.contents)
	if err != nil {
		return nil, err
	}
	// w is not shared: no need for w.mu.
	ops := make([]Op, 0, len(doc.Consents)+len(doc.Delegations))
	for _, c := range doc.Consents {
		op, err := sealRecord(w.sealer, consentBucket, c.ID, c)
		if err != nil {
			w.Close()
			return nil, err
		}
		ops = append(ops, op)
	}
	for _, d := range doc.Delegations {
		op, err := sealRecord(w.sealer, delegationsBucket, d.Hash, d)
		if err != nil {
			w.Close()
			return nil, err
		}
		ops = append(ops, op)
	}
	if len(ops) > 0 {
		if err := w.store.Batch(ops); err != nil {
			w.Close()
			return nil, fmt.Errorf("restore: write the consent grants and delegations: %w", err)
		}
	}
	s := &sealer{enc: bytes.Clone(w.sealer.enc), idKey: bytes.Clone(w.sealer.idKey)}
	if err := w.Close(); err != nil {
		s.destroy()
		return nil, err
	}
	if err := syncDir(staged.Dir); err != nil {
		s.destroy()
		return nil, err
	}
	// As in build: rename(2) replaces an empty folder and fails on a
	// non-empty one, so a wallet created meanwhile survives.
	if err := dirFree(dir); err != nil {
		s.destroy()
		return nil, err
	}
	if err := os.Rename(staged.Dir, dir); err != nil {
		s.destroy()
		return nil, fmt.Errorf("%w: %v", ErrExists, err)
	}
	if err := syncDir(parent); err != nil {
		s.destroy()
		return nil, err
	}
	st, err := OpenBoltStore(filepath.Join(dir, FileName), false)
	if err != nil {
		s.destroy()
		return nil, err
	}
	r, err := loadStore(cfg, st)
	if err != nil {
		s.destroy()
		st.Close()
		return nil, err
	}
	if err := r.loadIndex(s); err != nil {
		s.destroy()
		r.Close()
		return nil, err
	}
	r.lastUsed = cfg.now()
	return r, nil
}

func readBackup(in io.Reader, passphrase []byte) (*backupDoc, error) {
	id, err := age.NewScryptIdentity(string(passphrase))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrWrongPassphrase, err)
	}
	// age refuses work factors above its default ceiling (2^22), which
	// bounds the CPU a hostile file can make us spend.
	dec, err := age.Decrypt(in, id)
	if err != nil {
		var nm *age.NoIdentityMatchError
		if errors.As(err, &nm) {
			return nil, fmt.Errorf("%w: the backup passphrase does not open this backup", ErrWrongPassphrase)
		}
		return nil, fmt.Errorf("%w: %v", ErrCorruptBackup, err)
	}
	var buf bytes.Buffer
	n, err := io.Copy(&buf, io.LimitReader(dec, maxBackupSize+1))
	if err != nil {
		// age authenticates every 64 KiB chunk and marks the last one, so a
		// truncated or altered file fails here.
		return nil, fmt.Errorf("%w: %v", ErrCorruptBackup, err)
	}
	if n > maxBackupSize {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrCorruptBackup, maxBackupSize)
	}
	defer clear(buf.Bytes())
	return parseBackup(buf.Bytes())
}

// parseBackup decodes and checks the plaintext of a backup. Every error
// wraps [ErrCorruptBackup].
func parseBackup(plain []byte) (*backupDoc, error) {
	var doc backupDoc
	jd := json.NewDecoder(bytes.NewReader(plain))
	jd.DisallowUnknownFields()
	if err := jd.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%w: unreadable contents", ErrCorruptBackup)
	}
	if jd.More() {
		return nil, fmt.Errorf("%w: trailing data after the contents", ErrCorruptBackup)
	}
	if doc.Format != backupFormat {
		return nil, fmt.Errorf("%w: format %q, want %q", ErrCorruptBackup, doc.Format, backupFormat)
	}
	if err := doc.check(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorruptBackup, err)
	}
	if err := checkConsents(doc.Consents); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorruptBackup, err)
	}
	if err := checkDelegations(doc.Delegations); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorruptBackup, err)
	}
	return &doc, nil
}

// checkDelegations makes sure every delegation has its id (the hash of its
// token when it has one) once.
func checkDelegations(ds []*Delegation) error {
	ids := map[string]bool{}
	for _, d := range ds {
		if d == nil || d.Hash == "" || ids[d.Hash] || d.Token != "" && d.Hash != delegation.Hash(d.Token) {
			return errors.New("delegation with a missing, wrong or duplicate id")
		}
		ids[d.Hash] = true
	}
	return nil
}

// checkConsents makes sure every grant is one the restored wallet can
// manage: its id is the hash of its token (the id the ledger anchored and
// revokes) and appears once.
func checkConsents(cs []*Consent) error {
	ids := map[string]bool{}
	for _, c := range cs {
		if c == nil || c.Token == "" || c.ID != consent.Hash(c.Token) || ids[c.ID] {
			return errors.New("consent grant with a missing, wrong or duplicate id")
		}
		ids[c.ID] = true
	}
	return nil
}

// check makes sure the contents are consistent: the phrase is valid and
// every did:key is the one its (alg, index) derives from the phrase, so a
// restored wallet can sign for every DID it lists.
func (c *contents) check() error {
	m, err := normalizePhrase(c.Phrase)
	if err != nil {
		return err
	}
	c.Phrase = m
	seed := seedFromPhrase(m)
	defer clear(seed)
	seen := map[string]bool{}
	for _, d := range c.DIDs {
		if d == nil || d.DID == "" || seen[d.DID] {
			return errors.New("missing or duplicate DID")
		}
		seen[d.DID] = true
		k, err := deriveKey(seed, d.Alg, d.Index)
		if err != nil {
			return err
		}
		id, _ := keyDID(k.Public())
		k.Destroy()
		if d.Method == MethodKey && id != d.DID {
			return fmt.Errorf("DID %s does not derive from the recovery phrase", d.DID)
		}
	}
	ids := map[string]bool{}
	for _, cr := range c.Credentials {
		if cr == nil || cr.ID != credentialID(cr.Token) || ids[cr.ID] {
			return errors.New("credential with a missing, wrong or duplicate id")
		}
		ids[cr.ID] = true
	}
	for _, h := range c.History {
		if h.ID == "" {
			return errors.New("history entry without id")
		}
	}
	return nil
}
