package sdjwt

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Path names a claim in a JSON claim set the way OpenID4VP's DCQL claims
// paths do: each element is a string (an object member), a non-negative
// int (an array index) or nil (every element of an array). The empty path
// is the whole claim set.
type Path []any

// ParsePath reads a path from its text form: either a JSON array
// (["code","display"], ["reaction",null]) or dotted segments
// (code.display, reaction.0, reaction.*), where a segment of digits is an
// array index and * is every element. Use the JSON form for member names
// that contain dots or are made of digits.
func ParsePath(s string) (Path, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, fmt.Errorf("empty claim path")
	}
	if strings.HasPrefix(s, "[") {
		var raw []any
		dec := json.NewDecoder(strings.NewReader(s))
		dec.UseNumber()
		if err := dec.Decode(&raw); err != nil || dec.More() {
			return nil, fmt.Errorf("claim path %q is not a JSON array of strings, indexes and nulls", s)
		}
		p := make(Path, len(raw))
		for i, e := range raw {
			switch e := e.(type) {
			case string, nil:
				p[i] = e
			case json.Number:
				n, err := strconv.Atoi(e.String())
				if err != nil || n < 0 {
					return nil, fmt.Errorf("claim path %q: element %d is not a non-negative integer index", s, i)
				}
				p[i] = n
			default:
				return nil, fmt.Errorf("claim path %q: element %d must be a string, an index or null", s, i)
			}
		}
		if len(p) == 0 {
			return nil, fmt.Errorf("empty claim path")
		}
		return p, nil
	}
	segs := strings.Split(s, ".")
	p := make(Path, len(segs))
	for i, seg := range segs {
		switch {
		case seg == "":
			return nil, fmt.Errorf("claim path %q has an empty segment", s)
		case seg == "*":
			p[i] = nil
		case isDigits(seg):
			n, err := strconv.Atoi(seg)
			if err != nil {
				return nil, fmt.Errorf("claim path %q: index %s is too large", s, seg)
			}
			p[i] = n
		default:
			p[i] = seg
		}
	}
	return p, nil
}

// ParsePaths reads a comma-separated list of dotted paths (the form of
// --disclose code.display,reaction.*).
func ParsePaths(s string) ([]Path, error) {
	var out []Path
	for _, part := range strings.Split(s, ",") {
		p, err := ParsePath(part)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// String returns the dotted form (code.display, reaction.0, reaction.*),
// or the JSON form when a member name would be ambiguous in dotted form.
func (p Path) String() string {
	if len(p) == 0 {
		return "(top level)"
	}
	parts := make([]string, len(p))
	for i, e := range p {
		switch e := e.(type) {
		case nil:
			parts[i] = "*"
		case int:
			parts[i] = strconv.Itoa(e)
		case string:
			if e == "" || e == "*" || isDigits(e) || strings.ContainsAny(e, ".,[ ") {
				b, _ := json.Marshal([]any(p))
				return string(b)
			}
			parts[i] = e
		}
	}
	return strings.Join(parts, ".")
}

// MarshalJSON writes the DCQL form, a JSON array.
func (p Path) MarshalJSON() ([]byte, error) { return json.Marshal([]any(p)) }

func (p Path) with(e any) Path {
	q := make(Path, len(p), len(p)+1)
	copy(q, p)
	return append(q, e)
}

// Matches reports whether p selects the concrete path q (no wildcards in
// q): same length, equal names, equal indexes, nil in p matching any index.
func (p Path) Matches(q Path) bool {
	return len(p) == len(q) && p.prefixOf(q)
}

// prefixOf reports whether p (with wildcards) selects a prefix of q.
func (p Path) prefixOf(q Path) bool {
	if len(p) > len(q) {
		return false
	}
	for i, e := range p {
		switch e := e.(type) {
		case nil:
			if _, ok := q[i].(int); !ok {
				return false
			}
		case int:
			if n, ok := q[i].(int); !ok || n != e {
				return false
			}
		case string:
			if s, ok := q[i].(string); !ok || s != e {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// Within reports whether the concrete path q lies on the way to, at or
// below what p selects: q is a prefix of a path p selects (an enclosing
// object or array that must be disclosed to reach it), or p selects a
// prefix of q (a claim inside what p selects).
func (p Path) Within(q Path) bool {
	if len(q) <= len(p) {
		return Path(p[:len(q)]).prefixOf(q)
	}
	return p.prefixOf(q)
}

// Lookup returns the value at the concrete path p (object members and
// array indexes; a null or other element selects nothing) in claims, and
// whether it is there.
func (p Path) Lookup(claims any) (any, bool) {
	v := claims
	for _, e := range p {
		switch e := e.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil, false
			}
			if v, ok = m[e]; !ok {
				return nil, false
			}
		case int:
			a, ok := v.([]any)
			if !ok || e < 0 || e >= len(a) {
				return nil, false
			}
			v = a[e]
		default:
			return nil, false
		}
	}
	return v, true
}
