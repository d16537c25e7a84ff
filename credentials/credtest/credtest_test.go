package credtest_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/medid/medid/credentials/credtest"
	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
)

func TestParty(t *testing.T) {
	for _, alg := range []key.Alg{key.Ed25519, key.P256} {
		a, again, b := credtest.NewParty(t, alg, "a"), credtest.NewParty(t, alg, "a"), credtest.NewParty(t, alg, "b")
		if a.DID != again.DID || a.DID == b.DID {
			t.Errorf("%s: DIDs %s, %s, %s: want the same seed to give the same DID, another seed another", alg, a.DID, again.DID, b.DID)
		}
		if want := did.KeyDID(a.Key.Public()); a.DID != want {
			t.Errorf("%s: DID = %s, want did.KeyDID's %s", alg, a.DID, want)
		}
		// The kid names the key in the DID's own document.
		res, err := did.KeyResolver{}.Resolve(context.Background(), a.DID)
		if err != nil {
			t.Fatal(err)
		}
		pub, err := res.Document.Key(a.Kid, did.AssertionMethod)
		if err != nil || !pub.Equal(a.Key.Public()) {
			t.Errorf("%s: kid %s does not name the key in the did:key document: %v", alg, a.Kid, err)
		}
		keys := credtest.Keys(a)
		if k, err := keys(context.Background(), a.Kid); err != nil || !k.Equal(a.Key.Public()) {
			t.Errorf("Keys(a)(a.Kid) = %v, %v", k, err)
		}
		if _, err := keys(context.Background(), b.Kid); err == nil {
			t.Error("Keys(a) knows b's key")
		}
	}
}

func TestClock(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	c := credtest.NewClock(t0)
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() { c.Advance(time.Minute); _ = c.Now() })
	}
	wg.Wait()
	if got, want := c.Now(), t0.Add(10*time.Minute); !got.Equal(want) {
		t.Errorf("Now() = %s, want %s", got, want)
	}
	c.Set(t0)
	if !c.Now().Equal(t0) {
		t.Errorf("after Set, Now() = %s", c.Now())
	}
}
