package machine

import (
	"bytes"
	"encoding/hex"
	"hash/maphash"
	"reflect"
	"strings"
	"testing"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/registry/tx"
)

// replayBlocks is a fixed sequence of blocks that exercises every path the
// ledger's per-transaction shortcuts touch (issue 19, docs/design/0022):
// did.create of the single-key shape (keydoc.go) and of other shapes,
// documents of that shape that do not derive their DID, bad and foreign
// signatures, an algorithm mismatch, replays, duplicates within a block,
// updates, deactivation, accreditations, status lists (and one in another
// DID's namespace), consent and audit anchors, directory entries, and
// malformed bytes. Keys are seeded and block times follow the height; the builders'
// nonces are random, so the tests build the sequence once and feed the same
// bytes to every node.
func replayBlocks(h *harness) [][][]byte {
	t := h.tb
	sign := func(p *tx.Payload, k *key.PrivateKey, kid string) []byte { return h.sign(p, k, kid) }
	keyCreate := func(k *key.PrivateKey) ([]byte, string) {
		p, kid, err := tx.NewKeyDIDCreate(k.Public())
		if err != nil {
			t.Fatal(err)
		}
		p.Nonce = h.nextNonce()
		return sign(p, k, kid), p.DID
	}
	var blocks [][][]byte

	// Block 1: creates of every kind, and their rejections.
	var b1 [][]byte
	shaped := make([]*identity, 6)
	for i := range shaped {
		shaped[i] = newIdentity(t, byte(40+i)) // one key: the single-key shape
		b1 = append(b1, h.createTx(shaped[i]))
	}
	kc, _ := keyCreate(testKey(t, 60)) // tx.NewKeyDIDCreate, as the CLI and wallet do
	b1 = append(b1, kc)
	two := &identity{keys: []*key.PrivateKey{testKey(t, 61), testKey(t, 62)}}
	two.tmpl = docTemplate(tx.Placeholder, two.keys, []int{0, 1})
	var err error
	if two.did, two.doc, err = tx.BindDocument(two.tmpl); err != nil {
		t.Fatal(err)
	}
	b1 = append(b1, h.createTx(two)) // two keys: the general path
	// The single-key shape under a DID it does not derive: key 63's
	// document with key 64's DID (signed by key 63).
	k63, k64 := testKey(t, 63), testKey(t, 64)
	p63, _, _ := tx.NewKeyDIDCreate(k63.Public())
	p64, _, _ := tx.NewKeyDIDCreate(k64.Public())
	wrong := strings.ReplaceAll(string(p63.Document), p63.DID, p64.DID)
	b1 = append(b1, sign(&tx.Payload{Type: tx.DIDCreate, DID: p64.DID, Nonce: h.nextNonce(), Document: []byte(wrong)}, k63, p64.DID+"#key-1"))
	// Signed by a key that is not in the document.
	p65, _, _ := tx.NewKeyDIDCreate(testKey(t, 65).Public())
	b1 = append(b1, sign(p65, testKey(t, 66), p65.DID+"#key-1"))
	// The shape with its key's Multikey re-encoded in a form that does not
	// parse (the general path's error, not the shortcut's).
	p67, _, _ := tx.NewKeyDIDCreate(testKey(t, 67).Public())
	broken := strings.Replace(string(p67.Document), "z6Mk", "z6Mj", 1)
	b1 = append(b1, sign(&tx.Payload{Type: tx.DIDCreate, DID: p67.DID, Nonce: h.nextNonce(), Document: []byte(broken)}, testKey(t, 67), p67.DID+"#key-1"))
	// Signed with ES256 for an Ed25519 key of the document: an algorithm
	// mismatch, whose message a cached verdict must repeat.
	p68, _, _ := tx.NewKeyDIDCreate(testKey(t, 68).Public())
	es, err := key.Generate(key.P256)
	if err != nil {
		t.Fatal(err)
	}
	b1 = append(b1, sign(p68, es, p68.DID+"#key-1"))
	b1 = append(b1, []byte("not.a.transaction"))
	b1 = append(b1, b1[0]) // the same bytes twice in one block
	blocks = append(blocks, b1)

	// Block 2: the shaped DIDs act; a replayed create; governance.
	var b2 [][]byte
	for i, id := range shaped[:3] {
		b2 = append(b2, h.updateTx(id, []*key.PrivateKey{testKey(t, byte(70+i))}, []int{0}, "1", id.keys[0], id.kid(0)))
	}
	b2 = append(b2, h.createTx(shaped[3]))                                                                     // replay: the DID guards
	b2 = append(b2, h.updateTx(shaped[4], shaped[4].keys, []int{0}, "7", shaped[4].keys[0], shaped[4].kid(0))) // stale version
	b2 = append(b2, h.sign(h.must(tx.NewDIDDeactivate(shaped[5].did, "1")), shaped[5].keys[0], shaped[5].kid(0)))
	b2 = append(b2, h.accreditTx(shaped[0].did, "acc-1", []string{"PatientCredential"}, "2026-01-01T00:00:00Z", ""))
	b2 = append(b2, h.accreditTx(two.did, "acc-2", []string{"AllergyCredential"}, "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z"))
	list := shaped[3].did + ":list-1"
	b2 = append(b2, h.publishTx(shaped[3], list, 1, statusListToken(t, list, shaped[3].did, shaped[3].keys[0], shaped[3].kid(0), 7)))
	b2 = append(b2, h.publishTx(shaped[4], list, 1, statusListToken(t, list, shaped[4].did, shaped[4].keys[0], shaped[4].kid(0), 7))) // another's namespace
	b2 = append(b2, h.dirTx(tx.DirectoryAdd, shaped[0].did, stMarys(), 0, ""))
	p := newKeyParty(t, 80)
	b2 = append(b2, h.anchorTx(p, grantHash("grant-1"), "2026-03-01T00:00:00Z", ""))
	b2 = append(b2, h.sign(h.must(tx.NewAuditAnchor(two.did, "batch-1", [32]byte{1, 2, 3}, 3)), two.keys[0], two.kid(0)))
	blocks = append(blocks, b2)

	// Block 3: a second round on the updated state; rejections of the
	// deactivated DID and of a signature by a key rotated away.
	var b3 [][]byte
	b3 = append(b3, h.updateTx(shaped[0], []*key.PrivateKey{testKey(t, 90)}, []int{0}, "2", testKey(t, 70), shaped[0].kid(0)))
	b3 = append(b3, h.updateTx(shaped[1], []*key.PrivateKey{testKey(t, 91)}, []int{0}, "2", shaped[1].keys[0], shaped[1].kid(0))) // old key
	b3 = append(b3, h.updateTx(shaped[5], shaped[5].keys, []int{0}, "2", shaped[5].keys[0], shaped[5].kid(0)))                    // deactivated
	b3 = append(b3, h.revokeTx(shaped[0].did, "acc-1", "2026-03-01T09:00:00Z"))
	b3 = append(b3, h.consentRevokeTx(p, grantHash("grant-1")))
	b3 = append(b3, h.dirTx(tx.DirectorySuspend, shaped[0].did, nil, 2, "licence under review"))
	b3 = append(b3, h.dirTx(tx.DirectorySuspend, shaped[0].did, nil, 2, "again")) // stale version
	b3 = append(b3, b2[len(b2)-1])                                                // the audit anchor again: replayed
	for i := range 5 {
		c, _ := keyCreate(testKey(t, byte(100+i)))
		b3 = append(b3, c)
	}
	blocks = append(blocks, b3)
	return blocks
}

// replayNode is one way of running a node through the replay sequence.
type replayNode struct {
	name string
	// general turns off the per-transaction shortcuts (App.generalOnly).
	general bool
	// checkTx runs CheckTx on every transaction before its block, as a
	// node whose mempool received them does; without it the block comes
	// straight to FinalizeBlock, as on a node that never saw the txs.
	checkTx bool
	// cacheSize is Config.VerdictCacheSize: 4 evicts verdicts, decoded
	// transactions and documents within a block.
	cacheSize int
}

// TestShortcutsKeepAppHash (issue 19, docs/design/0022): the same fixed
// block sequence through Apps with and without the per-transaction
// shortcuts, with and without a CheckTx pass before each block, and with
// caches so small that they evict within a block, gives the same CheckTx
// verdicts, the same code and data for every transaction and the same app
// hash after every block as the general path with no cache pressure. A
// cache or a shortcut must never change an answer, whatever it holds.
func TestShortcutsKeepAppHash(t *testing.T) {
	ref := replayNode{name: "general", general: true, checkTx: true}
	nodes := []replayNode{
		{name: "shortcuts", checkTx: true},
		{name: "shortcuts, no CheckTx"},
		{name: "general, no CheckTx", general: true},
		{name: "shortcuts, tiny caches", checkTx: true, cacheSize: 4},
		{name: "shortcuts, tiny caches, no CheckTx", cacheSize: 4},
		{name: "general, tiny caches", general: true, checkTx: true, cacheSize: 4},
	}
	for _, n := range nodes {
		t.Run(n.name, func(t *testing.T) {
			h, r := newHarnessCache(t, n.cacheSize), newHarnessCache(t, ref.cacheSize)
			h.app.generalOnly, r.app.generalOnly = n.general, ref.general
			// One sequence for both (the builders draw random nonces).
			blocks := replayBlocks(r)
			accepted := 0
			for i, b := range blocks {
				for j, raw := range b {
					y := r.checkTx(raw)
					if n.checkTx {
						if x := h.checkTx(raw); x.Code != y.Code || x.Log != y.Log {
							t.Errorf("block %d tx %d: CheckTx %d %q, the reference %d %q", i+1, j, x.Code, x.Log, y.Code, y.Log)
						}
					}
				}
				r1, r2 := h.finalize(b...), r.finalize(b...)
				for j := range b {
					x, y := r1.TxResults[j], r2.TxResults[j]
					if x.Code != y.Code || string(x.Data) != string(y.Data) || x.Log != y.Log {
						t.Errorf("block %d tx %d: code %d data %s log %q; the reference: code %d data %s log %q",
							i+1, j, x.Code, x.Data, x.Log, y.Code, y.Data, y.Log)
					}
					if x.Code == 0 {
						accepted++
					}
				}
				if !sameBytes(r1.AppHash, r2.AppHash) {
					t.Fatalf("block %d: app hash %s, the reference %s", i+1, hex.EncodeToString(r1.AppHash), hex.EncodeToString(r2.AppHash))
				}
				h.commit()
				r.commit()
			}
			// The sequence means something: most of it is accepted, and
			// the shortcut took the shaped creates only where it is on.
			if accepted < 20 {
				t.Errorf("only %d transactions accepted", accepted)
			}
			if got := h.app.keyDocs.Load(); (got == 0) != n.general {
				t.Errorf("single-key documents recognised: %d (shortcuts on: %v)", got, !n.general)
			}
			if got := r.app.keyDocs.Load(); got != 0 {
				t.Errorf("the general reference recognised %d single-key documents", got)
			}
		})
	}
}

// TestShortcutsKeepAppHashAcrossRestart: a node restarted from disk in the
// middle of the sequence (caches empty) reaches the same app hash as one
// that was not.
func TestShortcutsKeepAppHashAcrossRestart(t *testing.T) {
	a, b := newHarness(t), newHarness(t)
	blocks := replayBlocks(a)
	for i, blk := range blocks {
		for _, raw := range blk {
			a.checkTx(raw)
		}
		if i == 1 {
			b.app.Close()
			b.open()
		}
		r1, r2 := a.finalize(blk...), b.finalize(blk...)
		if !sameBytes(r1.AppHash, r2.AppHash) {
			t.Fatalf("block %d: app hash %X vs %X after a restart", i+1, r1.AppHash, r2.AppHash)
		}
		a.commit()
		b.commit()
	}
}

// TestDecodeCacheConfirmsBytes covers the decoded-transaction cache's key
// (a maphash, not a collision-resistant hash): a hit returns the cached
// transaction only if its bytes are the ones asked for, so an entry filed
// under another transaction's key (what a collision would do) yields a
// fresh decode of the right bytes, and malformed bytes keep their error.
func TestDecodeCacheConfirmsBytes(t *testing.T) {
	h := newHarness(t)
	rawA := h.createTx(newIdentity(t, 1))
	rawB := h.createTx(newIdentity(t, 2))
	a := h.app
	cases := []struct {
		name    string
		planted []byte // bytes whose decoded transaction is filed under raw's key
		raw     []byte
		wantErr bool
	}{
		{"miss", nil, rawA, false},
		{"hit", rawB, rawB, false},
		{"collision", rawA, rawB, false},
		{"collision, malformed bytes", rawA, []byte("a.b.c"), true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want, wantErr := tx.Decode(c.raw)
			if c.planted != nil {
				p, err := tx.Decode(c.planted)
				if err != nil {
					t.Fatal(err)
				}
				a.decoded.put(maphash.Bytes(a.seed, c.raw), p)
			}
			got, err := a.decode(c.raw)
			if (err != nil) != c.wantErr || (err != nil && err.Error() != wantErr.Error()) {
				t.Fatalf("decode error %v, tx.Decode's %v", err, wantErr)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("decode gave another transaction than tx.Decode (hash %x, want %x)", hashOf(got), hashOf(want))
			}
			if c.planted != nil && bytes.Equal(c.planted, c.raw) {
				if again, _ := a.decode(c.raw); again != got {
					t.Fatal("a hit did not return the cached transaction")
				}
			}
		})
	}
}

func hashOf(t *tx.Tx) []byte {
	if t == nil {
		return nil
	}
	return t.Hash[:]
}

// TestDocCacheConfirmsBytes is TestDecodeCacheConfirmsBytes for the
// parsed-document cache: a parse filed under another document's key (what a
// collision would do) is not taken for it, by parseDocument or by the
// did.create path (parseOwnDocument), and a bad document keeps its error.
func TestDocCacheConfirmsBytes(t *testing.T) {
	h := newHarness(t)
	a := h.app
	txA, err := tx.Decode(h.createTx(newIdentity(t, 1)))
	if err != nil {
		t.Fatal(err)
	}
	txB, err := tx.Decode(h.createTx(newIdentity(t, 2)))
	if err != nil {
		t.Fatal(err)
	}
	docA, docB := txA.Payload.Document, txB.Payload.Document
	bad := []byte(`{"id":1}`)
	cases := []struct {
		name    string
		planted []byte // the document whose parse is filed under doc's key
		doc     []byte
	}{
		{"miss", nil, docA},
		{"hit", docB, docB},
		{"collision", docA, docB},
		{"collision, bad document", docA, bad},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want, wantErr := did.ParseDocument(c.doc)
			if c.planted != nil {
				d, err := did.ParseDocument(c.planted)
				a.docs.put(a.docKey(c.doc), parsedDoc{d, err, c.planted})
			}
			got, err := a.parseDocument(c.doc)
			if (err != nil) != (wantErr != nil) || (err != nil && err.Error() != wantErr.Error()) {
				t.Fatalf("parseDocument error %v, did.ParseDocument's %v", err, wantErr)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("parseDocument gave another document than did.ParseDocument (%v, want %v)", docID(got), docID(want))
			}
		})
	}
	// The did.create path: B's document with A's parse filed under its key.
	d, err := did.ParseDocument(docA)
	if err != nil {
		t.Fatal(err)
	}
	a.docs.put(a.docKey(docB), parsedDoc{doc: d, src: docA})
	got, err := a.parseOwnDocument(txB)
	if err != nil {
		t.Fatalf("parseOwnDocument: %v", err)
	}
	if got.ID != txB.Payload.DID {
		t.Fatalf("parseOwnDocument gave %s's document for %s", got.ID, txB.Payload.DID)
	}
}

func docID(d *did.Document) string {
	if d == nil {
		return "<nil>"
	}
	return d.ID
}
