// Package ijson is the project's one parser for JSON that arrives signed or
// over the network: JWS headers and payloads, credentials and presentations,
// registry transactions, vault requests. It reads RFC 8259 JSON under the
// I-JSON profile (RFC 7493) and refuses, rather than silently resolves,
// everything two parsers could read two ways:
//
//   - a member name repeated in one object (no "last one wins");
//   - invalid UTF-8 and lone UTF-16 surrogates (no U+FFFD substitution);
//   - anything after the one JSON value;
//   - nesting deeper than [MaxDepth] (hostile input cannot exhaust the stack);
//   - when decoding into a Go struct, a member name that matches a field
//     only case-insensitively (encoding/json would fill the field from it,
//     any other reader would not) and, with [Known], a member no field names.
//
// With [SafeIntegers], numbers must also be integers within ±(2^53-1), the
// range every JSON implementation reads the same; the registry's consensus
// rules use it so that no decision hinges on float formatting.
//
// [Parse] gives the generic value (maps, slices, strings, json.Number, bool,
// nil), [Unmarshal] decodes into a Go value after the checks, [Canonical]
// writes the RFC 8785 canonical form of integer-only JSON. All three are one
// recursive-descent parser with one policy; none of them panics on any input.
package ijson

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf16"
	"unicode/utf8"
)

// MaxDepth is the deepest nesting of arrays and objects accepted.
const MaxDepth = 200

// MaxSafeInteger is the largest integer magnitude [SafeIntegers] and
// [Canonical] accept: 2^53-1, the largest every JSON implementation agrees on.
const MaxSafeInteger = 1<<53 - 1

// Flags tighten [Unmarshal] and [Check] beyond the common policy.
type Flags uint8

const (
	// Known refuses object members that no field of the target struct
	// names (encoding/json's DisallowUnknownFields, but case-sensitive).
	Known Flags = 1 << iota
	// SafeIntegers refuses numbers other than integers within
	// ±[MaxSafeInteger] (no fraction, no exponent, no -0).
	SafeIntegers
)

// SyntaxError reports input the parser refuses: not JSON, or JSON outside
// the policy. Offset is the byte at which the problem was found.
type SyntaxError struct {
	Offset int
	msg    string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("JSON at byte %d: %s", e.Offset, e.msg) }

// Parse decodes one JSON text into the generic form encoding/json produces
// with UseNumber: map[string]any, []any, string, json.Number, bool and nil.
// Errors are *SyntaxError. The strings returned share one copy of data, so
// keeping any of them keeps that copy alive.
func Parse(data []byte) (any, error) {
	return ParseString(string(data))
}

// ParseString is [Parse] of a string; the strings returned share s's memory.
func ParseString(s string) (any, error) {
	p := parser{s: s, mode: modeTree}
	return p.run(nil)
}

// Check reports whether data is one JSON value under the policy and flags.
// Known has no effect without a target type; use [Unmarshal] for that.
func Check(data []byte, f Flags) error {
	p := parser{s: string(data), mode: modeCheck, ints: f&SafeIntegers != 0}
	_, err := p.run(nil)
	return err
}

// CheckValue checks the one JSON value at the start of s (after optional
// whitespace) under the policy and flags, as if it sat depth levels deep
// inside a larger JSON text (depth 1: a member of the top-level object or
// array), so nesting is counted from that text's top. It returns the offset
// just past the value; what follows it is the caller's to read. A caller
// that reads an outer text itself checks an embedded value with it, in the
// same pass, and accepts exactly what checking the whole text would accept
// of that value.
func CheckValue(s string, depth int, f Flags) (int, error) {
	p := parser{s: s, mode: modeCheck, ints: f&SafeIntegers != 0, depth: depth}
	p.skipSpace()
	if _, err := p.value(nil); err != nil {
		return 0, err
	}
	return p.pos, nil
}

// Unmarshal checks data under the policy and flags, with v's type as the
// schema for member names (see the package documentation), and then decodes
// it into v with encoding/json. v must be a non-nil pointer. A value whose
// type is a struct must be a JSON object. Policy errors are *SyntaxError;
// encoding/json's errors (a string where a number belongs, ...) are returned
// as they are.
func Unmarshal(data []byte, v any, f Flags) error {
	return unmarshal(string(data), data, v, f)
}

// UnmarshalString is [Unmarshal] of a string.
func UnmarshalString(s string, v any, f Flags) error {
	return unmarshal(s, nil, v, f)
}

// unmarshal checks s and decodes data, the same text as bytes (nil: made
// from s).
func unmarshal(s string, data []byte, v any, f Flags) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return errors.New("ijson: Unmarshal needs a non-nil pointer")
	}
	p := parser{s: s, mode: modeCheck, ints: f&SafeIntegers != 0, known: f&Known != 0}
	t := rv.Type().Elem()
	sch := schemaOf(t)
	if sch != nil && sch.isStruct {
		p.skipSpace()
		if p.pos >= len(p.s) || p.s[p.pos] != '{' {
			return p.errorf("want a JSON object")
		}
	}
	// One pass when it can be: a value of a type with a plan, not yet
	// holding anything (so what encoding/json would merge into it is
	// nothing), is decoded while it is checked.
	if pl := planOf(t); pl != nil && rv.Elem().IsZero() {
		err := p.decodeRun(rv.Elem(), pl, sch)
		if err != nil {
			rv.Elem().SetZero() // a refused text leaves v as it was
			return err
		}
		if !p.fallback {
			return nil
		}
		// A value the plan does not take as encoding/json would (a
		// string where a number belongs, a number out of range, a
		// field's own decoder failing): let encoding/json decode the
		// whole text, for its result and its error, into the zero value
		// v held: encoding/json stops at some errors (a type that
		// decodes itself refusing its value) and leaves the members after
		// it unset, which the members this pass decoded must not fill.
		rv.Elem().SetZero()
	} else if _, err := p.run(sch); err != nil {
		return err
	}
	if data == nil {
		data = []byte(s)
	}
	return json.Unmarshal(data, v)
}

// Canonical returns the canonical form of the JSON value in data: the JSON
// Canonicalization Scheme (RFC 8785) for JSON whose numbers are integers
// within ±[MaxSafeInteger] (others are refused, so no float formatting is
// involved). Object members are sorted by the UTF-16 code units of their
// names, strings are written with RFC 8785's minimal escaping, and there is
// no insignificant whitespace. Errors are *SyntaxError.
func Canonical(data []byte) ([]byte, error) {
	return CanonicalMap(data, nil)
}

// CanonicalMap is [Canonical] with mapString applied to every string value
// (not to member names) before it is written; mapString may be nil.
func CanonicalMap(data []byte, mapString func(string) string) ([]byte, error) {
	p := parser{s: string(data), mode: modeCanon, ints: true, mapString: mapString}
	p.out = make([]byte, 0, len(data))
	if _, err := p.run(nil); err != nil {
		return nil, err
	}
	return p.out, nil
}

type mode uint8

const (
	modeCheck mode = iota // validate only
	modeTree              // build the generic value
	modeCanon             // write the canonical form to out
)

type parser struct {
	s         string
	pos       int
	depth     int
	mode      mode
	ints      bool // numbers must be safe integers
	known     bool // refuse members the schema does not name
	out       []byte
	mapString func(string) string
	fallback  bool // decode: a value was only checked, not decoded
}

func (p *parser) errorf(format string, args ...any) *SyntaxError {
	return &SyntaxError{Offset: p.pos, msg: fmt.Sprintf(format, args...)}
}

func (p *parser) eof() *SyntaxError { return p.errorf("unexpected end of JSON") }

func (p *parser) run(sch *schema) (any, error) {
	p.skipSpace()
	v, err := p.value(sch)
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.pos != len(p.s) {
		return nil, p.errorf("data after the JSON value")
	}
	return v, nil
}

func (p *parser) skipSpace() {
	for p.pos < len(p.s) {
		switch p.s[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

// value parses the value at p.pos. It returns the value only in modeTree
// (boxing a string allocates; the other modes need no value).
func (p *parser) value(sch *schema) (any, error) {
	if p.pos >= len(p.s) {
		return nil, p.eof()
	}
	switch c := p.s[p.pos]; {
	case c == '{':
		return p.object(sch)
	case c == '[':
		return p.array(sch)
	case c == '"':
		s, err := p.string()
		if err != nil {
			return nil, err
		}
		switch p.mode {
		case modeTree:
			return s, nil
		case modeCanon:
			if p.mapString != nil {
				s = p.mapString(s)
			}
			p.out = appendString(p.out, s)
		}
		return nil, nil
	case c == 't':
		return true, p.literal("true")
	case c == 'f':
		return false, p.literal("false")
	case c == 'n':
		return nil, p.literal("null")
	case c == '-' || c >= '0' && c <= '9':
		n, err := p.number()
		if err != nil || p.mode != modeTree {
			return nil, err
		}
		return n, nil
	default:
		return nil, p.errorf("unexpected character %q", c)
	}
}

func (p *parser) literal(lit string) error {
	if !strings.HasPrefix(p.s[p.pos:], lit) {
		return p.errorf("invalid literal")
	}
	p.pos += len(lit)
	if p.mode == modeCanon {
		p.out = append(p.out, lit...)
	}
	return nil
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > MaxDepth {
		return p.errorf("nested more than %d levels deep", MaxDepth)
	}
	return nil
}

// member is an object member seen so far: its name, and in modeCanon where
// its `"name":value` bytes start and end in out (relative to the object).
type member struct {
	name       string
	start, end int
}

func (p *parser) object(sch *schema) (any, error) {
	var m map[string]any
	var spans []member // modeCanon: where each member's bytes are in out
	objStart := 0
	switch p.mode {
	case modeTree:
		m = make(map[string]any, 8)
	case modeCanon:
		p.out = append(p.out, '{')
		objStart = len(p.out)
	}
	err := p.members(sch, m, func(name string, child *schema) error {
		start := 0
		if p.mode == modeCanon {
			start = len(p.out) - objStart
			p.out = appendString(p.out, name)
			p.out = append(p.out, ':')
		}
		v, err := p.value(child)
		if err != nil {
			return err
		}
		switch p.mode {
		case modeTree:
			m[name] = v
		case modeCanon:
			spans = append(spans, member{name: name, start: start, end: len(p.out) - objStart})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if p.mode == modeCanon {
		if len(spans) == 0 {
			p.out = append(p.out, '}')
		} else {
			p.sortMembers(objStart, spans)
		}
	}
	return m, nil
}

// members reads the object at p.pos (its '{' to its '}') under the policy:
// a member name is a string, appears once in the object (in m when m is
// being built, else among the names seen), and is one sch admits. For each
// member it calls value with p.pos at the member's value, which value
// reads.
func (p *parser) members(sch *schema, m map[string]any, value func(name string, child *schema) error) error {
	if err := p.enter(); err != nil {
		return err
	}
	p.pos++ // '{'

	// The names seen, while the object is small (at most 16, then seen
	// takes over), in an array on the stack: no allocation per object.
	var small [16]string
	names := small[:0]
	var seen map[string]bool // built once an object has many members
	p.skipSpace()
	if p.pos < len(p.s) && p.s[p.pos] == '}' {
		p.pos++
		p.depth--
		return nil
	}
	for {
		p.skipSpace()
		if p.pos >= len(p.s) {
			return p.eof()
		}
		if p.s[p.pos] != '"' {
			return p.errorf("object member name must be a string")
		}
		namePos := p.pos
		name, err := p.string()
		if err != nil {
			return err
		}
		// Duplicates: the map being built, or the names seen so far (a
		// linear scan while the object is small, a set beyond 16 members).
		dup := false
		switch {
		case m != nil:
			_, dup = m[name]
		case seen != nil:
			dup = seen[name]
			seen[name] = true
		default:
			dup = slices.Contains(names, name)
			names = append(names, name)
			if len(names) > 16 {
				seen = make(map[string]bool, 2*len(names))
				for _, x := range names {
					seen[x] = true
				}
			}
		}
		if dup {
			p.pos = namePos
			return p.errorf("member %.64q appears twice in one object", name)
		}
		var child *schema
		if sch != nil {
			child, err = sch.member(name)
			if err == errUnknown {
				if err = nil; p.known {
					err = fmt.Errorf("unknown member %.64q", name)
				}
			}
			if err != nil {
				p.pos = namePos
				return p.errorf("%v", err)
			}
		}
		p.skipSpace()
		if p.pos >= len(p.s) || p.s[p.pos] != ':' {
			return p.errorf("missing ':' after member name")
		}
		p.pos++
		p.skipSpace()
		if err := value(name, child); err != nil {
			return err
		}
		p.skipSpace()
		if p.pos >= len(p.s) {
			return p.eof()
		}
		switch p.s[p.pos] {
		case ',':
			p.pos++
			continue
		case '}':
			p.pos++
			p.depth--
			return nil
		default:
			return p.errorf("expected ',' or '}' in object")
		}
	}
}

// sortMembers rewrites the members of the object whose bytes start at
// objStart in out in RFC 8785 order. Nested objects are complete (and
// sorted) before their parent is.
func (p *parser) sortMembers(objStart int, members []member) {
	region := slices.Clone(p.out[objStart:])
	slices.SortFunc(members, func(a, b member) int { return compareUTF16(a.name, b.name) })
	p.out = p.out[:objStart]
	for i, x := range members {
		if i > 0 {
			p.out = append(p.out, ',')
		}
		p.out = append(p.out, region[x.start:x.end]...)
	}
	p.out = append(p.out, '}')
}

func (p *parser) array(sch *schema) (any, error) {
	var a []any
	switch p.mode {
	case modeTree:
		a = make([]any, 0, 4)
	case modeCanon:
		p.out = append(p.out, '[')
	}
	var elem *schema
	if sch != nil {
		elem = sch.elem
	}
	err := p.elements(func(i int) error {
		if i > 0 && p.mode == modeCanon {
			p.out = append(p.out, ',')
		}
		v, err := p.value(elem)
		if p.mode == modeTree {
			a = append(a, v)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if p.mode == modeCanon {
		p.out = append(p.out, ']')
	}
	return a, nil
}

// elements reads the array at p.pos (its '[' to its ']'), calling value
// with p.pos at element i, which value reads.
func (p *parser) elements(value func(i int) error) error {
	if err := p.enter(); err != nil {
		return err
	}
	p.pos++ // '['
	p.skipSpace()
	if p.pos < len(p.s) && p.s[p.pos] == ']' {
		p.pos++
		p.depth--
		return nil
	}
	for i := 0; ; i++ {
		p.skipSpace()
		if err := value(i); err != nil {
			return err
		}
		p.skipSpace()
		if p.pos >= len(p.s) {
			return p.eof()
		}
		switch p.s[p.pos] {
		case ',':
			p.pos++
		case ']':
			p.pos++
			p.depth--
			return nil
		default:
			return p.errorf("expected ',' or ']' in array")
		}
	}
}

// string reads a JSON string starting at its opening quote. A string with
// no escape is returned as a substring of the input (no copy).
func (p *parser) string() (string, error) {
	// The scan runs on locals and skips plain bytes with one table lookup
	// each: this loop reads every byte of every signed token, transaction
	// and request, and kept in p.pos it cost a load and a store per byte
	// (BENCHMARKS, issue 12, third pass). p.pos is set before every return,
	// so errors carry the same offsets.
	s := p.s
	start := p.pos + 1 // past '"'
	i := start
	for {
		for i < len(s) && plainByte[s[i]] {
			i++
		}
		p.pos = i
		if i >= len(s) {
			return "", p.eof()
		}
		switch c := s[i]; {
		case c == '"':
			p.pos++
			return s[start:i], nil
		case c == '\\':
			return p.escapedString(start)
		case c < 0x20:
			return "", p.errorf("control character in string")
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size <= 1 {
				return "", p.errorf("invalid UTF-8 in string")
			}
			i += size
		}
	}
}

// plainByte marks the bytes a string's scan passes over as they are: ASCII
// from 0x20, except '"' and '\\'.
var plainByte = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// escapedString finishes a string that began at start and has an escape
// at p.pos.
func (p *parser) escapedString(start int) (string, error) {
	var b strings.Builder
	b.Grow(p.pos - start + 16)
	b.WriteString(p.s[start:p.pos])
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		switch {
		case c == '"':
			p.pos++
			return b.String(), nil
		case c < 0x20:
			return "", p.errorf("control character in string")
		case c == '\\':
			if p.pos+1 >= len(p.s) {
				return "", p.eof()
			}
			e := p.s[p.pos+1]
			p.pos += 2
			switch e {
			case '"', '\\', '/':
				b.WriteByte(e)
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case 'u':
				r, err := p.hex4()
				if err != nil {
					return "", err
				}
				if utf16.IsSurrogate(r) {
					// A surrogate is only valid as the high half of a pair.
					if r >= 0xDC00 || !strings.HasPrefix(p.s[p.pos:], `\u`) {
						return "", p.errorf("lone UTF-16 surrogate in string")
					}
					p.pos += 2
					r2, err := p.hex4()
					if err != nil {
						return "", err
					}
					if r2 < 0xDC00 || r2 > 0xDFFF {
						return "", p.errorf("lone UTF-16 surrogate in string")
					}
					r = utf16.DecodeRune(r, r2)
				}
				b.WriteRune(r)
			default:
				return "", p.errorf("invalid escape \\%c", e)
			}
		case c < utf8.RuneSelf:
			b.WriteByte(c)
			p.pos++
		default:
			r, size := utf8.DecodeRuneInString(p.s[p.pos:])
			if r == utf8.RuneError && size <= 1 {
				return "", p.errorf("invalid UTF-8 in string")
			}
			b.WriteString(p.s[p.pos : p.pos+size])
			p.pos += size
		}
	}
	return "", p.eof()
}

func (p *parser) hex4() (rune, error) {
	if len(p.s)-p.pos < 4 {
		return 0, p.eof()
	}
	var r rune
	for i := range 4 {
		c := p.s[p.pos+i]
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, p.errorf("invalid \\u escape")
		}
		r = r<<4 | rune(c)
	}
	p.pos += 4
	return r, nil
}

// number checks the RFC 8259 number grammar (and, with ints, the safe
// integer range) and returns the literal as a json.Number, so no digit is
// lost.
func (p *parser) number() (json.Number, error) {
	start := p.pos
	if p.s[p.pos] == '-' {
		p.pos++
	}
	digits := func() int {
		n := 0
		for p.pos < len(p.s) && p.s[p.pos] >= '0' && p.s[p.pos] <= '9' {
			p.pos++
			n++
		}
		return n
	}
	intStart := p.pos
	if p.pos < len(p.s) && p.s[p.pos] == '0' {
		p.pos++
	} else if digits() == 0 {
		return "", p.errorf("invalid number")
	}
	frac := false
	if p.pos < len(p.s) && p.s[p.pos] == '.' {
		p.pos++
		frac = true
		if digits() == 0 {
			return "", p.errorf("invalid number")
		}
	}
	if p.pos < len(p.s) && (p.s[p.pos] == 'e' || p.s[p.pos] == 'E') {
		p.pos++
		frac = true
		if p.pos < len(p.s) && (p.s[p.pos] == '+' || p.s[p.pos] == '-') {
			p.pos++
		}
		if digits() == 0 {
			return "", p.errorf("invalid number")
		}
	}
	lit := p.s[start:p.pos]
	if p.ints {
		if p.pos < len(p.s) && p.s[p.pos] >= '0' && p.s[p.pos] <= '9' && p.s[intStart] == '0' {
			p.pos = start
			return "", p.errorf("number with a leading zero")
		}
		n, err := strconv.ParseInt(lit, 10, 64)
		if frac || err != nil || n > MaxSafeInteger || n < -MaxSafeInteger || lit == "-0" {
			p.pos = start
			return "", p.errorf("number %.40s: only integers within ±(2^53-1) are allowed", lit)
		}
		if p.mode == modeCanon {
			p.out = strconv.AppendInt(p.out, n, 10)
		}
	}
	return json.Number(lit), nil
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

// schema is what Unmarshal knows of the Go type a JSON value is decoded
// into: for a struct, the JSON names of its fields and their schemas; for
// a slice, an array or a map, its element's schema. nil means "anything"
// (interfaces, json.RawMessage, types that decode themselves, and
// containers of those).
type schema struct {
	isStruct bool
	isMap    bool
	fields   map[string]*schema // JSON name -> the field's schema (nil: any)
	names    []string           // the keys of fields, for the case check
	elem     *schema
}

var schemas sync.Map // reflect.Type -> *schema (nil schemas are stored as noSchema)

var noSchema = &schema{}

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

// schemaOf returns the schema of t, or nil when t accepts any member names.
func schemaOf(t reflect.Type) *schema {
	if s, ok := schemas.Load(t); ok {
		if s == noSchema {
			return nil
		}
		return s.(*schema)
	}
	s := buildSchema(t, map[reflect.Type]*schema{})
	if s == nil {
		schemas.Store(t, noSchema)
	} else {
		schemas.Store(t, s)
	}
	return s
}

func buildSchema(t reflect.Type, building map[reflect.Type]*schema) *schema {
	if s, ok := building[t]; ok {
		return s // a recursive type: the schema being built
	}
	if t.Implements(unmarshalerType) || reflect.PointerTo(t).Implements(unmarshalerType) {
		return nil
	}
	switch t.Kind() {
	case reflect.Pointer:
		return buildSchema(t.Elem(), building)
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 && t.Kind() == reflect.Slice {
			return nil // []byte is a base64 string
		}
		e := buildSchema(t.Elem(), building)
		if e == nil {
			return nil
		}
		return &schema{elem: e}
	case reflect.Map:
		e := buildSchema(t.Elem(), building)
		if e == nil {
			return nil
		}
		return &schema{isMap: true, elem: e}
	case reflect.Struct:
		s := &schema{isStruct: true, fields: map[string]*schema{}}
		building[t] = s
		for _, f := range reflect.VisibleFields(t) {
			if !f.IsExported() && !f.Anonymous {
				continue
			}
			tag := f.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, _, _ := strings.Cut(tag, ",")
			if ft := f.Type; f.Anonymous && name == "" && (ft.Kind() == reflect.Struct ||
				ft.Kind() == reflect.Pointer && ft.Elem().Kind() == reflect.Struct) {
				continue // promoted: VisibleFields lists its fields
			}
			if !f.IsExported() {
				continue
			}
			if name == "" {
				name = f.Name
			}
			s.fields[name] = buildSchema(f.Type, building)
			s.names = append(s.names, name)
		}
		return s
	}
	return nil
}

// member returns the schema of the member called name of an object of
// schema s, or an error when encoding/json would read the name differently
// from the JSON text (it matches names case-insensitively) or, with known,
// when no field has that name.
func (s *schema) member(name string) (*schema, error) {
	if s.isMap {
		return s.elem, nil
	}
	if !s.isStruct {
		return nil, nil
	}
	if f, ok := s.fields[name]; ok {
		return f, nil
	}
	for _, n := range s.names {
		if strings.EqualFold(n, name) {
			return nil, fmt.Errorf("member %.64q: member names are case-sensitive (%q)", name, n)
		}
	}
	return nil, errUnknown
}

// errUnknown is a member no field names; Unmarshal refuses it with [Known].
var errUnknown = errors.New("member not known here")
