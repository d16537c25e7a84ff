package batch

import (
	"os"
	"strconv"
	"testing"
	"time"
)

// BenchmarkAppend measures durable appends (each returns once its leaf is
// fsynced) of 650-byte leaves, about a sealed trail entry, with many
// appenders in flight (MEDID_BENCH_PARALLELISM goroutines per core, 32 by
// default): the group commit's throughput on this disk.
//
//	go test ./registry/hospital/batch -run '^$' -bench Append -benchtime 3s
func BenchmarkAppend(b *testing.B) {
	g := newLedger()
	l, err := OpenLog(g.config(b.TempDir()))
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	leaf := make([]byte, 650)
	par := 32
	if n, err := strconv.Atoi(os.Getenv("MEDID_BENCH_PARALLELISM")); err == nil && n > 0 {
		par = n
	}
	b.SetParallelism(par)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := l.Append("p", leaf); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "appends/s")
}
