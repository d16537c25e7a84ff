package wallet

import (
	"context"

	"github.com/medid/medid/credentials/verify"
)

// VerifyWith adapts a credentials/verify Verifier (signature, issuer DID,
// validity, status lists, accreditation) to the wallet's [Verifier].
func VerifyWith(v *verify.Verifier) Verifier { return verifyAdapter{v} }

type verifyAdapter struct{ v *verify.Verifier }

func (a verifyAdapter) VerifyCredential(ctx context.Context, token string) Verdict {
	r := a.v.Credential(ctx, token)
	out := Verdict{Valid: r.Valid, Reason: r.Reason, Unavailable: r.Unavailable}
	if c := r.Failed(); c != nil {
		out.Detail = c.Detail
	}
	return out
}
