package machine

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"
	"github.com/cosmos/iavl"
	iavldb "github.com/cosmos/iavl/db"
	"github.com/syndtr/goleveldb/leveldb/filter"
	"github.com/syndtr/goleveldb/leveldb/opt"

	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/tx"
)

// Version is reported by Info as the application's software version.
const Version = "0.1.0"

// Config configures an [App].
type Config struct {
	// Dir is the folder holding the state database (created if missing).
	// Required.
	Dir string
	// Logger receives one line per rejected transaction and per commit.
	// nil discards logs.
	Logger *slog.Logger
	// NodeCacheSize is the IAVL node cache size in nodes; 0 means
	// DefaultNodeCacheSize. It bounds the cache of the tree blocks write
	// (and of the reads of committed versions unless ReaderNodeCacheSize
	// says otherwise). A cached node takes about NodeBytes of Go heap.
	NodeCacheSize int
	// ReaderNodeCacheSize is the node cache of the reads of committed
	// versions (queries, proofs, the history); 0 means NodeCacheSize.
	// Blocks' writes never read through it.
	ReaderNodeCacheSize int
	// VerdictCacheSize bounds the signature verdict cache (entries); 0 means
	// 65,536. The parsed-document, decoded-transaction and did.create
	// caches hold a quarter as many each.
	VerdictCacheSize int
	// Workers is how many goroutines verify a block's signatures in
	// parallel; 0 means runtime.NumCPU().
	Workers int
	// OpenFiles bounds the table files the state database keeps open; 0
	// means DefaultOpenFiles. The process must keep OpenFiles +
	// DescriptorsPerDB descriptors free for it (registryd reserves them
	// before it plans its HTTP connection cap).
	OpenFiles int
	// BlockCacheBytes bounds the LevelDB block cache in bytes; 0 means 1
	// GiB. It fills only with blocks that are read: a registry of a
	// million DIDs reads ~700 MB of current DID records (the latest index)
	// under a uniform resolution load. LevelDB's own default, 8 MiB, made
	// reads of a 1M-DID state mostly pread system calls; 128 MiB still
	// left most resolutions reading and decompressing a block (measured in
	// BENCHMARKS.md: 0.41-0.45x vs 0.41-0.48x a bare handler under wrk,
	// 0.59-0.64x vs 0.65-0.85x with a Go client).
	BlockCacheBytes int
	// LeafCacheBytes bounds the cache of the DID records a state of
	// ledger.LayoutRecordsOnce resolves through leaf pointers (see
	// leafCache); 0 means 768 MiB, a negative value disables it. It fills
	// only with records that are resolved (~700 bytes each: a million
	// DIDs under a uniform resolution load take ~700 MB), and records
	// read for it do not fill the block cache; a state of
	// LayoutEveryVersion never uses it. Its memory is outside the Go heap
	// (fastcache), and its smallest size is 32 MiB (one 64 KiB chunk per
	// bucket): a smaller positive value gets that.
	LeafCacheBytes int
	// MaxProtocol is the highest protocol version the App executes; 0
	// means [MaxProtocol], what this release knows. Tests lower it to play
	// a validator of an older release, or raise it to run a test-only
	// protocol; a node MUST NOT raise it in production, where it would
	// execute a protocol's blocks by rules it does not have.
	MaxProtocol uint64

	// SnapshotInterval makes a state sync snapshot of every state version
	// that is a multiple of it (written in the background, see
	// snapshot.go); 0 means 1,000, a negative value disables snapshots.
	SnapshotInterval int64
	// SnapshotKeep is how many snapshots are kept (0 means 2).
	SnapshotKeep int
	// SnapshotDir holds the snapshots ("" means Dir/snapshots).
	SnapshotDir string
	// KeepVersions is how many recent state versions are kept for reads at
	// older heights; older ones are pruned as blocks commit (a snapshot
	// being written keeps its version). 0 means 100, a negative value
	// keeps every version. History that must stay readable (DID versions,
	// accreditations, status list versions, validators, proposals) lives
	// in the latest state, so pruning loses no history (docs/design/0021).
	KeepVersions int64
	// KeepBlocks, when positive, lets CometBFT prune blocks older than
	// this many below the newest block, never above the oldest snapshot
	// kept (the block store then starts there; light clients ask nodes
	// that keep more). 0 keeps every block.
	KeepBlocks int64

	// LayoutMoveBatch is how many DIDs a move of the state layout takes
	// per block (0: ledger.LayoutMoveChunk, 25,000). It exists for tests
	// only, to spread a move over the blocks of a small network. It MUST
	// NOT be offered to operators (no flag, no settings file: registryd
	// never sets it): the batch decides which keys each block of the move
	// deletes, so it is consensus-visible. Every validator of a network
	// must move the same DIDs in the same block; a node with another batch
	// computes another app hash at the first block of the move and stops
	// there.
	LayoutMoveBatch int

	// TuneStore, if not nil, may change the state database's LevelDB
	// options after the defaults below are set and before it opens (for
	// measurements: medid-loadtest -probe-leveldb). Storage only: the
	// options change neither the state nor its app hash.
	TuneStore func(*opt.Options)
}

// DefaultNodeCacheSize is the IAVL node cache [Config.NodeCacheSize]
// registryd runs with: the tree nodes a node keeps decoded in memory. Each
// did.create rewrites the path to two leaves, loading both children of
// every node on it, and pruning a version 100 blocks old walks the nodes
// that version replaced: whatever is not cached is a LevelDB read and a
// node decode. With 100,000 nodes a chain of 48,000 DIDs (about 200,000
// nodes per version) read a quarter of a validator's CPU from LevelDB,
// and the blocks read filled LevelDB's block cache and grew the heap; at
// 400,000 a validator of four used 30% less CPU per transaction (14.8 ->
// 10.0 sig-eq, BENCHMARKS.md, issue 19, sixth round), at the same memory
// (the block cache holds fewer blocks instead), and a fresh chain is
// unchanged. A cached node takes ~0.5 KB (a leaf holds its record), so
// this is ~200 MB of heap once full, for each of the two tree handles (the
// one blocks write, the one reads of committed versions go through); the
// reads' fills only as far as reads reach.
const DefaultNodeCacheSize = 400_000

// NodeBytes is the Go heap a cached tree node takes, for sizing the
// node cache from a memory budget: measured 522-554 bytes on a
// 1,000,000-DID state of layout 2 (the nodes of 30,000 and 100,000
// proofs of random DIDs, a leaf holding its record for every ~23 inner
// nodes, about the mix blocks' writes cache; BENCHMARKS.md, issue 18,
// tenth pass), rounded up for the cache's own map as it grows. The cache
// fills to its bound on any chain that keeps committing: IAVL keeps the
// nodes of pruned versions in it until they are the least recently used.
const NodeBytes = 600

// NodeCacheShare is the share of the Go runtime's soft memory limit that
// an automatically sized state tree node cache takes (registryd
// --node-cache auto). The rest is for LevelDB's block cache (1 GiB at
// most), the reads' node cache, the mempool and CometBFT, and for the
// collector: the closer the live heap comes to the limit, the more often
// it runs.
const NodeCacheShare = 1.0 / 3

// NodeCacheFor sizes the node cache of the tree blocks write for a node
// whose Go runtime has the soft memory limit limit (bytes; 0 or
// math.MaxInt64 means none): NodeCacheShare of the limit at
// NodeBytes per node, never fewer than DefaultNodeCacheSize
// nodes; without a limit, DefaultNodeCacheSize. At 1,000,000 DIDs a
// cache of 3,000,000 to 5,000,000 nodes holds most of the tree and the
// nodes the proof window replaced (docs/operations.md, "Memory").
func NodeCacheFor(limit int64) int {
	if limit <= 0 || limit == math.MaxInt64 {
		return DefaultNodeCacheSize
	}
	n := float64(limit) * NodeCacheShare / NodeBytes
	if n < DefaultNodeCacheSize {
		return DefaultNodeCacheSize
	}
	return int(min(n, math.MaxInt32))
}

func (c *Config) withDefaults() (Config, error) {
	out := *c
	if out.Dir == "" {
		return out, errors.New("app.Config.Dir is required: the folder for the state database")
	}
	if out.Logger == nil {
		out.Logger = slog.New(slog.DiscardHandler)
	}
	if out.NodeCacheSize <= 0 {
		out.NodeCacheSize = DefaultNodeCacheSize
	}
	if out.ReaderNodeCacheSize <= 0 {
		out.ReaderNodeCacheSize = out.NodeCacheSize
	}
	if out.VerdictCacheSize <= 0 {
		out.VerdictCacheSize = 1 << 16
	}
	if out.Workers <= 0 {
		out.Workers = runtime.NumCPU()
	}
	if out.BlockCacheBytes <= 0 {
		out.BlockCacheBytes = 1 << 30
	}
	if out.LeafCacheBytes == 0 {
		out.LeafCacheBytes = 768 << 20
	}
	if out.SnapshotInterval == 0 {
		out.SnapshotInterval = 1000
	}
	if out.SnapshotKeep <= 0 {
		out.SnapshotKeep = 2
	}
	if out.SnapshotDir == "" {
		out.SnapshotDir = filepath.Join(out.Dir, "snapshots")
	}
	if out.KeepVersions == 0 {
		out.KeepVersions = 100
	}
	if out.MaxProtocol == 0 {
		out.MaxProtocol = MaxProtocol
	}
	if out.MaxProtocol < ledger.BaseProtocol {
		return out, fmt.Errorf("app.Config.MaxProtocol %d: every release executes protocol %d", out.MaxProtocol, ledger.BaseProtocol)
	}
	if out.KeepBlocks < 0 {
		return out, errors.New("app.Config.KeepBlocks must not be negative (0 keeps every block)")
	}
	if out.OpenFiles <= 0 {
		out.OpenFiles = DefaultOpenFiles
	}
	if out.LayoutMoveBatch < 0 {
		return out, errors.New("app.Config.LayoutMoveBatch must not be negative (0 means ledger.LayoutMoveChunk)")
	}
	if out.LayoutMoveBatch == 0 {
		out.LayoutMoveBatch = layoutMoveChunk
	}
	return out, nil
}

// DefaultOpenFiles is the state database's default bound on open table
// files: with 8 MiB tables, 256 files keep 2 GiB of state one read away
// from the disk without a reopen (LevelDB's own default, 500, would reserve
// twice the descriptors for a state that rarely needs them).
const DefaultOpenFiles = 256

// App is the registry's ABCI 2.0 application (CometBFT v0.39, v0.38's ABCI). It is the
// only writer of its state; its read methods ([App.ResolveDID],
// [App.Accreditations], [App.AccreditedAt], [App.StatusList],
// [App.Governance], [App.Query]) read the latest committed version and are
// safe to call concurrently with each other and with the ABCI methods.
type App struct {
	cfg Config
	log *slog.Logger
	db  *iavldb.GoLevelDB

	// wmu serialises the consensus connection (InitChain, FinalizeBlock,
	// Commit) and guards tree (the working state) and pending.
	wmu     sync.Mutex
	tree    *iavl.MutableTree
	pending *pendingBlock
	// pendingIdx are the pending block's writes to keys the latest index
	// holds; Commit indexes them.
	pendingIdx []write
	idx        *latestIndex
	// pendingVals are the pending block's validator changes by address
	// (see noteValidator); FinalizeBlock returns them.
	pendingVals map[string]abci.ValidatorUpdate
	// pendingDir are the pending block's organisation records; Commit
	// gives them to dir, the directory's search index.
	pendingDir []write
	dir        *dirIndex
	// initialHeight is the chain's first block height (from InitChain).
	initialHeight int64

	// reader opens committed versions for reading through its own node
	// cache. IAVL's MutableTree.Set mutates cached nodes of saved versions
	// (clone drops their child pointers), so versions opened through the
	// writer's tree would race with FinalizeBlock; nodes loaded by reader
	// are never touched by writes. Only GetImmutable is called on it.
	reader *iavl.MutableTree

	// mu guards the committed view below. Readers take the read lock only
	// to copy the pointer: an iavl.ImmutableTree of a saved version is
	// safe for concurrent reads.
	mu         sync.RWMutex
	committed  *iavl.ImmutableTree
	lastHeight int64
	lastHash   []byte
	lastTime   time.Time // block time of the last finalized block (zero after a restart until the next block)

	verdicts *lru[verdictKey, error]
	docs     *lru[uint64, parsedDoc]
	// decoded holds decoded transactions by a hash of their bytes under
	// seed (hash/maphash, not SHA-256: a hit is confirmed by comparing the
	// bytes, so the key need not be collision-resistant), so FinalizeBlock
	// does not decode again what CheckTx decoded (a *tx.Tx is never
	// modified).
	decoded *lru[uint64, *tx.Tx]
	seed    maphash.Seed
	// creates holds did.create checks by replay id (see createCheck).
	creates *lru[[32]byte, createCheck]
	// policy is the network's write quota policy (from genesis, fixed for
	// the chain's life); quotas caches the committed origin counters for
	// CheckTx. See quota.go.
	policy ledger.QuotaPolicy
	quotas committedQuotas
	// layout is the chain's state layout (from genesis, fixed for the
	// chain's life; see ledger.StateLayout). Written by InitChain and a
	// restore (under wmu, before any block), read by the handlers.
	layout ledger.StateLayout
	// committedLayout is the layout of the committed state, for CheckTx
	// (guarded by mu; layout may be a block ahead of it while a move's
	// block runs).
	committedLayout ledger.StateLayout
	// move is the move of the layout under way in the working state (nil:
	// none; guarded by wmu), committedMove the committed state's (guarded
	// by mu). See layoutmove.go.
	move, committedMove *ledger.LayoutMove
	// expectLayout is the layout the genesis names, for a restore before
	// the state says (ExpectLayout; 0: LayoutEveryVersion). Guarded by wmu.
	expectLayout ledger.StateLayout
	// maxProtocol is the highest protocol version this App executes
	// (Config.MaxProtocol). protocol is the working state's protocol
	// version (guarded by wmu); committedProtocol and committedUpgrade are
	// the committed state's version and scheduled upgrade (guarded by mu).
	// See protocol.go.
	maxProtocol       uint64
	protocol          uint64
	committedProtocol uint64
	committedUpgrade  *ledger.ProtocolUpgrade
	// upgradeStop is the upgrade this App refused to make (nil: none; see
	// CheckProtocol).
	upgradeStop atomic.Pointer[UpgradeRequiredError]
	// sigChecks and docParses count signature verifications and document
	// validations actually performed (cache misses), for tests.
	sigChecks atomic.Int64
	docParses atomic.Int64
	// keyDocs counts did.create documents recognised as the single-key
	// shape (keydoc.go), for tests.
	keyDocs atomic.Int64
	// generalOnly turns off the per-transaction shortcuts of
	// docs/design/0022 (the single-key document recogniser), so tests can
	// compare them with the general path.
	generalOnly bool
	// indexAfterImport turns off writing the latest-DID index while a
	// restore imports (snapshot.go), so benchmarks can compare it with
	// the walk of the restored tree it replaced.
	indexAfterImport bool

	// exporting is the version a snapshot is being written of (0: none);
	// pruning keeps it. bg tracks the snapshot goroutine, bgCtx stops it.
	exporting    atomic.Int64
	bg           sync.WaitGroup
	bgCtx        context.Context
	bgCancel     context.CancelFunc
	lastSnapshot atomic.Pointer[snapshotInfo]
	// catchingUp, if set, says the node is replaying blocks to catch up
	// with the network (PauseSnapshotsWhile): no snapshot is started then.
	catchingUp atomic.Pointer[func() bool]
	// offered is when each snapshot was last offered to a peer or had a
	// chunk served: pruneSnapshots keeps it for snapshotGrace after that,
	// so a node in the middle of restoring it can finish.
	offeredMu sync.Mutex
	offered   map[int64]time.Time
	// pruned is the newest version deleted (guarded by wmu).
	pruned int64
	// treeStats and readerStats count the node reads of tree and reader
	// (cache hits and misses); pruneHits and pruneMisses are the part of
	// treeStats that pruning read (see NodeReads).
	treeStats, readerStats iavl.Statistics
	pruneHits, pruneMisses atomic.Uint64
	// restoring is the state sync in progress (guarded by wmu).
	restoring *restore
	// rejected counts rejections for the metrics.
	rejected rejections
	// health is what CheckStore reports (see health.go).
	health storeHealth
}

// pendingBlock is the block FinalizeBlock applied and Commit will save.
type pendingBlock struct {
	height int64
	time   time.Time
}

var _ abci.Application = (*App)(nil)

// errNoAppMempool answers the calls of CometBFT's application-side mempool.
var errNoAppMempool = errors.New("registry: the application keeps no mempool: run CometBFT's flood mempool, which checks transactions with CheckTx")

// InsertTx belongs to CometBFT's application-side mempool (mempool type
// "app"), which the registry's node never configures: its mempool is
// CometBFT's own, fed through CheckTx. It returns an error.
func (a *App) InsertTx(context.Context, *abci.RequestInsertTx) (*abci.ResponseInsertTx, error) {
	return nil, errNoAppMempool
}

// ReapTxs belongs to CometBFT's application-side mempool, like
// [App.InsertTx]; it returns an error.
func (a *App) ReapTxs(context.Context, *abci.RequestReapTxs) (*abci.ResponseReapTxs, error) {
	return nil, errNoAppMempool
}

// New opens (or creates) the state database in cfg.Dir and loads the latest
// saved version. After a crash, the state is the last committed block; Info
// reports it so CometBFT replays the blocks that followed.
func New(cfg Config) (*App, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	// IAVL writes ~20 tree nodes per new DID and keeps every version, so
	// the state database takes a steady stream of small writes: a 64 MiB
	// memtable and 8 MiB tables (LevelDB: 4 and 2 MiB) mean a tenth as
	// many level-0 tables to compact; compaction had grown to 10% of a
	// loaded node's CPU and stalled commits as the chain grew
	// (docs/design/0011). Compactions triggered by reads that look in
	// more than one table ("seek" compactions) are off: every new level-0
	// table spans the tree's node keys and the latest-DID index's, so
	// nearly every node read of a large state looked in several and set
	// one off. On a 1,000,000-DID state (10 versions kept, 1,600,000-node
	// cache) they took a quarter of the CPU per write: 303-327 against
	// 406-438 µs, run alternately; at the defaults, where pruning's reads
	// dominate, no difference was measured (BENCHMARKS.md, issue 18, ninth
	// pass). Size-triggered compactions still bound the tables a read
	// looks in; resolutions of that state were as fast without them.
	dbOpts := &opt.Options{
		BlockCacheCapacity:     c.BlockCacheBytes,
		Filter:                 filter.NewBloomFilter(10),
		WriteBuffer:            64 << 20,
		CompactionTableSize:    8 << 20,
		CompactionTotalSize:    64 << 20,
		OpenFilesCacheCapacity: c.OpenFiles,
		DisableSeeksCompaction: true,
	}
	if c.TuneStore != nil {
		c.TuneStore(dbOpts)
	}
	db, err := iavldb.NewGoLevelDBWithOpts("state", filepath.Clean(c.Dir), dbOpts)
	if err != nil {
		return nil, fmt.Errorf("open state database in %s: %w", c.Dir, err)
	}
	// A restore that began and did not end (the process stopped) left
	// imported nodes without a root, which IAVL cannot load: the database
	// held nothing before the restore began (OfferSnapshot), so it is
	// emptied and the node starts at height 0, where CometBFT's state sync
	// starts over.
	if found, err := db.RawDB().Has(restoringKey, nil); err != nil {
		db.Close()
		return nil, fmt.Errorf("open state database in %s: %w", c.Dir, err)
	} else if found {
		c.Logger.Warn("the state database holds a snapshot restore that did not end (the process stopped): removing it; the node will state sync again")
		if err := emptyDB(db.RawDB()); err != nil {
			db.Close()
			return nil, fmt.Errorf("remove the unfinished restore in %s: %w", c.Dir, err)
		}
	}
	// Fast storage is skipped: it keeps a second, latest-only index that a
	// concurrent reader of an older version could observe mid-commit.
	// The trees read through observedDB so that a storage failure is kept
	// for CheckStore (readiness) whichever read met it.
	a := &App{}
	obs := observedDB{DB: db, note: func(err error) { a.noteStore(err) }}
	*a = App{cfg: c, log: c.Logger, db: db, verdicts: newLRU[verdictKey, error](c.VerdictCacheSize),
		docs: newLRU[uint64, parsedDoc](c.VerdictCacheSize / 4), decoded: newLRU[uint64, *tx.Tx](c.VerdictCacheSize / 4),
		creates: newLRU[[32]byte, createCheck](c.VerdictCacheSize / 4), seed: maphash.MakeSeed(), maxProtocol: c.MaxProtocol}
	a.openTrees(obs)
	version, err := a.tree.Load()
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("load state from %s: %w", c.Dir, err)
	}
	if err := a.publish(version); err != nil {
		db.Close()
		return nil, err
	}
	a.idx = newLatestIndex(db.RawDB(), c.LeafCacheBytes, a.noteStore)
	view, _ := a.view()
	if a.policy, err = loadPolicy(view); err != nil {
		db.Close()
		return nil, fmt.Errorf("state in %s: %w", c.Dir, err)
	}
	if err := a.setLayout(view); err != nil {
		db.Close()
		return nil, fmt.Errorf("state in %s: %w", c.Dir, err)
	}
	if err := a.setProtocol(view); err != nil {
		db.Close()
		return nil, fmt.Errorf("state in %s: %w", c.Dir, err)
	}
	started := time.Now()
	did, err := a.idx.open(version, view, a.move != nil)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("state in %s: %w", c.Dir, err)
	}
	if did != "" {
		a.log.Info(did+" the DID index from the state", "height", version, "took", time.Since(started).Round(time.Millisecond).String())
	}
	a.bgCtx, a.bgCancel = context.WithCancel(context.Background())
	if list, err := a.snapshots(); err == nil && len(list) > 0 {
		at := time.Now()
		if fi, err := os.Stat(a.snapshotDir(int64(list[0].Height))); err == nil {
			at = fi.ModTime()
		}
		a.lastSnapshot.Store(&snapshotInfo{height: int64(list[0].Height), at: at})
	}
	a.dir = newDirIndex()
	if err := a.dir.build(view); err != nil {
		db.Close()
		return nil, fmt.Errorf("state in %s: directory index: %w", c.Dir, err)
	}
	return a, nil
}

// openTrees opens the writer and reader tree handles on db, each with its
// own node cache (NodeCacheSize and ReaderNodeCacheSize nodes) and its own
// read counters.
func (a *App) openTrees(db iavldb.DB) {
	// Pruning stays in Commit, not in IAVL's background pruner
	// (iavl.AsyncPruningOption): that pruner shares decoded nodes with
	// blocks' writes and rewrites the key of a root a later version still
	// uses (a chain of empty blocks), its errors go only to IAVL's log, and
	// it only moves pruning's CPU off the commit path (measured in
	// BENCHMARKS.md, issue 18, ninth pass).
	a.tree = iavl.NewMutableTree(db, a.cfg.NodeCacheSize, true, iavl.NewNopLogger(), iavl.StatOption(&a.treeStats))
	a.reader = iavl.NewMutableTree(db, a.cfg.ReaderNodeCacheSize, true, iavl.NewNopLogger(), iavl.StatOption(&a.readerStats))
}

// setLayout reads the chain's state layout from view (absent:
// LayoutEveryVersion, the chains of before the layouts, and a state not
// initialised yet, which InitChain or a restore sets) and tells the latest
// index whether it copies values.
func (a *App) setLayout(view reader) error {
	v, err := view.Get([]byte(ledger.KeyStateLayout))
	if err != nil {
		return fmt.Errorf("read the state layout: %w", err)
	}
	l := ledger.LayoutEveryVersion
	if v != nil {
		n, err := strconv.Atoi(string(v))
		if err != nil || !ledger.StateLayout(n).Valid() {
			return fmt.Errorf("%w: the state's layout is %.16q, which this software does not know (upgrade it)", ledger.ErrInternal, v)
		}
		l = ledger.StateLayout(n)
	}
	mv, err := layoutMoveOf(view)
	if err != nil {
		return err
	}
	if mv != nil && mv.Cursor == "" {
		mv = nil // scheduled, not under way
	}
	a.layout, a.move = l, mv
	// A state in the middle of a move indexes as layout 2 does (see
	// indexswitch.go).
	a.idx.values.Store(l == ledger.LayoutEveryVersion && mv == nil)
	a.mu.Lock()
	a.committedLayout, a.committedMove = l, mv
	a.mu.Unlock()
	return nil
}

// publish makes saved version the committed view.
func (a *App) publish(version int64) error {
	var view *iavl.ImmutableTree
	if version == 0 {
		// Nothing is saved yet: an empty tree.
		view = iavl.NewImmutableTree(a.db, 0, true, iavl.NewNopLogger())
	} else {
		var err error
		if view, err = a.reader.GetImmutable(version); err != nil {
			return fmt.Errorf("open state version %d: %w", version, err)
		}
	}
	var hash []byte
	if version > 0 {
		hash = view.Hash()
	}
	a.mu.Lock()
	a.committed, a.lastHeight, a.lastHash = view, version, hash
	a.mu.Unlock()
	return nil
}

// view returns the latest committed state and its height.
func (a *App) view() (*iavl.ImmutableTree, int64) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.committed, a.lastHeight
}

// committedState returns a reader of the latest committed state that reads
// current DID records through the latest index (see latestIndex), and its
// height.
func (a *App) committedState() (committedReader, int64) {
	view, h := a.view()
	return committedReader{tree: view, height: h, ix: a.idx}, h
}

// LastCommit returns the height and app hash of the last committed block
// (0 and nil before the first).
func (a *App) LastCommit() (height int64, appHash []byte) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.lastHeight, append([]byte(nil), a.lastHash...)
}

// Close closes the state database. Uncommitted work is discarded (CometBFT
// replays it on restart). The App must not be used afterwards.
func (a *App) Close() error {
	a.bgCancel()
	a.bg.Wait()
	a.wmu.Lock()
	defer a.wmu.Unlock()
	if a.restoring != nil {
		_ = a.restoring.pw.CloseWithError(errors.New("closing"))
		_ = a.restoring.wait()
	}
	return a.db.Close()
}

// Info reports the last committed height and app hash, so CometBFT's
// handshake replays exactly the blocks the app has not saved, and the
// committed state's protocol version as the app version: what the header
// of the next block carries (CometBFT takes it as the chain's app version
// at genesis, and state sync compares it with the header above the
// snapshot; docs/design/0021).
func (a *App) Info(_ context.Context, _ *abci.RequestInfo) (*abci.ResponseInfo, error) {
	h, hash := a.LastCommit()
	a.mu.RLock()
	p := a.committedProtocol
	a.mu.RUnlock()
	return &abci.ResponseInfo{
		Data:             "medid-registry",
		Version:          Version,
		AppVersion:       p,
		LastBlockHeight:  h,
		LastBlockAppHash: hash,
	}, nil
}

// InitChain writes the genesis governance DIDs (app_state, see [Genesis])
// into the working state and returns its hash as the genesis app hash.
func (a *App) InitChain(_ context.Context, req *abci.RequestInitChain) (*abci.ResponseInitChain, error) {
	a.wmu.Lock()
	defer a.wmu.Unlock()
	if h, _ := a.LastCommit(); h != 0 {
		return nil, fmt.Errorf("InitChain on a state already at height %d: remove the state folder to start a new chain", h)
	}
	g, err := ParseGenesis(req.AppStateBytes)
	if err != nil {
		return nil, err
	}
	a.initialHeight = max(req.InitialHeight, 1)
	if req.InitialHeight > 1 {
		a.tree.SetInitialVersion(uint64(req.InitialHeight))
	}
	for _, d := range g.Governance {
		v, err := marshal(ledger.GovernanceRecord{DID: d})
		if err != nil {
			return nil, err
		}
		if _, err := a.tree.Set(ledger.GovernanceKey(d), v); err != nil {
			return nil, fmt.Errorf("write genesis: %w", err)
		}
	}
	// The network's governance rule and the validators CometBFT starts
	// with (docs/design/0021).
	netPol := ledger.NetworkPolicy{}
	if g.Network != nil {
		netPol = *g.Network
	}
	if netPol, err = netPol.Effective(); err != nil {
		return nil, fmt.Errorf("genesis: %w", err)
	}
	pv, err := marshal(netPol)
	if err != nil {
		return nil, err
	}
	vw, err := genesisValidatorWrites(req.Validators, a.initialHeight)
	if err != nil {
		return nil, fmt.Errorf("genesis: %w", err)
	}
	for _, w := range append(vw, write{[]byte(ledger.KeyNetworkPolicy), pv}) {
		if _, err := a.tree.Set(w.key, w.value); err != nil {
			return nil, fmt.Errorf("write genesis: %w", err)
		}
	}
	pol := ledger.DefaultQuotaPolicy()
	if g.Quotas != nil {
		pol = *g.Quotas
	}
	if a.policy, err = pol.Effective(); err != nil {
		return nil, fmt.Errorf("genesis app_state: %w", err)
	}
	v, err := marshal(a.policy)
	if err != nil {
		return nil, err
	}
	if _, err := a.tree.Set([]byte(ledger.QuotaPolicyKey), v); err != nil {
		return nil, fmt.Errorf("write genesis: %w", err)
	}
	// The state layout: a chain of LayoutEveryVersion writes nothing of
	// it, so its app hashes stay those of before the layouts existed.
	a.layout = g.StateLayout
	a.idx.values.Store(a.layout == ledger.LayoutEveryVersion)
	a.mu.Lock()
	a.committedLayout = a.layout
	a.mu.Unlock()
	if a.layout != ledger.LayoutEveryVersion {
		if _, err := a.tree.Set([]byte(ledger.KeyStateLayout), []byte(strconv.Itoa(int(a.layout)))); err != nil {
			return nil, fmt.Errorf("write genesis: %w", err)
		}
	}
	// The protocol: a chain that starts at ledger.BaseProtocol writes
	// nothing of it (its app hashes stay those of before upgrades existed).
	// Another version is returned to CometBFT, which put Info's app version
	// in the state before it called InitChain.
	p, err := genesisProtocol(req.ConsensusParams, a.maxProtocol)
	if err != nil {
		return nil, err
	}
	var params *cmtproto.ConsensusParams
	if p != ledger.BaseProtocol {
		if _, err := a.tree.Set([]byte(ledger.KeyProtocol), []byte(strconv.FormatUint(p, 10))); err != nil {
			return nil, fmt.Errorf("write genesis: %w", err)
		}
		params = &cmtproto.ConsensusParams{Version: &cmtproto.VersionParams{App: p}}
	}
	a.protocol = p
	a.mu.Lock()
	a.committedProtocol = p
	a.mu.Unlock()
	a.log.Info("genesis", "governance", len(g.Governance), "quota_window", a.policy.Window.String(), "state_layout", int(a.layout), "protocol", p)
	return &abci.ResponseInitChain{AppHash: a.tree.WorkingHash(), ConsensusParams: params}, nil
}

// PrepareProposal proposes the mempool's transactions in order, up to
// MaxTxBytes.
func (a *App) PrepareProposal(_ context.Context, req *abci.RequestPrepareProposal) (*abci.ResponsePrepareProposal, error) {
	var txs [][]byte
	var total int64
	for _, t := range req.Txs {
		total += int64(len(t))
		if req.MaxTxBytes > 0 && total > req.MaxTxBytes {
			break
		}
		txs = append(txs, t)
	}
	return &abci.ResponsePrepareProposal{Txs: txs}, nil
}

// ProcessProposal accepts every proposal: invalid transactions in a block
// are rejected one by one in FinalizeBlock with a code and no state change.
func (a *App) ProcessProposal(context.Context, *abci.RequestProcessProposal) (*abci.ResponseProcessProposal, error) {
	return &abci.ResponseProcessProposal{Status: abci.ResponseProcessProposal_ACCEPT}, nil
}

// ExtendVote adds no vote extension.
func (a *App) ExtendVote(context.Context, *abci.RequestExtendVote) (*abci.ResponseExtendVote, error) {
	return &abci.ResponseExtendVote{}, nil
}

// VerifyVoteExtension accepts (empty) vote extensions.
func (a *App) VerifyVoteExtension(context.Context, *abci.RequestVerifyVoteExtension) (*abci.ResponseVerifyVoteExtension, error) {
	return &abci.ResponseVerifyVoteExtension{Status: abci.ResponseVerifyVoteExtension_ACCEPT}, nil
}

// Commit saves the working state as the version of the finalized block and
// makes it the committed view readers see.
func (a *App) Commit(_ context.Context, _ *abci.RequestCommit) (*abci.ResponseCommit, error) {
	a.wmu.Lock()
	defer a.wmu.Unlock()
	if a.pending == nil {
		return nil, errors.New("Commit without FinalizeBlock")
	}
	// A copying index (LayoutEveryVersion) is written first: it may run one
	// block ahead of the tree, never behind it. Leaf pointers
	// (LayoutRecordsOnce) exist only once the tree saved the version: that
	// index may be one block behind after a stop, and Open repairs it.
	// Either way the view is published after both (see latestIndex).
	if a.idx.values.Load() && (a.move != nil || a.layout != ledger.LayoutEveryVersion) {
		// The first block of a move of the layout: from this block on the
		// index writes leaf pointers, and its copies are converted block
		// by block (indexswitch.go). Readers read both alike.
		a.idx.copiesLeft.Store(true)
		a.idx.values.Store(false)
		a.idx.leaves.reset()
	}
	copies := a.idx.values.Load()
	if copies {
		if err := a.idx.write(a.pending.height, a.pendingIdx); err != nil {
			a.noteStore(err)
			return nil, fmt.Errorf("index state version %d: %w", a.pending.height, err)
		}
	}
	hash, version, err := a.tree.SaveVersion()
	if err != nil {
		a.noteStore(err)
		return nil, fmt.Errorf("save state version %d: %w", a.pending.height, err)
	}
	if version != a.pending.height {
		return nil, fmt.Errorf("saved state version %d for block %d: the state folder belongs to another chain", version, a.pending.height)
	}
	switch {
	case a.idx.copiesLeft.Load():
		if err := a.switchIndex(version); err != nil {
			a.noteStore(err)
			return nil, fmt.Errorf("index state version %d during the move to layout %d: %w", version, ledger.LayoutRecordsOnce, err)
		}
	case !copies:
		if err := a.idx.write(version, a.pendingIdx); err != nil {
			a.noteStore(err)
			return nil, fmt.Errorf("index state version %d: %w", version, err)
		}
	}
	if err := a.publish(version); err != nil {
		return nil, err
	}
	a.mu.Lock()
	a.lastTime = a.pending.time
	a.committedLayout, a.committedMove = a.layout, a.move
	a.mu.Unlock()
	a.dir.apply(a.pendingDir)
	a.pendingDir = nil
	a.pending = nil
	a.afterCommitProtocol(version)
	a.log.Debug("commit", "height", version, "app_hash", fmt.Sprintf("%X", hash))
	a.prune(version)
	a.maybeSnapshot(version)
	return &abci.ResponseCommit{RetainHeight: a.retainHeight(version)}, nil
}

// maxPrunePerCommit bounds the versions one Commit deletes, so a node that
// starts pruning a long history spreads the work over many blocks.
const maxPrunePerCommit = 64

// prune deletes state versions older than the KeepVersions newest, but
// never a version a snapshot is being written of.
func (a *App) prune(version int64) {
	if a.cfg.KeepVersions < 0 {
		return
	}
	to := version - a.cfg.KeepVersions
	if e := a.exporting.Load(); e > 0 && to >= e {
		to = e - 1
	}
	if to <= a.pruned {
		return
	}
	if a.pruned == 0 {
		// First prune of this process: start from the oldest version on
		// disk, not from 1 (a restored or pruned state has no older ones).
		if vs := a.tree.AvailableVersions(); len(vs) > 0 {
			a.pruned = int64(vs[0]) - 1
		}
		if to <= a.pruned {
			return
		}
	}
	to = min(to, a.pruned+maxPrunePerCommit)
	hits, misses := a.treeStats.GetCacheHitCnt(), a.treeStats.GetCacheMissCnt()
	err := a.tree.DeleteVersionsTo(to)
	a.pruneHits.Add(a.treeStats.GetCacheHitCnt() - hits)
	a.pruneMisses.Add(a.treeStats.GetCacheMissCnt() - misses)
	if err != nil {
		a.log.Warn("prune state versions", "to", to, "err", err)
		return
	}
	a.pruned = to
}

// retainHeight is the lowest block CometBFT must keep (0: every block).
func (a *App) retainHeight(version int64) int64 {
	if a.cfg.KeepBlocks <= 0 {
		return 0
	}
	retain := version - a.cfg.KeepBlocks
	if a.cfg.SnapshotInterval > 0 {
		// Keep the blocks from the oldest snapshot on: a node state
		// syncing from it reads the headers just above it.
		oldest := a.oldestSnapshot()
		if oldest == 0 {
			return 0
		}
		retain = min(retain, oldest)
	}
	return max(retain, 0)
}
