package machine

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/credentials/statuslist"
	"github.com/medid/medid/credentials/vc"
	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/tx"
)

// t0 is the time of block 0; block h has time t0 + h minutes.
var t0 = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)

func blockTime(h int64) time.Time { return t0.Add(time.Duration(h) * time.Minute) }

// testKey returns a deterministic Ed25519 key for seed byte b.
func testKey(tb testing.TB, b byte) *key.PrivateKey {
	tb.Helper()
	seed := sha256.Sum256([]byte{b})
	k, err := key.NewEd25519FromSeed(seed[:])
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// harness drives an App through blocks the way CometBFT would.
type harness struct {
	tb     testing.TB
	app    *App
	dir    string
	gov    *key.PrivateKey
	govDID string
	nonce  int
	// cacheSize is Config.VerdictCacheSize for open (0: the default).
	cacheSize int
	// skew is added to every later block's time (to move to another
	// quota window).
	skew time.Duration
	// maxProtocol and logger are Config.MaxProtocol and Config.Logger for
	// open (zero: the defaults).
	maxProtocol uint64
	logger      *slog.Logger
	// genesisProtocol is the genesis consensus_params.version.app
	// initNetwork starts the chain at (0: none, protocol 2).
	genesisProtocol uint64
}

func newHarness(tb testing.TB) *harness { return newHarnessWith(tb, nil, 0) }

// newHarnessGenesis is newHarness with the write quota policy q in genesis
// (nil: none, the defaults).
func newHarnessGenesis(tb testing.TB, q *ledger.QuotaPolicy) *harness {
	tb.Helper()
	return newHarnessWith(tb, q, 0)
}

// newHarnessCache is newHarness with Config.VerdictCacheSize cacheSize.
func newHarnessCache(tb testing.TB, cacheSize int) *harness {
	tb.Helper()
	return newHarnessWith(tb, nil, cacheSize)
}

func newHarnessWith(tb testing.TB, q *ledger.QuotaPolicy, cacheSize int) *harness {
	tb.Helper()
	h := &harness{tb: tb, dir: tb.TempDir(), gov: testKey(tb, 200), cacheSize: cacheSize}
	h.govDID = did.KeyDID(h.gov.Public())
	h.open()
	g, err := (&Genesis{Governance: []string{h.govDID}, Quotas: q}).Marshal()
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := h.app.InitChain(context.Background(), &abci.RequestInitChain{AppStateBytes: g, InitialHeight: 1, Time: t0}); err != nil {
		tb.Fatal(err)
	}
	return h
}

func (h *harness) open() {
	h.tb.Helper()
	a, err := New(Config{Dir: h.dir, VerdictCacheSize: h.cacheSize, MaxProtocol: h.maxProtocol, Logger: h.logger})
	if err != nil {
		h.tb.Fatal(err)
	}
	h.app = a
	h.tb.Cleanup(func() { a.Close() })
}

func (h *harness) height() int64 { n, _ := h.app.LastCommit(); return n }

func (h *harness) hash() []byte { _, x := h.app.LastCommit(); return x }

// finalize runs FinalizeBlock for the next height without committing.
func (h *harness) finalize(txs ...[]byte) *abci.ResponseFinalizeBlock {
	h.tb.Helper()
	next := h.height() + 1
	resp, err := h.app.FinalizeBlock(context.Background(), &abci.RequestFinalizeBlock{Height: next, Time: blockTime(next).Add(h.skew), Txs: txs, Hash: h.nextBlockHash(txs...)})
	if err != nil {
		h.tb.Fatalf("FinalizeBlock %d: %v", next, err)
	}
	return resp
}

// testBlockHash is the hash the harness gives block height with time
// bt and txs on a state whose app hash is prev, as CometBFT's block hash
// commits to them (the header's height, time, data hash and the app hash
// of the state it starts from, which chains it to the blocks before):
// blocks that differ in any of them have different hashes, and Apps
// given the same block on the same state agree on its hash, as
// validators do. From protocol 5 on a filing is named by its block's
// hash, and the App refuses a block without one.
func testBlockHash(height int64, bt time.Time, prev []byte, txs [][]byte) []byte {
	d := sha256.New()
	fmt.Fprintf(d, "medid test block\x00%d\x00%d\x00%x\x00%d", height, bt.UnixNano(), prev, len(txs))
	for _, raw := range txs {
		x := sha256.Sum256(raw)
		d.Write(x[:])
	}
	return d.Sum(nil)
}

// nextBlockHash is the hash h gives its next block if it carries txs.
func (h *harness) nextBlockHash(txs ...[]byte) []byte {
	next := h.height() + 1
	return testBlockHash(next, blockTime(next).Add(h.skew), h.hash(), txs)
}

func (h *harness) commit() {
	h.tb.Helper()
	if _, err := h.app.Commit(context.Background(), &abci.RequestCommit{}); err != nil {
		h.tb.Fatalf("Commit: %v", err)
	}
}

// emptyBlocksSnapshotted finalizes and commits n empty blocks, waiting
// after each for the snapshot it may have started.
func (h *harness) emptyBlocksSnapshotted(n int) {
	h.tb.Helper()
	for range n {
		h.finalize()
		h.commit()
		if err := h.app.WaitSnapshots(context.Background()); err != nil {
			h.tb.Fatal(err)
		}
	}
}

// block finalizes and commits a block and returns the tx results.
func (h *harness) block(txs ...[]byte) []*abci.ExecTxResult {
	h.tb.Helper()
	resp := h.finalize(txs...)
	h.commit()
	return resp.TxResults
}

// mustBlock commits txs and fails unless every one was accepted.
func (h *harness) mustBlock(txs ...[]byte) {
	h.tb.Helper()
	for i, r := range h.block(txs...) {
		if r.Code != 0 {
			h.tb.Fatalf("tx %d rejected: code %d: %s", i, r.Code, r.Log)
		}
	}
}

func (h *harness) checkTx(raw []byte) *abci.ResponseCheckTx {
	h.tb.Helper()
	resp, err := h.app.CheckTx(context.Background(), &abci.RequestCheckTx{Tx: raw})
	if err != nil {
		h.tb.Fatal(err)
	}
	return resp
}

func (h *harness) nextNonce() string { h.nonce++; return fmt.Sprintf("n-%d", h.nonce) }

// sign signs p, failing the test on error.
func (h *harness) sign(p *tx.Payload, k *key.PrivateKey, kid string) []byte {
	h.tb.Helper()
	if p.Nonce == "" {
		p.Nonce = h.nextNonce()
	}
	raw, err := tx.Sign(p, k, kid)
	if err != nil {
		h.tb.Fatalf("tx.Sign: %v", err)
	}
	return raw
}

// identity is a did:medid controller in tests.
type identity struct {
	keys    []*key.PrivateKey // keys[i] is "#key-(i+1)"
	did     string
	tmpl    []byte // the initial document with the DID as tx.Placeholder
	doc     []byte
	version string
}

func (id *identity) kid(i int) string { return fmt.Sprintf("%s#key-%d", id.did, i+1) }

// docTemplate writes a DID document for subject with keys as #key-1…;
// authentication lists the keys in auth, assertionMethod all of them.
func docTemplate(subject string, keys []*key.PrivateKey, auth []int) []byte {
	type vm struct {
		ID                 string `json:"id"`
		Type               string `json:"type"`
		Controller         string `json:"controller"`
		PublicKeyMultibase string `json:"publicKeyMultibase"`
	}
	d := map[string]any{
		"@context": []string{"https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"},
		"id":       subject,
	}
	var vms []vm
	var assert, authn []string
	for i, k := range keys {
		id := fmt.Sprintf("%s#key-%d", subject, i+1)
		vms = append(vms, vm{id, "Multikey", subject, k.Public().Multikey()})
		assert = append(assert, id)
	}
	for _, i := range auth {
		authn = append(authn, fmt.Sprintf("%s#key-%d", subject, i+1))
	}
	d["verificationMethod"] = vms
	d["authentication"] = authn
	d["assertionMethod"] = assert
	b, _ := json.Marshal(d)
	return b
}

// newIdentity makes a did:medid identity with one key (seed b).
func newIdentity(tb testing.TB, b byte) *identity {
	tb.Helper()
	keys := []*key.PrivateKey{testKey(tb, b)}
	tmpl := docTemplate(tx.Placeholder, keys, []int{0})
	d, doc, err := tx.BindDocument(tmpl)
	if err != nil {
		tb.Fatal(err)
	}
	return &identity{keys: keys, did: d, tmpl: tmpl, doc: doc}
}

// must returns a builder's payload, failing the test if it refused.
func (h *harness) must(p *tx.Payload, err error) *tx.Payload {
	h.tb.Helper()
	if err != nil {
		h.tb.Fatalf("build the transaction: %v", err)
	}
	return p
}

func (h *harness) createTx(id *identity) []byte {
	return h.sign(h.must(tx.NewDIDCreate(id.tmpl)), id.keys[0], id.kid(0))
}

// register commits the creation of a new identity.
func (h *harness) register(b byte) *identity {
	h.tb.Helper()
	id := newIdentity(h.tb, b)
	h.mustBlock(h.createTx(id))
	id.version = "1"
	return id
}

// updateTx replaces id's keys with newKeys (authentication: auth), signed by
// id's key signer with kid signerKid.
func (h *harness) updateTx(id *identity, newKeys []*key.PrivateKey, auth []int, prev string, signer *key.PrivateKey, signerKid string) []byte {
	return h.sign(h.must(tx.NewDIDUpdate(id.did, docTemplate(id.did, newKeys, auth), prev)), signer, signerKid)
}

// statusListToken makes a status list credential issued by issuer, signed by
// k with kid, with bit `revoked` set.
func statusListToken(tb testing.TB, listID, issuer string, k *key.PrivateKey, kid string, revoked int) string {
	tb.Helper()
	l, err := statuslist.New(statuslist.MinEntries)
	if err != nil {
		tb.Fatal(err)
	}
	if revoked >= 0 {
		if err := l.Set(revoked, true); err != nil {
			tb.Fatal(err)
		}
	}
	c, err := statuslist.NewCredential("https://registry.example/1.0/status-lists/"+listID, issuer, statuslist.Revocation, l, 0)
	if err != nil {
		tb.Fatal(err)
	}
	vf := t0
	c.ValidFrom = &vf
	tok, err := vc.Issue(c, k, kid)
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

func (h *harness) publishTx(owner *identity, listID string, version int64, token string) []byte {
	return h.sign(h.must(tx.NewStatusListPublish(owner.did, listID, version, token)), owner.keys[0], owner.kid(0))
}

func (h *harness) accreditTx(issuer, accID string, types []string, from, until string) []byte {
	return h.sign(h.must(tx.NewIssuerAccredit(h.govDID, tx.Accreditation{Issuer: issuer, ID: accID, Types: types,
		From: h.time(from), Until: h.time(until)})), h.gov, h.govDID+"#"+h.gov.Public().Multikey())
}

func (h *harness) revokeTx(issuer, accID, at string) []byte {
	return h.sign(h.must(tx.NewIssuerRevoke(h.govDID, issuer, accID, h.time(at))), h.gov, h.govDID+"#"+h.gov.Public().Multikey())
}

// time parses an RFC 3339 time of a test ("" is the zero time).
func (h *harness) time(s string) time.Time {
	h.tb.Helper()
	if s == "" {
		return time.Time{}
	}
	t, err := tx.ParseTime(s)
	if err != nil {
		h.tb.Fatal(err)
	}
	return t
}

func sameBytes(a, b []byte) bool { return bytes.Equal(a, b) }
