// Package batch is the server side of a vault's access trail: [Log]
// collects leaves (sealed entries, public record events) in a write-ahead
// file, [Log.Flush] cuts them into RFC 6962 batches and anchors each root on
// the ledger, and [Log.Entries] serves a subject's entries with their
// inclusion proofs (registry/hospital/trail has the format and the checks).
package batch

import (
	"context"
	"encoding/binary"
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
// committed (or failed).
type AnchorFunc func(ctx context.Context, a Anchor) error

// Config configures a [Log].
type Config struct {
	// Dir holds the anchored batches (one file each). Required.
	Dir string
	// Anchor submits a batch root to the ledger. Required.
	Anchor AnchorFunc
	// MaxBatch caps the entries of one batch (default 8192).
	MaxBatch int
	// Interval is how often Run cuts a batch (default 1s).
	Interval time.Duration
	Logger   *slog.Logger
}

// batchFile is a batch as stored.
type batchFile struct {
	ID       string   `json:"id"`
	Root     string   `json:"root"`
	Subjects []string `json:"subjects"` // whom each leaf concerns (a patient DID or a record id)
	Leaves   []string `json:"leaves"`
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

	mu      sync.Mutex // guards pending, wal, nextSeq and the index
	pending []pending
	// wal holds the pending leaves (length-prefixed subject and data) so a
	// process crash loses none: written on Append, fsynced by Flush before
	// anchoring, truncated once everything is anchored.
	wal     *os.File
	nextSeq int
	// bySubject indexes anchored entries: subject -> (batch, index).
	bySubject map[string][]ref
	batches   map[string]*loaded

	flushMu sync.Mutex // serialises Flush
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

// OpenLog opens (creating) the log in cfg.Dir and loads its anchored batches.
func OpenLog(cfg Config) (*Log, error) {
	if cfg.Dir == "" || cfg.Anchor == nil {
		return nil, errors.New("audit.OpenLog: Config.Dir and Config.Anchor are required")
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 8192
	}
	if cfg.Interval <= 0 {
		cfg.Interval = time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, err
	}
	l := &Log{cfg: cfg, bySubject: map[string][]ref{}, batches: map[string]*loaded{}, nextSeq: 1}
	names, err := filepath.Glob(filepath.Join(cfg.Dir, "batch-*.json"))
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			return nil, err
		}
		var f batchFile
		if err := json.Unmarshal(b, &f); err != nil {
			return nil, fmt.Errorf("audit: %s: %w", n, err)
		}
		l.index(&f)
		if seq, err := strconv.Atoi(strings.TrimPrefix(f.ID, "b")); err == nil && seq >= l.nextSeq {
			l.nextSeq = seq + 1
		}
	}
	if err := l.replay(); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *Log) walPath() string { return filepath.Join(l.cfg.Dir, "pending.wal") }

// replay queues the leaves of the write-ahead file that no anchored batch
// holds yet (a crash between storing a batch and truncating the file
// leaves some that are), then reopens the file for appending.
func (l *Log) replay() error {
	b, err := os.ReadFile(l.walPath())
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	anchored := map[trail.Hash]bool{}
	if len(b) > 0 {
		for _, ld := range l.batches {
			for _, h := range ld.leaves {
				anchored[h] = true
			}
		}
	}
	for len(b) >= 8 {
		ns, nd := int(binary.BigEndian.Uint32(b)), int(binary.BigEndian.Uint32(b[4:]))
		if ns > trail.MaxEntrySize || nd > trail.MaxEntrySize || len(b) < 8+ns+nd {
			break // a torn last record: it was never acknowledged as durable
		}
		subject, data := string(b[8:8+ns]), append([]byte(nil), b[8+ns:8+ns+nd]...)
		b = b[8+ns+nd:]
		if !anchored[trail.LeafHash(data)] {
			l.pending = append(l.pending, pending{subject, data})
		}
	}
	f, err := os.OpenFile(l.walPath(), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	l.wal = f
	for _, p := range l.pending {
		if err := l.writeWAL(p); err != nil {
			return err
		}
	}
	return f.Sync()
}

func (l *Log) writeWAL(p pending) error {
	buf := make([]byte, 8, 8+len(p.subject)+len(p.data))
	binary.BigEndian.PutUint32(buf, uint32(len(p.subject)))
	binary.BigEndian.PutUint32(buf[4:], uint32(len(p.data)))
	buf = append(append(buf, p.subject...), p.data...)
	_, err := l.wal.Write(buf)
	return err
}

// Close flushes nothing: it closes the write-ahead file. Pending entries
// are anchored by the next OpenLog's owner.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.wal == nil {
		return nil
	}
	err := l.wal.Close()
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

// Append queues one leaf concerning subject (a patient DID for a sealed
// entry). It is anchored by the next [Log.Flush].
func (l *Log) Append(subject string, data []byte) error {
	if len(data) > trail.MaxEntrySize {
		return fmt.Errorf("audit: entry of %d bytes exceeds %d", len(data), trail.MaxEntrySize)
	}
	p := pending{subject, append([]byte(nil), data...)}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.wal == nil {
		return errors.New("audit: log is closed")
	}
	if err := l.writeWAL(p); err != nil {
		return fmt.Errorf("audit: write-ahead file: %w", err)
	}
	l.pending = append(l.pending, p)
	return nil
}

// Pending returns how many entries wait for the next batch.
func (l *Log) Pending() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.pending)
}

// Flush cuts batches of at most MaxBatch pending entries, anchors each
// root through Config.Anchor and stores the batch. On an anchoring error
// the entries go back to the queue and the error is returned.
func (l *Log) Flush(ctx context.Context) error {
	l.flushMu.Lock()
	defer l.flushMu.Unlock()
	l.mu.Lock()
	if l.wal != nil && len(l.pending) > 0 {
		if err := l.wal.Sync(); err != nil {
			l.mu.Unlock()
			return fmt.Errorf("audit: sync write-ahead file: %w", err)
		}
	}
	l.mu.Unlock()
	for {
		l.mu.Lock()
		n := min(len(l.pending), l.cfg.MaxBatch)
		if n == 0 {
			// Everything is anchored and stored: start the file afresh.
			var err error
			if l.wal != nil {
				if err = l.wal.Truncate(0); err == nil {
					_, err = l.wal.Seek(0, 0)
				}
			}
			l.mu.Unlock()
			return err
		}
		cut := l.pending[:n:n]
		l.pending = l.pending[n:]
		id := fmt.Sprintf("b%010d", l.nextSeq)
		l.mu.Unlock()

		f := &batchFile{ID: id, Subjects: make([]string, n), Leaves: make([]string, n)}
		leaves := make([]trail.Hash, n)
		for i, p := range cut {
			f.Subjects[i], f.Leaves[i] = p.subject, string(p.data)
			leaves[i] = trail.LeafHash(p.data)
		}
		root := trail.Root(leaves)
		f.Root = hex.EncodeToString(root[:])
		err := l.cfg.Anchor(ctx, Anchor{BatchID: id, Root: root, Count: n})
		if err == nil {
			err = writeAtomic(filepath.Join(l.cfg.Dir, "batch-"+id[1:]+".json"), f)
		}
		l.mu.Lock()
		if err != nil {
			l.pending = append(cut, l.pending...)
			l.mu.Unlock()
			return fmt.Errorf("audit: anchor batch %s: %w", id, err)
		}
		l.nextSeq++
		l.index(f)
		l.mu.Unlock()
		l.cfg.Logger.Debug("audit batch anchored", "batch", id, "count", n)
	}
}

// Run flushes every Config.Interval until ctx is done, then flushes once
// more with a fresh 10 s context.
func (l *Log) Run(ctx context.Context) {
	t := time.NewTicker(l.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			if err := l.Flush(fctx); err != nil {
				l.cfg.Logger.Error("audit: final flush", "err", err)
			}
			cancel()
			return
		case <-t.C:
			if err := l.Flush(ctx); err != nil && ctx.Err() == nil {
				l.cfg.Logger.Warn("audit: flush", "err", err)
			}
		}
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
