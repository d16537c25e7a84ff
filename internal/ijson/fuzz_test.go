package ijson

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"
)

// FuzzParse is a differential test against encoding/json: whatever Parse
// accepts, encoding/json accepts with the same value; Check and Unmarshal
// into an interface agree with Parse on every input. (Its corpus holds
// credentials/vc's former FuzzParseJSON corpus.)
func FuzzParse(f *testing.F) {
	for _, s := range []string{`{}`, `[]`, `"a\u00e9\ud83d\ude00"`, `-0.5e+3`, `{"a":[true,false,null,1]}`,
		`{"a":1,"a":2}`, "\"\xff\"", `"\ud800"`, `{"a":{"b":[{"c":"\n"}]}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := Parse(data)
		var se *SyntaxError
		if err != nil && !errors.As(err, &se) {
			t.Fatalf("Parse error %v is not a *SyntaxError", err)
		}
		if cerr := Check(data, 0); (cerr == nil) != (err == nil) {
			t.Fatalf("Check = %v, Parse = %v", cerr, err)
		}
		// Unmarshal applies the same policy; encoding/json may then still
		// refuse a value it cannot hold (1e1000 into a float64), which is
		// not a *SyntaxError.
		var v, vs any
		uerr := Unmarshal(data, &v, 0)
		if errors.As(uerr, &se) != (err != nil) {
			t.Fatalf("Unmarshal = %v, Parse = %v", uerr, err)
		}
		if serr := UnmarshalString(string(data), &vs, 0); (serr == nil) != (uerr == nil) || !reflect.DeepEqual(v, vs) {
			t.Fatalf("UnmarshalString = %v, %#v; Unmarshal = %v, %#v", serr, vs, uerr, v)
		}
		if err != nil {
			return
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		var want any
		if err := dec.Decode(&want); err != nil {
			t.Fatalf("Parse accepted %q, encoding/json says %v", data, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("Parse(%q) = %#v, encoding/json = %#v", data, got, want)
		}
	})
}

// FuzzCanonical checks that Canonical accepts exactly what Check with
// SafeIntegers accepts, that accepted input keeps its value (against
// encoding/json), and that the canonical form is its own canonical form.
// (registry/tx's former FuzzCanonical, with its seeds.)
func FuzzCanonical(f *testing.F) {
	for _, s := range []string{`{"b":1,"a":[true,null,"x"]}`, `{"a":[1,-2,{"b":"\u0000"}]}`,
		`{"\ud83d\ude00":1,"\ufb01":2," ":[],"e\u0301":{}}`, `[9007199254740991]`, `[-0]`, `[1.5]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c1, err := Canonical(data)
		if cerr := Check(data, SafeIntegers); (cerr == nil) != (err == nil) {
			t.Fatalf("Check(SafeIntegers) = %v, Canonical = %v", cerr, err)
		}
		if err != nil {
			return
		}
		var v1, v2 any
		if err := json.Unmarshal(data, &v1); err != nil {
			t.Fatalf("accepted %q, encoding/json says %v", data, err)
		}
		if err := json.Unmarshal(c1, &v2); err != nil {
			t.Fatalf("canonical form %q is not JSON: %v", c1, err)
		}
		if !reflect.DeepEqual(v1, v2) {
			t.Fatalf("value changed: %q -> %q", data, c1)
		}
		c2, err := Canonical(c1)
		if err != nil || !bytes.Equal(c1, c2) {
			t.Fatalf("not idempotent: %q -> %q (%v)", c1, c2, err)
		}
	})
}

// FuzzUnmarshal checks the struct rules: whatever Unmarshal accepts with
// Known names only fields of the target, letter for letter, at every level
// the target's type describes; what it accepts without Known differs only
// by members no field names, even case-insensitively.
func FuzzUnmarshal(f *testing.F) {
	for _, s := range []string{`{"type":"a","count":2,"inner":{"name":"n"},"list":[{"name":"m"}],"raw":{"x":1},"free":{"a":"b"},"Untag":"u"}`,
		`{"Type":"a"}`, `{"type":"a","other":[1,2]}`, `{"inner":{"NAME":"x"}}`, `{"list":[{"name":"a"},{"nAme":"b"}]}`} {
		f.Add([]byte(s))
	}
	fields := func(t reflect.Type) map[string]bool {
		m := map[string]bool{}
		for i := range t.NumField() {
			f := t.Field(i)
			name := f.Tag.Get("json")
			if name == "-" {
				continue
			}
			if i := bytes.IndexByte([]byte(name), ','); i >= 0 {
				name = name[:i]
			}
			if name == "" {
				name = f.Name
			}
			m[name] = true
		}
		return m
	}
	top, in := fields(reflect.TypeFor[target]()), fields(reflect.TypeFor[inner]())
	check := func(t *testing.T, obj any, known map[string]bool) {
		m, ok := obj.(map[string]any)
		if !ok {
			return
		}
		for k := range m {
			if !known[k] {
				t.Fatalf("accepted member %q, which no field names", k)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var v target
		if err := Unmarshal(data, &v, Known); err != nil {
			return
		}
		tree, err := Parse(data)
		if err != nil {
			t.Fatalf("Unmarshal accepted what Parse refuses: %v", err)
		}
		check(t, tree, top)
		m := tree.(map[string]any)
		check(t, m["inner"], in)
		if l, ok := m["list"].([]any); ok {
			for _, e := range l {
				check(t, e, in)
			}
		}
	})
}

// plain is a type Unmarshal decodes in its checking pass (see decode.go).
type plain struct {
	S    string   `json:"s"`
	N    int64    `json:"n,omitempty"`
	I8   int8     `json:"i8"`
	U16  uint16   `json:"u16"`
	F32  float32  `json:"f32"`
	F    float64  `json:"f"`
	B    bool     `json:"b"`
	L    []string `json:"l"`
	In   inner    `json:"in"`
	Ins  []inner  `json:"ins"`
	Kind kind     `json:"kind"`
	Bare string
	Skip string `json:"-"`
	// Left to encoding/json value by value, or decoded as pointers and
	// raw bytes.
	P    *inner            `json:"p"`
	PS   *string           `json:"ps"`
	Raw  json.RawMessage   `json:"raw"`
	M    map[string]string `json:"m"`
	Any  any               `json:"any"`
	T    time.Time         `json:"t"`
	Byte []byte            `json:"byte"`
}

type kind string

// checkThenDecode is what Unmarshal did before it decoded in its checking
// pass: the check, then encoding/json.
func checkThenDecode(data []byte, v any, f Flags) error {
	p := parser{s: string(data), mode: modeCheck, ints: f&SafeIntegers != 0, known: f&Known != 0}
	sch := schemaOf(reflect.TypeOf(v).Elem())
	p.skipSpace()
	if sch != nil && sch.isStruct && (p.pos >= len(p.s) || p.s[p.pos] != '{') {
		return p.errorf("want a JSON object")
	}
	if _, err := p.run(sch); err != nil {
		return err
	}
	return json.Unmarshal(data, v)
}

// FuzzDecode: decoding in the checking pass gives what checking and then
// encoding/json gave, value and error, on every input (type mismatches
// and numbers out of range included).
func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{"s":"a\u00e9","n":-3,"i8":127,"u16":65535,"f32":1.5e3,"f":-0.25,"b":true,"l":["x","y"],"in":{"name":"n"},"ins":[{"name":"m"},{}],"kind":"k","Bare":"b","Skip":"x"}`,
		`{"n":1.5}`, `{"i8":128}`, `{"u16":-1}`, `{"f32":1e39}`, `{"s":1}`, `{"b":"true"}`, `{"l":null,"in":null,"s":null}`,
		`{"l":[]}`, `{"l":[1]}`, `{"ins":[null,{"name":2}]}`, `{"S":"a"}`, `{"other":{"a":[1,2]}}`, `{"n":1,"n":2}`, `[]`, ` {"s":"a"} x`,
		`{"n":9007199254740993}`, `{"in":{"NAME":"x"}}`,
		`{"p":{"name":"a"},"ps":"s","raw":[1, {"a":null}],"m":{"a":"b"},"any":{"x":[1.5,true]},"t":"2026-01-02T03:04:05Z","byte":"AQI="}`,
		`{"p":null,"ps":null,"raw":null,"m":null,"any":null}`, `{"m":{"a":1}}`, `{"t":"yesterday"}`, `{"byte":"!"}`, `{"p":{"name":1}}`, `{"ps":2}`} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, data []byte, known bool) {
		var fl Flags
		if known {
			fl = Known
		}
		var got, want plain
		gerr := Unmarshal(data, &got, fl)
		werr := checkThenDecode(data, &want, fl)
		if (gerr == nil) != (werr == nil) || gerr != nil && gerr.Error() != werr.Error() {
			t.Fatalf("Unmarshal error %v, check then decode %v", gerr, werr)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("Unmarshal = %#v, check then decode %#v", got, want)
		}
		var gs plain
		if serr := UnmarshalString(string(data), &gs, fl); (serr == nil) != (gerr == nil) || !reflect.DeepEqual(gs, got) {
			t.Fatalf("UnmarshalString = %v %#v, Unmarshal %v %#v", serr, gs, gerr, got)
		}
	})
}
