// Package reflectleaf walks a Go type down to its leaves, the values a
// test can change one at a time: tests that must notice a field added
// later (every field of a proposal inside its content id, say) walk the
// type instead of listing its fields.
package reflectleaf

import "reflect"

// Step is one step of a path from the root value to a leaf: into field
// Field of a struct, or (Elem) through a pointer or into a slice's first
// element.
type Step struct {
	Field int
	Elem  bool
}

// Leaf is a value a test can change: a field of a basic kind, a type the
// caller treats as opaque, or a slice itself (Slice: its length is what
// changes; the slice's first element is walked as well).
type Leaf struct {
	// Name is the Go path from the root: fields joined by ".", a slice's
	// first element as "[0]", a slice's length as "[len]".
	Name  string
	Path  []Step
	Slice bool
}

// Leaves lists the leaves of t, named from root ("" names top-level
// fields by their bare names). opaque, if not nil, marks struct types
// that are leaves themselves rather than walked (a time, a signature).
func Leaves(t reflect.Type, root string, opaque func(reflect.Type) bool) []Leaf {
	var out []Leaf
	var walk func(t reflect.Type, name string, path []Step)
	walk = func(t reflect.Type, name string, path []Step) {
		more := func(s Step) []Step { return append(append([]Step(nil), path...), s) }
		switch t.Kind() {
		case reflect.Pointer:
			walk(t.Elem(), name, more(Step{Elem: true}))
		case reflect.Struct:
			if opaque != nil && opaque(t) {
				out = append(out, Leaf{Name: name, Path: path})
				return
			}
			for i := range t.NumField() {
				n := t.Field(i).Name
				if name != "" {
					n = name + "." + n
				}
				walk(t.Field(i).Type, n, more(Step{Field: i}))
			}
		case reflect.Slice:
			out = append(out, Leaf{Name: name + "[len]", Path: path, Slice: true})
			walk(t.Elem(), name+"[0]", more(Step{Elem: true}))
		default:
			out = append(out, Leaf{Name: name, Path: path})
		}
	}
	walk(t, root, nil)
	return out
}

// At follows path from v, allocating nil pointers and empty slices (of
// one element) on the way, and returns the settable value at its end. v
// must be settable (the Elem of a pointer to the root).
func At(v reflect.Value, path []Step) reflect.Value {
	for _, s := range path {
		switch {
		case !s.Elem:
			v = v.Field(s.Field)
		case v.Kind() == reflect.Pointer:
			if v.IsNil() {
				v.Set(reflect.New(v.Type().Elem()))
			}
			v = v.Elem()
		default:
			if v.Len() == 0 {
				v.Set(reflect.MakeSlice(v.Type(), 1, 1))
			}
			v = v.Index(0)
		}
	}
	return v
}
