// Package batch is the server side of a vault's access trail: [Log]
// collects leaves (sealed entries, public record events) in a write-ahead
// file, [Log.Flush] cuts them into RFC 6962 batches and anchors each root on
// the ledger, and [Log.Entries] serves a subject's entries with their
// inclusion proofs (registry/hospital/trail has the format and the checks).
//
// # Durability and crashes
//
// [Log.Append] returns only once the leaf is fsynced in the write-ahead file
// (concurrent appends share one fsync), so a caller that releases a record
// only after Append succeeded never releases one whose trail entry a crash
// could lose. A flush writes each batch to its own file, marked not yet
// anchored, before it submits the anchor, and marks it anchored after the
// ledger committed it; anchoring is idempotent ([ErrAnchorExists] with the
// same root counts as done), so a crash at any step is repaired by the next
// flush: a batch file never anchored is anchored, one anchored but not
// marked is confirmed against the ledger ([Config.Lookup]), and a batch id
// the ledger holds for leaves the log has no file for (a crash of an older
// version between anchoring and writing the file) is rebuilt from the
// write-ahead leaves when they hash to the anchored root, and skipped
// otherwise. docs/design/0009-vault-and-trail.md has the reasoning.
package batch

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/medid/medid/internal/atomicfile"
	"github.com/medid/medid/registry/hospital/trail"
)

// Anchor is what one audit.anchor transaction puts on the ledger for a batch.
type Anchor struct {
	BatchID string
	Root    trail.Hash
	Count   int
}

// AnchorFunc submits an anchor to the ledger and returns once it is
// committed (or failed). It MUST return an error wrapping [ErrAnchorExists]
// when the ledger already holds an anchor for a.BatchID (whatever its root).
type AnchorFunc func(ctx context.Context, a Anchor) error

// LookupFunc returns what the ledger anchored for one of this log's batch
// ids, or an error wrapping [ErrNotAnchored].
type LookupFunc func(ctx context.Context, batchID string) (*Anchor, error)

// Errors of the log.
var (
	// ErrAnchorExists: the ledger already holds an anchor for this batch id.
	ErrAnchorExists = errors.New("batch is anchored already")
	// ErrNotAnchored: the ledger holds no anchor for this batch id.
	ErrNotAnchored = errors.New("batch is not anchored")
	// ErrUnavailable: the log cannot make entries durable (a failed write
	// or fsync of the write-ahead file, or a closed log). Once a write or
	// fsync failed the log refuses every later Append until it is opened
	// again: what reached the disk is unknown, so nothing more may be
	// acknowledged on top of it.
	ErrUnavailable = errors.New("access trail unavailable")
)

// Config configures a [Log].
type Config struct {
	// Dir holds the write-ahead file and the batches (one file each).
	// Required.
	Dir string
	// Anchor submits a batch root to the ledger. Required.
	Anchor AnchorFunc
	// Lookup reads what the ledger anchored for a batch id. Required.
	Lookup LookupFunc
	// MaxBatch caps the entries of one batch (default 8192).
	MaxBatch int
	// Interval is how often Run cuts a batch (default 1s).
	Interval time.Duration
	// MaxCommitDelay bounds how long an fsync of the write-ahead file
	// waits for more appends to join it when appends arrive concurrently
	// (default 500µs; negative: never wait). See [Log.Append].
	MaxCommitDelay time.Duration
	Logger         *slog.Logger
	// AfterStep, when set, is called after each durable step of a flush:
	// "cut" (batch file written, not yet anchored), "anchored" (ledger
	// committed the root), "confirmed" (batch file marked anchored),
	// "truncated" (write-ahead file emptied), "compact-written" (the
	// write-ahead file's compacted successor written and fsynced, not yet
	// in place) and "compacted" (it replaced the file, durably). Crash
	// tests kill the process there; production leaves it nil.
	AfterStep func(step string)
	// CompactAbove is how many bytes of records whose leaves are already
	// in batch files the write-ahead file may hold before a flush
	// compacts it (see Log.Flush); 0: one allocation chunk, 16 MiB.
	// Crash tests lower it so that short runs compact.
	CompactAbove int64
}

// batchFile is a batch as stored.
type batchFile struct {
	ID       string   `json:"id"`
	Root     string   `json:"root"`
	Subjects []string `json:"subjects"` // whom each leaf concerns (a patient DID or a record id)
	Leaves   []string `json:"leaves"`
	// Unanchored marks a batch cut but not yet known to be anchored.
	Unanchored bool `json:"unanchored,omitempty"`
}

type pending struct {
	subject string
	data    []byte
}

// Log collects trail entries, anchors them in batches (one Merkle root per
// batch, one ledger transaction) and serves each entry with its inclusion
// proof. It is safe for concurrent use.
type Log struct {
	cfg Config

	mu sync.Mutex // guards everything below but the sync state
	// pending are leaves in the write-ahead file and in no batch file.
	pending []pending
	// cut are batches written to their files but not known anchored, in
	// order; their leaves are no longer pending.
	cut []*batchFile
	// wal holds the pending leaves (ahead.go has the format).
	wal     *aheadFile
	written uint64 // records ever written to wal (since open)
	broken  error  // set once a write or fsync of wal failed
	nextSeq int
	// bySubject indexes anchored entries: subject -> (batch, index).
	bySubject map[string][]ref
	batches   map[string]*loaded

	// Group commit: one appender at a time (syncing) fsyncs wal outside
	// mu; the others wait on synced (cond) and are all woken at once when
	// an fsync covers their record. A lock handed from waiter to waiter
	// instead wakes them one by one, which cost more than the fsync.
	synced  uint64     // records known durable; guarded by mu
	syncing bool       // an fsync is running outside mu; guarded by mu
	synced1 *sync.Cond // on mu: signalled when synced, syncing or paused changes
	// paused is set while a compaction switches files: no fsync starts
	// (appends only buffer), so the switch waits for at most the one
	// under way; with many appenders a new one would start before the
	// compaction got the lock back. Guarded by mu.
	paused bool
	// growing is set while a background growAhead extends the write-ahead
	// file's allocation; grew (on mu) is signalled when it ends. Guarded
	// by mu.
	growing bool
	grew    *sync.Cond
	// growFailedAt is the allocation's size when a growth last failed;
	// none is tried again at that size. Guarded by mu.
	growFailedAt int64
	// lastGroup is how many records the last fsync made durable and
	// lastSync how long it took; syncs counts fsyncs since open. Guarded
	// by mu.
	lastGroup uint64
	lastSync  time.Duration
	syncs     uint64

	flushMu sync.Mutex // serialises Flush
	// kick is a one-slot channel [Log.Kick] signals Run with.
	kick chan struct{}
}

type ref struct {
	batch string
	index int
}

type loaded struct {
	file   *batchFile
	leaves []trail.Hash
	root   trail.Hash
	proofs [][]trail.Hash // every leaf's audit path, computed on first use
}

// OpenLog opens (creating) the log in cfg.Dir, loads its batches and queues
// the write-ahead leaves no batch holds.
func OpenLog(cfg Config) (*Log, error) {
	if cfg.Dir == "" || cfg.Anchor == nil || cfg.Lookup == nil {
		return nil, errors.New("batch.OpenLog: Config.Dir, Config.Anchor and Config.Lookup are required")
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 8192
	}
	if cfg.Interval <= 0 {
		cfg.Interval = time.Second
	}
	if cfg.MaxCommitDelay == 0 {
		cfg.MaxCommitDelay = DefaultMaxCommitDelay
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, err
	}
	l := &Log{cfg: cfg, bySubject: map[string][]ref{}, batches: map[string]*loaded{}, nextSeq: 1, kick: make(chan struct{}, 1)}
	l.synced1 = sync.NewCond(&l.mu)
	l.grew = sync.NewCond(&l.mu)
	names, err := filepath.Glob(filepath.Join(cfg.Dir, "batch-*.json"))
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	inBatch := map[trail.Hash]bool{}
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			return nil, err
		}
		f := new(batchFile)
		if err := json.Unmarshal(b, f); err != nil || len(f.Subjects) != len(f.Leaves) {
			return nil, fmt.Errorf("batch: %s is corrupt (%v): restore it from a backup; the leaves may also still be in pending.wal", n, err)
		}
		for _, d := range f.Leaves {
			inBatch[trail.LeafHash([]byte(d))] = true
		}
		if f.Unanchored {
			l.cut = append(l.cut, f)
		} else {
			l.index(f)
		}
		if seq, err := strconv.Atoi(strings.TrimPrefix(f.ID, "b")); err == nil && seq >= l.nextSeq {
			l.nextSeq = seq + 1
		}
	}
	if err := l.replay(inBatch); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *Log) walPath() string { return filepath.Join(l.cfg.Dir, "pending.wal") }

func (l *Log) batchPath(id string) string {
	return filepath.Join(l.cfg.Dir, "batch-"+strings.TrimPrefix(id, "b")+".json")
}

// replay queues the leaves of the write-ahead file that no batch file holds
// (a crash after cutting a batch and before emptying the file leaves some
// that are), and rewrites the file with exactly those, durably.
func (l *Log) replay(inBatch map[trail.Hash]bool) error {
	// A compaction's successor file that a crash left before its rename:
	// the file in place is whole (see compact).
	if err := os.Remove(compactPath(l.walPath())); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("batch: write-ahead file: %w", err)
	}
	w, kept, err := openAhead(l.walPath(), func(p pending) bool { return !inBatch[trail.LeafHash(p.data)] })
	if err != nil {
		return fmt.Errorf("batch: write-ahead file: %w", err)
	}
	l.wal, l.pending = w, kept
	return nil
}

// Close closes the write-ahead file without anchoring: pending entries are
// anchored by the next OpenLog's owner. Call Flush first to anchor them now.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for l.syncing {
		l.synced1.Wait()
	}
	for l.growing {
		l.grew.Wait()
	}
	if l.wal == nil {
		return nil
	}
	err := l.wal.close()
	l.wal = nil
	return err
}

func (l *Log) index(f *batchFile) {
	ld := &loaded{file: f, leaves: make([]trail.Hash, len(f.Leaves))}
	for i, d := range f.Leaves {
		ld.leaves[i] = trail.LeafHash([]byte(d))
		l.bySubject[f.Subjects[i]] = append(l.bySubject[f.Subjects[i]], ref{f.ID, i})
	}
	ld.root = trail.Root(ld.leaves)
	l.batches[f.ID] = ld
}

// DefaultMaxCommitDelay is [Config.MaxCommitDelay]'s default.
const DefaultMaxCommitDelay = 500 * time.Microsecond

// Append adds one leaf concerning subject (a patient DID for a sealed
// entry) and returns once it is durable in the write-ahead file; the next
// [Log.Flush] anchors it. Concurrent Appends share one fsync: when the
// last fsync covered more than one record (appends are arriving
// concurrently), the appender that starts the next one first waits as
// long as the last fsync took (at most Config.MaxCommitDelay) so that the
// appends arriving meanwhile join it. Fewer, larger fsyncs cost less CPU
// and disk per append; a lone appender never waits. It returns an
// error wrapping [ErrUnavailable] when the leaf could not be made durable:
// the caller MUST then not release what the leaf records.
func (l *Log) Append(subject string, data []byte) error {
	if err := checkLeaf(subject, data); err != nil {
		return err
	}
	return l.appendOwned(subject, append([]byte(nil), data...))
}

// AppendOwned is [Log.Append] without the copy of data: the log keeps
// data until the leaf is anchored, so the caller must not change it
// after the call (the vault passes each sealed entry, which it does not
// keep, and spares a copy of every entry).
func (l *Log) AppendOwned(subject string, data []byte) error {
	if err := checkLeaf(subject, data); err != nil {
		return err
	}
	return l.appendOwned(subject, data)
}

func checkLeaf(subject string, data []byte) error {
	if len(data) > trail.MaxEntrySize || len(subject) > trail.MaxEntrySize {
		return fmt.Errorf("batch: leaf of %d bytes exceeds %d", len(data), trail.MaxEntrySize)
	}
	return nil
}

func (l *Log) appendOwned(subject string, data []byte) error {
	p := pending{subject, data}
	l.mu.Lock()
	if l.broken != nil || l.wal == nil {
		err := l.broken
		l.mu.Unlock()
		if err == nil {
			err = errors.New("log is closed")
		}
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	if err := l.walAppend(p); err != nil {
		l.broken = fmt.Errorf("write-ahead file: %w", err)
		l.mu.Unlock()
		return fmt.Errorf("%w: %v", ErrUnavailable, l.broken)
	}
	l.written++
	seq := l.written
	l.pending = append(l.pending, p)
	l.mu.Unlock()
	return l.syncTo(seq)
}

// walAppend appends p to the write-ahead file and keeps its allocation
// ahead of the appends: when less than half a chunk is left, a background
// growAhead extends it, so that appends do not write a chunk of zeros (16
// MiB, 0.2-0.3 s on a busy disk) while holding mu, which stalled every
// append and every read waiting on one. An append that still finds the
// allocation full waits for a growth under way rather than allocate the
// same range itself. The caller holds mu (which the wait releases).
func (l *Log) walAppend(p pending) error {
	for l.growing && l.wal != nil && l.wal.wouldGrow(p) {
		l.grew.Wait()
	}
	if l.wal == nil {
		return errors.New("log is closed")
	}
	a := l.wal
	if err := a.append(p); err != nil {
		return err
	}
	if !l.growing && a.needsGrowth() && a.size != l.growFailedAt {
		if f, err := a.openAgain(); err == nil {
			l.growing = true
			go l.growAhead(a, f, a.size, a.chunk)
		} else {
			l.growFailedAt = a.size
			l.cfg.Logger.Warn("trail: growing the write-ahead file ahead of need", "err", err)
		}
	}
	return nil
}

// growAhead extends a's allocation by n bytes from off (see walAppend).
// A failure costs nothing but the synchronous allocation it was meant to
// spare: no record is beyond off.
func (l *Log) growAhead(a *aheadFile, f *os.File, off, n int64) {
	err := growAhead(f, off, n)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.growing = false
	l.grew.Broadcast()
	switch {
	case err != nil:
		// Not again at this size: the append that needs the space
		// allocates it (and fails closed if it cannot).
		l.growFailedAt = off
		l.cfg.Logger.Warn("trail: growing the write-ahead file ahead of need", "err", err)
	case l.wal == a && a.size == off:
		a.size = off + n
	}
}

// syncTo returns once write-ahead record seq (1-based, since open) is
// durable. One caller at a time fsyncs, outside mu so appends go on; the
// others wait, and every record written before an fsync started is durable
// when it ends (group commit).
func (l *Log) syncTo(seq uint64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for l.synced < seq {
		if l.broken != nil || l.wal == nil {
			broken := l.broken
			if broken == nil {
				broken = errors.New("log is closed")
			}
			return fmt.Errorf("%w: %v", ErrUnavailable, broken)
		}
		if l.syncing || l.paused {
			l.synced1.Wait()
			continue
		}
		l.syncing = true
		if d := l.commitDelay(); d > 0 {
			// Let the appends in flight join this fsync. Close and
			// truncate wait for syncing to end, so wal stays.
			l.mu.Unlock()
			time.Sleep(d)
			l.mu.Lock()
		}
		f, target, w := l.wal, l.written, l.wal.takeWrite()
		l.mu.Unlock()
		// f stays open and in place meanwhile: Close and truncate wait
		// for syncing to end; appends only buffer (or allocate beyond
		// w's records).
		start := time.Now()
		err := f.sync(w)
		took := time.Since(start)
		l.mu.Lock()
		f.recycle(w)
		l.syncing = false
		l.syncs++
		if err != nil {
			l.broken = fmt.Errorf("fsync write-ahead file: %w", err)
		} else if target > l.synced {
			l.lastGroup, l.lastSync = target-l.synced, took
			l.synced = target
		}
		l.synced1.Broadcast()
	}
	return nil
}

// commitDelay is how long the next fsync waits for appends to join it:
// as long as the last one took, within Config.MaxCommitDelay, when the
// last one covered more than one record; zero otherwise. The caller holds
// mu.
func (l *Log) commitDelay() time.Duration {
	if l.lastGroup < 2 || l.cfg.MaxCommitDelay <= 0 {
		return 0
	}
	return min(l.lastSync, l.cfg.MaxCommitDelay)
}

// Syncs returns how many fsyncs of the write-ahead file the log has made
// since it was opened (appends per fsync = appends / Syncs).
func (l *Log) Syncs() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.syncs
}

// Pending returns how many entries are not yet anchored: waiting for the
// next batch, or in a batch whose anchor is not confirmed.
func (l *Log) Pending() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := len(l.pending)
	for _, f := range l.cut {
		n += len(f.Leaves)
	}
	return n
}

// Healthy returns nil, or the error that makes the log refuse appends.
func (l *Log) Healthy() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.broken != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, l.broken)
	}
	if l.wal == nil {
		return fmt.Errorf("%w: log is closed", ErrUnavailable)
	}
	return nil
}

func (l *Log) step(s string) {
	if l.cfg.AfterStep != nil {
		l.cfg.AfterStep(s)
	}
}

// Flush anchors every entry appended so far: it first finishes the batches
// an earlier flush (or process) cut but did not confirm, then cuts batches
// of at most MaxBatch pending entries, writes each to its file, anchors it
// through Config.Anchor and marks it anchored. On an error the work done so
// far stays (entries are never lost or anchored twice) and the next Flush
// resumes it.
func (l *Log) Flush(ctx context.Context) error {
	l.flushMu.Lock()
	defer l.flushMu.Unlock()
	for {
		l.mu.Lock()
		var f *batchFile
		if len(l.cut) > 0 {
			f = l.cut[0]
		}
		l.mu.Unlock()
		if f == nil {
			break
		}
		if err := l.confirm(ctx, f); err != nil {
			return err
		}
	}
	for {
		f, err := l.cutNext()
		if err != nil {
			return err
		}
		if f == nil {
			if err := l.truncate(); err != nil {
				return err
			}
			return l.compact()
		}
		l.step("cut")
		if err := l.confirm(ctx, f); err != nil {
			return err
		}
		// Under steady appends this loop may run for as long as the load
		// lasts, and it never reaches truncate with nothing pending.
		if err := l.compact(); err != nil {
			return err
		}
	}
}

// cutNext moves up to MaxBatch pending leaves into a new batch file, durably
// written and marked unanchored, or returns nil when nothing is pending.
func (l *Log) cutNext() (*batchFile, error) {
	l.mu.Lock()
	n := min(len(l.pending), l.cfg.MaxBatch)
	if n == 0 {
		l.mu.Unlock()
		return nil, nil
	}
	cut := l.pending[:n:n]
	id := fmt.Sprintf("b%010d", l.nextSeq)
	l.mu.Unlock()
	// Everything cut must be durable in the write-ahead file before it is
	// anchored: a root must never commit to a leaf a crash could lose.
	l.mu.Lock()
	seq := l.written
	l.mu.Unlock()
	if err := l.syncTo(seq); err != nil {
		return nil, err
	}
	f := &batchFile{ID: id, Subjects: make([]string, n), Leaves: make([]string, n), Unanchored: true}
	leaves := make([]trail.Hash, n)
	for i, p := range cut {
		f.Subjects[i], f.Leaves[i] = p.subject, string(p.data)
		leaves[i] = trail.LeafHash(p.data)
	}
	root := trail.Root(leaves)
	f.Root = hex.EncodeToString(root[:])
	if err := writeAtomic(l.batchPath(id), f); err != nil {
		return nil, fmt.Errorf("batch: store batch %s: %w", id, err)
	}
	l.mu.Lock()
	l.pending = l.pending[n:]
	l.cut = append(l.cut, f)
	l.nextSeq++
	l.mu.Unlock()
	return f, nil
}

// confirm anchors the cut batch f (idempotently), marks its file anchored
// and indexes it. When the ledger holds f's id for other leaves, f's
// leaves go back to the front of the queue under a new id, except that
// when the ledger's batch is a prefix of f's leaves (written by a process
// that crashed before storing its file) that prefix is stored as the
// anchored batch.
func (l *Log) confirm(ctx context.Context, f *batchFile) error {
	root, err := parseRoot(f.Root)
	if err != nil {
		return err
	}
	err = l.cfg.Anchor(ctx, Anchor{BatchID: f.ID, Root: root, Count: len(f.Leaves)})
	if errors.Is(err, ErrAnchorExists) {
		got, lerr := l.cfg.Lookup(ctx, f.ID)
		switch {
		case lerr != nil:
			return fmt.Errorf("batch: %s is anchored but cannot be read back: %w", f.ID, lerr)
		case got.Root == root && got.Count == len(f.Leaves):
			err = nil // anchored before a crash: done
		default:
			return l.reconcile(f, got)
		}
	}
	if err != nil {
		return fmt.Errorf("batch: anchor %s: %w", f.ID, err)
	}
	l.step("anchored")
	done := *f
	done.Unanchored = false
	if err := writeAtomic(l.batchPath(f.ID), &done); err != nil {
		return fmt.Errorf("batch: mark %s anchored: %w", f.ID, err)
	}
	l.step("confirmed")
	l.mu.Lock()
	l.cut = l.cut[1:]
	l.index(&done)
	l.mu.Unlock()
	l.cfg.Logger.Debug("trail batch anchored", "batch", f.ID, "count", len(f.Leaves))
	return nil
}

// reconcile handles a batch id the ledger holds for other leaves than f's.
func (l *Log) reconcile(f *batchFile, got *Anchor) error {
	var keep *batchFile
	if got.Count > 0 && got.Count <= len(f.Leaves) {
		leaves := make([]trail.Hash, got.Count)
		for i := range leaves {
			leaves[i] = trail.LeafHash([]byte(f.Leaves[i]))
		}
		if trail.Root(leaves) == got.Root {
			keep = &batchFile{ID: f.ID, Root: hex.EncodeToString(got.Root[:]),
				Subjects: f.Subjects[:got.Count], Leaves: f.Leaves[:got.Count]}
		}
	}
	from := 0
	if keep != nil {
		from = got.Count
	}
	// The leaves that go back to the queue may be only in f's file (the
	// write-ahead file is rewritten without batched leaves on open): make
	// them durable in the write-ahead file before that file changes.
	var back []pending
	for i := from; i < len(f.Leaves); i++ {
		back = append(back, pending{f.Subjects[i], []byte(f.Leaves[i])})
	}
	if err := l.rewriteAhead(back); err != nil {
		return err
	}
	if keep != nil {
		if err := writeAtomic(l.batchPath(f.ID), keep); err != nil {
			return fmt.Errorf("batch: store rebuilt batch %s: %w", f.ID, err)
		}
		l.cfg.Logger.Warn("trail batch rebuilt from the write-ahead file", "batch", f.ID, "count", got.Count)
	} else {
		if err := os.Remove(l.batchPath(f.ID)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		l.cfg.Logger.Error("trail batch id anchored for leaves this vault does not hold: skipped", "batch", f.ID)
	}
	l.mu.Lock()
	l.cut = l.cut[1:]
	if keep != nil {
		l.index(keep)
	}
	l.pending = append(back, l.pending...)
	l.mu.Unlock()
	return nil
}

// rewriteAhead appends ps to the write-ahead file (not to the queue) and
// returns once they are durable.
func (l *Log) rewriteAhead(ps []pending) error {
	if len(ps) == 0 {
		return nil
	}
	l.mu.Lock()
	if l.broken != nil || l.wal == nil {
		l.mu.Unlock()
		return fmt.Errorf("%w: write-ahead file", ErrUnavailable)
	}
	for _, p := range ps {
		if err := l.walAppend(p); err != nil {
			l.broken = fmt.Errorf("write-ahead file: %w", err)
			l.mu.Unlock()
			return fmt.Errorf("%w: %v", ErrUnavailable, l.broken)
		}
		l.written++
	}
	seq := l.written
	l.mu.Unlock()
	return l.syncTo(seq)
}

// truncate empties the write-ahead file once every leaf is in an anchored
// batch.
func (l *Log) truncate() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for l.syncing {
		l.synced1.Wait()
	}
	if len(l.pending) > 0 || len(l.cut) > 0 || l.wal == nil || l.broken != nil {
		return nil
	}
	if l.wal.empty() {
		return nil
	}
	if err := l.wal.reset(); err != nil {
		l.broken = fmt.Errorf("empty write-ahead file: %w", err)
		return fmt.Errorf("%w: %v", ErrUnavailable, l.broken)
	}
	l.synced = l.written
	l.synced1.Broadcast()
	l.step("truncated")
	return nil
}

// catchUpUnderLock is how many bytes of records appended during a
// compaction it writes while holding mu (more are written before, outside).
const catchUpUnderLock = 256 << 10

// compact replaces the write-ahead file with one holding only the pending
// leaves, once the records it holds for leaves already in batch files
// exceed Config.CompactAbove (one chunk: 16 MiB) and the pending leaves'
// records (so that the copying costs each appended byte about one copy). Under steady appends a flush
// always finds leaves pending, so truncate never empties the file, which
// would otherwise grow by every leaf for as long as the load lasts.
//
// Leaves in a batch file need no record: the batch file is durable before
// its leaves leave pending (cutNext), and OpenLog drops the records of
// leaves any batch file holds, anchored or not. So the successor holds
// l.pending, and at every step a crash leaves a write-ahead file holding
// every acknowledged leaf that is in no batch file:
//
//  1. outside mu, while appends go on into the old file: the successor is
//     written at compactPath with the leaves pending when compact began
//     (and room for the records until the next compaction), and fsynced;
//     then, until few are left, the
//     leaves appended meanwhile are added and fsynced
//     ("compact-written"). A crash leaves the old file in place, whole;
//     OpenLog removes the successor.
//  2. under mu, once no sync of the old file is under way (appends wait):
//     the few leaves appended since are written to the successor,
//     which is fsynced, renamed over the old file, and the folder fsynced;
//     then the log switches to it ("compacted"). Every leaf appended to
//     the old file, acknowledged or not, is in the successor before the
//     rename, so a crash before or after it loses nothing; the old file's
//     records of batched leaves are dropped on open either way, so nothing
//     is anchored twice.
//
// A failure before the rename leaves the old file in use and costs only
// the compaction; a failed fsync of the folder after it leaves unknown
// which file a crash would keep, so the log fails closed (ErrUnavailable).
func (l *Log) compact() error {
	l.mu.Lock()
	a := l.wal
	if a == nil || l.broken != nil || len(l.pending) == 0 {
		// Nothing pending: truncate empties the file for the price of
		// a header's write.
		l.mu.Unlock()
		return nil
	}
	above := l.cfg.CompactAbove
	if above <= 0 {
		above = a.chunk
	}
	if a.records() <= above { // cheap: a quiet vault stops here
		l.mu.Unlock()
		return nil
	}
	var live int64
	for _, p := range l.pending {
		live += int64(recordSize(p))
	}
	// Copying the live records costs about as much as the dead ones
	// take: compact only when they are at least as many, so that each
	// byte appended is copied at most about once on average however far
	// anchoring falls behind.
	if dead := a.records() - live; dead <= above || dead < live {
		l.mu.Unlock()
		return nil
	}
	// Appends only add to l.pending beyond these; only Flush (flushMu,
	// held) removes or prepends leaves.
	n := len(l.pending)
	snap := l.pending[:n:n]
	gen, chunk := a.gen+1, a.chunk
	l.mu.Unlock()

	start := time.Now()
	// Room for the records until the next compaction, plus the half chunk
	// the growth ahead keeps free: so no growth is needed before it, and
	// the zeros written per byte of records are about 1.5 (2 if this file
	// grew, as it would with one chunk of room).
	na, err := createAhead(l.walPath(), gen, chunk, min(above, 4*chunk)+chunk/2, snap)
	if err != nil {
		return fmt.Errorf("batch: compact the write-ahead file: %w", err)
	}
	// Catch up with the appends made meanwhile outside mu too (na is
	// this goroutine's alone until installed), so that the part under mu
	// writes little.
	for range 8 {
		l.mu.Lock()
		more := l.pending[n:len(l.pending):len(l.pending)]
		l.mu.Unlock()
		size := 0
		for _, p := range more {
			size += recordSize(p)
		}
		if size <= catchUpUnderLock {
			break
		}
		if err := na.appendSynced(more); err != nil {
			na.discard()
			return fmt.Errorf("batch: compact the write-ahead file: %w", err)
		}
		n += len(more)
	}
	l.step("compact-written")
	written := time.Since(start)
	l.mu.Lock()
	locked := time.Now()
	l.paused = true
	unlock := func() { // every way out of this part
		l.paused = false
		l.synced1.Broadcast()
		l.mu.Unlock()
	}
	for l.syncing {
		l.synced1.Wait()
	}
	if l.wal != a || l.broken != nil { // closed or broken meanwhile
		unlock()
		na.discard()
		return nil
	}
	if err := na.appendSynced(l.pending[n:]); err != nil {
		unlock()
		na.discard()
		return fmt.Errorf("batch: compact the write-ahead file: %w", err)
	}
	if err := na.install(); err != nil {
		if _, serr := os.Stat(compactPath(l.walPath())); serr == nil {
			// Not renamed: the old file is still in place.
			unlock()
			na.discard()
			return fmt.Errorf("batch: compact the write-ahead file: %w", err)
		}
		l.broken = fmt.Errorf("replace the write-ahead file: %w", err)
		na.f.Close()
		unlock()
		return fmt.Errorf("%w: %v", ErrUnavailable, l.broken)
	}
	na.inline = a.inline
	l.wal = na
	a.f.Close() // its unsynced buffer is in na; a growth under way writes through its own descriptor
	l.growFailedAt = 0
	l.synced = l.written // every leaf appended so far is durable in na
	held, kept, tail := time.Since(locked), len(l.pending), len(l.pending)-n
	unlock()
	// How long the appends waited (held) is what a compaction costs the
	// reads; written ran beside them.
	l.cfg.Logger.Debug("trail write-ahead file compacted", "kept", kept, "written", written, "held", held, "under-lock", tail)
	l.step("compacted")
	return nil
}

func parseRoot(s string) (trail.Hash, error) {
	var h trail.Hash
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != len(h) {
		return h, fmt.Errorf("batch: root %.80q is not a hex SHA-256", s)
	}
	copy(h[:], b)
	return h, nil
}

// Run flushes every Config.Interval until ctx is done, then flushes once
// more with a fresh 10 s context. [Log.Kick] asks for a flush sooner.
func (l *Log) Run(ctx context.Context) {
	t := time.NewTicker(l.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			if err := l.Flush(fctx); err != nil {
				l.cfg.Logger.Error("trail: final flush", "err", err)
			}
			cancel()
			return
		case <-t.C:
		case <-l.kick:
		}
		if err := l.Flush(ctx); err != nil && ctx.Err() == nil {
			l.cfg.Logger.Warn("trail: flush", "err", err)
		}
	}
}

// Kick asks a running [Log.Run] to flush now instead of at the next tick
// (a break-glass access must reach the patient at once). It never blocks.
func (l *Log) Kick() {
	select {
	case l.kick <- struct{}{}:
	default:
	}
}

// Entries returns the anchored entries concerning subject, oldest first,
// each with its inclusion proof.
func (l *Log) Entries(subject string) []trail.Proved {
	l.mu.Lock()
	defer l.mu.Unlock()
	refs := l.bySubject[subject]
	out := make([]trail.Proved, 0, len(refs))
	for _, r := range refs {
		b := l.batches[r.batch]
		if b.proofs == nil {
			// All paths at once: O(n log n) for the batch instead of
			// O(n) per entry.
			b.proofs = trail.ProveAll(b.leaves)
		}
		path := b.proofs[r.index]
		ps := make([]string, len(path))
		for i, h := range path {
			ps[i] = hex.EncodeToString(h[:])
		}
		out = append(out, trail.Proved{Batch: r.batch, Index: r.index, Count: len(b.leaves),
			Root: b.file.Root, Proof: ps, Data: b.file.Leaves[r.index]})
	}
	return out
}

// writeAtomic writes v as JSON to path through a temporary file, fsync and
// rename.
func writeAtomic(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, b, 0o600)
}
