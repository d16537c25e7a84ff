package tx

import (
	"fmt"

	"github.com/medid/medid/internal/ijson"
)

// Canonical returns the canonical form of the JSON value in data: the JSON
// Canonicalization Scheme (RFC 8785) restricted to integer numbers. Object
// members are sorted by the UTF-16 code units of their names, strings use the
// minimal escaping of RFC 8785, and there is no insignificant whitespace.
//
// It rejects (with an error wrapping [ErrMalformed]) input that is not one
// JSON value, objects with duplicate member names, invalid UTF-8 and lone
// UTF-16 surrogates, nesting deeper than 200, and numbers that are not
// integers within ±(2^53-1): no consensus decision may hinge on float
// formatting or on which of two duplicate members a parser keeps. The
// parser is internal/ijson's, the one every signed input goes through.
func Canonical(data []byte) ([]byte, error) {
	return canonical(data, nil)
}

// canonical is [Canonical] with a transform applied to every string value
// (not to member names) before it is written; mapString may be nil.
func canonical(data []byte, mapString func(string) string) ([]byte, error) {
	out, err := ijson.CanonicalMap(data, mapString)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return out, nil
}
