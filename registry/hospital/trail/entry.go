package trail

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwe"
)

// Outcomes of an access attempt.
const (
	OutcomeGranted = "granted"
	OutcomeDenied  = "denied"
)

// Event kinds, shaped after FHIR AuditEvent.type / subtype.
const (
	// ActionRead is a provider reading a record.
	ActionRead = "read"
	// ActionErase is the patient erasing a record.
	ActionErase = "erase"
	// ActionPut is a hospital storing a record.
	ActionPut = "put"
)

// DICOM (DCM) audit event codes FHIR AuditEvent.type uses.
const (
	// DCMPatientRecord (110110 "Patient Record") types an ordinary access.
	DCMPatientRecord = "110110"
	// DCMEmergencyOverride (110127 "Emergency Override Started") types a
	// break-glass access, with purpose of use ETREAT.
	DCMEmergencyOverride = "110127"
)

// ErrDecrypt reports an entry that cannot be decrypted or decoded with the
// key given.
var ErrDecrypt = errors.New("cannot decrypt trail entry")

// MaxEntrySize bounds a sealed entry (and hence a Merkle leaf).
const MaxEntrySize = 16 << 10

// Entry is one access attempt as the patient sees it. It is sealed to the
// patient ([Seal]) before it leaves the vault's memory: the ledger and the
// vault's trail store hold only the ciphertext and its leaf hash.
type Entry struct {
	ID       string    `json:"id"`
	Time     time.Time `json:"time"`
	Patient  string    `json:"patient"`
	Provider string    `json:"provider"` // who
	Record   string    `json:"record"`   // which record
	Class    string    `json:"class,omitempty"`
	Action   string    `json:"action"`  // ActionRead, ActionErase, ActionPut
	Purpose  string    `json:"purpose"` // HL7 v3 PurposeOfUse
	Outcome  string    `json:"outcome"` // OutcomeGranted or OutcomeDenied
	// Type is the AuditEvent type code: DCMEmergencyOverride for
	// break-glass, DCMPatientRecord otherwise.
	Type       string `json:"type"`
	BreakGlass bool   `json:"breakGlass,omitempty"`
	// Reason is why access was denied, or the emergency reason given.
	Reason string `json:"reason,omitempty"`
	// Consent is the hash of the consent grant presented, if any.
	Consent string `json:"consent,omitempty"`
	// Licence is the provider's practitioner licence credential (vc+jwt)
	// as they presented it to the vault, so the patient's wallet can check
	// who they are itself (registry/directory) instead of trusting the
	// vault's word.
	Licence string `json:"licence,omitempty"`
}

// Seal encrypts e to the patient's key-agreement key recipient (from
// [RecipientKey]) as a compact JWE: ECDH-ES+A256KW, A256GCM. Only the
// patient can read it.
func Seal(e *Entry, recipient any) ([]byte, error) {
	b, err := json.Marshal(e)
	if err != nil {
		return nil, err
	}
	out, err := jwe.Encrypt(b, jwe.WithKey(jwa.ECDH_ES_A256KW, recipient), jwe.WithContentEncryption(jwa.A256GCM))
	if err != nil {
		return nil, fmt.Errorf("seal trail entry: %w", err)
	}
	return out, nil
}

// Open decrypts a sealed entry with the patient's key from
// [DecryptionKey]. Errors wrap [ErrDecrypt].
func Open(sealed []byte, priv any) (*Entry, error) {
	if len(sealed) > MaxEntrySize {
		return nil, fmt.Errorf("%w: %d bytes", ErrDecrypt, len(sealed))
	}
	b, err := jwe.Decrypt(sealed, jwe.WithKey(jwa.ECDH_ES_A256KW, priv))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDecrypt, err)
	}
	var e Entry
	if err := json.Unmarshal(b, &e); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDecrypt, err)
	}
	return &e, nil
}
