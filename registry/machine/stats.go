package machine

import "sync/atomic"

// Stages at which a transaction is rejected.
const (
	StageCheck = "check" // CheckTx: refused at the mempool's door
	StageBlock = "block" // FinalizeBlock: in a block, rejected with a code
)

// maxCountedCode bounds the codes counted one by one; larger ones are
// counted together under it.
const maxCountedCode = 63

// rejections counts rejected transactions by stage and code.
type rejections struct {
	check, block [maxCountedCode + 1]atomic.Int64
}

func (r *rejections) note(block bool, code uint32) {
	c := min(code, maxCountedCode)
	if block {
		r.block[c].Add(1)
	} else {
		r.check[c].Add(1)
	}
}

// Rejections returns how many transactions this process rejected, by
// stage ([StageCheck], [StageBlock]) and ABCI code (see registry/ledger's
// codes), for the node's metrics. Safe for concurrent use.
func (a *App) Rejections() map[string]map[uint32]int64 {
	out := map[string]map[uint32]int64{StageCheck: {}, StageBlock: {}}
	for c := range a.rejected.check {
		if n := a.rejected.check[c].Load(); n > 0 {
			out[StageCheck][uint32(c)] = n
		}
		if n := a.rejected.block[c].Load(); n > 0 {
			out[StageBlock][uint32(c)] = n
		}
	}
	return out
}

// NodeReads counts the state tree's node reads since the App opened: a
// hit is answered from a node cache, a miss reads and decodes the node
// from the state database.
type NodeReads struct {
	// Hits and Misses are the reads of the tree blocks write to
	// (FinalizeBlock, Commit), pruning excluded.
	Hits, Misses uint64
	// PruneHits and PruneMisses are pruning's reads (walking the nodes a
	// pruned version replaced).
	PruneHits, PruneMisses uint64
	// ReaderHits and ReaderMisses are the reads of committed versions
	// (CheckTx, queries, proofs, snapshots), through the reader's cache.
	ReaderHits, ReaderMisses uint64
}

// NodeReads returns the App's node read counters. Safe for concurrent
// use; the counters are read one by one, not as one snapshot.
func (a *App) NodeReads() NodeReads {
	ph, pm := a.pruneHits.Load(), a.pruneMisses.Load()
	return NodeReads{
		Hits: a.treeStats.GetCacheHitCnt() - ph, Misses: a.treeStats.GetCacheMissCnt() - pm,
		PruneHits: ph, PruneMisses: pm,
		ReaderHits: a.readerStats.GetCacheHitCnt(), ReaderMisses: a.readerStats.GetCacheMissCnt(),
	}
}
