package benchbase

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"time"

	"github.com/medid/medid/internal/atomicfile"
)

// RunSummary is a [LedgerRun] reduced to what BENCHMARKS.md and the plots
// show: the figures, and the latency distribution as 101 quantiles
// (0%, 1%, …, 100%) instead of every latency, so a history of runs stays
// small enough to keep in the repository (docs/benchmarks/ledger-runs.json).
type RunSummary struct {
	// Label names the code the run measured ("before", "after", …).
	Label       string    `json:"label"`
	Name        string    `json:"name"`
	Variant     string    `json:"variant"`
	Validators  int       `json:"validators"`
	Txs         int       `json:"txs"`
	TPS         float64   `json:"tps"`
	OfferedRate float64   `json:"offeredRate,omitempty"`
	P50ms       float64   `json:"p50ms"`
	P99ms       float64   `json:"p99ms"`
	SigEq       float64   `json:"sigeqPerTx"`
	SigEqNode   float64   `json:"sigeqPerTxPerNode"`
	SigEqWorst  float64   `json:"sigeqPerTxWorstNode"`
	VerifyUS    float64   `json:"verifyMicros"`
	Load        float64   `json:"load1"`
	When        time.Time `json:"when"`
	// QuantilesMS[i] is the i-th percentile of commit latency in ms.
	QuantilesMS []float64 `json:"latencyQuantilesMs"`
}

// Summarize reduces r to a RunSummary labelled label.
func (r *LedgerRun) Summarize(label string) RunSummary {
	mean, worst := r.SigEqPerNode()
	s := RunSummary{Label: label, Name: r.Name, Variant: r.Variant, Validators: r.Validators, Txs: r.Txs,
		TPS: r.TPS(), OfferedRate: r.OfferedRate, P50ms: ms(r.Percentile(0.5)), P99ms: ms(r.Percentile(0.99)),
		SigEq: r.SigEq(), SigEqNode: mean, SigEqWorst: worst, VerifyUS: float64(r.VerifyCPU.Nanoseconds()) / 1000,
		Load: r.Load.One, When: r.When}
	if len(r.Latencies) > 0 {
		d := slices.Clone(r.Latencies)
		slices.Sort(d)
		for q := 0; q <= 100; q++ {
			s.QuantilesMS = append(s.QuantilesMS, ms(d[min(len(d)-1, q*len(d)/100)]))
		}
	}
	return s
}

// ReadSummaries reads a summary file written by [WriteSummaries]; a
// missing file is an empty history.
func ReadSummaries(path string) ([]RunSummary, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []RunSummary
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return out, nil
}

// WriteSummaries writes runs to path (JSON, atomically), ordered by
// label, then name, then time.
func WriteSummaries(path string, runs []RunSummary) error {
	slices.SortStableFunc(runs, func(a, b RunSummary) int {
		switch {
		case a.Label != b.Label:
			return cmpString(a.Label, b.Label)
		case a.Name != b.Name:
			return cmpString(a.Name, b.Name)
		}
		return a.When.Compare(b.When)
	})
	b, err := json.MarshalIndent(runs, "", " ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, append(b, '\n'), 0o644)
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
