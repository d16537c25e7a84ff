package trail

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// AppendJSON writes the bytes encoding/json writes, on its fast path and
// on every case that falls back.
func TestAppendJSONMatchesMarshal(t *testing.T) {
	at := time.Date(2026, 12, 3, 13, 4, 5, 123456789, time.UTC)
	tests := []struct {
		name string
		e    Entry
	}{
		{"zero", Entry{}},
		{"read granted", Entry{ID: "0a1b", Time: at, Patient: "did:medid:p", Provider: "did:medid:h", Record: "r-1", Class: "AllergyIntolerance",
			Action: ActionRead, Purpose: "TREAT", Outcome: OutcomeGranted, Type: DCMPatientRecord, Consent: "ab12"}},
		{"every flag and count", Entry{ID: "x", Time: at, BreakGlass: true, Standing: true, Unauthenticated: true, Origin: "10.0.0.1", Count: -7,
			Reason: "patient unconscious", Licence: "eyJ.a.b", Grant: "g", AnchorSeal: "s"}},
		{"html in reason", Entry{ID: "x", Time: at, Reason: "a <b> & c"}},
		{"quote and newline", Entry{Reason: "say \"no\"\nnow\\"}},
		{"non-ASCII", Entry{Reason: "Zürich — ok \u2028"}},
		{"invalid UTF-8", Entry{Reason: "a\xffb"}},
		{"zone", Entry{Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 5*3600+30*60))}},
		{"zone with seconds", Entry{Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600+7))}},
		{"year 10000", Entry{Time: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}},
		{"authority", Entry{ID: "x", Authority: &Authority{Delegation: "d", Representative: "did:medid:r", Name: "Ann <Mum>", ValidUntil: at}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, werr := json.Marshal(&tt.e)
			got, gerr := tt.e.AppendJSON([]byte("prefix"))
			if (werr == nil) != (gerr == nil) {
				t.Fatalf("AppendJSON error %v, Marshal error %v", gerr, werr)
			}
			if werr != nil {
				return
			}
			if !bytes.Equal(got, append([]byte("prefix"), want...)) {
				t.Errorf("AppendJSON = %s\nwant prefix%s", got, want)
			}
		})
	}
}

func FuzzAppendJSON(f *testing.F) {
	f.Add("id", "did:medid:p", "reason <&>", "TREAT", int64(1764766800123456789), 3600, 0, false)
	f.Add("", "", "\x00\u2028é", "", int64(-62135596800000000), 0, 5, true)
	f.Fuzz(func(t *testing.T, id, patient, reason, purpose string, nanos int64, offset, count int, flag bool) {
		e := Entry{ID: id, Time: time.Unix(0, nanos).In(time.FixedZone("z", offset%(30*3600))), Patient: patient, Reason: reason,
			Purpose: purpose, Count: count, BreakGlass: flag, Standing: !flag, Origin: reason, Licence: id}
		want, werr := json.Marshal(&e)
		got, gerr := e.AppendJSON(nil)
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("AppendJSON error %v, Marshal error %v", gerr, werr)
		}
		if werr == nil && !bytes.Equal(got, want) {
			t.Fatalf("AppendJSON = %s\nwant %s", got, want)
		}
	})
}
