package machine

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/cosmos/iavl"
	"github.com/syndtr/goleveldb/leveldb"
	"github.com/syndtr/goleveldb/leveldb/opt"

	"github.com/medid/medid/internal/atomicfile"
	"github.com/medid/medid/registry/ledger"
)

// State sync snapshots (docs/design/0021).
//
// A snapshot of state version H is the IAVL export of that version (every
// node, post-order, as iavl.Exporter yields it), so the importer rebuilds
// the identical tree and the identical app hash. The node stream is
//
//	record = height (1 byte, int8) | uvarint version | uvarint len(key) | key |
//	         uvarint (0 for no value, else len(value)+1) | value
//
// compressed with gzip (best speed; the same bytes on every node, so a
// joining node can fetch chunks of one snapshot from several peers) and
// cut into chunks of SnapshotChunkSize bytes. The metadata lists the
// SHA-256 of every chunk; the snapshot's hash is the SHA-256 of that list.
// A restoring node checks each chunk against the list as it arrives and,
// at the end, the tree's root hash against the app hash CometBFT's light
// client verified (RequestOfferSnapshot.AppHash): a peer can waste a
// restore, never make a node accept a wrong state.

// SnapshotFormat is the only snapshot format this version writes and reads.
const SnapshotFormat uint32 = 1

// SnapshotChunkSize is the size of every chunk but the last.
const SnapshotChunkSize = 4 << 20

// Limits on what a restore accepts from peers.
const (
	maxSnapshotChunks = 16384 // 64 GiB compressed
	maxExportKey      = 4096
	maxExportValue    = 4 << 20
	// maxPendingNodes bounds the subtrees of a node stream waiting for
	// their parent: one per level plus the newest, and a node's height is
	// an int8.
	maxPendingNodes = 129
)

// snapshotMeta is abci.Snapshot.Metadata (JSON). It holds nothing local
// (no creation time), so every node writes the same metadata for the same
// state.
type snapshotMeta struct {
	Format uint32   `json:"format"`
	Height int64    `json:"height"`
	Nodes  int64    `json:"nodes"`
	Chunks [][]byte `json:"chunks"`
}

func snapshotHash(chunks [][]byte) []byte {
	h := sha256.New()
	for _, c := range chunks {
		h.Write(c)
	}
	return h.Sum(nil)
}

// snapshotDir is where snapshot h lives.
func (a *App) snapshotDir(h int64) string {
	return filepath.Join(a.cfg.SnapshotDir, fmt.Sprintf("%020d", h))
}

// maybeSnapshot starts the snapshot of version v in the background when v
// falls on the interval and no other snapshot is being written. Called by
// Commit with wmu held.
func (a *App) maybeSnapshot(v int64) {
	if a.cfg.SnapshotInterval <= 0 || v%a.cfg.SnapshotInterval != 0 {
		return
	}
	if f := a.catchingUp.Load(); f != nil && (*f)() {
		a.log.Info("snapshot skipped: the node is catching up with the network", "height", v)
		return
	}
	if !a.exporting.CompareAndSwap(0, v) {
		a.log.Warn("snapshot skipped: the previous one is still being written", "height", v, "writing", a.exporting.Load())
		return
	}
	a.bg.Add(1)
	go func() {
		defer a.bg.Done()
		defer a.exporting.Store(0)
		start := time.Now()
		meta, err := a.writeSnapshot(a.bgCtx, v)
		if err != nil {
			a.log.Error("snapshot failed", "height", v, "err", err)
			return
		}
		a.lastSnapshot.Store(&snapshotInfo{height: v, at: time.Now()})
		a.log.Info("snapshot written", "height", v, "chunks", len(meta.Chunks), "nodes", meta.Nodes, "took", time.Since(start).Round(time.Millisecond))
		a.pruneSnapshots()
	}()
}

// PauseSnapshotsWhile makes Commit skip the snapshots that fall due
// while catchingUp reports true (the node's CometBFT is block-syncing:
// after a state sync join or a restart behind the network). Such a node
// replays blocks the network snapshotted long ago; exporting the whole
// tree then took a third of a joining node's CPU and slowed its catch-up,
// and serves no peer (theirs are newer). Snapshots are per-node and
// optional, so skipping some changes no state. Call it before the node
// starts; catchingUp must be safe to call from Commit.
func (a *App) PauseSnapshotsWhile(catchingUp func() bool) {
	a.catchingUp.Store(&catchingUp)
}

// snapshotInfo is the newest snapshot this process wrote or found.
type snapshotInfo struct {
	height int64
	at     time.Time
}

// LastSnapshot returns the height and time of the newest snapshot (0 and
// the zero time when there is none), for the snapshot age metric.
func (a *App) LastSnapshot() (int64, time.Time) {
	if s := a.lastSnapshot.Load(); s != nil {
		return s.height, s.at
	}
	return 0, time.Time{}
}

// WaitSnapshots waits until no snapshot is being written (for tests and
// benchmarks that read snapshots right after the block that made them).
func (a *App) WaitSnapshots(ctx context.Context) error {
	for a.exporting.Load() != 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
	return nil
}

// writeSnapshot exports version v into the snapshot folder (through a
// temporary folder renamed into place, so a listed snapshot is complete).
func (a *App) writeSnapshot(ctx context.Context, v int64) (*snapshotMeta, error) {
	tree, err := a.reader.GetImmutable(v)
	if err != nil {
		return nil, fmt.Errorf("open version %d: %w", v, err)
	}
	if err := os.MkdirAll(a.cfg.SnapshotDir, 0o700); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(a.cfg.SnapshotDir, ".tmp-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	cw := &chunkWriter{dir: tmp}
	meta, err := exportTree(ctx, tree, cw)
	if err != nil {
		return nil, err
	}
	meta.Height = v
	b, err := json.Marshal(meta)
	if err != nil {
		return nil, err
	}
	if err := atomicfile.WriteFile(filepath.Join(tmp, "meta.json"), b, 0o600); err != nil {
		return nil, err
	}
	final := a.snapshotDir(v)
	_ = os.RemoveAll(final)
	if err := os.Rename(tmp, final); err != nil {
		return nil, err
	}
	atomicfile.SyncDir(a.cfg.SnapshotDir)
	return meta, nil
}

// exportTree streams tree's nodes into w as the snapshot format says.
func exportTree(ctx context.Context, tree *iavl.ImmutableTree, w *chunkWriter) (*snapshotMeta, error) {
	exp, err := tree.Export()
	if err != nil {
		return nil, err
	}
	defer exp.Close()
	zw, err := gzip.NewWriterLevel(w, gzip.BestSpeed)
	if err != nil {
		return nil, err
	}
	bw := bufio.NewWriterSize(zw, 256<<10)
	var n int64
	var hdr [3 * binary.MaxVarintLen64]byte
	for {
		if n%4096 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		node, err := exp.Next()
		if errors.Is(err, iavl.ErrorExportDone) {
			break
		}
		if err != nil {
			return nil, err
		}
		i := 0
		hdr[i] = byte(node.Height)
		i++
		i += binary.PutUvarint(hdr[i:], uint64(node.Version))
		i += binary.PutUvarint(hdr[i:], uint64(len(node.Key)))
		if _, err := bw.Write(hdr[:i]); err != nil {
			return nil, err
		}
		if _, err := bw.Write(node.Key); err != nil {
			return nil, err
		}
		vl := uint64(0)
		if node.Value != nil {
			vl = uint64(len(node.Value)) + 1
		}
		i = binary.PutUvarint(hdr[:], vl)
		if _, err := bw.Write(hdr[:i]); err != nil {
			return nil, err
		}
		if _, err := bw.Write(node.Value); err != nil {
			return nil, err
		}
		n++
	}
	if err := bw.Flush(); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return &snapshotMeta{Format: SnapshotFormat, Nodes: n, Chunks: w.hashes}, nil
}

// chunkWriter cuts a stream into chunk files of SnapshotChunkSize bytes,
// each synced, and records their SHA-256.
type chunkWriter struct {
	dir    string
	f      *os.File
	size   int
	hashes [][]byte
	sum    hash.Hash
}

func chunkName(i int) string { return fmt.Sprintf("chunk-%06d", i) }

func (c *chunkWriter) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		if c.f == nil {
			f, err := os.OpenFile(filepath.Join(c.dir, chunkName(len(c.hashes))), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
			if err != nil {
				return written, err
			}
			c.f, c.size = f, 0
			if c.sum == nil {
				c.sum = sha256.New()
			}
			c.sum.Reset()
		}
		n := min(len(p), SnapshotChunkSize-c.size)
		if _, err := c.f.Write(p[:n]); err != nil {
			return written, err
		}
		c.sum.Write(p[:n])
		c.size += n
		written += n
		p = p[n:]
		if c.size == SnapshotChunkSize {
			if err := c.finish(); err != nil {
				return written, err
			}
		}
	}
	return written, nil
}

func (c *chunkWriter) finish() error {
	if c.f == nil {
		return nil
	}
	if err := c.f.Sync(); err != nil {
		return err
	}
	if err := c.f.Close(); err != nil {
		return err
	}
	c.hashes = append(c.hashes, c.sum.Sum(nil))
	c.f = nil
	return nil
}

func (c *chunkWriter) Close() error { return c.finish() }

// snapshots lists the complete snapshots on disk, newest first.
func (a *App) snapshots() ([]abci.Snapshot, error) {
	entries, err := os.ReadDir(a.cfg.SnapshotDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []abci.Snapshot
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		h, err := strconv.ParseInt(e.Name(), 10, 64)
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join(a.cfg.SnapshotDir, e.Name(), "meta.json"))
		if err != nil {
			continue
		}
		var m snapshotMeta
		if err := json.Unmarshal(b, &m); err != nil || m.Height != h || m.Format != SnapshotFormat {
			continue
		}
		out = append(out, abci.Snapshot{Height: uint64(h), Format: m.Format, Chunks: uint32(len(m.Chunks)), Hash: snapshotHash(m.Chunks), Metadata: b})
	}
	slices.SortFunc(out, func(x, y abci.Snapshot) int {
		if x.Height > y.Height {
			return -1
		}
		if x.Height < y.Height {
			return 1
		}
		return 0
	})
	return out, nil
}

// snapshotGrace is how long a snapshot offered to a peer, or one whose
// chunk was served, outlives its turn to be pruned: a joining node picks a
// snapshot from the offers it collected during discovery (CometBFT waits
// at least 5 s) and then fetches its chunks, and a snapshot deleted in
// between leaves it retrying a chunk nobody has ("cannot add nil chunk")
// until it gives up. A few minutes covers discovery and the transfer of a
// large state; on a network that snapshots every 1,000 blocks it keeps at
// most one snapshot more, for a few minutes.
const snapshotGrace = 3 * time.Minute

// markOffered notes that snapshot h was offered or served just now.
func (a *App) markOffered(h int64) {
	a.offeredMu.Lock()
	defer a.offeredMu.Unlock()
	if a.offered == nil {
		a.offered = map[int64]time.Time{}
	}
	a.offered[h] = time.Now()
}

// pruneSnapshots removes all but the newest SnapshotKeep snapshots, except
// one offered to a peer within snapshotGrace (it goes at a later pruning).
func (a *App) pruneSnapshots() {
	list, err := a.snapshots()
	if err != nil {
		a.log.Warn("list snapshots", "err", err)
		return
	}
	now := time.Now()
	a.offeredMu.Lock()
	defer a.offeredMu.Unlock()
	for i, s := range list {
		h := int64(s.Height)
		if i < a.cfg.SnapshotKeep {
			continue
		}
		if at, ok := a.offered[h]; ok && now.Sub(at) < snapshotGrace {
			continue
		}
		delete(a.offered, h)
		if err := os.RemoveAll(a.snapshotDir(h)); err != nil {
			a.log.Warn("remove an old snapshot", "height", s.Height, "err", err)
		}
	}
}

// oldestSnapshot is the height of the oldest snapshot kept (0: none).
func (a *App) oldestSnapshot() int64 {
	list, err := a.snapshots()
	if err != nil || len(list) == 0 {
		return 0
	}
	return int64(list[len(list)-1].Height)
}

// ListSnapshots offers the snapshots on disk to peers that state sync.
func (a *App) ListSnapshots(context.Context, *abci.RequestListSnapshots) (*abci.ResponseListSnapshots, error) {
	list, err := a.snapshots()
	if err != nil {
		return nil, err
	}
	out := make([]*abci.Snapshot, len(list))
	for i := range list {
		out[i] = &list[i]
		a.markOffered(int64(list[i].Height))
	}
	return &abci.ResponseListSnapshots{Snapshots: out}, nil
}

// LoadSnapshotChunk returns one chunk of a snapshot on disk (empty when it
// is gone: pruned meanwhile).
func (a *App) LoadSnapshotChunk(_ context.Context, req *abci.RequestLoadSnapshotChunk) (*abci.ResponseLoadSnapshotChunk, error) {
	if req.Format != SnapshotFormat {
		return &abci.ResponseLoadSnapshotChunk{}, nil
	}
	b, err := os.ReadFile(filepath.Join(a.snapshotDir(int64(req.Height)), chunkName(int(req.Chunk))))
	if err != nil {
		return &abci.ResponseLoadSnapshotChunk{}, nil
	}
	a.markOffered(int64(req.Height))
	return &abci.ResponseLoadSnapshotChunk{Chunk: b}, nil
}

// restore is a state sync in progress.
type restore struct {
	meta    snapshotMeta
	appHash []byte
	next    int
	pw      *io.PipeWriter
	done    chan error
	once    sync.Once
	err     error
	// feed writes the latest-DID index entries of the imported leaves as
	// they pass (nil: the index is rebuilt after the import; see
	// OfferSnapshot).
	feed *indexFeed
	// started is when the offer was accepted, imported when the import
	// ended (for the log).
	started, imported time.Time
}

// wait returns the import's result once it has ended.
func (r *restore) wait() error {
	r.once.Do(func() { r.err = <-r.done })
	return r.err
}

// OfferSnapshot accepts a snapshot to restore when the state is empty and
// the snapshot is in this format, with consistent metadata.
func (a *App) OfferSnapshot(_ context.Context, req *abci.RequestOfferSnapshot) (*abci.ResponseOfferSnapshot, error) {
	a.wmu.Lock()
	defer a.wmu.Unlock()
	reject := &abci.ResponseOfferSnapshot{Result: abci.ResponseOfferSnapshot_REJECT}
	if req.Snapshot == nil {
		return reject, nil
	}
	if h, _ := a.LastCommit(); h != 0 {
		a.log.Warn("refused a snapshot: the state is not empty", "height", h)
		return &abci.ResponseOfferSnapshot{Result: abci.ResponseOfferSnapshot_ABORT}, nil
	}
	if req.Snapshot.Format != SnapshotFormat {
		return &abci.ResponseOfferSnapshot{Result: abci.ResponseOfferSnapshot_REJECT_FORMAT}, nil
	}
	var m snapshotMeta
	dec := json.NewDecoder(bytes.NewReader(req.Snapshot.Metadata))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil || m.Format != SnapshotFormat || m.Height != int64(req.Snapshot.Height) ||
		len(m.Chunks) == 0 || len(m.Chunks) > maxSnapshotChunks || uint32(len(m.Chunks)) != req.Snapshot.Chunks ||
		!bytes.Equal(snapshotHash(m.Chunks), req.Snapshot.Hash) || len(req.AppHash) != sha256.Size {
		a.log.Warn("refused a snapshot with inconsistent metadata", "height", req.Snapshot.Height)
		return reject, nil
	}
	for _, c := range m.Chunks {
		if len(c) != sha256.Size {
			return reject, nil
		}
	}
	a.abortRestore()
	// The import and the index entries written while it runs assume an
	// empty database: whatever a restore that stopped without ending
	// (the process was killed) left in it is removed first. Its nodes
	// would otherwise stay beside the imported ones, and its index entries
	// could describe keys this snapshot does not hold.
	if err := a.wipeLeftovers(); err != nil {
		return nil, fmt.Errorf("empty the state database before a restore: %w", err)
	}
	// Marked before the first imported node is written, unmarked once the
	// restored version is published: a process stopped in between (IAVL
	// flushes imported nodes in batches, with no root until the end) finds
	// the mark when it starts again and empties the database instead of
	// failing to load a version that has nodes but no root (New).
	if err := a.db.RawDB().Put(restoringKey, nil, &opt.WriteOptions{Sync: true}); err != nil {
		return nil, fmt.Errorf("mark the state database as restoring: %w", err)
	}
	pr, pw := io.Pipe()
	r := &restore{meta: m, appHash: bytes.Clone(req.AppHash), pw: pw, done: make(chan error, 1), started: time.Now()}
	if a.expectedLayout() == ledger.LayoutEveryVersion && !a.indexAfterImport {
		// The index copies each record: write the copies as the leaves
		// pass instead of walking the whole restored tree afterwards
		// (which took two thirds of a 100,000-DID restore's CPU).
		r.feed = newIndexFeed(a.idx, m.Height)
	}
	imp, err := a.tree.Import(m.Height)
	if err != nil {
		return nil, fmt.Errorf("start the import of snapshot %d: %w", m.Height, err)
	}
	go func() {
		var leaf func(k, v []byte) error
		if r.feed != nil {
			leaf = r.feed.add
		}
		err := importStream(pr, imp, leaf)
		if r.feed != nil {
			// Every entry is written before the tree's version is (the
			// import's last write is synced), and none is used before
			// the restored version is published (see ApplySnapshotChunk).
			if ferr := r.feed.close(err == nil); err == nil {
				err = ferr
			}
		}
		if err == nil {
			err = imp.Commit()
		} else {
			imp.Close()
		}
		r.imported = time.Now()
		pr.CloseWithError(err) // unblocks the writer if the import stopped early
		r.done <- err
	}()
	a.restoring = r
	a.log.Info("restoring a snapshot", "height", m.Height, "chunks", len(m.Chunks), "index_while_importing", r.feed != nil)
	return &abci.ResponseOfferSnapshot{Result: abci.ResponseOfferSnapshot_ACCEPT}, nil
}

// importStream reads a snapshot node stream into imp, and gives every
// leaf's key and value to leaf (when not nil) before the importer keeps
// them.
func importStream(r io.Reader, imp *iavl.Importer, leaf func(k, v []byte) error) error {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return fmt.Errorf("snapshot stream: %w", err)
	}
	br := bufio.NewReaderSize(zr, 256<<10)
	var shape streamShape
	for {
		node, err := readExportNode(br)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := shape.add(node.Height); err != nil {
			return err
		}
		if leaf != nil && node.Height == 0 {
			if err := leaf(node.Key, node.Value); err != nil {
				return fmt.Errorf("index the snapshot's leaves: %w", err)
			}
		}
		if err := imp.Add(node); err != nil {
			return fmt.Errorf("snapshot node: %w", err)
		}
	}
}

// streamShape follows the heights of the nodes IAVL's importer holds in
// memory until their parent comes (it keeps them whole, values included).
// The stream is the peer's, and only the app hash at the end shows whether
// it is the network's state: a stream of leaves alone, which compresses a
// thousandfold, made the importer hold every leaf. An honest stream is a
// post-order walk of the tree, so each inner node takes the two subtrees
// before it (both lower than itself) and at most one node per level waits.
type streamShape struct{ pending []int8 }

// add takes the next node's height, or refuses the stream.
func (s *streamShape) add(height int8) error {
	if height == 0 {
		s.pending = append(s.pending, 0)
	} else {
		n := len(s.pending)
		if n < 2 || s.pending[n-1] >= height || s.pending[n-2] >= height {
			return fmt.Errorf("snapshot stream: an inner node of height %d without its two subtrees before it", height)
		}
		s.pending = append(s.pending[:n-2], height)
	}
	if len(s.pending) > maxPendingNodes {
		return fmt.Errorf("snapshot stream: more than %d nodes pending without a parent (a tree's stream has one per level)", maxPendingNodes)
	}
	return nil
}

// readExportNode reads one record of the node stream; io.EOF at a record
// boundary ends the stream.
func readExportNode(br *bufio.Reader) (*iavl.ExportNode, error) {
	hb, err := br.ReadByte()
	if err != nil {
		return nil, err // io.EOF: clean end
	}
	bad := func(what string, err error) error {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return fmt.Errorf("snapshot stream: %s: %w", what, err)
	}
	version, err := binary.ReadUvarint(br)
	if err != nil {
		return nil, bad("version", err)
	}
	if version == 0 || version > 1<<62 {
		return nil, fmt.Errorf("snapshot stream: version %d out of range", version)
	}
	kl, err := binary.ReadUvarint(br)
	if err != nil {
		return nil, bad("key length", err)
	}
	if kl > maxExportKey {
		return nil, fmt.Errorf("snapshot stream: key of %d bytes", kl)
	}
	key := make([]byte, kl)
	if _, err := io.ReadFull(br, key); err != nil {
		return nil, bad("key", err)
	}
	vl, err := binary.ReadUvarint(br)
	if err != nil {
		return nil, bad("value length", err)
	}
	if vl > maxExportValue+1 {
		return nil, fmt.Errorf("snapshot stream: value of %d bytes", vl-1)
	}
	var value []byte
	if vl > 0 {
		value = make([]byte, vl-1)
		if _, err := io.ReadFull(br, value); err != nil {
			return nil, bad("value", err)
		}
	}
	height := int8(hb)
	if height < 0 {
		return nil, fmt.Errorf("snapshot stream: node height %d", height)
	}
	if (height == 0) != (value != nil) {
		return nil, errors.New("snapshot stream: a leaf must carry a value and an inner node none")
	}
	return &iavl.ExportNode{Key: key, Value: value, Version: int64(version), Height: height}, nil
}

// ApplySnapshotChunk feeds one verified chunk to the import; after the last
// it checks the rebuilt tree against the trusted app hash.
func (a *App) ApplySnapshotChunk(_ context.Context, req *abci.RequestApplySnapshotChunk) (*abci.ResponseApplySnapshotChunk, error) {
	a.wmu.Lock()
	defer a.wmu.Unlock()
	r := a.restoring
	if r == nil {
		return &abci.ResponseApplySnapshotChunk{Result: abci.ResponseApplySnapshotChunk_ABORT}, nil
	}
	i := int(req.Index)
	if i != r.next || i >= len(r.meta.Chunks) {
		// CometBFT applies chunks in order; anything else is a bug or a
		// restart of the restore: start over.
		a.abortRestore()
		return &abci.ResponseApplySnapshotChunk{Result: abci.ResponseApplySnapshotChunk_RETRY_SNAPSHOT}, nil
	}
	if len(req.Chunk) > SnapshotChunkSize {
		// No node writes such a chunk; its sender made the snapshot up.
		a.log.Warn("a snapshot chunk is larger than any node writes: refusing the snapshot", "index", i, "bytes", len(req.Chunk), "sender", req.Sender)
		res, err := a.failRestore()
		if res != nil {
			res.RejectSenders = []string{req.Sender}
		}
		return res, err
	}
	if sum := sha256.Sum256(req.Chunk); !bytes.Equal(sum[:], r.meta.Chunks[i]) {
		a.log.Warn("a snapshot chunk does not match its hash: fetching it again", "index", i, "sender", req.Sender)
		return &abci.ResponseApplySnapshotChunk{Result: abci.ResponseApplySnapshotChunk_RETRY,
			RefetchChunks: []uint32{req.Index}, RejectSenders: []string{req.Sender}}, nil
	}
	if _, err := r.pw.Write(req.Chunk); err != nil {
		a.log.Warn("snapshot refused", "height", r.meta.Height, "err", err)
		return a.failRestore()
	}
	r.next++
	if r.next < len(r.meta.Chunks) {
		return &abci.ResponseApplySnapshotChunk{Result: abci.ResponseApplySnapshotChunk_ACCEPT}, nil
	}
	_ = r.pw.Close()
	if err := r.wait(); err != nil {
		a.log.Warn("snapshot refused", "height", r.meta.Height, "err", err)
		return a.failRestore()
	}
	if got := a.tree.Hash(); !bytes.Equal(got, r.appHash) {
		a.log.Warn("snapshot refused: its state does not hash to the trusted app hash", "height", r.meta.Height,
			"got", fmt.Sprintf("%X", got), "want", fmt.Sprintf("%X", r.appHash))
		return a.failRestore()
	}
	// The index is complete before the restored version is published, so
	// no reader of that version meets an index still being written.
	indexStart := time.Now()
	view, err := a.reader.GetImmutable(r.meta.Height)
	if err != nil {
		return nil, fmt.Errorf("open the restored state: %w", err)
	}
	if err := a.setProtocol(view); err != nil {
		// A snapshot of a protocol this release does not execute: every
		// later block would stop it. State sync is aborted (other
		// snapshots of the chain are of the same protocol or later).
		a.log.Error("snapshot refused: "+err.Error(), "height", r.meta.Height)
		resp, _ := a.failRestore()
		resp.Result = abci.ResponseApplySnapshotChunk_ABORT
		return resp, nil
	}
	if err := a.setLayout(view); err != nil {
		return nil, fmt.Errorf("after the snapshot: %w", err)
	}
	index := "rebuilt from the restored tree"
	if r.feed != nil && (a.idx.values.Load() || a.move != nil) {
		// The entries written while importing are this layout's: the
		// index is complete once it records the height. In the middle of
		// a move of the layout they are copies, which the next blocks
		// convert to leaf pointers (indexswitch.go).
		a.idx.copiesLeft.Store(!a.idx.values.Load())
		if err := a.idx.markRestored(r.meta.Height); err != nil {
			return nil, fmt.Errorf("complete the DID index after the snapshot: %w", err)
		}
		index = "written while importing"
	} else {
		// The state's layout is not the one expected (or the index points
		// at leaves, whose node keys exist only now): rebuild it. The
		// database holds the imported version alone (OfferSnapshot
		// started from an empty one).
		if err := a.idx.rebuildRestored(r.meta.Height, view); err != nil {
			return nil, fmt.Errorf("rebuild the DID index after the snapshot: %w", err)
		}
	}
	indexTook := time.Since(indexStart)
	if err := a.afterRestore(view); err != nil {
		return nil, err
	}
	if err := a.publish(r.meta.Height); err != nil {
		return nil, err
	}
	// Synced: every write of the restore before it (the import, the
	// index and its height) is in the journal ahead of this one.
	if err := a.db.RawDB().Delete(restoringKey, &opt.WriteOptions{Sync: true}); err != nil {
		return nil, fmt.Errorf("complete the restore: %w", err)
	}
	a.restoring = nil
	a.log.Info("snapshot restored", "height", r.meta.Height, "nodes", r.meta.Nodes, "app_hash", fmt.Sprintf("%X", r.appHash),
		"took", time.Since(r.started).Round(time.Millisecond).String(), "import", r.imported.Sub(r.started).Round(time.Millisecond).String(),
		"index", index, "index_took", indexTook.Round(time.Millisecond).String())
	return &abci.ResponseApplySnapshotChunk{Result: abci.ResponseApplySnapshotChunk_ACCEPT}, nil
}

// ExpectLayout tells the App which state layout its chain's genesis names
// (ledger.LayoutEveryVersion when never called), so that a state sync
// restore writes the latest-DID index in that layout's form while the
// snapshot's leaves are imported. The restored state's own layout decides
// in the end: if it differs, the index is rebuilt from the restored tree,
// so a wrong expectation costs time, never a wrong index. Call it before
// the node starts.
func (a *App) ExpectLayout(l ledger.StateLayout) {
	a.wmu.Lock()
	defer a.wmu.Unlock()
	a.expectLayout = l
}

// expectedLayout is what ExpectLayout set (called with wmu held).
func (a *App) expectedLayout() ledger.StateLayout {
	if a.expectLayout == 0 {
		return ledger.LayoutEveryVersion
	}
	return a.expectLayout
}

// wipeLeftovers empties the state database if anything is in it. A
// restore starts only at height 0, where nothing is saved: any key is
// what a restore that did not end (the process stopped) wrote.
func (a *App) wipeLeftovers() error {
	it := a.db.RawDB().NewIterator(nil, nil)
	found := it.First()
	it.Release()
	if !found {
		return nil
	}
	a.log.Warn("the state database holds what an unfinished restore wrote: removing it before this one")
	return a.wipe()
}

// afterRestore loads what the app keeps beside the tree from a restored
// state: the write quota policy (genesis wrote it; a node that state
// syncs never runs InitChain) and the directory's search index. The
// latest-DID index is rebuilt by the caller. No block runs during a
// restore, so nothing reads these meanwhile.
func (a *App) afterRestore(view *iavl.ImmutableTree) error {
	pol, err := loadPolicy(view)
	if err != nil {
		return fmt.Errorf("after the snapshot: %w", err)
	}
	a.policy = pol
	if err := a.dir.build(view); err != nil {
		return fmt.Errorf("rebuild the directory index after the snapshot: %w", err)
	}
	return nil
}

// abortRestore drops a restore in progress.
func (a *App) abortRestore() {
	if r := a.restoring; r != nil {
		_ = r.pw.CloseWithError(errors.New("restore aborted"))
		_ = r.wait()
		a.restoring = nil
		_ = a.wipe()
	}
}

// failRestore ends a restore that produced a wrong state: everything it
// wrote is removed and CometBFT may try another snapshot.
func (a *App) failRestore() (*abci.ResponseApplySnapshotChunk, error) {
	r := a.restoring
	a.restoring = nil
	if r != nil {
		_ = r.pw.CloseWithError(errors.New("restore failed"))
		_ = r.wait()
	}
	if err := a.wipe(); err != nil {
		return &abci.ResponseApplySnapshotChunk{Result: abci.ResponseApplySnapshotChunk_ABORT}, nil
	}
	return &abci.ResponseApplySnapshotChunk{Result: abci.ResponseApplySnapshotChunk_REJECT_SNAPSHOT}, nil
}

// wipe empties the state database (a restore only starts on an empty one,
// so everything in it came from the failed restore) and reopens the trees.
func (a *App) wipe() error {
	if err := emptyDB(a.db.RawDB()); err != nil {
		a.log.Error("wipe the state after a failed restore", "err", err)
		return err
	}
	// Node keys are reused from here on.
	a.idx.leaves.reset()
	a.openTrees(a.db)
	return a.publish(0)
}

// restoringKey, present in the state database, says a state sync restore
// began there and has not ended (OfferSnapshot writes it, the last chunk
// removes it). It sits beside the latest-DID index's keys, outside the
// tree.
var restoringKey = []byte("x!restoring")

// emptyDB deletes every key of raw, in batches of bounded size (a stopped
// restore may have left millions of nodes), the last write synced.
func emptyDB(raw *leveldb.DB) error {
	it := raw.NewIterator(nil, nil)
	defer it.Release()
	var batch leveldb.Batch
	for it.Next() {
		batch.Delete(append([]byte(nil), it.Key()...))
		if batch.Len() == 10_000 {
			if err := raw.Write(&batch, nil); err != nil {
				return err
			}
			batch.Reset()
		}
	}
	if err := it.Error(); err != nil {
		return err
	}
	return raw.Write(&batch, &opt.WriteOptions{Sync: true})
}
