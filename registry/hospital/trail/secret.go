package trail

import (
	"fmt"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwe"
)

// MaxSecretSize bounds a secret sealed with [SealSecret].
const MaxSecretSize = 64

// SealSecret encrypts a short secret (a key seed) to a patient's
// key-agreement key recipient (from [RecipientKey]) as a compact JWE of the
// same shape as a trail entry: ECDH-ES+A256KW, A256GCM. A representative
// seals the anchor key of a consent grant they make for a patient this way,
// so that the patient, and only they, can withdraw the grant on the ledger
// (docs/design/0020-delegation.md).
func SealSecret(secret []byte, recipient any) (string, error) {
	if len(secret) == 0 || len(secret) > MaxSecretSize {
		return "", fmt.Errorf("seal secret: %d bytes, want 1 to %d", len(secret), MaxSecretSize)
	}
	out, err := jwe.Encrypt(secret, jwe.WithKey(jwa.ECDH_ES_A256KW, recipient), jwe.WithContentEncryption(jwa.A256GCM))
	if err != nil {
		return "", fmt.Errorf("seal secret: %w", err)
	}
	return string(out), nil
}

// OpenSecret decrypts a secret sealed with [SealSecret] with the patient's
// key from [DecryptionKey]. The sealed value comes from a representative
// through a vault, neither of which the patient controls: it is checked for
// the exact shape SealSecret writes before any JOSE library parses it.
// Errors wrap [ErrDecrypt].
func OpenSecret(sealed string, priv any) ([]byte, error) {
	if err := checkShape([]byte(sealed)); err != nil {
		return nil, err
	}
	b, err := jwe.Decrypt([]byte(sealed), jwe.WithKey(jwa.ECDH_ES_A256KW, priv))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDecrypt, err)
	}
	if len(b) == 0 || len(b) > MaxSecretSize {
		clear(b)
		return nil, fmt.Errorf("%w: a sealed secret of %d bytes", ErrDecrypt, len(b))
	}
	return b, nil
}
