package reflectleaf

import (
	"reflect"
	"testing"
	"time"
)

type inner struct {
	N    int
	Tags []string
}

type outer struct {
	A    string
	In   *inner
	List []inner
	At   time.Time
}

func TestLeaves(t *testing.T) {
	opaque := func(t reflect.Type) bool { return t == reflect.TypeOf(time.Time{}) }
	var names []string
	for _, l := range Leaves(reflect.TypeOf(outer{}), "", opaque) {
		names = append(names, l.Name)
	}
	want := []string{"A", "In.N", "In.Tags[len]", "In.Tags[0]", "List[len]", "List[0].N", "List[0].Tags[len]", "List[0].Tags[0]", "At"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("leaves %q, want %q", names, want)
	}
	if l := Leaves(reflect.TypeOf(inner{}), "root", nil); l[0].Name != "root.N" {
		t.Errorf("rooted name %q, want root.N", l[0].Name)
	}
}

func TestAtAllocatesAndSets(t *testing.T) {
	var o outer
	for _, l := range Leaves(reflect.TypeOf(o), "", func(t reflect.Type) bool { return t.PkgPath() == "time" }) {
		if l.Name == "List[0].Tags[0]" {
			At(reflect.ValueOf(&o).Elem(), l.Path).SetString("x")
		}
		if l.Name == "In.N" {
			At(reflect.ValueOf(&o).Elem(), l.Path).SetInt(7)
		}
	}
	if o.In == nil || o.In.N != 7 || len(o.List) != 1 || len(o.List[0].Tags) != 1 || o.List[0].Tags[0] != "x" {
		t.Errorf("after setting two leaves: %+v", o)
	}
}
