package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/bvinc/go-sqlite-lite/sqlite3"
	"github.com/cosmos/iavl"
	iavldb "github.com/cosmos/iavl/db"
	iavl2 "github.com/cosmos/iavl/v2"
	"github.com/syndtr/goleveldb/leveldb"
	"github.com/syndtr/goleveldb/leveldb/filter"
	"github.com/syndtr/goleveldb/leveldb/opt"
)

// store is one tree store under study: the working tree of the next
// version, and Commit, which saves it, writes the block's latest-index
// entries and prunes as registry/machine does.
type store interface {
	// Has reads key in the working tree.
	Has(key []byte) (bool, error)
	Set(key, value []byte) error
	// Commit saves the working tree as the next version, then writes
	// index (the block's latest-index entries) and prunes to keep
	// versions. It returns the root hash and the version.
	Commit(index [][2][]byte) ([]byte, int64, error)
	Version() int64
	// Misses is the tree's node reads from storage so far, and the part
	// of them pruning made (-1: unknown).
	Misses() (all, prune int64)
	// Warm reads every node of the latest version once (v1: into the
	// node cache, as far as it holds them; v2: through its SQLite pages
	// into the page cache), as a validator that has run for long has.
	Warm() error
	Close() error
}

// levelOptions are registry/machine's LevelDB options (app.go, New) at
// its defaults: 1 GiB block cache, 256 open files.
func levelOptions() *opt.Options {
	return &opt.Options{
		BlockCacheCapacity:     1 << 30,
		Filter:                 filter.NewBloomFilter(10),
		WriteBuffer:            64 << 20,
		CompactionTableSize:    8 << 20,
		CompactionTotalSize:    64 << 20,
		OpenFilesCacheCapacity: 256,
		DisableSeeksCompaction: true,
	}
}

// v1Store is cosmos/iavl v1 on goleveldb as registry/machine opens it:
// fast storage off, pruning in Commit (DeleteVersionsTo, at most 64
// versions a commit), the index in the same LevelDB.
type v1Store struct {
	db     *iavldb.GoLevelDB
	tree   *iavl.MutableTree
	stats  iavl.Statistics
	keep   int64
	pruned int64
	// pruneMisses are the node cache misses of DeleteVersionsTo so far.
	pruneMisses int64
}

func openV1(dir string, cache int, keep int64) (*v1Store, error) {
	db, err := iavldb.NewGoLevelDBWithOpts("state", dir, levelOptions())
	if err != nil {
		return nil, err
	}
	s := &v1Store{db: db, keep: keep}
	s.tree = iavl.NewMutableTree(db, cache, true, iavl.NewNopLogger(), iavl.StatOption(&s.stats))
	if _, err := s.tree.Load(); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

func (s *v1Store) Has(k []byte) (bool, error) { return s.tree.Has(k) }
func (s *v1Store) Set(k, v []byte) error      { _, err := s.tree.Set(k, v); return err }
func (s *v1Store) Version() int64             { return s.tree.Version() }
func (s *v1Store) Misses() (int64, int64) {
	return int64(s.stats.GetCacheMissCnt()), s.pruneMisses
}
func (s *v1Store) Close() error { return s.db.Close() }

func (s *v1Store) Warm() error {
	_, err := s.tree.Iterate(func(_, _ []byte) bool { return false })
	return err
}

func (s *v1Store) Commit(index [][2][]byte) ([]byte, int64, error) {
	hash, v, err := s.tree.SaveVersion()
	if err != nil {
		return nil, 0, err
	}
	if err := writeIndex(s.db.RawDB(), v, index); err != nil {
		return nil, 0, err
	}
	if s.keep >= 0 {
		m := s.stats.GetCacheMissCnt()
		if err := prune(s.tree, &s.pruned, v-s.keep); err != nil {
			return nil, 0, err
		}
		s.pruneMisses += int64(s.stats.GetCacheMissCnt() - m)
	}
	return hash, v, nil
}

// prune is registry/machine's App.prune: from the oldest version on disk,
// at most 64 versions a commit.
func prune(t *iavl.MutableTree, pruned *int64, to int64) error {
	if to <= *pruned {
		return nil
	}
	if *pruned == 0 {
		if vs := t.AvailableVersions(); len(vs) > 0 {
			*pruned = int64(vs[0]) - 1
		}
		if to <= *pruned {
			return nil
		}
	}
	to = min(to, *pruned+64)
	if err := t.DeleteVersionsTo(to); err != nil {
		return err
	}
	*pruned = to
	return nil
}

var indexHeightKey = []byte("x:height")

// writeIndex writes a block's latest-index entries and its height in one
// batch, as registry/machine's latestIndex.write.
func writeIndex(db *leveldb.DB, h int64, index [][2][]byte) error {
	var b leveldb.Batch
	for _, e := range index {
		b.Put(e[0], e[1])
	}
	b.Put(indexHeightKey, binary.BigEndian.AppendUint64(nil, uint64(h)))
	return db.Write(&b, nil)
}

// v2Store is cosmos/iavl v2 (SQLite) with its default tree options
// (checkpoint every 1,000 versions, prune ratio 2, eviction depth -1,
// height filter 1, leaf values stored) and 100 versions kept at least;
// v2 prunes by itself at checkpoints (its DeleteVersionsTo does nothing).
// The latest index lives in a LevelDB beside it, with registry/machine's
// options.
type v2Store struct {
	dir  string
	sql  *iavl2.SqliteDb
	tree *iavl2.Tree
	idx  *leveldb.DB
}

// v2Options are v2 alpha.4's DefaultTreeOptions with keep versions kept
// at least, and evictionDepth and checkpoint when not zero. Its authors'
// benchmark (cmd/bench in cosmos/iavl's v2 folder) runs eviction depth
// 22 (branches nearer the root than 22 stay in memory across
// checkpoints; -1, the default, drops every branch at each checkpoint)
// and a checkpoint every 80 versions.
//
// heightFilter, when not negative, replaces the default 1 (leaves are
// dropped from memory after every version; 0 keeps them).
func v2Options(keep int64, evictionDepth int8, checkpoint int64, heightFilter int8) iavl2.TreeOptions {
	o := iavl2.DefaultTreeOptions()
	if heightFilter >= 0 {
		o.HeightFilter = heightFilter
	}
	o.MinimumKeepVersions = keep
	if evictionDepth != 0 {
		o.EvictionDepth = evictionDepth
	}
	if checkpoint != 0 {
		o.CheckpointInterval = checkpoint
	}
	return o
}

func openV2(dir string, keep int64, evictionDepth int8, checkpoint int64, heightFilter int8) (*v2Store, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	pool := iavl2.NewNodePool()
	sql, err := iavl2.NewSqliteDb(pool, iavl2.SqliteDbOptions{Path: filepath.Join(dir, "tree")})
	if err != nil {
		return nil, err
	}
	t := iavl2.NewTree(sql, pool, v2Options(keep, evictionDepth, checkpoint, heightFilter))
	v, err := latestV2(filepath.Join(dir, "tree"))
	if err != nil {
		sql.Close()
		return nil, err
	}
	if err := t.LoadVersion(v); err != nil {
		sql.Close()
		return nil, fmt.Errorf("load version %d: %w", v, err)
	}
	idx, err := leveldb.OpenFile(filepath.Join(dir, "index.db"), levelOptions())
	if err != nil {
		sql.Close()
		return nil, err
	}
	return &v2Store{dir: dir, sql: sql, tree: t, idx: idx}, nil
}

// latestV2 is the newest version a v2 state saved (0: none), from its
// root table: v2 alpha.4 has no call that says so.
func latestV2(dir string) (int64, error) {
	path := filepath.Join(dir, "root.sqlite")
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	conn, err := sqlite3.Open(path)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	q, err := conn.Prepare("SELECT IFNULL(MAX(version), 0) FROM root")
	if err != nil {
		return 0, err
	}
	defer q.Close()
	if _, err := q.Step(); err != nil {
		return 0, err
	}
	var v int64
	err = q.Scan(&v)
	return v, err
}

func (s *v2Store) Has(k []byte) (bool, error) { return s.tree.Has(k) }
func (s *v2Store) Set(k, v []byte) error      { _, err := s.tree.Set(k, v); return err }
func (s *v2Store) Version() int64             { return s.tree.Version() }
func (s *v2Store) Misses() (int64, int64)     { return -1, -1 }

func (s *v2Store) Warm() error {
	it, err := s.tree.Iterator(nil, nil, true)
	if err != nil {
		return err
	}
	for ; it.Valid(); it.Next() {
	}
	return errors.Join(it.Error(), it.Close())
}

func (s *v2Store) Commit(index [][2][]byte) ([]byte, int64, error) {
	hash, v, err := s.tree.SaveVersion()
	if err != nil {
		return nil, 0, err
	}
	if err := writeIndex(s.idx, v, index); err != nil {
		return nil, 0, err
	}
	return hash, v, nil
}

func (s *v2Store) Close() error {
	return errors.Join(s.tree.Close(), s.idx.Close())
}
