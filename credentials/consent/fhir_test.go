package consent

import (
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
)

func TestFHIRRoundTrip(t *testing.T) {
	pat, prov := newParty(t, 1), newParty(t, 2)
	for _, status := range []string{StatusActive, StatusInactive} {
		g := testGrant(pat, prov)
		data, err := g.MarshalFHIR(status)
		if err != nil {
			t.Fatal(err)
		}
		got, gotStatus, err := ParseFHIR(data)
		if err != nil {
			t.Fatalf("ParseFHIR: %v\n%s", err, data)
		}
		if gotStatus != status {
			t.Errorf("status = %q, want %q", gotStatus, status)
		}
		if !reflect.DeepEqual(got, g) {
			t.Errorf("round trip:\n got %+v\nwant %+v", got, g)
		}
	}
}

// TestFHIRShape checks the exported resource against the R4 Consent
// elements an R4 consumer looks for.
func TestFHIRShape(t *testing.T) {
	pat, prov := newParty(t, 1), newParty(t, 2)
	data, err := testGrant(pat, prov).MarshalFHIR(StatusActive)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	get := func(path ...any) any {
		var v any = m
		for _, p := range path {
			switch k := p.(type) {
			case string:
				v = v.(map[string]any)[k]
			case int:
				v = v.([]any)[k]
			}
		}
		return v
	}
	for _, c := range []struct {
		path []any
		want any
	}{
		{[]any{"resourceType"}, "Consent"},
		{[]any{"status"}, "active"},
		{[]any{"scope", "coding", 0, "code"}, "patient-privacy"},
		{[]any{"category", 0, "coding", 0, "system"}, "http://loinc.org"},
		{[]any{"category", 0, "coding", 0, "code"}, "59284-0"},
		{[]any{"patient", "identifier", "value"}, pat.DID},
		{[]any{"dateTime"}, "2026-02-28T23:00:00Z"},
		{[]any{"provision", "type"}, "permit"},
		{[]any{"provision", "period", "start"}, "2026-03-01T00:00:00Z"},
		{[]any{"provision", "period", "end"}, "2027-03-01T00:00:00Z"},
		{[]any{"provision", "actor", 0, "reference", "identifier", "value"}, prov.DID},
		{[]any{"provision", "action", 0, "coding", 0, "code"}, "access"},
		{[]any{"provision", "purpose", 0, "system"}, "http://terminology.hl7.org/CodeSystem/v3-ActReason"},
		{[]any{"provision", "purpose", 1, "code"}, "HRESCH"},
		{[]any{"provision", "class", 0, "system"}, "http://hl7.org/fhir/resource-types"},
		{[]any{"provision", "class", 2, "code"}, "MedicationStatement"},
		{[]any{"provision", "extension", 0, "valueBoolean"}, true},
	} {
		if got := get(c.path...); got != c.want {
			t.Errorf("%v = %v, want %v", c.path, got, c.want)
		}
	}
}

func TestParseFHIRErrors(t *testing.T) {
	pat, prov := newParty(t, 1), newParty(t, 2)
	base, err := testGrant(pat, prov).MarshalFHIR(StatusActive)
	if err != nil {
		t.Fatal(err)
	}
	edit := func(f func(m map[string]any)) []byte {
		var m map[string]any
		if err := json.Unmarshal(base, &m); err != nil {
			t.Fatal(err)
		}
		f(m)
		b, _ := json.Marshal(m)
		return b
	}
	prov0 := func(m map[string]any) map[string]any { return m["provision"].(map[string]any) }
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"not JSON", []byte("{"), "not JSON"},
		{"other resource", edit(func(m map[string]any) { m["resourceType"] = "Patient" }), "resourceType"},
		{"draft", edit(func(m map[string]any) { m["status"] = "draft" }), "status"},
		{"no scope", edit(func(m map[string]any) { delete(m, "scope") }), "scope"},
		{"wrong category", edit(func(m map[string]any) {
			m["category"] = []any{map[string]any{"coding": []any{map[string]any{"system": "http://loinc.org", "code": "64292-6"}}}}
		}), "category"},
		{"no patient", edit(func(m map[string]any) { delete(m, "patient") }), "patient"},
		{"patient not a DID", edit(func(m map[string]any) { m["patient"] = map[string]any{"reference": "Patient/123"} }), "patient must name a DID"},
		{"deny", edit(func(m map[string]any) { prov0(m)["type"] = "deny" }), "permit"},
		{"no period", edit(func(m map[string]any) { delete(prov0(m), "period") }), "period.start"},
		{"partial date", edit(func(m map[string]any) { prov0(m)["period"] = map[string]any{"start": "2026-03"} }), "full date-time"},
		{"end before start", edit(func(m map[string]any) {
			prov0(m)["period"] = map[string]any{"start": "2026-03-01T00:00:00Z", "end": "2026-02-01T00:00:00Z"}
		}), "not after validFrom"},
		{"missing actor", edit(func(m map[string]any) { delete(prov0(m), "actor") }), "provision.actor"},
		{"two actors", edit(func(m map[string]any) {
			a := prov0(m)["actor"].([]any)
			prov0(m)["actor"] = append(a, a[0])
		}), "exactly one actor"},
		{"actor not a DID", edit(func(m map[string]any) {
			prov0(m)["actor"] = []any{map[string]any{"role": map[string]any{}, "reference": map[string]any{"reference": "Practitioner/1"}}}
		}), "actor[0].reference"},
		{"unknown action", edit(func(m map[string]any) {
			prov0(m)["action"] = []any{map[string]any{"coding": []any{map[string]any{"system": SystemAction, "code": "collect-all"}}}}
		}), `unknown action code "collect-all"`},
		{"no action", edit(func(m map[string]any) { delete(prov0(m), "action") }), "no action"},
		{"unknown purpose", edit(func(m map[string]any) {
			prov0(m)["purpose"] = []any{map[string]any{"system": SystemPurpose, "code": "SELLDATA"}}
		}), `unknown purpose code "SELLDATA"`},
		{"purpose of another system", edit(func(m map[string]any) {
			prov0(m)["purpose"] = []any{map[string]any{"system": "http://snomed.info/sct", "code": "TREAT"}}
		}), "provision.purpose[0]: system"},
		{"unknown class", edit(func(m map[string]any) {
			prov0(m)["class"] = []any{map[string]any{"system": SystemResourceType, "code": "Allergies"}}
		}), `unknown class code "Allergies"`},
		{"break-glass extension without value", edit(func(m map[string]any) {
			prov0(m)["extension"] = []any{map[string]any{"url": ExtensionBreakGlass}}
		}), "valueBoolean"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := ParseFHIR(tc.data)
			if !errors.Is(err, ErrInvalidGrant) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ParseFHIR = %v, want ErrInvalidGrant containing %q", err, tc.want)
			}
		})
	}
}

// TestParseFHIRForeign reads a Consent written the way another system
// would: with id, meta, text, a relative-reference-free patient DID as
// reference, and no break-glass extension.
func TestParseFHIRForeign(t *testing.T) {
	data, err := os.ReadFile("testdata/consent-foreign.json")
	if err != nil {
		t.Fatal(err)
	}
	g, status, err := ParseFHIR(data)
	if err != nil {
		t.Fatal(err)
	}
	if status != StatusActive || g.BreakGlass || g.Provider != "did:web:hospital.example" ||
		!reflect.DeepEqual(g.Classes, []string{"AllergyIntolerance"}) || !reflect.DeepEqual(g.Purposes, []string{"TREAT", "ETREAT"}) {
		t.Errorf("ParseFHIR = %+v %s", g, status)
	}
}
