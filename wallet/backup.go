package wallet

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"filippo.io/age"
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
}

// Backup writes the whole wallet (recovery phrase, DIDs, credentials,
// history, settings) to out as one age file encrypted to the backup
// passphrase with age's scrypt recipient. The backup passphrase is
// independent of the wallet passphrase. out receives nothing on error
// before encryption starts; a failed write leaves a truncated file that
// [Restore] rejects.
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
// empty ([ErrExists]): a restore never overwrites a wallet. The wallet is
// built in a temporary folder and renamed into place only when complete,
// so a bad backup touches nothing. Errors: [ErrWrongPassphrase] when
// backupPassphrase does not open the file, [ErrCorruptBackup] when it is
// truncated, damaged or not a medid wallet backup.
func Restore(cfg Config, in io.Reader, backupPassphrase, walletPassphrase []byte) (*Wallet, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if err := dirFree(cfg.Dir); err != nil {
		return nil, err
	}
	doc, err := readBackup(in, backupPassphrase)
	if err != nil {
		return nil, err
	}
	return build(cfg, walletPassphrase, &doc.contents)
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
	return &doc, nil
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
