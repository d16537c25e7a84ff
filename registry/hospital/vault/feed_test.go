package vault

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/medid/medid/registry/hospital/balp"
	"github.com/medid/medid/registry/hospital/fhir"
)

// A feed log keeps the newest max events in order, drops the chunks that
// hold only dropped events, and a copy taken earlier still reads what it
// held.
func TestFeedLogKeepsTheNewestEvents(t *testing.T) {
	const max = 50
	t0 := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	var l feedLog
	var early feedLog
	const n = 1000
	for i := range n {
		// Every tenth event is long (a chunk holds about four of them),
		// so old chunks fill and are dropped.
		reason := "x"
		if i%10 == 0 {
			reason = strings.Repeat("r", feedChunk/4)
		}
		ev := feedEvent{At: t0.Add(time.Duration(i) * time.Second), Access: balp.Access{ID: fmt.Sprintf("ae-%d", i),
			Patient: fhir.Patient{DID: fmt.Sprintf("did:key:p%d", i%3)}, Reason: reason}}
		line, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		l = l.add(&ev, line, max)
		if i == 60 {
			early = l
		}
	}
	if l.len() != max {
		t.Fatalf("%d events kept, want %d", l.len(), max)
	}
	if len(l.chunks) > 3 || l.idx[0].chunk != l.base {
		t.Fatalf("%d chunks kept for %d events (first event in chunk %d, first chunk %d)", len(l.chunks), max, l.idx[0].chunk, l.base)
	}
	for i := range max {
		ev, ok := l.event(i)
		want := n - max + i
		if !ok || ev.Access.ID != fmt.Sprintf("ae-%d", want) || !l.time(i).Equal(t0.Add(time.Duration(want)*time.Second)) {
			t.Fatalf("event %d: %v %+v at %v", i, ok, ev.Access.ID, l.time(i))
		}
		did := fmt.Sprintf("did:key:p%d", want%3)
		if !l.mayBeFor(i, did, patientKey(did)) || !l.mayBeFor(i, "", 0) {
			t.Fatalf("event %d is not found for its patient", i)
		}
	}
	// Page cursors name events by sequence number: dropping old events
	// does not move them.
	if l.seq(0) != n-max || l.at(l.seq(7)) != 7 || l.at(0) != 0 || l.at(n+5) != l.len() {
		t.Fatalf("sequence numbers: first %d, at(seq(7)) %d, at(0) %d, at(n+5) %d", l.seq(0), l.at(l.seq(7)), l.at(0), l.at(n+5))
	}
	if early.at(l.seq(7)) != early.len() || early.seq(early.len()-1) != 60 {
		t.Fatalf("an earlier copy's numbering: last %d", early.seq(early.len()-1))
	}
	for i := range early.len() {
		if ev, ok := early.event(i); !ok || ev.Access.ID != fmt.Sprintf("ae-%d", 61-max+i) {
			t.Fatalf("the earlier copy's event %d changed: %v %s", i, ok, ev.Access.ID)
		}
	}
}

// Searches read a copy of the log without the lock while events are added
// (run under -race: add must not write what a copy reads).
func TestFeedLogCopiesReadWhileAdding(t *testing.T) {
	var mu sync.Mutex
	var l feedLog
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 2000 {
			ev := feedEvent{At: time.Unix(int64(i), 0), Access: balp.Access{ID: fmt.Sprintf("ae-%d", i), Reason: strings.Repeat("r", i%5000)}}
			line, _ := json.Marshal(ev)
			mu.Lock()
			l = l.add(&ev, line, 500)
			mu.Unlock()
		}
	}()
	for {
		select {
		case <-done:
			return
		default:
		}
		mu.Lock()
		c := l
		mu.Unlock()
		if c.len() == 0 {
			continue
		}
		for _, i := range []int{0, c.len() - 1} {
			if _, ok := c.event(i); !ok {
				t.Fatalf("event %d of a copy does not decode", i)
			}
		}
	}
}

// A feed line is json.Marshal's encoding of the event and a newline, on
// the fast path and on every case that falls back to encoding/json.
func TestFeedLineMatchesMarshal(t *testing.T) {
	at := time.Date(2026, 12, 3, 13, 4, 5, 123456789, time.UTC)
	full := balp.Access{ID: "ae-0a1b", Time: at, Action: balp.ActionRead, Client: "did:medid:ehr", ClientName: "Ward 3 EHR",
		Server: "did:medid:h", ServerName: "Riverside", Patient: fhir.Patient{ID: "p-1", DID: "did:medid:p"}, Record: "AllergyIntolerance/r-1",
		Query: "patient=p-1", Purpose: "TREAT", Granted: true, Reason: "", BreakGlass: true, Consent: "ab12"}
	with := func(f func(*balp.Access)) balp.Access { a := full; f(&a); return a }
	tests := []struct {
		name string
		ev   feedEvent
	}{
		{"zero", feedEvent{}},
		{"read", feedEvent{At: at, Access: full}},
		{"refused", feedEvent{At: at, Access: with(func(a *balp.Access) { a.Granted, a.Reason = false, "consent: expired; scope" })}},
		{"html", feedEvent{At: at, Access: with(func(a *balp.Access) { a.Reason = "a <b> & c" })}},
		{"quote", feedEvent{At: at, Access: with(func(a *balp.Access) { a.ClientName = "the \"EHR\"\n" })}},
		{"non-ASCII", feedEvent{At: at, Access: with(func(a *balp.Access) { a.ServerName = "Hôpital Zürich" })}},
		{"invalid UTF-8", feedEvent{At: at, Access: with(func(a *balp.Access) { a.Query = "q=\xff" })}},
		{"zone", feedEvent{At: at.In(time.FixedZone("x", -(3*3600 + 30*60))), Access: full}},
		{"zone with seconds", feedEvent{At: at.In(time.FixedZone("x", 61)), Access: full}},
		{"year 10000", feedEvent{At: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), Access: full}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, werr := json.Marshal(tt.ev)
			got, gerr := appendFeedLine([]byte("x"), &tt.ev)
			if (werr == nil) != (gerr == nil) {
				t.Fatalf("appendFeedLine error %v, Marshal error %v", gerr, werr)
			}
			if werr == nil && string(got) != "x"+string(want)+"\n" {
				t.Errorf("appendFeedLine = %s\nwant x%s", got, want)
			}
		})
	}
}

// The feed file holds every event of the feed in the feed's order when
// audits run concurrently (lines are written several at a time, by
// whichever audit finds no write under way), and a vault opened again
// reads the same feed back from it.
func TestFeedFileFollowsTheFeed(t *testing.T) {
	h := newFHIRHarness(t)
	const writers, each = 16, 50
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				h.f.audit(balp.Access{Time: h.clock.Now(), Action: balp.ActionRead, Client: h.ehr.DID,
					Patient: fhir.Patient{DID: h.patient.DID}, Record: fmt.Sprintf("AllergyIntolerance/w%d-%d", w, i), Granted: true})
			}
		}()
	}
	wg.Wait()
	records := func(f *FHIR) []string {
		f.feedMu.Lock()
		l := f.feed[h.ehr.DID]
		f.feedMu.Unlock()
		var out []string
		for i := range l.len() {
			ev, ok := l.event(i)
			if !ok {
				t.Fatalf("event %d does not decode", i)
			}
			out = append(out, ev.Access.Record)
		}
		return out
	}
	want := records(h.f)
	if len(want) != writers*each {
		t.Fatalf("the feed holds %d events, want %d", len(want), writers*each)
	}
	if err := h.f.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(h.f.feedFile)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		var ev feedEvent
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("feed file line %q: %v", line, err)
		}
		got = append(got, ev.Access.Record)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("the feed file's %d events differ from the feed's %d (or their order does)", len(got), len(want))
	}
	f2, err := h.v.FHIR(h.f.cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer f2.Close()
	if got := records(f2); !slices.Equal(got, want) {
		t.Errorf("the feed read back holds %d events, want the %d written, in order", len(got), len(want))
	}
}

// TestAuditIDShape: an AuditEvent id is "ae-" and 24 lowercase hex
// digits (12 random bytes), as "ae-" + randid.Hex(12) was, and ids differ.
func TestAuditIDShape(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		id := auditID()
		hexPart, ok := strings.CutPrefix(id, "ae-")
		if !ok || len(hexPart) != 24 || strings.Trim(hexPart, "0123456789abcdef") != "" {
			t.Fatalf("auditID() = %q, want ae- and 24 lowercase hex digits", id)
		}
		if seen[id] {
			t.Fatalf("auditID() repeated %q", id)
		}
		seen[id] = true
	}
}
