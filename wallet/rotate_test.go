package wallet

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/registry/client"
	"github.com/medid/medid/registry/node/nodetest"
)

// TestRotateKey rotates the key of a registered did:medid on a real
// in-process registry, then checks the ledger, the wallet's signer, a
// second rotation, recovery from the phrase, and the refusals.
func TestRotateKey(t *testing.T) {
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
	d, err := w.RegisterDID(ctx, rc, NewDIDOptions{Label: "hospital identity"})
	if err != nil {
		t.Fatal(err)
	}
	old, _, _ := w.SignerFor(d.DID)
	oldPub := old.Public()

	// ledgerKey returns the key the ledger lists under kid for authentication.
	ledgerKey := func(kid string) (string, error) {
		res, err := rc.Resolve(ctx, d.DID)
		if err != nil {
			return "", err
		}
		pub, err := res.Document.Key(kid, did.Authentication)
		if err != nil {
			return "", err
		}
		if len(res.Document.VerificationMethod) != 1 {
			return "", errors.New("more than one verification method after a rotation")
		}
		return pub.Multikey(), nil
	}

	cases := []struct {
		name     string
		wantKID  string
		wantNext uint32
	}{
		{"first rotation", d.DID + "#key-2", 2},
		{"second rotation", d.DID + "#key-3", 3},
	}
	for _, tc := range cases {
		r, err := w.RotateKey(ctx, rc, d.DID)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if r.KeyID != tc.wantKID || r.Index != tc.wantNext || r.DID != d.DID || r.Label != d.Label {
			t.Errorf("%s: rotated to %+v, want kid %s index %d", tc.name, r, tc.wantKID, tc.wantNext)
		}
		k, kid, err := w.SignerFor(d.DID)
		if err != nil || kid != tc.wantKID {
			t.Fatalf("%s: SignerFor = %s, %v", tc.name, kid, err)
		}
		if got, err := ledgerKey(tc.wantKID); err != nil || got != k.Public().Multikey() {
			t.Errorf("%s: the ledger lists %s (%v), the wallet signs with %s", tc.name, got, err, k.Public().Multikey())
		}
		if k.Public().Equal(oldPub) {
			t.Errorf("%s: the key did not change", tc.name)
		}
	}
	current, _, _ := w.SignerFor(d.DID)
	// The next identity does not reuse a rotated key's index.
	if nd, err := w.NewDID(NewDIDOptions{}); err != nil || nd.Index != 4 {
		t.Errorf("NewDID after rotations: index %d, %v; want 4", nd.Index, err)
	}

	// A wallet recovered from the phrase finds the DID with its current key.
	found, err := Recover(testConfig(t, clk), pass, phrase, RecoverOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer found.Close()
	added, err := found.FindRegistered(ctx, rc, 0)
	if err != nil {
		t.Fatalf("FindRegistered: %v", err)
	}
	if len(added) != 1 || added[0].DID != d.DID || added[0].KeyID != d.DID+"#key-3" || added[0].Index != 3 {
		t.Fatalf("FindRegistered = %+v, want %s with #key-3 at index 3", added, d.DID)
	}
	if k, _, err := found.SignerFor(d.DID); err != nil || !k.Public().Equal(current.Public()) {
		t.Errorf("the recovered wallet does not sign with the current key (%v)", err)
	}

	// Rotated elsewhere (by the recovered wallet): the first one says so.
	if _, err := found.RotateKey(ctx, rc, d.DID); err != nil {
		t.Fatal(err)
	}
	if _, err := w.RotateKey(ctx, rc, d.DID); err == nil || !strings.Contains(err.Error(), "changed elsewhere") {
		t.Errorf("rotating a key rotated elsewhere: %v", err)
	}

	// Many rotations leave more unregistered indices between the DID's
	// first key and its current one than the gap: recovery still finds it.
	for range 4 {
		if _, err := found.RotateKey(ctx, rc, d.DID); err != nil {
			t.Fatal(err)
		}
	}
	latest, _ := found.DIDs()
	var want DID
	for _, x := range latest {
		if x.DID == d.DID {
			want = x
		}
	}
	third, err := Recover(testConfig(t, clk), pass, phrase, RecoverOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer third.Close()
	added, err = third.FindRegistered(ctx, rc, 2)
	if err != nil || len(added) != 1 || added[0].KeyID != want.KeyID || added[0].Index != want.Index || want.Index != 8 {
		t.Errorf("FindRegistered after many rotations = %+v, %v; want %s at index %d (8)", added, err, want.KeyID, want.Index)
	}

	p, _ := w.PrimaryDID()
	refusals := []struct {
		name string
		reg  Registry
		id   string
		want error
	}{
		{"no registry", nil, d.DID, ErrNoRegistry},
		{"a did:key", rc, p.DID, ErrNotRotatable},
		{"not this wallet's", rc, "did:medid:2yqQkJBPyqgZ3Zz5oAhNqc", ErrNotFound},
	}
	for _, tc := range refusals {
		if _, err := w.RotateKey(ctx, tc.reg, tc.id); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}
