package machine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/medid/medid/credentials/credtest"
	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/tx"
)

// newKeyParty is the did:key of testKey(b) (a patient's pairwise DID in
// these tests).
func newKeyParty(tb testing.TB, b byte) credtest.Party { return credtest.PartyOf(testKey(tb, b)) }

// grantHash stands in for consent.Hash of a grant token.
func grantHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func (h *harness) anchorTx(p credtest.Party, hash, from, until string) []byte {
	return h.sign(h.must(tx.NewConsentAnchorHash(p.DID, hash, h.time(from), h.time(until))), p.Key, p.Kid)
}

func (h *harness) consentRevokeTx(p credtest.Party, hash string) []byte {
	return h.sign(h.must(tx.NewConsentRevoke(p.DID, hash)), p.Key, p.Kid)
}

func TestConsentLifecycle(t *testing.T) {
	h := newHarness(t)
	pat := newKeyParty(t, 40) // the grant's anchor did:key
	hash := grantHash("grant-1")
	if _, err := h.app.ConsentStatus(pat.DID, hash); !errors.Is(err, ledger.ErrNotFound) {
		t.Fatalf("ConsentStatus before anchoring = %v, want ledger.ErrNotFound", err)
	}
	h.mustBlock(h.anchorTx(pat, hash, "2026-03-01T00:00:00Z", "2027-03-01T00:00:00Z"))
	anchoredAt := h.height()
	rec, err := h.app.ConsentStatus(pat.DID, hash)
	if err != nil {
		t.Fatal(err)
	}
	from, until := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)
	if rec.Hash != hash || rec.Controller != pat.DID || !rec.ValidFrom.Equal(from) || rec.ValidUntil == nil || !rec.ValidUntil.Equal(until) ||
		rec.AnchoredHeight != anchoredAt || !rec.Anchored.Equal(blockTime(anchoredAt)) || rec.RevokedAt != nil {
		t.Fatalf("record = %+v", rec)
	}
	for _, c := range []struct {
		at   time.Time
		want bool
	}{{from.Add(-time.Second), false}, {from, true}, {until.Add(-time.Second), true}, {until, false}} {
		if got := rec.Status(c.at).InForce; got != c.want {
			t.Errorf("InForceAt(%s) = %v, want %v", c.at, got, c.want)
		}
	}

	// Open-ended anchors too.
	other := newKeyParty(t, 41)
	mh := grantHash("grant-2")
	h.mustBlock(h.anchorTx(other, mh, "2026-03-01T00:00:00Z", ""))
	if r2, err := h.app.ConsentStatus(other.DID, mh); err != nil || r2.Controller != other.DID || r2.ValidUntil != nil || !r2.Status(until.AddDate(10, 0, 0)).InForce {
		t.Fatalf("open-ended anchor = %+v, %v", r2, err)
	}

	h.mustBlock(h.consentRevokeTx(pat, hash))
	revokedAt := h.height()
	rec, err = h.app.ConsentStatus(pat.DID, hash)
	if err != nil {
		t.Fatal(err)
	}
	if rec.RevokedAt == nil || !rec.RevokedAt.Equal(blockTime(revokedAt)) || rec.RevokedHeight != revokedAt {
		t.Fatalf("revoked record = %+v", rec)
	}
	if rec.Status(blockTime(revokedAt)).InForce || !rec.Status(from.Add(time.Hour)).InForce {
		t.Errorf("InForceAt around the revocation is wrong: %+v", rec)
	}

	// A key query proves the record, and its absence.
	resp, err := h.app.Query(context.Background(), &abci.RequestQuery{Path: ledger.QueryKey, Data: ledger.ConsentKey(pat.DID, hash), Prove: true})
	if err != nil || resp.Code != 0 {
		t.Fatalf("query: %v %d %s", err, resp.Code, resp.Log)
	}
	var got ledger.ConsentRecord
	if err := json.Unmarshal(resp.Value, &got); err != nil || got.RevokedHeight != revokedAt {
		t.Fatalf("query value %s: %v", resp.Value, err)
	}
	if err := ledger.VerifyProof(h.hash(), ledger.ConsentKey(pat.DID, hash), resp.Value, resp.ProofOps); err != nil {
		t.Errorf("membership proof: %v", err)
	}
	absent := ledger.ConsentKey(pat.DID, grantHash("never"))
	resp, _ = h.app.Query(context.Background(), &abci.RequestQuery{Path: ledger.QueryKey, Data: absent, Prove: true})
	if resp.Code != ledger.CodeNotFound {
		t.Fatalf("absent: code %d", resp.Code)
	}
	if err := ledger.VerifyProof(h.hash(), absent, nil, resp.ProofOps); err != nil {
		t.Errorf("non-membership proof: %v", err)
	}
}

// TestConsentSquatting is issue 11 item 12: anyone could anchor a grant's
// hash first (the hash travels with the grant), and the patient's own
// anchor was then refused as "already exists", so the grant could never be
// put in force. Anchors are keyed by their controller: the squatter's anchor
// sits under the squatter's DID, the grant's anchor DID anchors the same
// hash after it, and only that anchor can be revoked by it.
func TestConsentSquatting(t *testing.T) {
	h := newHarness(t)
	anchor, squatter := newKeyParty(t, 40), newKeyParty(t, 41)
	hash := grantHash("a grant the squatter saw")
	h.mustBlock(h.anchorTx(squatter, hash, "2020-01-01T00:00:00Z", "")) // first, with a period of its choosing
	if got := h.block(h.anchorTx(anchor, hash, "2026-03-01T00:00:00Z", "2027-03-01T00:00:00Z"))[0]; got.Code != 0 {
		t.Fatalf("the grant's own anchor after a squatter's: code %d (%s), want 0", got.Code, got.Log)
	}
	rec, err := h.app.ConsentStatus(anchor.DID, hash)
	if err != nil || rec.Controller != anchor.DID || !rec.ValidFrom.Equal(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("the grant's anchor = %+v, %v", rec, err)
	}
	// Neither can revoke the other's anchor: each finds only its own.
	h.mustBlock(h.consentRevokeTx(squatter, hash))
	if rec, err := h.app.ConsentStatus(anchor.DID, hash); err != nil || rec.RevokedAt != nil {
		t.Fatalf("the squatter's revocation touched the grant's anchor: %+v, %v", rec, err)
	}
}
