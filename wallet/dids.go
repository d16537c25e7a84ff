package wallet

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
)

// DID methods a wallet holds.
const (
	MethodKey   = "key"   // did:key, derived from the public key, nothing to register
	MethodMedid = "medid" // did:medid, registered on the medid registry
)

// DID is one of the patient's identities and the key behind it.
type DID struct {
	// DID is the identifier, e.g. "did:key:z6Mk…".
	DID string `json:"did"`
	// Method is MethodKey or MethodMedid.
	Method string `json:"method"`
	// Alg and Index locate the key: HKDF info "medid/<alg>/<index>".
	Alg   key.Alg `json:"alg"`
	Index uint32  `json:"index"`
	// KeyID is the verification method (DID URL) the wallet signs with.
	KeyID string `json:"keyId"`
	// Label names the identity for the patient; for a pairwise DID, the
	// relationship (e.g. "St Mary's Hospital").
	Label string `json:"label,omitempty"`
	// Pairwise marks a DID made for a single relationship.
	Pairwise bool `json:"pairwise,omitempty"`
	// Primary marks the wallet's main identity (Ed25519 index 0).
	Primary bool      `json:"primary,omitempty"`
	Created time.Time `json:"created"`
	// Registered is when a did:medid was committed to the registry.
	Registered *time.Time `json:"registered,omitempty"`
}

// NewDIDOptions says what identity [Wallet.NewDID] makes.
type NewDIDOptions struct {
	// Alg is the key type; "" means key.Ed25519.
	Alg key.Alg
	// Label names the identity. With Pairwise, it names the relationship
	// and must be set.
	Label string
	// Pairwise asks for a DID used with one relationship only. Asking again
	// for the same label returns the existing DID.
	Pairwise bool
}

// keyDID is the did:key of pub and the key id it signs with
// ("did:key:z…#z…", as the did:key method specifies).
func keyDID(pub key.PublicKey) (string, string) {
	id := did.KeyDID(pub)
	return id, id + "#" + pub.Multikey()
}

// newKeyDID derives the did:key at (alg, index).
func newKeyDID(seed []byte, alg key.Alg, index uint32, now time.Time) (*DID, *key.PrivateKey, error) {
	k, err := deriveKey(seed, alg, index)
	if err != nil {
		return nil, nil, err
	}
	id, kid := keyDID(k.Public())
	return &DID{DID: id, Method: MethodKey, Alg: alg, Index: index, KeyID: kid, Created: now.UTC()}, k, nil
}

// Create makes a new wallet in cfg.Dir (which must not exist or be empty)
// with a fresh 24-word recovery phrase and a primary Ed25519 did:key. It
// returns the unlocked wallet and the phrase: show the phrase to the patient
// once and never store it elsewhere; it restores every identity.
func Create(cfg Config, passphrase []byte) (*Wallet, string, error) {
	phrase, err := newMnemonic()
	if err != nil {
		return nil, "", err
	}
	w, err := Recover(cfg, passphrase, phrase, RecoverOptions{})
	if err != nil {
		return nil, "", err
	}
	return w, phrase, nil
}

// RecoverOptions says which identities [Recover] re-derives besides the
// primary one (Ed25519 index 0). A phrase carries no list of the DIDs made
// from it, so the patient says how many of each key type they had.
type RecoverOptions struct {
	Ed25519 int // number of Ed25519 identities, indices 0..n-1; 0 means 1
	P256    int // number of P-256 identities, indices 0..n-1
}

// Recover makes a new wallet in cfg.Dir (which must not exist or be empty)
// from a recovery phrase alone: the identities come back (as did:key;
// labels, credentials and history live only in backups). A bad phrase is
// [ErrInvalidPhrase].
func Recover(cfg Config, passphrase []byte, phrase string, opts RecoverOptions) (*Wallet, error) {
	if err := CheckPassphrase(passphrase); err != nil {
		return nil, err
	}
	m, err := normalizePhrase(phrase)
	if err != nil {
		return nil, err
	}
	seed := seedFromPhrase(m)
	defer clear(seed)
	now := cfg.now()
	c := &contents{Phrase: m}
	n := max(opts.Ed25519, 1)
	for alg, count := range map[key.Alg]int{key.Ed25519: n, key.P256: opts.P256} {
		for i := range uint32(count) {
			d, k, err := newKeyDID(seed, alg, i, now)
			if err != nil {
				return nil, err
			}
			k.Destroy()
			d.Primary = alg == key.Ed25519 && i == 0
			if d.Primary {
				d.Label = "primary"
			} else if count > 0 {
				d.Label = "recovered"
			}
			c.DIDs = append(c.DIDs, d)
		}
	}
	return build(cfg, passphrase, c)
}

// DIDs returns the wallet's identities, the primary first, then by creation
// time.
func (w *Wallet) DIDs() ([]DID, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.use(); err != nil {
		return nil, err
	}
	out := make([]DID, 0, len(w.dids))
	for _, d := range w.dids {
		out = append(out, *d)
	}
	slices.SortFunc(out, func(a, b DID) int {
		switch {
		case a.Primary != b.Primary:
			if a.Primary {
				return -1
			}
			return 1
		case !a.Created.Equal(b.Created):
			return a.Created.Compare(b.Created)
		case a.Alg != b.Alg:
			return strings.Compare(string(a.Alg), string(b.Alg))
		}
		return int(a.Index) - int(b.Index)
	})
	return out, nil
}

// PrimaryDID returns the wallet's main identity.
func (w *Wallet) PrimaryDID() (DID, error) {
	ds, err := w.DIDs()
	if err != nil {
		return DID{}, err
	}
	if len(ds) == 0 || !ds[0].Primary {
		return DID{}, fmt.Errorf("%w: primary DID", ErrNotFound)
	}
	return ds[0], nil
}

// NewDID derives the next identity of opts.Alg (at the next free index) and
// stores it. A pairwise request for a label that already has a pairwise DID
// returns that DID unchanged.
func (w *Wallet) NewDID(opts NewDIDOptions) (DID, error) {
	if opts.Alg == "" {
		opts.Alg = key.Ed25519
	}
	if opts.Alg != key.Ed25519 && opts.Alg != key.P256 {
		return DID{}, fmt.Errorf("%w: %q", key.ErrUnsupportedKey, opts.Alg)
	}
	opts.Label = strings.TrimSpace(opts.Label)
	if opts.Pairwise && opts.Label == "" {
		return DID{}, errors.New("a pairwise DID needs a label naming the relationship")
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.use(); err != nil {
		return DID{}, err
	}
	var next uint32
	for _, d := range w.dids {
		if opts.Pairwise && d.Pairwise && d.Label == opts.Label {
			return *d, nil
		}
		if d.Alg == opts.Alg && d.Index >= next {
			next = d.Index + 1
		}
	}
	d, k, err := newKeyDID(w.seed, opts.Alg, next, w.cfg.now())
	if err != nil {
		return DID{}, err
	}
	d.Label, d.Pairwise = opts.Label, opts.Pairwise
	if err := w.putDIDLocked(d); err != nil {
		k.Destroy()
		return DID{}, err
	}
	w.keys[d.DID] = k
	return *d, nil
}

func (w *Wallet) putDIDLocked(d *DID) error {
	op, err := sealRecord(w.sealer, didsBucket, d.DID, d)
	if err != nil {
		return err
	}
	if err := w.store.Batch([]Op{op}); err != nil {
		return err
	}
	w.dids[d.DID] = d
	return nil
}

// keyLocked returns the private key of one of the wallet's DIDs, deriving
// it from the seed on first use.
func (w *Wallet) keyLocked(did string) (*key.PrivateKey, *DID, error) {
	d, ok := w.dids[did]
	if !ok {
		return nil, nil, fmt.Errorf("%w: %s is not a DID of this wallet", ErrNotFound, did)
	}
	if k, ok := w.keys[did]; ok {
		return k, d, nil
	}
	k, err := deriveKey(w.seed, d.Alg, d.Index)
	if err != nil {
		return nil, nil, err
	}
	w.keys[did] = k
	return k, d, nil
}

// SignerFor returns the private key and key id of one of the wallet's DIDs,
// for protocols the wallet does not implement itself (e.g. signing a
// registry transaction). The key MUST NOT outlive the next Lock.
func (w *Wallet) SignerFor(did string) (*key.PrivateKey, string, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.use(); err != nil {
		return nil, "", err
	}
	k, d, err := w.keyLocked(did)
	if err != nil {
		return nil, "", err
	}
	return k, d.KeyID, nil
}
