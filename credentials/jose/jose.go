// Package jose is the one place where compact JWS serialisations (RFC 7515
// §7.1) are split and joined. Every signed token medid reads goes through
// [Split] or its twin for bytes, [SplitBytes] (credentials and
// presentations, registry transactions, vault requests, OpenID4VCI proofs,
// OpenID4VP request objects, SD-JWT's JWTs), so there is one framing
// policy, fuzzed once:
//
//   - the token is at most the caller's size bound ([ErrTooLarge]);
//   - it has exactly three segments separated by two dots (a JWE's five,
//     the JSON serialisations and detached payloads are not accepted);
//   - each segment is strict base64url (RFC 7515 §2): the URL-safe
//     alphabet only, no padding, no line breaks or other white space, and
//     no non-zero trailing bits, so each decoded value has exactly one
//     encoding and the signing input is exactly the bytes received;
//   - the header and the payload are not empty. The signature may be (an
//     unsecured JWS, RFC 7519 §6): the caller's alg rule refuses it.
//
// What the header must say (alg, typ, kid, ...) and how the payload reads
// is each format's own rule: the header and payload come back as bytes for
// the format to parse (with internal/ijson, the one strict JSON parser).
package jose

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/medid/medid/credentials/key"
)

// Errors returned by [Split]; the wrapped message says
// which rule the token broke.
var (
	// ErrMalformed reports a token that is not a compact JWS under the
	// package's policy.
	ErrMalformed = errors.New("malformed compact JWS")
	// ErrTooLarge reports a token longer than the caller's bound.
	ErrTooLarge = errors.New("compact JWS too large")
)

// enc is strict base64url without padding: Strict refuses non-zero
// trailing bits. (Go's decoder skips CR and LF even then; they are refused
// before decoding.)
var enc = base64.RawURLEncoding.Strict()

// JWS is a split compact JWS: decoded, NOT verified.
type JWS struct {
	// Header is the decoded protected header (JSON text, not yet parsed).
	Header string
	// Payload is the decoded payload. Header and Payload are strings
	// because they are parsed as text (internal/ijson shares their memory
	// instead of copying them again).
	Payload string
	// Signature is the decoded signature, empty for an unsecured JWS.
	Signature []byte
	// SigningInput is the exact "header.payload" prefix of the token, the
	// bytes the signature is over.
	SigningInput string
}

// Split splits a compact JWS of at most maxSize bytes under the package's
// policy. The three decoded segments share one allocation. An empty
// signature segment (an unsecured JWS, "header.payload.") gives an empty
// Signature: the format refuses it by its alg rule (only a format that
// accepts alg "none" may accept it). Errors wrap [ErrTooLarge] or
// [ErrMalformed]; they name the segment at fault but never quote the token.
func Split(token string, maxSize int) (JWS, error) {
	j, n, err := split(token, maxSize)
	if err == nil {
		j.SigningInput = token[:n]
	}
	return j, err
}

// SplitBytes is [Split] for a token held as bytes (a registry transaction
// as CometBFT passes it), without first copying it into a string: the same
// policy, checks, results and errors. The signing input comes back as
// signed, a subslice of token; j.SigningInput is left empty.
func SplitBytes(token []byte, maxSize int) (j JWS, signed []byte, err error) {
	j, n, err := split(token, maxSize)
	if err != nil {
		return j, nil, err
	}
	return j, token[:n], nil
}

// text is what a token can be held as.
type text interface{ string | []byte }

// split is Split and SplitBytes; n is the signing input's length.
func split[T text](token T, maxSize int) (j JWS, n int, err error) {
	if len(token) > maxSize {
		return j, 0, fmt.Errorf("%w: %d bytes, the limit is %d", ErrTooLarge, len(token), maxSize)
	}
	d1 := indexByte(token, '.')
	if d1 < 0 {
		return j, 0, fmt.Errorf("%w: not a compact JWS (want three base64url segments separated by dots)", ErrMalformed)
	}
	d2 := indexByte(token[d1+1:], '.')
	if d2 < 0 {
		return j, 0, fmt.Errorf("%w: two segments, want three", ErrMalformed)
	}
	d2 += d1 + 1
	if indexByte(token[d2+1:], '.') >= 0 {
		return j, 0, fmt.Errorf("%w: more than three segments (JWE and JSON serialisations are not accepted)", ErrMalformed)
	}
	if d1 == 0 || d2 == d1+1 {
		return j, 0, fmt.Errorf("%w: empty header or payload", ErrMalformed)
	}
	if i := lineBreak(token); i >= 0 {
		return j, 0, fmt.Errorf("%w: byte %d of the token is a line break", ErrMalformed, i)
	}
	// Header and payload are decoded into one string (one allocation, no
	// further copy when they are parsed), the signature into its own bytes.
	hn, pn := enc.DecodedLen(d1), enc.DecodedLen(d2-d1-1)
	var hp strings.Builder
	hp.Grow(hn + pn)
	if err := decodeTo(&hp, token[:d1]); err != nil {
		return j, 0, fmt.Errorf("%w: header is not base64url: %v", ErrMalformed, err)
	}
	hn = hp.Len()
	if err := decodeTo(&hp, token[d1+1:d2]); err != nil {
		return j, 0, fmt.Errorf("%w: payload is not base64url: %v", ErrMalformed, err)
	}
	all := hp.String()
	sig, err := decodeAppend(make([]byte, 0, enc.DecodedLen(len(token)-d2-1)), token[d2+1:])
	if err != nil {
		return j, 0, fmt.Errorf("%w: signature is not base64url: %v", ErrMalformed, err)
	}
	j.Header, j.Payload, j.Signature = all[:hn], all[hn:], sig
	return j, d2, nil
}

// indexByte is strings.IndexByte or bytes.IndexByte (vectorised) for
// either form of a token.
func indexByte[T text](s T, c byte) int {
	switch v := any(s).(type) {
	case string:
		return strings.IndexByte(v, c)
	case []byte:
		return bytes.IndexByte(v, c)
	}
	panic("unreachable")
}

// lineBreak is strings.IndexAny(s, "\r\n"): the offset of the first CR or
// LF in s, or -1. Two vectorised IndexByte scans instead of IndexAny's set
// lookup byte by byte: every token is read whole for this check, and a
// vault request's took 4% of its decision's instructions (BENCHMARKS,
// issue 12, third pass).
func lineBreak[T text](s T) int {
	n := indexByte(s, '\n')
	before := s
	if n >= 0 {
		before = s[:n]
	}
	if r := indexByte(before, '\r'); r >= 0 {
		return r
	}
	return n
}

// chunk is how many characters are decoded at a time through a stack
// buffer: a multiple of 4, so every chunk but the last is whole quanta and
// Strict's trailing-bits check applies to the real end.
const chunk = 1024

// decodeTo appends the strict base64url decoding of s to w, through stack
// buffers (no allocation beyond w's).
func decodeTo[T text](w *strings.Builder, s T) error {
	var src [chunk]byte
	var dst [chunk / 4 * 3]byte
	for len(s) > 0 {
		n := copy(src[:], s)
		s = s[n:]
		m, err := enc.Decode(dst[:], src[:n])
		if err != nil {
			return err
		}
		w.Write(dst[:m])
	}
	return nil
}

// decodeAppend appends the strict base64url decoding of s to dst.
func decodeAppend[T text](dst []byte, s T) ([]byte, error) {
	var src [chunk]byte
	for len(s) > 0 {
		n := copy(src[:], s)
		s = s[n:]
		var err error
		if dst, err = enc.AppendDecode(dst, src[:n]); err != nil {
			return dst, err
		}
	}
	return dst, nil
}

// Decode decodes one strict base64url value (a JWS segment, an SD-JWT
// disclosure): no padding, no line breaks or white space, no non-zero
// trailing bits. Errors wrap [ErrMalformed].
func Decode(s string) ([]byte, error) {
	// Go's base64 decoder skips CR and LF; refuse them so that a value has
	// one encoding and a signing input is exactly what was received. Every
	// other byte outside the alphabet (padding, '+', '/', spaces) fails the
	// decoding itself.
	if i := lineBreak(s); i >= 0 {
		return nil, fmt.Errorf("%w: line break at byte %d", ErrMalformed, i)
	}
	b, err := decodeAppend(make([]byte, 0, enc.DecodedLen(len(s))), s)
	if err != nil {
		return nil, fmt.Errorf("%w: not base64url: %v", ErrMalformed, err)
	}
	return b, nil
}

// Encode returns the base64url encoding of b without padding.
func Encode(b []byte) string { return enc.EncodeToString(b) }

// Sign joins header and payload (each base64url-encoded exactly as given),
// signs the signing input with k and returns the compact JWS. The header
// MUST name k's algorithm ([key.Alg.JWS]); the caller writes it.
func Sign(header, payload []byte, k *key.PrivateKey) (string, error) {
	if k == nil {
		return "", errors.New("jose: nil signing key")
	}
	input := Encode(header) + "." + Encode(payload)
	sig, err := k.Sign([]byte(input))
	if err != nil {
		return "", err
	}
	return input + "." + Encode(sig), nil
}

// Unsecured returns the unsecured JWS "header.payload." (RFC 7519 §6);
// header MUST say alg "none".
func Unsecured(header, payload []byte) string {
	return Encode(header) + "." + Encode(payload) + "."
}
