package ledger

import (
	"errors"
	"fmt"
)

// Errors returned by the read API and carried (as ABCI codes) by rejected
// transactions. Callers branch on them with errors.Is; [CodeOf] and
// [ErrorOf] map between errors and ABCI codes.
var (
	// ErrNotFound: no such DID, issuer, status list or version.
	ErrNotFound = errors.New("not found")
	// ErrDeactivated: the DID is deactivated. ResolveDID returns it together
	// with the (final) record so callers can still show the metadata.
	ErrDeactivated = errors.New("DID deactivated")
	// ErrMalformed: the transaction is not well formed (see tx.ErrMalformed).
	ErrMalformed = errors.New("malformed transaction")
	// ErrTooLarge: the transaction is larger than tx.MaxSize.
	ErrTooLarge = errors.New("transaction too large")
	// ErrBadSignature: a signature (of the transaction or of an embedded
	// credential) does not verify, or uses an unsupported algorithm.
	ErrBadSignature = errors.New("bad signature")
	// ErrUnauthorized: the signing key is not authorised for the action
	// (not in the DID's authentication, not a governance key, not the list
	// owner's assertionMethod key).
	ErrUnauthorized = errors.New("unauthorized")
	// ErrReplay: the same transaction payload was committed before.
	ErrReplay = errors.New("replayed transaction")
	// ErrStaleVersion: prevVersionId is not the DID's current versionId.
	ErrStaleVersion = errors.New("stale prevVersionId")
	// ErrExists: the DID, accreditation id or status list version exists.
	ErrExists = errors.New("already exists")
	// ErrInvalid: the transaction is well formed but its content is not
	// acceptable (a DID document that does not validate, a wrong
	// self-certifying identifier, a status list that is not a valid
	// Bitstring Status List, a version that does not increase).
	ErrInvalid = errors.New("invalid transaction")
	// ErrInternal: the node failed (storage); not the sender's fault.
	ErrInternal = errors.New("internal error")
	// ErrQuotaExceeded: the transaction is larger than its signer's origin
	// may send for its type, or its signer, or all signers of its origin
	// together, used up their write quota for the current window of block
	// time (see [QuotaPolicy]). Retry in the next window.
	ErrQuotaExceeded = errors.New("quota exceeded")
)

// Codespace is the ABCI codespace of every non-zero code this app returns.
const Codespace = "medid"

// ABCI result codes. 0 is success; the values are stable and part of the API.
const (
	CodeOK           uint32 = 0
	CodeMalformed    uint32 = 1
	CodeTooLarge     uint32 = 2
	CodeBadSignature uint32 = 3
	CodeUnauthorized uint32 = 4
	CodeReplay       uint32 = 5
	CodeStaleVersion uint32 = 6
	CodeDeactivated  uint32 = 7
	CodeNotFound     uint32 = 8
	CodeExists       uint32 = 9
	CodeInvalid      uint32 = 10
	CodeInternal     uint32 = 11
	CodeQuota        uint32 = 12
)

var codeErrors = []struct {
	code uint32
	err  error
}{
	{CodeMalformed, ErrMalformed},
	{CodeTooLarge, ErrTooLarge},
	{CodeBadSignature, ErrBadSignature},
	{CodeUnauthorized, ErrUnauthorized},
	{CodeReplay, ErrReplay},
	{CodeStaleVersion, ErrStaleVersion},
	{CodeDeactivated, ErrDeactivated},
	{CodeNotFound, ErrNotFound},
	{CodeExists, ErrExists},
	{CodeInvalid, ErrInvalid},
	{CodeInternal, ErrInternal},
	{CodeQuota, ErrQuotaExceeded},
}

// CodeOf returns the ABCI code for err: 0 for nil, the code of the first
// sentinel of this package err wraps, CodeInternal otherwise.
func CodeOf(err error) uint32 {
	if err == nil {
		return CodeOK
	}
	for _, ce := range codeErrors {
		if errors.Is(err, ce.err) {
			return ce.code
		}
	}
	return CodeInternal
}

// ErrorOf returns the sentinel error for a non-zero ABCI code of this app
// (nil for 0), so a client that only sees a code and log can branch with
// errors.Is. Unknown codes map to an error naming the code.
func ErrorOf(code uint32) error {
	if code == CodeOK {
		return nil
	}
	for _, ce := range codeErrors {
		if ce.code == code {
			return ce.err
		}
	}
	return fmt.Errorf("unknown registry code %d", code)
}
