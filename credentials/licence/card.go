package licence

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/credentials/vc"
	"github.com/medid/medid/credentials/verify"
	"github.com/medid/medid/internal/qr"
	"github.com/medid/medid/internal/randid"
)

// # The licence card (checking a practitioner at the bedside)
//
// A practitioner's wallet shows a QR code that anyone can check without a
// network exchange with the practitioner: a presentation (vp+jwt) of the
// licence, signed by the licence's subject, addressed to [CardAudience],
// with a fresh random nonce after [CardNoncePrefix], and valid for
// [CardLifetime] (a checker refuses any card made to last longer than
// [MaxCardLifetime]). The checker verifies the presentation (the holder's
// signature, the licence's issuer, status and accreditation, and that the
// holder is the licence's subject) and then names the practitioner from
// the directory (registry/directory: the body an active licensing body,
// the employer an active organisation).
//
// What a card proves: that the key the licence was issued to signed it
// within the last few minutes. It does not prove that the person holding
// the phone is that person (no photo), and a copy of the code can be shown
// again until it expires: the short lifetime bounds that, the wallet makes
// a new card every minute while the code is on screen.

// The card's audience and the prefix of its nonce.
const (
	CardAudience    = "medid:licence-check"
	CardNoncePrefix = "medid:licence-check:"
)

// CardLifetime is how long a card a wallet makes is valid;
// MaxCardLifetime the longest a checker accepts (a card photographed and
// shown again later must not pass).
const (
	CardLifetime    = 2 * time.Minute
	MaxCardLifetime = 10 * time.Minute
)

// MaxCardBytes bounds a card token a checker reads (a licence is at most
// a few KiB; see registry/hospital/vaultapi.MaxLicence).
const MaxCardBytes = 16 << 10

// ErrNotCard reports a text that is not a licence card: not a vp+jwt, or
// without the card's nonce, lifetime or single licence.
var ErrNotCard = errors.New("not a practitioner licence card")

// MakeCard signs a licence card for lic (the licence, vc+jwt) with k, the
// key of the licence's subject (kid a DID URL of it), made at now. It
// fails when lic is not a licence or k is not its subject's.
func MakeCard(lic string, k *key.PrivateKey, kid string, now time.Time) (string, error) {
	t, err := vc.Parse(lic)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	l, err := FromCredential(t.Credential)
	if err != nil {
		return "", err
	}
	if d, _, _ := strings.Cut(kid, "#"); d != l.Practitioner {
		return "", fmt.Errorf("the licence is %s's: only its holder can show it (the key is %s's)", l.Practitioner, d)
	}
	return vc.SignPresentation(&vc.Presentation{Context: []string{vc.ContextV2}, Type: []string{vc.TypePresentation},
		Holder: l.Practitioner, Credentials: []string{lic}}, k, kid, CardAudience, CardNoncePrefix+randid.Hex(16),
		vc.WithIssuedAt(now), vc.WithLifetime(CardLifetime))
}

// CardQRText is what a card's QR code holds: the token compacted (DEFLATE
// and Base45, for the QR alphanumeric mode). [CardFromText] reads it back.
func CardQRText(token string) string { return qr.Compact(token) }

// CardFromText returns the card token in a scanned or pasted text: the
// compacted form expanded, or the token itself, white space trimmed.
// Errors wrap [ErrNotCard].
func CardFromText(text string) (string, error) {
	text = strings.TrimSpace(text)
	if len(text) > MaxCardBytes {
		return "", fmt.Errorf("%w: %d bytes, at most %d", ErrNotCard, len(text), MaxCardBytes)
	}
	tok, err := qr.Expand(text)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrNotCard, err)
	}
	tok = strings.TrimSpace(tok)
	if len(tok) > MaxCardBytes {
		return "", fmt.Errorf("%w: %d bytes, at most %d", ErrNotCard, len(tok), MaxCardBytes)
	}
	return tok, nil
}

// ReadCard reads a card token WITHOUT verifying it (the verification that
// follows checks the signature, which covers all of it): its nonce, when
// it was made and when it expires, and the licence in it. A token that is
// not a vp+jwt, has no card nonce, no iat and exp, a lifetime beyond
// [MaxCardLifetime], or not exactly one credential is refused; errors wrap
// [ErrNotCard].
func ReadCard(token string) (nonce string, made, expires time.Time, lic string, err error) {
	if len(token) > MaxCardBytes {
		return "", time.Time{}, time.Time{}, "", fmt.Errorf("%w: %d bytes, at most %d", ErrNotCard, len(token), MaxCardBytes)
	}
	p, _, err := vc.ParsePresentation(token)
	if err != nil {
		return "", time.Time{}, time.Time{}, "", fmt.Errorf("%w: %v", ErrNotCard, err)
	}
	nonce, _ = p.Extra["nonce"].(string)
	rest, ok := strings.CutPrefix(nonce, CardNoncePrefix)
	if !ok || len(rest) < 16 || len(rest) > 64 {
		return "", time.Time{}, time.Time{}, "", fmt.Errorf("%w: its nonce is not a licence card's", ErrNotCard)
	}
	iat, ok1 := unixTime(p.Extra["iat"])
	exp, ok2 := unixTime(p.Extra["exp"])
	if !ok1 || !ok2 || exp <= iat {
		return "", time.Time{}, time.Time{}, "", fmt.Errorf("%w: it says neither when it was made nor until when it is valid", ErrNotCard)
	}
	made, expires = time.Unix(iat, 0).UTC(), time.Unix(exp, 0).UTC()
	if expires.Sub(made) > MaxCardLifetime {
		return "", time.Time{}, time.Time{}, "", fmt.Errorf("%w: it was made to last %s, a licence card lasts at most %s", ErrNotCard, expires.Sub(made), MaxCardLifetime)
	}
	if len(p.Credentials) != 1 {
		return "", time.Time{}, time.Time{}, "", fmt.Errorf("%w: it holds %d credentials, a licence card holds the licence only", ErrNotCard, len(p.Credentials))
	}
	return nonce, made, expires, p.Credentials[0], nil
}

// unixTime reads a JWT NumericDate (a JSON number, decoded as json.Number
// or float64), whole seconds within a sane range.
func unixTime(v any) (int64, bool) {
	var n int64
	switch v := v.(type) {
	case json.Number:
		i, err := v.Int64()
		if err != nil {
			return 0, false
		}
		n = i
	case float64:
		if v != float64(int64(v)) {
			return 0, false
		}
		n = int64(v)
	default:
		return 0, false
	}
	return n, n > 0 && n < 1<<40
}

// Card is a checked (or refused) licence card.
type Card struct {
	// Made and Expires are the card's own times.
	Made, Expires time.Time
	// Holder is the DID that signed the card (the presentation's holder).
	Holder string
	// Token is the licence (vc+jwt) the card carries.
	Token string
	// Licence is the licence's content, set only when Result.Valid.
	Licence *Licence
	// Result is the verification of the presentation and of the licence
	// in it; the card is good only if Result.Valid. Result.Unavailable
	// means nothing was found wrong but something could not be checked.
	Result *verify.Result
}

// VerifyCard checks a card token with v: [ReadCard], then the presentation
// for [CardAudience] and the card's nonce (the holder's signature, iat and
// exp, the licence's signature, validity, status and issuer accreditation,
// the holder being the licence's subject), then that the credential is a
// well-formed licence. A token that is not a card is an error wrapping
// [ErrNotCard] (and no Card); otherwise the verdict is in Card.Result,
// with the error nil even when the card is refused. v MUST NOT be nil.
func VerifyCard(ctx context.Context, v *verify.Verifier, token string) (*Card, error) {
	if v == nil {
		return nil, errors.New("licence: VerifyCard needs a verifier")
	}
	nonce, made, expires, lic, err := ReadCard(token)
	if err != nil {
		return nil, err
	}
	c := &Card{Made: made, Expires: expires, Token: lic, Result: v.Presentation(ctx, token, CardAudience, nonce)}
	c.Holder = c.Result.Holder
	if !c.Result.Valid {
		return c, nil
	}
	t, err := vc.Parse(lic)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotCard, err)
	}
	l, err := FromCredential(t.Credential)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotCard, err)
	}
	if l.Practitioner != c.Holder {
		return nil, fmt.Errorf("%w: the licence is not the holder's", ErrNotCard)
	}
	c.Licence = l
	return c, nil
}
