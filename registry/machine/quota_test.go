package machine

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/medid/medid/credentials/credtest"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/tx"
)

// seedKey returns a deterministic Ed25519 key for a seed string.
func seedKey(tb testing.TB, s string) *key.PrivateKey {
	tb.Helper()
	seed := sha256.Sum256([]byte(s))
	k, err := key.NewEd25519FromSeed(seed[:])
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// paddedIdentity is a fresh did:medid identity whose document carries
// service entries that bring its did.create to about txBytes bytes, the
// way an attacker fills the ledger with documents nobody needs.
func paddedIdentity(tb testing.TB, seed string, txBytes int) *identity {
	tb.Helper()
	keys := []*key.PrivateKey{seedKey(tb, seed)}
	var doc map[string]any
	if err := json.Unmarshal(docTemplate(tx.Placeholder, keys, []int{0}), &doc); err != nil {
		tb.Fatal(err)
	}
	// base64url of the payload: 4/3 of the document, plus the JWS framing.
	pad := txBytes*3/4 - 900
	var svc []map[string]string
	for i := 0; pad > 0; i++ {
		n := min(pad, 2000)
		svc = append(svc, map[string]string{"id": fmt.Sprintf("%s#pad-%d", tx.Placeholder, i), "type": "LinkedDomains",
			"serviceEndpoint": "https://attacker.example/" + strings.Repeat("a", n)})
		pad -= n + 100
	}
	if svc != nil {
		doc["service"] = svc
	}
	tmpl, err := json.Marshal(doc)
	if err != nil {
		tb.Fatal(err)
	}
	d, bound, err := tx.BindDocument(tmpl)
	if err != nil {
		tb.Fatal(err)
	}
	return &identity{keys: keys, did: d, tmpl: tmpl, doc: bound}
}

// tight is a policy small enough to use up in a test: self-made signers
// may send 3 did.create and 3 consent.anchor per hour, each signer 2
// transactions; 60 KB documents are allowed so the byte budget can bind.
func tight() *ledger.QuotaPolicy {
	return &ledger.QuotaPolicy{SelfMade: ledger.OriginQuota{
		PerDID: ledger.Limit{Txs: 2},
		Types: map[tx.Type]ledger.TypeQuota{
			tx.DIDCreate:     {MaxTxBytes: tx.MaxSize, Total: ledger.Limit{Txs: 3, Bytes: 130_000}},
			tx.ConsentAnchor: {Total: ledger.Limit{Txs: 3}},
		},
	}}
}

// TestQuotaRejections checks every quota rule the way TestRejections checks
// the others: through CheckTx and through FinalizeBlock, a
// CodeQuota, and the app hash unchanged.
func TestQuotaRejections(t *testing.T) {
	from := "2026-03-01T00:00:00Z"
	cases := []struct {
		name   string
		policy *ledger.QuotaPolicy
		setup  func(h *harness) []byte
	}{
		{"60 KB did.create under the default policy (16 KiB per self-made did.create)", nil, func(h *harness) []byte {
			return h.createTx(paddedIdentity(h.tb, "big", 60_000))
		}},
		{"self-made did.create past the origin's transaction budget", tight(), func(h *harness) []byte {
			for i := range 3 {
				h.mustBlock(h.createTx(paddedIdentity(h.tb, fmt.Sprint("ok-", i), 1000)))
			}
			return h.createTx(paddedIdentity(h.tb, "one-too-many", 1000))
		}},
		{"self-made did.create past the origin's byte budget", tight(), func(h *harness) []byte {
			h.mustBlock(h.createTx(paddedIdentity(h.tb, "a", 60_000)), h.createTx(paddedIdentity(h.tb, "b", 60_000)))
			return h.createTx(paddedIdentity(h.tb, "c", 20_000))
		}},
		{"consent anchors from fresh did:keys past the self-made budget", tight(), func(h *harness) []byte {
			for i := range 3 {
				h.mustBlock(h.anchorTx(newKeyParty(h.tb, byte(100+i)), grantHash(fmt.Sprint(i)), from, ""))
			}
			return h.anchorTx(newKeyParty(h.tb, 110), grantHash("x"), from, "")
		}},
		{"one self-made signer past its own budget", tight(), func(h *harness) []byte {
			vault := newKeyParty(h.tb, 60)
			h.mustBlock(h.auditTx(vault, "b1"), h.auditTx(vault, "b2"))
			return h.auditTx(vault, "b3")
		}},
		{"a self-made did.update larger than 16 KiB", nil, func(h *harness) []byte {
			id := h.register(1)
			big := paddedIdentity(h.tb, "pad", 30_000)
			doc := bytes.ReplaceAll(big.doc, []byte(big.did), []byte(id.did))
			doc = bytes.ReplaceAll(doc, []byte(big.keys[0].Public().Multikey()), []byte(id.keys[0].Public().Multikey()))
			return h.sign(&tx.Payload{Type: tx.DIDUpdate, DID: id.did, PrevVersionID: "1", Document: doc}, id.keys[0], id.kid(0))
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarnessGenesis(t, tc.policy)
			h.mustBlock() // the state has a committed height
			bad := tc.setup(h)
			before, beforeHeight := h.hash(), h.height()

			if got := h.checkTx(bad); got.Code != ledger.CodeQuota {
				t.Errorf("CheckTx code = %d (%s), want %d", got.Code, got.Log, ledger.CodeQuota)
			} else if !strings.Contains(got.Log, "quota exceeded") {
				t.Errorf("CheckTx log %q does not say quota exceeded", got.Log)
			}
			resp := h.finalize(bad)
			if got := resp.TxResults[0]; got.Code != ledger.CodeQuota {
				t.Errorf("FinalizeBlock code = %d (%s), want %d", got.Code, got.Log, ledger.CodeQuota)
			}
			if !sameBytes(resp.AppHash, before) {
				t.Errorf("FinalizeBlock changed the app hash: %X -> %X", before, resp.AppHash)
			}
			h.commit()
			if h.height() != beforeHeight+1 || !sameBytes(h.hash(), before) {
				t.Errorf("after commit: height %d hash %X, want %d %X", h.height(), h.hash(), beforeHeight+1, before)
			}
		})
	}
}

// unlimitedCreates lifts the self-made did.create budget (the checks still
// run), for benchmarks that register thousands of DIDs.
func unlimitedCreates() *ledger.QuotaPolicy {
	return &ledger.QuotaPolicy{SelfMade: ledger.OriginQuota{Types: map[tx.Type]ledger.TypeQuota{
		tx.DIDCreate: {Total: ledger.Limit{Txs: -1, Bytes: -1}}}}}
}

func (h *harness) auditTx(p credtest.Party, batch string) []byte {
	return h.sign(&tx.Payload{Type: tx.AuditAnchor, DID: p.DID, BatchID: batch, Root: strings.Repeat("ab", 32), Count: 1}, p.Key, p.Kid)
}

// TestQuotaAttackOfFreshIdentities replays issue 11 item 9: 300 did.create of
// ~60 KB each from fresh identities (they added 64 MB to the ledger in 11 s).
// With a policy that lets self-made DIDs write 1 MiB of did.create per hour,
// the ledger takes what fits and refuses the rest with CodeQuota, every
// validator alike (a second app fed the same blocks reaches the same app
// hashes), while the hospital's operations (accredited) and governance keep
// working, patients' other writes (their own budgets) too, and the next
// window opens the budget again.
func TestQuotaAttackOfFreshIdentities(t *testing.T) {
	const budget = 1 << 20
	pol := &ledger.QuotaPolicy{SelfMade: ledger.OriginQuota{Types: map[tx.Type]ledger.TypeQuota{
		tx.DIDCreate: {MaxTxBytes: tx.MaxSize, Total: ledger.Limit{Txs: 10_000, Bytes: budget}}}}}
	h, h2 := newHarnessGenesis(t, pol), newHarnessGenesis(t, pol)
	both := func(txs ...[]byte) []*abci.ExecTxResult {
		t.Helper()
		r1, r2 := h.finalize(txs...), h2.finalize(txs...)
		if !sameBytes(r1.AppHash, r2.AppHash) {
			t.Fatalf("validators disagree: app hash %X vs %X", r1.AppHash, r2.AppHash)
		}
		h.commit()
		h2.commit()
		return r1.TxResults
	}
	mustBoth := func(what string, txs ...[]byte) {
		t.Helper()
		for i, r := range both(txs...) {
			if r.Code != 0 {
				t.Fatalf("%s: tx %d rejected: code %d: %s", what, i, r.Code, r.Log)
			}
		}
	}
	hosp := newIdentity(t, 1)
	mustBoth("hospital registers", h.createTx(hosp))
	hosp.version = "1"
	mustBoth("governance accredits it", h.accreditTx(hosp.did, "acc-1", []string{"AllergyIntoleranceCredential"}, "2026-01-01T00:00:00Z", ""))
	list := hosp.did + ":st-mary-1"
	mustBoth("hospital publishes its list", h.publishTx(hosp, list, 1, statusListToken(t, list, hosp.did, hosp.keys[0], hosp.kid(0), -1)))

	attack := attackCreates(t, h, 300)
	// The whole attack is in the mempool before the first block: CheckTx
	// sees the committed counters, still empty.
	for _, raw := range attack[:5] {
		if r := h.checkTx(raw); r.Code != 0 {
			t.Fatalf("CheckTx before the attack's first block: code %d: %s", r.Code, r.Log)
		}
	}
	var accepted, refused, acceptedBytes int
	for i := 0; i < len(attack); i += 50 {
		for j, r := range both(attack[i : i+50]...) {
			switch r.Code {
			case 0:
				accepted++
				acceptedBytes += len(attack[i+j])
			case ledger.CodeQuota:
				refused++
			default:
				t.Fatalf("attack tx %d: code %d: %s", i+j, r.Code, r.Log)
			}
		}
	}
	if acceptedBytes > budget || accepted < budget/61_000 || refused != len(attack)-accepted {
		t.Fatalf("accepted %d (%d bytes), refused %d; want at most %d bytes accepted and the rest refused", accepted, acceptedBytes, refused, budget)
	}
	t.Logf("attack: %d of %d did.create accepted (%d bytes), %d refused with code %d", accepted, len(attack), acceptedBytes, refused, ledger.CodeQuota)
	if r := h.checkTx(h.createTx(paddedIdentity(t, "late", 60_000))); r.Code != ledger.CodeQuota {
		t.Fatalf("CheckTx after the budget is spent: code %d (%s), want %d", r.Code, r.Log, ledger.CodeQuota)
	}

	// The hospital, governance and patients' consent anchors (a budget of
	// their own) carry on.
	patient := newKeyParty(t, 40)
	mustBoth("hospital work during the attack",
		h.publishTx(hosp, list, 2, statusListToken(t, list, hosp.did, hosp.keys[0], hosp.kid(0), 7)),
		h.updateTx(hosp, hosp.keys, []int{0}, "1", hosp.keys[0], hosp.kid(0)),
		h.accreditTx(hosp.did, "acc-2", []string{"ImmunizationCredential"}, "2026-01-01T00:00:00Z", ""),
		h.anchorTx(patient, grantHash("g"), "2026-03-01T00:00:00Z", ""))
	// More large documents wait for the next window.
	late := h.createTx(paddedIdentity(t, "late", 60_000))
	if r := both(late)[0]; r.Code != ledger.CodeQuota {
		t.Fatalf("did.create in the spent window: code %d (%s), want %d", r.Code, r.Log, ledger.CodeQuota)
	}
	h.skew, h2.skew = time.Hour, time.Hour
	mustBoth("did.create in the next window", late)
}

// attackCreates signs n did.create of ~60 KB from fresh identities, on
// every core (each document takes ~20 ms to bind).
func attackCreates(tb testing.TB, h *harness, n int) [][]byte {
	tb.Helper()
	out := make([][]byte, n)
	var wg sync.WaitGroup
	for w := range runtime.NumCPU() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += runtime.NumCPU() {
				id := paddedIdentity(tb, fmt.Sprint("attacker-", i), 60_000)
				raw, err := tx.Sign(&tx.Payload{Type: tx.DIDCreate, DID: id.did, Document: id.doc, Nonce: fmt.Sprint("a-", i)}, id.keys[0], id.kid(0))
				if err != nil {
					tb.Error(err)
					return
				}
				out[i] = raw
			}
		}()
	}
	wg.Wait()
	return out
}

// TestQuotaBlockAccounting: a block holding more transactions than the
// budget accepts exactly the budget, in block order, and the origin
// counter is written once per block.
func TestQuotaBlockAccounting(t *testing.T) {
	h := newHarnessGenesis(t, tight())
	var txs [][]byte
	for i := range 5 {
		txs = append(txs, h.createTx(paddedIdentity(t, fmt.Sprint("b-", i), 1000)))
	}
	for i, r := range h.block(txs...) {
		want := uint32(0)
		if i >= 3 {
			want = ledger.CodeQuota
		}
		if r.Code != want {
			t.Errorf("tx %d: code %d (%s), want %d", i, r.Code, r.Log, want)
		}
	}
	view, _ := h.app.view()
	rec, err := getJSON[ledger.QuotaRecord](view, ledger.QuotaOriginKey(ledger.OriginSelfMade, tx.DIDCreate))
	if err != nil {
		t.Fatal(err)
	}
	if rec.Txs != 3 || rec.Window != ledger.DefaultQuotaPolicy().WindowStart(blockTime(h.height())) {
		t.Errorf("origin counter = %+v, want 3 transactions in the block's window", rec)
	}
}

// BenchmarkQuotaCheckDIDCreate measures what the write quotas add to a
// did.create: the check CheckTx makes against the committed counters, and
// the check and charge FinalizeBlock makes against the block's, next to a
// bare ed25519.Verify of the same run (a did.create's CheckTx costs about
// two: BenchmarkCheckTxDIDCreate).
func BenchmarkQuotaCheckDIDCreate(b *testing.B) {
	h := newHarnessGenesis(b, unlimitedCreates())
	h.mustBlock()
	t, err := tx.Decode(createTxN(b, 1))
	if err != nil {
		b.Fatal(err)
	}
	view, height := h.app.committedState()
	bt := blockTime(height)
	b.Run("CheckTx", func(b *testing.B) {
		env := &execEnv{height: height + 1, time: bt, timeKnown: true, checkOnly: true, origins: h.app.quotas.at(view, height)}
		for b.Loop() {
			if _, err := h.app.quotaCheck(view, t, env); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("FinalizeBlock", func(b *testing.B) {
		bq := &blockQuotas{r: h.app.tree}
		env := &execEnv{height: height + 1, time: bt, timeKnown: true, origins: bq}
		for b.Loop() {
			c, err := h.app.quotaCheck(h.app.tree, t, env)
			if err != nil {
				b.Fatal(err)
			}
			bq.add(c)
		}
	})
}

// TestQuotaVouchedByDirectory: a hospital's vault signs with its own
// did:key; once the hospital's directory entry lists that key for its vault
// role, the vault's writes count as vouched (its own budget, not the one
// self-made signers share), and a suspension of the entry makes them
// self-made again.
func TestQuotaVouchedByDirectory(t *testing.T) {
	h := newHarnessGenesis(t, tight()) // self-made signers: 2 transactions each
	hosp := h.register(1)
	vault, stranger := newKeyParty(t, 60), newKeyParty(t, 61)
	e := stMarys()
	e.Roles = append(e.Roles, tx.Role{Role: tx.RoleVaultOperator, DID: vault.DID})
	h.mustBlock(h.dirTx(tx.DirectoryAdd, hosp.did, e, 0, ""))
	for i := range 4 {
		h.mustBlock(h.auditTx(vault, fmt.Sprint("v-", i)))
	}
	h.mustBlock(h.auditTx(stranger, "s-0"), h.auditTx(stranger, "s-1"))
	if got := h.block(h.auditTx(stranger, "s-2"))[0]; got.Code != ledger.CodeQuota {
		t.Fatalf("a self-made signer's third anchor: code %d (%s), want %d", got.Code, got.Log, ledger.CodeQuota)
	}
	h.mustBlock(h.dirTx(tx.DirectorySuspend, hosp.did, nil, 2, "audit"))
	if got := h.block(h.auditTx(vault, "v-after"))[0]; got.Code != ledger.CodeQuota {
		t.Fatalf("the vault's anchor after its hospital was suspended: code %d (%s), want %d (self-made again, budget spent)", got.Code, got.Log, ledger.CodeQuota)
	}
}
