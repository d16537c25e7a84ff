// Command benchplot draws the ledger benchmark plots of BENCHMARKS.md from
// the runs the benchmarks saved (internal/benchbase.LedgerRun, written
// when MEDID_BENCH_RESULTS is set), with gonum.org/v1/plot:
//
//	go run ./internal/benchplot -runs DIR -label after -history docs/benchmarks/ledger-runs.json -out docs/benchmarks
//
// It adds the runs in DIR to the history file under the label (a summary
// per run: figures and 101 latency quantiles), then draws, from the whole
// history:
//
//   - ledger-throughput.png: committed tx/s against the number of
//     validators (one OS process each), every run and the median;
//   - ledger-cpu-per-node.png: sig-equivalents per transaction per
//     validator against the number of validators;
//   - ledger-latency-cdf.png: the commit latency distribution under an
//     open-loop load of 50%, 80% and 90% of the peak;
//   - ledger-sigeq.png: sig-equivalents per transaction per validator,
//     each benchmark before and after (median of its runs).
//
// `make bench-ledger` runs the benchmarks and then this.
package main

import (
	"flag"
	"fmt"
	"image/color"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/medid/medid/internal/benchbase"
)

func main() {
	runs := flag.String("runs", "", "folder of saved benchmark runs (MEDID_BENCH_RESULTS) to add to the history; empty: plot the history only")
	label := flag.String("label", "after", "label of the added runs (the code they measured)")
	history := flag.String("history", "docs/benchmarks/ledger-runs.json", "history file of run summaries")
	out := flag.String("out", "docs/benchmarks", "folder for the PNG files")
	flag.Parse()
	if err := run(*runs, *label, *history, *out); err != nil {
		fmt.Fprintln(os.Stderr, "benchplot:", err)
		os.Exit(1)
	}
}

func run(runsDir, label, history, out string) error {
	hist, err := benchbase.ReadSummaries(history)
	if err != nil {
		return err
	}
	if runsDir != "" {
		runs, err := benchbase.LoadRuns(runsDir)
		if err != nil {
			return err
		}
		if len(runs) == 0 {
			return fmt.Errorf("no runs in %s: run the benchmarks with %s=%s first", runsDir, benchbase.ResultsDirEnv, runsDir)
		}
		for i := range runs {
			hist = append(hist, runs[i].Summarize(label))
		}
		if err := benchbase.WriteSummaries(history, hist); err != nil {
			return err
		}
		fmt.Printf("benchplot: %d runs added to %s as %q\n", len(runs), history, label)
	}
	if len(hist) == 0 {
		return fmt.Errorf("%s holds no runs", history)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	for _, p := range []struct {
		file string
		draw func([]benchbase.RunSummary) (*plot.Plot, error)
	}{
		{"ledger-throughput.png", throughput},
		{"ledger-cpu-per-node.png", cpuPerNode},
		{"ledger-latency-cdf.png", latencyCDF},
		{"ledger-sigeq.png", sigeqBeforeAfter},
	} {
		pl, err := p.draw(hist)
		if err != nil {
			return fmt.Errorf("%s: %w", p.file, err)
		}
		if pl == nil {
			fmt.Printf("benchplot: %s: no runs for it yet, skipped\n", p.file)
			continue
		}
		path := filepath.Join(out, p.file)
		if err := pl.Save(7*vg.Inch, 4.5*vg.Inch, path); err != nil {
			return err
		}
		fmt.Println("benchplot: wrote", path)
	}
	return nil
}

// closedProcs are the closed-loop runs of validator processes: the peak
// throughput figures.
func closedProcs(h []benchbase.RunSummary, label string) []benchbase.RunSummary {
	var out []benchbase.RunSummary
	for _, r := range h {
		if r.Label == label && r.Variant == "processes" && r.OfferedRate == 0 {
			out = append(out, r)
		}
	}
	return out
}

// labels returns the labels in h, "before" first and the latest last.
func labels(h []benchbase.RunSummary) []string {
	var ls []string
	first := map[string]time.Time{}
	for _, r := range h {
		if t, ok := first[r.Label]; !ok {
			ls = append(ls, r.Label)
			first[r.Label] = r.When
		} else if r.When.Before(t) {
			first[r.Label] = r.When
		}
	}
	// "before" first, then the labels in the order their first runs were
	// made (the history file keeps them sorted by name, so the order of
	// appearance is not the order in time).
	sort.SliceStable(ls, func(i, j int) bool {
		if (ls[i] == "before") != (ls[j] == "before") {
			return ls[i] == "before"
		}
		return first[ls[i]].Before(first[ls[j]])
	})
	return ls
}

var palette = []color.Color{
	color.RGBA{R: 0x99, G: 0x99, B: 0x99, A: 0xff}, // before: grey
	color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff},
	color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff},
	color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff},
	color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff},
	color.RGBA{R: 0x94, G: 0x67, B: 0xbd, A: 0xff},
	color.RGBA{R: 0x8c, G: 0x56, B: 0x4b, A: 0xff},
	color.RGBA{R: 0x17, G: 0xbe, B: 0xcf, A: 0xff},
}

// byValidators plots one figure of the closed-loop process runs against
// the number of validators: every run as a point, the median as a line.
func byValidators(h []benchbase.RunSummary, title, ylabel string, value func(benchbase.RunSummary) float64) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "validators (one registryd process each, on this 2-core machine)"
	p.Y.Label.Text = ylabel
	p.Y.Min = 0
	any := false
	for i, l := range labels(h) {
		runs := closedProcs(h, l)
		if len(runs) == 0 {
			continue
		}
		any = true
		var pts plotter.XYs
		byN := map[int][]float64{}
		for _, r := range runs {
			pts = append(pts, plotter.XY{X: float64(r.Validators), Y: value(r)})
			byN[r.Validators] = append(byN[r.Validators], value(r))
		}
		var med plotter.XYs
		for _, n := range sortedKeys(byN) {
			med = append(med, plotter.XY{X: float64(n), Y: median(byN[n])})
		}
		c := palette[i%len(palette)]
		sc, err := plotter.NewScatter(pts)
		if err != nil {
			return nil, err
		}
		sc.GlyphStyle.Color, sc.GlyphStyle.Radius = c, vg.Points(2.5)
		ln, err := plotter.NewLine(med)
		if err != nil {
			return nil, err
		}
		ln.Color, ln.Width = c, vg.Points(1.5)
		p.Add(sc, ln)
		p.Legend.Add(fmt.Sprintf("%s (median of %d runs)", l, len(runs)), ln)
	}
	if !any {
		return nil, nil
	}
	p.Legend.Top = true
	p.Add(plotter.NewGrid())
	p.X.Tick.Marker = plot.ConstantTicks(validatorTicks(h))
	return p, nil
}

func throughput(h []benchbase.RunSummary) (*plot.Plot, error) {
	return byValidators(h, "Committed did.create per second", "tx/s",
		func(r benchbase.RunSummary) float64 { return r.TPS })
}

func cpuPerNode(h []benchbase.RunSummary) (*plot.Plot, error) {
	return byValidators(h, "CPU per committed transaction, per validator", "sig-equivalents per tx per validator",
		func(r benchbase.RunSummary) float64 { return r.SigEqNode })
}

func validatorTicks(h []benchbase.RunSummary) []plot.Tick {
	seen := map[int][]float64{}
	for _, r := range h {
		seen[r.Validators] = nil
	}
	var t []plot.Tick
	for _, n := range sortedKeys(seen) {
		t = append(t, plot.Tick{Value: float64(n), Label: fmt.Sprint(n)})
	}
	return t
}

// latencyCDF draws the open-loop runs of the latest label (in time: see
// labels) that has any:
// one curve per network size and load fraction (the latest run of each).
func latencyCDF(h []benchbase.RunSummary) (*plot.Plot, error) {
	open := func(r benchbase.RunSummary) bool { return r.OfferedRate > 0 && len(r.QuantilesMS) > 0 }
	label := ""
	for _, l := range labels(h) {
		if slices.ContainsFunc(h, func(r benchbase.RunSummary) bool { return r.Label == l && open(r) }) {
			label = l
		}
	}
	if label == "" {
		return nil, nil
	}
	latest := map[string]benchbase.RunSummary{}
	for _, r := range h {
		if r.Label != label || !open(r) {
			continue
		}
		if prev, ok := latest[r.Name]; !ok || r.When.After(prev.When) {
			latest[r.Name] = r
		}
	}
	if len(latest) == 0 {
		return nil, nil
	}
	p := plot.New()
	p.Title.Text = "Commit latency under an open-loop load (fraction of peak)"
	p.X.Label.Text = "commit latency as the HTTP client sees it (ms)"
	p.Y.Label.Text = "fraction of transactions"
	p.Y.Min, p.Y.Max = 0, 1
	names := make([]string, 0, len(latest))
	for n := range latest {
		names = append(names, n)
	}
	sort.Strings(names)
	dashes := [][]vg.Length{nil, {vg.Points(4), vg.Points(2)}}
	for i, n := range names {
		r := latest[n]
		var pts plotter.XYs
		for q, v := range r.QuantilesMS {
			pts = append(pts, plotter.XY{X: v, Y: float64(q) / 100})
		}
		ln, err := plotter.NewLine(pts)
		if err != nil {
			return nil, err
		}
		ln.Color = palette[1+i%(len(palette)-1)]
		ln.Width = vg.Points(1.5)
		if r.Validators > 1 {
			ln.Dashes = dashes[1]
		}
		p.Add(ln)
		p.Legend.Add(fmt.Sprintf("%s: %.0f tx/s offered, p50 %.0f ms", shortName(n), r.OfferedRate, r.P50ms), ln)
	}
	p.Legend.Top, p.Legend.Left = false, false
	p.Legend.YOffs = vg.Points(40)
	p.Add(plotter.NewGrid())
	return p, nil
}

func shortName(n string) string {
	n = strings.TrimPrefix(n, "BenchmarkCommitLatencyProcs/")
	return strings.TrimSuffix(n, "-2")
}

// sigeqBeforeAfter draws, per benchmark, the median sig-equivalents per
// transaction per validator of each label.
func sigeqBeforeAfter(h []benchbase.RunSummary) (*plot.Plot, error) {
	kind := func(r benchbase.RunSummary) string {
		if r.OfferedRate > 0 {
			return ""
		}
		return fmt.Sprintf("%d %s", r.Validators, map[string]string{"processes": "proc.", "in-process": "in-proc."}[r.Variant])
	}
	var kinds []string
	for _, r := range h {
		if k := kind(r); k != "" && !slices.Contains(kinds, k) {
			kinds = append(kinds, k)
		}
	}
	if len(kinds) == 0 {
		return nil, nil
	}
	sort.Strings(kinds)
	p := plot.New()
	p.Title.Text = "CPU per committed did.create, per validator (median of runs)"
	p.Y.Label.Text = "sig-equivalents per tx per validator"
	ls := labels(h)
	w := vg.Points(14)
	for i, l := range ls {
		vals := make(plotter.Values, len(kinds))
		for j, k := range kinds {
			var v []float64
			for _, r := range h {
				if r.Label == l && kind(r) == k {
					v = append(v, r.SigEqNode)
				}
			}
			vals[j] = median(v)
		}
		bars, err := plotter.NewBarChart(vals, w)
		if err != nil {
			return nil, err
		}
		bars.Color = palette[i%len(palette)]
		bars.LineStyle.Width = 0
		bars.Offset = w * vg.Length(float64(i)-float64(len(ls)-1)/2)
		p.Add(bars)
		p.Legend.Add(l, bars)
	}
	p.NominalX(kinds...)
	// Room around the outer groups, and the legend at the top left, clear
	// of the bars.
	p.X.Min, p.X.Max = -0.7, float64(len(kinds))-0.3
	p.Legend.Top, p.Legend.Left = true, true
	p.Legend.XOffs = vg.Points(10)
	p.Add(plotter.NewGrid())
	p.X.Label.Text = "validators and how they run (proc.: one OS process each; in-proc.: all in the benchmark's process)"
	p.X.Label.TextStyle.XAlign = draw.XCenter
	return p, nil
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func sortedKeys(m map[int][]float64) []int {
	var k []int
	for n := range m {
		k = append(k, n)
	}
	slices.Sort(k)
	return k
}
