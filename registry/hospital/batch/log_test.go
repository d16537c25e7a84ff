package batch

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/medid/medid/registry/hospital/trail"
)

func TestLogBatchesAndProofs(t *testing.T) {
	dir := t.TempDir()
	var anchors []Anchor
	failing := true
	anchor := func(_ context.Context, a Anchor) error {
		if failing {
			return errors.New("ledger down")
		}
		anchors = append(anchors, a)
		return nil
	}
	l, err := OpenLog(Config{Dir: dir, Anchor: anchor, MaxBatch: 4})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		subject := fmt.Sprint("p", i%3)
		if err := l.Append(subject, []byte(fmt.Sprint("leaf ", i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Flush(context.Background()); err == nil {
		t.Fatal("Flush succeeded with the ledger down")
	}
	if got := l.Pending(); got != 10 {
		t.Fatalf("pending after a failed anchor = %d, want 10 (nothing lost)", got)
	}
	failing = false
	if err := l.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(anchors) != 3 || anchors[0].Count != 4 || anchors[2].Count != 2 {
		t.Fatalf("anchors = %+v, want batches of 4, 4, 2", anchors)
	}
	roots := map[string]Anchor{}
	for _, a := range anchors {
		roots[a.BatchID] = a
	}
	check := func(l *Log) {
		t.Helper()
		total := 0
		for s := range 3 {
			es := l.Entries(fmt.Sprint("p", s))
			total += len(es)
			for _, e := range es {
				a := roots[e.Batch]
				if err := e.Verify(a.Root, a.Count); err != nil {
					t.Errorf("entry %s/%d: %v", e.Batch, e.Index, err)
				}
				e.Data += "x"
				if err := e.Verify(a.Root, a.Count); !errors.Is(err, trail.ErrInclusion) {
					t.Errorf("altered entry %s/%d verified", e.Batch, e.Index)
				}
			}
		}
		if total != 10 {
			t.Errorf("entries = %d, want 10", total)
		}
	}
	check(l)
	// Reopen: batches are loaded from disk, new batch ids continue.
	l2, err := OpenLog(Config{Dir: dir, Anchor: anchor, MaxBatch: 4})
	if err != nil {
		t.Fatal(err)
	}
	check(l2)
	_ = l2.Append("p0", []byte("after restart"))
	if err := l2.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := anchors[len(anchors)-1].BatchID; got != "b0000000004" {
		t.Errorf("batch id after restart = %s, want b0000000004", got)
	}
}

// A process that dies before anchoring loses no entry: the next OpenLog
// finds them in the write-ahead file and anchors each exactly once.
func TestLogCrashBeforeAnchor(t *testing.T) {
	dir := t.TempDir()
	var anchored []Anchor
	anchor := func(_ context.Context, a Anchor) error { anchored = append(anchored, a); return nil }
	l, err := OpenLog(Config{Dir: dir, Anchor: anchor})
	if err != nil {
		t.Fatal(err)
	}
	_ = l.Append("p", []byte("anchored before the crash"))
	if err := l.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if err := l.Append("p", []byte(fmt.Sprint("denied ", i))); err != nil {
			t.Fatal(err)
		}
	}
	// "Crash": no Flush, no Close.
	l2, err := OpenLog(Config{Dir: dir, Anchor: anchor})
	if err != nil {
		t.Fatal(err)
	}
	if got := l2.Pending(); got != 5 {
		t.Fatalf("pending after the crash = %d, want 5", got)
	}
	if err := l2.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := l2.Close(); err != nil {
		t.Fatal(err)
	}
	l3, err := OpenLog(Config{Dir: dir, Anchor: anchor})
	if err != nil {
		t.Fatal(err)
	}
	if got := l3.Pending(); got != 0 {
		t.Errorf("pending after anchoring = %d, want 0", got)
	}
	if got := len(l3.Entries("p")); got != 6 {
		t.Errorf("entries = %d, want 6 (each once)", got)
	}
	if len(anchored) != 2 || anchored[1].Count != 5 {
		t.Errorf("anchors = %+v", anchored)
	}
}
