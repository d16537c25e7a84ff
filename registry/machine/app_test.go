package machine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/credentials/statuslist"
	"github.com/medid/medid/credentials/tokenstatus"
	"github.com/medid/medid/credentials/vc"
	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/tx"
)

func TestDIDLifecycleAndVersions(t *testing.T) {
	h := newHarness(t)
	id := h.register(1) // block 1
	created := blockTime(1)

	// Rotate: key-1 is replaced by key-2 (a new key, seed 2).
	k2 := testKey(t, 2)
	h.mustBlock(h.updateTx(id, []*key.PrivateKey{k2}, []int{0}, "1", id.keys[0], id.kid(0))) // block 2
	// The old key can no longer act; the new one can.
	old := h.updateTx(id, []*key.PrivateKey{id.keys[0]}, []int{0}, "2", id.keys[0], id.kid(0))
	if got := h.block(old)[0]; got.Code != ledger.CodeBadSignature {
		t.Fatalf("update signed by the rotated-out key: code %d (%s), want %d", got.Code, got.Log, ledger.CodeBadSignature)
	} // block 3
	h.mustBlock(h.sign(h.must(tx.NewDIDDeactivate(id.did, "2")), k2, id.kid(0))) // block 4

	cases := []struct {
		name        string
		opts        ledger.ResolveOptions
		wantVersion string
		wantNext    string
		wantErr     error
		wantKey     *key.PrivateKey
	}{
		{"current (deactivated)", ledger.ResolveOptions{}, "3", "", ledger.ErrDeactivated, k2},
		{"versionId 1", ledger.ResolveOptions{VersionID: "1"}, "1", "2", nil, id.keys[0]},
		{"versionId 2", ledger.ResolveOptions{VersionID: "2"}, "2", "3", nil, k2},
		{"versionId 4 does not exist", ledger.ResolveOptions{VersionID: "4"}, "", "", ledger.ErrNotFound, nil},
		{"versionId not canonical", ledger.ResolveOptions{VersionID: "01"}, "", "", ledger.ErrNotFound, nil},
		{"versionTime at creation", ledger.ResolveOptions{VersionTime: &created}, "1", "2", nil, id.keys[0]},
		{"versionTime between updates", ledger.ResolveOptions{VersionTime: ptr(blockTime(3))}, "2", "3", nil, k2},
		{"versionTime after deactivation", ledger.ResolveOptions{VersionTime: ptr(blockTime(9))}, "3", "", ledger.ErrDeactivated, k2},
		{"versionTime before creation", ledger.ResolveOptions{VersionTime: ptr(blockTime(0))}, "", "", ledger.ErrNotFound, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec, err := h.app.ResolveDID(id.did, tc.opts)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if tc.wantVersion == "" {
				return
			}
			if rec == nil {
				t.Fatalf("no record")
			}
			m := rec.Metadata
			if m.VersionID != tc.wantVersion || m.NextVersionID != tc.wantNext {
				t.Errorf("versionId, nextVersionId = %q, %q, want %q, %q", m.VersionID, m.NextVersionID, tc.wantVersion, tc.wantNext)
			}
			if m.Created == nil || !m.Created.Equal(created) {
				t.Errorf("created = %v, want %v", m.Created, created)
			}
			doc, err := did.ParseDocument(rec.Document)
			if err != nil {
				t.Fatalf("stored document does not parse: %v", err)
			}
			pub, err := doc.Key(id.kid(0), did.Authentication)
			if err != nil || !pub.Equal(tc.wantKey.Public()) {
				t.Errorf("key-1 of version %s is not the expected key (err %v)", m.VersionID, err)
			}
			// The metadata converts to the credentials/did type.
			_ = did.DocumentMetadata(rec.Metadata)
		})
	}
	if _, err := h.app.ResolveDID(newIdentity(t, 50).did, ledger.ResolveOptions{}); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("unknown DID: err = %v, want ledger.ErrNotFound", err)
	}
}

func ptr[T any](v T) *T { return &v }

func TestCreateAndUpdateInOneBlock(t *testing.T) {
	h := newHarness(t)
	id := newIdentity(t, 1)
	k2 := testKey(t, 2)
	create := h.createTx(id)
	update := h.updateTx(id, []*key.PrivateKey{k2}, []int{0}, "1", id.keys[0], id.kid(0))
	// CheckTx of the update fails (the DID is not committed yet) ...
	if got := h.checkTx(update); got.Code != ledger.CodeNotFound {
		t.Errorf("CheckTx of update before create: code %d, want %d", got.Code, ledger.CodeNotFound)
	}
	// ... but in a block, transactions apply in order.
	h.mustBlock(create, update)
	rec, err := h.app.ResolveDID(id.did, ledger.ResolveOptions{})
	if err != nil || rec.Metadata.VersionID != "2" {
		t.Fatalf("after create+update in one block: %+v, %v", rec, err)
	}
}

func TestAccreditationHistory(t *testing.T) {
	h := newHarness(t)
	iss := h.register(1)
	h.mustBlock(
		h.accreditTx(iss.did, "acc-1", []string{"ImmunizationCredential", "AllergyCredential"}, "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z"),
		h.accreditTx(iss.did, "acc-2", []string{"PractitionerLicense"}, "2026-02-01T00:00:00Z", ""),
	)
	h.mustBlock(h.revokeTx(iss.did, "acc-1", "2026-06-01T00:00:00Z"))

	at := func(s string) time.Time { t, _ := time.Parse(time.RFC3339, s); return t }
	cases := []struct {
		name, credType, at string
		want               bool
	}{
		{"before validFrom", "ImmunizationCredential", "2025-12-31T23:59:59Z", false},
		{"at validFrom", "ImmunizationCredential", "2026-01-01T00:00:00Z", true},
		{"before revocation", "AllergyCredential", "2026-05-31T23:59:59Z", true},
		{"at revocation", "AllergyCredential", "2026-06-01T00:00:00Z", false},
		{"type never accredited", "DriverLicense", "2026-03-01T00:00:00Z", false},
		{"open-ended accreditation", "PractitionerLicense", "2030-01-01T00:00:00Z", true},
		{"before second accreditation", "PractitionerLicense", "2026-01-15T00:00:00Z", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := h.app.AccreditedAt(iss.did, tc.credType, at(tc.at))
			if err != nil || got != tc.want {
				t.Errorf("AccreditedAt(%s, %s) = %v, %v; want %v", tc.credType, tc.at, got, err, tc.want)
			}
		})
	}
	rec, err := h.app.Accreditations(iss.did)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Accreditations) != 2 || rec.Accreditations[0].Revocation == nil || rec.Accreditations[1].Revocation != nil {
		t.Fatalf("history = %+v", rec)
	}
	if r := rec.Accreditations[0].Revocation; r.RevokedBy != h.govDID || r.Height != 3 || !r.Recorded.Equal(blockTime(3)) {
		t.Errorf("revocation = %+v", r)
	}
	if got, err := h.app.AccreditedAt(newIdentity(t, 9).did, "X", t0); got || err != nil {
		t.Errorf("unknown issuer: %v, %v; want false, nil", got, err)
	}
	if _, err := h.app.Accreditations(newIdentity(t, 9).did); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("Accreditations(unknown) err = %v, want ledger.ErrNotFound", err)
	}
	gov, _ := h.app.Governance()
	if len(gov) != 1 || gov[0] != h.govDID {
		t.Errorf("Governance() = %v", gov)
	}
}

func TestStatusListVersions(t *testing.T) {
	h := newHarness(t)
	owner := h.register(1)
	lid := owner.did + ":hosp-1"
	tok1 := statusListToken(t, "hosp-1", owner.did, owner.keys[0], owner.kid(0), -1)
	tok2 := statusListToken(t, "hosp-1", owner.did, owner.keys[0], owner.kid(0), 42)
	h.mustBlock(h.publishTx(owner, lid, 1, tok1))
	h.mustBlock(h.publishTx(owner, lid, 2, tok2))

	for _, tc := range []struct {
		name    string
		version int64
		want    string
		bit42   bool
	}{{"latest", 0, tok2, true}, {"version 1 stays readable", 1, tok1, false}, {"version 2", 2, tok2, true}} {
		t.Run(tc.name, func(t *testing.T) {
			rec, err := h.app.StatusList(lid, tc.version)
			if err != nil {
				t.Fatal(err)
			}
			if rec.Credential != tc.want || rec.Owner != owner.did {
				t.Fatalf("record %d: wrong credential or owner", rec.Version)
			}
			c, err := vc.Verify(context.Background(), rec.Credential, func(context.Context, string) (key.PublicKey, error) {
				return owner.keys[0].Public(), nil
			}, vc.VerifyOptions{Now: blockTime(5)})
			if err != nil {
				t.Fatal(err)
			}
			d, err := statuslist.FromCredential(c)
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := d.List.Get(42); got != tc.bit42 {
				t.Errorf("bit 42 = %v, want %v", got, tc.bit42)
			}
		})
	}
	if _, err := h.app.StatusList(lid, 3); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("version 3: err = %v, want ledger.ErrNotFound", err)
	}
	if _, err := h.app.StatusList("nope", 0); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("unknown list: err = %v, want ledger.ErrNotFound", err)
	}
}

func TestRestartFromDisk(t *testing.T) {
	h := newHarness(t)
	id := h.register(1)
	h.mustBlock(h.accreditTx(id.did, "a", []string{"X"}, "2026-01-01T00:00:00Z", ""))
	height, hash := h.app.LastCommit()

	// A block finalized but not committed (a crash mid-block) is lost and
	// will be replayed by CometBFT.
	other := newIdentity(t, 2)
	h.finalize(h.createTx(other))
	if err := h.app.Close(); err != nil {
		t.Fatal(err)
	}
	h.open()

	info, err := h.app.Info(context.Background(), &abci.RequestInfo{})
	if err != nil {
		t.Fatal(err)
	}
	if info.LastBlockHeight != height || !sameBytes(info.LastBlockAppHash, hash) {
		t.Fatalf("Info after restart = %d %X, want %d %X", info.LastBlockHeight, info.LastBlockAppHash, height, hash)
	}
	if _, err := h.app.ResolveDID(id.did, ledger.ResolveOptions{}); err != nil {
		t.Errorf("resolve after restart: %v", err)
	}
	if _, err := h.app.ResolveDID(other.did, ledger.ResolveOptions{}); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("uncommitted DID after restart: err = %v, want ledger.ErrNotFound", err)
	}
	// Replay of the lost block works and continues the chain.
	h.mustBlock(h.createTx(other))
	if _, err := h.app.ResolveDID(other.did, ledger.ResolveOptions{}); err != nil {
		t.Errorf("resolve replayed DID: %v", err)
	}
}

// TestDeterminism feeds two apps the same blocks and compares app hashes
// height by height, with one app verifying in parallel and the other
// serially.
func TestDeterminism(t *testing.T) {
	h1 := newHarness(t)
	h2 := &harness{tb: t, dir: t.TempDir(), gov: h1.gov, govDID: h1.govDID}
	a2, err := New(Config{Dir: h2.dir, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	h2.app = a2
	t.Cleanup(func() { a2.Close() })
	g, _ := (&Genesis{Governance: []string{h1.govDID}}).Marshal()
	if _, err := a2.InitChain(context.Background(), &abci.RequestInitChain{AppStateBytes: g, InitialHeight: 1}); err != nil {
		t.Fatal(err)
	}

	var blocks [][][]byte
	ids := make([]*identity, 20)
	var creates [][]byte
	for i := range ids {
		ids[i] = newIdentity(t, byte(10+i))
		creates = append(creates, h1.createTx(ids[i]))
	}
	blocks = append(blocks, creates)
	var b2 [][]byte
	for i, id := range ids[:10] {
		b2 = append(b2, h1.updateTx(id, []*key.PrivateKey{testKey(t, byte(100+i))}, []int{0}, "1", id.keys[0], id.kid(0)))
	}
	b2 = append(b2, creates[0]) // a replay, rejected in both
	b2 = append(b2, h1.accreditTx(ids[0].did, "a", []string{"X"}, "2026-01-01T00:00:00Z", ""))
	blocks = append(blocks, b2)
	blocks = append(blocks, [][]byte{h1.publishTx(ids[15], ids[15].did+":l", 1, statusListToken(t, "l", ids[15].did, ids[15].keys[0], ids[15].kid(0), 1))})

	for i, b := range blocks {
		r1 := h1.finalize(b...)
		r2 := h2.finalize(b...)
		if !sameBytes(r1.AppHash, r2.AppHash) {
			t.Fatalf("block %d: app hashes differ: %X vs %X", i+1, r1.AppHash, r2.AppHash)
		}
		for j := range r1.TxResults {
			x, y := r1.TxResults[j], r2.TxResults[j]
			if x.Code != y.Code || string(x.Data) != string(y.Data) || x.Log != y.Log {
				t.Fatalf("block %d tx %d: results differ: %v vs %v", i+1, j, x, y)
			}
		}
		h1.commit()
		h2.commit()
	}
	if got := h1.block(); len(got) != 0 {
		t.Fatal("empty block returned results")
	}
	if h, _ := h1.app.LastCommit(); h != 4 {
		t.Errorf("height = %d", h)
	}
}

// TestVerdictCache checks that a transaction's signature is verified once
// across CheckTx and FinalizeBlock, and its document validated once (the
// general path: the single-key shortcut is TestKeyDocumentOncePerNode's).
func TestVerdictCache(t *testing.T) {
	h := newHarness(t)
	h.app.generalOnly = true
	id := newIdentity(t, 1)
	raw := h.createTx(id)
	if got := h.checkTx(raw); got.Code != 0 {
		t.Fatalf("CheckTx: %d %s", got.Code, got.Log)
	}
	if got := h.checkTx(raw); got.Code != 0 {
		t.Fatalf("CheckTx again: %d %s", got.Code, got.Log)
	}
	h.mustBlock(raw)
	if got := h.app.sigChecks.Load(); got != 1 {
		t.Errorf("signature verifications = %d, want 1", got)
	}
	if got := h.app.docParses.Load(); got != 1 {
		t.Errorf("document validations = %d, want 1", got)
	}
	// Without CheckTx, FinalizeBlock's pre-pass verifies once too.
	id2 := newIdentity(t, 2)
	h.mustBlock(h.createTx(id2))
	if got := h.app.sigChecks.Load(); got != 2 {
		t.Errorf("signature verifications = %d, want 2", got)
	}
}

func TestVerdictCacheBounded(t *testing.T) {
	c := newLRU[verdictKey, bool](3)
	for i := range 10 {
		c.put(verdictKey{tx: [32]byte{byte(i)}, alg: "k"}, true)
	}
	if c.len() != 3 {
		t.Errorf("len = %d, want 3", c.len())
	}
	if _, found := c.get(verdictKey{tx: [32]byte{0}, alg: "k"}); found {
		t.Error("oldest entry was not evicted")
	}
	if ok, found := c.get(verdictKey{tx: [32]byte{9}, alg: "k"}); !found || !ok {
		t.Error("newest entry missing")
	}
}

// TestLRUMatchesReference: the cache keeps, returns and evicts exactly
// what a plain most-recently-used list does, for bounds from 0 up, under a
// pseudo-random mix of puts (new keys, updates) and gets.
func TestLRUMatchesReference(t *testing.T) {
	for _, max := range []int{0, 1, 2, 3, 5, 16} {
		t.Run(fmt.Sprint(max), func(t *testing.T) {
			c := newLRU[int, int](max)
			type kv struct{ k, v int }
			var ref []kv // front = most recently used
			find := func(k int) int {
				for i, e := range ref {
					if e.k == k {
						return i
					}
				}
				return -1
			}
			x := uint32(max + 1)
			for step := 0; step < 5000; step++ {
				x = x*1664525 + 1013904223
				k, v := int(x>>8)%(2*max+3), step
				if x>>28 < 6 {
					c.put(k, v)
					if i := find(k); i >= 0 {
						ref = append(ref[:i], ref[i+1:]...)
					}
					ref = append([]kv{{k, v}}, ref...)
					if len(ref) > max {
						ref = ref[:max]
					}
				} else {
					got, found := c.get(k)
					i := find(k)
					if found != (i >= 0) || (found && got != ref[i].v) {
						t.Fatalf("step %d: get(%d) = %d, %v; reference %v", step, k, got, found, ref)
					}
					if i >= 0 {
						e := ref[i]
						ref = append(ref[:i], ref[i+1:]...)
						ref = append([]kv{e}, ref...)
					}
				}
				if c.len() != len(ref) {
					t.Fatalf("step %d: len %d, reference %d", step, c.len(), len(ref))
				}
			}
		})
	}
}

// TestVerdictKey: the verdict cache's key names the transaction and the key
// (algorithm and canonical bytes) and takes no allocation for Ed25519.
func TestVerdictKey(t *testing.T) {
	ed1, ed2 := newIdentity(t, 1).keys[0].Public(), newIdentity(t, 2).keys[0].Public()
	ec, err := key.Generate(key.P256)
	if err != nil {
		t.Fatal(err)
	}
	t1, t2 := &tx.Tx{Hash: [32]byte{1}}, &tx.Tx{Hash: [32]byte{2}}
	keys := map[verdictKey]string{}
	for _, c := range []struct {
		name string
		t    *tx.Tx
		pub  key.PublicKey
	}{{"t1 ed1", t1, ed1}, {"t1 ed2", t1, ed2}, {"t2 ed1", t2, ed1}, {"t1 p256", t1, ec.Public()}, {"t2 p256", t2, ec.Public()}} {
		k, ok := newVerdictKey(c.t, c.pub)
		if !ok {
			t.Fatalf("%s: not cacheable", c.name)
		}
		if k.tx != c.t.Hash || k.alg != c.pub.Alg() || string(k.key[:len(c.pub.Bytes())]) != string(c.pub.Bytes()) {
			t.Errorf("%s: key %+v does not hold the transaction hash, algorithm and key bytes", c.name, k)
		}
		if other, dup := keys[k]; dup {
			t.Errorf("%s and %s have the same key", c.name, other)
		}
		keys[k] = c.name
		again, _ := newVerdictKey(c.t, c.pub)
		if again != k {
			t.Errorf("%s: key not stable", c.name)
		}
	}
	if a := testing.AllocsPerRun(100, func() { _, _ = newVerdictKey(t1, ed1) }); a != 0 {
		t.Errorf("newVerdictKey: %v allocations, want 0", a)
	}
	if _, ok := newVerdictKey(t1, key.PublicKey{}); !ok {
		t.Error("zero key: not cacheable")
	}
}

// TestOKResultAsLiteral: an accepted transaction's result, built in one
// allocation, equals the literal it replaced (log, data, event and its
// indexed attributes).
func TestOKResultAsLiteral(t *testing.T) {
	for _, rc := range []*receipt{
		{Type: tx.DIDCreate, DID: "did:medid:abc", VersionID: "1"},
		{Type: tx.IssuerAccredit, DID: "did:medid:gov", Issuer: "did:medid:iss"},
		{Type: tx.DIDDeactivate},
	} {
		data, err := marshalReceipt(rc)
		if err != nil {
			t.Fatal(err)
		}
		want := &abci.ExecTxResult{
			Code: ledger.CodeOK,
			Data: data,
			Log:  string(rc.Type) + " " + rc.DID,
			Events: []abci.Event{{Type: "medid", Attributes: []abci.EventAttribute{
				{Key: "type", Value: string(rc.Type), Index: true},
				{Key: "did", Value: rc.DID, Index: true},
			}}},
		}
		if got := okResult(rc, data); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %+v, want %+v", rc.Type, got, want)
		}
	}
}

func TestReceiptAndEvents(t *testing.T) {
	h := newHarness(t)
	id := newIdentity(t, 1)
	res := h.block(h.createTx(id))[0]
	var r receipt
	if err := json.Unmarshal(res.Data, &r); err != nil || r.DID != id.did || r.VersionID != "1" || r.Type != tx.DIDCreate {
		t.Errorf("receipt = %s (%v)", res.Data, err)
	}
	if len(res.Events) != 1 || res.Events[0].Type != "medid" {
		t.Errorf("events = %v", res.Events)
	}
}

func TestGenesis(t *testing.T) {
	k := testKey(t, 1)
	good := did.KeyDID(k.Public())
	for _, tc := range []struct {
		name, in string
		ok       bool
	}{
		{"empty", ``, true},
		{"one key", `{"governance":["` + good + `"]}`, true},
		{"not did:key", `{"governance":["did:web:example.com"]}`, false},
		{"duplicate", `{"governance":["` + good + `","` + good + `"]}`, false},
		{"unknown field", `{"governance":[],"validators":[]}`, false},
		{"not JSON", `governance`, false},
		{"quotas, partly set", `{"governance":[],"quotas":{"window":"30m","selfMade":{"types":{"did.create":{"total":{"txs":50}}}}}}`, true},
		{"quotas with no bound for vouched signers", `{"governance":[],"quotas":{"vouched":{"perDID":{"txs":-1,"bytes":-1}}}}`, true},
		{"quotas: window not a duration", `{"governance":[],"quotas":{"window":3600}}`, false},
		{"quotas: window under a minute", `{"governance":[],"quotas":{"window":"10s"}}`, false},
		{"quotas: negative limit", `{"governance":[],"quotas":{"selfMade":{"perDID":{"txs":-5}}}}`, false},
		{"quotas: maxTxBytes over the transaction limit", `{"governance":[],"quotas":{"selfMade":{"types":{"did.create":{"maxTxBytes":70000}}}}}`, false},
		{"quotas: unknown transaction type", `{"governance":[],"quotas":{"selfMade":{"types":{"did.burn":{"maxTxBytes":100}}}}}`, false},
		{"quotas: misspelt field", `{"governance":[],"quotas":{"selfMde":{}}}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseGenesis([]byte(tc.in))
			if (err == nil) != tc.ok {
				t.Errorf("ParseGenesis(%s) err = %v, want ok=%v", tc.in, err, tc.ok)
			}
		})
	}
}

// TestGenesisQuotaPolicy: the policy genesis sets is the one the chain runs,
// field by field over the defaults, stored in the state (so a restarted
// node, which gets no InitChain, runs it too); a genesis without quotas
// runs the defaults.
func TestGenesisQuotaPolicy(t *testing.T) {
	h := newHarnessGenesis(t, &ledger.QuotaPolicy{Window: ledger.Duration{Duration: 30 * time.Minute},
		SelfMade: ledger.OriginQuota{Types: map[tx.Type]ledger.TypeQuota{tx.DIDCreate: {Total: ledger.Limit{Txs: 7}}}}})
	h.mustBlock()
	check := func(what string) {
		t.Helper()
		p := h.app.policy
		create := p.SelfMade.Type(tx.DIDCreate)
		def := ledger.DefaultQuotaPolicy().SelfMade.Type(tx.DIDCreate)
		if p.Window.Duration != 30*time.Minute || create.Total.Txs != 7 || create.Total.Bytes != def.Total.Bytes ||
			create.MaxTxBytes != def.MaxTxBytes || p.SelfMade.PerDID != ledger.DefaultQuotaPolicy().SelfMade.PerDID {
			t.Errorf("%s: policy = %+v", what, p)
		}
	}
	check("after genesis")
	h.app.Close()
	h.open()
	check("after a restart")
	if v, _ := h.app.committed.Get([]byte(ledger.QuotaPolicyKey)); v == nil {
		t.Error("the policy is not in the state")
	}

	d := newHarness(t)
	want, _ := ledger.DefaultQuotaPolicy().Effective()
	if got, _ := json.Marshal(d.app.policy); string(got) != string(mustJSON(t, want)) {
		t.Errorf("genesis without quotas runs %s, want the defaults %s", got, mustJSON(t, want))
	}
}

func mustJSON(tb testing.TB, v any) []byte {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestCodes(t *testing.T) {
	for _, code := range []uint32{ledger.CodeMalformed, ledger.CodeTooLarge, ledger.CodeBadSignature, ledger.CodeUnauthorized, ledger.CodeReplay,
		ledger.CodeStaleVersion, ledger.CodeDeactivated, ledger.CodeNotFound, ledger.CodeExists, ledger.CodeInvalid, ledger.CodeInternal, ledger.CodeQuota} {
		err := ledger.ErrorOf(code)
		if got := ledger.CodeOf(fmt.Errorf("wrapped: %w", err)); got != code {
			t.Errorf("ledger.CodeOf(ledger.ErrorOf(%d)) = %d", code, got)
		}
	}
	if ledger.ErrorOf(0) != nil || ledger.CodeOf(nil) != 0 {
		t.Error("code 0 must be nil")
	}
}

// TestConcurrentReads reads state and runs CheckTx while blocks commit (run
// with -race).
func TestConcurrentReads(t *testing.T) {
	h := newHarness(t)
	first := h.register(1)
	stop := make(chan struct{})
	done := make(chan error, 3)
	for g := range 3 {
		go func() {
			for {
				select {
				case <-stop:
					done <- nil
					return
				default:
				}
				if _, err := h.app.ResolveDID(first.did, ledger.ResolveOptions{}); err != nil {
					done <- err
					return
				}
				if g == 0 {
					h.app.Query(context.Background(), &abci.RequestQuery{Path: ledger.QueryDID, Data: []byte(first.did), Prove: true, Height: 1})
				}
				if g == 1 {
					h.app.CheckTx(context.Background(), &abci.RequestCheckTx{Tx: h.createTx(newIdentity(t, 3))})
				}
			}
		}()
	}
	for i := range 20 {
		h.mustBlock(createTxN(t, 1000+i))
	}
	close(stop)
	for range 3 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

func TestInitialHeight(t *testing.T) {
	a, err := New(Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ctx := context.Background()
	if _, err := a.InitChain(ctx, &abci.RequestInitChain{InitialHeight: 10}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.FinalizeBlock(ctx, &abci.RequestFinalizeBlock{Height: 9, Time: t0}); err == nil {
		t.Fatal("FinalizeBlock below the initial height succeeded")
	}
	if _, err := a.FinalizeBlock(ctx, &abci.RequestFinalizeBlock{Height: 10, Time: t0}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Commit(ctx, &abci.RequestCommit{}); err != nil {
		t.Fatal(err)
	}
	if h, _ := a.LastCommit(); h != 10 {
		t.Errorf("height = %d, want 10", h)
	}
}

// TestCheckTxAfterRestartDefersTime: right after a restart CheckTx does not
// know the block time, so a credential's validity window is checked only
// in FinalizeBlock (against the block time), never against a clock.
func TestCheckTxAfterRestartDefersTime(t *testing.T) {
	h := newHarness(t)
	owner := h.register(1)
	h.app.Close()
	h.open()
	expired := h.publishTx(owner, owner.did+":list-1", 1, expiredStatusList(t, owner))
	if got := h.checkTx(expired); got.Code != 0 {
		t.Fatalf("CheckTx after restart: code %d (%s), want 0 (time unknown)", got.Code, got.Log)
	}
	if got := h.block(expired)[0]; got.Code != ledger.CodeInvalid {
		t.Fatalf("FinalizeBlock: code %d (%s), want %d", got.Code, got.Log, ledger.CodeInvalid)
	}
	// Now the block time is known to CheckTx as well.
	again := h.publishTx(owner, owner.did+":list-1", 1, expiredStatusList(t, owner))
	if got := h.checkTx(again); got.Code != ledger.CodeInvalid {
		t.Fatalf("CheckTx with a known block time: code %d, want %d", got.Code, ledger.CodeInvalid)
	}
}

// tokenStatusListToken makes a Token Status List (statuslist+jwt) of
// issuer at uri, signed by k with kid, with entry `invalid` INVALID.
func tokenStatusListToken(tb testing.TB, uri, issuer string, k *key.PrivateKey, kid string, invalid int) string {
	tb.Helper()
	l, err := tokenstatus.New(tokenstatus.MinEntries, 2)
	if err != nil {
		tb.Fatal(err)
	}
	if invalid >= 0 {
		if err := l.Set(invalid, tokenstatus.Invalid); err != nil {
			tb.Fatal(err)
		}
	}
	tok, err := tokenstatus.Sign(&tokenstatus.Token{Issuer: issuer, URI: uri, IssuedAt: t0, List: l}, k, kid)
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

// TestTokenStatusListPublish: Token Status Lists are published and
// versioned on the ledger like Bitstring lists, by their owner only, with
// their URI fixed by version 1.
func TestTokenStatusListPublish(t *testing.T) {
	h := newHarness(t)
	owner, other := h.register(1), h.register(2)
	const uri = "https://registry.example/1.0/status-lists/tsl-1"
	tok1 := tokenStatusListToken(t, uri, owner.did, owner.keys[0], owner.kid(0), -1)
	tok2 := tokenStatusListToken(t, uri, owner.did, owner.keys[0], owner.kid(0), 77)
	h.mustBlock(h.publishTx(owner, owner.did+":tsl-1", 1, tok1))
	h.mustBlock(h.publishTx(owner, owner.did+":tsl-1", 2, tok2))
	rec, err := h.app.StatusList(owner.did+":tsl-1", 0)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Credential != tok2 || rec.Purpose != ledger.PurposeTokenStatusList || rec.CredentialID != uri || rec.Owner != owner.did {
		t.Fatalf("record %+v", rec)
	}
	got, err := tokenstatus.Verify(context.Background(), rec.Credential, func(context.Context, string) (key.PublicKey, error) {
		return owner.keys[0].Public(), nil
	}, tokenstatus.VerifyOptions{URI: uri, Now: blockTime(5)})
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := got.List.Get(77); st != tokenstatus.Invalid {
		t.Errorf("entry 77 = %d, want INVALID", st)
	}
	for _, tc := range []struct {
		name string
		raw  []byte
	}{
		{"another URI in version 3", h.publishTx(owner, owner.did+":tsl-1", 3, tokenStatusListToken(t, uri+"x", owner.did, owner.keys[0], owner.kid(0), -1))},
		{"a Bitstring list in version 3", h.publishTx(owner, owner.did+":tsl-1", 3, statusListToken(t, "tsl-1", owner.did, owner.keys[0], owner.kid(0), -1))},
		{"signed by someone else", h.publishTx(other, "tsl-2", 1, tokenStatusListToken(t, uri, owner.did, owner.keys[0], owner.kid(0), -1))},
		{"tampered", h.publishTx(owner, "tsl-3", 1, tok1[:len(tok1)-4]+"AAAA")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if res := h.checkTx(tc.raw); res.Code == 0 {
				t.Errorf("accepted")
			}
		})
	}
}
