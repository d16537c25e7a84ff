package trail

import (
	"bytes"
	"encoding/base64"
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
	// ActionConsent is a representative granting consent for the patient
	// (Grant holds the grant), ActionWithdraw a consent grant withdrawn at
	// the vault, ActionAccessLog a representative reading the patient's
	// trail. Each carries the Authority acted on.
	ActionConsent   = "consent"
	ActionWithdraw  = "consent-withdraw"
	ActionAccessLog = "access-log"
	// ActionConsentDeposit is a provider handing the vault a consent grant
	// the patient gave (over FHIR, POST /fhir/Consent), so that its later
	// reads need not carry it; Consent holds the grant's hash, Class its
	// classes. A refused deposit is recorded too.
	ActionConsentDeposit = "consent-deposit"
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
	// Consent is the hash of the consent grant the decision used: the one
	// the request presented, or, with Standing, the patient's standing
	// break-glass grant deposited with the vault.
	Consent string `json:"consent,omitempty"`
	// Standing marks a break-glass access decided under the patient's
	// standing break-glass grant (Consent is then that grant's hash), so
	// the patient is told which permission let the hospital in without
	// anyone having to infer it from an empty Consent.
	Standing bool `json:"standing,omitempty"`
	// Licence is the provider's practitioner licence credential (vc+jwt)
	// as they presented it to the vault, so the patient's wallet can check
	// who they are itself (registry/directory) instead of trusting the
	// vault's word.
	Licence string `json:"licence,omitempty"`
	// Authority is set when someone acted for the patient: the delegation
	// they acted under (or, for a provider reading under a consent grant a
	// representative made, the delegation the grant was made under).
	Authority *Authority `json:"authority,omitempty"`
	// Grant is the consent grant token a representative granted
	// (ActionConsent), so the patient holds every grant made in their
	// name; AnchorSeal is the grant's anchor key sealed to the patient by
	// the representative (a compact JWE only the patient opens), with
	// which the patient can withdraw the grant on the ledger themselves.
	Grant      string `json:"grant,omitempty"`
	AnchorSeal string `json:"anchorSeal,omitempty"`
	// Unauthenticated marks an attempt whose request did not prove who sent
	// it: Provider is then empty (a claimed identity is never recorded as
	// fact), Origin says where it came from, and Count, when set, is how
	// many such attempts the entry stands for (beyond the per-origin cap).
	Unauthenticated bool   `json:"unauthenticated,omitempty"`
	Origin          string `json:"origin,omitempty"`
	Count           int    `json:"count,omitempty"`
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
	if err := checkShape(sealed); err != nil {
		return nil, err
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

// Sizes of the parts of a sealed entry: an A256KW-wrapped 256-bit content
// key (RFC 3394: key + 8 bytes), a 96-bit GCM IV, a 128-bit GCM tag.
const (
	wrappedKeySize = 40
	ivSize         = 12
	tagSize        = 16
)

// checkShape refuses anything that is not a compact JWE of exactly the
// shape [Seal] writes before any JOSE library parses it: five parts of
// unpadded base64url, a protected header naming ECDH-ES+A256KW and A256GCM,
// and a wrapped key, IV and tag of the exact sizes. A trail entry comes
// from a vault the patient does not control, so the library behind Open
// only ever sees well-formed input (jwx v2.1.7 panics on an empty wrapped
// key, for one). Errors wrap [ErrDecrypt].
func checkShape(sealed []byte) error {
	if len(sealed) > MaxEntrySize {
		return fmt.Errorf("%w: %d bytes exceeds %d", ErrDecrypt, len(sealed), MaxEntrySize)
	}
	parts := bytes.Split(sealed, []byte("."))
	if len(parts) != 5 {
		return fmt.Errorf("%w: not a compact JWE (want 5 parts, got %d)", ErrDecrypt, len(parts))
	}
	dec := make([][]byte, 5)
	for i, p := range parts {
		b, err := base64.RawURLEncoding.Strict().DecodeString(string(p))
		if err != nil {
			return fmt.Errorf("%w: part %d is not unpadded base64url", ErrDecrypt, i+1)
		}
		dec[i] = b
	}
	var h struct {
		Alg string          `json:"alg"`
		Enc string          `json:"enc"`
		EPK json.RawMessage `json:"epk"`
	}
	if err := json.Unmarshal(dec[0], &h); err != nil || h.Alg != "ECDH-ES+A256KW" || h.Enc != "A256GCM" || len(h.EPK) == 0 {
		return fmt.Errorf("%w: protected header must name alg ECDH-ES+A256KW, enc A256GCM and an epk", ErrDecrypt)
	}
	if len(dec[1]) != wrappedKeySize || len(dec[2]) != ivSize || len(dec[4]) != tagSize {
		return fmt.Errorf("%w: wrapped key, IV or tag of the wrong size", ErrDecrypt)
	}
	return nil
}

// Authority is the delegation someone acted under, as the patient's trail
// records it: who (Representative, Name), on what basis, given by whom
// (Issuer, a DelegationCredential of the patient's or an authority's
// GuardianshipCredential), until when.
type Authority struct {
	// Delegation is the hex SHA-256 of the delegation token, ID its
	// credential id, Type its credential type.
	Delegation string `json:"delegation"`
	ID         string `json:"id"`
	Type       string `json:"type"`
	Issuer     string `json:"issuer"`
	// Representative is the DID that acted; Name their name as the
	// delegation states it; Basis the legal basis (parent, guardian,
	// power-of-attorney, authorisation); By the representative who
	// sub-delegated, when the delegation is a sub-delegation.
	Representative string `json:"representative"`
	Name           string `json:"name"`
	Basis          string `json:"basis"`
	By             string `json:"by,omitempty"`
	// Minor marks a delegation for a minor, which ends on ValidUntil: the
	// day the patient comes of age.
	Minor      bool      `json:"minor,omitempty"`
	ValidUntil time.Time `json:"validUntil"`
	// Ended marks an access under a consent grant a representative made
	// before the patient came of age: it holds until the patient confirms
	// or withdraws it (docs/design/0020-delegation.md).
	Ended bool `json:"ended,omitempty"`
}
