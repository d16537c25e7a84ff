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
