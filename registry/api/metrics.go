package api

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the API's Prometheus collectors.
type metrics struct {
	requests  *prometheus.CounterVec   // by route and status code
	latency   *prometheus.HistogramVec // by route
	txResults *prometheus.CounterVec   // by ABCI code (or outcome)
}

func newMetrics(reg *prometheus.Registry, l Ledger) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "medid", Subsystem: "registry_api", Name: "requests_total",
			Help: "HTTP requests by route and status code.",
		}, []string{"route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "medid", Subsystem: "registry_api", Name: "request_duration_seconds",
			Help:    "HTTP request latency by route.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route"}),
		txResults: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "medid", Subsystem: "registry", Name: "tx_results_total",
			Help: "Submitted transactions by result: the ABCI code, or mempool-full, duplicate, timeout, error.",
		}, []string{"code"}),
	}
	height := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: "medid", Subsystem: "registry", Name: "committed_height",
		Help: "Height of the latest committed block.",
	}, func() float64 { return float64(l.Height()) })
	for _, c := range []prometheus.Collector{m.requests, m.latency, m.txResults, height} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// statusWriter records the status code written.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection (per-route
// deadlines).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

var swPool = sync.Pool{New: func() any { return new(statusWriter) }}

func (m *metrics) instrument(route string, h http.HandlerFunc) http.Handler {
	obs := m.latency.WithLabelValues(route)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := swPool.Get().(*statusWriter)
		sw.ResponseWriter, sw.code = w, 0
		h(sw, r)
		code := sw.code
		if code == 0 {
			code = http.StatusOK
		}
		sw.ResponseWriter = nil
		swPool.Put(sw)
		obs.Observe(time.Since(start).Seconds())
		m.requests.WithLabelValues(route, strconv.Itoa(code)).Inc()
	})
}
