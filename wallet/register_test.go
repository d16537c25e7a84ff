package wallet

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/registry/client"
	"github.com/medid/medid/registry/node/nodetest"
)

// TestRegisterDID registers a did:medid on a real in-process registry
// (CometBFT node, registry app, HTTP API) and checks the ledger's document.
func TestRegisterDID(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a registry node")
	}
	ctx := context.Background()
	stack := nodetest.Start(t, nodetest.Options{})
	rc, err := client.New(client.Config{URL: stack.URL})
	if err != nil {
		t.Fatal(err)
	}
	clk := newClock()
	w, phrase := newTestWallet(t, clk)

	d, err := w.RegisterDID(ctx, rc, NewDIDOptions{Label: "registry identity"})
	if err != nil {
		t.Fatalf("RegisterDID: %v", err)
	}
	if !strings.HasPrefix(d.DID, "did:medid:") || d.Method != MethodMedid || d.Registered == nil || d.Index != 1 {
		t.Errorf("registered DID = %+v", d)
	}
	res, err := rc.Resolve(ctx, d.DID)
	if err != nil {
		t.Fatalf("resolve %s: %v", d.DID, err)
	}
	k, _, err := w.SignerFor(d.DID)
	if err != nil {
		t.Fatal(err)
	}
	got, err := res.Document.Key(d.KeyID, did.AssertionMethod)
	if err != nil || !got.Equal(k.Public()) {
		t.Errorf("ledger key for %s: %v (err %v)", d.KeyID, got, err)
	}
	// A P-256 identity registers too, at its own index.
	ec, err := w.RegisterDID(ctx, rc, NewDIDOptions{Alg: key.P256})
	if err != nil || ec.Alg != key.P256 || ec.Index != 0 {
		t.Fatalf("P-256 RegisterDID: %+v, %v", ec, err)
	}

	// The did:medid is a function of the phrase and index: a wallet
	// recovered from the phrase alone finds its registered identities.
	found, err := Recover(testConfig(t, clk), pass, phrase, RecoverOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer found.Close()
	added, err := found.FindRegistered(ctx, rc, 0)
	if err != nil {
		t.Fatalf("FindRegistered: %v", err)
	}
	got2 := map[string]bool{}
	for _, a := range added {
		got2[a.DID] = true
	}
	if len(added) != 2 || !got2[d.DID] || !got2[ec.DID] {
		t.Errorf("FindRegistered found %v, want %s and %s", added, d.DID, ec.DID)
	}
	if again, _ := found.FindRegistered(ctx, rc, 0); len(again) != 0 {
		t.Errorf("second FindRegistered added %v again", again)
	}
	// The recovered identity signs as the original one did.
	k2, _, err := found.SignerFor(d.DID)
	if err != nil || !k2.Public().Equal(k.Public()) {
		t.Errorf("recovered key for %s differs (%v)", d.DID, err)
	}
	// A new identity of the recovered wallet takes the next free index.
	next, err := found.NewDID(NewDIDOptions{})
	if err != nil || next.Index != 2 {
		t.Errorf("NewDID after FindRegistered: index %d, %v; want 2", next.Index, err)
	}

	// Registering from a recovered wallet that did not look first finds
	// the DID already on the ledger and adopts it.
	r, err := Recover(testConfig(t, clk), pass, phrase, RecoverOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	again, err := r.RegisterDID(ctx, rc, NewDIDOptions{})
	if err != nil || again.DID != d.DID {
		t.Errorf("re-registering from the phrase: %v, %v; want %s adopted", again.DID, err, d.DID)
	}

	if _, err := w.RegisterDID(ctx, nil, NewDIDOptions{}); !errors.Is(err, ErrNoRegistry) {
		t.Errorf("nil registry: %v", err)
	}
}
