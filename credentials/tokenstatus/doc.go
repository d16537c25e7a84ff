// Package tokenstatus implements the IETF Token Status List
// (draft-ietf-oauth-status-list): a compressed array of 1, 2, 4 or 8-bit
// statuses, published as a signed Status List Token (typ statuslist+jwt),
// and the "status": {"status_list": {"idx", "uri"}} reference a Referenced
// Token (such as an SD-JWT VC) carries.
package tokenstatus

import "errors"

// ErrMalformed reports a status list, token or reference that cannot be
// parsed or breaks a rule of the specification.
var ErrMalformed = errors.New("malformed token status list")
