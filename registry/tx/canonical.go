package tx

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"unicode/utf8"
)

// maxSafeInteger is the largest integer JSON implementations agree on
// (2^53-1); canonical JSON here admits integers within ±maxSafeInteger only.
const maxSafeInteger = 1<<53 - 1

// maxDepth bounds nesting, so hostile input cannot exhaust the stack.
const maxDepth = 200

// Canonical returns the canonical form of the JSON value in data: the JSON
// Canonicalization Scheme (RFC 8785) restricted to integer numbers. Object
// members are sorted by the UTF-16 code units of their names, strings use the
// minimal escaping of RFC 8785, and there is no insignificant whitespace.
//
// It rejects (with an error wrapping [ErrMalformed]) input that is not one
// JSON value, objects with duplicate member names, invalid UTF-8, nesting
// deeper than 200, and numbers that are not integers within ±(2^53-1): no
// consensus decision may hinge on float formatting or on which of two
// duplicate members a parser keeps.
func Canonical(data []byte) ([]byte, error) {
	return canonical(data, nil)
}

// canonical is [Canonical] with a transform applied to every string value
// (not to member names) before it is written; mapString may be nil.
func canonical(data []byte, mapString func(string) string) ([]byte, error) {
	p := &canonParser{data: data, mapString: mapString}
	out := make([]byte, 0, len(data))
	p.ws()
	if err := p.value(&out, 0); err != nil {
		return nil, fmt.Errorf("%w: %v (at byte %d)", ErrMalformed, err, p.pos)
	}
	p.ws()
	if p.pos != len(data) {
		return nil, fmt.Errorf("%w: trailing data after the JSON value (at byte %d)", ErrMalformed, p.pos)
	}
	return out, nil
}

// canonParser is a recursive-descent JSON parser that writes the canonical
// form as it goes.
type canonParser struct {
	data      []byte
	pos       int
	mapString func(string) string
}

var errEOF = errors.New("unexpected end of input")

func (p *canonParser) ws() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *canonParser) value(out *[]byte, depth int) error {
	if depth > maxDepth {
		return errors.New("nested too deeply")
	}
	if p.pos >= len(p.data) {
		return errEOF
	}
	switch c := p.data[p.pos]; {
	case c == '{':
		return p.object(out, depth)
	case c == '[':
		return p.array(out, depth)
	case c == '"':
		s, err := p.str()
		if err != nil {
			return err
		}
		if p.mapString != nil {
			s = p.mapString(s)
		}
		*out = appendString(*out, s)
		return nil
	case c == 't':
		return p.literal(out, "true")
	case c == 'f':
		return p.literal(out, "false")
	case c == 'n':
		return p.literal(out, "null")
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number(out)
	default:
		return fmt.Errorf("unexpected character %q", c)
	}
}

func (p *canonParser) literal(out *[]byte, lit string) error {
	if len(p.data)-p.pos < len(lit) || string(p.data[p.pos:p.pos+len(lit)]) != lit {
		return errors.New("invalid literal")
	}
	p.pos += len(lit)
	*out = append(*out, lit...)
	return nil
}

func (p *canonParser) number(out *[]byte) error {
	start := p.pos
	if p.data[p.pos] == '-' {
		p.pos++
	}
	digits := p.pos
	for p.pos < len(p.data) && p.data[p.pos] >= '0' && p.data[p.pos] <= '9' {
		p.pos++
	}
	if p.pos == digits {
		return errors.New("invalid number")
	}
	if p.pos < len(p.data) {
		if c := p.data[p.pos]; c == '.' || c == 'e' || c == 'E' {
			return errors.New("only integers within ±(2^53-1) are allowed")
		}
	}
	lit := string(p.data[start:p.pos])
	if p.data[digits] == '0' && p.pos-digits > 1 {
		return errors.New("number with a leading zero")
	}
	n, err := strconv.ParseInt(lit, 10, 64)
	if err != nil || n > maxSafeInteger || n < -maxSafeInteger || lit == "-0" {
		return fmt.Errorf("number %.40s: only integers within ±(2^53-1) are allowed", lit)
	}
	*out = strconv.AppendInt(*out, n, 10)
	return nil
}

// str parses a JSON string at p.pos (which is '"') and returns its value.
func (p *canonParser) str() (string, error) {
	start := p.pos
	p.pos++
	escaped := false
	for p.pos < len(p.data) {
		c := p.data[p.pos]
		switch {
		case c == '"':
			p.pos++
			raw := p.data[start:p.pos]
			if !escaped {
				s := raw[1 : len(raw)-1]
				if !utf8.Valid(s) {
					return "", errors.New("string is not valid UTF-8")
				}
				return string(s), nil
			}
			if !utf8.Valid(raw) {
				return "", errors.New("string is not valid UTF-8")
			}
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return "", fmt.Errorf("invalid string: %v", err)
			}
			return s, nil
		case c == '\\':
			escaped = true
			p.pos += 2
		case c < 0x20:
			return "", errors.New("control character in string")
		default:
			p.pos++
		}
	}
	return "", errEOF
}

func (p *canonParser) array(out *[]byte, depth int) error {
	p.pos++ // '['
	*out = append(*out, '[')
	p.ws()
	if p.pos < len(p.data) && p.data[p.pos] == ']' {
		p.pos++
		*out = append(*out, ']')
		return nil
	}
	for {
		p.ws()
		if err := p.value(out, depth+1); err != nil {
			return err
		}
		p.ws()
		if p.pos >= len(p.data) {
			return errEOF
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
			*out = append(*out, ',')
		case ']':
			p.pos++
			*out = append(*out, ']')
			return nil
		default:
			return errors.New("expected ',' or ']'")
		}
	}
}

type canonMember struct {
	name       string
	start, end int // the member's `"name":value` bytes in out
}

// object writes each member as `"name":value` in input order, then rewrites
// the object's bytes with the members sorted and comma-separated. Nested
// objects are complete (and sorted) before their parent is rewritten.
func (p *canonParser) object(out *[]byte, depth int) error {
	p.pos++ // '{'
	*out = append(*out, '{')
	objStart := len(*out)
	var members []canonMember
	var seen map[string]bool // built once an object has many members
	p.ws()
	if p.pos < len(p.data) && p.data[p.pos] == '}' {
		p.pos++
		*out = append(*out, '}')
		return nil
	}
	for {
		p.ws()
		if p.pos >= len(p.data) || p.data[p.pos] != '"' {
			return errors.New("expected a member name")
		}
		name, err := p.str()
		if err != nil {
			return err
		}
		dup := false
		if seen != nil {
			dup = seen[name]
		} else {
			for _, m := range members {
				dup = dup || m.name == name
			}
			if len(members) >= 16 {
				seen = make(map[string]bool, 2*len(members))
				for _, m := range members {
					seen[m.name] = true
				}
			}
		}
		if dup {
			return fmt.Errorf("duplicate member %.64q", name)
		}
		if seen != nil {
			seen[name] = true
		}
		p.ws()
		if p.pos >= len(p.data) || p.data[p.pos] != ':' {
			return errors.New("expected ':'")
		}
		p.pos++
		p.ws()
		start := len(*out)
		*out = appendString(*out, name)
		*out = append(*out, ':')
		if err := p.value(out, depth+1); err != nil {
			return err
		}
		members = append(members, canonMember{name: name, start: start - objStart, end: len(*out) - objStart})
		p.ws()
		if p.pos >= len(p.data) {
			return errEOF
		}
		if p.data[p.pos] == ',' {
			p.pos++
			continue
		}
		if p.data[p.pos] != '}' {
			return errors.New("expected ',' or '}'")
		}
		p.pos++
		break
	}
	region := slices.Clone((*out)[objStart:])
	slices.SortFunc(members, func(a, b canonMember) int { return compareUTF16(a.name, b.name) })
	*out = (*out)[:objStart]
	for i, m := range members {
		if i > 0 {
			*out = append(*out, ',')
		}
		*out = append(*out, region[m.start:m.end]...)
	}
	*out = append(*out, '}')
	return nil
}

// compareUTF16 orders strings by their UTF-16 code units, as RFC 8785
// sorts member names.
func compareUTF16(a, b string) int {
	for a != "" && b != "" {
		ra, na := utf8.DecodeRuneInString(a)
		rb, nb := utf8.DecodeRuneInString(b)
		if ra != rb {
			ua, ub := utf16Units(ra), utf16Units(rb)
			if ua[0] != ub[0] {
				return int(ua[0]) - int(ub[0])
			}
			return int(ua[1]) - int(ub[1])
		}
		a, b = a[na:], b[nb:]
	}
	return len(a) - len(b)
}

func utf16Units(r rune) [2]uint16 {
	if r < 0x10000 {
		return [2]uint16{uint16(r), 0}
	}
	r -= 0x10000
	return [2]uint16{uint16(0xD800 + (r >> 10)), uint16(0xDC00 + (r & 0x3FF))}
}

// appendString appends s as a JSON string with RFC 8785 escaping: only '"',
// '\\' and control characters are escaped; everything else is literal UTF-8.
func appendString(out []byte, s string) []byte {
	const hex = "0123456789abcdef"
	out = append(out, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			out = append(out, '\\', '"')
		case c == '\\':
			out = append(out, '\\', '\\')
		case c == '\b':
			out = append(out, '\\', 'b')
		case c == '\f':
			out = append(out, '\\', 'f')
		case c == '\n':
			out = append(out, '\\', 'n')
		case c == '\r':
			out = append(out, '\\', 'r')
		case c == '\t':
			out = append(out, '\\', 't')
		case c < 0x20:
			out = append(out, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			out = append(out, c)
		}
	}
	return append(out, '"')
}
