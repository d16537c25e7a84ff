package sdjwt

import (
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
	"strings"

	"github.com/medid/medid/credentials/jose"
	"github.com/medid/medid/credentials/vc"
)

// Limits on untrusted input. They are far above what a credential needs
// and bound the work a hostile token can cause.
const (
	// MaxTokenBytes bounds an SD-JWT or SD-JWT+KB in the combined format.
	MaxTokenBytes = 1 << 20
	// MaxDisclosures bounds the number of Disclosures in one SD-JWT.
	MaxDisclosures = 4096
	// maxDepth bounds nesting across recursive Disclosures.
	maxDepth = 512
)

// Disclosure is one decoded Disclosure (RFC 9901 §4.2): [salt, name, value]
// for an object property, [salt, value] for an array element.
type Disclosure struct {
	// Raw is the base64url text as received; its digest is taken over it.
	Raw string
	// Digest is base64url(SHA-256(Raw)), the value the payload refers to.
	Digest string
	Salt   string
	// Name is the claim name of an object-property Disclosure; "" for an
	// array element (see ArrayElement).
	Name         string
	ArrayElement bool
	// Value is the claim value as parsed by vc.ParseJSON (numbers are
	// json.Number). It may itself hold _sd arrays (recursive disclosure).
	Value any
}

// digest returns base64url(SHA-256(s)), the only digest this package
// computes (_sd_alg sha-256).
func digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return jose.Encode(sum[:])
}

// ParseDisclosure decodes one Disclosure strictly: base64url without
// padding or line breaks, of an I-JSON array of two or three elements whose
// first (the salt) is a non-empty string, whose claim name (for three) is a
// string other than "_sd" and "...". Errors are [*RefusalError]s with
// [ReasonDisclosureMalformed] or [ReasonReservedClaimName].
func ParseDisclosure(raw string) (*Disclosure, error) {
	if raw == "" {
		return nil, refuse(ReasonDisclosureMalformed, "empty Disclosure")
	}
	if strings.ContainsAny(raw, "\r\n") {
		return nil, refuse(ReasonDisclosureMalformed, "Disclosure contains a line break")
	}
	b, err := jose.Decode(raw)
	if err != nil {
		return nil, refuse(ReasonDisclosureMalformed, "Disclosure is not base64url without padding")
	}
	v, err := vc.ParseJSON(b)
	if err != nil {
		return nil, refuseErr(ReasonDisclosureMalformed, err, "Disclosure is not I-JSON")
	}
	arr, ok := v.([]any)
	if !ok || len(arr) < 2 || len(arr) > 3 {
		return nil, refuse(ReasonDisclosureMalformed, "Disclosure must be a JSON array of 2 (array element) or 3 (object property) elements")
	}
	d := &Disclosure{Raw: raw, Digest: digest(raw)}
	if d.Salt, ok = arr[0].(string); !ok || d.Salt == "" {
		return nil, refuse(ReasonDisclosureMalformed, "Disclosure %s: the salt must be a non-empty string", d.Digest)
	}
	if len(arr) == 2 {
		d.ArrayElement, d.Value = true, arr[1]
		return d, nil
	}
	if d.Name, ok = arr[1].(string); !ok {
		return nil, refuse(ReasonDisclosureMalformed, "Disclosure %s: the claim name must be a string", d.Digest)
	}
	if d.Name == sdKey || d.Name == arrayKey {
		return nil, refuse(ReasonReservedClaimName, "Disclosure %s discloses the reserved name %q", d.Digest, d.Name)
	}
	d.Value = arr[2]
	return d, nil
}

// newDisclosure makes a Disclosure with a fresh 128-bit salt (RFC 9901
// §9.3). name "" with element true makes an array-element Disclosure.
func newDisclosure(r io.Reader, name string, element bool, value any) (*Disclosure, error) {
	var salt [16]byte
	if _, err := io.ReadFull(r, salt[:]); err != nil {
		return nil, fmt.Errorf("sd-jwt: salt: %w", err)
	}
	s := jose.Encode(salt[:])
	arr := []any{s, name, value}
	if element {
		arr = []any{s, value}
	}
	b, err := marshal(arr)
	if err != nil {
		return nil, fmt.Errorf("sd-jwt: Disclosure of %q: %w", name, err)
	}
	raw := jose.Encode(b)
	return &Disclosure{Raw: raw, Digest: digest(raw), Salt: s, Name: name, ArrayElement: element, Value: value}, nil
}

// decoyDigest is a digest of random bytes (RFC 9901 §4.2.5): it matches no
// Disclosure and hides how many claims an object or array holds.
func decoyDigest(r io.Reader) (string, error) {
	var b [32]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", fmt.Errorf("sd-jwt: decoy: %w", err)
	}
	return digest(jose.Encode(b[:])), nil
}

var defaultRand io.Reader = rand.Reader

// Reserved names of RFC 9901.
const (
	sdKey    = "_sd"
	sdAlgKey = "_sd_alg"
	arrayKey = "..."
	// HashAlg is the only _sd_alg this package issues and accepts.
	HashAlg = "sha-256"
)

// parts is an SD-JWT or SD-JWT+KB split at its tildes (RFC 9901 §4).
type parts struct {
	jwt         string
	disclosures []string
	kb          string // "" when the token ends with "~"
	// sdJWT is everything up to and including the last "~": the input of
	// the KB-JWT's sd_hash.
	sdJWT string
}

// split splits the compact combined format <JWT>~<D1>~...~<Dn>~[<KB-JWT>].
func split(s string) (*parts, error) {
	if len(s) > MaxTokenBytes {
		return nil, refuse(ReasonMalformed, "SD-JWT is %d bytes, more than %d", len(s), MaxTokenBytes)
	}
	last := strings.LastIndexByte(s, '~')
	if last < 0 {
		return nil, refuse(ReasonMalformed, "not an SD-JWT: no '~' after the issuer-signed JWT (a plain JWT is not an SD-JWT)")
	}
	p := &parts{sdJWT: s[:last+1], kb: s[last+1:]}
	fields := strings.Split(s[:last], "~")
	if len(fields)-1 > MaxDisclosures {
		return nil, refuse(ReasonMalformed, "SD-JWT has %d Disclosures, more than %d", len(fields)-1, MaxDisclosures)
	}
	p.jwt, p.disclosures = fields[0], fields[1:]
	if p.jwt == "" {
		return nil, refuse(ReasonMalformed, "SD-JWT has no issuer-signed JWT before the first '~'")
	}
	for i, d := range p.disclosures {
		if d == "" {
			return nil, refuse(ReasonDisclosureMalformed, "Disclosure %d is empty (two '~' in a row)", i+1)
		}
	}
	return p, nil
}
