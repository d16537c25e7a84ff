package ijson

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestPolicy is the one strictness policy, case by case: what every mode
// (Parse, Check, Unmarshal, Canonical) refuses alike.
func TestPolicy(t *testing.T) {
	deep := strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth)
	tooDeep := strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1)
	cases := []struct {
		name string
		in   string
		ok   bool
	}{
		{"object", `{"a":[true,false,null,"x",{}]}`, true},
		{"whitespace around", " \t\r\n{ \"a\" : [ ] }\n", true},
		{"escapes", `"\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00"`, true},
		{"raw UTF-8", `"é😀"`, true},
		{"nested to the limit", deep, true},
		{"duplicate member", `{"a":1,"a":2}`, false},
		{"duplicate after many members", `{"a0":0,"a1":1,"a2":2,"a3":3,"a4":4,"a5":5,"a6":6,"a7":7,"a8":8,"a9":9,"b0":0,"b1":1,"b2":2,"b3":3,"b4":4,"b5":5,"b6":6,"b7":7,"a3":3}`, false},
		{"duplicate by escape", `{"a":1,"\u0061":2}`, false},
		{"duplicate in nested object", `[{"x":{"y":1,"y":1}}]`, false},
		{"invalid UTF-8", "\"\xff\"", false},
		{"invalid UTF-8 after an escape", "\"\\n\xff\"", false},
		{"lone high surrogate", `"\ud800"`, false},
		{"lone low surrogate", `"\udc00"`, false},
		{"high surrogate then a letter", `"\ud800\u0041"`, false},
		{"control character", "\"a\x01\"", false},
		{"bad escape", `"\x"`, false},
		{"short unicode escape", `"\u12"`, false},
		{"trailing data", `{} {}`, false},
		{"trailing comma", `[1,]`, false},
		{"leading zero", `[01]`, false},
		{"bare fraction", `[.5]`, false},
		{"empty", ``, false},
		{"truncated", `{"a":`, false},
		{"single quotes", `{'a':1}`, false},
		{"non-string name", `{1:1}`, false},
		{"too deep", tooDeep, false},
		{"bad literal", `[tru]`, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, perr := Parse([]byte(tc.in))
			cerr := Check([]byte(tc.in), 0)
			var v any
			uerr := Unmarshal([]byte(tc.in), &v, 0)
			for _, e := range []struct {
				what string
				err  error
			}{{"Parse", perr}, {"Check", cerr}, {"Unmarshal", uerr}} {
				if (e.err == nil) != tc.ok {
					t.Errorf("%s(%q) = %v, want ok=%v", e.what, tc.in, e.err, tc.ok)
				}
				var se *SyntaxError
				if e.err != nil && !errors.As(e.err, &se) {
					t.Errorf("%s error %v is not a *SyntaxError", e.what, e.err)
				}
			}
		})
	}
}

func TestParseValues(t *testing.T) {
	got, err := Parse([]byte(`{"s":"a\u00e9","n":-1.5e3,"a":[1,null,true],"o":{}}`))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"s": "aé", "n": json.Number("-1.5e3"), "a": []any{json.Number("1"), nil, true}, "o": map[string]any{}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %#v, want %#v", got, want)
	}
}

func TestSafeIntegers(t *testing.T) {
	cases := []struct {
		in string
		ok bool
	}{
		{`[0,-5,9007199254740991,-9007199254740991]`, true},
		{`[1.5]`, false},
		{`[1e3]`, false},
		{`[1.0]`, false},
		{`[9007199254740992]`, false},
		{`[-0]`, false},
		{`[00]`, false},
		{`{"deep":[{"n":2.5}]}`, false},
	}
	for _, tc := range cases {
		if err := Check([]byte(tc.in), SafeIntegers); (err == nil) != tc.ok {
			t.Errorf("Check(%s, SafeIntegers) = %v, want ok=%v", tc.in, err, tc.ok)
		}
		if _, err := Canonical([]byte(tc.in)); (err == nil) != tc.ok {
			t.Errorf("Canonical(%s) = %v, want ok=%v", tc.in, err, tc.ok)
		}
		if err := Check([]byte(tc.in), 0); err != nil && tc.in != `[00]` {
			t.Errorf("Check(%s, 0) = %v: only SafeIntegers refuses it", tc.in, err)
		}
	}
}

func TestCanonical(t *testing.T) {
	cases := []struct {
		name, in, want string
	}{
		{"sorted and compact", `{ "b": 1, "a": [true, null, "x"] }`, `{"a":[true,null,"x"],"b":1}`},
		{"escapes", `{"s":"<\u00e9\n\u0001\"\\/>"}`, "{\"s\":\"<\u00e9\\n\\u0001\\\"\\\\/>\"}"},
		{"utf16 order", `{"\ud83d\ude00":1,"\ufb01":2}`, "{\"\U0001F600\":1,\"\ufb01\":2}"},
		{"nested", `{"a":{"d":1,"c":2}}`, `{"a":{"c":2,"d":1}}`},
		{"negative int", `[-5]`, `[-5]`},
		{"empty containers", `{"b":[],"a":{}}`, `{"a":{},"b":[]}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Canonical([]byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
	got, err := CanonicalMap([]byte(`{"X":"aXb","k":["X"]}`), func(s string) string { return strings.ReplaceAll(s, "X", "y") })
	if err != nil || string(got) != `{"X":"ayb","k":["y"]}` {
		t.Errorf("CanonicalMap = %s, %v; want member names untouched, values mapped", got, err)
	}
}

type inner struct {
	Name string `json:"name"`
}

type target struct {
	Type   string            `json:"type"`
	Count  int64             `json:"count,omitempty"`
	Inner  inner             `json:"inner"`
	List   []inner           `json:"list"`
	Raw    json.RawMessage   `json:"raw"`
	Free   map[string]string `json:"free"`
	ByName map[string]inner  `json:"byName"`
	Untag  string
	Hidden string `json:"-"`
}

func TestUnmarshal(t *testing.T) {
	cases := []struct {
		name  string
		in    string
		flags Flags
		ok    bool
	}{
		{"all fields", `{"type":"a","count":2,"inner":{"name":"n"},"list":[{"name":"m"}],"raw":{"Any":1,"any":2},"free":{"X":"1","x":"2"},"Untag":"u"}`, Known, true},
		{"unknown ignored", `{"type":"a","other":1}`, 0, true},
		{"unknown refused", `{"type":"a","other":1}`, Known, false},
		{"unknown in nested struct refused", `{"inner":{"name":"n","x":1}}`, Known, false},
		{"unknown in slice element refused", `{"list":[{"name":"n","x":1}]}`, Known, false},
		{"case variant refused", `{"Type":"a"}`, 0, false},
		{"case variant beside the exact name", `{"type":"a","TYPE":"b"}`, 0, false},
		{"case variant in nested struct", `{"inner":{"Name":"n"}}`, 0, false},
		{"map keys are free", `{"byName":{"A":{"name":"x"},"a":{"name":"y"}}}`, Known, true},
		{"struct in a map value checked", `{"byName":{"A":{"Name":"x"}}}`, 0, false},
		{"Kelvin sign fold", "{\"\u212aey\":1,\"type\":\"a\"}", 0, true}, // no field folds to it
		{"long s fold", "{\"li\u017ft\":[]}", 0, false},
		{"json:- is unknown", `{"Hidden":"x"}`, Known, false},
		{"not an object", `["type"]`, 0, false},
		{"duplicate", `{"type":"a","type":"a"}`, 0, false},
		{"float refused", `{"count":1.5}`, SafeIntegers, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var v target
			err := Unmarshal([]byte(tc.in), &v, tc.flags)
			if (err == nil) != tc.ok {
				t.Fatalf("Unmarshal = %v, want ok=%v", err, tc.ok)
			}
		})
	}
	var v target
	if err := Unmarshal([]byte(`{"type":"a","inner":{"name":"n"}}`), &v, Known); err != nil || v.Type != "a" || v.Inner.Name != "n" {
		t.Errorf("Unmarshal = %+v, %v", v, err)
	}
	if err := Unmarshal([]byte(`{}`), v, 0); err == nil {
		t.Error("Unmarshal into a non-pointer succeeded")
	}
}

type embedded struct {
	A string `json:"a"`
}

// Named is exported so that encoding/json can allocate it when embedded
// by pointer.
type Named struct {
	Name string `json:"name"`
}

type withEmbedded struct {
	embedded
	*Named
	B string `json:"b"`
}

func TestUnmarshalEmbedded(t *testing.T) {
	var v withEmbedded
	if err := Unmarshal([]byte(`{"a":"1","b":"2","name":"3"}`), &v, Known); err != nil {
		t.Fatalf("promoted fields: %v", err)
	}
	if v.A != "1" || v.B != "2" || v.Named == nil || v.Name != "3" {
		t.Errorf("decoded %+v", v)
	}
	if err := Unmarshal([]byte(`{"A":"1"}`), &v, 0); err == nil {
		t.Error("case variant of a promoted field accepted")
	}
}

type recursive struct {
	Name string       `json:"name"`
	Kids []*recursive `json:"kids"`
}

func TestUnmarshalRecursiveType(t *testing.T) {
	var v recursive
	if err := Unmarshal([]byte(`{"name":"a","kids":[{"name":"b","kids":[]}]}`), &v, Known); err != nil {
		t.Fatal(err)
	}
	if err := Unmarshal([]byte(`{"name":"a","kids":[{"Name":"b"}]}`), &v, 0); err == nil {
		t.Error("case variant two levels down accepted")
	}
}

// TestCheckValue: an embedded value is accepted exactly when checking the
// whole text would accept it, nesting counted from the text's top, and the
// returned offset is just past the value.
func TestCheckValue(t *testing.T) {
	for _, c := range []struct {
		in    string
		depth int
		n     int // -1: refused
	}{
		{`{"a":1} ,"b":2}`, 1, 7},
		{` [1,2]}`, 1, 6},
		{`"x\u0041"}`, 1, 9},
		{`12,`, 1, 2},
		{`1.5,`, 1, -1},
		{`9007199254740992`, 1, -1},
		{`{"a":1,"a":2}`, 1, -1},
		{"\"\xff\"", 1, -1},
		{`"\ud800"`, 1, -1},
		{`{"a":`, 1, -1},
		{``, 1, -1},
		{strings.Repeat("[", 199) + strings.Repeat("]", 199), 1, 398},
		{strings.Repeat("[", 200) + strings.Repeat("]", 200), 1, -1},
		{strings.Repeat("[", 200) + strings.Repeat("]", 200), 0, 400},
	} {
		n, err := CheckValue(c.in, c.depth, SafeIntegers)
		if c.n < 0 {
			if err == nil {
				t.Errorf("CheckValue(%.40q, %d) = %d, want an error", c.in, c.depth, n)
			}
			continue
		}
		if err != nil || n != c.n {
			t.Errorf("CheckValue(%.40q, %d) = %d, %v, want %d", c.in, c.depth, n, err, c.n)
		}
		// The same value inside a text at that depth: the whole check agrees.
		whole := strings.Repeat("[", c.depth) + c.in[:n] + strings.Repeat("]", c.depth)
		if err := Check([]byte(whole), SafeIntegers); err != nil {
			t.Errorf("Check of the enclosing text %.40q: %v", whole, err)
		}
	}
}

// TestDecodedInCheckingPass: the types Unmarshal decodes while checking
// (decode.go) and those it leaves to encoding/json.
func TestDecodedInCheckingPass(t *testing.T) {
	for _, tc := range []struct {
		name string
		t    reflect.Type
		want bool
	}{
		{"strings, numbers, bools, slices, nested structs", reflect.TypeFor[plain](), true},
		{"fields encoding/json decodes (maps, RawMessage)", reflect.TypeFor[target](), true},
		{"a pointer field", reflect.TypeFor[struct{ P *string }](), true},
		{"a field of a type that decodes itself", reflect.TypeFor[struct{ T time.Time }](), true},
		{"an interface", reflect.TypeFor[any](), false},
		{"a map", reflect.TypeFor[map[string]string](), false},
		{"a ,string field", reflect.TypeFor[struct {
			N int `json:"n,string"`
		}](), false},
		{"an embedded struct", reflect.TypeFor[struct{ inner }](), false},
		{"a field name encoding/json would not take", reflect.TypeFor[struct {
			N int `json:"a b"`
		}](), false},
		{"a pointer to a pointer (that field left to encoding/json)", reflect.TypeFor[struct{ P **string }](), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := planOf(tc.t) != nil; got != tc.want {
				t.Errorf("decoded while checking = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestStringScan pins what the string scan returns and where it stops, byte
// by byte: every plain ASCII byte passes as it is, raw UTF-8 too, and each
// refusal names the offset of the byte at fault (the scan's fast path must
// not move them).
func TestStringScan(t *testing.T) {
	var plain strings.Builder
	for c := byte(0x20); c < 0x80; c++ {
		if c != '"' && c != '\\' {
			plain.WriteByte(c)
		}
	}
	cases := []struct {
		name   string
		in     string
		want   string // the value, when accepted
		offset int    // the error's offset, when refused (-1: accepted)
		msg    string
	}{
		{"every plain byte", `"` + plain.String() + `"`, plain.String(), -1, ""},
		{"raw UTF-8 between ASCII", `"aé😀z"`, "aé😀z", -1, ""},
		{"escape after plain bytes", `"abc\ndef"`, "abc\ndef", -1, ""},
		{"empty", `""`, "", -1, ""},
		{"control character", "\"abc\x01\"", "", 4, "control character in string"},
		{"DEL is plain", "\"a\x7fb\"", "a\x7fb", -1, ""},
		{"invalid UTF-8 after UTF-8", "\"aé\xffz\"", "", 4, "invalid UTF-8 in string"},
		{"truncated UTF-8 at the end", "\"a\xc3", "", 2, "invalid UTF-8 in string"},
		{"unterminated", `"abc`, "", 4, "unexpected end of JSON"},
		{"unterminated after UTF-8", `"aé`, "", 4, "unexpected end of JSON"},
		{"control character after an escape", "\"a\\n\x02\"", "", 4, "control character in string"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse([]byte(tc.in))
			if tc.offset < 0 {
				if err != nil || got != tc.want {
					t.Fatalf("Parse(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
				}
				return
			}
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse(%q) = %q, %v; want a *SyntaxError", tc.in, got, err)
			}
			if se.Offset != tc.offset || se.msg != tc.msg {
				t.Errorf("Parse(%q): error at %d %q, want at %d %q", tc.in, se.Offset, se.msg, tc.offset, tc.msg)
			}
		})
	}
}
