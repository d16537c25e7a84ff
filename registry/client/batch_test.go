package client_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/medid/medid/registry/client"
	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/node/nodetest"
	"github.com/medid/medid/registry/tx"
)

// TestSubmitBatch submits through POST /1.0/transactions/batch of a real
// node: each transaction gets the outcome Submit would give it alone, in
// order, and a list longer than one batch is split and every transaction
// of it committed.
func TestSubmitBatch(t *testing.T) {
	s := nodetest.Start(t, nodetest.Options{Quotas: nodetest.UnlimitedCreates()})
	plain, proving := newClients(t, s)
	ctx := context.Background()
	bob, alice, mallory := nodetest.NewIdentity(t, "bob"), nodetest.NewIdentity(t, "alice"), nodetest.NewIdentity(t, "mallory")
	create, _, err := tx.NewKeyDIDCreate(alice.Key.Public())
	if err != nil {
		t.Fatal(err)
	}
	forged := nodetest.Sign(t, create, mallory.Key, alice.KID())
	bobTx := bob.CreateTx(t)
	res, err := plain.SubmitBatch(ctx, [][]byte{bobTx, forged, []byte("not a jws"), bobTx})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 4 {
		t.Fatalf("got %d results, want 4", len(res))
	}
	var pe *client.ProblemError
	if !errors.As(res[1].Err, &pe) || !errors.Is(res[1].Err, ledger.ErrBadSignature) || pe.Status != http.StatusBadRequest || res[1].Result != nil {
		t.Errorf("forged create: %+v, want a 400 problem wrapping ledger.ErrBadSignature", res[1])
	}
	if !errors.Is(res[2].Err, ledger.ErrMalformed) {
		t.Errorf("garbage: %+v, want ledger.ErrMalformed", res[2])
	}
	// The same bytes twice in one batch: one commits, the other is a
	// duplicate (409), whichever reached the mempool second.
	ok, dup := res[0], res[3]
	if ok.Err != nil {
		ok, dup = dup, ok
	}
	if ok.Err != nil || ok.Result == nil || ok.Result.Height == 0 || !errors.As(dup.Err, &pe) || pe.Status != http.StatusConflict {
		t.Errorf("bob's create twice: %+v and %+v, want one committed and one 409", res[0], res[3])
	}
	if _, err := proving.Resolve(ctx, bob.DID); err != nil {
		t.Errorf("resolve bob after the batch: %v", err)
	}

	// More than one batch: split into requests of at most MaxTxBatch.
	n := ledger.MaxTxBatch + 20
	txs := make([][]byte, n)
	ids := make([]string, n)
	for i := range txs {
		id := nodetest.NewIdentity(t, fmt.Sprintf("batch-%d", i))
		txs[i], ids[i] = id.CreateTx(t), id.DID
	}
	res, err = plain.SubmitBatch(ctx, txs)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != n {
		t.Fatalf("got %d results, want %d", len(res), n)
	}
	for i, r := range res {
		if r.Err != nil || r.Result == nil || r.Result.Code != 0 {
			t.Fatalf("transaction %d: %+v", i, r)
		}
	}
	for _, i := range []int{0, ledger.MaxTxBatch - 1, ledger.MaxTxBatch, n - 1} {
		if _, err := plain.Resolve(ctx, ids[i]); err != nil {
			t.Errorf("resolve DID %d: %v", i, err)
		}
	}
}
