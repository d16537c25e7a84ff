package fhir

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func addExamples(f *testing.F) {
	files, _ := filepath.Glob("testdata/examples/*.json")
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// FuzzParseResource: any input is refused with an *Error whose
// OperationOutcome is valid FHIR, or accepted as a resource that writes
// back as JSON the parser accepts again, for the same patient.
func FuzzParseResource(f *testing.F) {
	addExamples(f)
	f.Add([]byte(allergy(didRef)))
	f.Add([]byte(allergy(`{"reference":"Patient/p1"}`)))
	f.Fuzz(func(t *testing.T, data []byte) {
		p := Patient{ID: "p1", DID: didPatient}
		r, err := ParseResource(data, p)
		if err != nil {
			var fe *Error
			if !errors.As(err, &fe) || fe.Status < 400 || len(fe.Issues) == 0 {
				t.Fatalf("error %T %v", err, err)
			}
			return
		}
		out, err := r.JSON()
		if err != nil {
			t.Fatal(err)
		}
		r2, err := ParseResource(out, p)
		if err != nil {
			t.Fatalf("written resource refused: %v\n%s", err, out)
		}
		out2, _ := r2.JSON()
		if !bytes.Equal(out, out2) {
			t.Fatalf("not stable:\n%s\n%s", out, out2)
		}
	})
}

// FuzzParseTransaction: a Bundle is refused with an *Error or accepted
// with one patient and entries that each name a supported type.
func FuzzParseTransaction(f *testing.F) {
	f.Add([]byte(bundle(entry(uuidP, "POST", "Patient", `{"resourceType":"Patient","identifier":[{"system":"urn:ietf:rfc:3986","value":"`+didPatient+`"}]}`), entry(uuidA, "POST", "AllergyIntolerance", allergy(`{"reference":"`+uuidP+`"}`)))))
	f.Add([]byte(bundle(entry("", "PUT", "AllergyIntolerance/a1", `{"resourceType":"AllergyIntolerance","id":"a1","clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical","code":"active"}]},"patient":{"reference":"Patient/p1"}}`), entry("", "DELETE", "Condition/c1", ""))))
	addExamples(f)
	pts := patients{"p1": didPatient, "p2": didOther}
	f.Fuzz(func(t *testing.T, data []byte) {
		tx, err := ParseTransaction(data, pts)
		if err != nil {
			var fe *Error
			if !errors.As(err, &fe) || len(fe.Issues) == 0 {
				t.Fatalf("error %T %v", err, err)
			}
			return
		}
		if tx.Patient.DID == "" || len(tx.Entries) == 0 || len(tx.Entries) > MaxBundleEntries {
			t.Fatalf("accepted %+v", tx)
		}
		for _, e := range tx.Entries {
			if !Supported(e.Type) || (e.Resource == nil) != (e.Method == MethodDelete) {
				t.Fatalf("entry %+v", e)
			}
		}
	})
}

// FuzzParseSearch: a query is refused with an *Error, or parsed into a
// search that names at most one patient (and one, except for AuditEvent)
// with a page size in range.
func FuzzParseSearch(f *testing.F) {
	for _, s := range []string{"patient=Patient/p1", "patient=p1&_count=5&_lastUpdated=ge2026-01-01&_lastUpdated=lt2026-02-01T00:00:00Z",
		"patient:identifier=urn:ietf:rfc:3986%7C" + didPatient, "_id=p1", "_cursor=abc", "patient=p1,p2", "_lastUpdated=sa2026-02-03T10:00:00.5%2B01:00"} {
		f.Add("AllergyIntolerance", s)
		f.Add("Patient", s)
		f.Add("AuditEvent", s)
	}
	f.Fuzz(func(t *testing.T, typ, q string) {
		s, err := ParseSearch(typ, q)
		if err != nil {
			var fe *Error
			if !errors.As(err, &fe) {
				t.Fatalf("error %T %v", err, err)
			}
			return
		}
		if s.Cursor != "" {
			return
		}
		if s.Count < 1 || s.Count > MaxCount || (s.Patient.ID != "" && s.Patient.DID != "") {
			t.Fatalf("parsed %+v", s)
		}
		if typ != "AuditEvent" && s.Patient == (Patient{}) {
			t.Fatalf("no patient: %+v", s)
		}
		for _, d := range s.LastUpdated {
			if !d.End.After(d.Start) {
				t.Fatalf("empty range %+v", d)
			}
		}
	})
}

// FuzzPagerOpen: only cursors sealed under the pager's key for the client
// open (the key is fixed, so a cursor sealed in another fuzz worker opens
// too, but nothing else does: the page is always the one sealed).
func FuzzPagerOpen(f *testing.F) {
	pg, _ := NewPager(bytes.Repeat([]byte{7}, 32))
	c, _ := pg.Seal(Page{Client: "c", Type: "AllergyIntolerance", PatientID: "p1", Count: 10})
	f.Add(c, "c")
	f.Add("AAAA", "c")
	f.Fuzz(func(t *testing.T, cursor, client string) {
		p, err := pg.Open(cursor, client)
		if err == nil && (client != "c" || p.PatientID != "p1" || p.Type != "AllergyIntolerance" || p.Count != 10) {
			t.Fatalf("forged cursor opened: %+v", p)
		}
	})
}
