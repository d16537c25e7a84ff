package vault

import (
	"encoding/json"
	"hash/maphash"
	"strconv"
	"time"

	"github.com/medid/medid/registry/hospital/trail"
)

// feedLog is one client's audit events, oldest first, kept as the feed
// file's own lines: the encoded events in fixed-size byte chunks and a
// small fixed-size index per event. Neither chunks nor index hold a
// pointer, so a vault that keeps maxFeedPerClient events for each of its
// clients adds almost nothing to the garbage collector's marking (an event
// held as a struct is about twenty strings the collector scans on every
// cycle), and an event costs its encoded line and 32 bytes. Lines are
// never copied once written: old events leave by dropping whole chunks. A
// search filters on the index and decodes only the events it returns.
//
// A feedLog is append-only: add never changes bytes or slice headers a
// copy of the log (taken under FHIR.feedMu) can see (chunks are created at
// their full length and filled in place beyond what the copy indexes), so
// a search reads its copy without the lock.
type feedLog struct {
	chunks [][]byte
	base   int64 // the sequence number of chunks[0]
	fill   int   // bytes used in the last chunk
	idx    []feedIdx
	// first is the sequence number of idx[0]: how many events were
	// dropped before it. A page cursor names an event by its sequence
	// number, so dropping old events does not shift the next page.
	first int64
}

// feedChunk is the size of a chunk (a longer line gets a chunk its size).
const feedChunk = 256 << 10

// feedIdx locates one event with what a search filters on.
type feedIdx struct {
	at      int64  // the event's time, Unix nanoseconds
	patient uint64 // patientKey of the patient's DID
	chunk   int64  // the sequence number of the line's chunk
	off, n  int32  // the line (without its newline) in the chunk
}

// feedSeed keys patientKey; it only has to be the same within a process.
var feedSeed = maphash.MakeSeed()

// patientKey is a 64-bit hash of a patient DID for the index; a match is
// confirmed on the decoded event, so a collision costs a decode, never a
// wrong answer.
func patientKey(did string) uint64 { return maphash.String(feedSeed, did) }

// add returns l with the event ev, encoded as line (no newline), appended
// and the oldest events beyond limit dropped.
func (l feedLog) add(ev *feedEvent, line []byte, limit int) feedLog {
	if len(l.chunks) == 0 || l.fill+len(line) > len(l.chunks[len(l.chunks)-1]) {
		l.chunks = append(l.chunks, make([]byte, max(feedChunk, len(line))))
		l.fill = 0
	}
	last := int64(len(l.chunks)) - 1
	copy(l.chunks[last][l.fill:], line)
	l.idx = append(l.idx, feedIdx{at: ev.At.UnixNano(), patient: patientKey(ev.Access.Patient.DID),
		chunk: l.base + last, off: int32(l.fill), n: int32(len(line))})
	l.fill += len(line)
	if len(l.idx) > limit {
		l.first += int64(len(l.idx) - limit)
		l.idx = l.idx[len(l.idx)-limit:]
		if drop := l.idx[0].chunk - l.base; drop > 0 {
			l.chunks = l.chunks[drop:]
			l.base += drop
		}
	}
	return l
}

// len is the number of events.
func (l feedLog) len() int { return len(l.idx) }

// at returns the index of the event with sequence number seq: 0 if it
// was dropped, len() if it is not there yet.
func (l feedLog) at(seq int64) int {
	return int(min(max(seq-l.first, 0), int64(len(l.idx))))
}

// seq returns the sequence number of event i.
func (l feedLog) seq(i int) int64 { return l.first + int64(i) }

// time returns the time of event i.
func (l feedLog) time(i int) time.Time { return time.Unix(0, l.idx[i].at).UTC() }

// event decodes event i, or reports false if its line does not decode
// (which add never stores).
func (l feedLog) event(i int) (feedEvent, bool) {
	e := l.idx[i]
	var ev feedEvent
	if json.Unmarshal(l.chunks[e.chunk-l.base][e.off:e.off+e.n], &ev) != nil {
		return ev, false
	}
	return ev, true
}

// mayBeFor reports whether event i may be the patient's (patientKey
// matches; "" matches every event).
func (l feedLog) mayBeFor(i int, patient string, key uint64) bool {
	return patient == "" || l.idx[i].patient == key
}

// appendFeedLine appends ev encoded exactly as json.Marshal encodes it,
// and a newline, to dst: the feed file's line for the event. Every read
// writes one, and reflection was most of its cost; an event with a string
// encoding/json would escape, or a time it would refuse, takes the
// reflective encoder, so the bytes never differ
// (TestFeedLineMatchesMarshal).
func appendFeedLine(dst []byte, ev *feedEvent) ([]byte, error) {
	a := &ev.Access
	if !trail.PlainTime(ev.At) || !trail.PlainTime(a.Time) || !trail.PlainStrings(a.ID, string(a.Action), a.Client, a.ClientName, a.Server, a.ServerName,
		a.Patient.ID, a.Patient.DID, a.Record, a.Query, a.Purpose, a.Reason, a.Consent) {
		b, err := json.Marshal(ev)
		if err != nil {
			return dst, err
		}
		return append(append(dst, b...), '\n'), nil
	}
	dst = append(dst, `{"at":"`...)
	dst = ev.At.AppendFormat(dst, time.RFC3339Nano)
	dst = append(dst, `","access":{"ID":"`...)
	dst = append(dst, a.ID...)
	dst = append(dst, `","Time":"`...)
	dst = a.Time.AppendFormat(dst, time.RFC3339Nano)
	for _, f := range [...]struct{ key, val string }{{`","Action":"`, string(a.Action)}, {`","Client":"`, a.Client},
		{`","ClientName":"`, a.ClientName}, {`","Server":"`, a.Server}, {`","ServerName":"`, a.ServerName},
		{`","Patient":{"ID":"`, a.Patient.ID}, {`","DID":"`, a.Patient.DID}, {`"},"Record":"`, a.Record},
		{`","Query":"`, a.Query}, {`","Purpose":"`, a.Purpose}} {
		dst = append(dst, f.key...)
		dst = append(dst, f.val...)
	}
	dst = append(dst, `","Granted":`...)
	dst = strconv.AppendBool(dst, a.Granted)
	dst = append(dst, `,"Reason":"`...)
	dst = append(dst, a.Reason...)
	dst = append(dst, `","BreakGlass":`...)
	dst = strconv.AppendBool(dst, a.BreakGlass)
	dst = append(dst, `,"Consent":"`...)
	dst = append(dst, a.Consent...)
	return append(dst, "\"}}\n"...), nil
}
