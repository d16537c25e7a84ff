package node

import (
	"math"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/cometbft/cometbft/privval"
	"github.com/prometheus/client_golang/prometheus"
)

// MetricSources are what the node's metrics read beside the node itself;
// nil functions leave their metrics out.
type MetricSources struct {
	// Rejections counts rejected transactions by stage and ABCI code
	// (registry/machine's App.Rejections).
	Rejections func() map[string]map[uint32]int64
	// LastSnapshot is the height and time of the newest state snapshot
	// (registry/machine's App.LastSnapshot).
	LastSnapshot func() (int64, time.Time)
	// TrailBacklog is how many access-trail entries wait to be anchored
	// (the hosted vault's Backlog).
	TrailBacklog func() (int, error)
	// Protocol is the committed state's protocol version, and
	// UpgradePending an upgrade scheduled to a protocol this release does
	// not execute (version 0: none) and its height (registry/machine's
	// App.Protocol and App.UpgradePending).
	Protocol       func() uint64
	UpgradePending func() (version uint64, height int64)
}

// blockMetrics are observed by the commit watcher.
type blockMetrics struct {
	interval prometheus.Histogram
	prevTime atomic.Int64 // unix nanos of the previous block's header time
}

// RegisterMetrics registers the node's Prometheus metrics on reg
// (namespace medid): consensus height, catching up, the catch-up's asks
// for peer heights and the answers received, peers, mempool size,
// this node's voting power, block intervals (header times), the age of the
// last block, transaction rejections by stage and code, the trail backlog,
// the snapshot height and age, and the protocol version with a pending
// upgrade this release cannot make. Call it before [Node.Start] for the
// block interval histogram to see every block. See docs/operations.md for
// alerts on them.
func (n *Node) RegisterMetrics(reg prometheus.Registerer, src MetricSources) error {
	gauge := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "medid", Subsystem: "node", Name: name, Help: help}, f)
	}
	bm := &blockMetrics{interval: prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: "medid", Subsystem: "node", Name: "block_interval_seconds",
		Help:    "Time between consecutive blocks, by their header times.",
		Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 7200},
	})}
	cs := []prometheus.Collector{
		bm.interval,
		gauge("consensus_height", "Height of the latest committed block.", func() float64 { return float64(n.Height()) }),
		gauge("catching_up", "1 while the node is syncing blocks from peers.", func() float64 {
			if n.cmt.IsRunning() && n.CatchingUp() {
				return 1
			}
			return 0
		}),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "medid", Subsystem: "node", Name: "catchup_asks_total",
			Help: "Times this node, catching up, asked every peer for its block heights (docs/design/0021)."},
			func() float64 { return float64(n.catchUp.asks.Load()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "medid", Subsystem: "node", Name: "catchup_answers_total",
			Help: "Block heights received from peers by block sync (answers to this node's asking, and one per peer connection)."},
			func() float64 { return float64(n.catchUp.answers.Load()) }),
		gauge("peers", "Connected peers.", func() float64 { return float64(n.cmt.Switch().Peers().Size()) }),
		gauge("mempool_txs", "Transactions waiting in the mempool.", func() float64 { return float64(n.cmt.Mempool().Size()) }),
		gauge("voting_power", "This node's voting power in the current validator set (0: not a validator).", func() float64 {
			if n.stateStore == nil {
				return 0
			}
			st, err := n.stateStore.Load()
			if err != nil || st.Validators == nil {
				return 0
			}
			pv, ok := n.cmt.PrivValidator().(*privval.FilePV)
			if !ok {
				return 0
			}
			_, v := st.Validators.GetByAddress(pv.GetAddress())
			if v == nil {
				return 0
			}
			return float64(v.VotingPower)
		}),
		gauge("last_block_age_seconds", "Seconds since this node committed its last block (the chain makes an empty block at least every empty-block interval).", func() float64 {
			t := n.lastBlock.Load()
			if t == 0 {
				return math.NaN()
			}
			return time.Since(time.Unix(0, t)).Seconds()
		}),
	}
	if src.Rejections != nil {
		cs = append(cs, rejectionCollector{f: src.Rejections, desc: prometheus.NewDesc("medid_node_tx_rejections_total",
			"Transactions rejected by the application, by stage (check: at the mempool, block: in a block) and ABCI code.", []string{"stage", "code"}, nil)})
	}
	if src.LastSnapshot != nil {
		cs = append(cs,
			gauge("snapshot_height", "Height of the newest state sync snapshot (0: none).", func() float64 {
				h, _ := src.LastSnapshot()
				return float64(h)
			}),
			gauge("snapshot_age_seconds", "Seconds since the newest state sync snapshot was written (NaN: none).", func() float64 {
				h, at := src.LastSnapshot()
				if h == 0 {
					return math.NaN()
				}
				return time.Since(at).Seconds()
			}))
	}
	if src.TrailBacklog != nil {
		cs = append(cs, gauge("trail_backlog", "Access-trail entries waiting to be anchored on the ledger.", func() float64 {
			b, _ := src.TrailBacklog()
			return float64(b)
		}))
	}
	if src.Protocol != nil {
		cs = append(cs, gauge("protocol", "Protocol version of the committed state (the rules blocks execute by; CometBFT's app version).", func() float64 {
			return float64(src.Protocol())
		}))
	}
	if src.UpgradePending != nil {
		cs = append(cs,
			gauge("protocol_upgrade_pending", "1 while an upgrade to a protocol this node's release does not execute is scheduled: the node stops at protocol_upgrade_height unless its release is replaced before.", func() float64 {
				if v, _ := src.UpgradePending(); v > 0 {
					return 1
				}
				return 0
			}),
			gauge("protocol_upgrade_height", "Height of the pending protocol upgrade this node's release cannot make (0: none).", func() float64 {
				_, h := src.UpgradePending()
				return float64(h)
			}))
	}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	n.blocks.Store(bm)
	return nil
}

// observeBlock records a committed block's header time.
func (n *Node) observeBlock(t time.Time) {
	bm := n.blocks.Load()
	if bm == nil {
		return
	}
	prev := bm.prevTime.Swap(t.UnixNano())
	if prev != 0 && t.UnixNano() > prev {
		bm.interval.Observe(time.Duration(t.UnixNano() - prev).Seconds())
	}
}

// rejectionCollector exposes a rejection count function as counters.
type rejectionCollector struct {
	f    func() map[string]map[uint32]int64
	desc *prometheus.Desc
}

func (c rejectionCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c rejectionCollector) Collect(ch chan<- prometheus.Metric) {
	for stage, byCode := range c.f() {
		for code, n := range byCode {
			ch <- prometheus.MustNewConstMetric(c.desc, prometheus.CounterValue, float64(n), stage, strconv.FormatUint(uint64(code), 10))
		}
	}
}
