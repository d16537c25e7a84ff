package batch

import (
	"bytes"
	"testing"

	"github.com/medid/medid/registry/hospital/trail"
)

// FuzzParseAhead reads a write-ahead file as a crash, a full disk or
// another process may have left it: any bytes. It must never panic or
// return a record over the trail's entry limit, and what it returns from a
// format-3 file must write back, under the same generation, to a file that
// reads the same (so the rewrite on open loses nothing it accepted). A file
// of valid records cut at any byte (a torn write) reads as a prefix of them.
func FuzzParseAhead(f *testing.F) {
	recs := []pending{{"did:key:z6MkPatient", []byte("sealed entry 1")}, {"", []byte{0}}, {"s", bytes.Repeat([]byte{7}, 300)}}
	good := headerBytes(42)
	for _, p := range recs {
		good = append(good, recordBytes(42, p)...)
	}
	f.Add(good, uint16(len(good)))
	f.Add(append(good, make([]byte, 64)...), uint16(0))
	f.Add(append(append([]byte(nil), walMagicV2...), 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 'a', 'b'), uint16(5))
	f.Add([]byte{0, 0, 0, 1, 0, 0, 0, 1, 'a', 'b'}, uint16(3))
	f.Add(headerBytes(0)[:10], uint16(1))
	f.Fuzz(func(t *testing.T, b []byte, cut uint16) {
		got, gen := parseAhead(b)
		for _, p := range got {
			if len(p.subject) > trail.MaxEntrySize || len(p.data) > trail.MaxEntrySize {
				t.Fatalf("record over the limit: %d+%d bytes", len(p.subject), len(p.data))
			}
		}
		if bytes.HasPrefix(b, aheadMagic) {
			re := headerBytes(gen)
			for _, p := range got {
				re = append(re, recordBytes(gen, p)...)
			}
			again, gen2 := parseAhead(re)
			if gen2 != gen || !samePending(again, got) {
				t.Fatalf("rewrite reads %d records (gen %d), want %d (gen %d)", len(again), gen2, len(got), gen)
			}
			// A torn write of the rewritten file: a prefix.
			n := int(cut) % (len(re) + 1)
			torn, _ := parseAhead(re[:n])
			if len(torn) > len(got) || !samePending(torn, got[:len(torn)]) {
				t.Fatalf("file cut at %d of %d reads %d records, not a prefix of %d", n, len(re), len(torn), len(got))
			}
		}
	})
}

func samePending(a, b []pending) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].subject != b[i].subject || !bytes.Equal(a[i].data, b[i].data) {
			return false
		}
	}
	return true
}
