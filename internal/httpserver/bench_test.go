package httpserver

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// BenchmarkRequestOverhead measures what the hardened server adds to each
// request on the server side (marking its connection busy and waiting
// again for the eviction bookkeeping, the context lookups, the body-limit
// wrapper), from all CPUs at once so the listener's mutex is contended,
// against the same handler called directly in the same run. The handler
// writes a 658-byte body, the size of a DID resolution result.
func BenchmarkRequestOverhead(b *testing.B) {
	body := make([]byte, 658)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(body) })
	ln := newLimitListener(nil, 4096, 4096, slog.New(slog.DiscardHandler))
	s := &Server{ln: ln, limits: Limits{}.withDefaults()}
	wrapped := s.wrap(h)
	// One connection per goroutine, as the server gives each its own.
	run := func(b *testing.B, handler http.Handler) time.Duration {
		start := time.Now()
		b.RunParallel(func(pb *testing.PB) {
			c1, c2 := net.Pipe()
			defer c1.Close()
			defer c2.Close()
			cc := &countedConn{Conn: c1, l: ln}
			ln.mu.Lock()
			ln.open++
			cc.elem = ln.waiting.PushBack(cc)
			ln.mu.Unlock()
			req := httptest.NewRequest(http.MethodGet, "/1.0/identifiers/did:medid:x", nil)
			req = req.WithContext(withConn(context.WithValue(req.Context(), mutualKey{}, false), cc))
			w := httptest.NewRecorder()
			for pb.Next() {
				w.Body.Reset()
				handler.ServeHTTP(w, req)
			}
			_, _ = io.Discard.Write(w.Body.Bytes())
		})
		return time.Since(start)
	}
	bare := run(b, h)
	b.ResetTimer()
	hard := run(b, wrapped)
	b.StopTimer()
	b.ReportMetric(float64(hard.Nanoseconds()-bare.Nanoseconds())/float64(b.N), "added-ns/op")
	b.ReportMetric(float64(bare.Nanoseconds())/float64(b.N), "bare-ns/op")
}
