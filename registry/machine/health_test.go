package machine

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/machine/machinetest"
)

// TestCheckStore: a sound database passes (and is probed at most every
// few seconds); once a table goes bad under the running app, the first
// read that meets it makes CheckStore fail for good, naming the
// corruption, and a write probe does not clear it.
func TestCheckStore(t *testing.T) {
	h := newHarness(t)
	var ids []*identity
	for b := byte(1); b <= 120; b++ {
		ids = append(ids, h.register(b))
	}
	ctx := context.Background()
	if err := h.app.CheckStore(ctx); err != nil {
		t.Fatalf("CheckStore on a sound database: %v", err)
	}
	start := time.Now()
	for i := 0; i < 100; i++ {
		if err := h.app.CheckStore(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("100 CheckStore calls took %v: the probe is not rate-limited", d)
	}
	// Reopen so the records sit in a table file, not the journal.
	h.app.Close()
	h.open()
	if err := h.app.CheckStore(ctx); err != nil {
		t.Fatalf("after reopening: %v", err)
	}
	if machinetest.CorruptTables(t, h.dir) == 0 {
		t.Fatal("no table file to corrupt")
	}
	failed := 0
	for _, id := range ids {
		if _, err := h.app.ResolveDID(id.did, ledger.ResolveOptions{}); err != nil {
			failed++
		}
	}
	if failed == 0 {
		t.Fatal("no read met the corrupt table")
	}
	err := h.app.CheckStore(ctx)
	if !errors.Is(err, ErrStore) || !strings.Contains(err.Error(), "corrupt") {
		t.Fatalf("CheckStore after %d failed reads: %v, want ErrStore naming the corruption", failed, err)
	}
	time.Sleep(10 * time.Millisecond)
	if err2 := h.app.CheckStore(ctx); err2 == nil {
		t.Error("the failure was forgotten")
	}
}
