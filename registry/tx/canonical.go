package tx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"unicode/utf16"
)

// maxSafeInteger is the largest integer JSON implementations agree on
// (2^53-1); canonical JSON here admits integers within ±maxSafeInteger only.
const maxSafeInteger = 1<<53 - 1

// Canonical returns the canonical form of the JSON value in data: the JSON
// Canonicalization Scheme (RFC 8785) restricted to integer numbers. Object
// members are sorted by the UTF-16 code units of their names, strings use the
// minimal escaping of RFC 8785, and there is no insignificant whitespace.
//
// It rejects (with an error wrapping [ErrMalformed]) input that is not one
// JSON value, objects with duplicate member names, and numbers that are not
// integers within ±(2^53-1): no consensus decision may hinge on float
// formatting or on which of two duplicate members a parser keeps.
func Canonical(data []byte) ([]byte, error) {
	return canonical(data, nil)
}

// canonical is [Canonical] with a transform applied to every string value
// (not to member names) before it is written; mapString may be nil.
func canonical(data []byte, mapString func(string) string) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var out bytes.Buffer
	if err := canonValue(dec, &out, mapString); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: trailing data after the JSON value", ErrMalformed)
	}
	return out.Bytes(), nil
}

func canonValue(dec *json.Decoder, out *bytes.Buffer, mapString func(string) string) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	return canonToken(tok, dec, out, mapString)
}

func canonToken(tok json.Token, dec *json.Decoder, out *bytes.Buffer, mapString func(string) string) error {
	switch v := tok.(type) {
	case json.Delim:
		switch v {
		case '{':
			return canonObject(dec, out, mapString)
		case '[':
			out.WriteByte('[')
			for i := 0; dec.More(); i++ {
				if i > 0 {
					out.WriteByte(',')
				}
				if err := canonValue(dec, out, mapString); err != nil {
					return err
				}
			}
			if _, err := dec.Token(); err != nil { // ']'
				return err
			}
			out.WriteByte(']')
			return nil
		}
		return fmt.Errorf("unexpected %q", v)
	case string:
		if mapString != nil {
			v = mapString(v)
		}
		writeString(out, v)
	case json.Number:
		n, err := strconv.ParseInt(string(v), 10, 64)
		if err != nil || n > maxSafeInteger || n < -maxSafeInteger || string(v) == "-0" {
			return fmt.Errorf("number %.40s: only integers within ±(2^53-1) are allowed", string(v))
		}
		out.WriteString(strconv.FormatInt(n, 10))
	case bool:
		out.WriteString(strconv.FormatBool(v))
	case nil:
		out.WriteString("null")
	default:
		return fmt.Errorf("unexpected token %T", tok)
	}
	return nil
}

type member struct {
	name  string
	key   []uint16
	value []byte
}

func canonObject(dec *json.Decoder, out *bytes.Buffer, mapString func(string) string) error {
	var members []member
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		name, ok := tok.(string)
		if !ok {
			return fmt.Errorf("object member name is %T", tok)
		}
		if seen[name] {
			return fmt.Errorf("duplicate member %.64q", name)
		}
		seen[name] = true
		var val bytes.Buffer
		if err := canonValue(dec, &val, mapString); err != nil {
			return err
		}
		members = append(members, member{name: name, key: utf16.Encode([]rune(name)), value: val.Bytes()})
	}
	if _, err := dec.Token(); err != nil { // '}'
		return err
	}
	sort.Slice(members, func(i, j int) bool { return lessUTF16(members[i].key, members[j].key) })
	out.WriteByte('{')
	for i, m := range members {
		if i > 0 {
			out.WriteByte(',')
		}
		writeString(out, m.name)
		out.WriteByte(':')
		out.Write(m.value)
	}
	out.WriteByte('}')
	return nil
}

func lessUTF16(a, b []uint16) bool {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return len(a) < len(b)
}

// writeString writes s as a JSON string with RFC 8785 escaping: only '"',
// '\\' and control characters are escaped; everything else is literal UTF-8.
func writeString(out *bytes.Buffer, s string) {
	const hex = "0123456789abcdef"
	out.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			out.WriteString(`\"`)
		case r == '\\':
			out.WriteString(`\\`)
		case r == '\b':
			out.WriteString(`\b`)
		case r == '\f':
			out.WriteString(`\f`)
		case r == '\n':
			out.WriteString(`\n`)
		case r == '\r':
			out.WriteString(`\r`)
		case r == '\t':
			out.WriteString(`\t`)
		case r < 0x20:
			out.WriteString(`\u00`)
			out.WriteByte(hex[r>>4])
			out.WriteByte(hex[r&0xf])
		default:
			out.WriteRune(r)
		}
	}
	out.WriteByte('"')
}
