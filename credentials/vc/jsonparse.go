package vc

import "github.com/medid/medid/internal/ijson"

// parseJSON decodes one JSON text into the generic form encoding/json
// produces with UseNumber: map[string]any, []any, string, json.Number, bool
// and nil.
//
// It is internal/ijson's parser, the project's one strict JSON parser: a
// member name repeated in an object, invalid UTF-8 and lone UTF-16
// surrogates are errors rather than silently resolved (last duplicate wins
// / U+FFFD), so two parsers cannot read two different credentials from the
// same signed bytes. It exists because verification decodes untrusted
// claims on every call and encoding/json's reflection path cost more than
// the signature check it guards.
//
// The strings it returns share data's memory (a token's decoded payload).
func parseJSON(data string) (any, error) {
	return ijson.ParseString(data)
}
