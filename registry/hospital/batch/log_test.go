package batch

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/medid/medid/registry/hospital/trail"
)

// ledger is an in-memory ledger of batch anchors with the registry's rule:
// a batch id is anchored once.
type ledger struct {
	mu      sync.Mutex
	anchors map[string]Anchor
	order   []Anchor
	down    bool
}

func newLedger() *ledger { return &ledger{anchors: map[string]Anchor{}} }

func (g *ledger) anchor(_ context.Context, a Anchor) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.down {
		return errors.New("ledger down")
	}
	if _, ok := g.anchors[a.BatchID]; ok {
		return fmt.Errorf("%w: %s", ErrAnchorExists, a.BatchID)
	}
	g.anchors[a.BatchID] = a
	g.order = append(g.order, a)
	return nil
}

func (g *ledger) lookup(_ context.Context, id string) (*Anchor, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	a, ok := g.anchors[id]
	if !ok {
		return nil, ErrNotAnchored
	}
	return &a, nil
}

func (g *ledger) config(dir string) Config {
	return Config{Dir: dir, Anchor: g.anchor, Lookup: g.lookup, MaxBatch: 4}
}

// verifyAll checks that every leaf in want is served exactly once, proven
// against the root the ledger anchored, and nothing else is served.
func verifyAll(t *testing.T, l *Log, g *ledger, subjects []string, want map[string]int) {
	t.Helper()
	got := map[string]int{}
	for _, s := range subjects {
		for _, e := range l.Entries(s) {
			a, ok := g.anchors[e.Batch]
			if !ok {
				t.Errorf("entry %s/%d is in a batch the ledger never anchored", e.Batch, e.Index)
				continue
			}
			if err := e.Verify(a.Root, a.Count); err != nil {
				t.Errorf("entry %s/%d: %v", e.Batch, e.Index, err)
			}
			got[e.Data]++
		}
	}
	for d, n := range want {
		if got[d] != n {
			t.Errorf("leaf %q served %d times, want %d", d, got[d], n)
		}
	}
	for d := range got {
		if _, ok := want[d]; !ok {
			t.Errorf("leaf %q served but never appended", d)
		}
	}
}

func TestLogBatchesAndProofs(t *testing.T) {
	dir := t.TempDir()
	g := newLedger()
	g.down = true
	l, err := OpenLog(g.config(dir))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{}
	subjects := []string{"p0", "p1", "p2"}
	for i := range 10 {
		d := fmt.Sprint("leaf ", i)
		if err := l.Append(subjects[i%3], []byte(d)); err != nil {
			t.Fatal(err)
		}
		want[d] = 1
	}
	if err := l.Flush(context.Background()); err == nil {
		t.Fatal("Flush succeeded with the ledger down")
	}
	if got := l.Pending(); got != 10 {
		t.Fatalf("pending after a failed anchor = %d, want 10 (nothing lost)", got)
	}
	if got := len(l.Entries("p0")); got != 0 {
		t.Fatalf("%d entries served before their batch was anchored", got)
	}
	g.down = false
	if err := l.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(g.order) != 3 || g.order[0].Count != 4 || g.order[2].Count != 2 {
		t.Fatalf("anchors = %+v, want batches of 4, 4, 2", g.order)
	}
	verifyAll(t, l, g, subjects, want)
	for _, e := range l.Entries("p1") {
		a := g.anchors[e.Batch]
		e.Data += "x"
		if err := e.Verify(a.Root, a.Count); !errors.Is(err, trail.ErrInclusion) {
			t.Errorf("altered entry %s/%d verified", e.Batch, e.Index)
		}
	}
	// Reopen: batches are loaded from disk, new batch ids continue.
	l2, err := OpenLog(g.config(dir))
	if err != nil {
		t.Fatal(err)
	}
	verifyAll(t, l2, g, subjects, want)
	_ = l2.Append("p0", []byte("after restart"))
	want["after restart"] = 1
	if err := l2.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := g.order[len(g.order)-1].BatchID; got != "b0000000004" {
		t.Errorf("batch id after restart = %s, want b0000000004", got)
	}
	verifyAll(t, l2, g, subjects, want)
}

// TestAppendIsDurable: when Append returns, the leaf is in the write-ahead
// file on disk (a caller releases a record only then).
func TestAppendIsDurable(t *testing.T) {
	dir := t.TempDir()
	g := newLedger()
	l, err := OpenLog(g.config(dir))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := l.Append("p", []byte(fmt.Sprint("concurrent ", i))); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	b, err := os.ReadFile(filepath.Join(dir, "pending.wal"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 64 {
		if !bytes.Contains(b, []byte(fmt.Sprint("concurrent ", i))) {
			t.Errorf("leaf %d acknowledged but not in the write-ahead file", i)
		}
	}
}

// TestUnsyncedRecordsAreNotPromised: records are written to the
// write-ahead file by the sync that makes them durable, all of a group in
// one write. A process killed after a record was appended but before its
// sync loses that record, whose Append had not returned, and no
// acknowledged one.
func TestUnsyncedRecordsAreNotPromised(t *testing.T) {
	dir := t.TempDir()
	g := newLedger()
	l, err := OpenLog(g.config(dir))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := l.Append("p", []byte(fmt.Sprint("acknowledged ", i))); err != nil {
			t.Fatal(err)
		}
	}
	l.mu.Lock() // an Append stopped dead between buffering and its sync
	if err := l.wal.append(pending{"p", []byte("in flight")}); err != nil {
		t.Fatal(err)
	}
	l.mu.Unlock()
	b, err := os.ReadFile(filepath.Join(dir, "pending.wal"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte("in flight")) {
		t.Error("a record reached the file before its sync")
	}
	l2, err := OpenLog(g.config(dir)) // the restart, without Close
	if err != nil {
		t.Fatal(err)
	}
	if got := l2.Pending(); got != 3 {
		t.Errorf("pending after the kill = %d, want the 3 acknowledged", got)
	}
}

// TestAppendFailsClosed: once the write-ahead file cannot be written, every
// Append fails with ErrUnavailable (the vault then releases nothing), also
// later ones, until the log is opened again.
func TestAppendFailsClosed(t *testing.T) {
	g := newLedger()
	l, err := OpenLog(g.config(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Append("p", []byte("fine")); err != nil {
		t.Fatal(err)
	}
	_ = l.wal.close() // the disk goes away under the log
	for i := range 3 {
		if err := l.Append("p", []byte(fmt.Sprint("lost ", i))); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("Append %d with a broken write-ahead file = %v, want ErrUnavailable", i, err)
		}
	}
	if err := l.Healthy(); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Healthy = %v, want ErrUnavailable", err)
	}
}

// crash is what AfterStep panics with to stop a flush dead at a step, as a
// SIGKILL would: nothing after it runs, and the next OpenLog sees only what
// reached the disk.
type crash struct{ step string }

// TestLogCrashAtEveryStep (issue 11 item 3): a process killed at any step
// of a flush (after cutting a batch, after the ledger committed its anchor,
// after marking it anchored, after emptying the write-ahead file, after
// writing its compacted successor, after putting that in place) loses no
// acknowledged entry, anchors none twice, and never gets stuck on a batch
// id: after every restart, every leaf ever appended is served exactly once
// with a proof against an anchored root.
func TestLogCrashAtEveryStep(t *testing.T) {
	steps := []string{"cut", "anchored", "confirmed", "truncated", "compact-written", "compacted"}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, step := range steps {
		t.Run(step, func(t *testing.T) {
			dir := t.TempDir()
			g := newLedger()
			want := map[string]int{}
			n, crashes := 0, 0
			for round := range 12 {
				cfg := g.config(dir)
				armed := round%3 != 2 // every third round runs clean
				hits := 0
				cfg.AfterStep = func(s string) {
					if armed && s == step {
						hits++
						if hits > rng.IntN(2) {
							panic(crash{s})
						}
					}
				}
				l, err := OpenLog(cfg)
				if err != nil {
					t.Fatalf("round %d: reopen: %v", round, err)
				}
				if round%4 != 3 {
					// Compact whenever a batch leaves leaves pending
					// (the default waits for a chunk of dead records).
					l.cfg.CompactAbove = 1
				}
				for range 1 + rng.IntN(9) {
					d := fmt.Sprint("leaf ", n)
					n++
					if err := l.Append("p", []byte(d)); err != nil {
						t.Fatal(err)
					}
					want[d] = 1
				}
				func() {
					defer func() {
						if r := recover(); r != nil {
							if _, ok := r.(crash); !ok {
								panic(r)
							}
							crashes++
						}
					}()
					_ = l.Flush(context.Background())
				}()
				_ = l.wal.close() // the process is gone; its descriptor too
			}
			if crashes == 0 {
				t.Fatalf("no crash at %q: the step was never reached", step)
			}
			l, err := OpenLog(g.config(dir))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(filepath.Join(dir, "pending.wal.compact")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a compaction's unfinished successor survived the reopen (%v)", err)
			}
			if err := l.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			if l.Pending() != 0 {
				t.Errorf("pending after the final flush = %d", l.Pending())
			}
			verifyAll(t, l, g, []string{"p"}, want)
			total := 0
			for _, a := range g.order {
				total += a.Count
			}
			if total != len(want) {
				t.Errorf("the ledger anchored %d leaves, %d were appended (none twice)", total, len(want))
			}
		})
	}
}

// TestLogRepairsAnchorWithoutFile: a vault of an earlier version anchored a
// batch and was killed before it wrote the batch file; on restart it cut
// the same id again and the ledger refused it as "already exists", every
// second, forever (issue 11 item 3). Now the anchored batch is rebuilt from
// the write-ahead leaves when they hash to its root, and an id anchored for
// leaves this vault does not hold is skipped.
func TestLogRepairsAnchorWithoutFile(t *testing.T) {
	for _, tc := range []struct {
		name       string
		anchoredOf int // how many of the pending leaves the lost batch held; 0: unrelated leaves
	}{
		{"prefix rebuilt", 3},
		{"all rebuilt", 5},
		{"unrelated skipped", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			g := newLedger()
			l, err := OpenLog(g.config(dir))
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]int{}
			var leaves []trail.Hash
			for i := range 5 {
				d := fmt.Sprint("read ", i)
				if err := l.Append("p", []byte(d)); err != nil {
					t.Fatal(err)
				}
				want[d] = 1
				leaves = append(leaves, trail.LeafHash([]byte(d)))
			}
			_ = l.wal.close()
			// What the old process committed before it died.
			lost := Anchor{BatchID: "b0000000001", Root: trail.Root([]trail.Hash{trail.LeafHash([]byte("someone else"))}), Count: 1}
			if tc.anchoredOf > 0 {
				lost = Anchor{BatchID: "b0000000001", Root: trail.Root(leaves[:tc.anchoredOf]), Count: tc.anchoredOf}
			}
			g.anchors[lost.BatchID] = lost
			g.order = append(g.order, lost)

			cfg := g.config(dir)
			cfg.MaxBatch = 8
			l2, err := OpenLog(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if err := l2.Flush(context.Background()); err != nil {
				t.Fatalf("flush after the lost batch: %v", err)
			}
			if l2.Pending() != 0 {
				t.Fatalf("pending = %d, want 0 (the log got stuck)", l2.Pending())
			}
			verifyAll(t, l2, g, []string{"p"}, want)
		})
	}
}

// TestReplayDropsTornTail: a record half written when the process died was
// never acknowledged; it is dropped and everything before it kept. So are
// the records of an earlier generation behind the last one.
func TestReplayDropsTornTail(t *testing.T) {
	dir := t.TempDir()
	g := newLedger()
	l, err := OpenLog(g.config(dir))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		_ = l.Append("p", []byte(fmt.Sprint("anchored ", i)))
	}
	if err := l.Flush(context.Background()); err != nil { // anchored, then emptied: a new generation
		t.Fatal(err)
	}
	for i := range 2 {
		_ = l.Append("p", []byte(fmt.Sprint("kept ", i)))
	}
	torn := recordBytes(l.wal.gen, pending{"p", []byte("torn")})
	if _, err := l.wal.f.WriteAt(torn[:len(torn)-2], l.wal.off); err != nil {
		t.Fatal(err)
	}
	_ = l.wal.close()
	l2, err := OpenLog(g.config(dir))
	if err != nil {
		t.Fatal(err)
	}
	if got := l2.Pending(); got != 2 {
		t.Errorf("pending after a torn tail = %d, want 2", got)
	}
	for _, p := range l2.pending {
		if !strings.HasPrefix(string(p.data), "kept") {
			t.Errorf("replayed %q", p.data)
		}
	}
}

// TestReadsEarlierFormats: a write-ahead file of format 1 (no checksum) or
// 2 (appended, checksummed) is read on open and rewritten as format 3.
func TestReadsEarlierFormats(t *testing.T) {
	rec1 := func(subject, data string) []byte {
		b := make([]byte, 8)
		binary.BigEndian.PutUint32(b, uint32(len(subject)))
		binary.BigEndian.PutUint32(b[4:], uint32(len(data)))
		return append(append(b, subject...), data...)
	}
	rec2 := func(subject, data string) []byte {
		b := rec1(subject, data)
		out := append(append([]byte(nil), b[:8]...), 0, 0, 0, 0)
		out = append(out, b[8:]...)
		binary.BigEndian.PutUint32(out[8:], crc32.Update(crc32.Checksum(b[:8], castagnoli), castagnoli, b[8:]))
		return out
	}
	v1 := append(rec1("p", "one"), rec1("p", "two")...)
	v2 := append(append(append([]byte(nil), walMagicV2...), rec2("p", "one")...), rec2("p", "two")...)
	for name, b := range map[string][]byte{"format 1": v1, "format 2": v2} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "pending.wal"), b, 0o600); err != nil {
				t.Fatal(err)
			}
			g := newLedger()
			l, err := OpenLog(g.config(dir))
			if err != nil {
				t.Fatal(err)
			}
			if l.Pending() != 2 {
				t.Fatalf("pending = %d, want 2", l.Pending())
			}
			head := make([]byte, len(aheadMagic))
			if _, err := l.wal.f.ReadAt(head, 0); err != nil || !bytes.Equal(head, aheadMagic) {
				t.Errorf("not rewritten as format 3: %q", head)
			}
		})
	}
}

// The group commit's wait for company: a lone appender never waits (the
// last fsync covered one record), concurrent appenders share fsyncs and
// every one of them is durable when Append returns, and a write-ahead file
// that breaks while a group waits fails every appender of the group.
func TestGroupCommitWaitsOnlyForCompany(t *testing.T) {
	dir := t.TempDir()
	g := newLedger()
	cfg := g.config(dir)
	cfg.MaxCommitDelay = time.Hour // a wait would hang the test
	l, err := OpenLog(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if err := l.Append("p", []byte(fmt.Sprint("alone ", i))); err != nil {
			t.Fatal(err)
		}
		l.mu.Lock()
		d := l.commitDelay()
		l.mu.Unlock()
		if d != 0 {
			t.Fatalf("after lone append %d the next fsync would wait %v, want 0", i, d)
		}
	}
	if got := l.Syncs(); got != 5 {
		t.Errorf("5 lone appends made %d fsyncs, want 5", got)
	}
	l.Close()

	cfg.MaxCommitDelay = 2 * time.Millisecond
	if l, err = OpenLog(cfg); err != nil {
		t.Fatal(err)
	}
	const writers, each = 16, 20
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if err := l.Append("p", []byte(fmt.Sprint("together ", w, " ", i))); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if got := l.Syncs(); got >= writers*each {
		t.Errorf("%d concurrent appends made %d fsyncs: no group shared one", writers*each, got)
	}
	l2, err := OpenLog(cfg) // a restart without Close: only what was synced
	if err != nil {
		t.Fatal(err)
	}
	if got := l2.Pending(); got != 5+writers*each {
		t.Errorf("pending after the restart = %d, want %d", got, 5+writers*each)
	}
	l2.Close()

	// Every appender of a group whose write-ahead file broke is refused.
	l.mu.Lock()
	l.lastGroup, l.lastSync = 2, time.Millisecond // the next fsync waits for company
	_ = l.wal.f.Close()                           // and the disk goes away meanwhile
	l.mu.Unlock()
	errs := make(chan error, writers)
	for w := range writers {
		go func() { errs <- l.Append("p", []byte(fmt.Sprint("lost ", w))) }()
	}
	for range writers {
		if err := <-errs; !errors.Is(err, ErrUnavailable) {
			t.Errorf("Append into a broken group = %v, want ErrUnavailable", err)
		}
	}
}

// The write-ahead file's allocation grows ahead of the appends, in the
// background: concurrent appends over many chunks leave every
// acknowledged record in place (a restart replays them all, so no growth
// wrote its zeros over one), and the appends themselves allocated at most
// a few times.
func TestWriteAheadGrowsAhead(t *testing.T) {
	dir := t.TempDir()
	g := newLedger()
	l, err := OpenLog(g.config(dir))
	if err != nil {
		t.Fatal(err)
	}
	l.mu.Lock()
	l.wal.chunk, l.wal.size = 64<<10, 64<<10 // small chunks, the first one nearly used up
	l.mu.Unlock()
	const writers, each = 16, 100
	leaf := strings.Repeat("x", 700)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if err := l.Append("p", []byte(fmt.Sprint(w, " ", i, " ", leaf))); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	l.mu.Lock()
	size, inline := l.wal.size, l.wal.inline
	l.mu.Unlock()
	if min := int64(writers * each * 700); size < min {
		t.Fatalf("allocation %d bytes for %d bytes of records", size, min)
	}
	grown := int(size/(64<<10)) - 1
	t.Logf("allocation %d chunks, %d grown, %d by the appends themselves", size/(64<<10), grown, inline)
	if inline > grown/2 {
		t.Errorf("appends allocated %d of %d chunks themselves: the growth ahead did not keep up", inline, grown)
	}
	if err := l.Close(); err != nil { // waits for a growth under way
		t.Fatal(err)
	}
	l2, err := OpenLog(g.config(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	if got := l2.Pending(); got != writers*each {
		t.Errorf("pending after a restart = %d, want all %d acknowledged", got, writers*each)
	}
}

// When the write-ahead file cannot be grown in the background, the appends
// allocate it themselves, as before, and lose nothing; the growth is not
// retried at every append.
func TestWriteAheadGrowsInlineWhenAheadFails(t *testing.T) {
	dir := t.TempDir()
	g := newLedger()
	l, err := OpenLog(g.config(dir))
	if err != nil {
		t.Fatal(err)
	}
	var logged strings.Builder
	l.cfg.Logger = slog.New(slog.NewTextHandler(&logged, nil))
	l.mu.Lock()
	l.wal.chunk, l.wal.size = 64<<10, 64<<10
	l.wal.path = filepath.Join(dir, "gone") // openAgain fails
	l.mu.Unlock()
	const n = 400
	leaf := strings.Repeat("x", 700)
	for i := range n {
		if err := l.Append("p", []byte(fmt.Sprint(i, " ", leaf))); err != nil {
			t.Fatal(err)
		}
	}
	l.mu.Lock()
	size, inline := l.wal.size, l.wal.inline
	l.mu.Unlock()
	if grown := int(size/(64<<10)) - 1; inline != grown || grown == 0 {
		t.Errorf("appends allocated %d of %d chunks, want all of them", inline, grown)
	}
	if got, most := strings.Count(logged.String(), "ahead of need"), inline+1; got > most {
		t.Errorf("%d warnings for %d chunks: the growth was retried at every append", got, inline)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l2, err := OpenLog(g.config(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	if got := l2.Pending(); got != n {
		t.Errorf("pending after a restart = %d, want all %d", got, n)
	}
}

// The write-ahead file stays bounded under steady load: with appends
// arriving all the time, a flush finds entries pending after every batch
// it anchors (it never reaches the point where nothing is pending and the
// file can simply be emptied), yet the file's allocation stays within a
// few chunks, because what a batch file holds durably is compacted away.
// Before the compaction it grew by every acknowledged read for as long as
// the load lasted. Every acknowledged leaf is still anchored exactly once.
func TestWriteAheadBoundedUnderSteadyLoad(t *testing.T) {
	dir := t.TempDir()
	g := newLedger()
	cfg := g.config(dir)
	cfg.MaxBatch = 64
	const writers, each = 16, 200
	const step = 64 // appends let in per batch cut
	// Steady load, made deterministic: the appends are let in by the
	// flush itself, `step` after each batch it cuts, and the flush goes
	// on only once they are acknowledged. So every flush finds leaves
	// pending after each batch and at its end (the file can never simply
	// be emptied), while anchoring keeps up (what is pending stays about
	// one batch: the bound is relative to it, see Log.compact).
	tokens := make(chan struct{}, writers*each)
	var acked atomic.Int64
	let := func() {
		target := min(acked.Load()+step, writers*each)
		for i := acked.Load(); i < target; i++ {
			tokens <- struct{}{}
		}
		for deadline := time.Now().Add(30 * time.Second); acked.Load() < target; {
			if time.Now().After(deadline) {
				t.Error("appends let in were not acknowledged within 30 s")
				return
			}
			time.Sleep(100 * time.Microsecond)
		}
	}
	cfg.AfterStep = func(s string) {
		if s == "cut" {
			let()
		}
	}
	l, err := OpenLog(cfg)
	if err != nil {
		t.Fatal(err)
	}
	const chunk = 64 << 10
	l.mu.Lock()
	l.wal.chunk, l.wal.size = chunk, chunk // small chunks (the file on disk is one 16 MiB chunk)
	l.mu.Unlock()
	leaf := strings.Repeat("x", 700)
	var wg sync.WaitGroup
	var mu sync.Mutex
	want := map[string]int{}
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				<-tokens
				d := fmt.Sprint(w, " ", i, " ", leaf)
				if err := l.Append("p", []byte(d)); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				want[d] = 1
				mu.Unlock()
				acked.Add(1)
			}
		}()
	}
	let() // the first batch's worth, before the first flush
	var most int64
	for acked.Load() < writers*each && !t.Failed() {
		if err := l.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		l.mu.Lock()
		most = max(most, l.wal.size, l.wal.off)
		l.mu.Unlock()
	}
	wg.Wait()
	if err := l.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	total := int64(writers * each * 720)
	t.Logf("%d bytes of records; the allocation reached %d chunks", total, most/chunk)
	if most > 4*chunk {
		t.Errorf("the write-ahead file's allocation reached %d bytes (%d chunks) for %d bytes of records: not bounded", most, most/chunk, total)
	}
	if st, err := os.Stat(filepath.Join(dir, "pending.wal")); err != nil || st.Size() > 4*chunk {
		t.Errorf("pending.wal on disk: %v, %v", st.Size(), err)
	}
	l2, err := OpenLog(cfg) // a restart without Close
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	if err := l2.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	verifyAll(t, l2, g, []string{"p"}, want)
	n := 0
	for _, a := range g.order {
		n += a.Count
	}
	if n != len(want) {
		t.Errorf("the ledger anchored %d leaves, %d were acknowledged (none twice)", n, len(want))
	}
}

// TestAppendOwnedKeepsData: Append copies the leaf, so the caller may
// reuse its buffer at once; AppendOwned keeps the caller's slice, which
// the caller leaves alone. Both make the leaf durable and anchored alike,
// and both refuse a leaf over trail.MaxEntrySize.
func TestAppendOwnedKeepsData(t *testing.T) {
	for _, tc := range []struct {
		name  string
		owned bool
	}{{"Append", false}, {"AppendOwned", true}} {
		t.Run(tc.name, func(t *testing.T) {
			g := newLedger()
			l, err := OpenLog(g.config(t.TempDir()))
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			add := l.Append
			if tc.owned {
				add = l.AppendOwned
			}
			want := map[string]int{}
			buf := make([]byte, 0, 64)
			for i := range 6 {
				if tc.owned {
					buf = fmt.Appendf(nil, "leaf %d", i) // the log keeps it: a new one each time
				} else {
					buf = fmt.Appendf(buf[:0], "leaf %d", i) // Append copied the last one
				}
				if err := add("p", buf); err != nil {
					t.Fatal(err)
				}
				want[string(buf)]++
			}
			if err := add("p", make([]byte, trail.MaxEntrySize+1)); err == nil {
				t.Error("a leaf over MaxEntrySize was accepted")
			}
			if err := l.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			verifyAll(t, l, g, []string{"p"}, want)
		})
	}
}
