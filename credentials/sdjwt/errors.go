package sdjwt

import (
	"errors"
	"fmt"
)

// Reason codes: the stable strings a [RefusalError] carries, one per rule
// of RFC 9901 and SD-JWT VC that a token can break. Programs branch on
// them; the Detail texts are for people and may change. The verification
// pipeline (credentials/verify) maps them onto its own codes and keeps
// them in the check's detail.
const (
	// ReasonMalformed: the combined format, the issuer-signed JWT or its
	// payload cannot be parsed, or a required claim is missing.
	ReasonMalformed = "malformed"
	// ReasonWrongType: the issuer-signed JWT's typ is not the one expected.
	ReasonWrongType = "wrong_type"
	// ReasonUnsupportedAlg: a JWS alg other than EdDSA or ES256 ("none" included).
	ReasonUnsupportedAlg = "unsupported_alg"
	// ReasonUnknownIssuer: the issuer's key could not be found (the kid's DID
	// does not resolve, or names no such key).
	ReasonUnknownIssuer = "unknown_issuer"
	// ReasonIssuerMismatch: the kid's DID is not the iss claim.
	ReasonIssuerMismatch = "issuer_mismatch"
	// ReasonBadSignature: the issuer's signature does not verify.
	ReasonBadSignature = "bad_signature"
	// ReasonUnsupportedSDAlg: _sd_alg names a hash other than sha-256, or is
	// not a string, or appears below the top level.
	ReasonUnsupportedSDAlg = "unsupported_sd_alg"
	// ReasonDisclosureMalformed: a Disclosure is not base64url of a JSON
	// array [salt, name, value] or [salt, value].
	ReasonDisclosureMalformed = "disclosure_malformed"
	// ReasonDuplicateDisclosure: the same Disclosure (same digest) is sent twice.
	ReasonDuplicateDisclosure = "duplicate_disclosure"
	// ReasonDuplicateDigest: a digest appears more than once in the payload
	// and the Disclosures.
	ReasonDuplicateDigest = "duplicate_digest"
	// ReasonUnreferencedDisclosure: a Disclosure's digest appears nowhere
	// in the payload or the other Disclosures (a forged or foreign Disclosure).
	ReasonUnreferencedDisclosure = "unreferenced_disclosure"
	// ReasonMisplacedDisclosure: an object-property Disclosure referenced
	// from an array, or an array-element Disclosure referenced from _sd.
	ReasonMisplacedDisclosure = "misplaced_disclosure"
	// ReasonReservedClaimName: a Disclosure or payload uses a name SD-JWT
	// reserves (_sd, ..., _sd_alg below the top level), or _sd is not an
	// array of digest strings.
	ReasonReservedClaimName = "reserved_claim_name"
	// ReasonClaimCollision: a disclosed claim name already exists in its object.
	ReasonClaimCollision = "claim_collision"
	// ReasonNotDisclosable: SD-JWT VC forbids selective disclosure of this
	// claim (iss, nbf, exp, cnf, vct, vct#integrity, status).
	ReasonNotDisclosable = "claim_not_disclosable"
	// ReasonExpired: at or after exp.
	ReasonExpired = "expired"
	// ReasonNotYetValid: before nbf, or iat in the future.
	ReasonNotYetValid = "not_yet_valid"
	// ReasonHolderKey: key binding is required but cnf.jwk is missing or not a
	// usable public key.
	ReasonHolderKey = "holder_key_invalid"
	// ReasonKBMissing: key binding is required and there is no KB-JWT.
	ReasonKBMissing = "kb_missing"
	// ReasonKBMalformed: the KB-JWT cannot be parsed, has the wrong typ, or
	// lacks iat, aud, nonce or sd_hash.
	ReasonKBMalformed = "kb_malformed"
	// ReasonKBBadSignature: the KB-JWT is not signed by the cnf.jwk key.
	ReasonKBBadSignature = "kb_bad_signature"
	// ReasonKBAudience: the KB-JWT is for another verifier (or none was given).
	ReasonKBAudience = "kb_audience_mismatch"
	// ReasonKBNonce: the KB-JWT answers another request.
	ReasonKBNonce = "kb_nonce_mismatch"
	// ReasonKBSDHash: the KB-JWT's sd_hash is not the hash of the SD-JWT and
	// Disclosures it came with (Disclosures added, removed or reordered).
	ReasonKBSDHash = "kb_sd_hash_mismatch"
	// ReasonKBNotFresh: the KB-JWT's iat is older than the allowed age or in
	// the future.
	ReasonKBNotFresh = "kb_not_fresh"
)

// ErrRefused is what every [RefusalError] unwraps to, for callers that only
// need to know a token was refused.
var ErrRefused = errors.New("sd-jwt refused")

// ErrNoSuchClaim reports a claim path a holder asked to disclose that the
// credential does not hold.
var ErrNoSuchClaim = errors.New("no such claim")

// RefusalError says why an SD-JWT was refused: Reason is one of the Reason
// constants, Detail says what was wrong for a person (it names claim paths
// and digests, never claim values), and Err is the underlying error, if any
// (a key lookup's, for example).
type RefusalError struct {
	Reason string
	Detail string
	Err    error
}

func (e *RefusalError) Error() string {
	if e.Err != nil {
		return "sd-jwt: " + e.Reason + ": " + e.Detail + ": " + e.Err.Error()
	}
	return "sd-jwt: " + e.Reason + ": " + e.Detail
}

// Unwrap returns the underlying errors: [ErrRefused] and Err.
func (e *RefusalError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrRefused, e.Err}
	}
	return []error{ErrRefused}
}

// Reason returns the reason code of err, or "" when err is not (and does
// not wrap) a [RefusalError].
func Reason(err error) string {
	var re *RefusalError
	if errors.As(err, &re) {
		return re.Reason
	}
	return ""
}

func refuse(reason, format string, a ...any) *RefusalError {
	return &RefusalError{Reason: reason, Detail: fmt.Sprintf(format, a...)}
}

func refuseErr(reason string, err error, format string, a ...any) *RefusalError {
	return &RefusalError{Reason: reason, Detail: fmt.Sprintf(format, a...), Err: err}
}
