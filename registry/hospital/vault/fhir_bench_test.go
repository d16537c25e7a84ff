package vault

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/medid/medid/internal/benchbase"
)

// benchClients is how many requests are in flight at once, as from a
// load generator's connections (wrk -c32): a server serves many EHR
// requests concurrently, and the trail's group commit makes one fsync
// cover the entries of all the requests waiting on it.
const benchClients = 32

// serveN sends n requests made by req to h from benchClients goroutines
// and returns the rate and every request's latency. Any answer but want
// fails the benchmark.
func serveN(b *testing.B, h http.Handler, n int, want int, req func() *http.Request) (float64, []time.Duration) {
	var next atomic.Int64
	lat := make([]time.Duration, n)
	var wg sync.WaitGroup
	start := time.Now()
	for range benchClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				r := req()
				w := httptest.NewRecorder()
				t0 := time.Now()
				h.ServeHTTP(w, r)
				lat[i] = time.Since(t0)
				if w.Code != want {
					b.Errorf("status %d: %s", w.Code, w.Body.String())
					return
				}
			}
		}()
	}
	wg.Wait()
	return float64(n) / time.Since(start).Seconds(), lat
}

func p99(lat []time.Duration) time.Duration {
	s := slices.Clone(lat)
	slices.Sort(s)
	return s[len(s)*99/100]
}

// BenchmarkFHIRRead measures consent-checked FHIR reads through the whole
// path (bearer token introspection, scope check, the vault's consent
// decision on a remembered grant with the ledger asked every time,
// decryption, the trail entry sealed to the patient and appended, the
// BALP event in the client's feed), and in the same run the same read
// without the consent and audit layers (token check, record lookup,
// decryption, answer). Both go through an http.Handler from benchClients
// concurrent clients, without TCP. With MEDID_BENCH_FLUSH=1 the vault
// anchors its trail every second meanwhile, as registryd does (Vault.Run);
// wal-MiB is the trail's write-ahead file's size on disk at the end.
//
//	go test ./registry/hospital/vault -run '^$' -bench FHIRRead -benchtime 20000x
func BenchmarkFHIRRead(b *testing.B) {
	h, full, bare, req := fhirReadBench(b)
	base := benchbase.Ed25519VerifyRate(time.Second)
	b.ResetTimer()
	// The two paths take turns in fhirReadRounds slices of the run, so
	// a change in the machine's load during the run falls on both alike.
	var bareCPU, fullCPU, bareTime, fullTime time.Duration
	var lat []time.Duration
	s0 := h.v.log.Syncs()
	for i := range fhirReadRounds {
		n := b.N/fhirReadRounds + min(1, max(0, b.N%fhirReadRounds-i))
		if n == 0 {
			continue
		}
		c0, t0 := benchbase.ProcessCPU(), time.Now()
		serveN(b, bare, n, 200, req)
		c1, t1 := benchbase.ProcessCPU(), time.Now()
		_, l := serveN(b, full, n, 200, req)
		c2, t2 := benchbase.ProcessCPU(), time.Now()
		bareCPU, fullCPU, bareTime, fullTime = bareCPU+c1-c0, fullCPU+c2-c1, bareTime+t1.Sub(t0), fullTime+t2.Sub(t1)
		lat = append(lat, l...)
	}
	b.StopTimer()
	fullRate, bareRate := float64(b.N)/fullTime.Seconds(), float64(b.N)/bareTime.Seconds()
	b.ReportMetric(fullRate, "reads/s")
	b.ReportMetric(bareRate, "bare-reads/s")
	b.ReportMetric(fullRate/bareRate, "x-bare")
	// The same ratio in CPU time (the process's, per read): on a loaded
	// machine the rates follow the CPU share the process gets, which
	// differs between a CPU-bound path (bare) and one that waits on
	// fsync (full); CPU time per read does not.
	bareUS, fullUS := float64(bareCPU.Microseconds())/float64(b.N), float64(fullCPU.Microseconds())/float64(b.N)
	b.ReportMetric(fullUS, "cpu-µs/read")
	b.ReportMetric(bareUS, "bare-cpu-µs/read")
	b.ReportMetric(bareUS/fullUS, "x-bare-cpu")
	b.ReportMetric(float64(p99(lat).Microseconds())/1000, "p99-ms")
	// The slowest read: a stall of every read (such as the trail's
	// write-ahead file growing under its lock) shows here, not in p99.
	b.ReportMetric(float64(slices.Max(lat).Microseconds())/1000, "max-ms")
	b.ReportMetric(float64(b.N)/float64(max(h.v.log.Syncs()-s0, 1)), "reads/fsync")
	b.ReportMetric(fullRate/base, "x-ed25519-verify")
	reportWAL(b, h)
}

// reportWAL reports the size on disk of h's trail write-ahead file.
func reportWAL(b *testing.B, h *fhirHarness) {
	if st, err := os.Stat(filepath.Join(h.v.cfg.Dir, "trail", "pending.wal")); err == nil {
		b.ReportMetric(float64(st.Size())/(1<<20), "wal-MiB")
	}
}

// fhirReadRounds is how many turns each path of BenchmarkFHIRRead takes.
const fhirReadRounds = 4

// BenchmarkFHIRReadFull is BenchmarkFHIRRead's full path alone, with no
// baseline, so a CPU profile shows only its cost:
//
//	go test ./registry/hospital/vault -run '^$' -bench FHIRReadFull -benchtime 20000x -cpuprofile cpu.out
func BenchmarkFHIRReadFull(b *testing.B) {
	h, full, _, req := fhirReadBench(b)
	b.ResetTimer()
	s0 := h.v.log.Syncs()
	rate, lat := serveN(b, full, b.N, 200, req)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/float64(max(h.v.log.Syncs()-s0, 1)), "reads/fsync")
	b.ReportMetric(rate, "reads/s")
	b.ReportMetric(float64(p99(lat).Microseconds())/1000, "p99-ms")
	reportWAL(b, h)
}

// fhirReadBench sets up BenchmarkFHIRRead: a vault holding one allergy
// of a patient who granted the EHR access to allergies for treatment
// (remembered by a first read), the full FHIR handler, the bare read
// handler, and the EHR's read request.
func fhirReadBench(b *testing.B) (h *fhirHarness, full, bare http.Handler, req func() *http.Request) {
	h = newFHIRHarness(b)
	tok := h.token(h.ehr, "system/*.rs system/AllergyIntolerance.c system/Patient.c")
	id := h.writeAllergy(tok)
	grant := h.grant(h.patient, h.ehr.DID, []string{"AllergyIntolerance"}, "TREAT", 30, false, true)
	if st, body := h.do("GET", "/fhir/AllergyIntolerance/"+id, tok, "", map[string]string{HeaderConsent: grant}); st != 200 {
		b.Fatalf("priming read: %d %s", st, body)
	}
	full = h.f.Handler()
	if os.Getenv("MEDID_BENCH_FLUSH") == "1" {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { h.v.Run(ctx); close(done) }()
		b.Cleanup(func() { cancel(); <-done })
	}
	// The bare read is served like the full one, through a ServeMux with
	// the same route, and answers with the same headers: only the consent
	// and audit layers are missing.
	mux := http.NewServeMux()
	mux.HandleFunc("GET /fhir/{type}/{id}", func(w http.ResponseWriter, r *http.Request) {
		if _, fe := h.f.bearer(r); fe != nil {
			writeOutcome(w, fe)
			return
		}
		m, err := h.f.record(r.PathValue("type"), r.PathValue("id"))
		if err != nil {
			writeOutcome(w, vaultOutcome(err))
			return
		}
		pt, err := h.v.store.open(m)
		if err != nil {
			writeOutcome(w, vaultOutcome(err))
			return
		}
		w.Header().Set("ETag", `W/"1"`)
		w.Header().Set("Last-Modified", m.Created.UTC().Format(http.TimeFormat))
		writeFHIR(w, http.StatusOK, pt)
	})
	bare = mux
	req = func() *http.Request {
		r := httptest.NewRequest("GET", "/fhir/AllergyIntolerance/"+id, nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		return r
	}
	return h, full, bare, req
}

// BenchmarkCDSHooks measures CDS Hooks consent decisions through the
// handler: token introspection, request parsing, the vault's consent
// decision on the remembered grant, the trail entry; with the p99 latency
// and, in the same run, the rate of bare ed25519.Verify on all CPUs.
//
//	go test ./registry/hospital/vault -run '^$' -bench CDSHooks -benchtime 20000x
func BenchmarkCDSHooks(b *testing.B) {
	h := newFHIRHarness(b)
	tok := h.token(h.ehr, "system/*.rs system/AllergyIntolerance.c system/Patient.c")
	id := h.writeAllergy(tok)
	grant := h.grant(h.patient, h.ehr.DID, []string{"AllergyIntolerance"}, "TREAT", 30, false, true)
	if st, body := h.do("GET", "/fhir/AllergyIntolerance/"+id, tok, "", map[string]string{HeaderConsent: grant}); st != 200 {
		b.Fatalf("priming read: %d %s", st, body)
	}
	q := `{"hook":"patient-consent-consult","hookInstance":"d1577c69-dfbe-44ad-ba6d-3e05e953b2ea","context":{"patientId":[{"system":"urn:ietf:rfc:3986","value":"` +
		h.patient.DID + `"}],"scope":"patient-privacy","purposeOfUse":["TREAT"],"actor":[{"system":"urn:ietf:rfc:3986","value":"` + h.ehr.DID +
		`"}],"class":[{"system":"http://hl7.org/fhir/resource-types","code":"AllergyIntolerance"}]}}`
	hd := h.f.Handler()
	req := func() *http.Request {
		r := httptest.NewRequest("POST", "/cds-services/patient-consent-consult", strings.NewReader(q))
		r.Header.Set("Authorization", "Bearer "+tok)
		r.Header.Set("Content-Type", "application/json")
		return r
	}
	base := benchbase.Ed25519VerifyRate(time.Second)
	b.ResetTimer()
	rate, lat := serveN(b, hd, b.N, 200, req)
	b.StopTimer()
	b.ReportMetric(rate, "decisions/s")
	b.ReportMetric(float64(p99(lat).Microseconds())/1000, "p99-ms")
	b.ReportMetric(rate/base, "x-ed25519-verify")
}
