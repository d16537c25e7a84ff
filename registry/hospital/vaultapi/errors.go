package vaultapi

import (
	"errors"
	"net/http"
)

// Errors returned by the vault. Callers branch on them with errors.Is; the
// HTTP layer maps them to status codes (see [StatusOf]).
var (
	// ErrBadRequest: a malformed request (bad JWS, missing fields, a body
	// that does not match its hash, an unknown class).
	ErrBadRequest = errors.New("bad vault request")
	// ErrUnauthenticated: the request is not signed by an authentication
	// key of its issuer, is for another vault, or is stale.
	ErrUnauthenticated = errors.New("request not authenticated")
	// ErrReplay: the request's nonce was used before.
	ErrReplay = errors.New("replayed request")
	// ErrDenied: access refused; the wrapped error says why (a
	// credentials/consent sentinel, [ErrNoConsent], [ErrNotOwner],
	// [ErrBreakGlassForbidden]).
	ErrDenied = errors.New("access denied")
	// ErrNoConsent: a read without a consent grant (and not break-glass).
	ErrNoConsent = errors.New("no consent grant presented")
	// ErrNotOwner: a grant (or erasure request) not made by the record's
	// owner.
	ErrNotOwner = errors.New("not the record's owner")
	// ErrBreakGlassForbidden: break-glass asked for a patient who has not
	// allowed it (no standing break-glass grant in force).
	ErrBreakGlassForbidden = errors.New("the patient does not allow break-glass access")
	// ErrNotFound: no such record.
	ErrNotFound = errors.New("record not found")
	// ErrErased: the record was erased; it can never be read again.
	ErrErased = errors.New("record erased")
	// ErrNotStaff: break-glass under a patient's standing permission by a
	// requester the hospital does not vouch for (not on its staff roster).
	ErrNotStaff = errors.New("only staff the hospital vouches for may use a patient's emergency permission")
	// ErrClassMismatch: a record that is not of the class it is filed
	// under (a Bundle only when every entry is).
	ErrClassMismatch = errors.New("record is not of its class")
	// ErrNotRegistered: a consent grant a representative made, presented
	// before it was registered at this vault (OpConsent): a grant made in
	// someone's name works only once it is in their trail.
	ErrNotRegistered = errors.New("the consent grant was made by a representative and is not registered at this vault")
	// ErrDelegationsOff: a request under a delegation at a vault
	// configured without a delegation checker.
	ErrDelegationsOff = errors.New("this vault does not accept delegations")
	// ErrTrailUnavailable: the access could not be recorded in the
	// patient's trail, so nothing was released. Retry later.
	ErrTrailUnavailable = errors.New("the access trail cannot record this access right now; nothing was released, retry later")
	// ErrBusy: the vault holds as many pending requests of this kind as
	// it keeps (licence requests); retry in a few minutes.
	ErrBusy = errors.New("the vault is busy")
)

// StatusOf maps a vault error to an HTTP status.
func StatusOf(err error) int {
	switch {
	case err == nil:
		return http.StatusOK
	case errors.Is(err, ErrBadRequest):
		return http.StatusBadRequest
	case errors.Is(err, ErrUnauthenticated), errors.Is(err, ErrReplay):
		return http.StatusUnauthorized
	case errors.Is(err, ErrDenied), errors.Is(err, ErrNotOwner):
		return http.StatusForbidden
	case errors.Is(err, ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, ErrErased):
		return http.StatusGone
	case errors.Is(err, ErrTrailUnavailable), errors.Is(err, ErrBusy):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}
