package trail

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/lestrrat-go/jwx/v2/x25519"
)

// Sealer seals entries like [Seal] (compact JWE, ECDH-ES+A256KW, A256GCM,
// decryptable by any JOSE library and by [Open]) at a fraction of the cost
// when many entries go to the same patient: it keeps one sealing session
// per recipient for up to MaxUses entries or MaxAge, made of an ephemeral
// key, the key-encryption key agreed with it, and a random content key
// wrapped under that KEK once. A batch then costs one X25519 (or P-256)
// agreement per patient instead of two scalar multiplications per entry,
// and an entry costs one AES-GCM encryption under the session's content
// key with its own random 96-bit IV.
//
// Why this is sound: AES-GCM with random IVs is safe for up to 2^32
// messages under one key (NIST SP 800-38D 8.3); a session seals at most
// MaxUses (capped at 2^20) entries. Entries of one session carry the same
// "epk" and wrapped key and so can be linked to each other, which they
// already are (the vault files them under the patient). A leaked content
// key opens the entries of its session, as a leaked KEK did when each
// entry had its own content key wrapped under it: the reach of a leaked
// session secret is the same. The vault, which holds the session for at
// most MaxAge, wrote the entries in the first place. To the recipient
// every entry is an ordinary JWE: the format did not change, so entries
// sealed before and after read alike. A Sealer is safe for concurrent use.
type Sealer struct {
	// MaxAge and MaxUses bound the reuse of one ephemeral key (defaults
	// 1 minute and 100,000 entries).
	MaxAge  time.Duration
	MaxUses int

	mu    sync.Mutex // guards cache
	cache map[string]*ephemeral
}

type ephemeral struct {
	header string // base64url protected header, also the GCM AAD
	// prefix is the JWE up to the IV: header, '.', the wrapped content
	// key, '.'.
	prefix  []byte
	aead    cipher.AEAD // AES-256-GCM under the session's content key
	created time.Time
	uses    int
}

// maxSessionUses caps MaxUses: far below the 2^32 random-IV messages
// AES-GCM allows under one key.
const maxSessionUses = 1 << 20

// ptPool recycles the buffers entries are encoded into before sealing;
// they are cleared before they go back.
var ptPool = sync.Pool{New: func() any { return new([]byte) }}

// Seal encrypts e to recipient (from [RecipientKey]).
func (s *Sealer) Seal(e *Entry, recipient any) ([]byte, error) {
	bp := ptPool.Get().(*[]byte)
	pt, err := e.AppendJSON((*bp)[:0])
	if err == nil {
		var out []byte
		out, err = s.SealBytes(pt, recipient)
		if err == nil {
			clear(pt)
			*bp = pt[:0]
			ptPool.Put(bp)
			return out, nil
		}
	}
	clear(pt)
	*bp = pt[:0]
	ptPool.Put(bp)
	return nil, err
}

// SealBytes encrypts plaintext to recipient as a compact JWE.
func (s *Sealer) SealBytes(pt []byte, recipient any) ([]byte, error) {
	ep, err := s.ephemeral(recipient)
	if err != nil {
		return nil, err
	}
	var iv [ivSize]byte
	if _, err := rand.Read(iv[:]); err != nil {
		return nil, err
	}
	enc := base64.RawURLEncoding
	ctLen, tagLen := len(pt), ep.aead.Overhead()
	out := make([]byte, 0, len(ep.prefix)+enc.EncodedLen(ivSize)+1+enc.EncodedLen(ctLen)+1+enc.EncodedLen(tagLen)+ctLen+tagLen)
	out = append(out, ep.prefix...)
	out = enc.AppendEncode(out, iv[:])
	out = append(out, '.')
	// The ciphertext and tag are sealed into the capacity reserved past
	// the room their encodings take, and encoded from there into that
	// room: one allocation per entry.
	room := len(out) + enc.EncodedLen(ctLen) + 1 + enc.EncodedLen(tagLen)
	sealed := ep.aead.Seal(out[room:room], iv[:], pt, []byte(ep.header))
	out = enc.AppendEncode(out, sealed[:ctLen])
	out = append(out, '.')
	return enc.AppendEncode(out, sealed[ctLen:]), nil
}

func (s *Sealer) ephemeral(recipient any) (*ephemeral, error) {
	now := time.Now()
	maxAge, maxUses := s.MaxAge, s.MaxUses
	if maxAge <= 0 {
		maxAge = time.Minute
	}
	if maxUses <= 0 {
		maxUses = 100000
	}
	maxUses = min(maxUses, maxSessionUses)
	// reuse returns the session cached under key (the recipient's public
	// key bytes) and counts a use, if it is young and used little enough.
	reuse := func(key string) *ephemeral {
		s.mu.Lock()
		defer s.mu.Unlock()
		if ep, ok := s.cache[key]; ok && ep.uses < maxUses && now.Sub(ep.created) < maxAge {
			ep.uses++
			return ep
		}
		return nil
	}
	// An X25519 recipient's session is looked up by its raw key, which
	// is what pub.Bytes() returns below, before the key is parsed: the
	// cache holds only keys that parsed, so a hit is a valid key, and the
	// parse's copies are spared on every entry but a session's first.
	if r, ok := recipient.(x25519.PublicKey); ok {
		if ep := reuse(string(r)); ep != nil {
			return ep, nil
		}
	}
	var pub *ecdh.PublicKey
	var err error
	switch r := recipient.(type) {
	case x25519.PublicKey:
		pub, err = ecdh.X25519().NewPublicKey(r)
	case *ecdsa.PublicKey:
		pub, err = r.ECDH()
	default:
		return nil, fmt.Errorf("%w: recipient %T", ErrNoKeyAgreement, recipient)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoKeyAgreement, err)
	}
	ck := string(pub.Bytes())
	if ep := reuse(ck); ep != nil {
		return ep, nil
	}

	priv, err := pub.Curve().GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	z, err := priv.ECDH(pub)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoKeyAgreement, err)
	}
	kek := concatKDF(z, "ECDH-ES+A256KW", 256)
	clear(z)
	kekBlock, err := aes.NewCipher(kek)
	clear(kek)
	if err != nil {
		return nil, err
	}
	// The session's content key: random, wrapped once.
	var cek [32]byte
	if _, err := rand.Read(cek[:]); err != nil {
		return nil, err
	}
	wrapped := aesKeyWrap(kekBlock, cek[:])
	blk, err := aes.NewCipher(cek[:])
	clear(cek[:])
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(blk)
	if err != nil {
		return nil, err
	}
	enc := base64.RawURLEncoding
	var epk map[string]string
	eb := priv.PublicKey().Bytes()
	if pub.Curve() == ecdh.X25519() {
		epk = map[string]string{"kty": "OKP", "crv": "X25519", "x": enc.EncodeToString(eb)}
	} else {
		// Uncompressed point 0x04 || X || Y.
		n := (len(eb) - 1) / 2
		epk = map[string]string{"kty": "EC", "crv": "P-256", "x": enc.EncodeToString(eb[1 : 1+n]), "y": enc.EncodeToString(eb[1+n:])}
	}
	hb, err := json.Marshal(struct {
		Alg string            `json:"alg"`
		Enc string            `json:"enc"`
		EPK map[string]string `json:"epk"`
	}{"ECDH-ES+A256KW", "A256GCM", epk})
	if err != nil {
		return nil, err
	}
	header := enc.EncodeToString(hb)
	prefix := append([]byte(header), '.')
	prefix = append(enc.AppendEncode(prefix, wrapped), '.')
	ep := &ephemeral{header: header, prefix: prefix, aead: aead, created: now, uses: 1}
	s.mu.Lock()
	if s.cache == nil || len(s.cache) > 100000 {
		s.cache = map[string]*ephemeral{}
	}
	s.cache[ck] = ep
	s.mu.Unlock()
	return ep, nil
}

// concatKDF is the Concat KDF of NIST SP 800-56A as RFC 7518 section 4.6.2
// uses it, with empty PartyUInfo and PartyVInfo, for keydatalen <= 256.
func concatKDF(z []byte, alg string, bits int) []byte {
	h := sha256.New()
	var u32 [4]byte
	binary.BigEndian.PutUint32(u32[:], 1) // round 1
	h.Write(u32[:])
	h.Write(z)
	binary.BigEndian.PutUint32(u32[:], uint32(len(alg)))
	h.Write(u32[:])
	h.Write([]byte(alg))
	binary.BigEndian.PutUint32(u32[:], 0) // PartyUInfo
	h.Write(u32[:])
	h.Write(u32[:]) // PartyVInfo
	binary.BigEndian.PutUint32(u32[:], uint32(bits))
	h.Write(u32[:])
	return h.Sum(nil)[:bits/8]
}

// aesKeyWrap is RFC 3394 AES key wrap with the default IV.
func aesKeyWrap(kek cipher.Block, key []byte) []byte {
	n := len(key) / 8
	out := make([]byte, 8*(n+1))
	a := []byte{0xa6, 0xa6, 0xa6, 0xa6, 0xa6, 0xa6, 0xa6, 0xa6}
	copy(out[8:], key)
	var b [16]byte
	for j := 0; j < 6; j++ {
		for i := 1; i <= n; i++ {
			copy(b[:8], a)
			copy(b[8:], out[8*i:8*i+8])
			kek.Encrypt(b[:], b[:])
			t := uint64(n*j + i)
			binary.BigEndian.PutUint64(a, binary.BigEndian.Uint64(b[:8])^t)
			copy(out[8*i:], b[8:])
		}
	}
	copy(out, a)
	return out
}

// Opener decrypts entries like [Open], caching the key-encryption key per
// ephemeral key so that a trail sealed by a [Sealer] costs one key
// agreement per window rather than one per entry. JWEs it does not
// recognise (other algorithms, PartyUInfo/PartyVInfo) go to [Open]. Safe
// for concurrent use.
type Opener struct {
	// Key is the patient's key from [DecryptionKey].
	Key any

	mu   sync.Mutex // guards keks
	keks map[string]cipher.Block
}

// Open decrypts one sealed entry. Errors wrap [ErrDecrypt].
func (o *Opener) Open(sealed []byte) (*Entry, error) {
	if err := checkShape(sealed); err != nil {
		return nil, err
	}
	parts := splitDots(sealed)
	if len(parts) != 5 {
		return nil, fmt.Errorf("%w: not a compact JWE", ErrDecrypt)
	}
	kek, ok, err := o.kek(string(parts[0]))
	if err != nil {
		return nil, err
	}
	if !ok {
		return Open(sealed, o.Key)
	}
	enc := base64.RawURLEncoding
	wrapped, err1 := enc.DecodeString(string(parts[1]))
	iv, err2 := enc.DecodeString(string(parts[2]))
	ct, err3 := enc.DecodeString(string(parts[3]))
	tag, err4 := enc.DecodeString(string(parts[4]))
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDecrypt, err)
	}
	cek, err := aesKeyUnwrap(kek, wrapped)
	if err != nil || len(cek) != 32 {
		return nil, fmt.Errorf("%w: key unwrap failed", ErrDecrypt)
	}
	blk, err := aes.NewCipher(cek)
	clear(cek)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDecrypt, err)
	}
	gcm, err := cipher.NewGCM(blk)
	if err != nil || len(iv) != gcm.NonceSize() || len(tag) != gcm.Overhead() {
		return nil, fmt.Errorf("%w: bad IV or tag", ErrDecrypt)
	}
	pt, err := gcm.Open(nil, iv, append(ct, tag...), parts[0])
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDecrypt, err)
	}
	var e Entry
	if err := json.Unmarshal(pt, &e); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDecrypt, err)
	}
	return &e, nil
}

// kek returns the key-encryption key for a protected header, or ok false
// when the header is not one this fast path handles.
func (o *Opener) kek(header string) (cipher.Block, bool, error) {
	o.mu.Lock()
	k, hit := o.keks[header]
	o.mu.Unlock()
	if hit {
		return k, true, nil
	}
	hb, err := base64.RawURLEncoding.DecodeString(header)
	if err != nil {
		return nil, false, fmt.Errorf("%w: header: %v", ErrDecrypt, err)
	}
	var h struct {
		Alg string            `json:"alg"`
		Enc string            `json:"enc"`
		EPK map[string]string `json:"epk"`
	}
	dec := json.NewDecoder(bytes.NewReader(hb))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&h); err != nil || h.Alg != "ECDH-ES+A256KW" || h.Enc != "A256GCM" {
		return nil, false, nil
	}
	enc := base64.RawURLEncoding
	var priv *ecdh.PrivateKey
	var pubBytes []byte
	switch k := o.Key.(type) {
	case x25519.PrivateKey:
		if h.EPK["kty"] != "OKP" || h.EPK["crv"] != "X25519" {
			return nil, false, fmt.Errorf("%w: epk is not an X25519 key", ErrDecrypt)
		}
		priv, err = ecdh.X25519().NewPrivateKey(k.Seed())
		if err == nil {
			pubBytes, err = enc.DecodeString(h.EPK["x"])
		}
	case *ecdsa.PrivateKey:
		if h.EPK["kty"] != "EC" || h.EPK["crv"] != "P-256" {
			return nil, false, fmt.Errorf("%w: epk is not a P-256 key", ErrDecrypt)
		}
		priv, err = k.ECDH()
		x, errx := enc.DecodeString(h.EPK["x"])
		y, erry := enc.DecodeString(h.EPK["y"])
		if err == nil {
			err = errors.Join(errx, erry)
		}
		if err == nil && (len(x) != 32 || len(y) != 32) {
			err = errors.New("bad P-256 coordinates")
		}
		pubBytes = append(append([]byte{4}, x...), y...)
	default:
		return nil, false, fmt.Errorf("%w: key %T", ErrDecrypt, o.Key)
	}
	if err != nil {
		return nil, false, fmt.Errorf("%w: %v", ErrDecrypt, err)
	}
	epk, err := priv.Curve().NewPublicKey(pubBytes)
	if err != nil {
		return nil, false, fmt.Errorf("%w: epk: %v", ErrDecrypt, err)
	}
	z, err := priv.ECDH(epk)
	if err != nil {
		return nil, false, fmt.Errorf("%w: %v", ErrDecrypt, err)
	}
	kb := concatKDF(z, "ECDH-ES+A256KW", 256)
	clear(z)
	blk, err := aes.NewCipher(kb)
	clear(kb)
	if err != nil {
		return nil, false, err
	}
	o.mu.Lock()
	if o.keks == nil || len(o.keks) > 100000 {
		o.keks = map[string]cipher.Block{}
	}
	o.keks[header] = blk
	o.mu.Unlock()
	return blk, true, nil
}

func splitDots(b []byte) [][]byte {
	var out [][]byte
	for len(out) < 6 {
		i := bytes.IndexByte(b, '.')
		if i < 0 {
			return append(out, b)
		}
		out = append(out, b[:i])
		b = b[i+1:]
	}
	return out
}

// aesKeyUnwrap is RFC 3394 AES key unwrap with the default IV.
func aesKeyUnwrap(kek cipher.Block, wrapped []byte) ([]byte, error) {
	if len(wrapped)%8 != 0 || len(wrapped) < 24 {
		return nil, errors.New("bad wrapped key length")
	}
	n := len(wrapped)/8 - 1
	a := make([]byte, 8)
	copy(a, wrapped[:8])
	r := make([]byte, 8*n)
	copy(r, wrapped[8:])
	var b [16]byte
	for j := 5; j >= 0; j-- {
		for i := n; i >= 1; i-- {
			t := uint64(n*j + i)
			binary.BigEndian.PutUint64(b[:8], binary.BigEndian.Uint64(a)^t)
			copy(b[8:], r[8*(i-1):8*i])
			kek.Decrypt(b[:], b[:])
			copy(a, b[:8])
			copy(r[8*(i-1):], b[8:])
		}
	}
	if subtle.ConstantTimeCompare(a, []byte{0xa6, 0xa6, 0xa6, 0xa6, 0xa6, 0xa6, 0xa6, 0xa6}) != 1 {
		return nil, errors.New("integrity check failed")
	}
	return r, nil
}
