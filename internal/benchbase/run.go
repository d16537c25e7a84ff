package benchbase

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/medid/medid/internal/atomicfile"
)

// LedgerRun is what one run of a ledger benchmark measured: committed
// transactions, the time they took, each one's commit latency, the CPU
// the validators used, and the baseline measured in the same process (one
// bare crypto/ed25519.Verify) that turns CPU per transaction into
// "sig-equivalents", a unit that carries over between machines.
type LedgerRun struct {
	// Name identifies the benchmark (for the results file and the plots).
	Name string `json:"name"`
	// Variant says how the validators ran: "processes" (one OS process
	// each), "in-process" (all in the benchmark's process) or "app" (the
	// state machine without consensus).
	Variant string `json:"variant"`
	// Validators is the number of validators that executed every
	// transaction.
	Validators int `json:"validators"`
	// Txs is the number of committed transactions; Elapsed the wall time
	// from the first submission to the last commit.
	Txs     int           `json:"txs"`
	Elapsed time.Duration `json:"elapsed"`
	// OfferedRate is the open-loop submission rate in tx/s (0: a closed
	// loop of Workers submitters each waiting for its commit).
	OfferedRate float64 `json:"offeredRate,omitempty"`
	Workers     int     `json:"workers,omitempty"`
	// Latencies are the commit latencies as the submitter saw them.
	Latencies []time.Duration `json:"latencies"`
	// NodeCPU is the CPU time each validator used during the run (one
	// entry per validator process); for in-process validators it has one
	// entry, the whole process (validators and submitters together).
	NodeCPU []time.Duration `json:"nodeCpu"`
	// VerifyCPU is one bare crypto/ed25519.Verify's CPU time, measured in
	// the benchmark's process around the run (see Ed25519VerifyCPU).
	VerifyCPU time.Duration `json:"verifyCpu"`
	// Load is the machine's load average read at the end of the run.
	Load Load `json:"load"`
	// Blocks is the number of blocks the run took (0 if unknown).
	Blocks int64 `json:"blocks,omitempty"`
	// When the run ended.
	When time.Time `json:"when"`
}

// TPS returns committed transactions per second.
func (r *LedgerRun) TPS() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Txs) / r.Elapsed.Seconds()
}

// TotalCPU returns the CPU time of all validators together.
func (r *LedgerRun) TotalCPU() time.Duration {
	var t time.Duration
	for _, c := range r.NodeCPU {
		t += c
	}
	return t
}

// SigEq returns the CPU per committed transaction of all validators
// together in units of one bare Ed25519 verification.
func (r *LedgerRun) SigEq() float64 {
	if r.Txs == 0 || r.VerifyCPU <= 0 {
		return 0
	}
	return float64(r.TotalCPU()) / float64(r.Txs) / float64(r.VerifyCPU)
}

// SigEqPerNode returns SigEq divided by the number of validators (the
// mean per validator) and the largest single validator's figure (equal to
// the mean when the validators share one process).
func (r *LedgerRun) SigEqPerNode() (mean, worst float64) {
	if r.Txs == 0 || r.VerifyCPU <= 0 || r.Validators == 0 {
		return 0, 0
	}
	mean = r.SigEq() / float64(r.Validators)
	if len(r.NodeCPU) != r.Validators {
		return mean, mean
	}
	for _, c := range r.NodeCPU {
		worst = max(worst, float64(c)/float64(r.Txs)/float64(r.VerifyCPU))
	}
	return mean, worst
}

// Percentile returns the p-quantile (0..1) of the commit latencies.
func (r *LedgerRun) Percentile(p float64) time.Duration {
	if len(r.Latencies) == 0 {
		return 0
	}
	d := slices.Clone(r.Latencies)
	slices.Sort(d)
	return d[min(len(d)-1, int(float64(len(d))*p))]
}

// Report reports the run as benchmark metrics: tx/s, p50 and p99 commit
// latency, sig-equivalents per transaction in total and per validator,
// the baseline's CPU time, CPU per transaction and the load average.
func (r *LedgerRun) Report(b *testing.B) {
	b.Helper()
	mean, worst := r.SigEqPerNode()
	b.ReportMetric(r.TPS(), "tx/s")
	b.ReportMetric(ms(r.Percentile(0.50)), "p50-ms")
	b.ReportMetric(ms(r.Percentile(0.99)), "p99-ms")
	b.ReportMetric(r.SigEq(), "sigeq/tx")
	if r.Validators > 1 {
		b.ReportMetric(mean, "sigeq/tx/node")
		if len(r.NodeCPU) == r.Validators {
			b.ReportMetric(worst, "max-sigeq/tx/node")
		}
	}
	b.ReportMetric(float64(r.TotalCPU().Microseconds())/float64(max(r.Txs, 1)), "cpu-µs/tx")
	b.ReportMetric(float64(r.VerifyCPU.Nanoseconds())/1000, "verify-µs")
	b.ReportMetric(r.Load.One, "load1")
	if r.Blocks > 0 {
		b.ReportMetric(float64(r.Blocks), "blocks")
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// Summary is a one-line human summary of the run, for logs.
func (r *LedgerRun) Summary() string {
	mean, worst := r.SigEqPerNode()
	return fmt.Sprintf("%s: %d txs, %.0f tx/s, p50 %v p99 %v, %.2f sig-eq/tx (%.2f per node, worst %.2f), verify %v, load %s",
		r.Name, r.Txs, r.TPS(), r.Percentile(0.5).Round(time.Millisecond), r.Percentile(0.99).Round(time.Millisecond),
		r.SigEq(), mean, worst, r.VerifyCPU.Round(100*time.Nanosecond), r.Load)
}

// ResultsDirEnv names the environment variable that, when set, makes
// [LedgerRun.Save] write each run as JSON into that folder (make
// bench-ledger sets it and plots the files).
const ResultsDirEnv = "MEDID_BENCH_RESULTS"

// Save writes the run to $MEDID_BENCH_RESULTS/<name>-<time>.json when that
// variable is set, and does nothing otherwise.
func (r *LedgerRun) Save() error {
	dir := os.Getenv(ResultsDirEnv)
	if dir == "" {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(r, "", " ")
	if err != nil {
		return err
	}
	name := strings.NewReplacer("/", "_", " ", "_").Replace(r.Name)
	return atomicfile.WriteFile(filepath.Join(dir, fmt.Sprintf("%s-%s.json", name, r.When.Format("20060102T150405.000"))), b, 0o644)
}

// LoadRuns reads every run saved in dir.
func LoadRuns(dir string) ([]LedgerRun, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	var runs []LedgerRun
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var r LedgerRun
		if err := json.Unmarshal(b, &r); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		runs = append(runs, r)
	}
	return runs, nil
}
