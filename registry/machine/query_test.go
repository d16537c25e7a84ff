package machine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"
	ics23 "github.com/cosmos/ics23/go"

	"github.com/medid/medid/registry/ledger"
)

func TestQueryProofs(t *testing.T) {
	for _, l := range []ledger.StateLayout{ledger.LayoutEveryVersion, ledger.LayoutRecordsOnce} {
		t.Run(fmt.Sprintf("layout %d", l), func(t *testing.T) { testQueryProofs(t, l) })
	}
}

func testQueryProofs(t *testing.T, l ledger.StateLayout) {
	h := newHarnessLayout(t, Config{}, nil, l)
	id := h.register(1)
	h.mustBlock(h.updateTx(id, id.keys, []int{0}, "1", id.keys[0], id.kid(0)))
	h.mustBlock(h.accreditTx(id.did, "a", []string{"X"}, "2026-01-01T00:00:00Z", ""))
	lid := id.did + ":list"
	h.mustBlock(h.publishTx(id, lid, 1, statusListToken(t, "list", id.did, id.keys[0], id.kid(0), -1)))
	height, appHash := h.app.LastCommit()
	unknown := newIdentity(t, 77).did

	cases := []struct {
		name    string
		path    string
		data    []byte
		height  int64
		wantKey []byte
		present bool
	}{
		{"DID", ledger.QueryDID, []byte(id.did), 0, ledger.DIDKey(id.did), true},
		{"DID version", ledger.QueryKey, ledger.DIDVersionKey(id.did, 1), 0, ledger.DIDVersionKey(id.did, 1), true},
		// In ledger.LayoutRecordsOnce the current version is proven at
		// did/<did> only; in ledger.LayoutEveryVersion didv/ holds it too.
		{"DID current version under didv/", ledger.QueryKey, ledger.DIDVersionKey(id.did, 2), 0, ledger.DIDVersionKey(id.did, 2), l == ledger.LayoutEveryVersion},
		{"issuer", ledger.QueryIssuer, []byte(id.did), 0, ledger.IssuerKey(id.did), true},
		{"status list", ledger.QueryStatusList, []byte(lid), 0, ledger.StatusListKey(lid), true},
		{"status list version", ledger.QueryKey, ledger.StatusListVersionKey(lid, 1), 0, ledger.StatusListVersionKey(lid, 1), true},
		{"unknown DID", ledger.QueryDID, []byte(unknown), 0, ledger.DIDKey(unknown), false},
		{"issuer at an earlier height", ledger.QueryIssuer, []byte(id.did), 1, ledger.IssuerKey(id.did), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := h.app.Query(context.Background(), &abci.RequestQuery{Path: tc.path, Data: tc.data, Height: tc.height, Prove: true})
			if err != nil {
				t.Fatal(err)
			}
			wantHeight := tc.height
			if wantHeight == 0 {
				wantHeight = height
			}
			if resp.Height != wantHeight || string(resp.Key) != string(tc.wantKey) {
				t.Fatalf("height %d key %q, want %d %q", resp.Height, resp.Key, wantHeight, tc.wantKey)
			}
			if tc.present != (resp.Code == 0) || tc.present != (resp.Value != nil) {
				t.Fatalf("code %d value %d bytes, want present=%v", resp.Code, len(resp.Value), tc.present)
			}
			root := appHash
			if tc.height != 0 {
				h.app.mu.RLock()
				v, err := h.app.reader.GetImmutable(tc.height)
				h.app.mu.RUnlock()
				if err != nil {
					t.Fatal(err)
				}
				root = v.Hash()
			}
			if err := ledger.VerifyProof(root, tc.wantKey, resp.Value, resp.ProofOps); err != nil {
				t.Fatalf("VerifyProof: %v", err)
			}
			// Independent check with ics23 directly.
			var p ics23.CommitmentProof
			if err := p.Unmarshal(resp.ProofOps.Ops[0].Data); err != nil {
				t.Fatal(err)
			}
			if tc.present && !ics23.VerifyMembership(ics23.IavlSpec, root, &p, tc.wantKey, resp.Value) {
				t.Error("ics23.VerifyMembership failed")
			}
			if !tc.present && !ics23.VerifyNonMembership(ics23.IavlSpec, root, &p, tc.wantKey) {
				t.Error("ics23.VerifyNonMembership failed")
			}
			// A forged value, or another root, must not verify.
			if tc.present {
				forged := append([]byte(nil), resp.Value...)
				forged[len(forged)-2] ^= 1
				if err := ledger.VerifyProof(root, tc.wantKey, forged, resp.ProofOps); !errors.Is(err, ledger.ErrProof) {
					t.Errorf("forged value: err = %v, want ledger.ErrProof", err)
				}
			}
			other := append([]byte(nil), root...)
			other[0] ^= 1
			if err := ledger.VerifyProof(other, tc.wantKey, resp.Value, resp.ProofOps); !errors.Is(err, ledger.ErrProof) {
				t.Errorf("wrong root: err = %v, want ledger.ErrProof", err)
			}
		})
	}

	// The /did value is the DIDRecord JSON.
	resp, _ := h.app.Query(context.Background(), &abci.RequestQuery{Path: ledger.QueryDID, Data: []byte(id.did)})
	var rec ledger.DIDRecord
	if err := json.Unmarshal(resp.Value, &rec); err != nil || rec.DID != id.did || rec.Metadata.VersionID != "2" {
		t.Errorf("/did value = %s (%v)", resp.Value, err)
	}
	for _, bad := range []*abci.RequestQuery{
		{Path: "/nope", Data: []byte("x")},
		{Path: ledger.QueryDID, Data: []byte("a/b")},
		{Path: ledger.QueryDID, Data: []byte(id.did), Height: height + 5},
	} {
		resp, _ := h.app.Query(context.Background(), bad)
		if resp.Code == 0 {
			t.Errorf("query %s %q height %d: code 0, want an error", bad.Path, bad.Data, bad.Height)
		}
	}
}
