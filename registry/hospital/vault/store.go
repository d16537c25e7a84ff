package vault

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/chacha20poly1305"

	"github.com/medid/medid/internal/atomicfile"
	"github.com/medid/medid/internal/randid"
	"github.com/medid/medid/registry/hospital/vaultapi"
)

// MasterKeyFile is the name of the vault's master key file (32 random bytes,
// mode 0600) in Config.Dir. Losing it makes every record unreadable.
const MasterKeyFile = "master.key"

type recordFile struct {
	vaultapi.Meta
	// Nonce and Ciphertext: XChaCha20-Poly1305 under the record's data key,
	// the record id as associated data.
	Nonce      []byte `json:"nonce,omitempty"`
	Ciphertext []byte `json:"ciphertext,omitempty"`
}

// store is the on-disk record store:
//
//	<dir>/master.key        32 bytes, 0600
//	<dir>/records/<id>.json recordFile (metadata and ciphertext)
//	<dir>/keys/<id>.key     the record's data key wrapped by the master key
//
// Each record has its own random data key so erasing one record destroys
// one 72-byte file (crypto-shredding), whatever backups of the ciphertext
// exist.
type store struct {
	dir    string
	master []byte
	mu     sync.RWMutex // guards the files of one record against concurrent erase

	classMu sync.Mutex // guards classOK
	// classOK remembers the records whose decrypted resource passed
	// checkClass, keyed by id, class and nonce (see checkedClass).
	classOK map[string]struct{}
}

// maxClassOK bounds store.classOK; when full it starts again empty.
const maxClassOK = 1 << 16

// checkedClass runs checkClass on rec's decrypted resource pt once per
// record: a record's plaintext is fixed by its id, its data key and its
// nonce (XChaCha20-Poly1305 authenticates the ciphertext under that key),
// so a verdict on (id, class, nonce) holds for every later read of the
// same file. A file replaced on disk has another nonce and is checked again.
// Only passing verdicts are kept: a mismatch is checked (and refused) on
// every read.
func (s *store) checkedClass(rec *recordFile, pt []byte) error {
	k := rec.ID + "\x00" + rec.Class + "\x00" + string(rec.Nonce)
	s.classMu.Lock()
	_, ok := s.classOK[k]
	s.classMu.Unlock()
	if ok {
		return nil
	}
	if err := checkClass(pt, rec.Class); err != nil {
		return err
	}
	s.classMu.Lock()
	if s.classOK == nil || len(s.classOK) >= maxClassOK {
		s.classOK = make(map[string]struct{})
	}
	s.classOK[k] = struct{}{}
	s.classMu.Unlock()
	return nil
}

func openStore(dir string) (*store, error) {
	for _, d := range []string{dir, filepath.Join(dir, "records"), filepath.Join(dir, "keys")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
	}
	mk := filepath.Join(dir, MasterKeyFile)
	master, err := os.ReadFile(mk)
	if errors.Is(err, os.ErrNotExist) {
		master = make([]byte, chacha20poly1305.KeySize)
		if _, err := rand.Read(master); err != nil {
			return nil, err
		}
		if err := atomicfile.Create(mk, master, 0o600); err != nil {
			return nil, fmt.Errorf("vault: create master key: %w", err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("vault: read master key: %w", err)
	}
	if len(master) != chacha20poly1305.KeySize {
		return nil, fmt.Errorf("vault: %s holds %d bytes, want %d", mk, len(master), chacha20poly1305.KeySize)
	}
	if fi, err := os.Stat(mk); err == nil && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("vault: %s is readable by others (mode %v): chmod 600 it", mk, fi.Mode().Perm())
	}
	return &store{dir: dir, master: master}, nil
}

func validRecordID(id string) bool {
	if len(id) != 2+32 || !strings.HasPrefix(id, "r-") {
		return false
	}
	_, err := hex.DecodeString(id[2:])
	return err == nil
}

func (s *store) recordPath(id string) string { return filepath.Join(s.dir, "records", id+".json") }
func (s *store) keyPath(id string) string    { return filepath.Join(s.dir, "keys", id+".key") }

func seal(k, plaintext, ad []byte) (nonce, ct []byte, err error) {
	aead, err := chacha20poly1305.NewX(k)
	if err != nil {
		return nil, nil, err
	}
	nonce = make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, nil, err
	}
	return nonce, aead.Seal(nil, nonce, plaintext, ad), nil
}

func open(k, nonce, ct, ad []byte) ([]byte, error) {
	aead, err := chacha20poly1305.NewX(k)
	if err != nil {
		return nil, err
	}
	if len(nonce) != aead.NonceSize() {
		return nil, errors.New("bad nonce")
	}
	return aead.Open(nil, nonce, ct, ad)
}

// put stores resource for owner and class under a new random id.
func (s *store) put(owner, class string, resource []byte, now time.Time) (*vaultapi.Meta, error) {
	return s.putWithID(newRecordID(), owner, class, resource, now)
}

// newRecordID returns a fresh random record id ("r-" and 32 hex digits,
// also a valid FHIR logical id).
func newRecordID() string { return "r-" + randid.Hex(16) }

// putWithID stores resource for owner and class under id, a fresh id
// from newRecordID (so a FHIR resource can carry its own id).
func (s *store) putWithID(id, owner, class string, resource []byte, now time.Time) (*vaultapi.Meta, error) {
	if !validRecordID(id) {
		return nil, fmt.Errorf("vault: %q is not a record id", id)
	}
	dk := make([]byte, chacha20poly1305.KeySize)
	if _, err := rand.Read(dk); err != nil {
		return nil, err
	}
	defer clear(dk)
	nonce, ct, err := seal(dk, resource, []byte(id))
	if err != nil {
		return nil, err
	}
	kn, kct, err := seal(s.master, dk, []byte("medid-vault-dek:"+id))
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(resource)
	rec := recordFile{Meta: vaultapi.Meta{ID: id, Owner: owner, Class: class, Hash: hex.EncodeToString(sum[:]), Created: now.UTC()},
		Nonce: nonce, Ciphertext: ct}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := writeFileSync(s.keyPath(id), append(kn, kct...)); err != nil {
		return nil, err
	}
	b, err := json.Marshal(&rec)
	if err != nil {
		return nil, err
	}
	if err := writeFileSync(s.recordPath(id), b); err != nil {
		return nil, err
	}
	return &rec.Meta, nil
}

func (s *store) load(id string) (*recordFile, error) {
	if !validRecordID(id) {
		return nil, fmt.Errorf("%w: %.64q is not a record id", vaultapi.ErrNotFound, id)
	}
	b, err := os.ReadFile(s.recordPath(id))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: record %s", vaultapi.ErrNotFound, id)
	} else if err != nil {
		return nil, err
	}
	var rec recordFile
	if err := json.Unmarshal(b, &rec); err != nil {
		return nil, fmt.Errorf("vault: record %s: %w", id, err)
	}
	return &rec, nil
}

// list returns the metadata of every record (erased ones included), in
// no particular order. Unreadable files are skipped and reported.
func (s *store) list() ([]vaultapi.Meta, []error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	ents, err := os.ReadDir(filepath.Join(s.dir, "records"))
	if err != nil {
		return nil, []error{err}
	}
	var out []vaultapi.Meta
	var errs []error
	for _, e := range ents {
		id, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || !validRecordID(id) {
			continue
		}
		rec, err := s.load(id)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, rec.Meta)
	}
	return out, errs
}

// meta returns a record's metadata (also for an erased record).
func (s *store) meta(id string) (*vaultapi.Meta, error) {
	rec, err := s.get(id)
	if err != nil {
		return nil, err
	}
	return &rec.Meta, nil
}

// get returns a record's file as stored: its metadata (also for an
// erased record) and its ciphertext, for a decision on the metadata and
// then [store.open] without reading and decoding the file twice.
func (s *store) get(id string) (*recordFile, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.load(id)
}

// read decrypts a record. It is called only after the access decision.
func (s *store) read(id string) ([]byte, error) {
	rec, err := s.get(id)
	if err != nil {
		return nil, err
	}
	return s.open(rec)
}

// open decrypts rec, a record file from [store.get]. It is called only
// after the access decision. An erasure since rec was read wins: the
// data key is read now, under the lock erase takes, and an erased
// record's key is gone, so its ciphertext (even in rec) is unreadable.
func (s *store) open(rec *recordFile) ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	id := rec.ID
	if rec.Erased != nil {
		return nil, fmt.Errorf("%w: record %s", vaultapi.ErrErased, id)
	}
	wrapped, err := os.ReadFile(s.keyPath(id))
	if err != nil {
		return nil, fmt.Errorf("%w: record %s has no data key", vaultapi.ErrErased, id)
	}
	if len(wrapped) < chacha20poly1305.NonceSizeX {
		return nil, fmt.Errorf("vault: wrapped key of %s is truncated", id)
	}
	dk, err := open(s.master, wrapped[:chacha20poly1305.NonceSizeX], wrapped[chacha20poly1305.NonceSizeX:], []byte("medid-vault-dek:"+id))
	if err != nil {
		return nil, fmt.Errorf("vault: unwrap data key of %s: %w", id, err)
	}
	defer clear(dk)
	pt, err := open(dk, rec.Nonce, rec.Ciphertext, []byte(id))
	if err != nil {
		return nil, fmt.Errorf("vault: decrypt record %s: %w", id, err)
	}
	return pt, nil
}

// erase destroys a record's data key (overwrite with zeros, fsync, remove,
// fsync the folder) and drops its ciphertext, keeping the metadata with the
// erasure time as a tombstone.
func (s *store) erase(id string, now time.Time) (*vaultapi.Meta, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, err := s.load(id)
	if err != nil {
		return nil, err
	}
	if rec.Erased != nil {
		return nil, fmt.Errorf("%w: record %s", vaultapi.ErrErased, id)
	}
	kp := s.keyPath(id)
	if f, err := os.OpenFile(kp, os.O_WRONLY, 0); err == nil {
		fi, serr := f.Stat()
		if serr == nil {
			_, _ = f.WriteAt(make([]byte, fi.Size()), 0)
		}
		_ = f.Sync()
		_ = f.Close()
	}
	if err := os.Remove(kp); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("vault: destroy data key of %s: %w", id, err)
	}
	atomicfile.SyncDir(filepath.Dir(kp))
	t := now.UTC()
	rec.Erased = &t
	rec.Nonce, rec.Ciphertext = nil, nil
	b, err := json.Marshal(rec)
	if err != nil {
		return nil, err
	}
	if err := writeFileSync(s.recordPath(id), b); err != nil {
		return nil, err
	}
	return &rec.Meta, nil
}

// writeFileSync writes data to path atomically (temp file, fsync, rename,
// fsync of the folder), mode 0600.
func writeFileSync(path string, data []byte) error {
	return atomicfile.WriteFile(path, data, 0o600)
}

// remove deletes a record that was never acknowledged (its put could not be
// recorded in the trail): its data key is overwritten and removed like an
// erasure, and its file removed, so no trace of it stays readable.
func (s *store) remove(id string) error {
	if _, err := s.erase(id, time.Now()); err != nil && !errors.Is(err, vaultapi.ErrNotFound) {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := os.Remove(s.recordPath(id)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}
