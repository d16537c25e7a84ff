package ijson

import (
	"encoding"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"sync"
)

// Decoding while checking. Unmarshal used to check a text and then hand
// it to encoding/json, which scans it again before it decodes it: three
// passes over every signed request. For the types whose decoding
// encoding/json does without any choice of its own (strings, booleans,
// integers, floats, slices of these, and structs of these with plain
// field names and no embedded field) the parser sets the value as it
// checks it, exactly as encoding/json would set it. Anything else (a
// map, an interface, a pointer, a type that decodes itself, a ",string"
// field) is left to encoding/json after the check, as before; so is a
// text whose values do not fit the type (a string where a number belongs,
// a number out of range), which encoding/json decodes again for its
// result and its error.

// plan is how a value of one Go type is decoded in the checking pass.
type plan struct {
	kind   reflect.Kind
	fields map[string]planField // a struct's fields by JSON name
	elem   *plan                // a slice's element, a pointer's target
	// raw: a json.RawMessage, set to a copy of the value's bytes;
	// byJSON: a field of a type without a plan (a map, an interface, a
	// type that decodes itself): checked, then its bytes alone handed to
	// encoding/json.
	raw, byJSON bool
}

var rawMessageType = reflect.TypeFor[json.RawMessage]()

type planField struct {
	index int
	plan  *plan
}

var plans sync.Map // reflect.Type -> *plan (noPlan: none)

var noPlan = &plan{}

var textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()

// planOf returns the plan of t, or nil when encoding/json decodes it.
func planOf(t reflect.Type) *plan {
	if pl, ok := plans.Load(t); ok {
		if pl == noPlan {
			return nil
		}
		return pl.(*plan)
	}
	pl := buildPlan(t, map[reflect.Type]bool{})
	if pl == nil {
		plans.Store(t, noPlan)
	} else {
		plans.Store(t, pl)
	}
	return pl
}

func buildPlan(t reflect.Type, building map[reflect.Type]bool) *plan {
	if building[t] {
		return nil // recursive types are encoding/json's
	}
	if t == rawMessageType {
		return &plan{kind: reflect.Slice, raw: true}
	}
	for _, u := range []reflect.Type{unmarshalerType, textUnmarshalerType} {
		if t.Implements(u) || reflect.PointerTo(t).Implements(u) {
			return nil
		}
	}
	switch k := t.Kind(); k {
	case reflect.String, reflect.Bool,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return &plan{kind: k}
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return nil // []byte is base64
		}
		e := buildPlan(t.Elem(), building)
		if e == nil {
			return nil
		}
		return &plan{kind: k, elem: e}
	case reflect.Pointer:
		if t.Elem().Kind() == reflect.Pointer {
			return nil
		}
		e := buildPlan(t.Elem(), building)
		if e == nil {
			return nil
		}
		return &plan{kind: k, elem: e}
	case reflect.Struct:
		building[t] = true
		defer delete(building, t)
		pl := &plan{kind: k, fields: map[string]planField{}}
		for i := range t.NumField() {
			f := t.Field(i)
			if f.Anonymous {
				return nil // promotion rules are encoding/json's
			}
			tag := f.Tag.Get("json")
			if !f.IsExported() || tag == "-" {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			for o := range strings.SplitSeq(opts, ",") {
				if o == "string" {
					return nil
				}
			}
			if name == "" {
				name = f.Name
			} else if !plainName(name) {
				return nil // encoding/json would ignore an odd tag
			}
			if _, dup := pl.fields[name]; dup {
				return nil // encoding/json would drop both
			}
			fp := buildPlan(f.Type, building)
			if fp == nil {
				fp = &plan{kind: f.Type.Kind(), byJSON: true}
			}
			pl.fields[name] = planField{index: i, plan: fp}
		}
		return pl
	}
	return nil
}

// plainName reports whether a tag's name is one encoding/json takes as it
// is (letters, digits, '_', '-', '.').
func plainName(s string) bool {
	for _, c := range s {
		if !(c == '_' || c == '-' || c == '.' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// decodeRun is run with decoding: the one value of the text into v.
func (p *parser) decodeRun(v reflect.Value, pl *plan, sch *schema) error {
	p.skipSpace()
	if err := p.decode(v, pl, sch); err != nil {
		return err
	}
	p.skipSpace()
	if p.pos != len(p.s) {
		return p.errorf("data after the JSON value")
	}
	return nil
}

// decode checks the value at p.pos and sets v (of plan pl, schema sch) to
// it as encoding/json would. A value encoding/json would not set without
// an error is only checked, and p.fallback set.
func (p *parser) decode(v reflect.Value, pl *plan, sch *schema) error {
	if p.pos >= len(p.s) {
		return p.eof()
	}
	if pl.raw || pl.byJSON {
		start := p.pos
		if _, err := p.value(sch); err != nil {
			return err
		}
		b := []byte(p.s[start:p.pos])
		if pl.raw {
			v.SetBytes(b) // what json.RawMessage keeps: a copy of the bytes
		} else if json.Unmarshal(b, v.Addr().Interface()) != nil {
			p.fallback = true // for encoding/json's error about the whole text
		}
		return nil
	}
	switch c := p.s[p.pos]; {
	case c == 'n':
		if err := p.literal("null"); err != nil {
			return err
		}
		if pl.kind == reflect.Slice || pl.kind == reflect.Pointer {
			v.SetZero() // encoding/json: null empties a slice or pointer, leaves the rest
		}
		return nil
	case pl.kind == reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		return p.decode(v.Elem(), pl.elem, sch)
	case c == '{' && pl.kind == reflect.Struct:
		return p.members(sch, nil, func(name string, child *schema) error {
			if f, ok := pl.fields[name]; ok {
				return p.decode(v.Field(f.index), f.plan, child)
			}
			_, err := p.value(child)
			return err
		})
	case c == '[' && pl.kind == reflect.Slice:
		var elem *schema
		if sch != nil {
			elem = sch.elem
		}
		v.Set(reflect.MakeSlice(v.Type(), 0, 0)) // [] is an empty slice, not nil
		return p.elements(func(i int) error {
			v.Grow(1)
			v.SetLen(i + 1)
			return p.decode(v.Index(i), pl.elem, elem)
		})
	case c == '"' && pl.kind == reflect.String:
		s, err := p.string()
		if err != nil {
			return err
		}
		v.SetString(s)
		return nil
	case (c == 't' || c == 'f') && pl.kind == reflect.Bool:
		lit := "false"
		if c == 't' {
			lit = "true"
		}
		if err := p.literal(lit); err != nil {
			return err
		}
		v.SetBool(c == 't')
		return nil
	case c == '-' || c >= '0' && c <= '9':
		n, err := p.number()
		if err != nil {
			return err
		}
		if !setNumber(v, pl.kind, string(n)) {
			p.fallback = true
		}
		return nil
	}
	p.fallback = true
	_, err := p.value(sch)
	return err
}

// setNumber sets v (of kind k) to the number lit as encoding/json would,
// reporting false where encoding/json would refuse it (or v is not a
// number).
func setNumber(v reflect.Value, k reflect.Kind, lit string) bool {
	switch k {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(lit, 10, 64)
		if err != nil || v.OverflowInt(n) {
			return false
		}
		v.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, err := strconv.ParseUint(lit, 10, 64)
		if err != nil || v.OverflowUint(n) {
			return false
		}
		v.SetUint(n)
	case reflect.Float32, reflect.Float64:
		n, err := strconv.ParseFloat(lit, v.Type().Bits())
		if err != nil || v.OverflowFloat(n) {
			return false
		}
		v.SetFloat(n)
	default:
		return false
	}
	return true
}
