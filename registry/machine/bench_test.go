package machine

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/internal/benchbase"
	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/tx"
)

// createTxN returns a did.create transaction for a fresh identity number n.
func createTxN(tb testing.TB, n int) []byte {
	tb.Helper()
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(n))
	seed := sha256.Sum256(b[:])
	k, err := key.NewEd25519FromSeed(seed[:])
	if err != nil {
		tb.Fatal(err)
	}
	p, err := tx.NewDIDCreate(docTemplate(tx.Placeholder, []*key.PrivateKey{k}, []int{0}))
	if err != nil {
		tb.Fatal(err)
	}
	p.Nonce = "bench"
	raw, err := tx.Sign(p, k, p.DID+"#key-1")
	if err != nil {
		tb.Fatal(err)
	}
	return raw
}

// BenchmarkEd25519Verify is the baseline: one bare signature verification.
func BenchmarkEd25519Verify(b *testing.B) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	msg := make([]byte, 600)
	sig := ed25519.Sign(priv, msg)
	b.ResetTimer()
	for range b.N {
		if !ed25519.Verify(pub, msg, sig) {
			b.Fatal("verify")
		}
	}
}

// BenchmarkCheckTxDIDCreate measures mempool admission of distinct did.create
// transactions (decode, document validation, signature, state reads).
func BenchmarkCheckTxDIDCreate(b *testing.B) {
	h := newHarness(b)
	h.mustBlock()
	txs := make([][]byte, b.N)
	for i := range txs {
		txs[i] = createTxN(b, i)
	}
	b.ResetTimer()
	start, cpu0 := time.Now(), processCPU()
	for i := range b.N {
		if r := h.checkTx(txs[i]); r.Code != 0 {
			b.Fatalf("CheckTx: %d %s", r.Code, r.Log)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "tx/s")
	b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/float64(b.N), "cpu-µs/tx")
}

// BenchmarkFinalizeBlock1000DIDCreates measures executing and committing a
// block of 1000 did.create transactions that were NOT seen by CheckTx (so
// every signature is verified, in parallel), and reports transactions per
// second and state bytes per DID on disk.
func BenchmarkFinalizeBlock1000DIDCreates(b *testing.B) {
	benchmarkFinalizeBlock(b, false)
}

// BenchmarkFinalizeBlock1000DIDCreatesAfterCheckTx is the common path on a
// node: the transactions went through this node's CheckTx (untimed), so
// FinalizeBlock reuses the cached signature verdicts and parsed documents.
func BenchmarkFinalizeBlock1000DIDCreatesAfterCheckTx(b *testing.B) {
	benchmarkFinalizeBlock(b, true)
}

func benchmarkFinalizeBlock(b *testing.B, checkFirst bool) {
	const perBlock = 1000
	h := newHarnessGenesis(b, unlimitedCreates())
	h.mustBlock()
	n := 0
	var elapsed, cpu time.Duration
	for range b.N {
		b.StopTimer()
		txs := make([][]byte, perBlock)
		for j := range txs {
			txs[j] = createTxN(b, n)
			n++
			if checkFirst {
				if r := h.checkTx(txs[j]); r.Code != 0 {
					b.Fatalf("CheckTx: %d %s", r.Code, r.Log)
				}
			}
		}
		b.StartTimer()
		start, cpu0 := time.Now(), processCPU()
		for j, r := range h.block(txs...) {
			if r.Code != 0 {
				b.Fatalf("tx %d: %d %s", j, r.Code, r.Log)
			}
		}
		elapsed += time.Since(start)
		cpu += processCPU() - cpu0
	}
	b.StopTimer()
	b.ReportMetric(float64(n)/elapsed.Seconds(), "tx/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(n), "cpu-µs/tx")
	b.ReportMetric(float64(dirSize(b, h.dir))/float64(n), "disk-bytes/DID")
}

// BenchmarkNodePathDIDCreate is what one validator's state machine spends
// per committed did.create on the common path, without consensus or
// network: each transaction through CheckTx (mempool admission), then
// blocks of 1,000 through FinalizeBlock and Commit. It reports the process
// CPU per transaction divided by one bare ed25519.Verify measured in the
// same run ("sigeq/tx"; the floor is 1: one signature check per
// transaction per node), and the signature checks, general document
// validations and single-key document recognitions actually performed per
// transaction (issue 19, docs/design/0022). It runs in each state layout:
// layout 2 indexes the leaves each block added after the tree saved them
// (docs/design/0021, "State layout"), layout 1 copies each record into the
// index.
func BenchmarkNodePathDIDCreate(b *testing.B) {
	for _, l := range []ledger.StateLayout{ledger.LayoutEveryVersion, ledger.LayoutRecordsOnce} {
		b.Run(fmt.Sprintf("layout%d", l), func(b *testing.B) { benchNodePath(b, l) })
	}
}

func benchNodePath(b *testing.B, l ledger.StateLayout) {
	const perBlock = 1000
	h := newHarnessLayout(b, Config{}, unlimitedCreates(), l)
	h.mustBlock()
	txs := make([][]byte, b.N)
	for i := range txs {
		txs[i] = createTxN(b, i)
	}
	verify0 := benchbase.Ed25519VerifyCPU(5, 200)
	sig0, doc0, key0 := h.app.sigChecks.Load(), h.app.docParses.Load(), h.app.keyDocs.Load()
	b.ResetTimer()
	cpu0 := benchbase.ProcessCPU()
	for lo := 0; lo < b.N; lo += perBlock {
		blk := txs[lo:min(lo+perBlock, b.N)]
		next := h.height() + 1
		res, err := RunNodePath(context.Background(), h.app, next, blockTime(next), blk)
		if err != nil {
			b.Fatal(err)
		}
		for j, r := range res {
			if r.Code != 0 {
				b.Fatalf("tx %d: %d %s", j, r.Code, r.Log)
			}
		}
	}
	cpu := benchbase.ProcessCPU() - cpu0
	b.StopTimer()
	verify := (verify0 + benchbase.Ed25519VerifyCPU(5, 200)) / 2
	n := float64(b.N)
	b.ReportMetric(float64(cpu)/n/float64(verify), "sigeq/tx")
	b.ReportMetric(float64(cpu.Microseconds())/n, "cpu-µs/tx")
	b.ReportMetric(float64(verify.Nanoseconds())/1000, "verify-µs")
	b.ReportMetric(float64(h.app.sigChecks.Load()-sig0)/n, "sigchecks/tx")
	b.ReportMetric(float64(h.app.docParses.Load()-doc0)/n, "docparses/tx")
	b.ReportMetric(float64(h.app.keyDocs.Load()-key0)/n, "keydocs/tx")
}

// processCPU is the CPU time (user + system) this process has used, so a
// figure can be read apart from other load on a shared machine.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func dirSize(tb testing.TB, dir string) int64 {
	var total int64
	filepath.Walk(dir, func(_ string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			total += info.Size()
		}
		return nil
	})
	return total
}

// TestStateBytesPerDID logs the logical state written per did.create (keys
// and values of the records) and checks no health-looking data is in it.
func TestStateBytesPerDID(t *testing.T) {
	h := newHarnessLayout(t, Config{}, nil, ledger.LayoutRecordsOnce)
	id := newIdentity(t, 1)
	raw := h.createTx(id)
	dec, err := tx.Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	var total int
	h.mustBlock(raw)
	view, _ := h.app.view()
	if v, _ := view.Get(ledger.TxKey(dec.ReplayID)); v != nil {
		t.Errorf("did.create wrote a replay record; its DID record is the replay guard")
	}
	// The record is stored once (ledger.LayoutRecordsOnce): the current
	// version, no copy under didv/ until an update supersedes it.
	k := ledger.DIDKey(id.did)
	v, err := view.Get(k)
	if err != nil || v == nil {
		t.Fatalf("key %s missing", k)
	}
	total += len(k) + len(v)
	if v, _ := view.Get(ledger.DIDVersionKey(id.did, 1)); v != nil {
		t.Errorf("did.create also wrote version 1 under didv/ (%d bytes)", len(v))
	}
	t.Logf("logical state per did.create: %d bytes in 1 record (transaction %d bytes, document %d bytes)", total, len(raw), len(id.doc))
	if total > 2*len(raw) {
		t.Errorf("state per DID %d bytes is more than 2x the transaction", total)
	}
}
