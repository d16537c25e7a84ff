package tokenstatus

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Reference is a Referenced Token's pointer into a Status List (Token
// Status List §6.1): the claim "status": {"status_list": {"idx": Index,
// "uri": URI}}.
type Reference struct {
	// Index is the token's position in the list.
	Index int
	// URI is where the Status List Token is served (its sub claim).
	URI string
}

// ReferenceFor returns the reference to entry index of t for a token issued
// by issuer: verifiers only trust a list signed by the token's own issuer.
// Errors: one wrapping [ErrOwner] when t is another issuer's, one wrapping
// [ErrRange] when index lies outside the list.
func (t *Token) ReferenceFor(issuer string, index int) (Reference, error) {
	if err := t.ownedBy(issuer); err != nil {
		return Reference{}, err
	}
	if _, err := t.List.Get(index); err != nil {
		return Reference{}, err
	}
	return Reference{Index: index, URI: t.URI}, nil
}

// ownedBy returns an error wrapping [ErrOwner] unless issuer signed t.
func (t *Token) ownedBy(issuer string) error {
	if t.Issuer != issuer {
		return fmt.Errorf("%w: %s is signed by %s, not by the issuer %s", ErrOwner, clip(t.URI), t.Issuer, issuer)
	}
	return nil
}

// Claim returns the value of the "status" claim for r.
func (r Reference) Claim() map[string]any {
	return map[string]any{"status_list": map[string]any{"idx": r.Index, "uri": r.URI}}
}

// ParseReference reads the value of a "status" claim as JSON-decoded (with
// UseNumber or vc.ParseJSON: json.Number; float64 and int are accepted
// too). ok is false when the claim holds no status_list (another status
// mechanism); an err says what is wrong with a status_list that is there.
func ParseReference(status any) (r Reference, ok bool, err error) {
	m, isObj := status.(map[string]any)
	if !isObj {
		return r, false, fmt.Errorf("%w: the status claim is not a JSON object", ErrMalformed)
	}
	sl, present := m["status_list"]
	if !present {
		return r, false, nil
	}
	o, isObj := sl.(map[string]any)
	if !isObj {
		return r, true, fmt.Errorf("%w: status.status_list is not a JSON object", ErrMalformed)
	}
	idx, err := index(o["idx"])
	if err != nil {
		return r, true, err
	}
	uri, _ := o["uri"].(string)
	if !strings.Contains(uri, ":") || strings.ContainsAny(uri, " \t\r\n") {
		return r, true, fmt.Errorf("%w: status.status_list.uri must be a URI", ErrMalformed)
	}
	return Reference{Index: idx, URI: uri}, true, nil
}

// index reads a non-negative integer idx.
func index(v any) (int, error) {
	bad := fmt.Errorf("%w: status.status_list.idx must be a non-negative integer", ErrMalformed)
	switch n := v.(type) {
	case json.Number:
		i, err := strconv.ParseInt(n.String(), 10, 64)
		if err != nil || i < 0 || i > math.MaxInt32 {
			return 0, bad
		}
		return int(i), nil
	case float64:
		if n < 0 || n > math.MaxInt32 || n != math.Trunc(n) {
			return 0, bad
		}
		return int(n), nil
	case int:
		if n < 0 {
			return 0, bad
		}
		return n, nil
	}
	return 0, bad
}
