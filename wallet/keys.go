package wallet

import (
	"crypto/sha256"
	"fmt"
	"io"
	"strings"

	"github.com/medid/medid/credentials/key"
	"github.com/tyler-smith/go-bip39"
	"golang.org/x/crypto/hkdf"
)

// newMnemonic returns a fresh 24-word BIP-39 phrase (256 bits of entropy).
func newMnemonic() (string, error) {
	ent, err := bip39.NewEntropy(256)
	if err != nil {
		return "", err
	}
	return bip39.NewMnemonic(ent)
}

// normalizePhrase accepts a phrase with any spacing and case and checks it
// is a valid 24-word BIP-39 mnemonic (words and checksum).
func normalizePhrase(phrase string) (string, error) {
	words := strings.Fields(strings.ToLower(phrase))
	if len(words) != PhraseWords {
		return "", fmt.Errorf("%w: %d words, want %d", ErrInvalidPhrase, len(words), PhraseWords)
	}
	for i, w := range words {
		if !IsRecoveryWord(w) {
			return "", &PhraseWordError{Index: i + 1}
		}
	}
	m := strings.Join(words, " ")
	if _, err := bip39.EntropyFromMnemonic(m); err != nil {
		// Every word is a recovery word: the checksum failed. The bip39
		// error says so without revealing the phrase.
		return "", fmt.Errorf("%w: %v", ErrPhraseChecksum, err)
	}
	return m, nil
}

// seedFromPhrase is the BIP-39 seed (PBKDF2, empty passphrase) of a valid
// phrase. Every key of the wallet is derived from it, so the phrase alone
// restores the identities.
func seedFromPhrase(m string) []byte { return bip39.NewSeed(m, "") }

// deriveKey derives the key of type alg at index from the BIP-39 seed:
// HKDF-SHA256 with info "medid/<alg>/<index>". Ed25519 takes the first 32
// bytes as its RFC 8032 seed. P-256 reads successive 32-byte candidates from
// the same HKDF stream until one is a valid scalar (non-zero, below the group
// order); a rejection happens with probability about 2^-32, and sampling by
// rejection keeps the scalar uniform where reducing modulo n would bias it.
func deriveKey(seed []byte, alg key.Alg, index uint32) (*key.PrivateKey, error) {
	info := fmt.Sprintf("medid/%s/%d", alg, index)
	r := hkdf.New(sha256.New, seed, nil, []byte(info))
	buf := make([]byte, 32)
	defer clear(buf)
	switch alg {
	case key.Ed25519:
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, err
		}
		return key.NewEd25519FromSeed(buf)
	case key.P256:
		for range 64 { // HKDF-SHA256 yields up to 255*32 bytes; 64 tries never all fail
			if _, err := io.ReadFull(r, buf); err != nil {
				return nil, err
			}
			if k, err := key.NewP256FromScalar(buf); err == nil {
				return k, nil
			}
		}
		return nil, fmt.Errorf("derive p256 key %d: no valid scalar", index)
	}
	return nil, fmt.Errorf("%w: %q", key.ErrUnsupportedKey, alg)
}
