package tokenstatus

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/credentials/vc"
)

// MediaType is the typ of a Status List Token in JWT form.
const MediaType = "statuslist+jwt"

// Token is a Status List Token: a List and what the issuer says about it.
type Token struct {
	// Issuer is the issuer's DID (the iss claim; the kid is a DID URL of it).
	Issuer string
	// URI is the sub claim: where the token is served, the uri a
	// Reference holds.
	URI string
	// IssuedAt is iat (required).
	IssuedAt time.Time
	// Expires is exp, when set.
	Expires *time.Time
	// TTL is ttl: how long a verifier may cache the token; 0 when absent.
	TTL time.Duration
	// List is the status list.
	List *List
	// AggregationURI is status_list.aggregation_uri, when set.
	AggregationURI string
}

// Sign signs t as a Status List Token (typ statuslist+jwt) with k. kid
// MUST be a DID URL of t.Issuer's key. t.URI, t.IssuedAt and t.List are
// required.
func Sign(t *Token, k *key.PrivateKey, kid string) (string, error) {
	if t == nil || t.List == nil || t.URI == "" || t.IssuedAt.IsZero() {
		return "", fmt.Errorf("%w: a Status List Token needs a list, a URI and an issuance time", ErrMalformed)
	}
	if did, _, ok := strings.Cut(kid, "#"); !ok || did != t.Issuer {
		return "", fmt.Errorf("%w: kid %q is not a DID URL of the issuer %s", ErrMalformed, kid, t.Issuer)
	}
	lst, err := t.List.Encode()
	if err != nil {
		return "", err
	}
	sl := map[string]any{"bits": t.List.Bits(), "lst": lst}
	if t.AggregationURI != "" {
		sl["aggregation_uri"] = t.AggregationURI
	}
	claims := map[string]any{"iss": t.Issuer, "sub": t.URI, "iat": t.IssuedAt.Unix(), "status_list": sl}
	if t.Expires != nil {
		claims["exp"] = t.Expires.Unix()
	}
	if t.TTL > 0 {
		claims["ttl"] = int64(t.TTL / time.Second)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(claims); err != nil {
		return "", err
	}
	return vc.SignJWS(bytes.TrimSpace(buf.Bytes()), k, MediaType, "", kid)
}

// Parse decodes a Status List Token without checking its signature: for
// display, never for trust. It applies every format rule [Verify] does.
func Parse(token string) (*Token, *vc.JWS, error) {
	j, err := vc.ParseJWS(token, MediaType, "")
	if err != nil {
		return nil, nil, fmt.Errorf("%w: status list token: %w", ErrMalformed, err)
	}
	v, err := vc.ParseJSON(j.Payload)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: status list token claims: %w", ErrMalformed, err)
	}
	c, ok := v.(map[string]any)
	if !ok {
		return nil, nil, fmt.Errorf("%w: status list token claims are not a JSON object", ErrMalformed)
	}
	t := &Token{}
	if t.URI, ok = c["sub"].(string); !ok || t.URI == "" {
		return nil, nil, fmt.Errorf("%w: status list token has no sub (its URI)", ErrMalformed)
	}
	if iss, present := c["iss"]; present {
		if t.Issuer, ok = iss.(string); !ok {
			return nil, nil, fmt.Errorf("%w: status list token iss is not a string", ErrMalformed)
		}
	}
	iat, ok, err := vc.NumericDate(c, "iat")
	if err != nil || !ok {
		return nil, nil, fmt.Errorf("%w: status list token has no valid iat", ErrMalformed)
	}
	t.IssuedAt = iat
	if exp, ok, err := vc.NumericDate(c, "exp"); err != nil {
		return nil, nil, fmt.Errorf("%w: status list token exp: %w", ErrMalformed, err)
	} else if ok {
		t.Expires = &exp
	}
	if ttl, present := c["ttl"]; present {
		n, ok := ttl.(json.Number)
		f, err := n.Float64()
		if !ok || err != nil || f <= 0 || f > math.MaxInt32 {
			return nil, nil, fmt.Errorf("%w: status list token ttl must be a positive number of seconds", ErrMalformed)
		}
		t.TTL = time.Duration(f * float64(time.Second))
	}
	sl, ok := c["status_list"].(map[string]any)
	if !ok {
		return nil, nil, fmt.Errorf("%w: status list token has no status_list object", ErrMalformed)
	}
	bitsN, _ := sl["bits"].(json.Number)
	b, err := bitsN.Int64()
	if err != nil || !validBits(int(b)) {
		return nil, nil, fmt.Errorf("%w: status_list.bits must be 1, 2, 4 or 8", ErrMalformed)
	}
	lst, ok := sl["lst"].(string)
	if !ok {
		return nil, nil, fmt.Errorf("%w: status_list.lst must be a string", ErrMalformed)
	}
	if agg, present := sl["aggregation_uri"]; present {
		if t.AggregationURI, ok = agg.(string); !ok {
			return nil, nil, fmt.Errorf("%w: status_list.aggregation_uri must be a string", ErrMalformed)
		}
	}
	if t.List, err = Decode(int(b), lst); err != nil {
		return nil, nil, err
	}
	return t, j, nil
}

// ErrIssuerMismatch reports a Status List Token signed by someone other
// than the issuer it names, or than the credential's issuer.
var ErrIssuerMismatch = errors.New("status list issuer mismatch")

// VerifyOptions tunes [Verify].
type VerifyOptions struct {
	// URI is the uri of the Reference that led here; the token's sub must
	// equal it. Required.
	URI string
	// Issuer, when set, is the DID that must have signed the list (the
	// Referenced Token's issuer).
	Issuer string
	// Now is the time exp is checked at; zero means time.Now().
	Now time.Time
	// ClockSkew widens the time checks on both ends.
	ClockSkew time.Duration
}

// Verify checks a Status List Token: the format ([Parse]); sub equal to
// opts.URI ([ErrMalformed]); the kid a DID URL whose DID is iss (when iss
// is present) and opts.Issuer (when set), else [ErrIssuerMismatch], checked
// before the key is fetched; the signature with the key keys returns
// (vc.ErrBadSignature, or the KeyFunc's error wrapped); iat not in the
// future and exp not passed (vc.ErrNotYetValid, vc.ErrExpired).
func Verify(ctx context.Context, token string, keys vc.KeyFunc, opts VerifyOptions) (*Token, error) {
	t, j, err := Parse(token)
	if err != nil {
		return nil, err
	}
	if opts.URI == "" || t.URI != opts.URI {
		return nil, fmt.Errorf("%w: status list token sub is %q, but the credential points at %q", ErrMalformed, clip(t.URI), clip(opts.URI))
	}
	did, frag, ok := strings.Cut(j.Header.Kid, "#")
	if !ok || frag == "" || !strings.HasPrefix(did, "did:") {
		return nil, fmt.Errorf("%w: status list token kid %q is not a DID URL", ErrIssuerMismatch, clip(j.Header.Kid))
	}
	if t.Issuer != "" && t.Issuer != did {
		return nil, fmt.Errorf("%w: status list token signed by %s names iss %s", ErrIssuerMismatch, did, clip(t.Issuer))
	}
	if opts.Issuer != "" && opts.Issuer != did {
		return nil, fmt.Errorf("%w: status list %s is signed by %s, not by the credential's issuer %s", ErrIssuerMismatch, clip(t.URI), did, opts.Issuer)
	}
	t.Issuer = did
	if err := j.Verify(ctx, keys); err != nil {
		return nil, err
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	times := map[string]any{"iat": json.Number(fmt.Sprint(t.IssuedAt.Unix()))}
	if t.Expires != nil {
		times["exp"] = json.Number(fmt.Sprint(t.Expires.Unix()))
	}
	if err := vc.CheckJWTTimes(times, now, opts.ClockSkew, false); err != nil {
		return nil, fmt.Errorf("status list token: %w", err)
	}
	return t, nil
}

// Status returns the status of the entry r points at in t, after checking
// that r points at t. An index outside the list is [ErrRange].
func (t *Token) Status(r Reference) (uint8, error) {
	if r.URI != t.URI {
		return 0, fmt.Errorf("%w: the reference points at %s, not at this list (%s)", ErrMalformed, clip(r.URI), clip(t.URI))
	}
	return t.List.Get(r.Index)
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
